"""Results page widgets: the leaderboard, one experiment's metrics and plots, and a side-by-side comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from workbench import charts, jobs
from workbench import evaluation as ev
from workbench.evaluation import METRIC_KEYS
from workbench.experiments import latest_learning_curve, leaderboard, model_title, start
from workbench.i18n import t
from workbench.store import StoredExperiment
from workbench.tasks import BINARY, REGRESSION
from workbench.ui.core import PageContext, say


REPORT_KEYS = {"precision": "results.report.precision", "recall": "results.report.recall",
               "f1": "results.report.f1", "support": "results.report.support"}


def experiment_label(e: StoredExperiment) -> str:
    r = e.record
    score = r["metrics"].get(r["primary"])
    star = "★ " if e.chosen else ""
    return f"{star}{model_title(r)} · {t(METRIC_KEYS[r['primary']])} {score:.4f} · " \
           f"{e.created_at[:16].replace('T', ' ')}"


def _short(e: StoredExperiment) -> str:
    """A column heading that fits: the model's name and when it was trained."""
    return f"{model_title(e.record)} · {e.created_at[5:16].replace('T', ' ')}"


def board_view(experiments: list[StoredExperiment]) -> None:
    """The leaderboard, best first, with the baseline's score beside each model."""
    board = leaderboard(experiments)
    shown = pd.DataFrame({
        t("results.col.model"): [("★ " if chosen else "") + m for m, chosen in zip(board["title"], board["chosen"])],
        t("results.col.target"): board["target"],
        t("results.col.metric"): [t(METRIC_KEYS[m]) for m in board["metric"]],
        t("results.col.test"): board["test"].round(4),
        t("results.col.cv"): [f"{m:.4f} ± {s:.4f}" if pd.notna(m) else "—"  # networks: a validation split instead
                              for m, s in zip(board["cv_mean"], board["cv_sd"])],
        t("results.col.baseline"): board["baseline"].round(4),
        t("results.col.seconds"): board["seconds"].round(1),
        t("results.col.created"): board["created"],
    })
    st.dataframe(shown, hide_index=True, width="stretch")


