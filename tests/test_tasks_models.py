"""Task proposal, target checks, and every catalogue model through the whole pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import ParameterSampler, train_test_split

from tests.conftest import sample_bytes
from workbench import steps as S
from workbench.deploy.modelfile import dump_pipeline, load_pipeline
from workbench.io import read_table
from workbench.models import CATALOGUE, DEFAULT_MODEL, models_for
from workbench.recipe import Recipe
from workbench.tasks import BINARY, MULTICLASS, REGRESSION, TEXT_CLASSIFICATION, check_target, propose_task
from workbench.training import build_pipeline


def _read(name: str) -> pd.DataFrame:
    return read_table(sample_bytes(name), name)[0]


def _keys(notes) -> list[str]:
    return [n.key for n in notes]


@pytest.mark.parametrize("file, target, task, reason", [
    ("titanic.csv", "survived", BINARY, "task.reason.few_numbers"),
    ("titanic.csv", "alive", BINARY, "task.reason.labels"),
    ("penguins.csv", "species", MULTICLASS, "task.reason.labels"),
    ("titanic.csv", "pclass", MULTICLASS, "task.reason.few_numbers"),
    ("mpg.csv", "mpg", REGRESSION, "task.reason.quantity"),
    ("tips.csv", "tip", REGRESSION, "task.reason.quantity"),
])
def test_task_is_proposed_with_a_reason(file, target, task, reason):
    proposal = propose_task(_read(file)[target])
    assert (proposal.task, proposal.reason.key) == (task, reason)
    assert proposal.reason.params["column"] == target


def test_a_clean_target_passes(titanic):
    check = check_target(titanic.drop(columns=["alive"]), "survived", BINARY)
    assert check.ok and check.warnings == []


def test_leakage_from_a_column_that_restates_the_target(titanic):
    check = check_target(titanic, "survived", BINARY)
    assert check.ok
    assert [(n.key, n.params["column"]) for n in check.warnings] == [("target.leakage", "alive")]


def test_blocking_target_problems():
    df = pd.DataFrame({"x": range(30), "y": ["a"] * 30, "z": np.linspace(0, 1, 30), "t": ["x"] * 30})
    assert _keys(check_target(df, "y", BINARY).errors) == ["target.one_class"]
    assert _keys(check_target(df, "nope", BINARY).errors) == ["target.missing_column"]
    assert _keys(check_target(df, "t", REGRESSION).errors) == ["target.not_numeric"]
    assert "target.constant" in _keys(check_target(df.assign(k=1.0), "k", REGRESSION).errors)
    continuous = pd.DataFrame({"v": np.random.default_rng(0).normal(size=200), "x": range(200)})
    assert _keys(check_target(continuous, "v", MULTICLASS).errors) == ["target.looks_continuous"]
    tiny = pd.DataFrame({"y": [0, 1] * 4, "x": range(8)})
    assert _keys(check_target(tiny, "y", BINARY, folds=5).errors) == ["target.too_few_rows"]
    three = pd.DataFrame({"y": ["a", "b", "c"] * 10, "x": range(30)})
    assert _keys(check_target(three, "y", BINARY).errors) == ["target.not_binary"]


def test_target_warnings_missing_values_single_row_class_and_id():
    df = pd.DataFrame({"y": ["a"] * 20 + ["b"] * 19 + ["c"] + [None] * 3, "x": range(43)})
    check = check_target(df, "y", MULTICLASS)
    assert check.ok and check.missing_rows == 3
    assert {"target.missing_values", "target.single_row_class"} <= set(_keys(check.warnings))
    ids = pd.DataFrame({"id": range(100), "x": np.random.default_rng(1).normal(size=100)})
    assert "target.id_like" in _keys(check_target(ids, "id", REGRESSION).warnings)


@pytest.mark.parametrize("file, target", [("titanic.csv", "survived"), ("penguins.csv", "species"),
                                          ("mpg.csv", "mpg")])
def test_every_catalogue_model_fits_and_predicts_on_held_out_rows(file, target):
    df = _read(file).dropna(subset=[target]).drop(columns=["alive"], errors="ignore")
    task = propose_task(df[target]).task
    X, y = df.drop(columns=[target]), df[target]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scores = {}
    for spec in models_for(task):
        pipeline = build_pipeline(Recipe(), spec.id, task, seed=0).fit(X_train, y_train)
        predictions = pipeline.predict(X_test)
        assert len(predictions) == len(X_test) and not pd.isna(predictions).any(), spec.id
        if task != REGRESSION:
            proba = pipeline.predict_proba(X_test)
            assert np.allclose(proba.sum(axis=1), 1.0), spec.id
        scores[spec.id] = pipeline.score(X_test, y_test)
        reloaded = load_pipeline(dump_pipeline(pipeline))  # every model can be saved and opened again
        assert np.array_equal(reloaded.predict(X_test), predictions), spec.id
    assert scores[DEFAULT_MODEL] > scores["dummy"] + 0.1  # the proposed default learns something real


def test_pipeline_takes_raw_columns_through_the_recipe(titanic):
    recipe = Recipe().add(S.Impute(["age"], "median", indicator=True)).add(S.Encode(["sex"], "onehot"))
    X, y = titanic.drop(columns=["survived", "alive"]), titanic["survived"]
    pipeline = build_pipeline(recipe, "logistic_regression", BINARY).fit(X, y)
    new_row = X.head(1).assign(age=np.nan, embarked="never seen")  # raw, with a gap and an unseen level
    assert pipeline.predict_proba(new_row).shape == (1, 2)


def test_hyperparameters_are_validated_and_sampled_in_catalogue_terms():
    forest = CATALOGUE["random_forest"]
    model = forest.estimator(BINARY, {"max_depth": 0, "n_estimators": 10_000, "unknown": 1})
    assert model.max_depth is None and model.n_estimators == 500  # 0 = unlimited; clipped to the range
    for params in ParameterSampler(forest.search_space(), n_iter=5, random_state=0):
        forest.estimator(BINARY, params)
    svm = CATALOGUE["svm"].estimator(BINARY, {"C": 10}, balanced=True)
    assert svm.estimator.C == 10 and svm.estimator.class_weight == "balanced"
    assert CATALOGUE["hist_gradient_boosting"].estimator(MULTICLASS, balanced=True).class_weight == "balanced"


def test_the_catalogue_covers_the_issue_list():
    classification = {m.id for m in models_for(BINARY)}
    regression = {m.id for m in models_for(REGRESSION)}
    assert classification == {"dummy", "logistic_regression", "knn", "svm", "decision_tree", "random_forest",
                              "extra_trees", "hist_gradient_boosting", "lightgbm", "naive_bayes", "neural_network"}
    assert regression == {"dummy", "linear_regression", "ridge", "lasso", "elastic_net", "svm", "knn",
                          "decision_tree", "random_forest", "extra_trees", "hist_gradient_boosting", "lightgbm",
                          "neural_network"}
    assert {m.id for m in models_for(TEXT_CLASSIFICATION)} == {"text_linear", "text_network"}
    assert models_for(BINARY)[0].baseline
