"""Metrics and the data behind evaluation plots, from true values and predictions (no fitting here)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics

from workbench.tasks import BINARY, REGRESSION

CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro",
                          "f1_weighted", "roc_auc", "log_loss")
REGRESSION_METRICS = ("mae", "rmse", "r2", "mape")
LOWER_IS_BETTER = {"log_loss", "mae", "rmse", "mape"}
PRIMARY = {BINARY: "roc_auc", "multiclass": "balanced_accuracy", REGRESSION: "rmse"}
# Catalogue keys of each metric's name, written out so the i18n test sees them.
METRIC_KEYS = {
    "accuracy": "metric.accuracy", "balanced_accuracy": "metric.balanced_accuracy",
    "precision_macro": "metric.precision_macro", "recall_macro": "metric.recall_macro",
    "f1_macro": "metric.f1_macro", "f1_weighted": "metric.f1_weighted", "roc_auc": "metric.roc_auc",
    "log_loss": "metric.log_loss", "mae": "metric.mae", "rmse": "metric.rmse", "r2": "metric.r2",
    "mape": "metric.mape",
}
CV_SCORING = {"roc_auc": "roc_auc", "balanced_accuracy": "balanced_accuracy", "rmse": "neg_root_mean_squared_error",
              "log_loss": "neg_log_loss", "mae": "neg_mean_absolute_error", "r2": "r2"}


def cv_sign(metric: str) -> float:
    """-1 for scikit-learn scorers that negate the metric (errors), so that scores read as the metric."""
    return -1.0 if CV_SCORING[metric].startswith("neg_") else 1.0


def prediction_score(metric: str, y_true: Any, predicted: np.ndarray, classes: np.ndarray | None = None) -> float:
    """One metric of predictions: values for regression (classes None), else class probabilities with columns in
    `classes` order (sorted; the predicted class is the most probable). Computed with numpy, equal to
    scikit-learn's metrics (tested): AutoML's ensemble selection scores thousands of averages, and scikit-learn's
    checks of its inputs took seconds of a one-minute search."""
    y_true = np.asarray(y_true)
    if classes is None:
        error = y_true - predicted
        if metric == "rmse":
            return float(np.sqrt(np.mean(error ** 2)))
        if metric == "mae":
            return float(np.mean(np.abs(error)))
        return float(1 - np.sum(error ** 2) / np.sum((y_true - y_true.mean()) ** 2))  # r2
    codes = np.searchsorted(classes, y_true)
    if metric == "roc_auc":  # two classes: the Mann-Whitney statistic, ties counted half
        from scipy.stats import rankdata

        positive = codes == 1
        n_pos = positive.sum()
        ranks = rankdata(predicted[:, 1])[positive].sum()
        return float((ranks - n_pos * (n_pos + 1) / 2) / (n_pos * (len(codes) - n_pos)))
    if metric == "log_loss":
        eps = np.finfo(predicted.dtype).eps
        chosen = (predicted / predicted.sum(axis=1, keepdims=True))[np.arange(len(codes)), codes]
        return float(-np.mean(np.log(np.clip(chosen, eps, 1 - eps))))
    k = predicted.shape[1]  # balanced accuracy: the mean recall of the classes these rows hold
    held = np.bincount(codes, minlength=k)
    right = np.bincount(codes[predicted.argmax(axis=1) == codes], minlength=k)
    return float(np.mean(right[held > 0] / held[held > 0]))


def predict_with_threshold(proba: np.ndarray, classes: np.ndarray, threshold: float) -> np.ndarray:
    """Binary labels: the second class where its probability reaches `threshold`."""
    return np.where(proba[:, 1] >= threshold, classes[1], classes[0])


def classification_metrics(y_true: Any, y_pred: Any, proba: np.ndarray | None, classes: np.ndarray) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro precision/recall/F1, weighted F1, ROC AUC and log loss."""
    y_true = np.asarray(y_true)
    out = {
        "accuracy": metrics.accuracy_score(y_true, y_pred),
        "balanced_accuracy": metrics.balanced_accuracy_score(y_true, y_pred),
        "precision_macro": metrics.precision_score(y_true, y_pred, average="macro", zero_division=0),
        "recall_macro": metrics.recall_score(y_true, y_pred, average="macro", zero_division=0),
        "f1_macro": metrics.f1_score(y_true, y_pred, average="macro", zero_division=0),
        "f1_weighted": metrics.f1_score(y_true, y_pred, average="weighted", zero_division=0),
    }
    if proba is not None and len(np.unique(y_true)) > 1:
        if len(classes) == 2:
            out["roc_auc"] = metrics.roc_auc_score(y_true == classes[1], proba[:, 1])
        else:  # one-vs-rest, averaged over the classes the test rows hold (a rare class may have none there)
            present = [i for i, c in enumerate(classes) if (y_true == c).any()]
            out["roc_auc"] = np.mean([metrics.roc_auc_score(y_true == classes[i], proba[:, i]) for i in present])
        out["log_loss"] = metrics.log_loss(y_true, proba, labels=classes)
    return {k: float(v) for k, v in out.items()}


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """MAE, RMSE, R² and MAPE (MAPE left out when a true value is zero)."""
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    out = {
        "mae": metrics.mean_absolute_error(y_true, y_pred),
        "rmse": metrics.root_mean_squared_error(y_true, y_pred),
        "r2": metrics.r2_score(y_true, y_pred),
    }
    if not np.any(y_true == 0):
        out["mape"] = metrics.mean_absolute_percentage_error(y_true, y_pred)
    return {k: float(v) for k, v in out.items()}


