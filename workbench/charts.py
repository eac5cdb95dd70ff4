"""Plotly figure builders: a DataFrame and options in, a go.Figure out, labels in the current language.

Large tables stay responsive: counts and histograms are aggregated here on every
row; charts that draw each point (scatter, box, violin, pair plot) use a random
sample of MAX_POINTS rows, say so in their title, and draw with WebGL.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from workbench.i18n import t
from workbench.coltypes import column_kind
from workbench.stats import association, is_number, whole_numbers

MAX_POINTS = 100_000
MATRIX_POINTS = 5_000
TOP_CATEGORIES = 20
COLOUR = "#4C78A8"
METHOD_KEYS = {"pearson": "chart.method.pearson", "spearman": "chart.method.spearman"}
AGGREGATE_KEYS = {"mean": "chart.agg.mean", "sum": "chart.agg.sum", "median": "chart.agg.median",
                  "min": "chart.agg.min", "max": "chart.agg.max", "count": "chart.agg.count"}


def _sample(df: pd.DataFrame, limit: int = MAX_POINTS) -> tuple[pd.DataFrame, bool]:
    if len(df) <= limit:
        return df, False
    return df.sample(limit, random_state=0), True


def _finish(fig: go.Figure, title: str, sampled: bool, limit: int = MAX_POINTS, height: int = 420) -> go.Figure:
    if sampled:
        title += " · " + t("chart.sampled", n=f"{limit:,}")
    fig.update_layout(title=title, height=height, margin=dict(l=50, r=20, t=60, b=50), legend_title_text="")
    return fig


def _labels(series: pd.Series) -> pd.Series:
    return series.astype("str").where(series.notna(), t("chart.missing_value"))


def histogram(df: pd.DataFrame, x: str, color: str | None = None, bins: int = 40) -> go.Figure:
    """Distribution of a numeric or date column (every row counted), optionally split by a column."""
    values = df[x]
    if not (is_number(values) or pd.api.types.is_datetime64_any_dtype(values)):
        return bar_counts(df, x, color)
    present = values.dropna()
    if present.empty:
        return _finish(go.Figure(), t("chart.histogram", column=x), False)
    numeric = present.astype("int64") if pd.api.types.is_datetime64_any_dtype(present) else present.astype("float64")
    edges = np.histogram_bin_edges(numeric, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    if pd.api.types.is_datetime64_any_dtype(present):
        centres = pd.to_datetime(centres.astype("int64"), unit=None).astype(present.dtype)
    groups = [(None, numeric)] if not color else [
        (str(level), numeric[_labels(df.loc[numeric.index, color]) == level])
        for level in _labels(df.loc[numeric.index, color]).value_counts().index[:TOP_CATEGORIES]]
    fig = go.Figure()
    most = 0
    for name, part in groups:
        counts, _ = np.histogram(part, bins=edges)
        most = max(most, int(counts.max()) if len(counts) else 0)
        fig.add_trace(go.Bar(x=centres, y=counts, name=name or x, width=np.diff(edges) if name is None else None,
                             marker_color=COLOUR if name is None else None, opacity=1 if name is None else 0.7))
    fig.update_layout(barmode="overlay" if color else "relative", bargap=0.02, xaxis_title=x,
                      yaxis_title=t("chart.count"), showlegend=bool(color))
    fig.update_yaxes(tickformat=",d", dtick=1 if most <= 10 else None)  # counts are whole: no 0.5 ticks
    return _finish(fig, t("chart.histogram", column=x), False)


def discrete(values: pd.Series, levels: int = 10) -> bool:
    """A column to colour by category: text, yes/no, or a few whole numbers (0/1 flags, codes 1-5)."""
    if not is_number(values):
        return True
    present = values.dropna()
    return present.nunique() <= levels and whole_numbers(present)


def worth_plotting(df: pd.DataFrame) -> int:
    """The position of the first column worth a first chart: a number or category that is not an ID, a date or
    a free text; 0 when there is none."""
    for i, name in enumerate(df.columns):
        if column_kind(df[name], str(name)) in ("integer", "float", "categorical", "boolean"):
            return i
    return 0


def column_distribution(col: pd.Series, kind: str) -> go.Figure:
    """The profile's small chart: a histogram for numbers and dates, counts for the rest."""
    frame = col.to_frame()
    name = str(col.name)
    if kind in ("integer", "float", "datetime", "id") and not (kind == "integer" and col.nunique() <= 20):
        fig = histogram(frame, name)
    else:
        fig = bar_counts(frame, name, sort_by_value=kind == "integer")
    fig.update_layout(height=320, title=t("chart.distribution", column=name))
    return fig


