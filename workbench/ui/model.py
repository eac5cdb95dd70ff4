"""Model page widgets: target and task, models and hyperparameters, split options, and the jobs panel."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from workbench import charts, jobs
from workbench.evaluation import LOWER_IS_BETTER, METRIC_KEYS
from workbench.experiments import latest_suggestion, restart, start
from workbench.i18n import t
from workbench.models import CATALOGUE, DEFAULT_MODEL, HyperParam, models_for
from workbench.store import Dataset
from workbench.tasks import BINARY, CLASSIFICATION, TASKS, check_target, propose_target, propose_task
from workbench.training import HOLDOUT, TIME_ORDERED, Settings, Split, default_folds
from workbench.ui.core import PageContext, live_fragment, say, say_note

TASK_KEYS = {"binary": "task.binary", "multiclass": "task.multiclass", "regression": "task.regression"}
SPLIT_KEYS = {HOLDOUT: "model.split.holdout", TIME_ORDERED: "model.split.time"}
STATUS_KEYS = {"queued": "job.status.queued", "running": "job.status.running", "done": "job.status.done",
               "failed": "job.status.failed", "cancelled": "job.status.cancelled",
               "interrupted": "job.status.interrupted"}


def hyperparameter(spec_id: str, p: HyperParam) -> Any:
    key, label, help_text = f"hp_{spec_id}_{p.name}", t(f"hp.{p.name}"), t(f"hp.{p.name}.help")
    if p.type == "int":
        return st.number_input(label, int(p.low), int(p.high), int(p.default), step=1, key=key, help=help_text)
    if p.type == "float":
        return st.number_input(label, float(p.low), float(p.high), float(p.default), key=key, help=help_text,
                               format="%g")
    if p.type == "bool":
        return st.checkbox(label, bool(p.default), key=key, help=help_text)
    return st.selectbox(label, list(p.choices), index=list(p.choices).index(p.default), key=key, help=help_text,
                        format_func=str)


def _split_options(raw: pd.DataFrame, task: str) -> tuple[Split, bool, float]:
    with st.expander(t("model.options")):
        c1, c2, c3, c4 = st.columns(4)
        test_size = c1.slider(t("model.test_size"), 0.1, 0.5, 0.2, 0.05, key="test_size")
        folds = int(c2.number_input(t("model.folds"), 2, 10, default_folds(len(raw)), key="folds",
                                    help=t("model.folds_help")))
        repeats = int(c3.number_input(t("model.repeats"), 1, 5, 1, key="repeats"))
        seed = int(c4.number_input(t("model.seed"), 0, 2**31 - 1, 42, key="seed", help=t("model.seed_help")))
        dates = [c for c in raw.columns if pd.api.types.is_datetime64_any_dtype(raw[c])]
        method = st.radio(t("model.split"), [HOLDOUT, TIME_ORDERED] if dates else [HOLDOUT], horizontal=True,
                          format_func=lambda m: t(SPLIT_KEYS[m]), key="split_method")
        time_column = st.selectbox(t("model.time_column"), dates, key="time_column") if method == TIME_ORDERED else None
        balanced = task in CLASSIFICATION and st.checkbox(t("model.balanced"), key="balanced",
                                                          help=t("model.balanced_help"))
        threshold = st.slider(t("model.threshold"), 0.05, 0.95, 0.5, 0.05, key="threshold",
                              help=t("model.threshold_help")) if task == BINARY else 0.5
    return Split(method, test_size, folds, repeats, seed, time_column), bool(balanced), threshold


@st.cache_data(show_spinner=False, max_entries=16)
def _proposed_target(raw: pd.DataFrame, source: str) -> Any:
    return propose_target(raw, source)


def target_and_task(raw: pd.DataFrame, source: str, prefix: str = "") -> tuple[str, str]:
    """The target column and the task, proposed from the table and the file's name `source` (with the reason
    shown) and overridable."""
    columns = list(raw.columns)
    proposed, why = _proposed_target(raw, source)
    target = st.selectbox(t("model.target"), columns, index=columns.index(proposed), key=f"{prefix}target",
                          format_func=str)
    if target == proposed:
        st.caption(say_note(why))
    proposal = propose_task(raw[target])
    task = st.radio(t("model.task"), list(TASKS), index=list(TASKS).index(proposal.task), horizontal=True,
                    format_func=lambda k: t(TASK_KEYS[k]), key=f"{prefix}task_{target}")
    st.caption(say_note(proposal.reason))
    return target, task


@st.cache_data(show_spinner=False, max_entries=16)
def _checked_target(raw: pd.DataFrame, target: str, task: str, folds: int) -> Any:
    """check_target, once per table and choice: its leakage scan relates every column to the target, most of
    the Model page's time when run on every rerun."""
    return check_target(raw, target, task, folds)


