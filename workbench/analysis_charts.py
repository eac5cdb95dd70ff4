"""Plotly figures for the tasks without a target: choosing k, the k-distance curve, the dendrogram, clusters on
a 2-D map, anomaly scores, principal components, and forecasts with their backtests and intervals."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench.charts import COLOUR, _finish
from workbench.clustering import NOISE
from workbench.i18n import t

BAND80, BAND95, BACKTEST = "rgba(31,119,180,0.30)", "rgba(31,119,180,0.15)", "#FF7F0E"


def cluster_name(cluster: int | str) -> str:
    """'Cluster 2', or 'Noise' for the rows DBSCAN left out (-1)."""
    return t("cluster.noise") if int(cluster) == NOISE else t("cluster.name", cluster=int(cluster))


def choose_k(curve: pd.DataFrame, best: int) -> go.Figure:
    """The elbow (k-means inertia) and the silhouette against k, the suggested k marked."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=curve["k"], y=curve["inertia"], mode="lines+markers", name=t("cluster.inertia"),
                             marker_color=COLOUR), secondary_y=False)
    fig.add_trace(go.Scatter(x=curve["k"], y=curve["silhouette"], mode="lines+markers",
                             name=t("cluster.score.silhouette"), marker_color=BACKTEST), secondary_y=True)
    fig.add_vline(x=best, line_dash="dot", annotation_text=t("cluster.suggested_k", k=best))
    fig.update_xaxes(title="k", dtick=1)
    fig.update_yaxes(title=t("cluster.inertia"), secondary_y=False)
    fig.update_yaxes(title=t("cluster.score.silhouette"), secondary_y=True)
    return _finish(fig, t("cluster.chart.choose_k"), False)


def k_distance(curve: np.ndarray, eps: float, min_samples: int) -> go.Figure:
    """Each row's distance to its min_samples-th neighbour, sorted; the knee suggests DBSCAN's eps."""
    fig = go.Figure(go.Scatter(y=curve, mode="lines", line_color=COLOUR))
    fig.add_hline(y=eps, line_dash="dot", annotation_text=t("cluster.suggested_eps", eps=f"{eps:.3g}"))
    fig.update_xaxes(title=t("cluster.rows_sorted"))
    fig.update_yaxes(title=t("cluster.distance_to", k=min_samples))
    return _finish(fig, t("cluster.chart.k_distance"), False)


def dendrogram(data: dict[str, Any]) -> go.Figure:
    """The merge tree of a sample of rows (scipy's coordinates drawn as lines)."""
    fig = go.Figure()
    for xs, ys in zip(data["icoord"], data["dcoord"]):
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=COLOUR, width=1), hoverinfo="skip",
                                 showlegend=False))
    fig.update_xaxes(showticklabels=False, title=t("cluster.dendrogram_rows", rows=data["rows"]))
    fig.update_yaxes(title=t("cluster.merge_distance"))
    return _finish(fig, t("cluster.chart.dendrogram"), False)


def cluster_map(points: pd.DataFrame, method: str) -> go.Figure:
    """Rows on two dimensions, coloured by cluster (noise in grey)."""
    fig = go.Figure()
    for cluster in sorted(points["cluster"].unique()):
        part = points[points["cluster"] == cluster]
        name = cluster_name(cluster)
        fig.add_trace(go.Scattergl(x=part["x"], y=part["y"], mode="markers", name=name,
                                   marker=dict(size=5, opacity=0.7, color="lightgrey" if cluster == NOISE else None),
                                   customdata=part["row"], hovertemplate=t("cluster.hover_row") + "<extra></extra>"))
    fig.update_xaxes(title=f"{method} 1")
    fig.update_yaxes(title=f"{method} 2")
    return _finish(fig, t("cluster.chart.map", method=method), False, height=480)


def cluster_sizes(sizes: dict[str, int]) -> go.Figure:
    fig = go.Figure(go.Bar(x=[cluster_name(k) for k in sizes], y=list(sizes.values()), marker_color=COLOUR))
    fig.update_yaxes(title=t("cluster.rows"))
    return _finish(fig, t("cluster.chart.sizes"), False, height=320)