def bar_counts(df: pd.DataFrame, column: str, color: str | None = None, sort_by_value: bool = False) -> go.Figure:
    """Rows per value of a column (the 20 most frequent), optionally stacked by a second column."""
    labels = _labels(df[column])
    top = labels.value_counts().head(TOP_CATEGORIES)
    order = sorted(top.index, key=_numeric_first) if sort_by_value else list(top.index)
    if color:
        table = pd.crosstab(labels, _labels(df[color])).reindex(order)
        fig = go.Figure([go.Bar(x=order, y=table[c].to_numpy(), name=str(c)) for c in table.columns])
        fig.update_layout(barmode="stack")
    else:
        fig = go.Figure(go.Bar(x=order, y=top.reindex(order).to_numpy(), marker_color=COLOUR))
    fig.update_layout(xaxis_title=column, yaxis_title=t("chart.count"), xaxis_type="category")
    return _finish(fig, t("chart.counts", column=column), False)


def _numeric_first(label: str) -> tuple[float, str]:
    """Sort key: numbers by value, then any text (such as '(missing)') after them."""
    number = pd.to_numeric(label, errors="coerce")
    return (float(number) if pd.notna(number) else float("inf"), label)


def box(df: pd.DataFrame, y: str, by: str | None = None, violin: bool = False) -> go.Figure:
    """Box (or violin) plot of a numeric column, optionally one per value of another column."""
    frame, sampled = _sample(df[[y] + ([by] if by else [])].dropna(subset=[y]))
    x = _labels(frame[by]) if by else None
    if violin:
        fig = go.Figure(go.Violin(x=x, y=frame[y], box_visible=True, line_color=COLOUR, points=False))
    else:
        fig = go.Figure(go.Box(x=x, y=frame[y], marker_color=COLOUR, boxpoints="outliers"))
    fig.update_layout(yaxis_title=y, xaxis_title=by or "")
    key = "chart.violin" if violin else "chart.box"
    return _finish(fig, t(key, column=y), sampled)


def scatter(df: pd.DataFrame, x: str, y: str, color: str | None = None, size: str | None = None,
            trend: bool = False) -> go.Figure:
    """Scatter of two columns with optional colour, size and a least-squares trend line."""
    cols = list(dict.fromkeys(c for c in (x, y, color, size) if c))
    frame, sampled = _sample(df[cols].dropna(subset=[x, y]))
    plot = frame.copy()
    if color and discrete(plot[color]):
        plot[color] = _labels(plot[color])
    if size:
        plot[size] = pd.to_numeric(plot[size], errors="coerce").fillna(0).clip(lower=0)
    fig = px.scatter(plot, x=x, y=y, color=color, size=size, render_mode="webgl", opacity=0.7)
    if trend and is_number(frame[x]) and is_number(frame[y]) and len(frame) > 1:
        slope, intercept = np.polyfit(frame[x].astype(float), frame[y].astype(float), 1)
        xs = np.linspace(frame[x].min(), frame[x].max(), 50)
        fig.add_trace(go.Scatter(x=xs, y=slope * xs + intercept, mode="lines", name=t("chart.trend"),
                                 line=dict(color="#E45756", width=2)))
    return _finish(fig, t("chart.scatter", x=x, y=y), sampled)