def target_check(raw: pd.DataFrame, target: str, task: str, folds: int) -> bool:
    """Show what is wrong with the target (errors block, warnings inform); whether training may start."""
    check = _checked_target(raw, target, task, folds)
    for note in check.errors:
        st.error(say_note(note), icon=":material/block:")
    for note in check.warnings:
        st.warning(say_note(note), icon=":material/warning:")
    return check.ok


def training_form(ctx: PageContext, dataset: Dataset, raw: pd.DataFrame) -> None:
    """Choose target, task and models; check the target; start training or tuning as a job."""
    target, task = target_and_task(raw, dataset.filename)
    split, balanced, threshold = _split_options(raw, task)
    ok = target_check(raw, target, task, split.folds)
    choices = [m.id for m in models_for(task) if not m.baseline]
    suggestion = latest_suggestion(ctx.store, ctx.project.id, target, task)
    proposal = suggestion["proposal"] if suggestion else DEFAULT_MODEL
    if suggestion:
        st.success(say("model.suggested", model=t(f"model.{proposal}"), metric=t(METRIC_KEYS[suggestion["metric"]]),
                       score=round(suggestion["scores"][proposal], 4)), icon=":material/lightbulb:")
        with st.expander(t("model.suggested_all")):
            st.dataframe(suggestion_table(suggestion), hide_index=True, width="stretch")
    chosen = st.multiselect(t("model.models"), choices, default=[proposal], key=f"models_{task}_{proposal}",
                            placeholder=t("widget.choose"), format_func=lambda m: t(f"model.{m}"),
                            help=t("model.models_help"))
    params: dict[str, Any] = {}
    if any(CATALOGUE[m].network for m in chosen):
        device_caption()
    if len(chosen) == 1 and CATALOGUE[chosen[0]].params:
        with st.expander(t("model.hyperparameters")):
            params = {p.name: hyperparameter(chosen[0], p) for p in CATALOGUE[chosen[0]].params}
    settings = [Settings(target, task, m, params if len(chosen) == 1 else {}, balanced, threshold, split)
                for m in chosen]
    version, _ = ctx.store.load_recipe(ctx.project.id)
    st.caption(say("model.uses_recipe", version=version))
    if st.button(t("model.suggest"), disabled=not ok or ctx.read_only, key="suggest", icon=":material/lightbulb:",
                 help=t("model.suggest_help")):
        start(ctx.store, ctx.project.id, "suggest", dataset_id=dataset.id,
              settings=Settings(target, task, DEFAULT_MODEL, split=split))
        st.rerun()
    c1, c2, c3 = st.columns([2, 2, 1])
    blocked = not ok or not chosen or ctx.read_only
    if c1.button(t("model.train"), type="primary", disabled=blocked, key="train", icon=":material/play_arrow:"):
        start(ctx.store, ctx.project.id, "train", dataset_id=dataset.id, settings=settings)
        st.rerun()
    candidates = int(c3.number_input(t("model.candidates"), 5, 200, 20, key="candidates"))
    if c2.button(t("model.tune"), disabled=blocked or len(chosen) != 1, key="tune", icon=":material/tune:",
                 help=t("model.tune_help")):
        start(ctx.store, ctx.project.id, "tune", dataset_id=dataset.id, settings=settings[0], candidates=candidates)
        st.rerun()


@st.cache_resource(show_spinner=False)
def _devices() -> list[str]:
    from workbench.deep.runtime import gpus

    return gpus()


def device_caption() -> None:
    """Say where a network will train: the GPU TensorFlow found, or the CPU."""
    with st.spinner(t("deep.loading")):  # the first call imports TensorFlow: seconds with no other sign of life
        found = _devices()
    st.caption(say("deep.gpu", names=", ".join(found)) if found else t("deep.cpu"), help=t("deep.device_help"))


