"""Plotly figures for explanations: importance bars, beeswarm, dependence, waterfall, partial dependence and
ICE curves, and fairness by group. SHAP's own plots are matplotlib; these are built from the values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench.charts import COLOUR, _finish
from workbench.explain import Explanation
from workbench.i18n import readable, t
from workbench.stats import is_number

UNIT_KEYS = {"log_odds": "explain.unit.log_odds", "probability": "explain.unit.probability",
             "target": "explain.unit.target"}
TOP = 20
UP, DOWN = "#D62728", "#1F77B4"
CATEGORY_COLOURS = ["#4C78A8", "#F58518", "#54A24B", "#B279A2", "#E45756", "#72B7B2", "#EECA3B", "#9D755D"]


def shap_bar(explanation: Explanation, k: int = 0) -> go.Figure:
    """Mean |SHAP| per uploaded column, largest on top."""
    importance = explanation.importance(k).head(TOP)[::-1]
    fig = go.Figure(go.Bar(x=importance.values, y=importance.index.astype(str), orientation="h",
                           marker_color=COLOUR))
    fig.update_xaxes(title=t("explain.mean_abs", unit=t(UNIT_KEYS[explanation.unit])))
    return _finish(fig, t("explain.chart.bar", output=explanation.outputs[k]), False,
                   height=max(300, 26 * len(importance) + 120))


def _colour_scale(values: pd.Series) -> np.ndarray:
    """Each row's value of a column as 0..1 (rank for numbers, code order for categories), NaN for missing."""
    if is_number(values):
        ranks = values.rank(pct=True)
    else:
        codes = values.astype("category").cat.codes.astype(float).replace(-1, np.nan)
        ranks = codes / max(1.0, codes.max())
    return ranks.to_numpy(dtype=float, na_value=np.nan)


def beeswarm(explanation: Explanation, k: int = 0) -> go.Figure:
    """One dot per row and column: its SHAP value, coloured by the column's value: numbers from low (blue) to high
    (red); categories (and yes/no columns) each in a colour of their own, named on hover, never on a low-high
    scale."""
    order = explanation.importance(k).head(TOP).index[::-1]
    rng = np.random.default_rng(0)
    fig = go.Figure()
    raws = {c: explanation.rows[c] if c in explanation.rows.columns else pd.Series(np.nan, index=explanation.rows.index)
            for c in order}
    numeric = [c for c in order if is_number(raws[c]) and raws[c].nunique() > 2]
    for position, column in enumerate(order):
        j = explanation.columns.index(column)
        shap_values = explanation.values[k][:, j]
        raw = raws[column]
        if column in numeric:
            marker = dict(size=5, color=_colour_scale(raw), colorscale="RdBu_r", cmin=0, cmax=1,
                          showscale=column == numeric[-1],
                          colorbar=dict(title=t("explain.feature_value"), tickvals=[0, 1],
                                        ticktext=[t("explain.low"), t("explain.high")]))
        else:
            codes = raw.astype(str).where(raw.notna()).astype("category").cat.codes.to_numpy()
            marker = dict(size=5, color=[CATEGORY_COLOURS[c % len(CATEGORY_COLOURS)] if c >= 0 else "#BBBBBB"
                                         for c in codes])
        fig.add_trace(go.Scattergl(
            x=shap_values, y=position + rng.uniform(-0.3, 0.3, len(shap_values)), mode="markers", marker=marker,
            text=[f"{column} = {v}" for v in raw.astype(str)], hoverinfo="text+x", showlegend=False))
    fig.update_yaxes(tickvals=list(range(len(order))), ticktext=[str(c) for c in order])
    fig.update_xaxes(title=t("explain.shap_value", unit=t(UNIT_KEYS[explanation.unit])), zeroline=True)
    return _finish(fig, t("explain.chart.beeswarm", output=explanation.outputs[k]), False,
                   height=max(350, 28 * len(order) + 120))


def dependence(explanation: Explanation, column: str, colour: str | None = None, k: int = 0) -> go.Figure:
    """A column's value against its SHAP value, optionally coloured by another column."""
    j = explanation.columns.index(column)
    x = explanation.rows[column] if column in explanation.rows.columns else pd.Series(dtype=float)
    marker: dict[str, Any] = dict(size=6, color=COLOUR, opacity=0.7)
    if colour and colour in explanation.rows.columns:
        marker.update(color=_colour_scale(explanation.rows[colour]), colorscale="RdBu_r", showscale=True,
                      colorbar=dict(title=colour, tickvals=[0, 1], ticktext=[t("explain.low"), t("explain.high")]))
    fig = go.Figure(go.Scattergl(x=x.astype(str) if x.dtype == object or str(x.dtype) == "str" else x,
                                 y=explanation.values[k][:, j], mode="markers", marker=marker))
    fig.update_xaxes(title=column)
    fig.update_yaxes(title=t("explain.shap_value", unit=t(UNIT_KEYS[explanation.unit])))
    return _finish(fig, t("explain.chart.dependence", column=column, output=explanation.outputs[k]), False)