def scatter_matrix(df: pd.DataFrame, columns: list[str], color: str | None = None) -> go.Figure:
    """Pair plot of chosen columns (at most 6), on a sample of MATRIX_POINTS rows."""
    columns = columns[:6]
    frame, sampled = _sample(df[list(dict.fromkeys(columns + ([color] if color else [])))], MATRIX_POINTS)
    plot = frame.copy()
    if color:
        plot[color] = _labels(plot[color])
    fig = px.scatter_matrix(plot, dimensions=columns, color=color, opacity=0.6)
    fig.update_traces(diagonal_visible=False, marker=dict(size=3))
    return _finish(fig, t("chart.pairs"), sampled, MATRIX_POINTS, height=180 * len(columns) + 80)


def correlation_heatmap(df: pd.DataFrame, columns: list[str] | None = None, method: str = "pearson") -> go.Figure:
    """Heatmap of association() between the chosen columns (every column when none are chosen)."""
    matrix = association(df, columns, method)
    fig = go.Figure(go.Heatmap(z=matrix.to_numpy(), x=list(matrix.columns), y=list(matrix.index), zmin=-1, zmax=1,
                               colorscale="RdBu", reversescale=True, text=matrix.round(2).to_numpy(),
                               texttemplate="%{text}", hoverongaps=False))
    fig.update_layout(yaxis_autorange="reversed")
    return _finish(fig, t("chart.correlation", method=t(METHOD_KEYS[method])), len(df) > MAX_POINTS,
                   height=max(420, 32 * len(matrix) + 120))


def line_over_time(df: pd.DataFrame, date: str, y: str, agg: str = "mean", freq: str | None = None,
                   color: str | None = None) -> go.Figure:
    """A numeric column over a date column, aggregated per period (every row counted)."""
    when = df[date] if pd.api.types.is_datetime64_any_dtype(df[date]) else pd.to_datetime(
        df[date].astype("str"), errors="coerce", format="mixed")
    frame = pd.DataFrame({"when": when, "y": pd.to_numeric(df[y], errors="coerce")}).dropna()
    if color:
        frame["group"] = _labels(df.loc[frame.index, color])
    freq = freq or _frequency(frame["when"])
    keys = [pd.Grouper(key="when", freq=freq)] + (["group"] if color else [])
    series = frame.groupby(keys)["y"].agg(agg).reset_index()
    fig = px.line(series, x="when", y="y", color="group" if color else None, markers=len(series) < 200)
    fig.update_layout(xaxis_title=date, yaxis_title=f"{y} ({t(AGGREGATE_KEYS[agg])})")
    return _finish(fig, t("chart.over_time", y=y, date=date), False)


def _frequency(when: pd.Series) -> str:
    span = (when.max() - when.min()) / max(when.nunique(), 1) if len(when) else pd.Timedelta(days=1)
    if span >= pd.Timedelta(days=300):
        return "YS"
    if span >= pd.Timedelta(days=25):
        return "MS"
    if span >= pd.Timedelta(days=6):
        return "W"
    if span >= pd.Timedelta(hours=20):
        return "D"
    return "h"


def target_view(df: pd.DataFrame, target: str, feature: str) -> go.Figure:
    """How a feature relates to the target: scatter, box per class, or class shares per category."""
    target_num, feature_num = is_number(df[target]) and df[target].nunique() > 10, is_number(df[feature])
    if target_num and feature_num:
        fig = scatter(df, feature, target, trend=True)
    elif target_num:
        fig = box(df, target, by=feature)
    elif feature_num:
        fig = box(df, feature, by=target)
    else:
        shares = pd.crosstab(_labels(df[feature]), _labels(df[target]), normalize="index")
        shares = shares.loc[_labels(df[feature]).value_counts().index[:TOP_CATEGORIES]]
        fig = go.Figure([go.Bar(x=list(shares.index), y=shares[c].to_numpy(), name=str(c)) for c in shares.columns])
        fig.update_layout(barmode="stack", yaxis_title=t("chart.share"), xaxis_title=feature,
                          xaxis_type="category")
    fig.update_layout(title=t("chart.target_view", target=target, feature=feature))
    return fig


