"""Plotly figure builders: data in, go.Figure out, labels in the current language."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from workbench.i18n import t

MAX_POINTS = 100_000
TOP_CATEGORIES = 20


def column_distribution(col: pd.Series, kind: str) -> go.Figure:
    """Histogram for numbers and dates, bar chart of the most frequent values otherwise."""
    values = col.dropna()
    name = str(col.name)
    sampled = len(values) > MAX_POINTS
    if sampled:
        values = values.sample(MAX_POINTS, random_state=0)
    few_levels = kind == "integer" and values.nunique() <= 20
    if kind in ("integer", "float", "datetime", "id") and not few_levels and (
            pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values)):
        fig = go.Figure(go.Histogram(x=values, nbinsx=40, marker_color="#4C78A8", name=name))
    else:
        counts = values.value_counts().head(TOP_CATEGORIES)
        if few_levels:
            counts = counts.sort_index()
        counts.index = counts.index.astype(str)
        fig = go.Figure(go.Bar(x=counts.index.tolist(), y=counts.to_numpy(), marker_color="#4C78A8", name=name))
    title = t("chart.distribution", column=name)
    if sampled:
        title += " · " + t("chart.sampled", n=f"{MAX_POINTS:,}")
    fig.update_layout(title=title, xaxis_title=name, yaxis_title=t("chart.count"), bargap=0.05,
                      height=320, margin=dict(l=40, r=10, t=50, b=40))
    return fig


def missing_by_column(missing_pct: dict[str, float]) -> go.Figure:
    """Bar chart of the share of missing cells per column."""
    items = sorted(missing_pct.items(), key=lambda kv: -kv[1])
    fig = go.Figure(go.Bar(x=[k for k, _ in items], y=[v for _, v in items], marker_color="#E45756"))
    fig.update_layout(title=t("chart.missing"), yaxis_title=t("chart.missing_pct"), yaxis_range=[0, 100],
                      height=300, margin=dict(l=40, r=10, t=50, b=40))
    return fig
