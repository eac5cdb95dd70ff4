"""Dataset and column profiles, and the warnings a person should read before modelling."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.coltypes import column_kind
from workbench.i18n import Note

CORRELATION_LIMIT = 0.95
SKEW_LIMIT = 2.0
HIGH_CARDINALITY = 50
IMBALANCE_SHARE = 0.05
TARGET_LEVELS = 10
_CORR_ROWS = 100_000
_DATE_SAMPLE = 500


@dataclass(frozen=True)
class ColumnProfile:
    """Summary of one column; `stats` for numbers and dates, `top` for categories."""

    name: str
    kind: str
    dtype: str
    missing: int
    missing_pct: float
    unique: int
    stats: dict[str, Any] = field(default_factory=dict)
    top: list[tuple[Any, int]] = field(default_factory=list)


@dataclass(frozen=True)
class DatasetProfile:
    """Overview of a dataset, its columns and its warnings."""

    rows: int
    columns: int
    memory_bytes: int
    kind_counts: dict[str, int]
    missing_cells: int
    missing_pct: float
    duplicate_rows: int
    column_profiles: list[ColumnProfile]
    warnings: list[Note]


def profile_dataset(df: pd.DataFrame, kinds: dict[str, str] | None = None) -> DatasetProfile:
    """Return the profile of `df`; `kinds` (from the import report) saves re-deriving column kinds."""
    kinds = {c: (kinds or {}).get(c) or column_kind(df[c], c) for c in df.columns}
    columns = [_profile_column(df[c], kinds[c]) for c in df.columns]
    cells = df.size or 1
    missing = int(df.isna().sum().sum())
    duplicates = int(df.duplicated().sum()) if len(df) else 0
    counts: dict[str, int] = {}
    for kind in kinds.values():
        counts[kind] = counts.get(kind, 0) + 1
    warnings = _warnings(df, columns, duplicates)
    return DatasetProfile(
        rows=len(df), columns=df.shape[1], memory_bytes=int(df.memory_usage(deep=True).sum()),
        kind_counts=counts, missing_cells=missing, missing_pct=round(100 * missing / cells, 2),
        duplicate_rows=duplicates, column_profiles=columns, warnings=warnings,
    )


def _profile_column(col: pd.Series, kind: str) -> ColumnProfile:
    n = len(col)
    missing = int(col.isna().sum())
    values = col.dropna()
    unique = int(values.nunique())
    stats: dict[str, Any] = {}
    top: list[tuple[Any, int]] = []
    if kind in ("integer", "float", "id") and pd.api.types.is_numeric_dtype(col) and not values.empty:
        numbers = values.astype("float64")
        stats = {
            "min": float(numbers.min()), "max": float(numbers.max()), "mean": float(numbers.mean()),
            "median": float(numbers.median()), "std": float(numbers.std()) if len(numbers) > 1 else 0.0,
            "skew": float(numbers.skew()) if len(numbers) > 2 else 0.0,
        }
    elif kind == "datetime" and not values.empty:
        stats = {"min": values.min().isoformat(), "max": values.max().isoformat()}
    if kind in ("categorical", "boolean", "text", "id") or (kind == "integer" and unique <= 20):
        counts = values.value_counts().head(10)
        top = [(_plain(k), int(v)) for k, v in counts.items()]
    return ColumnProfile(
        name=str(col.name), kind=kind, dtype=str(col.dtype), missing=missing,
        missing_pct=round(100 * missing / n, 2) if n else 0.0, unique=unique, stats=stats, top=top,
    )


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _warnings(df: pd.DataFrame, columns: list[ColumnProfile], duplicates: int) -> list[Note]:
    out: list[Note] = []
    n = len(df)
    if duplicates:
        out.append(Note("profile.warn.duplicates", {"count": duplicates}))
    for c in columns:
        p = {"column": c.name}
        if c.kind == "empty":
            out.append(Note("profile.warn.all_missing", p))
            continue
        if c.unique == 1:
            out.append(Note("profile.warn.constant", p))
        elif c.missing_pct >= 50:
            out.append(Note("profile.warn.mostly_missing", {**p, "pct": c.missing_pct}))
        if c.kind == "id":
            out.append(Note("profile.warn.id_like", p))
        if c.kind == "categorical" and c.unique > HIGH_CARDINALITY and c.unique > 0.05 * n:
            out.append(Note("profile.warn.high_cardinality", {**p, "unique": c.unique}))
        if c.kind in ("integer", "float") and abs(c.stats.get("skew", 0.0)) > SKEW_LIMIT:
            out.append(Note("profile.warn.skewed", {**p, "skew": round(c.stats["skew"], 1)}))
        if c.kind in ("categorical", "text") and _looks_like_dates(df[c.name]):
            out.append(Note("profile.warn.date_as_text", p))
        if c.kind in ("categorical", "boolean", "integer") and 2 <= c.unique <= TARGET_LEVELS and c.top:
            value, count = min(c.top, key=lambda kv: kv[1])
            share = count / max(n - c.missing, 1)
            if share < IMBALANCE_SHARE and len(c.top) == c.unique:
                out.append(Note("profile.warn.imbalanced", {**p, "value": str(value), "pct": round(100 * share, 1)}))
    out.extend(_correlated_pairs(df, columns))
    return out


def _looks_like_dates(col: pd.Series) -> bool:
    sample = col.dropna().astype(str).head(_DATE_SAMPLE)
    if sample.empty or not sample.str.contains(r"\d").all():
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return parsed.notna().mean() >= 0.8


def _correlated_pairs(df: pd.DataFrame, columns: list[ColumnProfile]) -> list[Note]:
    numeric = [c.name for c in columns if c.kind in ("integer", "float") and c.unique > 1]
    if len(numeric) < 2:
        return []
    frame = df[numeric]
    if len(frame) > _CORR_ROWS:
        frame = frame.sample(_CORR_ROWS, random_state=0)
    corr = frame.astype("float64").corr().to_numpy()
    out = []
    for i in range(len(numeric)):
        for j in range(i + 1, len(numeric)):
            r = corr[i, j]
            if np.isfinite(r) and abs(r) >= CORRELATION_LIMIT:
                out.append(Note("profile.warn.correlated", {"a": numeric[i], "b": numeric[j], "r": round(float(r), 3)}))
    return out
