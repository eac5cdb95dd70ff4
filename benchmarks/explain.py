"""Explain benchmark: global SHAP on 1,000 test rows of 30 columns, as the Explain page computes it.

    python benchmarks/explain.py

Targets: under 10 s each on 2 cores for a 200-tree random forest and a histogram
gradient boosting model (trained on 10,000 rows). Baseline, in the same run:
exact TreeSHAP (shap.TreeExplainer.shap_values) timed on 50 rows and scaled to
1,000, which is what the page would cost without its fallback for large forests.
The model-agnostic case (k-nearest neighbours, PermutationExplainer) is timed
with its sample sizes: 200 rows explained against 100 background rows.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from workbench.explain import AGNOSTIC_ROWS, BACKGROUND_ROWS, explain, model_output  # noqa: E402
from workbench.recipe import Recipe  # noqa: E402
from workbench.training import build_pipeline  # noqa: E402

TARGET_S = 10.0


def table(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """26 numbers and 4 categories (12 levels each): 30 columns, a binary target."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=rows, n_features=26, n_informative=10, random_state=seed)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(26)])
    rng = np.random.default_rng(seed)
    for i in range(4):
        frame[f"c{i}"] = pd.Series(rng.choice([f"level {k}" for k in range(12)], rows), dtype="str")
    return frame, pd.Series(y)


def timed(pipeline, rows: pd.DataFrame, background: pd.DataFrame) -> tuple[float, object]:
    start = time.perf_counter()
    explanation = explain(pipeline, rows, background, "binary", [0, 1])
    return time.perf_counter() - start, explanation


def exact_estimate(pipeline, rows: pd.DataFrame) -> float:
    """Seconds exact TreeSHAP would take on `rows`, from 50 of them."""
    import shap

    features, model = pipeline[:-1], pipeline[-1]
    Z = np.asarray(features.transform(rows.head(50)), dtype=float)
    explainer = shap.TreeExplainer(model)
    start = time.perf_counter()
    explainer.shap_values(Z, check_additivity=False)
    return (time.perf_counter() - start) / 50 * len(rows)


def main() -> None:
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    X, y = table(11_000)
    train, test = X.iloc[:10_000], X.iloc[10_000:]
    background = train.sample(BACKGROUND_ROWS, random_state=0)
    print(f"\n{'model':<28}{'explainer':<22}{'rows':>6}{'seconds':>9}{'exact TreeSHAP (est.)':>24}"
          f"{'additivity':>12}  target < {TARGET_S:.0f} s")
    for model_id in ("random_forest", "hist_gradient_boosting"):
        pipeline = build_pipeline(Recipe(), model_id, "binary", seed=0).fit(train, y.iloc[:10_000])
        seconds, explanation = timed(pipeline, test, background)
        error = np.abs(explanation.base[:, None] + explanation.values.sum(axis=2)
                       - model_output(pipeline, test, explanation)).max()
        method = explanation.explainer + (" (Saabas)" if explanation.approximate else "")
        print(f"{model_id:<28}{method:<22}{len(test):>6}{seconds:>9.1f}{exact_estimate(pipeline, test):>22.1f} s"
              f"{error:>12.1e}  {'met' if seconds < TARGET_S else 'MISSED'}", flush=True)
    knn = build_pipeline(Recipe(), "knn", "binary", seed=0).fit(train, y.iloc[:10_000])
    rows = test.head(AGNOSTIC_ROWS)
    seconds, explanation = timed(knn, rows, background)
    print(f"{'knn (model-agnostic)':<28}{explanation.explainer:<22}{len(rows):>6}{seconds:>9.1f}"
          f"{'':>24}{'':>12}  ({BACKGROUND_ROWS} background rows; runs as a background job)")


if __name__ == "__main__":
    main()
