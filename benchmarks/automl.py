"""AutoML benchmark: the workbench's AutoML against the best default catalogue model and FLAML, same budget,
same split, held-out test scores.

    pip install -r benchmarks/requirements.txt   # FLAML, a benchmark-only dependency
    python benchmarks/automl.py [--budgets 60 300] [--only titanic penguins ...] [--preset full]

Each dataset is split once (the app's split, seed 42). The best default model is
the best test score among every catalogue model with its defaults (an oracle
choice: it sees the test rows). The workbench AutoML and FLAML each get the same
wall-clock budget on the training rows; the workbench's time includes training
its winner. Targets: AutoML at least equal to the best default model on every
dataset, and ahead of FLAML on average at each budget.
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


def best_default(frame: pd.DataFrame, target: str, task: str) -> tuple[str, float]:
    scores = {}
    for spec in models_for(task):
        if spec.id == "svm" and len(frame) > 12_000:
            continue
        run = train_experiment(frame, Recipe(), Settings(target, task, spec.id, split=Split(folds=3)))
        scores[spec.id] = run.metrics[run.primary]
    metric = PRIMARY[task]
    best = min(scores, key=scores.get) if metric in LOWER_IS_BETTER else max(scores, key=scores.get)
    return best, scores[best]


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
        default_id, default_score = best_default(frame, target, task)
        for budget in args.budgets:
            ours, ours_s, winner = workbench_automl(frame, target, task, budget, args.preset)
            theirs, theirs_s = flaml(frame, target, task, budget)
            rows.append((name, PRIMARY[task], budget, default_id, default_score, ours, ours_s, winner, theirs,
                         theirs_s))
            print(f"{name:<15}{budget:>5} s  {PRIMARY[task]:<18} default {default_id} {default_score:.4f}  "
                  f"workbench {ours:.4f} ({ours_s:.0f} s, {winner})  FLAML {theirs:.4f} ({theirs_s:.0f} s)", flush=True)
    print(f"\n{'dataset':<15}{'budget':>7}  {'metric':<18}{'best default':>13}{'workbench':>11}{'FLAML':>9}"
          f"{'time (s)':>10}  >= default  vs FLAML")
    for budget in args.budgets:
        gains = []
        for name, metric, b, _, default, ours, ours_s, _, theirs, _ in rows:
            if b != budget:
                continue
            lower = metric in LOWER_IS_BETTER
            at_least = ours <= default if lower else ours >= default
            gain = (theirs - ours) / abs(theirs) if lower else (ours - theirs) / abs(theirs)
            gains.append(gain)
            print(f"{name:<15}{b:>7}  {metric:<18}{default:>13.4f}{ours:>11.4f}{theirs:>9.4f}{ours_s:>10.0f}  "
                  f"{'yes' if at_least else 'NO':<11}{gain:+.2%}")
        print(f"{'mean gain over FLAML at ' + str(budget) + ' s':<44}{np.mean(gains):+.2%}")


if __name__ == "__main__":
    main()
