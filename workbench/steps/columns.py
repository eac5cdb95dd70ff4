"""Column steps: stateless, the same on training rows and on new rows at prediction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from workbench import transformers as tf
from workbench.errors import UserError
from workbench.recipe import Param, Step, register
from workbench.steps._common import DATETIME, NUMERIC, TEXT, _numeric


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


