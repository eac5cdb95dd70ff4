"""Predicting on new rows: check them against the training schema, then append predictions.

A new file may lack columns, carry extra ones, hold categories never seen in
training, or text where numbers were expected. None of these crash: missing
columns become empty (the pipeline imputes them), extra ones are ignored, and
each problem is reported per column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.evaluation import predict_with_threshold
from workbench.i18n import Note, t
from workbench.stats import is_number, whole_numbers
from workbench.tasks import BINARY, CLUSTERING, REGRESSION
from workbench.transformers import to_number

MAX_LEVELS = 200


def feature_schema(X: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per training column: its kind, a typical value (median or most frequent), and its range or levels."""
    schema: dict[str, dict[str, Any]] = {}
    for name in X.columns:
        col = X[name]
        present = col.dropna()
        if pd.api.types.is_bool_dtype(col):
            schema[name] = {"kind": "boolean", "default": bool(present.mode().iloc[0]) if len(present) else False}
        elif pd.api.types.is_datetime64_any_dtype(col):
            schema[name] = {"kind": "datetime", "default": str(present.median().date()) if len(present) else None}
        elif is_number(col):
            schema[name] = {"kind": "number", "default": float(present.median()) if len(present) else 0.0,
                            "min": float(present.min()) if len(present) else 0.0,
                            "max": float(present.max()) if len(present) else 0.0,
                            "integer": bool(pd.api.types.is_integer_dtype(col)) or whole_numbers(present)}
        else:
            counts = present.astype(str).value_counts()
            schema[name] = {"kind": "category", "default": counts.index[0] if len(counts) else "",
                            "levels": counts.index[:MAX_LEVELS].tolist(), "complete": len(counts) <= MAX_LEVELS}
    return schema


@dataclass
class InputReport:
    """What differed between new rows and the training data."""

    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    not_numbers: dict[str, int] = field(default_factory=dict)  # column -> values that are not numbers
    unseen: dict[str, list[str]] = field(default_factory=dict)  # column -> new categories (first few)

    def notes(self) -> list[tuple[bool, Note]]:
        """Each difference as a message, with whether it is a warning (an extra column is only information)."""
        out = [(True, Note("predict.missing", {"columns": ", ".join(self.missing)}))] if self.missing else []
        if self.extra:
            out.append((False, Note("predict.extra", {"columns": ", ".join(self.extra)})))
        out += [(True, Note("predict.not_numbers", {"column": c, "count": n})) for c, n in self.not_numbers.items()]
        out += [(True, Note("predict.unseen", {"column": c, "values": ", ".join(v)})) for c, v in self.unseen.items()]
        return out


def prepare(df: pd.DataFrame, schema: dict[str, dict[str, Any]]) -> tuple[pd.DataFrame, InputReport]:
    """The rows with exactly the training columns, types coerced, and a report of every difference."""
    report = InputReport(missing=[c for c in schema if c not in df.columns],
                         extra=[c for c in df.columns if c not in schema])
    out = pd.DataFrame(index=df.index)
    for name, info in schema.items():
        if name not in df.columns:
            out[name] = np.nan
            continue
        col = df[name]
        if info["kind"] == "number":
            numbers = to_number(col)
            bad = int((col.notna() & numbers.isna()).sum())
            if bad:
                report.not_numbers[name] = bad
            out[name] = numbers
        elif info["kind"] == "category":
            text = col.astype("str").where(col.notna())
            if info.get("complete"):
                new = sorted(set(text.dropna()) - set(info["levels"]))
                if new:
                    report.unseen[name] = new[:5]
            out[name] = text
        elif info["kind"] == "datetime":
            out[name] = pd.to_datetime(col, errors="coerce")
        else:
            out[name] = col
    return out, report


def predict_rows(pipeline: Any, df: pd.DataFrame, rows: pd.DataFrame, task: str, classes: list[Any],
                 threshold: float = 0.5, lang: str | None = None) -> pd.DataFrame:
    """`df` (the rows as uploaded) plus a prediction column and, for classification, a probability column per
    class, named in `lang` (prediction / 予測, probability_<class> / 確率_<class>; cluster / クラスタ) after
    the classes as the user wrote them; a name the table already has gets a number."""
    out = as_uploaded(df)
    if task == CLUSTERING:
        out[_free(t("predict.col.cluster", lang), out)] = pipeline.predict(rows)
        return out
    if task == REGRESSION:
        out[_free(t("predict.col.prediction", lang), out)] = pipeline.predict(rows)
        return out
    proba = pipeline.predict_proba(rows)
    labels = np.asarray(pipeline.classes_)
    out[_free(t("predict.col.prediction", lang), out)] = (
        predict_with_threshold(proba, labels, threshold) if task == BINARY else labels[np.argmax(proba, axis=1)])
    for i, cls in enumerate(labels):
        out[_free(t("predict.col.probability", lang, label=_plain(cls)), out)] = proba[:, i]
    return out


def added_columns(predicted: pd.DataFrame, df: pd.DataFrame) -> tuple[str, list[str]]:
    """The prediction (or cluster) column and the probability columns that predict_rows() added to `df`."""
    added = list(predicted.columns[len(df.columns):])
    return added[0], added[1:]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _free(name: str, df: pd.DataFrame) -> str:
    """`name`, or `name_2`, `name_3`... when the table already has a column of that name."""
    candidate, n = name, 1
    while candidate in df.columns:
        n += 1
        candidate = f"{name}_{n}"
    return candidate


def as_uploaded(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of the rows with whole-number columns written as integers again: a column of integers with a
    gap is read as floats (4 would be written back as 4.0)."""
    out = df.copy()
    for name in out.columns:
        col = out[name]
        if pd.api.types.is_float_dtype(col) and whole_numbers(col.dropna()):
            out[name] = col.astype("Int64")
    return out


@dataclass
class Predictor:
    """A fitted pipeline with what predicting needs: the training columns, task, classes and threshold.
    Made from a stored experiment's record or from a bundle's schema.json (same keys)."""

    pipeline: Any
    schema: dict[str, dict[str, Any]]
    task: str
    classes: list[Any]
    threshold: float = 0.5

    @classmethod
    def from_record(cls, pipeline: Any, record: dict[str, Any]) -> "Predictor":
        """From an experiment record (experiments.record_of)."""
        s = record["settings"]
        return cls(pipeline, record["schema"], s["task"], record["classes"], s["threshold"])

    @classmethod
    def from_meta(cls, pipeline: Any, meta: dict[str, Any]) -> "Predictor":
        """From a bundle's schema.json."""
        return cls(pipeline, meta["schema"], meta["task"], meta["classes"], meta["threshold"])

    def predict(self, df: pd.DataFrame, lang: str | None = None) -> tuple[pd.DataFrame, InputReport]:
        """The rows plus predictions (and probabilities) in columns named in `lang` (see predict_rows), and
        what differed from the training data."""
        rows, report = prepare(df, self.schema)
        return predict_rows(self.pipeline, df, rows, self.task, self.classes, self.threshold, lang), report

    def answers(self, df: pd.DataFrame) -> tuple[pd.Series, np.ndarray | None, InputReport]:
        """The prediction per row, the class probabilities (classes in order; None for regression) and what
        differed from the training data: for code that works on the numbers, not on a table to show."""
        out, report = self.predict(df, lang="en")
        answer, probabilities = added_columns(out, df)
        return out[answer], (out[probabilities].to_numpy(dtype=float) if probabilities else None), report