def anomaly_scores(scores: np.ndarray, cut: float) -> go.Figure:
    """The distribution of scores, with the threshold above which rows are flagged."""
    fig = go.Figure(go.Histogram(x=scores, nbinsx=60, marker_color=COLOUR))
    fig.add_vline(x=cut, line_dash="dot", line_color="#D62728", annotation_text=t("anomaly.threshold"))
    fig.update_xaxes(title=t("anomaly.score"))
    fig.update_yaxes(title=t("cluster.rows"))
    return _finish(fig, t("anomaly.chart.scores"), False, height=320)


def explained_variance(explained: pd.DataFrame) -> go.Figure:
    """Variance explained per component (bars) and in total (line)."""
    fig = go.Figure(go.Bar(x=explained["component"], y=explained["ratio"], marker_color=COLOUR,
                           name=t("pca.each")))
    fig.add_trace(go.Scatter(x=explained["component"], y=explained["cumulative"], mode="lines+markers",
                             name=t("pca.cumulative"), line_color=BACKTEST))
    fig.update_yaxes(title=t("pca.share"), tickformat=".0%", range=[0, 1.05])
    return _finish(fig, t("pca.chart.variance"), False)


def loadings(loadings: pd.DataFrame, components: int = 5) -> go.Figure:
    """How much each prepared column weighs in the first components."""
    shown = loadings.head(components)
    fig = go.Figure(go.Heatmap(z=shown.to_numpy(), x=[str(c) for c in shown.columns], y=list(shown.index),
                               colorscale="RdBu", zmid=0))
    return _finish(fig, t("pca.chart.loadings"), False, height=max(300, 60 * len(shown) + 160))


def biplot(scores: pd.DataFrame, loadings: pd.DataFrame, arrows: int = 8) -> go.Figure:
    """Rows on the first two components, with the columns that weigh most as arrows."""
    fig = go.Figure(go.Scattergl(x=scores["PC1"], y=scores["PC2"], mode="markers", name=t("cluster.rows"),
                                 marker=dict(size=4, opacity=0.5, color=COLOUR)))
    if len(loadings) >= 2:
        strength = (loadings.iloc[0] ** 2 + loadings.iloc[1] ** 2).sort_values(ascending=False).head(arrows)
        reach = float(np.abs(scores[["PC1", "PC2"]]).max().max() or 1.0)
        for name in strength.index:
            x, y = loadings.at["PC1", name] * reach, loadings.at["PC2", name] * reach
            fig.add_annotation(x=x, y=y, ax=0, ay=0, axref="x", ayref="y", text=str(name), showarrow=True,
                               arrowhead=2, arrowcolor="#D62728")
    fig.update_xaxes(title="PC1")
    fig.update_yaxes(title="PC2")
    return _finish(fig, t("pca.chart.biplot"), False, height=480)


def forecast(part: dict[str, Any], target: str) -> go.Figure:
    """History, each backtest fold's forecast, and the future forecast with its 80% and 95% intervals."""
    future = part["forecast"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=future["dates"] + future["dates"][::-1], y=future["upper95"] + future["lower95"][::-1],
                             fill="toself", fillcolor=BAND95, line=dict(width=0), name=t("forecast.interval95"),
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=future["dates"] + future["dates"][::-1], y=future["upper80"] + future["lower80"][::-1],
                             fill="toself", fillcolor=BAND80, line=dict(width=0), name=t("forecast.interval80"),
                             hoverinfo="skip"))
    history = part["history"]
    fig.add_trace(go.Scatter(x=history["dates"], y=history["values"], mode="lines", name=t("forecast.history"),
                             line=dict(color="#444", width=1.5)))
    for i, fold in enumerate(part["backtest"]):
        fig.add_trace(go.Scatter(x=fold["dates"], y=fold["forecast"], mode="lines", name=t("forecast.backtest"),
                                 line=dict(color=BACKTEST, dash="dot"), showlegend=i == 0,
                                 legendgroup="backtest"))
    fig.add_trace(go.Scatter(x=future["dates"], y=future["values"], mode="lines", name=t("forecast.future"),
                             line=dict(color=COLOUR, width=2.5)))
    fig.update_yaxes(title=target)
    return _finish(fig, t("forecast.chart", target=target), False, height=460)
