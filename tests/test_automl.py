"""AutoML with tiny budgets: portfolio first, budget and cancel honoured, leaderboard kept, the winner an
ordinary experiment (explained, exported, predicted in a fresh process), and a search on a real Dask cluster."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler

from tests.cluster import dask_cluster, until
from tests.conftest import fresh_python, sample_bytes
from workbench import jobs
from workbench.automl import MARGIN_S, AutoMLSettings, Search, complexity, local_client, pipeline_code, simplify
from workbench.experiments import automl_progress, start
from workbench.io import read_table
from workbench.recipe import Recipe
from workbench.store import Store


def _titanic() -> pd.DataFrame:
    return read_table(sample_bytes("titanic.csv"), "titanic.csv")[0].drop(columns=["alive"])


def test_the_portfolio_gives_a_result_before_tpot_finishes_anything():
    search = Search(_titanic(), Recipe(), AutoMLSettings("survived", "binary", minutes=0.4, preset="fast", folds=3))
    result: dict = {}
    runner = threading.Thread(target=lambda: result.update(best=search.run()))
    runner.start()
    deadline = time.monotonic() + 60
    while search.progress().best is None and time.monotonic() < deadline:
        time.sleep(0.2)
    first = search.progress()
    assert first.best is not None and all(row["source"] == "portfolio" for row in first.leaderboard)
    runner.join(120)
    final = search.progress()
    assert {"portfolio", "tpot"} <= {row["source"] for row in final.leaderboard}  # TPOT searched after it
    assert final.evaluated >= 4 and result["best"].score == pytest.approx(final.best)
    assert final.elapsed <= 0.4 * 60 + MARGIN_S

    # TPOT ran on the process's own cluster, which outlives the search and is no one's default: a cluster TPOT
    # starts itself becomes the default, and when TPOT (left to refit its winner alone) shut it down, the next
    # search's TPOT, which had found it too, lost every pipeline ("ConnectionPool is closed")
    from distributed.client import _get_global_client

    client = local_client(search.n_jobs)
    assert "eval_objective_list" in client.cluster.scheduler.task_prefixes and client.status == "running"
    assert _get_global_client() is not client and search.tpot_error is None


def _regression_search(rows: int = 300, minutes: float = 1) -> Search:
    """A search (not run) on a table of a number that predicts the target and one that does not."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=rows), "w": rng.normal(size=rows)})
    frame["y"] = frame["x"] * 3 + rng.normal(size=rows)
    return Search(frame, Recipe(), AutoMLSettings("y", "regression", minutes=minutes, folds=3))