def waterfall(explanation: Explanation, row: int = 0, k: int = 0, top: int = 12) -> go.Figure:
    """From the base value, each column's push up or down to this row's output; small ones pooled."""
    values = pd.Series(explanation.values[k][row], index=explanation.columns)
    order = values.abs().sort_values(ascending=False).index
    shown, rest = order[:top], order[top:]
    raw = explanation.rows.iloc[row]
    labels = [f"{c} = {raw[c]}" if c in raw.index else str(c) for c in shown]
    steps = list(values[shown])
    if len(rest):
        labels.append(t("explain.other_columns", n=len(rest)))
        steps.append(float(values[rest].sum()))
    base = float(explanation.base[k])
    fig = go.Figure(go.Waterfall(
        orientation="h", y=[t("explain.base_value")] + labels[::-1] + [t("explain.output")],
        x=[base] + steps[::-1] + [0.0], measure=["absolute"] + ["relative"] * len(steps) + ["total"],
        increasing=dict(marker_color=UP), decreasing=dict(marker_color=DOWN),
        totals=dict(marker_color=COLOUR), textposition="outside",
        text=[readable(base, 3)] + [("+" if s >= 0 else "") + readable(s, 3) for s in steps[::-1]] +
        [readable(float(explanation.output[k][row]), 3)]))
    fig.update_xaxes(title=t(UNIT_KEYS[explanation.unit]))
    return _finish(fig, t("explain.chart.waterfall", output=explanation.outputs[k]), False,
                   height=max(350, 30 * len(labels) + 160))


def permutation_bars(importance: pd.DataFrame, metric: str) -> go.Figure:
    """Permutation importance with one standard deviation as error bars."""
    top = importance.head(TOP)[::-1]
    fig = go.Figure(go.Bar(x=top["mean"], y=top["column"].astype(str), orientation="h", marker_color=COLOUR,
                           error_x=dict(type="data", array=top["sd"], visible=True)))
    fig.update_xaxes(title=t("explain.permutation_axis", metric=metric))
    return _finish(fig, t("explain.chart.permutation"), False, height=max(300, 26 * len(top) + 120))


def partial_dependence(data: dict[str, Any], k: int = 0) -> go.Figure:
    """One column: the average curve over thin ICE curves; two columns: a heatmap of the average."""
    columns, grid, average = data["columns"], data["grid"], np.asarray(data["average"])
    output = data["outputs"][k] if k < len(data["outputs"]) else data["outputs"][0]
    if len(columns) == 2:
        fig = go.Figure(go.Heatmap(z=average[k].T, x=[str(v) for v in grid[0]], y=[str(v) for v in grid[1]],
                                   colorscale="Viridis", colorbar=dict(title=output)))
        fig.update_xaxes(title=columns[0])
        fig.update_yaxes(title=columns[1])
        return _finish(fig, t("explain.chart.pdp2", a=columns[0], b=columns[1], output=output), False)
    x = [str(v) for v in grid[0]] if not np.issubdtype(np.asarray(grid[0]).dtype, np.number) else grid[0]
    fig = go.Figure()
    for curve in np.asarray(data.get("individual", np.empty((1, 0, 0))))[k]:
        fig.add_trace(go.Scatter(x=x, y=curve, mode="lines", line=dict(color="rgba(76,120,168,0.15)", width=1),
                                 hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=x, y=average[k], mode="lines+markers", line=dict(color=UP, width=3),
                             name=t("explain.average")))
    fig.update_xaxes(title=columns[0])
    fig.update_yaxes(title=output)
    return _finish(fig, t("explain.chart.pdp", column=columns[0], output=output), False)


def fairness_bars(by_group: pd.DataFrame, metric: str, label: str) -> go.Figure:
    """One metric per group."""
    fig = go.Figure(go.Bar(x=by_group.index.astype(str), y=by_group[metric], marker_color=COLOUR,
                           text=[f"{v:.3g}" for v in by_group[metric]], textposition="outside"))
    fig.update_yaxes(title=label)
    fig.update_xaxes(title=str(by_group.index.name))
    return _finish(fig, t("explain.chart.fairness", metric=label), False)
