"""Every chart builder on real data: right trace, every row counted or a stated sample, labels kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import sample_bytes
from workbench import charts
from workbench.i18n import set_language
from workbench.io import read_table
from workbench.stats import association


@pytest.fixture(scope="module")
def tips_ja() -> pd.DataFrame:
    return read_table(sample_bytes("tips_ja_cp932.csv"), "tips.csv")[0]


def test_histogram_counts_every_row_and_splits_by_colour(titanic):
    fig = charts.histogram(titanic, "age")
    assert sum(fig.data[0].y) == titanic["age"].notna().sum()
    split = charts.histogram(titanic, "age", color="sex")
    assert {t.name for t in split.data} == {"male", "female"}
    assert sum(sum(t.y) for t in split.data) == titanic["age"].notna().sum()


def test_histogram_of_text_falls_back_to_counts(titanic):
    fig = charts.histogram(titanic, "embark_town")
    assert fig.data[0].type == "bar" and "(missing)" in list(fig.data[0].x)


def test_box_violin_and_scatter_with_trend(titanic):
    assert charts.box(titanic, "fare", by="class").data[0].type == "box"
    assert charts.box(titanic, "fare", violin=True).data[0].type == "violin"
    fig = charts.scatter(titanic, "age", "fare", color="sex", size="parch", trend=True)
    assert fig.data[0].type == "scattergl" and fig.data[-1].name == "trend (least squares)"


def test_scatter_matrix_uses_chosen_columns(titanic):
    fig = charts.scatter_matrix(titanic, ["age", "fare", "sibsp"], color="survived")
    assert [d.label for d in fig.data[0].dimensions] == ["age", "fare", "sibsp"]


def test_association_measures_against_hand_computed_values(titanic):
    matrix = association(titanic, ["fare", "pclass", "sex", "survived", "alive"])
    assert matrix.loc["fare", "pclass"] == pytest.approx(titanic["fare"].corr(titanic["pclass"]))
    assert matrix.loc["survived", "alive"] == pytest.approx(1.0)  # the same fact twice: leakage shows
    # correlation ratio of fare by sex, computed by hand
    groups = titanic.groupby("sex")["fare"]
    between = (groups.count() * (groups.mean() - titanic["fare"].mean()) ** 2).sum()
    total = ((titanic["fare"] - titanic["fare"].mean()) ** 2).sum()
    assert matrix.loc["sex", "fare"] == pytest.approx(np.sqrt(between / total))
    spearman = association(titanic, ["age", "fare"], "spearman")
    assert spearman.loc["age", "fare"] == pytest.approx(titanic["age"].corr(titanic["fare"], method="spearman"))
    assert charts.correlation_heatmap(titanic, ["age", "fare", "sex"]).data[0].type == "heatmap"


def test_counts_line_over_time_target_view_and_missing_map(titanic):
    counts = charts.bar_counts(titanic, "class", color="survived")
    assert sum(sum(t.y) for t in counts.data) == len(titanic)
    flights = read_table(sample_bytes("flights.csv"), "flights.csv")[0]
    flights["when"] = pd.to_datetime(flights["year"].astype(str) + "-" + flights["month"], format="%Y-%B")
    line = charts.line_over_time(flights, "when", "passengers", "sum")
    assert len(line.data[0].x) == 144 and sum(line.data[0].y) == flights["passengers"].sum()
    yearly = charts.line_over_time(flights, "when", "passengers", "sum", freq="YS")
    assert len(yearly.data[0].x) == 12
    assert charts.target_view(titanic, "survived", "fare").data[0].type == "box"
    shares = charts.target_view(titanic, "survived", "class")
    assert np.allclose(np.sum([t.y for t in shares.data], axis=0), 1.0)
    missing = charts.missing_map(titanic, rows=1000)
    assert np.asarray(missing.data[0].z).sum() == titanic.isna().to_numpy().sum()
    assert "sample of 500" in charts.missing_map(titanic).layout.title.text  # 891 rows drawn as 500


def test_large_tables_are_sampled_and_say_so():
    rng = np.random.default_rng(0)
    big = pd.DataFrame({"x": rng.normal(size=250_000), "y": rng.normal(size=250_000)})
    fig = charts.scatter(big, "x", "y")
    assert len(fig.data[0].x) == charts.MAX_POINTS and "random sample of 100,000 rows" in fig.layout.title.text
    assert "sample" not in charts.histogram(big, "x").layout.title.text  # counted in full


def test_titles_follow_the_language_and_keep_japanese_names(tips_ja):
    set_language("ja")
    try:
        fig = charts.histogram(tips_ja, "チップ（ドル）")
        assert fig.layout.title.text == "チップ（ドル） のヒストグラム"
        assert fig.layout.yaxis.title.text == "行数"
    finally:
        set_language("en")
    assert charts.histogram(tips_ja, "チップ（ドル）").layout.title.text == "Histogram of チップ（ドル）"
