"""Explanations: additivity, contributions summed back to uploaded columns, the explainer per model kind,
permutation importance and partial dependence against scikit-learn's own, fairness on a hand-checked case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import sample_bytes
from workbench import explain as ex
from workbench import steps as S
from workbench.io import read_table
from workbench.recipe import Recipe
from workbench.training import Settings, build_pipeline, train_experiment


def _frame(name: str, drop: tuple[str, ...] = ()) -> pd.DataFrame:
    return read_table(sample_bytes(name), name)[0].drop(columns=list(drop), errors="ignore")


@pytest.fixture(scope="module")
def titanic_rows():
    frame = _frame("titanic.csv", ("alive",))
    return frame.drop(columns=["survived"]), frame["survived"]


CASES = [  # (file, target, task, model, explainer, unit)
    ("titanic.csv", "survived", "binary", "random_forest", ex.TREE, ex.PROBABILITY),
    ("titanic.csv", "survived", "binary", "hist_gradient_boosting", ex.TREE, ex.LOG_ODDS),
    ("titanic.csv", "survived", "binary", "logistic_regression", ex.LINEAR, ex.LOG_ODDS),
    ("titanic.csv", "survived", "binary", "knn", ex.PERMUTATION, ex.PROBABILITY),
    ("penguins.csv", "species", "multiclass", "hist_gradient_boosting", ex.TREE, ex.LOG_ODDS),
    ("penguins.csv", "species", "multiclass", "svm", ex.PERMUTATION, ex.PROBABILITY),
    ("mpg.csv", "mpg", "regression", "ridge", ex.LINEAR, ex.TARGET),
    ("mpg.csv", "mpg", "regression", "extra_trees", ex.TREE, ex.TARGET),
    ("penguins.csv", "species", "multiclass", "naive_bayes", ex.PERMUTATION, ex.PROBABILITY),
]


@pytest.mark.parametrize("file, target, task, model, explainer, unit", CASES)
def test_additivity_and_the_explainer_chosen_per_model(file, target, task, model, explainer, unit):
    frame = _frame(file, ("alive", "name"))
    X, y = frame.drop(columns=[target]), frame[target]
    pipeline = build_pipeline(Recipe(), model, task, seed=0).fit(X, y)
    classes = list(getattr(pipeline, "classes_", []))
    rows = X.sample(30, random_state=1)
    explanation = ex.explain(pipeline, rows, X.head(60), task, classes)
    assert explanation.explainer == explainer and explanation.unit == unit
    output = ex.model_output(pipeline, rows, explanation)  # computed without SHAP
    total = explanation.base[:, None] + explanation.values.sum(axis=2)
    assert np.abs(total - output).max() < 1e-6
    assert explanation.values.shape == (len(explanation.outputs), 30, X.shape[1])
    assert set(explanation.columns) == set(X.columns)
    if task == "multiclass":
        assert explanation.outputs == [str(c) for c in classes]


def test_one_hot_levels_are_summed_back_to_their_column(titanic_rows):
    X, y = titanic_rows
    recipe = Recipe().add(S.Encode(["sex"], "onehot")).add(S.Impute(["age"], "median", indicator=True))
    pipeline = build_pipeline(recipe, "logistic_regression", "binary", seed=0).fit(X, y)
    sources = ex.feature_sources(pipeline, list(X.columns))
    assert sources.count("sex") >= 2 and sources.count("age") == 2  # sex_female, sex_male; age, age_missing
    assert sources.count("embark_town") == 4  # three towns and 'missing', one-hot encoded by the preparation
    rows = X.head(20)
    explanation = ex.explain(pipeline, rows, X.tail(100), "binary", [0, 1])
    assert explanation.columns.count("sex") == 1 and "sex_male" not in explanation.columns

    # the 'sex' entry is exactly the sum of its one-hot features' SHAP values
    import shap

    features, model = ex.split_pipeline(pipeline)
    Z = np.asarray(features.transform(rows), dtype=float)
    raw = shap.LinearExplainer(model, np.asarray(features.transform(X.tail(100)), dtype=float)).shap_values(Z)
    mask = np.array([s == "sex" for s in sources])
    assert np.allclose(explanation.values[0][:, explanation.columns.index("sex")], raw[:, mask].sum(axis=1))


def test_large_forests_fall_back_to_path_attributions_that_still_add_up(titanic_rows, monkeypatch):
    X, y = titanic_rows
    pipeline = build_pipeline(Recipe(), "random_forest", "binary", seed=0).fit(X, y)
    monkeypatch.setattr(ex, "EXACT_BUDGET_S", 0.0)
    explanation = ex.explain(pipeline, X.head(40), X.tail(50), "binary", [0, 1])
    assert explanation.approximate
    output = ex.model_output(pipeline, X.head(40), explanation)
    assert np.abs(explanation.base[:, None] + explanation.values.sum(axis=2) - output).max() < 1e-6
    assert not ex.explain(pipeline, X.head(1), X.tail(50), "binary", [0, 1], exact=True).approximate


def test_an_explanation_survives_the_store(titanic_rows):
    X, y = titanic_rows
    pipeline = build_pipeline(Recipe(), "hist_gradient_boosting", "binary", seed=0).fit(X, y)
    explanation = ex.explain(pipeline, X.head(25), X.tail(50), "binary", [0, 1])
    again = ex.Explanation.from_bytes(*explanation.to_bytes())
    assert np.array_equal(again.values, explanation.values) and again.columns == explanation.columns
    assert list(again.rows.index) == [str(i) for i in X.head(25).index]
    assert again.importance().index[0] == explanation.importance().index[0]


def test_permutation_importance_matches_scikit_learns(titanic_rows):
    from sklearn.inspection import permutation_importance

    X, y = titanic_rows
    pipeline = build_pipeline(Recipe(), "logistic_regression", "binary", seed=0).fit(X, y)
    ours = ex.permutation_importance_table(pipeline, X, y, "roc_auc", repeats=3, seed=5)
    theirs = permutation_importance(pipeline, X, y, scoring="roc_auc", n_repeats=3, random_state=5)
    expected = pd.Series(theirs.importances_mean, index=X.columns)
    assert np.allclose(ours.set_index("column")["mean"], expected.loc[ours["column"]])
    assert ours["mean"].is_monotonic_decreasing and {"sex", "adult_male", "who"} & set(ours["column"].head(3))


def test_partial_dependence_matches_scikit_learns_and_handles_categories():
    from sklearn.inspection import partial_dependence

    frame = _frame("mpg.csv", ("name",))
    X, y = frame.drop(columns=["mpg"]), frame["mpg"]
    X = X.astype({c: float for c in X.columns if pd.api.types.is_integer_dtype(X[c])})
    pipeline = build_pipeline(Recipe(), "hist_gradient_boosting", "regression", seed=0).fit(X, y)
    ours = ex.partial_dependence_data(pipeline, X, ["weight"], "regression", [])
    sample = X.sample(min(len(X), 500), random_state=0) if len(X) > 500 else X
    theirs = partial_dependence(pipeline, sample, ["weight"], kind="both", grid_resolution=20)
    assert np.allclose(ours["average"], theirs["average"]) and ours["individual"].shape[1] == 50
    assert ours["average"][0][0] > ours["average"][0][-1]  # heavier cars: fewer miles per gallon

    both = ex.partial_dependence_data(pipeline, X, ["weight", "origin"], "regression", [])
    assert np.asarray(both["average"]).shape == (1, 20, X["origin"].nunique())
    assert "individual" not in both


def test_fairness_metrics_on_a_hand_checked_example():
    y_true = pd.Series(["yes", "no", "yes", "yes", "no", "no", "yes", "no"])
    y_pred = pd.Series(["yes", "no", "no", "yes", "yes", "no", "yes", "yes"])
    group = pd.Series(["a", "a", "a", "a", "b", "b", "b", "b"], name="sex")
    by_group, gaps = ex.fairness(y_true, y_pred, group, "binary", positive="yes")
    # a: 3 of 4 right; predicted yes for 2 of 4; true positives 2 of 3; false positives 0 of 1
    # b: 2 of 4 right; predicted yes for 3 of 4; true positives 1 of 1; false positives 2 of 3
    assert by_group.loc["a", "accuracy"] == 0.75 and by_group.loc["b", "accuracy"] == 0.5
    assert by_group.loc["a", "selection_rate"] == 0.5 and by_group.loc["b", "selection_rate"] == 0.75
    assert by_group.loc["a", "tpr"] == pytest.approx(2 / 3) and by_group.loc["b", "tpr"] == 1.0
    assert by_group.loc["a", "fpr"] == 0.0 and by_group.loc["b", "fpr"] == pytest.approx(2 / 3)
    assert list(by_group["count"]) == [4, 4]
    assert gaps["fpr"] == pytest.approx(2 / 3) and gaps.idxmax() == "fpr" and "count" not in gaps

    maes, gap = ex.fairness(pd.Series([1.0, 2.0, 3.0, 4.0]), pd.Series([1.0, 2.0, 5.0, 4.0]),
                            pd.Series(["x", "x", "y", "y"], name="g"), "regression")
    assert list(maes["mae"]) == [0.0, 1.0] and gap["mae"] == 1.0


def test_the_explanation_job_stores_values_and_importance(store):
    from workbench.experiments import explanation_of, save_experiment, start
    from workbench.samples import add_sample

    project = store.create_project("p")
    dataset = add_sample(store, project.id, "penguins")
    run = train_experiment(store.load_frame(dataset.id), Recipe(), Settings("species", "multiclass", "random_forest"))
    saved = save_experiment(store, project.id, dataset.id, 0, run)
    assert explanation_of(store, saved.id) is None
    job_id, future = start(store, project.id, "explain", experiment_id=saved.id)
    future.result(timeout=300)
    assert store.get_job(job_id)["status"] == "done"
    explanation, importance = explanation_of(store, saved.id)
    assert len(explanation.rows) == run.n_test and explanation.outputs == ["Adelie", "Chinstrap", "Gentoo"]
    assert set(importance["column"]) == set(run.features) and (importance["sd"] >= 0).all()


def test_explain_command_prints_importance_per_uploaded_column(tmp_path):
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT, SAMPLES
    from workbench.deploy.export import build_bundle
    from workbench.deploy.modelfile import dump_pipeline
    from workbench.experiments import record_of

    frame = _frame("titanic.csv", ("alive",))
    run = train_experiment(frame, Recipe(), Settings("survived", "binary", "hist_gradient_boosting"))
    (tmp_path / "bundle.zip").write_bytes(build_bundle(dump_pipeline(run.pipeline), record_of(run)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "workbench", "explain", "--bundle", str(tmp_path / "bundle.zip"), "--data",
               str(SAMPLES / "titanic.csv"), "--rows", "100"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    importance = printed["importance"]["1"]
    assert printed["explainer"] == ex.TREE and printed["rows"] == 100
    assert set(importance) == set(run.features) and max(importance, key=importance.get) in {"sex", "who",
                                                                                              "adult_male"}
    bad = subprocess.run([*command[:5], str(SAMPLES / "titanic.csv"), *command[6:]], env=env, capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert bad.returncode == 2 and "not a model bundle" in bad.stderr


def test_model_card_lists_the_columns_that_matter_when_explained():
    from workbench.deploy.modelcard import model_card
    from workbench.experiments import record_of

    frame = _frame("penguins.csv")
    run = train_experiment(frame, Recipe(), Settings("species", "multiclass", "logistic_regression"))
    card = model_card(record_of(run), {"importances": [("bill_length_mm", 1.25), ("island", 0.5)]}, None, {}, "en")
    assert "1. bill\\_length\\_mm (1.25)" in card and "2. island (0.5)" in card
    assert "Open the Explain page" in model_card(record_of(run), {}, None, {}, "en")
