"""Shared parts of the step modules: column-kind filters and checks."""

from __future__ import annotations

import pandas as pd

from workbench.errors import UserError
from workbench.recipe import Step

NUMERIC, TEXT, DATETIME = ("numeric",), ("text",), ("datetime",)
OUTLIER_METHODS = ("iqr", "zscore")


def _numeric(df: pd.DataFrame, columns: list[str], step: Step) -> None:
    bad = [c for c in columns if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])]
    if bad:
        raise UserError("recipe.needs_numbers", step=step.title(), columns=", ".join(bad))


