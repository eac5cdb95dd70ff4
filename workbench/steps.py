"""The cleaning steps a recipe can hold. Adding a step is adding a registered class here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.experimental import enable_iterative_imputer  # noqa: F401  (makes IterativeImputer importable)
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.preprocessing import (
    FunctionTransformer,
    KBinsDiscretizer,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    PowerTransformer,
    RobustScaler,
    StandardScaler,
    TargetEncoder,
)

from workbench import transformers as tf
from workbench.errors import UserError
from workbench.recipe import LEARNED, ROW, STEP_TYPES, Param, Step, register

NUMERIC, TEXT, DATETIME = ("numeric",), ("text",), ("datetime",)
OUTLIER_METHODS = ("iqr", "zscore")


def _numeric(df: pd.DataFrame, columns: list[str], step: Step) -> None:
    bad = [c for c in columns if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])]
    if bad:
        raise UserError("recipe.needs_numbers", step=step.title(), columns=", ".join(bad))


# ---------------------------------------------------------------- row steps


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


# ---------------------------------------------------------------- column steps


@register
@dataclass
class DropColumns(Step):
    kind = "drop_columns"
    PARAMS = (Param("columns", "columns"),)
    columns: list[str] = field(default_factory=list)

    def transformer(self) -> Any:
        return tf.DropColumns(list(self.columns))


@register
@dataclass
class RenameColumns(Step):
    kind = "rename_columns"
    PARAMS = (Param("renames", "mapping"),)
    renames: dict[str, str] = field(default_factory=dict)

    def check(self, df: pd.DataFrame) -> None:
        super().check(df)
        if not self.renames:
            raise UserError("recipe.no_columns", step=self.title())
        after = [self.renames.get(c, c) for c in df.columns]
        if len(set(after)) != len(after) or any(not str(v).strip() for v in self.renames.values()):
            raise UserError("recipe.bad_new_name")

    def transformer(self) -> Any:
        return tf.RenameColumns(dict(self.renames))


CAST_TYPES = ("number", "category", "boolean", "datetime", "text")


@register
@dataclass
class CastColumns(Step):
    kind = "cast_columns"
    PARAMS = (Param("columns", "columns"), Param("to", "choice", "number", choices=CAST_TYPES))
    columns: list[str] = field(default_factory=list)
    to: str = "number"

    def transformer(self) -> Any:
        return tf.CastColumns(list(self.columns), self.to)


@register
@dataclass
class DateParts(Step):
    kind = "date_parts"
    PARAMS = (Param("column", "column", kinds=DATETIME),
              Param("parts", "multichoice", ["year", "month", "day", "weekday"], choices=tf.DATE_PARTS),
              Param("drop", "bool", True))
    column: str = ""
    parts: list[str] = field(default_factory=lambda: ["year", "month", "day", "weekday"])
    drop: bool = True

    def columns_used(self) -> list[str]:
        return [self.column]

    def check(self, df: pd.DataFrame) -> None:
        super().check(df)
        if not self.parts:
            raise UserError("recipe.no_columns", step=self.title())
        if tf.cast(df[self.column], "datetime").notna().sum() == 0:
            raise UserError("recipe.not_dates", column=self.column)

    def transformer(self) -> Any:
        return tf.DateParts(self.column, list(self.parts), self.drop)


@register
@dataclass
class ElapsedDays(Step):
    kind = "elapsed_days"
    PARAMS = (Param("column", "column", kinds=DATETIME), Param("reference", "text", "2000-01-01"),
              Param("drop", "bool", True))
    column: str = ""
    reference: str = "2000-01-01"
    drop: bool = True

    def check(self, df: pd.DataFrame) -> None:
        super().check(df)
        if pd.isna(pd.to_datetime(self.reference, errors="coerce")):
            raise UserError("recipe.bad_date", value=self.reference)
        if tf.cast(df[self.column], "datetime").notna().sum() == 0:
            raise UserError("recipe.not_dates", column=self.column)

    def transformer(self) -> Any:
        return tf.ElapsedDays(self.column, self.reference, self.drop)


@register
@dataclass
class TrimText(Step):
    kind = "trim_text"
    PARAMS = (Param("columns", "columns", kinds=TEXT), Param("normalise", "bool", True))
    columns: list[str] = field(default_factory=list)
    normalise: bool = True

    def transformer(self) -> Any:
        return tf.TrimText(list(self.columns), self.normalise)


@register
@dataclass
class Formula(Step):
    kind = "formula"
    PARAMS = (Param("a", "column", kinds=NUMERIC), Param("op", "choice", "divide", choices=tuple(tf.OPERATIONS)),
              Param("b", "column", kinds=NUMERIC), Param("name", "text", ""))
    a: str = ""
    op: str = "divide"
    b: str = ""
    name: str = ""

    def check(self, df: pd.DataFrame) -> None:
        super().check(df)
        _numeric(df, [self.a, self.b], self)
        if not self.name.strip():
            raise UserError("recipe.bad_new_name")
        if self.name in df.columns:
            raise UserError("recipe.column_exists", column=self.name)
        if self.op == "divide":
            zeros = int((tf.to_number(df[self.b]) == 0).sum())
            if zeros:
                raise UserError("recipe.division_by_zero", column=self.b, count=zeros)

    def transformer(self) -> Any:
        return tf.Formula(self.a, self.op, self.b, self.name.strip())


@register
@dataclass
class MapValues(Step):
    kind = "map_values"
    PARAMS = (Param("column", "column", kinds=TEXT), Param("mapping", "mapping"))
    column: str = ""
    mapping: dict[str, str] = field(default_factory=dict)

    def check(self, df: pd.DataFrame) -> None:
        super().check(df)
        if not self.mapping:
            raise UserError("recipe.empty_mapping")

    def transformer(self) -> Any:
        return tf.MapValues(self.column, dict(self.mapping))


# ---------------------------------------------------------------- learned steps

IMPUTE = ("median", "mean", "most_frequent", "constant", "knn", "iterative")


@register
@dataclass
class Impute(Step):
    kind = "impute"
    sort = LEARNED
    PARAMS = (Param("columns", "columns"), Param("strategy", "choice", "median", choices=IMPUTE),
              Param("fill_value", "text", ""), Param("indicator", "bool", False))
    columns: list[str] = field(default_factory=list)
    strategy: str = "median"
    fill_value: str = ""
    indicator: bool = False

    def check(self, df: pd.DataFrame) -> None:
        super().check(df)
        if self.strategy in ("median", "mean", "knn", "iterative"):
            _numeric(df, self.columns, self)
        empty = [c for c in self.columns if df[c].notna().sum() == 0]
        if empty and self.strategy != "constant":
            raise UserError("recipe.all_missing", columns=", ".join(empty))

    def transformer(self) -> Any:
        if self.strategy == "knn":
            inner: Any = KNNImputer()
        elif self.strategy == "iterative":
            inner = IterativeImputer(random_state=0)
        elif self.strategy == "constant":
            value: Any = self.fill_value
            try:
                value = float(value)
            except ValueError:
                pass
            inner = SimpleImputer(strategy="constant", fill_value=value, keep_empty_features=True)
        else:
            inner = SimpleImputer(strategy=self.strategy)
        steps = [tf.OnColumns(inner, list(self.columns))]
        if self.indicator:
            steps.insert(0, tf.OnColumns(tf.MissingFlags(), list(self.columns), keep_input=True))
        return steps[0] if len(steps) == 1 else _chain(steps)


def _chain(steps: list[Any]) -> Any:
    from sklearn.pipeline import make_pipeline

    return make_pipeline(*steps)


@register
@dataclass
class GroupRare(Step):
    kind = "group_rare"
    sort = LEARNED
    PARAMS = (Param("columns", "columns", kinds=TEXT), Param("min_share", "number", 0.01, minimum=0.0, maximum=0.5))
    columns: list[str] = field(default_factory=list)
    min_share: float = 0.01

    def transformer(self) -> Any:
        return tf.RareLevels(list(self.columns), self.min_share)


ENCODINGS = ("onehot", "ordinal", "target")


@register
@dataclass
class Encode(Step):
    kind = "encode"
    sort = LEARNED
    PARAMS = (Param("columns", "columns", kinds=TEXT), Param("method", "choice", "onehot", choices=ENCODINGS),
              Param("target_column", "column", optional=True))
    columns: list[str] = field(default_factory=list)
    method: str = "onehot"
    target_column: str = ""

    def columns_used(self) -> list[str]:
        return list(self.columns) + ([self.target_column] if self.method == "target" and self.target_column else [])

    def check(self, df: pd.DataFrame) -> None:
        super().check(df)
        if self.method == "target" and not self.target_column:
            raise UserError("recipe.needs_target")
        too_many = [c for c in self.columns if df[c].nunique() > 200]
        if self.method == "onehot" and too_many:
            raise UserError("recipe.too_many_levels", columns=", ".join(too_many))

    def target(self) -> str | None:
        return self.target_column if self.method == "target" else None

    def transformer(self) -> Any:
        text = tf.TextImputer(list(self.columns))
        if self.method == "onehot":
            inner: Any = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        elif self.method == "ordinal":
            inner = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        else:
            inner = TargetEncoder(random_state=0)
        return _chain([text, tf.OnColumns(inner, list(self.columns))])


SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}


@register
@dataclass
class Scale(Step):
    kind = "scale"
    sort = LEARNED
    PARAMS = (Param("columns", "columns", kinds=NUMERIC), Param("method", "choice", "standard", choices=tuple(SCALERS)))
    columns: list[str] = field(default_factory=list)
    method: str = "standard"

    def check(self, df: pd.DataFrame) -> None:
        super().check(df)
        _numeric(df, self.columns, self)

    def transformer(self) -> Any:
        return tf.OnColumns(SCALERS[self.method](), list(self.columns))


TRANSFORMS = ("log", "box-cox", "yeo-johnson")


@register
@dataclass
class Transform(Step):
    kind = "transform"
    sort = LEARNED
    PARAMS = (Param("columns", "columns", kinds=NUMERIC), Param("method", "choice", "log", choices=TRANSFORMS))
    columns: list[str] = field(default_factory=list)
    method: str = "log"

    def check(self, df: pd.DataFrame) -> None:
        super().check(df)
        _numeric(df, self.columns, self)
        for c in self.columns:
            low = df[c].min()
            if self.method == "log" and low < 0:
                raise UserError("recipe.needs_non_negative", column=c)
            if self.method == "box-cox" and low <= 0:
                raise UserError("recipe.needs_positive", column=c)

    def transformer(self) -> Any:
        if self.method == "log":
            inner: Any = FunctionTransformer(np.log1p, inverse_func=np.expm1, feature_names_out="one-to-one")
        else:
            inner = PowerTransformer(method=self.method)
        return tf.OnColumns(inner, list(self.columns))


@register
@dataclass
class Bin(Step):
    kind = "bin"
    sort = LEARNED
    PARAMS = (Param("columns", "columns", kinds=NUMERIC), Param("bins", "integer", 5, minimum=2, maximum=50),
              Param("method", "choice", "quantile", choices=("quantile", "uniform")))
    columns: list[str] = field(default_factory=list)
    bins: int = 5
    method: str = "quantile"

    def check(self, df: pd.DataFrame) -> None:
        super().check(df)
        _numeric(df, self.columns, self)
        gaps = [c for c in self.columns if df[c].isna().any()]
        if gaps:
            raise UserError("recipe.impute_first", columns=", ".join(gaps))

    def transformer(self) -> Any:
        extra = {"quantile_method": "averaged_inverted_cdf"} if self.method == "quantile" else {}
        inner = KBinsDiscretizer(n_bins=int(self.bins), encode="ordinal", strategy=self.method, **extra)
        return tf.OnColumns(inner, list(self.columns))


@register
@dataclass
class ClipOutliers(_OutlierStep):
    kind = "clip_outliers"

    def transformer(self) -> Any:
        return tf.ClipOutliers(list(self.columns), self.method, self.threshold)


@register
@dataclass
class FlagOutliers(_OutlierStep):
    kind = "flag_outliers"

    def transformer(self) -> Any:
        return tf.FlagOutliers(list(self.columns), self.method, self.threshold)


def i18n_keys() -> set[str]:
    """Every catalogue key the step forms and summaries ask for (the i18n test checks them)."""
    keys: set[str] = set()
    for cls in STEP_TYPES.values():
        keys |= {f"step.{cls.kind}.name", f"step.{cls.kind}.help"}
        for p in cls.PARAMS:
            keys.add(p.label_key)
            if p.type in ("choice", "multichoice"):
                keys |= {f"choice.{c}" for c in p.choices}
    return keys
