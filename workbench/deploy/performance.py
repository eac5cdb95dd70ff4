"""How a deployed model performs on new rows: with their true values, the batch's metrics against what the
held-out test rows would give at the same batch size; without them, an estimate of a classifier's accuracy and
ROC AUC from its calibrated probabilities (confidence-based performance estimation).

Both start from the version's held-out rows (its experiment's evaluation: actual, predicted, probabilities)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression

from workbench.deploy.drift import as_text as class_text
from workbench.tasks import BINARY, REGRESSION

DRAWS = 400  # bootstrap draws for the test rows' spread, and label draws for the estimate's uncertainty
LEVEL = 0.95  # the spread: the middle 95% of the test rows' metric at the batch's size
WATCHED = {BINARY: ("roc_auc", "accuracy"), "multiclass": ("accuracy", "balanced_accuracy"),
           REGRESSION: ("rmse", "mae")}  # the first is the one an alarm is raised on
LOWER_IS_BETTER = {"rmse", "mae"}


@dataclass
class MetricCheck:
    """One metric on a labelled batch beside the test rows' value and spread at the batch's size."""

    metric: str
    value: float | None
    test: float | None
    low: float | None
    high: float | None
    alarm: bool  # worse than the test rows' spread

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Estimate:
    """A classifier's expected accuracy and ROC AUC on unlabelled rows, with the spread of what the true
    labels could give (holds while the relation between inputs and target is what it was in training)."""

    rows: int
    accuracy: float
    accuracy_sd: float
    roc_auc: float | None
    roc_auc_sd: float | None
    test_accuracy: float | None
    test_roc_auc: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def probability_columns(evaluation: pd.DataFrame, classes: list[Any]) -> list[str]:
    return [f"probability_{c}" for c in classes if f"probability_{c}" in evaluation.columns]


def metric_value(metric: str, y: np.ndarray, predicted: np.ndarray, scores: np.ndarray | None,
                 classes: list[Any]) -> float | None:
    """One metric of predictions against true values (None where it is not defined, e.g. ROC AUC of one class)."""
    if metric == "rmse":
        return float(np.sqrt(np.mean((y.astype(float) - predicted.astype(float)) ** 2)))
    if metric == "mae":
        return float(np.mean(np.abs(y.astype(float) - predicted.astype(float))))
    y, predicted = _texts(y), _texts(predicted)  # classes compared as text: 1, 1.0 and "1" are one class
    if metric == "accuracy":
        return float(np.mean(y == predicted))
    if metric == "balanced_accuracy":
        return float(skm.balanced_accuracy_score(y, predicted))
    if metric == "roc_auc":
        if scores is None or len(np.unique(y)) < 2:
            return None
        return float(skm.roc_auc_score(y == class_text(classes[1]), scores))
    raise ValueError(metric)


def labelled_checks(evaluation: pd.DataFrame, task: str, classes: list[Any], y: pd.Series, predicted: pd.Series,
                    proba: np.ndarray | None, seed: int = 0) -> list[MetricCheck]:
    """The batch's metrics beside the test rows' own, and the spread the test rows give at the batch's size
    (bootstrap): a value outside it on the bad side is an alarm."""
    rng = np.random.default_rng(seed)
    y_ref, p_ref, s_ref = _arrays(evaluation, task, classes)
    y_new, p_new = _labels(y, task, classes), _labels(predicted, task, classes)
    s_new = proba[:, 1] if task == BINARY and proba is not None else None
    n = len(y_new)
    out = []
    for metric in WATCHED[task]:
        value = metric_value(metric, y_new, p_new, s_new, classes)
        test = metric_value(metric, y_ref, p_ref, s_ref, classes)
        draws = []
        for _ in range(DRAWS):
            pick = rng.integers(0, len(y_ref), n)
            drawn = metric_value(metric, y_ref[pick], p_ref[pick], None if s_ref is None else s_ref[pick], classes)
            if drawn is not None:
                draws.append(drawn)
        low, high = (np.quantile(draws, [(1 - LEVEL) / 2, (1 + LEVEL) / 2]) if draws else (None, None))
        alarm = value is not None and low is not None and (
            value > high if metric in LOWER_IS_BETTER else value < low)
        out.append(MetricCheck(metric, value, test, None if low is None else float(low),
                               None if high is None else float(high), bool(alarm)))
    return out


class Platt:
    """Probability -> share of rows truly of the class: a logistic curve on the probability's log-odds (Platt
    scaling), learned on the held-out rows. Two parameters: steady on the small held-out sets of small tables,
    where isotonic regression overfits (it made the estimate of ROC AUC optimistic by up to 0.03)."""

    def __init__(self, probability: np.ndarray, truth: np.ndarray) -> None:
        self.model = None
        if 0 < truth.sum() < len(truth):
            self.model = LogisticRegression(C=1e4).fit(_logit(probability), truth)

    def predict(self, probability: np.ndarray) -> np.ndarray:
        return probability if self.model is None else self.model.predict_proba(_logit(probability))[:, 1]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p)).reshape(-1, 1)


def calibrators(evaluation: pd.DataFrame, classes: list[Any]) -> list[Platt]:
    """Per class, probability -> share of rows truly of that class, learned on the held-out rows."""
    actual = np.array([class_text(v) for v in evaluation["actual"]])
    return [Platt(evaluation[f"probability_{c}"].to_numpy(dtype=float), (actual == class_text(c)).astype(int))
            for c in classes]


def estimate(evaluation: pd.DataFrame, task: str, classes: list[Any], proba: np.ndarray, predicted: pd.Series,
             seed: int = 0) -> Estimate:
    """Confidence-based estimate of accuracy (and, for two classes, ROC AUC) on rows without labels:
    calibrate on the held-out rows, then add up each row's chance of being right; its uncertainty comes from
    drawing labels from those chances."""
    rng = np.random.default_rng(seed)
    models = calibrators(evaluation, classes)
    calibrated = np.column_stack([m.predict(proba[:, i]) for i, m in enumerate(models)])
    if task == BINARY:
        positive = calibrated[:, 1]
        calibrated = np.column_stack([1 - positive, positive])
    else:
        totals = calibrated.sum(axis=1, keepdims=True)
        calibrated = np.where(totals > 0, calibrated / np.where(totals > 0, totals, 1), 1 / len(classes))
    index = {str(c): i for i, c in enumerate(classes)}
    chosen = np.array([index[str(v)] for v in predicted])
    right = calibrated[np.arange(len(chosen)), chosen]
    accuracy = float(right.mean())
    auc = _expected_auc(proba[:, 1], calibrated[:, 1]) if task == BINARY else None
    accuracies, aucs = [], []
    for _ in range(DRAWS // 2):
        if task == BINARY:
            labels = (rng.random(len(chosen)) < calibrated[:, 1]).astype(int)
            accuracies.append(float(np.mean(labels == chosen)))
            if 0 < labels.sum() < len(labels):
                aucs.append(float(skm.roc_auc_score(labels, proba[:, 1])))
        else:
            cumulative = calibrated.cumsum(axis=1)
            labels = (rng.random((len(chosen), 1)) > cumulative).sum(axis=1)
            accuracies.append(float(np.mean(labels == chosen)))
    y_ref, p_ref, s_ref = _arrays(evaluation, task, classes)
    return Estimate(int(len(chosen)), accuracy, float(np.std(accuracies)), auc,
                    float(np.std(aucs)) if aucs and auc is not None else None,
                    metric_value("accuracy", y_ref, p_ref, s_ref, classes),
                    metric_value("roc_auc", y_ref, p_ref, s_ref, classes) if task == BINARY else None)


def _expected_auc(scores: np.ndarray, chance: np.ndarray) -> float | None:
    """The ROC AUC expected when row i is positive with probability chance[i]: the expected share of
    (positive, negative) pairs ranked the right way round (ties half)."""
    order = np.argsort(scores, kind="mergesort")
    s, c = scores[order], chance[order]
    negatives = 1 - c
    below = np.cumsum(negatives) - negatives  # negatives scored lower or tied-before
    _, starts, counts = np.unique(s, return_index=True, return_counts=True)
    tie_negatives = np.add.reduceat(negatives, starts)
    group_start_below = below[starts]
    group = np.repeat(np.arange(len(starts)), counts)
    strictly_below = group_start_below[group]
    tied_others = tie_negatives[group] - negatives
    numerator = float(np.sum(c * (strictly_below + 0.5 * tied_others)))
    denominator = float(c.sum() * negatives.sum() - np.sum(c * negatives))
    return numerator / denominator if denominator > 0 else None


def _arrays(evaluation: pd.DataFrame, task: str, classes: list[Any]):
    y = _labels(evaluation["actual"], task, classes)
    predicted = _labels(evaluation["predicted"], task, classes)
    scores = (evaluation[f"probability_{classes[1]}"].to_numpy(dtype=float)
              if task == BINARY and f"probability_{classes[1]}" in evaluation.columns else None)
    return y, predicted, scores


def _labels(values: pd.Series, task: str, classes: list[Any]) -> np.ndarray:
    """Values as numbers (regression) or as the classes' own values, matched through their text."""
    if task == REGRESSION:
        return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    by_text = {str(c): c for c in classes}
    return np.array([by_text.get(class_text(v), v) for v in values], dtype=object)


def _texts(values: np.ndarray) -> np.ndarray:
    return np.array([class_text(v) for v in values], dtype=str)