def missing_map(df: pd.DataFrame, rows: int = 500) -> go.Figure:
    """Where values are missing: one row of cells per (sampled) table row, one column per column."""
    frame = df if len(df) <= rows else df.iloc[np.linspace(0, len(df) - 1, rows).astype(int)]
    fig = go.Figure(go.Heatmap(z=frame.isna().to_numpy().astype(int), x=[str(c) for c in df.columns],
                               y=list(range(len(frame))), colorscale=[[0, "#EEEEEE"], [1, "#E45756"]], showscale=False,
                               zmin=0, zmax=1))
    fig.update_layout(yaxis_title=t("chart.row"), yaxis_autorange="reversed")
    return _finish(fig, t("chart.missing_map"), len(df) > rows, rows)


# ---------------------------------------------------------------- evaluation


def confusion_heatmap(matrix: pd.DataFrame, normalised: bool = False) -> go.Figure:
    """Confusion matrix: true classes down, predicted across."""
    text = matrix.round(2) if normalised else matrix
    fig = go.Figure(go.Heatmap(z=matrix.to_numpy(), x=list(matrix.columns), y=list(matrix.index), colorscale="Blues",
                               text=text.to_numpy(), texttemplate="%{text}", showscale=False))
    fig.update_layout(xaxis_title=t("chart.predicted"), yaxis_title=t("chart.actual"), yaxis_autorange="reversed",
                      xaxis_type="category", yaxis_type="category")
    return _finish(fig, t("chart.confusion"), False, height=140 + 45 * len(matrix))


CURVE_AXES = {"roc": ("fpr", "tpr", "chart.roc", "chart.fpr", "chart.tpr"),
              "pr": ("recall", "precision", "chart.pr", "chart.recall", "chart.precision"),
              "calibration": ("predicted", "observed", "chart.calibration", "chart.mean_predicted", "chart.observed")}


def curve(curves: dict[str, pd.DataFrame], kind: str) -> go.Figure:
    """ROC, precision-recall or calibration curves, one line per class, with the no-skill reference."""
    x, y, title, x_label, y_label = CURVE_AXES[kind]
    fig = go.Figure([go.Scatter(x=frame[x], y=frame[y], mode="lines+markers" if kind == "calibration" else "lines",
                                name=name) for name, frame in curves.items()])
    if kind != "pr":
        fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dash", color="grey"),
                                 name=t("chart.reference")))
    fig.update_layout(xaxis_title=t(x_label), yaxis_title=t(y_label), xaxis_range=[0, 1], yaxis_range=[0, 1.02])
    return _finish(fig, t(title), False)


def cv_scores(scores: dict[str, list[float]], metric: str) -> go.Figure:
    """Cross-validation score per fold, one box per experiment."""
    fig = go.Figure([go.Box(y=values, name=name, boxpoints="all") for name, values in scores.items()])
    fig.update_layout(yaxis_title=metric, showlegend=False)
    return _finish(fig, t("chart.cv_scores"), False, height=340)


def predicted_vs_actual(residuals: pd.DataFrame) -> go.Figure:
    """Predicted against actual values with the perfect-prediction line."""
    both = residuals[["actual", "predicted"]]
    low, high = float(both.min().min()), float(both.max().max())
    fig = go.Figure([go.Scattergl(x=residuals["actual"], y=residuals["predicted"], mode="markers", opacity=0.6,
                                  name=t("chart.predicted")),
                     go.Scatter(x=[low, high], y=[low, high], mode="lines", line=dict(dash="dash", color="grey"),
                                name=t("chart.reference"))])
    fig.update_layout(xaxis_title=t("chart.actual"), yaxis_title=t("chart.predicted"), showlegend=False)
    return _finish(fig, t("chart.predicted_vs_actual"), False)


