"""Explore page widgets: pick a chart, its columns and options; the figure comes from workbench.charts."""

from __future__ import annotations

from typing import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from workbench import charts
from workbench.i18n import t
from workbench.stats import is_number
from workbench.tasks import propose_target

CHARTS = ("histogram", "box", "violin", "scatter", "pairs", "correlation", "counts", "over_time", "target",
          "missing")
CHART_KEYS = {"histogram": "explore.chart.histogram", "box": "explore.chart.box", "violin": "explore.chart.violin",
              "scatter": "explore.chart.scatter", "pairs": "explore.chart.pairs",
              "correlation": "explore.chart.correlation", "counts": "explore.chart.counts",
              "over_time": "explore.chart.over_time", "target": "explore.chart.target",
              "missing": "explore.chart.missing"}


def _numeric(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if is_number(df[c])]


def _pick(label_key: str, options: list[str], key: str, optional: bool = False, index: int = 0) -> str | None:
    choices = ([""] if optional else []) + options
    value = st.selectbox(t(label_key), choices, key=key, index=min(index, len(choices) - 1) if choices else 0,
                         format_func=lambda c: c or t("clean.none"))
    return value or None


def _histogram(df: pd.DataFrame) -> go.Figure:
    x = _pick("explore.x", list(df.columns), "ex_hist_x", index=charts.worth_plotting(df))
    return charts.histogram(df, x, _pick("explore.colour", list(df.columns), "ex_hist_c", optional=True))


def _box(df: pd.DataFrame, violin: bool = False) -> go.Figure:
    y = _pick("explore.y", _numeric(df), "ex_box_y")
    return charts.box(df, y, _pick("explore.by", list(df.columns), "ex_box_by", optional=True), violin=violin)


def _scatter(df: pd.DataFrame) -> go.Figure:
    numbers = _numeric(df)
    x = _pick("explore.x", numbers, "ex_sc_x")
    y = _pick("explore.y", numbers, "ex_sc_y", index=1)
    colour = _pick("explore.colour", list(df.columns), "ex_sc_c", optional=True)
    size = _pick("explore.size", numbers, "ex_sc_s", optional=True)
    return charts.scatter(df, x, y, colour, size, trend=st.checkbox(t("explore.trend"), key="ex_sc_t"))


def _pairs(df: pd.DataFrame) -> go.Figure:
    numbers = _numeric(df)
    chosen = st.multiselect(t("explore.columns"), numbers, default=numbers[:4], max_selections=6, key="ex_pairs",
                            placeholder=t("widget.choose"))
    return charts.scatter_matrix(df, chosen or numbers[:4],
                                 _pick("explore.colour", list(df.columns), "ex_pairs_c", optional=True))


def _correlation(df: pd.DataFrame) -> go.Figure:
    chosen = st.multiselect(t("explore.columns"), list(df.columns), key="ex_corr", help=t("explore.corr_help"),
                            placeholder=t("widget.choose"))
    method = st.radio(t("explore.method"), list(charts.METHOD_KEYS), format_func=lambda m: t(charts.METHOD_KEYS[m]),
                      horizontal=True,
                      key="ex_corr_m")
    return charts.correlation_heatmap(df, chosen or None, method)


def _counts(df: pd.DataFrame) -> go.Figure:
    column = _pick("explore.x", list(df.columns), "ex_cnt_x")
    return charts.bar_counts(df, column, _pick("explore.colour", list(df.columns), "ex_cnt_c", optional=True))


def _over_time(df: pd.DataFrame) -> go.Figure:
    dates = [c for c in df.columns if pd.api.types.is_datetime64_any_dtype(df[c])] or list(df.columns)
    date = _pick("explore.date", dates, "ex_time_d")
    y = _pick("explore.y", _numeric(df), "ex_time_y")
    agg = st.selectbox(t("explore.agg"), list(charts.AGGREGATE_KEYS), format_func=lambda a: t(charts.AGGREGATE_KEYS[a]),
                       key="ex_time_a")
    return charts.line_over_time(df, date, y, agg, color=_pick("explore.colour", list(df.columns), "ex_time_c",
                                                                 optional=True))


def _target(df: pd.DataFrame, source: str = "") -> go.Figure:
    proposed = list(df.columns).index(propose_target(df, source)[0])
    target = _pick("explore.target", list(df.columns), "ex_tgt_t", index=proposed)
    feature = _pick("explore.feature", [c for c in df.columns if c != target], "ex_tgt_f")
    return charts.target_view(df, target, feature)


BUILDERS: dict[str, Callable[[pd.DataFrame], go.Figure]] = {
    "histogram": _histogram, "box": _box, "violin": lambda df: _box(df, violin=True), "scatter": _scatter,
    "pairs": _pairs, "correlation": _correlation, "counts": _counts, "over_time": _over_time, "target": _target,
    "missing": charts.missing_map,
}


def chart_panel(df: pd.DataFrame, source: str = "") -> None:
    """Choose a chart type and its options, then draw it; `source` is the file's name (the target view proposes
    the column it is named after, as the Model page does)."""
    kind = st.radio(t("explore.chart"), CHARTS, format_func=lambda c: t(CHART_KEYS[c]), horizontal=True,
                    key="ex_kind")
    if kind in ("box", "violin", "scatter", "pairs", "over_time") and not _numeric(df):
        st.info(t("explore.needs_numbers"))
        return
    options, figure = st.columns([1, 3])
    with options:
        fig = _target(df, source) if kind == "target" else BUILDERS[kind](df)
    figure.plotly_chart(fig, width="stretch", key="ex_figure")