def _metric_table(columns: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Metrics as rows, one column per model; a metric a model has no value for reads '—', not 'None'."""
    names = list(dict.fromkeys(m for values in columns.values() for m in values))
    return pd.DataFrame({label: [_cell(values.get(m)) for m in names] for label, values in columns.items()},
                        index=[t(METRIC_KEYS[m]) for m in names])


def _cell(value: float | None) -> str:
    return "—" if value is None or not np.isfinite(value) else f"{value:.4f}"


def details(ctx: PageContext, experiment: StoredExperiment) -> None:
    """Metrics beside the baseline, CV scores, and the plots for the task; threshold for binary tasks."""
    r = experiment.record
    task, classes = r["settings"]["task"], np.asarray(r["classes"])
    evaluation = ctx.store.experiment_evaluation(experiment.id)
    st.caption(say("results.sizes", train=r["n_train"], test=r["n_test"], seconds=round(r["seconds"], 1)))
    metrics_now = r["metrics"]
    if task != REGRESSION:
        y = evaluation["actual"].to_numpy()
        proba = evaluation[[f"probability_{c}" for c in classes]].to_numpy()
        if y.dtype == object or pd.api.types.is_string_dtype(y):
            y, classes = y.astype(str), classes.astype(str)
        if task == BINARY:
            threshold = st.slider(t("model.threshold"), 0.05, 0.95, float(r["settings"]["threshold"]), 0.05,
                                  key=f"threshold_{experiment.id}", help=t("model.threshold_help"))
            predicted = ev.predict_with_threshold(proba, classes, threshold)
        else:
            predicted = classes[np.argmax(proba, axis=1)]
        metrics_now = ev.classification_metrics(y, predicted, proba, classes)
    left, right = st.columns(2)
    left.dataframe(_metric_table({t("results.this_model"): metrics_now, t("results.baseline"): r["baseline"]}),
                   width="stretch")
    if r["cv_scores"]:
        right.plotly_chart(charts.cv_scores({model_title(r): r["cv_scores"]},
                                            t(METRIC_KEYS[r["primary"]])), width="stretch", key="cv_chart")
    elif (r.get("automl") or {}).get("stopped_early"):
        automl = r["automl"]
        right.caption(t("results.no_cv_stopped", metric=t(METRIC_KEYS[automl["metric"]]),
                        score=_cell(automl["cv_score"])))
    else:
        right.caption(t("results.no_cv"))
    if r.get("history"):
        st.plotly_chart(charts.loss_curve(charts.history_rows(r["history"]), r["history"]["best_epoch"]),
                        width="stretch", key="loss_curve")
        st.caption(say("results.best_epoch", epoch=r["history"]["best_epoch"], epochs=len(r["history"]["loss"])))
    if task == REGRESSION:
        residuals = ev.residuals(evaluation["actual"], evaluation["predicted"])
        a, b = st.columns(2)
        a.plotly_chart(charts.predicted_vs_actual(residuals), width="stretch", key="pred_actual")
        b.plotly_chart(charts.residual_plot(residuals), width="stretch", key="residual_plot")
        label = t("chart.residual")  # the column's name is the chart's title and axis: in the user's language
        st.plotly_chart(charts.histogram(residuals.rename(columns={"residual": label}), label), width="stretch",
                        key="residual_hist")
        return
    normalised = st.toggle(t("results.normalise"), key="normalise")
    matrix = ev.confusion(y, predicted, classes, normalise=normalised)
    a, b = st.columns(2)
    a.plotly_chart(charts.confusion_heatmap(matrix, normalised), width="stretch", key="confusion")
    report = ev.class_report(y, predicted, classes).round(3)
    report.columns = [t(REPORT_KEYS[c]) for c in report.columns]
    b.dataframe(report.rename_axis(t("results.report.class")), width="stretch")
    curves = ev.curves(y, proba, classes)
    for column, kind in zip(st.columns(3), ("roc", "pr", "calibration")):
        column.plotly_chart(charts.curve(curves[kind], kind), width="stretch", key=f"curve_{kind}")


def actions(ctx: PageContext, experiment: StoredExperiment) -> None:
    """Mark as the project's model, or delete (with confirmation)."""
    c1, c2, c3 = st.columns(3)
    if c1.button(t("results.choose"), key="choose", disabled=experiment.chosen or ctx.read_only,
                 icon=":material/star:"):
        ctx.store.choose_experiment(ctx.project.id, experiment.id)
        st.rerun()
    confirm = c2.checkbox(t("results.delete_confirm"), key=f"confirm_delete_{experiment.id}")
    if c3.button(t("results.delete"), key="delete_experiment", disabled=not confirm or ctx.read_only,
                 icon=":material/delete:"):
        ctx.store.delete_experiment(experiment.id)
        st.session_state["flash"] = t("results.deleted")
        st.rerun()


def compare(experiments: list[StoredExperiment], first: StoredExperiment) -> None:
    """Two experiments' metrics and CV scores side by side."""
    others = [e for e in experiments if e.id != first.id]
    if not others:
        return
    labels = {e.id: experiment_label(e) for e in others}
    second = next(e for e in others if e.id == st.selectbox(t("results.compare_with"), list(labels),
                                                            format_func=labels.get, key="compare"))
    names = (_short(first), _short(second))
    if names[0] == names[1]:
        names = (f"{names[0]} A", f"{names[1]} B")
    st.dataframe(_metric_table({names[0]: first.record["metrics"], names[1]: second.record["metrics"]}),
                 width="stretch")
    st.plotly_chart(charts.cv_scores({names[0]: first.record["cv_scores"], names[1]: second.record["cv_scores"]},
                                     t(METRIC_KEYS[first.record["primary"]])), width="stretch", key="cv_compare")


def pick(experiments: list[StoredExperiment]) -> StoredExperiment:
    """Choose one experiment: the one a job's link named, else the chosen model, else the newest."""
    labels = {e.id: experiment_label(e) for e in experiments}
    ids = list(labels)
    named = st.query_params.get("experiment")
    default = ids.index(named) if named in ids else next((i for i, e in enumerate(experiments) if e.chosen), 0)
    if named in ids and st.session_state.get("_experiment_link") != named:  # a new link wins over an old choice
        st.session_state["_experiment_link"] = named
        st.session_state.pop("experiment", None)
    chosen = st.selectbox(t("results.experiment"), list(labels), index=default, format_func=labels.get,
                          key="experiment")
    return next(e for e in experiments if e.id == chosen)


def learning_view(ctx: PageContext, experiment: StoredExperiment) -> None:
    """The learning curve, computed in the background on request (it refits the model several times)."""
    curve = latest_learning_curve(ctx.store, ctx.project.id, experiment.id)
    if curve is not None:
        st.plotly_chart(charts.learning_curve(curve, t(METRIC_KEYS[experiment.record["primary"]])), width="stretch",
                        key="learning_curve")
        return
    running = any(j["kind"] == "learning" for j in jobs.active_jobs(ctx.store, ctx.project.id))
    st.caption(t("results.learning_help"))
    if st.button(t("results.learning"), key="learning", disabled=running or ctx.read_only,
                 icon=":material/show_chart:"):
        start(ctx.store, ctx.project.id, "learning", experiment_id=experiment.id)
        st.rerun()
    if running:
        st.info(t("results.learning_running"))
