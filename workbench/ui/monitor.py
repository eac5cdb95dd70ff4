"""The Monitor page: a batch (an uploaded file, or what the endpoint served, by day or by N rows) against the
production version's training data; performance as true values arrive, an estimate without them; and
retraining on new data into a challenger, compared with the champion, promoted on a click."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from workbench import charts, jobs
from workbench.deploy import monitor as M
from workbench.deploy import retrain as R
from workbench.deploy import versions as V
from workbench.deploy.serving import logged_inputs
from workbench.evaluation import METRIC_KEYS
from workbench.experiments import model_title, start
from workbench.i18n import t
from workbench.io import read_table
from workbench.store import ModelVersion
from workbench.ui.core import PageContext, say, say_note
from workbench.ui.model import jobs_panel

UPLOAD, LOGGED = "upload", "logged"
PROBLEM_KEYS = {"empty": "monitor.problem.empty", "not_numbers": "monitor.problem.not_numbers"}
TABLE_FILES = ["csv", "tsv", "txt", "xlsx", "parquet", "jsonl", "json"]
MAX_BATCHES = 30  # batches of the log drawn in the timeline (the newest)


@st.cache_resource(show_spinner=False, max_entries=4)
def _reference(home: str, project_id: str, number: int, stamp: str) -> M.Reference:
    from workbench.store import Store

    store = Store(home)
    return M.reference(store, store.get_version(project_id, number))


def reference(ctx: PageContext, version: ModelVersion) -> M.Reference:
    """The version's reference, loaded once per server (again when it was explained since)."""
    stamp = str(ctx.store.experiment_file(version.experiment_id, "explanation.json") is not None) \
        if _experiment_exists(ctx, version) else "gone"
    return _reference(str(ctx.store.home), ctx.project.id, version.number, stamp)


def _experiment_exists(ctx: PageContext, version: ModelVersion) -> bool:
    from workbench.errors import UserError

    try:
        ctx.store.get_experiment(version.experiment_id)
        return True
    except UserError:
        return False


def choose_version(ctx: PageContext) -> ModelVersion | None:
    """Which version to monitor: production unless another is chosen."""
    versions = ctx.store.list_versions(ctx.project.id)
    if not versions:
        st.info(t("monitor.no_versions"), icon=":material/info:")
        st.page_link("pages/deploy.py", label=t("page.deploy.title"), icon=":material/rocket:")
        return None
    now = ctx.store.aliases_now(ctx.project.id)
    labels = {v.number: t("monitor.version_label", number=v.number,
                          model=model_title(v.record))
              + (f" · {t('deploy.alias.production')}" if now.get(V.PRODUCTION) == v.number else "")
              + (f" · {t('deploy.alias.challenger')}" if now.get(V.CHALLENGER) == v.number else "")
              for v in versions}
    default = list(labels).index(now[V.PRODUCTION]) if V.PRODUCTION in now else 0
    number = st.selectbox(t("monitor.version"), list(labels), index=default, format_func=labels.get,
                          key="monitor_version")
    return next(v for v in versions if v.number == number)


def batch_source(ctx: PageContext, ref: M.Reference) -> tuple[str, pd.DataFrame] | None:
    """The batch to look at: an uploaded file, or a batch of the endpoint's log (whose timeline is drawn)."""
    sources = {UPLOAD: t("monitor.source.upload"), LOGGED: t("monitor.source.logged")}
    source = st.radio(t("monitor.source"), list(sources), format_func=sources.get, horizontal=True,
                      key="monitor_source")
    if source == UPLOAD:
        upload = st.file_uploader(say("monitor.upload", target=ref.target), type=TABLE_FILES, key="monitor_upload",
                                  help=say("monitor.upload_help", target=ref.target))
        if upload is None:
            return None
        frame, _ = read_table(upload.getvalue(), upload.name)
        return upload.name, frame
    logged = logged_inputs(ctx.store, ctx.project.id)
    if logged.empty:
        st.info(t("monitor.log_empty"), icon=":material/info:")
        return None
    groupings = {M.BY_DAY: t("monitor.by_day"), M.BY_ROWS: t("monitor.by_rows")}
    c1, c2 = st.columns(2)
    by = c1.radio(t("monitor.group"), list(groupings), format_func=groupings.get, horizontal=True,
                  key="monitor_group")
    size = c2.number_input(t("monitor.batch_rows"), min_value=10, max_value=100_000, value=500, step=10,
                           key="monitor_batch_rows", disabled=by != M.BY_ROWS)
    batches = M.batches_of(logged, by, int(size))[-MAX_BATCHES:]
    st.caption(t("monitor.log_rows", rows=len(logged), batches=len(batches)))
    with st.spinner(t("monitor.checking", batches=len(batches))):
        timeline = _timeline(ref, batches)
    metric = timeline["metric"].dropna()
    name = t(METRIC_KEYS[metric.iloc[0]]) if not metric.empty else t("metric.accuracy")
    st.plotly_chart(charts.monitor_timeline(timeline, name), width="stretch", key="monitor_timeline")
    labels = [label for label, _ in batches]
    chosen = st.selectbox(t("monitor.batch"), labels, index=len(labels) - 1, key="monitor_batch")
    return chosen, dict(batches)[chosen]


