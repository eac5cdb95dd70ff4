"""AutoML page widgets: the search form, and the live view of a running or finished search."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from workbench import charts, jobs
from workbench.automl import METRICS, PRESETS, AutoMLSettings
from workbench.evaluation import LOWER_IS_BETTER, METRIC_KEYS, PRIMARY
from workbench.experiments import automl_progress, start
from workbench.i18n import t
from workbench.models import CATALOGUE, catalogue_id_of
from workbench.store import Dataset
from workbench.training import default_folds
from workbench.ui.core import PageContext, live_fragment, say
from workbench.ui.model import another_job_running, job_text, results_link_of, target_and_task, target_check

SOURCE_KEYS = {"portfolio": "automl.source.portfolio", "tpot": "automl.source.tpot",
               "ensemble": "automl.source.ensemble"}
PRESET_KEYS = {"fast": "automl.preset.fast", "linear": "automl.preset.linear", "trees": "automl.preset.trees",
               "full": "automl.preset.full"}


def form(ctx: PageContext, dataset: Dataset, raw: pd.DataFrame) -> None:
    """Target, task, metric, budget, search space, folds and seed; start the search as a job."""
    target, task = target_and_task(raw, dataset.filename, "automl_")
    c1, c2, c3 = st.columns(3)
    metric = c1.selectbox(t("automl.metric"), list(METRICS[task]), format_func=lambda m: t(METRIC_KEYS[m]),
                          key=f"automl_metric_{task}")
    minutes = c2.slider(t("automl.minutes"), 1, 60, 2, key="automl_minutes", help=t("automl.minutes_help"))
    preset = c3.radio(t("automl.preset"), list(PRESETS), format_func=lambda p: t(PRESET_KEYS[p]),
                      key="automl_preset", help=t("automl.preset_help"))
    c4, c5 = st.columns(2)
    folds = int(c4.number_input(t("model.folds"), 2, 10, default_folds(len(raw)), key="automl_folds"))
    seed = int(c5.number_input(t("model.seed"), 0, 2**31 - 1, 42, key="automl_seed", help=t("model.seed_help")))
    ok = target_check(raw, target, task, folds)
    running = another_job_running(ctx, ("automl",))
    if st.button(t("automl.start"), type="primary", disabled=not ok or running or ctx.read_only,
                 key="automl_start", icon=":material/rocket_launch:"):
        start(ctx.store, ctx.project.id, "automl", dataset_id=dataset.id,
              settings=AutoMLSettings(target, task, metric, float(minutes), preset, folds, seed))
        st.rerun()


def _latest(ctx: PageContext) -> dict | None:
    return next((j for j in ctx.store.list_jobs(ctx.project.id) if j["kind"] == "automl"), None)


def live(ctx: PageContext) -> None:
    """The newest search: time, pipelines tried, failures, best score, its curve and the leaderboard;
    refreshed every 1.5 s while it runs, with a cancel button."""
    first = _latest(ctx)
    if first is None:
        return

    @live_fragment(ctx.lang, 1.5 if first["status"] in jobs.ACTIVE else None)
    def panel() -> None:
        if first["status"] in jobs.ACTIVE:
            jobs.interrupt_lost(ctx.store)
        job = _latest(ctx)
        if first["status"] in jobs.ACTIVE and job["status"] not in jobs.ACTIVE:
            st.rerun()  # finished: refresh the whole page once, before its links are drawn, and stop polling
        progress = automl_progress(job) or {}
        text = job_text(ctx, job)
        st.subheader(t("automl.search"))
        if job["status"] in jobs.ACTIVE:
            st.progress(float(job["progress"]), text=text)
            if st.button(t("automl.cancel"), key=f"automl_cancel_{job['id']}",
                         disabled=bool(job["cancel"]) or ctx.read_only,
                         icon=":material/stop_circle:", help=t("automl.cancel_help")):
                jobs.cancel(ctx.store, job["id"])
                st.rerun(scope="fragment")
        elif job["status"] == "done":
            st.success(text, icon=":material/check_circle:")
            results_link_of(ctx, job)
        else:
            st.warning(text, icon=":material/warning:")
        if progress:
            _figures(progress, job)

    panel()


def _figures(progress: dict, job: dict) -> None:
    spec = _spec_metric(job)
    label = t(METRIC_KEYS[spec])
    c = st.columns(5)
    c[0].metric(t("automl.elapsed"), f"{progress['elapsed']:.0f} s")
    c[1].metric(t("automl.remaining"), f"{progress['remaining']:.0f} s")
    c[2].metric(t("automl.evaluated"), progress["evaluated"])
    reasons = progress.get("failure_reasons") or {}
    c[3].metric(t("automl.failures"), progress["failures"],
                help=t("automl.failures_help", errors=reasons.get("error", 0), timeouts=reasons.get("timeout", 0)))
    c[4].metric(t("automl.best"), "—" if progress["best"] is None else f"{progress['best']:.4f}")
    board = pd.DataFrame(progress["leaderboard"])
    if board.empty:
        return
    board = board.sort_values("score", ascending=spec in LOWER_IS_BETTER, kind="stable")  # best first
    left, right = st.columns(2)
    left.plotly_chart(charts.best_over_time([tuple(p) for p in progress["timeline"]], progress["elapsed"], label),
                      width="stretch", key="automl_curve")
    right.plotly_chart(charts.pareto_front(board, label, spec in LOWER_IS_BETTER), width="stretch",
                       key="automl_pareto")
    shown = board.assign(name=[_display_name(n, s) for n, s in zip(board["name"], board["source"])])
    shown = shown.assign(source=[t(SOURCE_KEYS[s]) for s in shown["source"]])
    st.dataframe(shown.rename(columns={"source": t("automl.col.source"), "name": t("automl.col.pipeline"),
                                       "score": label, "complexity": t("chart.complexity"),
                                       "seconds": t("automl.col.seconds"), "found_at": t("automl.col.found_at")}),
                 width="stretch", hide_index=True, key="automl_board")


def _display_name(name: str, source: str) -> str:
    """A pipeline's name in the user's language: catalogue models by their names, a TPOT pipeline by its model
    (named so where the catalogue has it) after its preparation steps, an ensemble by its members, each with its
    weight when above one ("3×hist_gradient_boosting + ridge")."""
    if source == "portfolio":  # "lightgbm/2": the family's second configuration
        model, _, number = name.partition("/")
        return t("automl.configuration", model=t(f"model.{model}"), number=number) if number else t(f"model.{model}")
    if source == "tpot":
        *steps, model = name.split(" → ")
        known = catalogue_id_of(model)
        shown = t(f"model.{known}") if known else model
        return t("automl.prepared_by", model=shown, steps=", ".join(steps)) if steps else shown
    if source != "ensemble":
        return name
    members = []
    for member in name.split(" + "):
        weight, model = re.fullmatch(r"(?:(\d+)×)?(.*)", member).groups()
        shown = _display_name(model, "portfolio") if model.partition("/")[0] in CATALOGUE else \
            _display_name(model, "tpot")
        members.append(f"{weight}×{shown}" if weight else shown)
    return " + ".join(members)


def _spec_metric(job: dict) -> str:
    import json

    spec = json.loads(job.get("spec") or "{}")
    settings = spec.get("settings", {}).get("__automl__", {})
    return settings.get("metric") or PRIMARY[settings.get("task", "binary")]


def code_view(record: dict) -> None:
    """For an AutoML experiment on the Results page: how it was found, and the code that rebuilds it."""
    automl = record.get("automl")
    if not automl:
        return
    with st.expander(t("automl.code")):
        st.caption(say("automl.found", evaluated=automl["evaluated"], minutes=automl["minutes"],
                       source=t(SOURCE_KEYS[automl["source"]])))
        st.code(automl["code"], language="python")
