"""scikit-learn transformers that the recipe compiles to: DataFrame in, DataFrame out.

This module depends only on numpy, pandas and scikit-learn, so an exported
bundle can carry it as it is. Every class keeps the column order and names of
its input, so a fitted pipeline reads the raw columns the user uploaded.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.feature_extraction.text import TfidfVectorizer

TRUE_WORDS = {"true", "yes", "y", "t", "1", "はい", "真", "○"}
FALSE_WORDS = {"false", "no", "n", "f", "0", "いいえ", "偽", "×"}
DATE_PARTS = ("year", "month", "day", "weekday", "hour", "minute", "dayofyear", "quarter")


class _Frame(TransformerMixin, BaseEstimator):
    """Base: remembers the input columns and names its output columns."""

    def fit(self, X: pd.DataFrame, y: Any = None) -> "_Frame":
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        return self

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(self.transform(self._empty()).columns, dtype=object)

    def _empty(self) -> pd.DataFrame:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in self.feature_names_in_})


def _insert(frame: pd.DataFrame, at: int, new: pd.DataFrame) -> pd.DataFrame:
    """Put the columns of `new` at position `at` of `frame`."""
    left, right = frame.iloc[:, :at], frame.iloc[:, at:]
    return pd.concat([left, new.set_axis(frame.index), right], axis=1)


class OnColumns(_Frame):
    """Fit any sklearn transformer on some columns; its output replaces them in place.

    With keep_input=True the output is added after the inputs instead (for
    missing-value indicators and outlier flags).
    """

    def __init__(self, transformer: Any, columns: list[str], keep_input: bool = False) -> None:
        self.transformer = transformer
        self.columns = columns
        self.keep_input = keep_input

    def fit(self, X: pd.DataFrame, y: Any = None) -> "OnColumns":
        super().fit(X, y)
        self.transformer_ = clone(self.transformer)
        if hasattr(self.transformer_, "set_output"):
            self.transformer_.set_output(transform="pandas")
        self.transformer_.fit(X[self.columns], y)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = self.transformer_.transform(X[self.columns])
        if not isinstance(out, pd.DataFrame):
            names = self.transformer_.get_feature_names_out(self.columns)
            out = pd.DataFrame(np.asarray(out), columns=names, index=X.index)
        out = out.set_axis(X.index)
        if self.keep_input:
            at = max(X.columns.get_loc(c) for c in self.columns) + 1
            return _insert(X, at, out)
        if list(out.columns) == list(self.columns):
            X = X.copy()
            for c in self.columns:
                X[c] = out[c].to_numpy()
            return X
        at = min(X.columns.get_loc(c) for c in self.columns)
        return _insert(X.drop(columns=self.columns), at, out)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = list(self.feature_names_in_)
        out = list(self.transformer_.get_feature_names_out(self.columns))
        if self.keep_input:
            at = max(names.index(c) for c in self.columns) + 1
            return np.asarray(names[:at] + out + names[at:], dtype=object)
        if out == list(self.columns):
            return np.asarray(names, dtype=object)
        at = min(names.index(c) for c in self.columns)
        rest = [n for n in names if n not in self.columns]
        return np.asarray(rest[:at] + out + rest[at:], dtype=object)


class MissingFlags(_Frame):
    """A 0/1 column '<name>_was_missing' per input column (used with OnColumns(keep_input=True))."""

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({f"{c}_was_missing": X[c].isna().astype("int64") for c in X.columns}, index=X.index)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = self.feature_names_in_ if input_features is None else input_features
        return np.asarray([f"{c}_was_missing" for c in names], dtype=object)


class DropColumns(_Frame):
    """Remove columns (those absent from a later file are ignored)."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return X.drop(columns=[c for c in self.columns if c in X.columns])


class RenameColumns(_Frame):
    """Rename columns by a mapping old -> new."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return X.rename(columns=self.mapping)


def to_number(values: pd.Series) -> pd.Series:
    """Numbers from text, understanding full-width digits and thousands separators; others become NaN."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    text = values.astype("str").str.normalize("NFKC").str.strip().str.replace(r"(?<=\d),(?=\d{3}(\D|$))", "", regex=True)
    return pd.to_numeric(text, errors="coerce").where(values.notna())


