"""Splits, experiments and metrics: honest scores on rows the model never saw."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from tests.conftest import sample_bytes
from workbench import evaluation as ev
from workbench import steps as S
from workbench.errors import UserError
from workbench.io import read_table
from workbench.recipe import Recipe
from workbench.tasks import BINARY, MULTICLASS, REGRESSION
from workbench.training import TIME_ORDERED, Settings, Split, split_rows, train_experiment


@pytest.fixture(scope="module")
def titanic_clean(titanic) -> pd.DataFrame:
    return titanic.drop(columns=["alive"])


def test_holdout_split_is_disjoint_complete_and_stratified(titanic_clean):
    train, test = split_rows(titanic_clean, "survived", BINARY, Split(test_size=0.25, seed=7))
    assert not set(train) & set(test) and len(train) + len(test) == len(titanic_clean)
    share = titanic_clean["survived"].mean()
    assert titanic_clean.loc[test, "survived"].mean() == pytest.approx(share, abs=0.01)
    again, _ = split_rows(titanic_clean, "survived", BINARY, Split(test_size=0.25, seed=7))
    assert list(again) == list(train)  # the seed fixes it


def test_time_ordered_split_tests_on_the_latest_rows():
    flights = read_table(sample_bytes("flights.csv"), "flights.csv")[0]
    flights["when"] = pd.to_datetime(flights["year"].astype(str) + "-" + flights["month"], format="%Y-%B")
    shuffled = flights.sample(frac=1, random_state=0)
    train, test = split_rows(shuffled, "passengers", REGRESSION, Split(method=TIME_ORDERED, time_column="when"))
    assert shuffled.loc[train, "when"].max() < shuffled.loc[test, "when"].min()
    with pytest.raises(UserError):
        split_rows(flights, "passengers", REGRESSION, Split(method=TIME_ORDERED))


def test_binary_experiment_beats_its_baseline_with_metrics_matching_sklearn(titanic_clean):
    experiment = train_experiment(titanic_clean, Recipe(), Settings("survived", BINARY, "logistic_regression"))
    assert experiment.n_train + experiment.n_test == len(titanic_clean)
    assert experiment.metrics["roc_auc"] > experiment.baseline["roc_auc"] + 0.2
    assert len(experiment.cv_scores) == 5 and all(0.5 < s <= 1 for s in experiment.cv_scores)
    y, proba = np.asarray(experiment.y_test), np.asarray(experiment.proba)
    assert experiment.metrics["roc_auc"] == pytest.approx(metrics.roc_auc_score(y, proba[:, 1]))
    assert experiment.metrics["accuracy"] == pytest.approx(metrics.accuracy_score(y, experiment.predictions))
    assert experiment.metrics["log_loss"] == pytest.approx(metrics.log_loss(y, proba))
    test_rows = titanic_clean.loc[experiment.test_index].drop(columns=["survived"])
    assert list(experiment.pipeline.predict(test_rows)) == list(experiment.predictions)


def test_multiclass_and_regression_metrics_match_sklearn():
    penguins = read_table(sample_bytes("penguins.csv"), "penguins.csv")[0]
    exp = train_experiment(penguins, Recipe(), Settings("species", MULTICLASS, "hist_gradient_boosting"))
    assert exp.metrics["balanced_accuracy"] == pytest.approx(
        metrics.balanced_accuracy_score(exp.y_test, exp.predictions)) and exp.metrics["balanced_accuracy"] > 0.9
    mpg = read_table(sample_bytes("mpg.csv"), "mpg.csv")[0]
    reg = train_experiment(mpg, Recipe(), Settings("mpg", REGRESSION, "random_forest", {"n_estimators": 50}))
    assert reg.metrics["rmse"] == pytest.approx(metrics.root_mean_squared_error(reg.y_test, reg.predictions))
    assert reg.metrics["r2"] > 0.8 and reg.baseline["r2"] < 0.05


def test_row_steps_clean_training_rows_only(titanic_clean):
    recipe = Recipe().add(S.FilterRows("sex", "eq", "female"))
    exp = train_experiment(titanic_clean, recipe, Settings("survived", BINARY, "logistic_regression"))
    test_sexes = set(titanic_clean.loc[exp.test_index, "sex"])
    assert test_sexes == {"male", "female"}  # the test rows are untouched
    assert exp.n_train == (titanic_clean.loc[~titanic_clean.index.isin(exp.test_index), "sex"] == "female").sum()


def test_threshold_moves_predictions_and_confusion(titanic_clean):
    low = train_experiment(titanic_clean, Recipe(), Settings("survived", BINARY, "logistic_regression", threshold=0.2))
    high = train_experiment(titanic_clean, Recipe(), Settings("survived", BINARY, "logistic_regression", threshold=0.8))
    assert sum(low.predictions) > sum(high.predictions)
    assert low.metrics["roc_auc"] == pytest.approx(high.metrics["roc_auc"])  # ranking does not depend on it
    matrix = ev.confusion(low.y_test, low.predictions, np.array(low.classes))
    assert matrix.to_numpy().sum() == low.n_test


def test_missing_target_rows_are_left_out_and_target_problems_stop_training(titanic_clean):
    gappy = titanic_clean.assign(survived=titanic_clean["survived"].astype("float").mask(titanic_clean.index < 50))
    exp = train_experiment(gappy, Recipe(), Settings("survived", BINARY, "dummy"))
    assert exp.n_train + exp.n_test == len(titanic_clean) - 50
    with pytest.raises(UserError) as info:
        train_experiment(titanic_clean.assign(survived=1), Recipe(), Settings("survived", BINARY, "dummy"))
    assert info.value.key == "target.one_class"


def test_a_recipe_that_changes_the_target_is_refused(titanic_clean):
    recipe = Recipe().add(S.CastColumns(["survived"], "category"))
    with pytest.raises(UserError) as info:
        train_experiment(titanic_clean, recipe, Settings("survived", BINARY, "dummy"))
    assert info.value.key == "training.recipe_uses_target"
    target_encoded = Recipe().add(S.Encode(["embarked"], "target", "survived"))
    train_experiment(titanic_clean, target_encoded, Settings("survived", BINARY, "logistic_regression"))


def test_curves_report_and_residuals():
    y = np.array(["a", "b", "a", "b", "b", "a"])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6], [0.3, 0.7], [0.55, 0.45]])
    classes = np.array(["a", "b"])
    curves = ev.curves(y, proba, classes)
    assert list(curves["roc"]) == ["b"] and curves["roc"]["b"]["tpr"].iloc[-1] == 1.0
    report = ev.class_report(y, ev.predict_with_threshold(proba, classes, 0.5), classes)
    assert report.loc["b", "recall"] == 1.0 and report["support"].sum() == 6
    res = ev.residuals([1, 2, 3], [1.5, 2, 2])
    assert res["residual"].tolist() == [-0.5, 0.0, 1.0]
    assert ev.better("rmse", 1.0, 2.0) and ev.better("roc_auc", 0.9, 0.8)
    assert "mape" not in ev.regression_metrics([0, 1], [0.5, 1])  # undefined with a true zero


def test_experiment_round_trip_through_the_store(store, titanic_clean):
    from workbench.experiments import leaderboard, pipeline_of, save_experiment, settings_of

    project = store.create_project("p")
    runs = [train_experiment(titanic_clean, Recipe().add(S.Impute(["age"], indicator=True)),
                             Settings("survived", BINARY, model)) for model in ("logistic_regression", "dummy")]
    saved = [save_experiment(store, project.id, "dataset", 0, run) for run in runs]
    again = store.get_experiment(saved[0].id)
    assert settings_of(again) == runs[0].settings
    pipeline = pipeline_of(store, saved[0].id)
    rows = titanic_clean.loc[runs[0].test_index].drop(columns=["survived"])
    assert np.allclose(pipeline.predict_proba(rows), runs[0].proba)
    evaluation = store.experiment_evaluation(saved[0].id)
    assert list(evaluation.columns) == ["row", "actual", "predicted", "probability_0", "probability_1"]
    board = leaderboard(store.list_experiments(project.id))
    assert list(board["model"]) == ["logistic_regression", "dummy"]  # best first
    store.choose_experiment(project.id, saved[1].id)
    assert [e.chosen for e in store.list_experiments(project.id) if e.id == saved[1].id] == [True]
    store.delete_experiment(saved[0].id)
    assert [e.id for e in store.list_experiments(project.id)] == [saved[1].id]


def test_foreign_and_broken_model_files_are_refused(titanic_clean):
    import skops.io as sio

    from workbench.deploy.modelfile import dump_pipeline, load_pipeline

    with pytest.raises(UserError) as info:
        load_pipeline(b"not a model at all")
    assert info.value.key == "model.not_skops"
    from fractions import Fraction

    foreign = sio.dumps({"weights": Fraction(1, 3)})  # a type no workbench pipeline holds
    with pytest.raises(UserError) as info:
        load_pipeline(foreign)
    assert info.value.key == "model.untrusted" and info.value.params["types"] == "fractions.Fraction"
    run = train_experiment(titanic_clean, Recipe(), Settings("survived", BINARY, "random_forest", {"n_estimators": 5}))
    rows = titanic_clean.head(3).drop(columns=["survived"])
    assert load_pipeline(dump_pipeline(run.pipeline)).predict(rows).shape == (3,)


def test_the_proposed_model_is_the_best_by_cross_validation_on_training_rows(titanic_clean, monkeypatch):
    import workbench.training as training

    monkeypatch.setattr(training, "SCREEN_ROWS", 600)  # large tables are screened on a sample
    seen = []
    best, scores = training.propose_model(titanic_clean, Recipe(), Settings("survived", BINARY, "dummy"),
                                          report=lambda share, model: seen.append(model))
    from workbench.models import models_for

    screened = {m.id for m in models_for(BINARY) if not m.baseline and not m.network}
    assert set(scores) == screened and "lightgbm" in screened and seen == list(scores)
    assert best == max(scores, key=scores.get) and scores[best] > 0.8


def test_learning_curve_uses_growing_training_rows(titanic_clean):
    from workbench.training import learning_curve_data

    curve = learning_curve_data(titanic_clean, Recipe(), Settings("survived", BINARY, "logistic_regression"))
    assert list(curve["rows"]) == sorted(curve["rows"]) and len(curve) == 5
    assert curve["rows"].iloc[-1] <= 0.8 * 0.8 * len(titanic_clean) + 1  # training rows only, minus a fold
    assert curve["valid_mean"].iloc[-1] > 0.8 and (curve["train_mean"] >= curve["valid_mean"] - 0.05).all()
