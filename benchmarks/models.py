"""Model benchmark: every catalogue model with its defaults on real datasets; is the proposed default near the best?

    python benchmarks/models.py [--only titanic penguins ...] [--folds 3] [--splits 5]

Held-out test score on each task's primary metric (ROC AUC for binary, balanced
accuracy for multiclass, RMSE for regression), same split for every model, and
the whole training time (cross-validation + final fit). Target: the default
model the app proposes is within 1% of the best default model on each dataset.

On a table of a few hundred rows one test split is too noisy to tell 1% apart
(on titanic's 179 test rows one row is 0.6% of accuracy), so tables under
SMALL rows are scored over several train/test splits (seeds) and every score is
the mean over them; the proposal is made afresh on each split's training rows,
never seeing its test rows (nested evaluation). SVM is skipped above 10,000
training rows (its fit time grows with the square of the rows), and that is said
in the table.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from workbench.evaluation import LOWER_IS_BETTER  # noqa: E402
from workbench.io import read_table  # noqa: E402
from workbench.models import DEFAULT_MODEL, models_for  # noqa: E402
from workbench.recipe import Recipe  # noqa: E402
from workbench.tasks import propose_task  # noqa: E402
from workbench.training import Settings, Split, default_folds, propose_model, train_experiment  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATASETS = {
    "titanic": (ROOT / "sample_data/titanic.csv", "survived", ["alive"]),
    "penguins": (ROOT / "sample_data/penguins.csv", "species", []),
    "bank marketing": (ROOT / "benchmarks/data/bank_marketing_semicolon_subset.csv", "y", ["duration"]),
    "diamonds": (ROOT / "benchmarks/data/diamonds.csv", "price", []),
    "mpg": (ROOT / "sample_data/mpg.csv", "mpg", ["name"]),
    "tips": (ROOT / "sample_data/tips.csv", "tip", []),
}
SVM_LIMIT = 10_000
SMALL = 5_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(DATASETS))
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--splits", type=int, default=5, help=f"train/test splits for tables under {SMALL:,} rows")
    parser.add_argument("--scale", action="store_true", help="only time the default model on 100,000 x 30")
    args = parser.parse_args()
    if args.scale:
        scale()
        return
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    verdicts = []
    for name in args.only:
        path, target, leaks = DATASETS[name]
        frame = read_table(path.read_bytes(), path.name)[0].drop(columns=leaks)  # columns that leak the answer
        task = propose_task(frame[target]).task
        print(f"\n{name}: {len(frame):,} rows, target {target} ({task})")
        seeds = range(42, 42 + (args.splits if len(frame) < SMALL else 1))
        scores: dict[str, list[float]] = {}
        for spec in models_for(task):
            if spec.id == "svm" and len(frame) * 0.8 > SVM_LIMIT:
                print(f"  {spec.id:<24} skipped (more than {SVM_LIMIT:,} training rows)")
                continue
            runs = [train_experiment(frame, Recipe(), Settings(target, task, spec.id,
                                                               split=Split(folds=args.folds, seed=seed)))
                    for seed in seeds]
            scores[spec.id] = [run.metrics[run.primary] for run in runs]
            print(f"  {spec.id:<24} {runs[0].primary} {np.mean(scores[spec.id]):>10.4f} "
                  f"(sd {np.std(scores[spec.id]):.4f} over {len(runs)} splits)   "
                  f"{np.mean([run.seconds for run in runs]):>6.1f} s", flush=True)
        metric = runs[0].primary
        lower = metric in LOWER_IS_BETTER
        proposals = [propose_model(frame, Recipe(), Settings(target, task, DEFAULT_MODEL, split=Split(seed=seed)))[0]
                     for seed in seeds]
        print(f"  proposed on each split: {', '.join(proposals)}")
        ours_each = [scores[p][i] for i, p in enumerate(proposals)]
        mean = {model: float(np.mean(values)) for model, values in scores.items()}
        best_id = min(mean, key=mean.get) if lower else max(mean, key=mean.get)
        proposed = max(set(proposals), key=proposals.count)
        best, ours, fixed = mean[best_id], float(np.mean(ours_each)), mean[DEFAULT_MODEL]
        gap = (ours - best) / abs(best) if lower else (best - ours) / abs(best)
        fixed_gap = (fixed - best) / abs(best) if lower else (best - fixed) / abs(best)
        verdicts.append((name, best_id, best, proposed, ours, gap, fixed_gap))
    print(f"\n{'dataset':<16}{'best on test':<24}{'best':>10}  {'proposed (most often)':<24}{'score':>10}{'gap':>8}"
          f"  within 1%  {'gap of ' + DEFAULT_MODEL}")
    for name, best_id, best, proposed, ours, gap, fixed_gap in verdicts:
        print(f"{name:<16}{best_id:<24}{best:>10.4f}  {proposed:<24}{ours:>10.4f}{gap:>8.2%}"
              f"  {'yes' if gap <= 0.01 else 'NO':<9}  {fixed_gap:.2%}")


def wide_table():
    """100,000 rows: 26 numbers (10 informative) and 4 text columns of 12 levels, and a binary 'target'."""
    import pandas as pd
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=100_000, n_features=26, n_informative=10, random_state=0)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(26)])
    rng = np.random.default_rng(0)
    for i in range(4):
        frame[f"c{i}"] = pd.Series(rng.choice([f"level {k}" for k in range(12)], len(frame)), dtype="str")
    frame["target"] = y
    return frame


def scale() -> None:
    """Time to results for the default model on 100,000 rows x 30 columns (target: under 30 s)."""
    import time

    frame = wide_table()
    start = time.perf_counter()
    folds = default_folds(len(frame))
    run = train_experiment(frame, Recipe(), Settings("target", "binary", DEFAULT_MODEL, split=Split(folds=folds)))
    seconds = time.perf_counter() - start
    print(f"\n100,000 x 30, {DEFAULT_MODEL}, {folds}-fold CV + fit + test: {seconds:.1f} s "
          f"(ROC AUC {run.metrics['roc_auc']:.3f}); target < 30 s: {'met' if seconds < 30 else 'MISSED'}")


if __name__ == "__main__":
    main()