def to_boolean(values: pd.Series) -> pd.Series:
    """Booleans from yes/no words (English and Japanese) and 1/0; others become missing."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean")
    text = values.astype("str").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text.isin(TRUE_WORDS)] = True
    out[text.isin(FALSE_WORDS)] = False
    return out


class CastColumns(_Frame):
    """Convert columns to number, category, boolean, datetime or text; values that do not convert become missing."""

    def __init__(self, columns: list[str], to: str) -> None:
        self.columns = columns
        self.to = to

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X.copy()
        for c in self.columns:
            X[c] = cast(X[c], self.to)
        return X


def cast(values: pd.Series, to: str) -> pd.Series:
    """Convert one column; see CastColumns."""
    if to == "number":
        return to_number(values)
    if to == "boolean":
        return to_boolean(values)
    if to == "datetime":
        if pd.api.types.is_datetime64_any_dtype(values):
            return values
        return pd.to_datetime(values.astype("str"), errors="coerce", format="mixed").where(values.notna())
    if to in ("category", "text"):
        return values.astype("str").where(values.notna())
    raise ValueError(f"unknown type {to!r}")


class DateParts(_Frame):
    """Split a date column into parts (year, month, ...), optionally dropping the original."""

    def __init__(self, column: str, parts: list[str], drop: bool = True) -> None:
        self.column = column
        self.parts = parts
        self.drop = drop

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        when = cast(X[self.column], "datetime")
        new = pd.DataFrame({f"{self.column}_{p}": _part(when, p) for p in self.parts}, index=X.index)
        at = X.columns.get_loc(self.column) + 1
        out = _insert(X, at, new)
        return out.drop(columns=[self.column]) if self.drop else out


def _part(when: pd.Series, part: str) -> pd.Series:
    return getattr(when.dt, part).astype("float64")


class ElapsedDays(_Frame):
    """Days between a date column and a fixed reference date (positive after it)."""

    def __init__(self, column: str, reference: str, drop: bool = True) -> None:
        self.column = column
        self.reference = reference
        self.drop = drop

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        when = cast(X[self.column], "datetime")
        days = (when - pd.Timestamp(self.reference)).dt.total_seconds() / 86400
        new = pd.DataFrame({f"{self.column}_days": days.astype("float64")}, index=X.index)
        out = _insert(X, X.columns.get_loc(self.column) + 1, new)
        return out.drop(columns=[self.column]) if self.drop else out


class TrimText(_Frame):
    """Strip and collapse spaces; optionally NFKC-normalise (full-width letters and digits to half-width)."""

    def __init__(self, columns: list[str], normalise: bool = True) -> None:
        self.columns = columns
        self.normalise = normalise

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X.copy()
        for c in self.columns:
            text = X[c].astype("str")
            if self.normalise:
                text = text.str.normalize("NFKC")  # .str, not .map: an all-missing column stays text
            X[c] = text.str.strip().str.replace(r"\s+", " ", regex=True).where(X[c].notna())
        return X


OPERATIONS = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "divide": lambda a, b: a / b.where(b != 0),
}


class Formula(_Frame):
    """A new column from two numeric columns: a + b, a - b, a * b or a / b (division by zero gives missing)."""

    def __init__(self, a: str, op: str, b: str, name: str) -> None:
        self.a = a
        self.op = op
        self.b = b
        self.name = name

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X.copy()
        X[self.name] = OPERATIONS[self.op](to_number(X[self.a]), to_number(X[self.b]))
        return X


class MapValues(_Frame):
    """Replace values of a column by a mapping; values not in the mapping stay as they are."""

    def __init__(self, column: str, mapping: dict[str, Any]) -> None:
        self.column = column
        self.mapping = mapping

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X.copy()
        text = X[self.column].astype("str")
        X[self.column] = text.map(lambda v: self.mapping.get(v, v), na_action="ignore").where(X[self.column].notna())
        return X


class RareLevels(_Frame):
    """Group category levels rarer than `min_share` of the training rows into `other`."""

    def __init__(self, columns: list[str], min_share: float = 0.01, other: str = "other") -> None:
        self.columns = columns
        self.min_share = min_share
        self.other = other

    def fit(self, X: pd.DataFrame, y: Any = None) -> "RareLevels":
        super().fit(X, y)
        self.keep_ = {}
        for c in self.columns:
            shares = X[c].astype("str").value_counts(normalize=True)
            self.keep_[c] = sorted(shares[shares >= self.min_share].index.tolist())
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X.copy()
        for c in self.columns:
            text = X[c].astype("str")
            X[c] = text.where(text.isin(self.keep_[c]) | X[c].isna(), self.other).where(X[c].notna())
        return X


def outlier_bounds(values: pd.Series, method: str, threshold: float) -> tuple[float, float]:
    """(low, high) limits: mean ± threshold·sd for 'zscore', quartiles ± threshold·IQR for 'iqr'."""
    values = pd.to_numeric(values, errors="coerce").dropna()
    if values.empty:
        return -np.inf, np.inf
    if method == "zscore":
        mean, sd = values.mean(), values.std()
        return float(mean - threshold * sd), float(mean + threshold * sd)
    q1, q3 = values.quantile([0.25, 0.75])
    return float(q1 - threshold * (q3 - q1)), float(q3 + threshold * (q3 - q1))


class _OutlierLimits(_Frame):
    """Base: per-column limits learned on the training rows (z-score or IQR)."""

    def __init__(self, columns: list[str], method: str = "iqr", threshold: float = 1.5) -> None:
        self.columns = columns
        self.method = method
        self.threshold = threshold

    def fit(self, X: pd.DataFrame, y: Any = None) -> "_OutlierLimits":
        super().fit(X, y)
        self.bounds_ = {c: outlier_bounds(X[c], self.method, self.threshold) for c in self.columns}
        return self


class ClipOutliers(_OutlierLimits):
    """Clip numeric columns to limits learned on the training rows."""

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X.copy()
        for c, (low, high) in self.bounds_.items():
            X[c] = pd.to_numeric(X[c], errors="coerce").clip(low, high)
        return X


class FlagOutliers(_OutlierLimits):
    """Add a 0/1 column per numeric column: outside limits learned on the training rows."""

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X.copy()
        for c, (low, high) in self.bounds_.items():
            values = pd.to_numeric(X[c], errors="coerce")
            X[f"{c}_outlier"] = ((values < low) | (values > high)).astype("int64")
        return X


class TextImputer(_Frame):
    """Fill missing values of text columns with a constant (sklearn's imputers need numbers or objects)."""

    def __init__(self, columns: list[str], fill_value: str = "missing") -> None:
        self.columns = columns
        self.fill_value = fill_value

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X.copy()
        for c in self.columns:
            X[c] = X[c].astype("str").fillna(self.fill_value)
        return X


class ModelReady(_Frame):
    """Last stop before the model: yes/no to 0/1, dates to days since 1970 and infinite numbers (from a file or
    a formula step) to missing, so every column is a finite number, missing, or a category. (Dates are better
    split by a recipe step; this keeps them usable.)"""

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X.copy()
        for c in X.columns:
            if pd.api.types.is_bool_dtype(X[c]):
                X[c] = X[c].astype("float64")
            elif pd.api.types.is_datetime64_any_dtype(X[c]):
                X[c] = (X[c] - pd.Timestamp("1970-01-01")).dt.total_seconds() / 86400
            elif pd.api.types.is_float_dtype(X[c]):
                values = X[c].astype("float64")
                X[c] = values.where(~np.isinf(values), np.nan)
            elif not pd.api.types.is_numeric_dtype(X[c]):
                X[c] = X[c].astype("object").where(X[c].notna(), np.nan)
        return X


class TextColumn(TransformerMixin, BaseEstimator):
    """One free-text column as a 1-D array of strings (missing values become empty), for text vectorizers."""

    def __init__(self, column: str = "") -> None:
        self.column = column

    def fit(self, X: pd.DataFrame, y: Any = None) -> TextColumn:
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        return X[self.column].astype("str").fillna("").to_numpy(dtype=object)


class CompactTfidf(TfidfVectorizer):
    """scikit-learn's TfidfVectorizer, saved with its vocabulary as one text of terms and one array of column
    numbers. skops writes a dict of 44,000 terms as 44,000 nodes (43 s and 48 MB for the SMS sample); this
    way it takes well under a second. The terms a cut-off dropped (stop_words_, informational only) are not kept."""

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())  # a copy: object.__getstate__ hands back the live __dict__
        state.pop("stop_words_", None)
        vocabulary = state.pop("vocabulary_", None)
        if vocabulary is not None:  # terms never hold a line break: the analyzers turn white space into spaces
            state["vocabulary_terms_"] = "\n".join(vocabulary)
            state["vocabulary_columns_"] = np.fromiter(vocabulary.values(), dtype=np.int64, count=len(vocabulary))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        terms, columns = state.pop("vocabulary_terms_", None), state.pop("vocabulary_columns_", None)
        if terms is not None:
            state = {**state, "vocabulary_": dict(zip(terms.split("\n") if terms else [], columns.tolist()))}
        super().__setstate__(state)
