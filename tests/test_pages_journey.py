"""AppTest for the analyst's journey (issue 19): what the pages show after Clean and after training.

Columns dropped on the Clean page used to come back: as the target list, in leakage warnings, as fields of
the what-if form, and as 'missing' columns of a new file.
"""

from __future__ import annotations

import pandas as pd

from tests.conftest import ROOT
from tests.test_pages import _no_failure, _run
from workbench import steps as S
from workbench.experiments import save_experiment
from workbench.recipe import Recipe
from workbench.samples import ensure_workspace
from workbench.store import Store
from workbench.training import Settings, Split, train_experiment

DROPPED = ["alive", "deck", "who"]  # 'alive' restates 'survived': a leakage warning until it is dropped


def _titanic_with_drops(workspace) -> tuple[Store, str, str, int]:
    store = Store(workspace)
    project = ensure_workspace(store, "en")
    dataset = store.active_dataset(project.id)
    recipe = Recipe().add(S.DropColumns(DROPPED)).add(S.Formula("sibsp", "add", "parch", "family"))
    version = store.save_recipe(project.id, recipe.to_json())
    return store, project.id, dataset.id, version


def test_model_and_automl_pages_offer_only_the_columns_the_recipe_keeps(workspace):
    store, project_id, _, _ = _titanic_with_drops(workspace)
    for page, key in (("pages/model.py", "target"), ("pages/automl.py", "automl_target")):
        at = _run(page, project=project_id)
        _no_failure(at)
        options = at.selectbox(key=key).options
        assert "survived" in options and not set(DROPPED) & set(options)
        assert not any("alive" in w.value for w in at.warning), [w.value for w in at.warning]
    before = _run("pages/model.py", project=project_id)
    store.save_recipe(project_id, Recipe().to_json())  # without the recipe the leak is named again
    at = _run("pages/model.py", project=project_id)
    assert any("'alive' restates the target" in w.value for w in at.warning)
    assert set(DROPPED) <= set(at.selectbox(key="target").options) and before.selectbox(key="target").options


def test_predict_asks_only_for_the_columns_the_model_reads(workspace):
    store, project_id, dataset_id, version = _titanic_with_drops(workspace)
    recipe = Recipe.saved(store.load_recipe(project_id)[1])
    frame = store.load_frame(dataset_id)
    experiment = train_experiment(frame, recipe, Settings("survived", "binary", "logistic_regression",
                                                          split=Split(folds=3)))
    assert not set(DROPPED) & set(experiment.features) and not set(DROPPED) & set(experiment.schema)
    save_experiment(store, project_id, dataset_id, version, experiment)

    at = _run("pages/predict.py", project=project_id)
    _no_failure(at)
    fields = {w.label for kind in ("number_input", "selectbox", "checkbox", "date_input") for w in at.get(kind)}
    assert "age" in fields and not set(DROPPED) & fields
    rows = pd.read_csv(ROOT / "sample_data" / "titanic.csv").head(20).drop(columns=["survived", *DROPPED])
    at.file_uploader(key="predict_upload").set_value(("new.csv", rows.to_csv(index=False).encode(),
                                                      "text/csv")).run()
    _no_failure(at)
    assert not any("lacks" in w.value for w in at.warning), [w.value for w in at.warning]


def test_streamlits_own_widget_texts_read_in_the_pages_language(workspace):
    """'Upload', '200MB per file' and 'Choose options' were English on the Japanese page."""
    at = _run("pages/data.py", lang="ja")
    _no_failure(at)
    styles = " ".join(e.proto.body for e in at.get("html"))
    assert '"アップロード"' in styles and "1 ファイル 200 MB まで" in styles
    model = _run("pages/model.py", lang="ja")
    assert {m.proto.placeholder for m in model.multiselect} == {"選んでください"}


def test_a_suggestion_shows_every_model_it_compared_best_first():
    from workbench.i18n import set_language
    from workbench.ui.model import suggestion_table

    set_language("ja")
    try:
        table = suggestion_table({"metric": "log_loss", "proposal": "ridge",
                                  "scores": {"random_forest": 0.41, "logistic_regression": 0.38, "knn": None}})
    finally:
        set_language("en")
    assert list(table.columns) == ["モデル", "対数損失"]
    assert table.iloc[:, 1].tolist() == [0.38, 0.41]  # log-loss: lower first; a model without a score left out


def test_first_charts_open_on_a_column_worth_plotting_and_the_likely_target(workspace):
    """The profile opened on the ID column, Explore on a histogram of dates, 'target vs feature' on a random
    column."""
    import numpy as np

    from workbench.charts import discrete, histogram, worth_plotting

    frame = pd.DataFrame({"顧客ID": [f"C{i:03d}" for i in range(40)],
                          "日付": pd.date_range("2024-01-01", periods=40),
                          "数量": np.arange(40) % 7, "flag": [0, 1] * 20, "購入": ["はい", "いいえ"] * 20})
    assert worth_plotting(frame) == 2
    assert discrete(frame["flag"]) and not discrete(frame["数量"].astype(float) / 3)
    figure = histogram(frame.head(5), "数量")
    assert figure.layout.yaxis.dtick == 1  # counts of 1 or 2: no 0.5 ticks

    data = frame.to_csv(index=False).encode()
    store = Store(workspace)
    project = store.create_project("charts")
    from workbench.io import read_table

    loaded, report = read_table(data, "s.csv")
    store.add_dataset(project.id, "s.csv", data, "s.csv", loaded, report)
    at = _run("pages/data.py", project=project.id)
    _no_failure(at)
    assert at.selectbox(key="profile_column").value == "数量"
    at = _run("pages/explore.py", project=project.id)
    assert at.selectbox(key="ex_hist_x").value == "数量"
    at.radio(key="ex_kind").set_value("target").run()
    _no_failure(at)
    assert at.selectbox(key="ex_tgt_t").value == "購入"


def test_an_empty_clean_form_asks_for_columns_without_a_warning(workspace):
    """Right after 'Added', the next form showed a yellow 'choose a column' warning before anything was chosen."""
    ensure_workspace(Store(workspace), "en")
    at = _run("pages/clean.py")
    at.selectbox(key="step_kind").set_value("impute").run()
    _no_failure(at)
    assert not at.warning, [w.value for w in at.warning]
    assert any("Choose at least one column" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "add_step"]


def test_a_metric_one_model_lacks_reads_as_a_dash_not_none():
    from workbench.ui.results import _metric_table

    table = _metric_table({"A": {"accuracy": 0.81234, "roc_auc": 0.9}, "B": {"accuracy": 0.7, "roc_auc": None}})
    assert table["A"].tolist() == ["0.8123", "0.9000"] and table["B"].tolist() == ["0.7000", "—"]