def _wait(store: Store, job_id: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while store.get_job(job_id)["status"] in jobs.ACTIVE and time.monotonic() < deadline:
        time.sleep(0.5)
    return store.get_job(job_id)


def test_an_automl_job_honours_its_budget_and_saves_an_ordinary_experiment(store, tmp_path):
    from workbench.deploy.export import build_bundle
    from workbench.experiments import explanation_of, pipeline_of
    from workbench.samples import add_sample

    project = store.create_project("automl")
    dataset = add_sample(store, project.id, "penguins")
    settings = AutoMLSettings("species", "multiclass", "balanced_accuracy", minutes=0.4, preset="trees", folds=3)
    began = time.monotonic()
    job_id, _ = start(store, project.id, "automl", dataset_id=dataset.id, settings=settings)
    job = _wait(store, job_id)
    assert job["status"] == "done", job["message"]
    assert time.monotonic() - began <= 0.4 * 60 + MARGIN_S  # the search and the winner's training

    again = Store(store.home).get_job(job_id)  # as after a restart: the result is kept in the store
    progress = automl_progress(again)
    assert progress["evaluated"] >= 4 and len(progress["leaderboard"]) >= 3 and progress["timeline"]
    [experiment] = store.list_experiments(project.id)
    automl = experiment.record["automl"]
    assert automl["leaderboard"] == progress["leaderboard"] and "model = " in automl["code"]
    assert experiment.record["metrics"]["balanced_accuracy"] > 0.9
    assert len(experiment.record["cv_scores"]) == 3 and not automl["stopped_early"]  # a finished search's winner

    # an AutoML experiment is explained and exported like any other
    job_id, future = start(store, project.id, "explain", experiment_id=experiment.id)
    future.result(timeout=300)
    assert explanation_of(store, experiment.id) is not None
    bundle = tmp_path / "bundle"
    zipfile.ZipFile(io.BytesIO(build_bundle(store.experiment_model(experiment.id),
                                            experiment.record))).extractall(bundle)
    frame = store.load_frame(dataset.id).drop(columns=["species"])
    frame.to_csv(bundle / "in.csv", index=False)
    run = fresh_python(["predict.py", "in.csv", "out.csv"], bundle)
    assert run.returncode == 0, run.stderr
    out = pd.read_csv(bundle / "out.csv", encoding="utf-8-sig")
    pipeline = pipeline_of(store, experiment.id)
    rows = read_table((bundle / "in.csv").read_bytes(), "in.csv")[0]
    assert list(out["prediction"]) == list(pipeline.predict(rows))
    probability = [c for c in out.columns if c.startswith("probability_")]
    assert np.abs(out[probability].to_numpy() - pipeline.predict_proba(rows)).max() <= 1e-9


def test_cancel_ends_the_search_within_seconds_and_keeps_the_best(store):
    from workbench.samples import add_sample

    project = store.create_project("cancel")
    dataset = add_sample(store, project.id, "titanic")
    recipe = Recipe()
    store.save_recipe(project.id, recipe.to_json())
    settings = AutoMLSettings("survived", "binary", minutes=5, preset="full", folds=3)
    job_id, _ = start(store, project.id, "automl", dataset_id=dataset.id, settings=settings)
    deadline = time.monotonic() + 120
    while (automl_progress(store.get_job(job_id)) or {}).get("evaluated", 0) < 5 and time.monotonic() < deadline:
        time.sleep(0.5)
    jobs.cancel(store, job_id)
    asked = time.monotonic()
    job = _wait(store, job_id)
    assert job["status"] == "done" and time.monotonic() - asked <= 10 + MARGIN_S
    [experiment] = store.list_experiments(project.id)
    assert experiment.record["automl"]["stopped_early"]
    assert experiment.record["cv_scores"] == []  # trained once: the search's folds scored it
    assert automl_progress(job)["elapsed"] < 120


def test_tpots_no_op_steps_are_removed_and_the_code_rebuilds_the_model():
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from tpot.builtin_modules import Passthrough, SkipTransformer

    found = Pipeline([("scale", StandardScaler()), ("p", Passthrough()),
                      ("u", FeatureUnion([("skip", SkipTransformer()), ("pass", Passthrough())])),
                      ("model", LogisticRegression(C=np.float64(0.5), penalty=np.str_("l2")))])
    plain = simplify(found)
    assert [type(s).__name__ for _, s in plain.steps] == ["StandardScaler", "LogisticRegression"]
    assert complexity(found) == complexity(plain) == 2
    namespace: dict = {}
    exec(pipeline_code(plain), namespace)  # our own generated code, in a test
    rebuilt = namespace["model"]
    assert rebuilt.steps[-1][1].C == 0.5 and rebuilt.steps[-1][1].penalty == "l2"
    shown = repr(clone(plain)).replace("np.float64(0.5)", "0.5").replace("np.str_('l2')", "'l2'")
    assert " ".join(repr(rebuilt).split()) == " ".join(shown.split())


def test_a_search_survives_a_worker_that_dies_mid_search(tmp_path):
    """The worker killed is one that holds TPOT's training rows (TPOT scatters them to a single worker, and
    without a copy elsewhere every later pipeline is cancelled). Event-driven, not timed: the search has a
    long budget and is cancelled once TPOT has finished a pipeline after the kill."""
    with dask_cluster(tmp_path, workers=2) as (client, workers):
        search = Search(_titanic(), Recipe(), AutoMLSettings("survived", "binary", minutes=4, preset="fast",
                                                             folds=3), client=client)
        result: dict = {}
        runner = threading.Thread(target=lambda: result.update(best=search.run()))
        runner.start()
        assert until(lambda: any(c.source == "tpot" for c in search.candidates), 150)
        pids = client.run(os.getpid)  # {worker address: its process id}
        rows = {key: where for key, where in client.who_has().items()  # scattered by TPOT, or our task of them
                if str(key).startswith(("ndarray-", "identity-"))}
        assert rows, "TPOT's training rows are on no worker"
        holders = sorted({w for where in rows.values() for w in where},
                         key=lambda w: -sum(where == (w,) for where in rows.values()))  # a sole holder first
        victim = next(p for p in workers if p.pid == pids[holders[0]])
        victim.kill()  # SIGKILL mid-search: its running pipelines and its copy of the rows are lost with it
        killed_at = time.perf_counter() - search._start

        def later():
            return [c for c in search.candidates if c.source == "tpot" and c.found_at > killed_at + 1]

        went_on = until(later, 120)
        search.cancel()
        runner.join(150)
        assert not runner.is_alive() and result["best"] is not None and search.tpot_error is None
        assert went_on, "TPOT stopped evaluating pipelines when a worker died"
        assert until(lambda: len(client.scheduler_info()["workers"]) == 1, 20) and victim.poll() is not None


def test_automl_command_prints_progress_and_writes_a_bundle(tmp_path):
    from tests.conftest import ROOT, SAMPLES

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "workbench", "automl", "--data", str(SAMPLES / "penguins.csv"),
                             "--target", "species", "--minutes", "0.3", "--out", str(tmp_path / "b.zip")],
                            env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["metrics"]["balanced_accuracy"] > 0.9 and "pipelines tried" in result.stderr
    assert "predict.py" in zipfile.ZipFile(tmp_path / "b.zip").namelist()
    bad = subprocess.run([sys.executable, "-m", "workbench", "automl", "--data", str(SAMPLES / "penguins.csv"),
                          "--target", "species", "--minutes", "0.3", "--metric", "rmse", "--out",
                          str(tmp_path / "c.zip")], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert bad.returncode == 2 and "no metric 'rmse'" in bad.stderr


def test_out_of_fold_scores_equal_cross_validation_and_the_ensemble_beats_its_members():
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from workbench.automl import fold_score, out_of_fold, select_ensemble

    X, y = make_classification(400, 8, random_state=0)
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    folds = list(cv.split(X, y))
    oof = out_of_fold(LogisticRegression(), X, y, folds, np.array([0, 1]), n_jobs=2)
    assert not np.isnan(oof).any() and np.allclose(oof.sum(axis=1), 1)
    assert fold_score("roc_auc", y, oof, folds, np.array([0, 1])) == pytest.approx(
        cross_val_score(LogisticRegression(), X, y, cv=cv, scoring="roc_auc").mean())
    with pytest.raises(InterruptedError):  # a cancel or the deadline stops it between folds
        out_of_fold(LogisticRegression(), X, y, folds, np.array([0, 1]), stop=lambda: True)

    rng = np.random.default_rng(0)
    truth = rng.normal(size=600)
    a, b = truth + rng.normal(size=600), truth + rng.normal(size=600)  # independent errors: their mean is better
    folds = [(np.arange(600)[np.arange(600) % 3 != k], np.arange(600)[np.arange(600) % 3 == k]) for k in range(3)]
    noise = rng.normal(size=600) * 5
    weights, score = select_ensemble("rmse", truth, [a, b, noise], folds, None)
    assert weights[0] and weights[1] and not weights[2]
    assert score < min(fold_score("rmse", truth, p, folds, None) for p in (a, b))
    weights, score = select_ensemble("rmse", truth, [truth, noise], folds, None)  # a perfect member stays alone
    assert weights == [1, 0] and score == pytest.approx(0)
    # a member whose training would not fit in the time left is passed over; the best one is always allowed
    c = truth + rng.normal(size=600)
    weights, _ = select_ensemble("rmse", truth, [a, b, c], folds, None, costs=[1.0, 5.0, 1.0], budget=2.5)
    assert weights[0] and not weights[1] and weights[2]
    weights, _ = select_ensemble("rmse", truth, [a, b], folds, None, costs=[9.0, 9.0], budget=1.0)
    assert sum(bool(w) for w in weights) == 1


def test_ensemble_selection_breaks_ties_of_balanced_accuracy_by_log_loss():
    from workbench.automl import fold_score, select_ensemble

    y = np.array([0, 1] * 150)
    folds = [(np.arange(300)[np.arange(300) % 3 != k], np.arange(300)[np.arange(300) % 3 == k]) for k in range(3)]
    sure = np.eye(2)[y] * 0.98 + 0.01  # every row right, confidently
    rng = np.random.default_rng(1)
    lean = np.eye(2)[y] * 0.4 + 0.3 + rng.uniform(-0.05, 0.05, (300, 1)) * [1, -1]  # every row right, hesitantly
    classes = np.array([0, 1])
    assert fold_score("balanced_accuracy", y, sure, folds, classes) == fold_score(
        "balanced_accuracy", y, lean, folds, classes) == 1.0
    weights, score = select_ensemble("balanced_accuracy", y, [lean, sure], folds, classes)
    assert not weights[0] and weights[1] and score == 1.0  # the tie went to the better probabilities


def test_ensemble_members_are_named_in_the_users_language():
    from workbench.experiments import model_title
    from workbench.i18n import set_language, t
    from workbench.ui.automl import _display_name

    set_language("ja")
    try:
        shown = _display_name("3×hist_gradient_boosting + StandardScaler → LogisticRegression + ridge", "ensemble")
        tpot = t("automl.prepared_by", model=t("model.logistic_regression"), steps="StandardScaler")
        assert shown == f"3×{t('model.hist_gradient_boosting')} + {tpot} + {t('model.ridge')}"
        assert _display_name("PCA → RandomForestClassifier", "tpot") == t(
            "automl.prepared_by", model=t("model.random_forest"), steps="PCA")
        assert _display_name("GaussianNB", "tpot") == t("model.naive_bayes")
        assert t("model.ridge") != t("model.ridge", "en") and _display_name("ridge", "portfolio") == t("model.ridge")
        # the experiment an average of models makes says it is one, on every page that names the model
        record = {"settings": {"model_id": "automl"}, "automl": {"source": "ensemble", "name": "3×ridge + knn + m"}}
        assert model_title(record) == t("model.automl_ensemble", members=3) and "3" in model_title(record)
        assert model_title({**record, "automl": {"source": "tpot", "name": "GaussianNB"}}) == t("model.automl")
        assert model_title({"settings": {"model_id": "ridge"}}) == t("model.ridge")
    finally:
        set_language("en")
    assert model_title(record) == "AutoML ensemble of 3 models"


def test_the_portfolio_probes_each_family_once_then_configurations_the_catalogue_knows():
    from workbench.automl import MAX_ROUNDS, catalogue_model, portfolio
    from workbench.models import CATALOGUE

    for task in ("binary", "multiclass", "regression"):
        configs = portfolio(task)
        families = [c.model_id for c in configs]
        probes = len(set(families))
        assert len(set(families[:probes])) == probes  # one probe per family first
        assert len({c.label for c in configs}) == len(configs) and {"lightgbm/2", "extra_trees/2"} <= {
            c.label for c in configs}
        for config in configs:
            spec = CATALOGUE[config.model_id]
            assert task in spec.tasks
            known = {p.name for p in spec.params}
            assert set(config.settings) <= known, config  # a misspelt parameter would be ignored silently
            model = catalogue_model(config.model_id, task, 0, config.settings)
            step = model[-1] if isinstance(model, Pipeline) else model
            for name, value in config.settings.items():  # each value reaches the model as written
                assert step.get_params()[name] == value, (config, name)
        assert CATALOGUE["lightgbm"].estimator(task, {"n_estimators": 2 * MAX_ROUNDS}).n_estimators <= 5000


def test_lightgbm_stops_boosting_early_on_one_number_of_rounds_chosen_by_cross_validation():
    from sklearn.datasets import make_classification, make_regression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import KFold, StratifiedKFold

    from workbench.automl import MAX_ROUNDS, fold_score, out_of_fold
    from workbench.models import CATALOGUE

    X, y = make_classification(600, 10, n_informative=4, flip_y=0.2, random_state=0)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    found: dict = {}
    model = CATALOGUE["lightgbm"].estimator("binary", {"learning_rate": 0.3})
    oof = out_of_fold(model, X, y, folds, np.array([0, 1]), n_jobs=2, found=found)
    assert 1 <= found["n_estimators"] < 200  # noisy labels and a large step: it stops long before MAX_ROUNDS
    assert np.allclose(oof.sum(axis=1), 1) and fold_score("roc_auc", y, oof, folds, np.array([0, 1])) > 0.75
    # the out-of-fold predictions are those of that many rounds in every fold
    train, test = folds[0]
    fixed = CATALOGUE["lightgbm"].estimator("binary", {"learning_rate": 0.3, "n_estimators": found["n_estimators"]})
    assert fold_score("roc_auc", y, oof, folds[:1], np.array([0, 1])) == pytest.approx(
        roc_auc_score(y[test], fixed.fit(X[train], y[train]).predict_proba(X[test])[:, 1]), abs=0.02)
    Xr, yr = make_regression(300, 5, noise=10, random_state=0)
    found = {}
    out_of_fold(CATALOGUE["lightgbm"].estimator("regression"), Xr, yr,
                list(KFold(3, shuffle=True, random_state=0).split(Xr)), None, found=found)
    assert 1 <= found["n_estimators"] < MAX_ROUNDS
    calls = []

    def stop() -> bool:  # the deadline passes while a fold is boosting: it stops between rounds
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(InterruptedError):
        out_of_fold(CATALOGUE["lightgbm"].estimator("binary", {"learning_rate": 0.001}), X, y, folds,
                    np.array([0, 1]), stop=stop)
    assert len(calls) < 50


def test_a_portfolio_winner_is_trained_with_its_configuration_and_named_in_the_users_language():
    from workbench.automl import Candidate, final_settings, portfolio
    from workbench.i18n import set_language, t
    from workbench.ui.automl import _display_name

    config = next(c for c in portfolio("binary") if c.label == "lightgbm/2")
    settings, model = final_settings(AutoMLSettings("survived", "binary"), Candidate(
        "portfolio", config.label, 0.9, 1, 1.0, 1.0, config))
    assert model is None and settings.model_id == "lightgbm" and settings.params == {"extra_trees": True}
    set_language("ja")
    try:
        shown = t("automl.configuration", model=t("model.lightgbm"), number="2")
        assert _display_name("lightgbm/2", "portfolio") == shown and "2" in shown
        assert _display_name("2×lightgbm/2 + ridge", "ensemble") == f"2×{shown} + {t('model.ridge')}"
    finally:
        set_language("en")


def test_the_portfolios_ensemble_is_offered_once_and_its_training_time_kept_back():
    from workbench.automl import Candidate, Config, fold_score

    rng = np.random.default_rng(0)
    search = _regression_search()
    y, folds = search._stacked()  # the rows once per repeat of the folds (three on this small table)
    for i, seconds in enumerate((2.0, 3.0)):  # two members with independent errors: their average is better
        oof = y + rng.normal(size=len(y))
        search._add(Candidate("portfolio", f"m{i}", fold_score("rmse", y, oof, folds, None), 1,
                              seconds * search._repeats, 1.0, Config("ridge"), oof))
    single, alone = search.best(), search._search_end()  # the best one's training only
    search._ensemble()
    ensemble = search.best()
    assert ensemble.source == "ensemble" and {n.split("×")[-1] for n in ensemble.name.split(" + ")} == {"m0", "m1"}
    assert search._planned == pytest.approx(5.0) and search._cost(ensemble) == pytest.approx(5.0, rel=0.05)
    assert alone - search._search_end() == pytest.approx(
        search._final_seconds(5.0) - search._final_seconds(search._cost(single)), rel=0.05)
    search._ensemble()  # the same selection later (no new member) is not a new candidate
    assert [c.source for c in search.candidates].count("ensemble") == 1 and search.best() is ensemble


def test_fold_scores_equal_scikit_learns_metrics_on_every_kind_of_prediction():
    from sklearn import metrics

    from workbench.automl import fold_score

    rng = np.random.default_rng(3)
    folds = [(np.arange(90)[np.arange(90) % 3 != k], np.arange(90)[np.arange(90) % 3 == k]) for k in range(3)]

    def sklearn_score(metric, y, predicted, classes):
        if classes is None:
            return {"rmse": metrics.root_mean_squared_error, "mae": metrics.mean_absolute_error,
                    "r2": metrics.r2_score}[metric](y, predicted)
        if metric == "roc_auc":
            return metrics.roc_auc_score(y == classes[1], predicted[:, 1])
        if metric == "log_loss":
            return metrics.log_loss(y, predicted, labels=classes)
        return metrics.balanced_accuracy_score(y, classes[predicted.argmax(axis=1)])

    def reference(metric, y, predicted, classes):
        return np.mean([sklearn_score(metric, y[test], predicted[test], classes) for _, test in folds])

    y = rng.normal(size=90)
    values = y + rng.normal(size=90)
    for metric in ("rmse", "mae", "r2"):
        assert fold_score(metric, y, values, folds, None) == pytest.approx(reference(metric, y, values, None))
    two = np.array(["no", "yes"])
    y = two[rng.integers(0, 2, 90)]
    p = np.round(rng.uniform(size=90), 1)  # many tied probabilities
    proba = np.c_[1 - p, p]
    for metric in ("roc_auc", "balanced_accuracy", "log_loss"):
        assert fold_score(metric, y, proba, folds, two) == pytest.approx(reference(metric, y, proba, two))
    three = np.array([0, 1, 2])
    y = np.where(np.arange(90) == 4, 2, rng.integers(0, 2, 90))  # class 2 held out by one fold only
    proba = rng.dirichlet([1, 1, 1], 90)
    proba[0] = [1.0, 0.0, 0.0]  # a zero probability of the true class: clipped, as scikit-learn clips it
    for metric in ("balanced_accuracy", "log_loss"):
        assert fold_score(metric, y, proba, folds, three) == pytest.approx(reference(metric, y, proba, three))


def test_out_of_fold_predictions_on_repeated_folds_are_each_one_models_and_score_as_repeated_cv():
    from sklearn.datasets import make_classification
    from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score
    from sklearn.tree import DecisionTreeClassifier

    from workbench.automl import fold_score, out_of_fold, stacked

    X, y = make_classification(200, 5, flip_y=0.2, random_state=0)
    cv = RepeatedStratifiedKFold(n_splits=4, n_repeats=3, random_state=0)
    folds = list(cv.split(X, y))
    classes = np.array([0, 1])
    tree = DecisionTreeClassifier(random_state=0)
    predicted = out_of_fold(tree, X, y, folds, classes, n_jobs=2)
    each = [out_of_fold(tree, X, y, folds[4 * r:4 * r + 4], classes) for r in range(3)]
    assert predicted.shape == (600, 2) and np.allclose(predicted, np.concatenate(each))  # stacked, not averaged
    every, places = stacked(y, folds)
    assert np.array_equal(every, np.tile(y, 3))
    # scored as repeated cross-validation of one tree (an average over the repeats would score a bag of three)
    assert fold_score("roc_auc", every, predicted, places, classes) == pytest.approx(
        cross_val_score(tree, X, y, cv=cv, scoring="roc_auc").mean())
    averaged = predicted.reshape(3, 200, 2).mean(axis=0)
    assert fold_score("roc_auc", y, averaged, folds[:4], classes) > fold_score("roc_auc", every, predicted, places,
                                                                               classes) + 0.02


def test_the_search_tries_every_model_the_model_page_would_propose_on_steadier_folds_for_small_tables():
    from workbench.automl import portfolio
    from workbench.models import models_for
    from workbench.training import SMALL_TABLE, cv_repeats

    for task in ("binary", "multiclass", "regression"):
        screened = {m.id for m in models_for(task) if not m.baseline and not m.network}
        assert screened <= {c.model_id for c in portfolio(task)}, task
    search = Search(_titanic(), Recipe(), AutoMLSettings("survived", "binary", folds=5))
    assert len(search._features()[0]) < SMALL_TABLE and search._repeats == cv_repeats(len(search._features()[0])) == 3
    folds = search._folds()
    assert len(folds) == 15 and all(np.bincount(np.concatenate([t for _, t in folds[5 * r:5 * r + 5]])).max() == 1
                                    for r in range(3))


def test_on_a_large_table_a_probe_foretold_to_be_slow_waits_for_the_other_families_configurations(monkeypatch):
    from workbench.automl import PILOT_ROWS, Candidate, portfolio

    search = _regression_search(8 * PILOT_ROWS, minutes=10)  # folds of over 4 x PILOT_ROWS training rows
    assert search._foretold(portfolio("regression")[1]) > 0  # timed on a pilot fit on this table
    ran: list[str] = []
    foretold = {"extra_trees": 100.0, "random_forest": 100.0}  # seconds: over a quarter of the share (360 s)
    monkeypatch.setattr(search, "_foretold", lambda config: foretold.get(config.model_id, 1.0))

    def score(config):
        ran.append(config.label)
        search._add(Candidate("portfolio", config.label, float(len(ran)), 1, 0.01, 0.0, config))

    monkeypatch.setattr(search, "_score_config", score)
    search._portfolio()
    slow = [i for i, label in enumerate(ran) if label.split("/")[0] in foretold]
    assert ran[slow[0]] == "extra_trees" and "lightgbm/7" in ran[:slow[0]]  # the booster's configurations first
    assert all(label.split("/")[0] in foretold for label in ran[slow[0]:])
    # with time for all, every one runs but SVM, which is passed over above 5,000 rows (as the proposal does)
    assert set(ran) == {c.label for c in portfolio("regression") if c.model_id != "svm"}

    small = _regression_search(PILOT_ROWS, minutes=10)
    assert small._foretold(portfolio("regression")[1]) == 0.0  # a smaller table's probes just run


def test_ensemble_selection_chooses_among_the_best_candidates_only():
    from workbench.automl import ENSEMBLE_POOL, Candidate, Config, fold_score, select_ensemble

    rng = np.random.default_rng(0)
    search = _regression_search()
    y, folds = search._stacked()
    shared = rng.normal(size=len(y))  # the good models all make the same errors
    good = [y + shared + 0.05 * rng.normal(size=len(y)) for _ in range(ENSEMBLE_POOL)]
    weak = [y - shared + 1.5 * rng.normal(size=len(y)) for _ in range(2)]  # worse alone, but they cancel them
    for name, oof in [(f"good{i}", p) for i, p in enumerate(good)] + [(f"weak{i}", p) for i, p in enumerate(weak)]:
        search._add(Candidate("portfolio", name, fold_score("rmse", y, oof, folds, None), 1, 0.1, 1.0,
                              Config("ridge"), oof))
    weights, _ = select_ensemble("rmse", y, good + weak, folds, None)
    assert all(weights[-2:])  # over every candidate, selection would take the weak ones in
    chosen, _, _ = search._select()
    assert chosen and not any(c.name.startswith("weak") for c, _ in chosen)
