"""Learned steps: fitted on the training rows only, inside the model's pipeline."""

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
from workbench.recipe import LEARNED, Param, Step, register
from workbench.steps._common import NUMERIC, TEXT, _numeric
from workbench.steps.rows import _OutlierStep

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




@register
@dataclass
class ReduceDimensions(Step):
    """Principal components of some numeric columns replace them (pca0, pca1, …); missing values are filled
    with the median and the columns scaled first, all learned on the training rows."""

    kind = "pca"
    sort = LEARNED
    PARAMS = (Param("columns", "columns", kinds=NUMERIC), Param("components", "integer", 2, minimum=1, maximum=50))
    columns: list[str] = field(default_factory=list)
    components: int = 2

    def check(self, df: pd.DataFrame) -> None:
        super().check(df)
        _numeric(df, self.columns, self)
        if int(self.components) > len(self.columns):
            raise UserError("recipe.pca_too_many", components=int(self.components), columns=len(self.columns))

    def transformer(self) -> Any:
        from sklearn.decomposition import PCA
        from sklearn.pipeline import make_pipeline

        inner = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(),
                              PCA(n_components=int(self.components), random_state=0))
        return tf.OnColumns(inner, list(self.columns))
