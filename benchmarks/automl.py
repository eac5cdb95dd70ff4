"""AutoML benchmark: the workbench's AutoML against FLAML and AutoGluon, and the default model the Model page
proposes, on public tables, the same outer folds and budget for every system, held-out scores.

    pip install -r benchmarks/requirements.txt       # FLAML
    python3.11 -m venv .venv-autogluon && .venv-autogluon/bin/pip install -r benchmarks/requirements-autogluon.txt
    python benchmarks/automl.py [--budgets 60 300] [--folds 3] [--only kc1 titanic ...] [--systems ...]
        [--results benchmarks/_generated/automl.csv]

Each table is cut into stratified outer folds (seed 0); every system is given the
same training rows and budget and is scored on the same held-out rows, with the
workbench's primary metric (ROC AUC for two classes, balanced accuracy for more,
RMSE for numbers), which each system is also told to optimise. The workbench's
wall time includes training its winner; AutoGluon's includes its own refits.
Rows already measured (in --results) are not run again, so a long run can be
resumed; the summary is printed from that file.

Systems: workbench (the AutoML search, preset full), default (the model the Model
page proposes, by cross-validation on the training rows, with its defaults),
flaml, ag_best (AutoGluon best_quality), ag_medium (AutoGluon medium_quality).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from workbench import training  # noqa: E402
from workbench.automl import AutoMLSettings, Search, search_and_train  # noqa: E402
from workbench.evaluation import LOWER_IS_BETTER, PRIMARY  # noqa: E402
from workbench.io import read_table  # noqa: E402
from workbench.recipe import Recipe  # noqa: E402
from workbench.tasks import REGRESSION, propose_task  # noqa: E402
from workbench.training import Settings, default_folds, propose_model, train_experiment  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "automl"
AG_PYTHON = ROOT / ".venv-autogluon" / "bin" / "python"
SYSTEMS = ("workbench", "default", "flaml", "ag_best", "ag_medium")


def _csv(path: Path, target: str, drop: tuple[str, ...] = ()) -> tuple[pd.DataFrame, str]:
    frame = read_table(path.read_bytes(), path.name)[0]
    return frame.drop(columns=list(drop)), target


def _sklearn(name: str) -> tuple[pd.DataFrame, str]:
    from sklearn import datasets

    return getattr(datasets, f"load_{name}")(as_frame=True).frame.copy(), "target"


def _statsmodels(name: str, target: str) -> tuple[pd.DataFrame, str]:
    import statsmodels.api as sm

    return getattr(sm.datasets, name).load_pandas().data, target


# name -> a function giving (frame, target); tables in ../shared/data/automl, the repo's samples, and tables that
# ship inside scikit-learn and statsmodels (none needs a download)
TASKS = {
    **{name: (lambda name=name, target=target: _csv(SHARED / f"{name}.csv", target))
       for name, target in [("jm1", "defects"), ("pc1", "defects"), ("kc2", "defects"), ("car", "Class"),
                            ("haberman", "Class"), ("ionosphere", "Class"), ("vehicle", "Class"), ("yeast", "Class")]},
    "titanic": lambda: _csv(ROOT / "sample_data/titanic.csv", "survived", ("alive",)),
    "bank marketing": lambda: _csv(ROOT / "benchmarks/data/bank_marketing_semicolon_subset.csv", "y", ("duration",)),
    "penguins": lambda: _csv(ROOT / "sample_data/penguins.csv", "species"),
    "breast cancer": lambda: _sklearn("breast_cancer"),
    "wine": lambda: _sklearn("wine"),
    "digits": lambda: _sklearn("digits"),
    "mpg": lambda: _csv(ROOT / "sample_data/mpg.csv", "mpg", ("name",)),
    "diabetes": lambda: _sklearn("diabetes"),
    "fair": lambda: _statsmodels("fair", "affairs"),
    "diamonds": lambda: _csv(ROOT / "benchmarks/data/diamonds.csv", "price"),
}


def load(name: str) -> tuple[pd.DataFrame, str, str]:
    frame, target = TASKS[name]()
    frame = frame[frame[target].notna()].reset_index(drop=True)
    task = propose_task(frame[target]).task
    return frame, target, task


def outer_folds(frame: pd.DataFrame, target: str, task: str, folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    splitter = KFold(folds, shuffle=True, random_state=0) if task == REGRESSION else \
        StratifiedKFold(folds, shuffle=True, random_state=0)
    return list(splitter.split(frame, frame[target] if task != REGRESSION else None))


def score(metric: str, y: pd.Series, predicted: pd.DataFrame | np.ndarray) -> float:
    """The held-out score from class probabilities (a frame, columns the classes' text) or values."""
    if metric == "rmse":
        return float(np.sqrt(np.mean((np.asarray(y, dtype=float) - np.asarray(predicted, dtype=float)) ** 2)))
    y = y.astype(str)  # the classes as text, as every system's probability columns are named
    proba = predicted.reindex(columns=sorted(y.unique()), fill_value=0.0)
    if metric == "roc_auc":
        return float(roc_auc_score(y == proba.columns[1], proba.iloc[:, 1]))
    return float(balanced_accuracy_score(y, proba.columns[np.argmax(proba.to_numpy(), axis=1)]))


class _OuterSplit:
    """Makes the app's train/test split the benchmark's outer fold, so the workbench trains on exactly the
    training rows the peers get and reports on the same held-out rows."""

    def __init__(self, train: np.ndarray, test: np.ndarray) -> None:
        self.train, self.test, self.original = pd.Index(train), pd.Index(test), training.split_rows

    def __enter__(self) -> None:
        # the model proposal screens a sample of the rows: only those of each side that it holds
        training.split_rows = lambda df, *args, **kwargs: (self.train.intersection(df.index),
                                                           self.test.intersection(df.index))

    def __exit__(self, *exc: object) -> None:
        training.split_rows = self.original


def _predicted(pipeline, task: str, classes: list, X: pd.DataFrame) -> pd.DataFrame | np.ndarray:
    if task == REGRESSION:
        return pipeline.predict(X)
    return pd.DataFrame(pipeline.predict_proba(X), columns=[str(c) for c in classes])


def run_workbench(frame, target, task, train, test, budget):
    start = time.perf_counter()
    settings = AutoMLSettings(target, task, minutes=budget / 60, preset="full", folds=default_folds(len(train)))
    with _OuterSplit(train, test):
        search = Search(frame, Recipe(), settings, n_jobs=os.cpu_count() or 1)
        best, run = search_and_train(search, lambda _: None)
    wall = time.perf_counter() - start
    X = frame.iloc[test].drop(columns=[target])
    return _predicted(run.pipeline, task, run.classes, X), wall, best.found_at, f"{best.source}: {best.name}"[:80]


def run_default(frame, target, task, train, test, budget):
    start = time.perf_counter()
    with _OuterSplit(train, test):
        model_id, _ = propose_model(frame, Recipe(), Settings(target, task, "dummy"))
        run = train_experiment(frame, Recipe(), Settings(target, task, model_id))
    X = frame.iloc[test].drop(columns=[target])
    return _predicted(run.pipeline, task, run.classes, X), time.perf_counter() - start, float("nan"), model_id


def run_flaml(frame, target, task, train, test, budget):
    from flaml import AutoML

    X = frame.drop(columns=[target])
    for name in X.columns:  # FLAML wants pandas categories for text
        if not pd.api.types.is_numeric_dtype(X[name]) or pd.api.types.is_bool_dtype(X[name]):
            X[name] = X[name].astype("str").astype("category")
    y = frame[target]
    metric = PRIMARY[task]

    def balanced(X_val, y_val, estimator, *args, **kwargs):
        return 1 - balanced_accuracy_score(y_val, estimator.predict(X_val)), {}

    automl = AutoML()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl.fit(X.iloc[train], y.iloc[train], task="regression" if task == REGRESSION else "classification",
                   time_budget=budget, metric={"roc_auc": "roc_auc", "rmse": "rmse", "balanced_accuracy": balanced}[
                       metric], seed=0, verbose=0, n_jobs=os.cpu_count())
    wall = time.perf_counter() - start
    X_test = X.iloc[test]
    predicted = automl.predict(X_test) if task == REGRESSION else \
        pd.DataFrame(automl.predict_proba(X_test), columns=[str(c) for c in automl.classes_])
    return predicted, wall, float(automl.time_to_find_best_model), str(automl.best_estimator)


def _autogluon(preset: str):
    def run(frame, target, task, train, test, budget):
        if not AG_PYTHON.exists():
            raise FileNotFoundError(f"{AG_PYTHON} (see benchmarks/requirements-autogluon.txt)")
        with tempfile.TemporaryDirectory() as folder:
            paths = [f"{folder}/train.parquet", f"{folder}/test.parquet", f"{folder}/out"]
            frame.iloc[train].to_parquet(paths[0])
            frame.iloc[test].to_parquet(paths[1])
            command = [str(AG_PYTHON), str(ROOT / "benchmarks/autogluon_fit.py"), *paths[:2], target, PRIMARY[task],
                       str(budget), preset, paths[2]]
            done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
            if not Path(paths[2] + ".json").exists():
                raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no output")
            predicted = pd.read_parquet(paths[2] + ".parquet")
            about = json.loads(Path(paths[2] + ".json").read_text())
        values = predicted["value"].to_numpy() if task == REGRESSION else predicted
        return values, about["seconds"], float("nan"), about["model"]
    return run


RUNNERS = {"workbench": run_workbench, "default": run_default, "flaml": run_flaml,
           "ag_best": _autogluon("best_quality"), "ag_medium": _autogluon("medium_quality")}


def measure(names: list[str], budgets: list[int], folds: int, systems: list[str], results: Path) -> None:
    """Run what is not yet in `results`, fold by fold across the tables (a run cut short covers every table)."""
    done = pd.read_csv(results) if results.exists() else pd.DataFrame(columns=["task", "budget", "fold", "system"])
    done = done[done["error"].isna()] if "error" in done else done  # a failed run is tried again
    seen = set(zip(done["task"], done["budget"].astype(int), done["fold"].astype(int), done["system"]))
    tables = {}
    for budget in budgets:
        for k in range(folds):
            for name in names:
                if name not in tables:
                    tables[name] = load(name)
                frame, target, task = tables[name]
                train, test = outer_folds(frame, target, task, folds)[k]
                for system in systems:
                    if (name, budget, k, system) in seen:
                        continue
                    try:
                        predicted, wall, found_at, model = RUNNERS[system](frame, target, task, train, test, budget)
                        value, error = score(PRIMARY[task], frame[target].iloc[test], predicted), ""
                    except Exception as exc:  # a peer that fails on a table is recorded, not fatal
                        value, wall, found_at, model, error = float("nan"), float("nan"), float("nan"), "", repr(exc)
                    row = {"task": name, "rows": len(frame), "metric": PRIMARY[task], "budget": budget, "fold": k,
                           "system": system, "score": value, "seconds": wall, "found_at": found_at,
                           "model": model, "error": error[:200]}
                    print(" ".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row.values()), flush=True)
                    pd.DataFrame([row]).to_csv(results, mode="a", header=not results.exists(), index=False)