def suggestion_table(suggestion: dict) -> pd.DataFrame:
    """Every model the suggestion compared, best first, by its cross-validated score."""
    metric = suggestion["metric"]
    scores = pd.Series(suggestion["scores"], dtype=float).dropna()
    scores = scores.sort_values(ascending=metric in LOWER_IS_BETTER)
    return pd.DataFrame({t("results.col.model"): [t(f"model.{m}") for m in scores.index],
                         t(METRIC_KEYS[metric]): scores.round(4).to_numpy()})


def another_job_running(ctx: PageContext, here: tuple[str, ...] = ()) -> bool:
    """Whether one of the project's jobs is queued or running (they run one at a time); if so, says so: as the
    job shown above when it is of this page's kinds `here`, else as a job of another page."""
    active = jobs.active_jobs(ctx.store, ctx.project.id)
    if active:
        st.caption(t("job.busy_here" if active[0]["kind"] in here else "job.busy_other"))
    return bool(active)


TRAINING_KINDS = ("train", "tune", "suggest", "learning", "automl")


def results_link_of(ctx: PageContext, job: dict) -> None:
    """A link to the Results page that opens on the experiment the job made (not the starred one)."""
    made = jobs.made_experiments(job)
    params = {"project": ctx.project.id, "lang": ctx.lang, **({"experiment": made[-1]} if made else {})}
    st.page_link("pages/results.py", label=t("model.see_results"), icon=":material/leaderboard:", query_params=params)


def job_text(ctx: PageContext, job: dict) -> str:
    """A job's line: its status, latest message, and its share done while it runs or its place in the queue."""
    note = jobs.message(job)
    if note and "model" in note.params:  # stored as an id; named in the reader's language
        note.params["model"] = t(f"model.{note.params['model']}")
    parts = [t(STATUS_KEYS[job["status"]])]
    if (place := jobs.queue_place(ctx.store, job)) is not None:
        parts.append(t("job.queue_place", place=place))
    elif note:
        parts.append(say_note(note))
    if job["status"] == "running":
        parts.append(f"{float(job['progress']):.0%}")
    return " · ".join(parts)


def jobs_panel(ctx: PageContext, kinds: tuple[str, ...] = TRAINING_KINDS, results_link: bool = True) -> None:
    """The project's recent jobs of `kinds` with progress and cancel; refreshes itself while one is active
    (of any kind: one job runs at a time, so another's end may start this page's)."""
    active = jobs.active_jobs(ctx.store, ctx.project.id)

    @live_fragment(ctx.lang, 1.5 if active else None)
    def panel() -> None:
        if active:
            jobs.interrupt_lost(ctx.store)  # a worker that died says nothing: its job's heartbeat stops
        if active and not jobs.active_jobs(ctx.store, ctx.project.id):
            st.rerun()  # the last job finished: refresh the whole page once (its links too), and stop polling
        recent = [j for j in ctx.store.list_jobs(ctx.project.id) if j["kind"] in kinds][:3]
        for job in recent:
            text = job_text(ctx, job)
            with st.container(border=True):
                if job["status"] in jobs.ACTIVE:
                    st.progress(float(job["progress"]), text=text)
                    if st.button(t("job.cancel"), key=f"cancel_{job['id']}",
                                 disabled=bool(job["cancel"]) or ctx.read_only):
                        jobs.cancel(ctx.store, job["id"])
                        st.rerun(scope="fragment")
                    if curve := jobs.live_curve(job):
                        st.plotly_chart(charts.loss_curve(curve), width="stretch", key=f"loss_{job['id']}")
                elif job["status"] == "done":
                    st.success(text, icon=":material/check_circle:")
                    if results_link:
                        results_link_of(ctx, job)
                else:
                    st.warning(text, icon=":material/warning:")
                    if job["status"] in jobs.ENDED_EARLY and job.get("spec"):
                        if st.button(t("job.restart"), key=f"restart_{job['id']}", icon=":material/replay:",
                                     disabled=ctx.read_only):
                            restart(ctx.store, job["id"])
                            st.rerun()

    panel()
