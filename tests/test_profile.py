"""Dataset profiles and the warnings shown before modelling."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.conftest import sample_bytes
from workbench.charts import column_distribution
from workbench.io import read_table
from workbench.profile import profile_dataset


def _keys(profile, column=None):
    return {w.key for w in profile.warnings if column is None or w.params.get("column") == column}


def test_titanic_overview_numbers_match_pandas():
    df, report = read_table(sample_bytes("titanic.csv"), "titanic.csv")
    profile = profile_dataset(df, report.column_kinds)
    assert (profile.rows, profile.columns) == (891, 15)
    assert profile.missing_cells == int(df.isna().sum().sum())
    assert profile.duplicate_rows == int(df.duplicated().sum())
    age = next(c for c in profile.column_profiles if c.name == "age")
    assert age.missing == 177 and age.stats["median"] == df["age"].median()
    sex = next(c for c in profile.column_profiles if c.name == "sex")
    assert sex.top == [("male", 577), ("female", 314)]
    assert "profile.warn.mostly_missing" in _keys(profile, "deck")
    assert "profile.warn.skewed" in _keys(profile, "fare")


def test_warnings_for_constant_empty_id_correlated_dates_and_imbalance():
    rng = np.random.default_rng(0)
    n = 400
    x = rng.normal(size=n)
    df = pd.DataFrame({
        "customer_id": np.arange(n),
        "constant": ["same"] * n,
        "empty": [np.nan] * n,
        "x": x,
        "x_again": x * 2 + rng.normal(scale=0.01, size=n),
        "signup": pd.Series(pd.date_range("2024-01-01", periods=n).strftime("%d %b %Y"), dtype="str"),
        "churn": ["no"] * (n - 8) + ["yes"] * 8,
        "city": pd.Series([f"city {i % 120}" for i in range(n)], dtype="str"),
    })
    profile = profile_dataset(df)
    assert "profile.warn.id_like" in _keys(profile, "customer_id")
    assert "profile.warn.constant" in _keys(profile, "constant")
    assert "profile.warn.all_missing" in _keys(profile, "empty")
    assert "profile.warn.date_as_text" in _keys(profile, "signup")
    assert "profile.warn.imbalanced" in _keys(profile, "churn")
    assert "profile.warn.high_cardinality" in _keys(profile, "city")
    pairs = [w.params for w in profile.warnings if w.key == "profile.warn.correlated"]
    assert pairs == [{"a": "x", "b": "x_again", "r": 1.0}]


def test_clean_numeric_table_has_no_warnings():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    assert profile_dataset(df).warnings == []


def test_japanese_column_names_are_kept_in_profile_and_chart():
    df, report = read_table(sample_bytes("tips_ja_cp932.csv"), "tips.csv")
    profile = profile_dataset(df, report.column_kinds)
    assert [c.name for c in profile.column_profiles] == df.columns.tolist()
    fig = column_distribution(df["チップ（ドル）"], "float")
    assert fig.layout.xaxis.title.text == "チップ（ドル）"
    assert "チップ（ドル）" in fig.layout.title.text
    assert sum(fig.data[0].y) == df["チップ（ドル）"].notna().sum()


def test_distribution_chart_for_categories_and_small_integers_is_a_bar_chart():
    df, _ = read_table(sample_bytes("titanic.csv"), "titanic.csv")
    for column, kind in [("class", "categorical"), ("pclass", "integer")]:
        fig = column_distribution(df[column], kind)
        assert fig.data[0].type == "bar"
        assert sum(fig.data[0].y) == df[column].notna().sum()


def test_large_column_histogram_counts_every_row_in_few_bars():
    col = pd.Series(np.arange(250_000, dtype=float), name="v")
    fig = column_distribution(col, "float")
    assert sum(fig.data[0].y) == 250_000 and len(fig.data[0].x) == 40
