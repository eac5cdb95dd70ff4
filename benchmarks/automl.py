"""AutoML benchmark: the workbench's AutoML against the best default catalogue model and FLAML, same budget,
same split, held-out test scores.

    pip install -r benchmarks/requirements.txt   # FLAML, a benchmark-only dependency
    python benchmarks/automl.py [--budgets 60 300] [--only titanic penguins ...] [--preset full]

Each dataset is split once (the app's split, seed 42). The best default model is
the catalogue model, with its defaults, that a careful data scientist would pick:
the best cross-validated score on the training rows (the app's folds). The table
also shows the oracle default, the best *test* score among them, which no method
that does not see the test rows can be sure to reach. The workbench AutoML and
FLAML each get the same wall-clock budget on the training rows; the workbench's
time includes training its winner. Targets: AutoML at least equal to the best
default model on every dataset, and ahead of FLAML on average at each budget.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.models import DATASETS  # noqa: E402
from workbench.automl import AutoMLSettings, Search, search_and_train  # noqa: E402
from workbench.evaluation import LOWER_IS_BETTER, PRIMARY, classification_metrics, regression_metrics  # noqa: E402
from workbench.io import read_table  # noqa: E402
from workbench.models import models_for  # noqa: E402
from workbench.recipe import Recipe  # noqa: E402
from workbench.tasks import REGRESSION, propose_task  # noqa: E402
from workbench.training import Settings, Split, default_folds, split_rows, train_experiment  # noqa: E402

NAMES = ("titanic", "penguins", "bank marketing", "diamonds", "mpg")


def _score(task: str, metric: str, y: pd.Series, predictions: np.ndarray, proba: np.ndarray | None,
           classes: np.ndarray) -> float:
    if task == REGRESSION:
        return regression_metrics(y, predictions)[metric]
    return classification_metrics(y, predictions, proba, classes)[metric]


def best_default(frame: pd.DataFrame, target: str, task: str) -> tuple[tuple[str, float], tuple[str, float]]:
    """(model, test score) of the default picked by CV on the training rows, and of the oracle pick by test score."""
    runs = {}
    for spec in models_for(task):
        if spec.network or spec.id == "dummy" or (spec.id == "svm" and len(frame) > 12_000):
            continue
        runs[spec.id] = train_experiment(frame, Recipe(), Settings(target, task, spec.id,
                                                                   split=Split(folds=default_folds(len(frame)))))
    metric = PRIMARY[task]
    pick = min if metric in LOWER_IS_BETTER else max
    by_cv = pick(runs, key=lambda m: np.mean(runs[m].cv_scores))
    oracle = pick(runs, key=lambda m: runs[m].metrics[metric])
    return (by_cv, runs[by_cv].metrics[metric]), (oracle, runs[oracle].metrics[metric])


def workbench_automl(frame: pd.DataFrame, target: str, task: str, seconds: int, preset: str) -> tuple[float, float,
                                                                                                        str]:
    start = time.perf_counter()
    settings = AutoMLSettings(target, task, minutes=seconds / 60, preset=preset, folds=default_folds(len(frame)))
    best, run = search_and_train(Search(frame, Recipe(), settings, n_jobs=os.cpu_count() or 1), lambda _: None)
    return run.metrics[run.primary], time.perf_counter() - start, f"{best.source}: {best.name}"[:60]


def flaml(frame: pd.DataFrame, target: str, task: str, seconds: int) -> tuple[float, float]:
    from flaml import AutoML
    from sklearn.metrics import balanced_accuracy_score

    train_index, test_index = split_rows(frame, target, task, Split())
    X = frame.drop(columns=[target])
    for name in X.columns:  # FLAML wants pandas categories for text
        if not pd.api.types.is_numeric_dtype(X[name]) or pd.api.types.is_bool_dtype(X[name]):
            X[name] = X[name].astype("str").astype("category")
    y = frame[target]
    metric = PRIMARY[task]

    def balanced(X_val, y_val, estimator, *args, **kwargs):
        return 1 - balanced_accuracy_score(y_val, estimator.predict(X_val)), {}

    flaml_metric = {"roc_auc": "roc_auc", "rmse": "rmse", "balanced_accuracy": balanced}[metric]
    automl = AutoML()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl.fit(X.loc[train_index], y.loc[train_index], task="regression" if task == REGRESSION else
                   "classification", time_budget=seconds, metric=flaml_metric, seed=42, verbose=0,
                   n_jobs=os.cpu_count())
    seconds_used = time.perf_counter() - start
    X_test, y_test = X.loc[test_index], y.loc[test_index]
    predictions = automl.predict(X_test)
    proba = None if task == REGRESSION else automl.predict_proba(X_test)
    classes = None if task == REGRESSION else np.asarray(automl.classes_)
    return _score(task, metric, y_test, predictions, proba, classes), seconds_used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(NAMES))
    parser.add_argument("--budgets", nargs="*", type=int, default=[60, 300])
    parser.add_argument("--preset", default="full")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    rows = []
    for name in args.only:
        path, target, leaks = DATASETS[name]
        frame = read_table(path.read_bytes(), path.name)[0].drop(columns=leaks)
        frame = frame[frame[target].notna()]
        task = propose_task(frame[target]).task
        (default_id, default_score), (oracle_id, oracle_score) = best_default(frame, target, task)
        print(f"{name}: default by CV {default_id} {default_score:.4f}, oracle {oracle_id} {oracle_score:.4f}",
              flush=True)
        for budget in args.budgets:
            ours, ours_s, winner = workbench_automl(frame, target, task, budget, args.preset)
            theirs, theirs_s = flaml(frame, target, task, budget)
            rows.append((name, PRIMARY[task], budget, default_score, oracle_score, ours, ours_s, theirs))
            print(f"{name:<15}{budget:>5} s  {PRIMARY[task]:<18} workbench {ours:.4f} ({ours_s:.0f} s, {winner})  "
                  f"FLAML {theirs:.4f} ({theirs_s:.0f} s)", flush=True)
    print(f"\n{'dataset':<15}{'budget':>7}  {'metric':<18}{'default':>9}{'oracle':>9}{'workbench':>11}{'FLAML':>9}"
          f"{'time (s)':>10}  >= default  >= oracle  vs FLAML")
    for budget in args.budgets:
        gains = []
        for name, metric, b, default, oracle, ours, ours_s, theirs in rows:
            if b != budget:
                continue
            lower = metric in LOWER_IS_BETTER
            gain = (theirs - ours) / abs(theirs) if lower else (ours - theirs) / abs(theirs)
            gains.append(gain)
            print(f"{name:<15}{b:>7}  {metric:<18}{default:>9.4f}{oracle:>9.4f}{ours:>11.4f}{theirs:>9.4f}"
                  f"{ours_s:>10.0f}  {_yes(metric, ours, default):<12}{_yes(metric, ours, oracle):<11}{gain:+.2%}")
        print(f"{'mean gain over FLAML at ' + str(budget) + ' s':<44}{np.mean(gains):+.2%}")


def _yes(metric: str, ours: float, theirs: float) -> str:
    return "yes" if (ours <= theirs if metric in LOWER_IS_BETTER else ours >= theirs) else "NO"


if __name__ == "__main__":
    main()
