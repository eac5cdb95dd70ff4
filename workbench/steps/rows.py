"""Row steps: they clean the training rows only and never run at prediction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from workbench import transformers as tf
from workbench.errors import UserError
from workbench.recipe import LEARNED, ROW, Param, Step, register
from workbench.steps._common import NUMERIC, OUTLIER_METHODS, _numeric


@register
@dataclass
class DropMissingRows(Step):
    kind = "drop_missing_rows"
    sort = ROW
    PARAMS = (Param("columns", "columns"),)
    columns: list[str] = field(default_factory=list)

    def keep_rows(self, df: pd.DataFrame) -> pd.Series:
        return df[self.columns].notna().all(axis=1)


@register
@dataclass
class DropDuplicates(Step):
    kind = "drop_duplicates"
    sort = ROW
    PARAMS = (Param("keys", "columns"),)
    keys: list[str] = field(default_factory=list)  # empty: rows identical in every column

    def check(self, df: pd.DataFrame) -> None:
        missing = [c for c in self.keys if c not in df.columns]
        if missing:
            raise UserError("recipe.missing_columns", step=self.title(), columns=", ".join(missing))

    def keep_rows(self, df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(subset=self.keys or None, keep="first")


@dataclass
class _OutlierStep(Step):
    """Shared form and checks of the outlier steps (remove rows, clip, flag)."""

    sort = LEARNED
    PARAMS = (Param("columns", "columns", kinds=NUMERIC), Param("method", "choice", "iqr", choices=OUTLIER_METHODS),
              Param("threshold", "number", 1.5, minimum=0.1, maximum=10.0))
    columns: list[str] = field(default_factory=list)
    method: str = "iqr"
    threshold: float = 1.5

    def check(self, df: pd.DataFrame) -> None:
        super().check(df)
        _numeric(df, self.columns, self)


@register
@dataclass
class RemoveOutliers(_OutlierStep):
    kind = "remove_outliers"
    sort = ROW
    PARAMS = (_OutlierStep.PARAMS[0], Param("method", "choice", "iqr", choices=(*OUTLIER_METHODS, "isolation_forest")),
              _OutlierStep.PARAMS[2])

    def keep_rows(self, df: pd.DataFrame) -> pd.Series:
        if self.method == "isolation_forest":
            from sklearn.ensemble import IsolationForest

            values = df[self.columns].astype("float64")
            complete = values.notna().all(axis=1)
            keep = pd.Series(True, index=df.index)
            if complete.sum() >= 10:
                # threshold is read as the share of rows to remove, in percent
                share = min(max(self.threshold / 100, 0.001), 0.5)
                model = IsolationForest(contamination=share, random_state=0).fit(values[complete])
                keep[complete] = model.predict(values[complete]) == 1
            return keep
        keep = pd.Series(True, index=df.index)
        for c in self.columns:
            low, high = tf.outlier_bounds(df[c], self.method, self.threshold)
            keep &= ~((df[c] < low) | (df[c] > high))
        return keep


FILTER_OPERATORS = ("eq", "ne", "gt", "ge", "lt", "le", "contains", "missing", "present")


@register
@dataclass
class FilterRows(Step):
    kind = "filter_rows"
    sort = ROW
    PARAMS = (Param("column", "column"), Param("operator", "choice", "eq", choices=FILTER_OPERATORS),
              Param("value", "text", ""))
    column: str = ""
    operator: str = "eq"
    value: str = ""

    def keep_rows(self, df: pd.DataFrame) -> pd.Series:
        col = df[self.column]
        if self.operator == "missing":
            return col.isna()
        if self.operator == "present":
            return col.notna()
        if self.operator == "contains":
            return col.astype("str").str.contains(self.value, regex=False, na=False)
        value: Any = self.value
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            number = tf.to_number(pd.Series([self.value])).iloc[0]
            if pd.isna(number):
                raise UserError("recipe.filter_not_number", column=self.column, value=self.value)
            value = number
        elif pd.api.types.is_datetime64_any_dtype(col):
            value = pd.to_datetime(self.value, errors="coerce")
            if pd.isna(value):
                raise UserError("recipe.filter_not_date", column=self.column, value=self.value)
        elif pd.api.types.is_bool_dtype(col):
            value = tf.to_boolean(pd.Series([self.value])).iloc[0]
        else:
            col = col.astype("str")
        ops = {"eq": col.__eq__, "ne": col.__ne__, "gt": col.__gt__, "ge": col.__ge__, "lt": col.__lt__,
               "le": col.__le__}
        try:
            return ops[self.operator](value).fillna(False).astype(bool)
        except TypeError:
            raise UserError("recipe.filter_not_number", column=self.column, value=self.value) from None


