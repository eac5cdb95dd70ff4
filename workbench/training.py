"""From a recipe and a catalogue entry to one scikit-learn Pipeline that takes the raw uploaded columns.

Pipeline = recipe (column and learned steps) -> ModelReady (booleans, dates)
-> preparation of what the recipe left raw (median imputation and, for models
that need it, scaling of numbers; a 'missing' level and one-hot encoding of
categories, rare levels pooled) -> the model.
"""

from __future__ import annotations

from typing import Any

from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from workbench.models import CATALOGUE
from workbench.recipe import Recipe
from workbench.transformers import ModelReady

MAX_LEVELS = 30  # one-hot columns per category; rarer levels are pooled as 'infrequent'


def preparation(scaled: bool) -> ColumnTransformer:
    """Impute (and scale) numbers, impute and one-hot encode categories; column kinds are read at fit time."""
    numbers = [SimpleImputer(strategy="median", keep_empty_features=True)] + ([StandardScaler()] if scaled else [])
    categories = [SimpleImputer(strategy="constant", fill_value="missing"),
                  OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_LEVELS, min_frequency=5,
                                sparse_output=False)]
    return ColumnTransformer(
        [("numbers", make_pipeline(*numbers), make_column_selector(dtype_include="number")),
         ("categories", make_pipeline(*categories), make_column_selector(dtype_exclude="number"))],
        verbose_feature_names_out=False,
    )


def build_pipeline(recipe: Recipe, model_id: str, task: str, params: dict[str, Any] | None = None,
                   seed: int = 0, balanced: bool = False) -> Pipeline:
    """The whole pipeline, unfitted: raw columns in, prediction out."""
    spec = CATALOGUE[model_id]
    return Pipeline([
        ("recipe", recipe.to_sklearn()),
        ("ready", ModelReady()),
        ("prepare", preparation(spec.scaled)),
        ("model", spec.estimator(task, params, seed, balanced)),
    ])
