"""One AutoGluon fit for benchmarks/automl.py, run by the AutoGluon environment's Python (its pins clash with ours):

    .venv-autogluon/bin/python benchmarks/autogluon_fit.py TRAIN.parquet TEST.parquet TARGET METRIC SECONDS PRESET OUT

Writes OUT.parquet (the test rows' predictions: class probabilities, columns as the classes' text, or values) and
OUT.json (wall seconds of the fit, the model AutoGluon chose).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time

import pandas as pd
from autogluon.tabular import TabularPredictor

METRICS = {"roc_auc": "roc_auc", "balanced_accuracy": "balanced_accuracy", "rmse": "root_mean_squared_error"}
PROBLEMS = {"roc_auc": "binary", "balanced_accuracy": "multiclass", "rmse": "regression"}


def main() -> None:
    train_path, test_path, target, metric, seconds, preset, out = sys.argv[1:8]
    train, test = pd.read_parquet(train_path), pd.read_parquet(test_path)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        try:
            predictor = TabularPredictor(label=target, eval_metric=METRICS[metric], problem_type=PROBLEMS[metric],
                                         path=f"{folder}/a", verbosity=0).fit(train, time_limit=float(seconds),
                                                                              presets=preset)
        except AssertionError:  # best_quality's dynamic stacking can fail on a short budget ("Learner is already
            # fit"): the rest of the budget goes to a fit without it
            left = max(1.0, float(seconds) - (time.perf_counter() - start))
            predictor = TabularPredictor(label=target, eval_metric=METRICS[metric], problem_type=PROBLEMS[metric],
                                         path=f"{folder}/b", verbosity=0).fit(train, time_limit=left, presets=preset,
                                                                              dynamic_stacking=False)
        wall = time.perf_counter() - start
        features = test.drop(columns=[target])
        if metric == "rmse":
            predicted = pd.DataFrame({"value": predictor.predict(features).to_numpy(dtype=float)})
        else:
            predicted = predictor.predict_proba(features)
            predicted.columns = [str(c) for c in predicted.columns]
        predicted.to_parquet(out + ".parquet")
        with open(out + ".json", "w") as f:
            json.dump({"seconds": wall, "model": str(predictor.model_best)}, f)


if __name__ == "__main__":
    main()