@st.cache_data(show_spinner=False, max_entries=4)
def _timeline_of(_ref: M.Reference, stamp: tuple, batches: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    return M.timeline(_ref, batches)


def _timeline(ref: M.Reference, batches: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """Every batch's verdict (computed once per set of batches and version)."""
    return _timeline_of(ref, (ref.version.project_id, ref.version.number), batches)


def report_view(report: M.BatchReport, ref: M.Reference) -> None:
    """The summary in words first, then the figures: columns ranked, the prediction, performance."""
    words = "\n".join(f"- {say_note(n)}" for n in M.summary(report))
    (st.warning if report.alarm else st.success)(words, icon=":material/monitor_heart:")
    for note in report.notes:
        st.caption(say_note(note))
    drift = report.drift
    c1, c2, c3 = st.columns(3)
    c1.metric(t("monitor.rows"), f"{report.rows:,}")
    c2.metric(t("monitor.drifted_columns"), f"{len(drift.drifted)} / {len(drift.columns)}")
    if drift.prediction is not None:
        c3.metric(t("monitor.prediction_drift"), t("monitor.yes") if drift.prediction.drifted else t("monitor.no"),
                  help=t("monitor.prediction_help"))
    if drift.missing_columns:
        st.warning(say("monitor.batch_lacks", columns=", ".join(map(str, drift.missing_columns[:10]))),
                   icon=":material/warning:")
    if drift.extra_columns:
        st.caption(say("monitor.extra_columns", columns=", ".join(map(str, drift.extra_columns[:10]))))
    st.dataframe(columns_table(drift.columns), hide_index=True, width="stretch")
    performance_view(report, ref)


def _effect(c: Any) -> str:
    if c.problem:
        return ""
    if c.kind == "numeric":
        return t("monitor.effect_sd", value=f"{c.effect:+.2f}")
    return t("monitor.effect_share", value=f"{100 * c.effect:.1f}")


def _detectable(c: Any) -> str:
    if c.detectable is None:
        return ""
    if c.kind == "numeric":
        return t("monitor.detectable_sd", value=f"{c.detectable:.2f}")
    return t("monitor.detectable_share", value=f"{100 * c.detectable:.1f}")


def columns_table(columns: list) -> pd.DataFrame:
    """One row per column, the most important drift first."""
    return pd.DataFrame({
        t("monitor.col.column"): [c.column for c in columns],
        t("monitor.col.verdict"): [t(PROBLEM_KEYS[c.problem]) if c.problem
                                   else t("monitor.drifted") if c.drifted else t("monitor.stable") for c in columns],
        t("monitor.col.effect"): [_effect(c) for c in columns],
        t("monitor.col.detectable"): [_detectable(c) for c in columns],
        t("monitor.col.p"): [f"{c.p_adjusted:.3g}" for c in columns],
        t("monitor.col.importance"): [f"{c.importance:.0%}" if c.importance is not None else "" for c in columns],
        t("monitor.col.missing"): [f"{c.missing[0]:.0%} → {c.missing[1]:.0%}" for c in columns],
        t("monitor.col.new"): [", ".join(c.new_categories[:5]) for c in columns],
        t("monitor.col.range"): [t("monitor.out_of_range", below=c.below, above=c.above) if c.below or c.above
                                 else "" for c in columns],
    })


def performance_view(report: M.BatchReport, ref: M.Reference) -> None:
    """Measured metrics beside the test rows' spread, or the label-free estimate with its condition."""
    if report.checks:
        st.subheader(t("monitor.performance"))
        st.dataframe(pd.DataFrame({
            t("monitor.col.metric"): [t(METRIC_KEYS[c.metric]) for c in report.checks],
            t("monitor.col.batch"): [f"{c.value:.4f}" if c.value is not None else "-" for c in report.checks],
            t("monitor.col.test"): [f"{c.test:.4f}" if c.test is not None else "-" for c in report.checks],
            t("monitor.col.spread"): [f"{c.low:.4f} – {c.high:.4f}" if c.low is not None else "-"
                                      for c in report.checks],
            t("monitor.col.alarm"): [t("monitor.yes") if c.alarm else t("monitor.no") for c in report.checks],
        }), hide_index=True, width="stretch")
    elif report.estimate is not None:
        e = report.estimate
        st.subheader(t("monitor.estimate"))
        c1, c2 = st.columns(2)
        c1.metric(t("metric.accuracy"), f"{e.accuracy:.3f} ± {1.96 * e.accuracy_sd:.3f}",
                  delta=f"{e.accuracy - e.test_accuracy:+.3f}" if e.test_accuracy is not None else None)
        if e.roc_auc is not None:
            c2.metric(t("metric.roc_auc"), f"{e.roc_auc:.3f} ± {1.96 * (e.roc_auc_sd or 0):.3f}",
                      delta=f"{e.roc_auc - e.test_roc_auc:+.3f}" if e.test_roc_auc is not None else None)
        st.caption(t("monitor.estimate_condition", target=ref.target))


@st.cache_data(show_spinner=False, max_entries=8)
def _checked(_ref: M.Reference, stamp: tuple, frame: pd.DataFrame, label: str) -> M.BatchReport:
    return M.check_batch(_ref, frame, label)


def check(ref: M.Reference, label: str, frame: pd.DataFrame) -> M.BatchReport:
    """The batch's report (computed once per batch and version)."""
    return _checked(ref, (ref.version.project_id, ref.version.number), frame, label)


def retrain_view(ctx: PageContext, version: ModelVersion) -> None:
    """Retrain the version's recipe and settings on new rows (alone or appended), into a challenger."""
    st.subheader(t("monitor.retrain"))
    st.caption(t("monitor.retrain_help", number=version.number))
    with st.form("retrain"):
        upload = st.file_uploader(t("monitor.retrain_upload"), type=TABLE_FILES, key="retrain_upload")
        append = st.checkbox(t("monitor.retrain_append"), value=True, key="retrain_append")
        running = any(j["kind"] == "retrain" for j in jobs.active_jobs(ctx.store, ctx.project.id))
        if st.form_submit_button(t("monitor.retrain_button"), type="primary", icon=":material/model_training:",
                                 disabled=ctx.read_only or running):
            if upload is None:
                st.warning(t("monitor.retrain_no_file"), icon=":material/warning:")
            else:
                dataset = R.new_training_table(ctx.store, ctx.project.id, upload.getvalue(), upload.name, append,
                                               version.number)
                start(ctx.store, ctx.project.id, "retrain", dataset_id=dataset.id, number=version.number)
                st.rerun()
    jobs_panel(ctx, kinds=("retrain",), results_link=False)
    comparison_view(ctx)


def comparison_view(ctx: PageContext) -> None:
    """The latest retraining: champion and challenger on the same held-out rows, agreement on production's
    inputs, and promoting the challenger."""
    result = jobs.latest_result(ctx.store, ctx.project.id, "retrain")
    if not result:
        return
    champion, challenger = result["champion"], result["challenger"]
    metrics = [m for m in result["scores"]["champion"] if m in METRIC_KEYS and m in result["scores"]["challenger"]]
    st.markdown(t("monitor.comparison", champion=champion, challenger=challenger, rows=result["test_rows"]))
    st.dataframe(pd.DataFrame({
        t("monitor.col.metric"): [t(METRIC_KEYS[m]) + (" ★" if m == result["primary"] else "") for m in metrics],
        t("monitor.col.champion", number=champion): [f"{result['scores']['champion'][m]:.4f}" for m in metrics],
        t("monitor.col.challenger", number=challenger): [f"{result['scores']['challenger'][m]:.4f}"
                                                         for m in metrics],
    }), hide_index=True, width="stretch")
    if result.get("agreement") is not None:
        st.caption(t("monitor.agreement", share=f"{result['agreement']:.1%}", rows=result["compared_rows"]))
    else:
        st.caption(t("monitor.no_agreement"))
    now = ctx.store.aliases_now(ctx.project.id)
    if now.get(V.CHALLENGER) == challenger:
        if st.button(t("monitor.promote", number=challenger), type="primary", key="promote_challenger",
                     icon=":material/verified:", disabled=ctx.read_only):
            from workbench.ui.deploy import changed

            V.promote(ctx.store, ctx.project.id, challenger)
            changed(ctx, t("deploy.promoted", number=challenger))
    elif now.get(V.PRODUCTION) == challenger:
        st.success(t("monitor.challenger_promoted", number=challenger), icon=":material/verified:")