def summary(results: Path, systems: list[str]) -> str:
    """Per task and budget: each system's mean held-out score and wall time, then the mean relative gain of the
    workbench over each peer (on the folds both finished)."""
    frame = pd.read_csv(results)
    lines = []
    for budget, rows in frame.groupby("budget"):
        lines.append(f"\nbudget {budget} s: mean held-out score over the folds (wall seconds), folds run")
        lines.append(f"{'task':<16}{'metric':<19}" + "".join(f"{s:>22}" for s in systems))
        gains: dict[str, list[float]] = {s: [] for s in systems if s != "workbench"}
        below_default = []
        for task, part in rows.groupby("task", sort=False):
            metric = part["metric"].iloc[0]
            table = part.pivot_table(index="fold", columns="system", values="score")
            wall = part.pivot_table(index="fold", columns="system", values="seconds")
            cells = []
            for s in systems:
                if s in table:
                    cells.append(f"{table[s].mean():.4f} ({wall[s].mean():.0f} s) {table[s].notna().sum()}")
                else:
                    cells.append("-")
            lines.append(f"{task:<16}{metric:<19}" + "".join(f"{c:>22}" for c in cells))
            if "workbench" not in table:
                continue
            for peer in gains:
                if peer not in table:
                    continue
                both = table[["workbench", peer]].dropna()
                if both.empty:
                    continue
                ours, theirs = both["workbench"].mean(), both[peer].mean()
                gains[peer].append((theirs - ours) / abs(theirs) if metric in LOWER_IS_BETTER else
                                   (ours - theirs) / abs(theirs))
                if peer == "default" and gains[peer][-1] < 0:
                    below_default.append(task)
        for peer, values in gains.items():
            if values:
                lines.append(f"mean relative gain of the workbench over {peer}: {np.mean(values):+.2%} "
                             f"({len(values)} tasks, ahead on {sum(v > 0 for v in values)})")
        lines.append(f"tasks where the workbench is below the default model: {below_default or 'none'}")
        found = rows[rows["system"].isin(["workbench", "flaml"])].groupby("system")["found_at"].median()
        lines.append("median seconds to find the final model: " + ", ".join(f"{s} {v:.0f}" for s, v in found.items()))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(TASKS))
    parser.add_argument("--budgets", nargs="*", type=int, default=[60, 300])
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--systems", nargs="*", default=list(SYSTEMS))
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks/_generated/automl.csv")
    parser.add_argument("--summary", action="store_true", help="only print the summary of --results")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    if not args.summary:
        measure(args.only, args.budgets, args.folds, args.systems, args.results)
    print(summary(args.results, args.systems))


if __name__ == "__main__":
    main()