def residual_plot(residuals: pd.DataFrame) -> go.Figure:
    """Residuals (actual - predicted) against predictions: a pattern means something is missed."""
    fig = go.Figure([go.Scattergl(x=residuals["predicted"], y=residuals["residual"], mode="markers", opacity=0.6)])
    fig.add_hline(y=0, line_dash="dash", line_color="grey")
    fig.update_layout(xaxis_title=t("chart.predicted"), yaxis_title=t("chart.residual"))
    return _finish(fig, t("chart.residuals"), False)


def learning_curve(curve: pd.DataFrame, metric: str) -> go.Figure:
    """Training and validation score by training rows, with one standard deviation as a band."""
    fig = go.Figure()
    for column, name_key, colour in (("train", "chart.training_score", "#4C78A8"),
                                     ("valid", "chart.validation_score", "#E45756")):
        mean, sd = curve[f"{column}_mean"], curve[f"{column}_sd"]
        fig.add_trace(go.Scatter(x=curve["rows"], y=mean + sd, mode="lines", line=dict(width=0), showlegend=False,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=curve["rows"], y=mean - sd, mode="lines", line=dict(width=0), fill="tonexty",
                                 opacity=0.2, showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=curve["rows"], y=mean, mode="lines+markers", name=t(name_key),
                                 line=dict(color=colour)))
    fig.update_layout(xaxis_title=t("chart.training_rows"), yaxis_title=metric)
    return _finish(fig, t("chart.learning_curve"), False)


def loss_curve(curve: list[dict], best_epoch: int | None = None) -> go.Figure:
    """A network's training and validation loss per epoch; the best epoch (whose weights are kept) marked."""
    frame = pd.DataFrame(curve)
    fig = go.Figure()
    if not frame.empty:
        fig.add_trace(go.Scatter(x=frame["epoch"], y=frame["loss"], mode="lines+markers", name=t("chart.loss"),
                                 line=dict(color="#4C78A8")))
        if frame["val_loss"].notna().any():
            fig.add_trace(go.Scatter(x=frame["epoch"], y=frame["val_loss"], mode="lines+markers",
                                     name=t("chart.val_loss"), line=dict(color="#E45756")))
    if best_epoch:
        fig.add_vline(x=best_epoch, line_dash="dot", annotation_text=t("chart.best_epoch"))
    fig.update_layout(xaxis_title=t("chart.epoch"), yaxis_title=t("chart.loss"))
    return _finish(fig, t("chart.loss_curve"), False, height=320)


def class_probabilities(proba: dict[str, float]) -> go.Figure:
    """One prediction's probability of each class, as horizontal bars on 0..1."""
    fig = go.Figure(go.Bar(x=list(proba.values()), y=list(proba), orientation="h", marker_color=COLOUR))
    fig.update_layout(height=60 + 28 * len(proba), margin=dict(l=10, r=10, t=10, b=10),
                      xaxis=dict(range=[0, 1], title=t("text.probability")))
    return fig


def history_rows(history: dict) -> list[dict]:
    """A stored network history ({"loss": [...], "val_loss": [...]}) as the rows loss_curve() draws."""
    val = history.get("val_loss") or []
    return [{"epoch": i + 1, "loss": loss, "val_loss": val[i] if i < len(val) else None}
            for i, loss in enumerate(history.get("loss", []))]


def best_over_time(timeline: list[tuple[float, float]], elapsed: float, metric: str) -> go.Figure:
    """The best cross-validated score found so far, as a step line over the search's seconds."""
    xs = [x for x, _ in timeline] + ([elapsed] if timeline else [])
    ys = [y for _, y in timeline] + ([timeline[-1][1]] if timeline else [])
    fig = go.Figure(go.Scatter(x=xs, y=ys, mode="lines+markers", line=dict(shape="hv", color=COLOUR)))
    fig.update_layout(xaxis_title=t("chart.seconds"), yaxis_title=metric)
    return _finish(fig, t("chart.best_over_time"), False, height=320)


