"""AppTest on zoo tables: the pages propose the right target, build bundles and show the user's text literally
on tables that do not look like the samples, in both languages."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.test_pages import _no_failure, _run
from tests.zoo import TABLES
from workbench.io import read_table
from workbench.store import Store

PAGE_TABLES = [t for t in TABLES if t.name in ("wine", "car", "iris_ja", "fertility_wide", "macro_mixed_dates")]


def _project_with(workspace, data: bytes, filename: str, name: str | None = None) -> tuple[Store, str, str]:
    store = Store(workspace)
    project = store.create_project("zoo")
    frame, report = read_table(data, filename)
    dataset = store.add_dataset(project.id, name or filename, data, filename, frame, report)
    return store, project.id, dataset.id


@pytest.mark.parametrize("table", PAGE_TABLES, ids=[t.name for t in PAGE_TABLES])
def test_model_and_automl_pages_propose_the_likeliest_target_with_the_reason(workspace, table):
    _, project_id, _ = _project_with(workspace, *table.load())
    for page, key in (("pages/model.py", "target"), ("pages/automl.py", "automl_target")):
        at = _run(page, project=project_id, lang=table.lang)
        _no_failure(at)
        assert at.selectbox(key=key).value == table.target
        reason = "目的変数" if table.lang == "ja" else "proposed as the target"
        assert any(reason in c.value for c in at.caption)
        assert not at.error, [e.value for e in at.error]


MARKDOWN = "![x](http://host/p.png)"


def test_a_dataset_named_like_markdown_is_listed_as_written(workspace):
    data = b"a,b\n1,2\n3,4\n5,6\n"
    _, project_id, _ = _project_with(workspace, data, "x.csv", name=MARKDOWN)
    at = _run("pages/data.py", project=project_id)
    _no_failure(at)
    options = [o for r in at.radio if r.key == "dataset_choice" for o in r.options]
    assert options and all("\\!\\[x\\]\\(http" in o for o in options)


def test_what_if_labels_show_a_markdown_column_name_as_written(workspace):
    from workbench.experiments import save_experiment
    from workbench.recipe import Recipe
    from workbench.training import Settings, train_experiment

    rows = 60
    frame = pd.DataFrame({MARKDOWN: range(rows), "**bold**": [i % 7 for i in range(rows)],
                          "y": ["yes", "no"] * (rows // 2)})
    data = frame.to_csv(index=False).encode()
    store, project_id, dataset_id = _project_with(workspace, data, "md.csv")
    loaded = store.load_frame(dataset_id)
    save_experiment(store, project_id, dataset_id, 0,
                    train_experiment(loaded, Recipe(), Settings("y", "binary", "logistic_regression")))
    at = _run("pages/predict.py", project=project_id)
    _no_failure(at)
    labels = [w.label for w in at.number_input]
    assert "\\!\\[x\\]\\(http://host/p\\.png\\)".replace("\\:", ":") in [label.replace("\\:", ":") for label in labels]
    assert "\\*\\*bold\\*\\*" in labels


def test_results_opens_on_the_experiment_a_finished_job_links_to_not_the_starred_one(workspace):
    import time

    from tests.test_pages import _trained_titanic
    from workbench import jobs

    store, starred = _trained_titanic(workspace)
    project = store.list_projects()[0]
    store.choose_experiment(project.id, starred)
    at = _run("pages/model.py", project=project.id)
    next(w for w in at.multiselect if w.key.startswith("models_binary_")).set_value(["decision_tree"]).run()
    at.button(key="train").click().run()
    deadline = time.monotonic() + 120
    while jobs.active_jobs(store, project.id) and time.monotonic() < deadline:
        time.sleep(0.2)
    at.run()
    _no_failure(at)
    newest = next(e for e in store.list_experiments(project.id) if e.id != starred)
    links = [p.proto for p in at.get("page_link") if p.proto.page == "results" and p.proto.query_string]
    assert links and f"experiment={newest.id}" in links[-1].query_string
    results = _run("pages/results.py", project=project.id, experiment=newest.id)
    _no_failure(results)
    assert results.selectbox(key="experiment").value == newest.id
    assert _run("pages/results.py", project=project.id).selectbox(key="experiment").value == starred


@pytest.mark.parametrize("payload, english, japanese", [
    (b'name,text\nalice,"hello\nbob,x\ncarl,y\n', "Line 2 opens a quote", "2 行目の引用符"),
    (b"a,b\n1,inf\n2,5\n3,1e400\n", "Column b holds 2 infinite value", "列 b に無限大の値が 2 個"),
    (b"a,b\n" + b"".join(b"%d,x%d\n" % (i, i) for i in range(1000)) + b"1,\x00y\n", "NUL byte",
     "NUL バイト"),
    (b"a,b,c\n1,2,3,4\n5,6,7,8\n", "The header names one column fewer", "見出しの列名が行の項目数より"),
    ("d,v\n2024年2月26日,1\n令和5年10月3日,2\n2024/02/26,3\n".encode(), "dates written in several forms",
     "複数の書き方の日付"),
])
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_data_page_says_what_it_repaired_in_the_users_language(workspace, payload, english, japanese, lang):
    from workbench.i18n import set_language

    at = _run("pages/data.py", lang=lang)
    set_language(lang)  # AppTest formats widget values in the test's own thread: the page's language there too
    try:
        at.file_uploader(key="upload_0").set_value(("odd.csv", payload, "text/csv")).run()
    finally:
        set_language("en")
    _no_failure(at)
    shown = "\n".join(str(e.value) for e in [*at.warning, *at.info, *at.markdown, *at.caption, *at.success])
    assert (japanese if lang == "ja" else english) in shown.replace("\\", "")
    assert any(b.label in ("Save to project", "プロジェクトに保存") for b in at.button)  # it can still be saved


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_pages_propose_the_column_the_file_is_named_after(workspace, lang):
    from workbench.i18n import set_language
    from workbench.samples import add_sample

    store = Store(workspace)
    project = store.create_project("mpg")
    add_sample(store, project.id, "mpg")  # mpg.csv: the target is its first column, not the last (origin)
    for page, key in (("pages/model.py", "target"), ("pages/automl.py", "automl_target")):
        at = _run(page, project=project.id, lang=lang)
        _no_failure(at)
        assert at.selectbox(key=key).value == "mpg"
        reason = "ファイル名" if lang == "ja" else "named after"
        assert any("mpg.csv" in c.value.replace("\\", "") and reason in c.value for c in at.caption)
    at = _run("pages/explore.py", project=project.id, lang=lang)
    set_language(lang)  # the radio's labels are formatted in the page's language when its value is set
    try:
        at.radio(key="ex_kind").set_value("target").run()
    finally:
        set_language("en")
    _no_failure(at)
    assert at.selectbox(key="ex_tgt_t").value == "mpg"  # Explore's target view proposes the same column
