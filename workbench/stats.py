"""Statistics shared by charts, profiles and target checks."""

from __future__ import annotations

import numpy as np
import pandas as pd

SAMPLE = 100_000


def is_number(col: pd.Series) -> bool:
    """Numeric and not boolean."""
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def whole_numbers(values: pd.Series) -> bool:
    """Every value is a whole number (an integer column with a gap is read as floats: 4 becomes 4.0)."""
    return bool(len(values)) and bool(((values == values.round()) & (values.abs() < 2 ** 53)).all())


def association(df: pd.DataFrame, columns: list[str] | None = None, method: str = "pearson") -> pd.DataFrame:
    """Pairwise strength of relation, 0..1 (or -1..1 for numbers): Pearson or Spearman between numbers,
    Cramér's V between categories, the correlation ratio between a category and a number."""
    columns = columns or list(df.columns)
    frame = df[columns] if len(df) <= SAMPLE else df[columns].sample(SAMPLE, random_state=0)
    numeric = [c for c in columns if is_number(frame[c])]
    out = pd.DataFrame(np.nan, index=columns, columns=columns, dtype="float64")
    if numeric:
        out.loc[numeric, numeric] = frame[numeric].astype("float64").corr(method=method)
    for i, a in enumerate(columns):
        for b in columns[i:]:
            if a in numeric and b in numeric:
                continue
            value = 1.0 if a == b else _relation(frame[a], frame[b], a in numeric, b in numeric)
            out.loc[a, b] = out.loc[b, a] = value
    return out


def _relation(a: pd.Series, b: pd.Series, a_num: bool, b_num: bool) -> float:
    pair = pd.DataFrame({"a": a, "b": b}).dropna()
    if len(pair) < 3:
        return np.nan
    if not a_num and not b_num:
        from scipy.stats.contingency import association as cramer

        table = pd.crosstab(pair["a"].astype(str), pair["b"].astype(str))
        if min(table.shape) < 2:
            return 0.0
        return float(cramer(table.to_numpy(), method="cramer"))
    cat, num = (pair["a"], pair["b"]) if not a_num else (pair["b"], pair["a"])
    num = num.astype("float64")
    total = ((num - num.mean()) ** 2).sum()
    if total == 0:
        return 0.0
    groups = num.groupby(cat.astype(str))
    between = (groups.count() * (groups.mean() - num.mean()) ** 2).sum()
    return float(np.sqrt(between / total))