def pareto_front(board: pd.DataFrame, metric: str, lower_is_better: bool) -> go.Figure:
    """Every pipeline's score against its number of steps; the Pareto front (no simpler pipeline scores as
    well) is drawn as a line."""
    front = pareto(board, lower_is_better)
    fig = go.Figure([
        go.Scatter(x=board["complexity"], y=board["score"], mode="markers", text=board["name"],
                   marker=dict(color=[COLOUR if s == "tpot" else "#F58518" for s in board["source"]], size=8,
                               opacity=0.7), name=t("chart.pipelines"), hoverinfo="text+y"),
        go.Scatter(x=front["complexity"], y=front["score"], mode="lines+markers", line=dict(shape="hv", color="red"),
                   name=t("chart.pareto")),
    ])
    fig.update_layout(xaxis_title=t("chart.complexity"), yaxis_title=metric)
    return _finish(fig, t("chart.pareto_title"), False, height=340)


def pareto(board: pd.DataFrame, lower_is_better: bool) -> pd.DataFrame:
    """The rows no other row beats on both score and complexity (fewer steps), simplest first."""
    if board.empty:
        return board
    sign = -1.0 if lower_is_better else 1.0
    best_by_size = board.assign(_s=sign * board["score"]).sort_values(["complexity", "_s"], ascending=[True, False])
    rows, best = [], -np.inf
    for _, row in best_by_size.drop_duplicates("complexity").iterrows():
        if row["_s"] > best:
            rows.append(row)
            best = row["_s"]
    return pd.DataFrame(rows).drop(columns="_s")


def monitor_timeline(timeline: pd.DataFrame, metric_name: str) -> go.Figure:
    """Per batch (monitor.timeline): the share of columns that drifted (bars, left) and performance (line,
    right: measured where the batch had true values, estimated otherwise), with the test rows' value."""
    from plotly.subplots import make_subplots

    fig = make_subplots(specs=[[{"secondary_y": True}]])
    if not timeline.empty:
        share = timeline["drifted"] / timeline["columns"].where(timeline["columns"] > 0)
        colours = np.where(timeline["alarm"], "#E45756", COLOUR)
        fig.add_trace(go.Bar(x=timeline["batch"], y=share, name=t("chart.monitor.drifted"), marker_color=colours,
                             customdata=timeline[["drifted", "rows"]],
                             hovertemplate=t("chart.monitor.hover") + "<extra></extra>"), secondary_y=False)
        for measured, key, dash in ((True, "chart.monitor.measured", "solid"),
                                    (False, "chart.monitor.estimated", "dot")):
            part = timeline[timeline["measured"] == measured].dropna(subset=["value"])
            if not part.empty:
                fig.add_trace(go.Scatter(x=part["batch"], y=part["value"], mode="lines+markers",
                                         name=f"{metric_name} ({t(key)})", line=dict(color="#54A24B", dash=dash)),
                              secondary_y=True)
        tests = timeline["test"].dropna()
        if not tests.empty:
            fig.add_trace(go.Scatter(x=timeline["batch"], y=[float(tests.iloc[0])] * len(timeline), mode="lines",
                                     name=t("chart.monitor.test"), line=dict(color="#999999", dash="dash")),
                          secondary_y=True)
    fig.update_yaxes(title_text=t("chart.monitor.drifted"), range=[0, 1], tickformat=".0%", secondary_y=False)
    fig.update_yaxes(title_text=metric_name, secondary_y=True)
    # a batch named "2026-12-01" is one bar, not a moment on a time axis
    fig.update_layout(xaxis_title=t("chart.monitor.batch"), xaxis_type="category")
    return _finish(fig, t("chart.monitor.title"), False, height=380)