def confusion(y_true: Any, y_pred: Any, classes: np.ndarray, normalise: bool = False) -> pd.DataFrame:
    """Confusion matrix with true classes as rows; normalised by row (recall per class) when asked."""
    matrix = metrics.confusion_matrix(y_true, y_pred, labels=classes, normalize="true" if normalise else None)
    names = [str(c) for c in classes]
    return pd.DataFrame(matrix, index=names, columns=names)


def class_report(y_true: Any, y_pred: Any, classes: np.ndarray) -> pd.DataFrame:
    """Precision, recall, F1 and support per class."""
    p, r, f, s = metrics.precision_recall_fscore_support(y_true, y_pred, labels=classes, zero_division=0)
    return pd.DataFrame({"precision": p, "recall": r, "f1": f, "support": s}, index=[str(c) for c in classes])


def curves(y_true: Any, proba: np.ndarray, classes: np.ndarray) -> dict[str, dict[str, pd.DataFrame]]:
    """ROC, precision-recall and calibration curves, one per class (one-vs-rest); the positive class for binary."""
    y_true = np.asarray(y_true)
    targets = [classes[1]] if len(classes) == 2 else list(classes)
    out: dict[str, dict[str, pd.DataFrame]] = {"roc": {}, "pr": {}, "calibration": {}}
    for cls in targets:
        index = list(classes).index(cls)
        positive, score = (y_true == cls).astype(int), proba[:, index]
        if positive.min() == positive.max():
            continue
        fpr, tpr, _ = metrics.roc_curve(positive, score)
        precision, recall, _ = metrics.precision_recall_curve(positive, score)
        from sklearn.calibration import calibration_curve

        observed, predicted = calibration_curve(positive, score, n_bins=10, strategy="quantile")
        out["roc"][str(cls)] = pd.DataFrame({"fpr": fpr, "tpr": tpr})
        out["pr"][str(cls)] = pd.DataFrame({"recall": recall, "precision": precision})
        out["calibration"][str(cls)] = pd.DataFrame({"predicted": predicted, "observed": observed})
    return out


def residuals(y_true: Any, y_pred: Any) -> pd.DataFrame:
    """Actual, predicted and residual (actual - predicted) per test row."""
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    return pd.DataFrame({"actual": y_true, "predicted": y_pred, "residual": y_true - y_pred})


def better(metric: str, a: float, b: float) -> bool:
    """Whether score `a` beats `b` on `metric`."""
    return a < b if metric in LOWER_IS_BETTER else a > b
