"""AppTest: each page, as a person clicks through it, without a browser."""

from __future__ import annotations

import json
import time

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, sample_bytes
from workbench.store import Store

HOME = "app.py"
DATA = "pages/data.py"


def _run(page: str, **query: str) -> AppTest:
    """Open a page the way a browser landing on its URL does (the app is always the entry point)."""
    at = AppTest.from_file(str(ROOT / HOME), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    if page != HOME:
        at.switch_page(page)
    return at.run()


def _text(at: AppTest) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.title] + [e.value for e in at.subheader]
    parts += [e.value for e in at.error] + [e.value for e in at.warning] + [e.value for e in at.success]
    parts += [e.value for e in at.info] + [e.value for e in at.caption]
    return "\n".join(str(p) for p in parts)


def _no_failure(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_home_opens_a_new_workspace_on_the_sample(workspace):
    at = _run(HOME)
    _no_failure(at)
    assert at.title[0].value == "Home"
    assert "Sample project" in _text(at)
    project_id = at.query_params["project"]
    project_id = project_id[0] if isinstance(project_id, list) else project_id
    assert Store(workspace).get_project(project_id).name == "Sample project"


def test_home_says_who_can_open_the_app_and_where_jobs_run(workspace, monkeypatch):
    from tests.conftest import free_port
    from workbench import jobs

    at = _run(HOME, lang="ja")
    assert any("シングルユーザーモード" in c.value and "アプリ内で 1 つずつ" in c.value for c in at.caption)
    monkeypatch.setenv("WORKBENCH_DASK_SCHEDULER", f"tcp://127.0.0.1:{free_port()}")
    monkeypatch.setattr(jobs, "CONNECT_S", 1.0)
    at = _run(HOME)
    _no_failure(at)
    assert any("cannot be reached" in w.value for w in at.warning)
    assert any(c.value.startswith("Single-user mode") for c in at.caption)


def test_create_rename_and_delete_a_project(workspace):
    at = _run(HOME)
    new_name = next(w for w in at.text_input if w.label == "New project name")
    new_name.input("売上予測")
    next(b for b in at.button if b.label == "Create project").click().run()
    _no_failure(at)
    assert "Project '売上予測' created and opened." in _text(at)
    store = Store(workspace)
    assert {p.name for p in store.list_projects()} == {"Sample project", "売上予測"}

    rename = next(w for w in at.text_input if w.label == "Rename this project to")
    rename.input("Sales forecast")
    next(b for b in at.button if b.label == "Rename").click().run()
    assert {p.name for p in store.list_projects()} == {"Sample project", "Sales forecast"}

    delete = at.button(key="delete_project")
    assert delete.disabled  # nothing is deleted without confirmation
    at.checkbox(key="confirm_delete_project").check().run()
    at.button(key="delete_project").click().run()
    _no_failure(at)
    assert [p.name for p in store.list_projects()] == ["Sample project"]


def test_a_taken_project_name_is_a_message_not_a_crash(workspace):
    at = _run(HOME)
    next(w for w in at.text_input if w.label == "New project name").input("sample PROJECT")
    next(b for b in at.button if b.label == "Create project").click().run()
    _no_failure(at)
    assert at.error and "already exists" in at.error[0].value


def test_data_page_landed_on_directly_shows_the_profile(workspace):
    at = _run(DATA)
    _no_failure(at)
    assert at.title[0].value == "Data"
    assert "Dataset: titanic\\.csv" in _text(at)
    assert any("duplicates of another row" in m for m in _text(at).splitlines())
    assert at.metric[0].value == "891"


def test_upload_a_shift_jis_file_and_save_it(workspace):
    at = _run(DATA)
    at.file_uploader(key="upload_0").set_value(("チップ.csv", sample_bytes("tips_ja_cp932.csv"), "text/csv")).run()
    _no_failure(at)
    text = _text(at)
    assert "**cp932**" in text
    assert any("合計金額（ドル）" in frame.value.columns for frame in at.dataframe)  # the preview
    next(b for b in at.button if b.label == "Save to project").click().run()
    _no_failure(at)
    assert "(244 rows)" in _text(at)
    assert not any(b.label == "Save to project" for b in at.button)  # the uploader was emptied
    store = Store(workspace)
    project = store.list_projects()[0]
    assert store.active_dataset(project.id).filename == "チップ.csv"


def test_a_ragged_file_reports_skipped_lines_and_can_be_stopped(workspace):
    from tests.conftest import data_bytes

    at = _run(DATA)
    at.file_uploader(key="upload_0").set_value(("t.csv", data_bytes("titanic_bom_ragged.csv"), "text/csv")).run()
    assert any("line 6, 11" in w.value for w in at.warning)
    at.radio(key="opt_bad_lines").set_value("error").run()
    _no_failure(at)
    assert at.error and "Import stopped" in at.error[0].value
    assert not any(b.label == "Save to project" for b in at.button)


@pytest.mark.parametrize("payload, words", [
    (b"\x89PNG\r\n\x1a\n" + bytes(64), "is an image"),
    (b"", "empty"),
    (b"a,b,c\n", "no data rows"),
])
def test_bad_uploads_show_a_message_and_keep_the_saved_dataset(workspace, payload, words):
    at = _run(DATA)
    at.file_uploader(key="upload_0").set_value(("bad.csv", payload, "text/csv")).run()
    _no_failure(at)
    assert at.error and words in at.error[0].value
    assert "Dataset: titanic\\.csv" in _text(at)  # what was saved is still there


def test_add_a_sample_and_switch_language(workspace):
    at = _run(DATA)
    at.radio(key="sample_choice").set_value("penguins").run()
    at.button(key="add_sample").click().run()
    _no_failure(at)
    assert "Dataset: penguins\\.csv" in _text(at)
    at.selectbox(key="_lang_widget").set_value("ja").run()
    _no_failure(at)
    assert at.title[0].value == "データ"
    assert "データセット: penguins\\.csv" in _text(at)


def test_project_in_the_url_is_reopened_after_a_refresh(workspace):
    store = Store(workspace)
    other = store.create_project("From the URL")
    at = _run(HOME, project=other.id, lang="ja")
    _no_failure(at)
    assert "プロジェクト: From the URL" in _text(at)


def test_switch_project_in_the_sidebar(workspace):
    at = _run(HOME)
    other = Store(workspace).create_project("Second")
    at.run()
    at.selectbox(key="_project_widget").set_value(other.id).run()
    _no_failure(at)
    assert "Project: Second" in _text(at)


def test_an_unexpected_failure_shows_an_error_id_and_the_page_keeps_working(workspace, monkeypatch, caplog):
    import workbench.ui.data as data_ui

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(data_ui, "profile_dataset", broken)
    at = _run(DATA)
    _no_failure(at)
    assert at.error and "error id" in at.error[0].value
    assert "Traceback" not in _text(at) and "a bug" not in _text(at)
    error_id = at.error[0].value.split("error id ")[1][:8]
    assert any(error_id in r.getMessage() for r in caplog.records)  # the log has the details
    assert any(b.label == "Add to project" for b in at.button)  # the rest of the page still works


def test_markdown_in_user_data_is_shown_as_text(workspace):
    at = _run(DATA)
    raw = "[click](http://evil.example),**bold**\n1,2\n1,3\n1,4\n".encode()
    at.file_uploader(key="upload_0").set_value(("x.csv", raw, "text/csv")).run()
    next(b for b in at.button if b.label == "Save to project").click().run()
    _no_failure(at)
    warnings = "\n".join(m.value for m in at.markdown)
    assert "'\\[click\\]\\(http://evil\\.example\\)' has the same value in every row" in warnings.replace(
        "\\:", ":")


CLEAN = "pages/clean.py"
EXPLORE = "pages/explore.py"


def _add_step(at: AppTest, kind: str, **params) -> AppTest:
    at.selectbox(key="step_kind").set_value(kind).run()
    for name, value in params.items():
        widget = next(w for w in [*at.multiselect, *at.selectbox, *at.text_input, *at.number_input, *at.checkbox,
                                  *at.text_area] if w.key == f"param_{kind}_{name}")
        widget.set_value(value)
    at.run()
    return at


def test_clean_page_adds_previews_and_undoes_steps(workspace):
    at = _run(CLEAN)
    _no_failure(at)
    assert at.title[0].value == "Clean"
    assert "The recipe is empty" in _text(at)
    _add_step(at, "drop_duplicates")
    assert at.metric[0].value == "784"  # the preview before anything is applied
    at.button(key="add_step").click().run()
    _add_step(at, "impute", columns=["age"], strategy="median")
    at.button(key="add_step").click().run()
    _no_failure(at)
    assert "Added: Fill missing values." in _text(at)
    assert "Cleaned data: 784 rows × 15 columns" in _text(at)
    assert "1\\. Drop duplicate rows" in _text(at) and "2\\. Fill missing values" in _text(at)

    at.button(key="undo").click().run()
    _no_failure(at)
    assert "2\\. Fill missing values" not in _text(at) and "1\\. Drop duplicate rows" in _text(at)
    project = Store(workspace).list_projects()[0]
    assert Store(workspace).load_recipe(project.id)[0] == 1


def test_clean_page_refuses_a_step_that_removes_every_row(workspace):
    at = _run(CLEAN)
    _add_step(at, "filter_rows", column="age", operator="gt", value="1000")
    _no_failure(at)
    assert any("would remove every row" in w.value for w in at.warning)
    assert not any(b.key == "add_step" for b in at.button)  # nothing can be applied


def test_clean_page_switch_move_and_remove(workspace):
    at = _run(CLEAN)
    for kind, params in [("drop_duplicates", {}), ("scale", {"columns": ["fare"]})]:
        _add_step(at, kind, **params)
        at.button(key="add_step").click().run()
    at.button(key="toggle_0").click().run()
    assert "~~1\\. Drop duplicate rows" in _text(at) and "891 rows" in _text(at)
    at.button(key="down_0").click().run()
    assert "1\\. Scale numbers" in _text(at)
    at.button(key="remove_1").click().run()
    _no_failure(at)
    assert "Drop duplicate rows" not in _text(at)


def test_clean_page_imports_a_recipe_and_refuses_a_foreign_one(workspace):
    from workbench import steps as S
    from workbench.recipe import Recipe

    at = _run(CLEAN)
    good = Recipe().add(S.DropColumns(["deck"])).to_json().encode()
    at.file_uploader(key="import_recipe_0").set_value(("recipe.json", good, "application/json")).run()
    _no_failure(at)
    assert "Recipe with 1 step(s) imported." in _text(at) and "14 columns" in _text(at)
    foreign = Recipe().add(S.Impute(["passengers"])).to_json().encode()
    at.file_uploader(key="import_recipe_1").set_value(("other.json", foreign, "application/json")).run()
    _no_failure(at)
    assert at.error and "passengers" in at.error[0].value
    assert "14 columns" in _text(at)  # the saved recipe is untouched


def test_clean_page_without_a_dataset_points_to_the_data_page(workspace):
    store = Store(workspace)
    empty = store.create_project("Empty")
    at = _run(CLEAN, project=empty.id)
    _no_failure(at)
    assert "No dataset in this project yet: open the Data page" in _text(at)


def test_explore_page_draws_every_chart(workspace):
    at = _run(EXPLORE)
    _no_failure(at)
    assert at.title[0].value == "Explore"
    from workbench.ui.explore import CHARTS

    for kind in CHARTS:
        at.radio(key="ex_kind").set_value(kind).run()
        _no_failure(at)
        assert at.get("plotly_chart"), kind


def test_explore_page_uses_the_recipe_when_asked(workspace):
    at = _run(CLEAN)
    _add_step(at, "drop_duplicates")
    at.button(key="add_step").click().run()
    at.switch_page(EXPLORE).run()
    _no_failure(at)
    assert "784 rows" in _text(at)
    at.toggle(key="ex_use_recipe").set_value(False).run()
    assert "891 rows" in _text(at)


def test_clean_page_previews_large_tables_on_a_sample(workspace, monkeypatch):
    import workbench.ui.clean as clean_ui

    monkeypatch.setattr(clean_ui, "PREVIEW_ROWS", 500)
    at = _run(CLEAN)
    _add_step(at, "drop_duplicates")
    _no_failure(at)
    assert "Preview on a random sample of 500 rows" in _text(at)
    at.button(key="add_step").click().run()
    assert "Cleaned data: 784 rows" in _text(at)  # applied to every row


MODEL = "pages/model.py"
RESULTS = "pages/results.py"


def _wait_for_jobs(workspace) -> None:
    import time

    from workbench import jobs

    store = Store(workspace)
    project = store.list_projects()[0]
    deadline = time.monotonic() + 120
    while jobs.active_jobs(store, project.id) and time.monotonic() < deadline:
        time.sleep(0.2)


def _click_and_wait(at: AppTest, workspace, key: str) -> AppTest:
    """Click a button that starts a background job, wait for the job, and show the page again."""
    at.button(key=key).click().run()
    _no_failure(at)
    _wait_for_jobs(workspace)
    at.run()
    _no_failure(at)
    return at


def test_model_page_proposes_the_task_warns_of_leakage_and_trains_two_models(workspace):
    at = _run(MODEL)
    _no_failure(at)
    assert at.title[0].value == "Model"
    assert at.selectbox(key="target").value == "survived"
    assert "whole numbers, so they are treated as classes" in _text(at)
    assert any("'alive' restates the target 'survived'" in w.value for w in at.warning)
    next(w for w in at.multiselect if w.key.startswith("models_binary_")).set_value(
        ["logistic_regression", "decision_tree"]).run()
    _click_and_wait(at, workspace, "train")
    at.switch_page(RESULTS).run()
    _no_failure(at)
    assert at.title[0].value == "Results"
    board = at.dataframe[0].value
    assert set(board["Model"]) == {"Logistic regression", "Decision tree"}
    assert (board["Baseline"] == 0.5).all()  # ROC AUC of the no-learning baseline
    assert at.get("plotly_chart")


def test_model_page_trains_lightgbm_from_its_hyperparameter_form_in_japanese(workspace):
    from workbench.experiments import settings_of
    from workbench.i18n import set_language, t

    set_language("ja")  # the widgets' format functions run here too when a test sets their values
    try:
        at = _run(MODEL, lang="ja")
        _no_failure(at)
        next(w for w in at.multiselect if w.key.startswith("models_binary_")).set_value(["lightgbm"]).run()
        leaves = at.number_input(key="hp_lightgbm_num_leaves")
        assert leaves.label == t("hp.num_leaves") == "木ごとの葉の数" and leaves.value == 31
        assert at.checkbox(key="hp_lightgbm_extra_trees").label == t("hp.extra_trees")
        leaves.set_value(8)
        at.checkbox(key="hp_lightgbm_extra_trees").check()
        at.number_input(key="hp_lightgbm_n_estimators").set_value(60)
        _click_and_wait(at, workspace, "train")
        store = Store(workspace)
        settings = settings_of(store.list_experiments(store.list_projects()[0].id)[0])
        assert settings.model_id == "lightgbm"
        assert {"num_leaves": 8, "extra_trees": True, "n_estimators": 60}.items() <= settings.params.items()
        at.switch_page(RESULTS).run()
        _no_failure(at)
        assert t("model.lightgbm") in set(at.dataframe[0].value.iloc[:, 0])
    finally:
        set_language("en")


def test_model_page_blocks_a_target_with_one_class(workspace):
    import pandas as pd

    from workbench.io import read_table

    store = Store(workspace)
    project = store.create_project("one class")
    frame = pd.DataFrame({"y": ["a"] * 30, "x": range(30)})
    raw = frame.to_csv(index=False).encode()
    df, report = read_table(raw, "one.csv")
    store.add_dataset(project.id, "one.csv", raw, "one.csv", df, report)
    at = _run(MODEL, project=project.id)
    at.selectbox(key="target").set_value("y").run()
    _no_failure(at)
    assert any("needs at least two classes" in e.value for e in at.error)
    assert at.button(key="train").disabled


def test_results_page_threshold_choose_compare_and_delete(workspace):
    from workbench.experiments import save_experiment
    from workbench.recipe import Recipe
    from workbench.samples import ensure_workspace
    from workbench.training import Settings, train_experiment

    store = Store(workspace)
    project = ensure_workspace(store, "en")
    dataset = store.active_dataset(project.id)
    frame = store.load_frame(dataset.id).drop(columns=["alive"])
    for model in ("logistic_regression", "naive_bayes"):
        save_experiment(store, project.id, dataset.id, 0, train_experiment(frame, Recipe(),
                                                                           Settings("survived", "binary", model)))
    at = _run(RESULTS)
    _no_failure(at)
    logistic = next(e.id for e in store.list_experiments(project.id)
                    if e.record["settings"]["model_id"] == "logistic_regression")
    at.selectbox(key="experiment").set_value(logistic).run()
    experiment_id = at.selectbox(key="experiment").value
    accuracy_at = {}
    for threshold in (0.3, 0.7):
        at.slider(key=f"threshold_{experiment_id}").set_value(threshold).run()
        accuracy_at[threshold] = at.dataframe[1].value.iloc[0, 0]
    assert accuracy_at[0.3] != accuracy_at[0.7]
    at.button(key="choose").click().run()
    assert Store(workspace).get_experiment(experiment_id).chosen
    assert at.dataframe[0].value.iloc[:, 0].str.startswith("★").sum() == 1
    at.checkbox(key=f"confirm_delete_{experiment_id}").check().run()
    at.button(key="delete_experiment").click().run()
    _no_failure(at)
    assert "Experiment deleted." in _text(at) and len(Store(workspace).list_experiments(project.id)) == 1


def test_results_page_for_regression_and_without_experiments(workspace):
    from workbench.experiments import save_experiment
    from workbench.recipe import Recipe
    from workbench.samples import add_sample
    from workbench.training import Settings, train_experiment

    at = _run(RESULTS)
    _no_failure(at)
    assert "No experiment yet" in _text(at)
    store = Store(workspace)
    project = store.list_projects()[0]
    dataset = add_sample(store, project.id, "mpg")
    run = train_experiment(store.load_frame(dataset.id), Recipe(), Settings("mpg", "regression", "ridge"))
    save_experiment(store, project.id, dataset.id, 0, run)
    at.run()
    _no_failure(at)
    assert "RMSE (root mean squared error)" in at.dataframe[1].value.index
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Predicted vs actual" in spec for spec in titles) and any("Residuals" in spec for spec in titles)
    assert any("Residual (actual - predicted)" in spec for spec in titles)  # the histogram's title and axis
    at = _run(RESULTS, lang="ja")
    _no_failure(at)
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    words = [str(part) for spec in specs for part in (spec["layout"].get("title"), spec["layout"].get("xaxis"))]
    assert not any("residual" in w for w in words), words  # no English column name drawn on a Japanese page


PREDICT = "pages/predict.py"


def _trained_titanic(workspace, model: str = "logistic_regression") -> tuple[Store, str]:
    from workbench.experiments import save_experiment
    from workbench.recipe import Recipe
    from workbench.samples import ensure_workspace
    from workbench.training import Settings, train_experiment

    store = Store(workspace)
    project = ensure_workspace(store, "en")
    dataset = store.active_dataset(project.id)
    frame = store.load_frame(dataset.id).drop(columns=["alive"])
    saved = save_experiment(store, project.id, dataset.id, 0,
                            train_experiment(frame, Recipe(), Settings("survived", "binary", model)))
    return store, saved.id


def test_predict_page_reports_input_problems_and_appends_predictions(workspace):
    import pandas as pd

    store, _ = _trained_titanic(workspace)
    rows = pd.read_csv(ROOT / "sample_data" / "titanic.csv").head(20).drop(columns=["survived", "alive", "deck"])
    rows["age"] = rows["age"].astype(object)
    rows.loc[0, "age"] = "unknown"
    rows.loc[1, "embark_town"] = "Tokyo"
    rows["note"] = "extra"
    at = _run(PREDICT)
    at.file_uploader(key="predict_upload").set_value(("new.csv", rows.to_csv(index=False).encode(), "text/csv")).run()
    _no_failure(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "lacks deck" in warnings and "'age': 1 value(s) are not numbers" in warnings
    assert "'embark\\_town' has values never seen in training (Tokyo)" in warnings
    assert "note" in " ".join(i.value for i in at.info)
    predicted = at.dataframe[0].value
    assert {"prediction", "probability_0", "probability_1"} <= set(predicted.columns) and len(predicted) == 20


def test_predict_page_what_if_follows_the_inputs(workspace):
    _trained_titanic(workspace)
    at = _run(PREDICT)
    _no_failure(at)
    survival = {}
    for sex, who, adult_male in (("male", "man", "True"), ("female", "woman", "False")):
        at.selectbox(key="whatif_sex").set_value(sex)
        at.selectbox(key="whatif_who").set_value(who)
        at.selectbox(key="whatif_adult_male").set_value(adult_male).run()  # the file's own words
        survival[sex] = float(at.dataframe[-1].value.iloc[1, 0])
    assert survival["female"] > survival["male"] + 0.3


def test_model_page_suggests_a_model_and_preselects_it(workspace):
    at = _click_and_wait(_run(MODEL), workspace, "suggest")
    suggested = [s.value for s in at.success if s.value.startswith("Suggested:")]
    assert suggested and "cross-validated ROC AUC" in suggested[0]
    chosen = next(w for w in at.multiselect if w.key.startswith("models_binary_"))
    assert len(chosen.value) == 1 and chosen.key.endswith(chosen.value[0])


def test_results_page_computes_a_learning_curve_in_the_background(workspace):
    store, experiment_id = _trained_titanic(workspace)
    at = _click_and_wait(_run(RESULTS), workspace, "learning")
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Learning curve" in spec for spec in titles)
    assert Store(workspace).get_experiment(experiment_id).record["recipe"].startswith("{")


def test_model_page_runs_an_interrupted_job_again(workspace):
    from workbench import jobs

    at = _run(MODEL)
    at.button(key="train").click().run()
    _wait_for_jobs(workspace)
    store = Store(workspace)
    project = store.list_projects()[0]
    [job] = store.list_jobs(project.id)
    store.update_job(job["id"], status="interrupted")  # as a server restart leaves it
    before = len(store.list_experiments(project.id))
    at = _run(MODEL)
    _no_failure(at)
    assert any(w.value.startswith("Interrupted") for w in at.warning)
    _click_and_wait(at, workspace, f"restart_{job['id']}")
    newest = store.list_jobs(project.id)[0]
    assert newest["id"] != job["id"] and newest["status"] == "done" and jobs.message(newest).key == "job.done"
    assert len(store.list_experiments(project.id)) == before + 1


def test_model_page_shows_a_queued_jobs_place_and_interrupts_a_job_whose_worker_died(workspace, monkeypatch):
    from workbench import jobs

    _run(MODEL)
    store = Store(workspace)
    project = store.list_projects()[0]
    other = store.create_project("another analyst's")
    for status in ("running", "queued"):  # ahead in the queue: another project's jobs on the cluster
        store.update_job(store.add_job(other.id, "automl", jobs.ON_CLUSTER), status=status)
    lost = store.add_job(project.id, "tune", jobs.ON_CLUSTER)
    store.update_job(lost, status="running")
    monkeypatch.setattr(jobs, "STALE_S", 0.5)
    time.sleep(0.6)  # the tuning job's worker has said nothing since
    mine = store.add_job(project.id, "train", jobs.ON_CLUSTER)
    at = _run(MODEL, project=project.id, lang="ja")
    _no_failure(at)
    [line] = [p.proto.text for p in at.get("progress")]
    assert line.startswith("待機中") and "待ち順 2 番目" in line
    assert store.get_job(lost)["status"] == "interrupted" and store.get_job(mine)["status"] == "queued"
    assert any(w.value.startswith("中断") for w in at.warning)


EXPORT = "pages/export.py"


def test_export_page_offers_the_bundle_and_the_project(workspace):
    _trained_titanic(workspace, "svm")
    at = _run(EXPORT)
    _no_failure(at)
    assert at.title[0].value == "Export"
    assert at.get("download_button")
    files = set(at.dataframe[0].value["File"])
    assert {"model.skops", "predict.py", "serve.py", "train.py", "model_card.md", "workbench/"} <= files
    assert any("No ONNX file" in i.value or "model.onnx holds" in i.value for i in [*at.info, *at.success])
    assert any("python -m workbench replay" in c.value for c in at.code)
    at = _run(EXPORT, lang="ja")
    _no_failure(at)
    assert at.title[0].value == "エクスポート"


def test_export_page_without_experiments_points_to_the_model_page(workspace):
    at = _run(EXPORT)
    _no_failure(at)
    assert any("Model" in str(link.proto) for link in at.get("page_link"))


def test_predict_page_predicts_with_an_uploaded_bundle_and_refuses_a_bad_one(workspace):
    import io
    import zipfile

    from workbench.ui.export import _bundle  # the bundle as the Export page builds it

    store, experiment_id = _trained_titanic(workspace)
    bundle = _bundle(str(workspace), experiment_id, "en")
    for experiment in store.list_experiments(store.list_projects()[0].id):
        store.delete_experiment(experiment.id)  # a project without models: only the bundle can predict
    at = _run(PREDICT)
    _no_failure(at)
    assert "no trained model yet" in " ".join(c.value for c in at.caption)
    at.file_uploader(key="bundle_upload").set_value(("model.zip", bundle, "application/zip")).run()
    _no_failure(at)
    assert any(s.value.startswith("Bundle loaded: Logistic regression") for s in at.success)
    rows = (ROOT / "sample_data" / "titanic.csv").read_bytes()
    at.file_uploader(key="predict_upload").set_value(("new.csv", rows, "text/csv")).run()
    _no_failure(at)
    assert {"prediction", "probability_1"} <= set(at.dataframe[0].value.columns)

    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../../escape.py", "print('owned')")
    at.file_uploader(key="bundle_upload").set_value(("evil.zip", evil.getvalue(), "application/zip")).run()
    assert any("points outside the bundle" in e.value for e in at.error)
    assert not at.exception


EXPLAIN = "pages/explain.py"


def _explained(at: AppTest, workspace) -> AppTest:
    at = _click_and_wait(at, workspace, "explain")
    assert at.get("plotly_chart"), "the explanation did not appear"
    return at


def test_explain_page_explains_a_model_in_the_users_columns(workspace):
    _trained_titanic(workspace, "hist_gradient_boosting")
    at = _run(EXPLAIN)
    _no_failure(at)
    assert at.title[0].value == "Explain"
    assert "TreeExplainer" in " ".join(i.value for i in at.info)
    at = _explained(at, workspace)
    captions = " ".join(c.value for c in at.caption)
    assert "TreeExplainer" in captions and "summed back" in captions and "in probability" in captions
    reasons = " ".join(m.value for m in at.markdown)
    assert "What drives '1' most" in reasons and "most likely" in reasons  # the plain-language summary
    at.toggle(key="explain_probability").set_value(False).run()  # the model's own unit, for the analyst
    assert "log-odds" in " ".join(c.value for c in at.caption)
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    for title in ("What matters most", "Permutation importance", "Every row", "Why this prediction",
                  "Partial dependence", "by group"):
        assert title in specs, title
    assert "sex" in at.selectbox(key="dependence_column").options  # uploaded columns, not one-hot levels
    assert not any("sex_" in o for o in at.selectbox(key="dependence_column").options)
    at.radio(key="row_source").set_value("search").run()
    at.selectbox(key="search_column").set_value("who").run()
    at.text_input(key="search_text").input("child").run()
    _no_failure(at)
    at.selectbox(key="pdp_second").set_value("fare").run()
    _no_failure(at)
    at.selectbox(key="fair_column").set_value("age").run()
    _no_failure(at)
    assert "four bands" in " ".join(c.value for c in at.caption)


def test_explain_page_for_a_model_agnostic_multiclass_case(workspace):
    from workbench.experiments import save_experiment
    from workbench.recipe import Recipe
    from workbench.samples import add_sample
    from workbench.training import Settings, train_experiment

    store = Store(workspace)
    project = store.create_project("penguins")
    dataset = add_sample(store, project.id, "penguins")
    save_experiment(store, project.id, dataset.id, 0,
                    train_experiment(store.load_frame(dataset.id), Recipe(), Settings("species", "multiclass", "svm")))
    at = _explained(_run(EXPLAIN, project=project.id), workspace)
    _no_failure(at)
    assert "PermutationExplainer" in " ".join(c.value for c in at.caption)
    at.selectbox(key="explain_class").set_value(2).run()
    _no_failure(at)
    assert "(Gentoo)" in " ".join(c.proto.spec for c in at.get("plotly_chart"))


AUTOML = "pages/automl.py"


def test_automl_page_starts_a_search_shows_progress_and_stops_with_the_best(workspace):
    import time

    from workbench.experiments import automl_progress

    at = _run(AUTOML)
    _no_failure(at)
    assert at.title[0].value == "AutoML" and at.selectbox(key="automl_target").value == "survived"
    assert at.selectbox(key="automl_metric_binary").value == "roc_auc"
    at.button(key="automl_start").click().run()
    _no_failure(at)
    store = Store(workspace)
    project = store.list_projects()[0]
    deadline = time.monotonic() + 90
    while (automl_progress(store.list_jobs(project.id)[0]) or {}).get("evaluated", 0) < 3:
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.5)
    at.run()
    _no_failure(at)
    assert any(m.label == "Pipelines tried" for m in at.metric)
    job = store.list_jobs(project.id)[0]
    at.button(key=f"automl_cancel_{job['id']}").click().run()
    _wait_for_jobs(workspace)
    at.run()
    _no_failure(at)
    assert any(s.value.startswith("Done") for s in at.success)
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "Best score so far" in specs and "Score against complexity" in specs
    [experiment] = store.list_experiments(project.id)
    assert experiment.record["automl"]["stopped_early"] and experiment.record["cv_scores"] == []
    at.switch_page(RESULTS).run()
    _no_failure(at)
    assert any("model = " in c.value for c in at.code)
    score = f"{experiment.record['automl']['cv_score']:.4f}"  # the search's folds scored it: not trained again
    assert any("The search was stopped" in c.value and score in c.value for c in at.caption)
    at = _run(RESULTS, lang="ja")
    _no_failure(at)
    assert any("探索を途中で止めた" in c.value and score in c.value for c in at.caption)
