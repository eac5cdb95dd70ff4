"""The Deploy page: register experiments as model versions, choose the production (and challenger) version,
roll back, and see every move of the aliases."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench.deploy import mlflow_sync
from workbench.deploy import versions as V
from workbench.evaluation import METRIC_KEYS
from workbench.experiments import model_title
from workbench.i18n import t
from workbench.store import ModelVersion, StoredExperiment
from workbench.ui.core import PageContext, say
from workbench.ui.results import experiment_label

ALIAS_KEYS = {V.PRODUCTION: "deploy.alias.production", V.CHALLENGER: "deploy.alias.challenger"}


def registrable(experiments: list[StoredExperiment]) -> list[StoredExperiment]:
    """The experiments a version can be made of (models trained on a table)."""
    return [e for e in experiments if "schema" in e.record and "settings" in e.record]


def register_form(ctx: PageContext, experiments: list[StoredExperiment]) -> None:
    """Choose an experiment (the chosen one first) and register it, with a note."""
    st.subheader(t("deploy.register"))
    choices = sorted(registrable(experiments), key=lambda e: not e.chosen)
    if not choices:
        st.info(t("deploy.nothing_to_register"), icon=":material/info:")
        return
    labels = {e.id: experiment_label(e) for e in choices}
    with st.form("register_version"):
        experiment_id = st.selectbox(t("deploy.experiment"), list(labels), format_func=labels.get)
        note = st.text_input(t("deploy.note"), max_chars=2000, placeholder=t("deploy.note_placeholder"))
        if st.form_submit_button(t("deploy.register_button"), type="primary", icon=":material/bookmark_add:",
                                 disabled=ctx.read_only):
            version = V.register(ctx.store, ctx.project.id, experiment_id, note)
            production = ctx.store.aliases_now(ctx.project.id).get(V.PRODUCTION) == version.number
            changed(ctx, t("deploy.registered_production" if production else "deploy.registered",
                           number=version.number))


def changed(ctx: PageContext, done: str | None) -> None:
    """After a version was registered or an alias moved (`done` says which; None: only MLflow is to be told):
    tell MLflow when the user has it, then show the page again with what was done and what MLflow could not take."""
    if done:
        st.session_state["flash"] = done
    uri = mlflow_sync.configured()
    if uri:
        with st.spinner(t("mlflow.sending", uri=uri)):
            problem = mlflow_sync.sync(ctx.store, ctx.project.id)
        if problem is not None:
            st.session_state["flash_warning"] = say(problem.key, **problem.params)
        elif done is None:
            st.session_state["flash"] = say("mlflow.sent", uri=uri)
    st.rerun()


def mlflow_view(ctx: PageContext, versions: list[ModelVersion]) -> None:
    """Where MLflow keeps the versions, and a button to send those it lacks (after it was unreachable)."""
    uri = mlflow_sync.configured()
    if not uri or not versions:
        return
    missing = [v.number for v in versions if mlflow_sync.sent(ctx.store, v) is None]
    name = mlflow_sync.model_name(ctx.store, ctx.project.id)
    if not missing:
        st.caption(say("mlflow.in_sync", uri=uri, model=name))
        return
    c1, c2 = st.columns([3, 1], vertical_alignment="center")
    c1.warning(say("mlflow.missing", uri=uri, versions=", ".join(map(str, sorted(missing)))),
               icon=":material/cloud_off:")
    if c2.button(t("mlflow.send"), key="mlflow_send", icon=":material/cloud_upload:", disabled=ctx.read_only):
        changed(ctx, None)


def _score(version: ModelVersion) -> str:
    record = version.record
    score = record["metrics"].get(record["primary"])
    return f"{t(METRIC_KEYS[record['primary']])} {score:.4f}" if score is not None else ""


def versions_table(versions: list[ModelVersion], now: dict[str, int],
                   in_mlflow: dict[int, str] | None = None) -> pd.DataFrame:
    """One row per version, newest first, with its aliases (and, with MLflow, its registered model version)."""
    by_number: dict[int, list[str]] = {}
    for alias, number in now.items():
        by_number.setdefault(number, []).append(t(ALIAS_KEYS[alias]))
    return pd.DataFrame({
        t("deploy.col.version"): [v.number for v in versions],
        t("deploy.col.alias"): [" · ".join(by_number.get(v.number, [])) for v in versions],
        t("deploy.col.model"): [model_title(v.record) for v in versions],
        t("deploy.col.score"): [_score(v) for v in versions],
        t("deploy.col.data"): [f"{v.record.get('dataset', {}).get('name', '')} · {v.data_sha256[:8]}"
                               for v in versions],
        t("deploy.col.by"): [v.created_by or "-" for v in versions],
        t("deploy.col.when"): [v.created_at[:16].replace("T", " ") for v in versions],
        t("deploy.col.note"): [v.note for v in versions],
        **({t("mlflow.col"): [in_mlflow.get(v.number, "-") for v in versions]} if in_mlflow is not None else {}),
    })


def versions_view(ctx: PageContext) -> list[ModelVersion]:
    """The versions, which is production, and one-click promote, challenger and roll back."""
    st.subheader(t("deploy.versions"))
    versions = ctx.store.list_versions(ctx.project.id)
    if not versions:
        st.caption(t("deploy.no_versions"))
        return versions
    now = ctx.store.aliases_now(ctx.project.id)
    if V.PRODUCTION in now:
        production = next(v for v in versions if v.number == now[V.PRODUCTION])
        st.success(say("deploy.production_is", number=production.number,
                       model=model_title(production.record)), icon=":material/verified:")
    in_mlflow = None
    if mlflow_sync.configured():
        where = {v.number: mlflow_sync.sent(ctx.store, v) for v in versions}
        in_mlflow = {n: f"{s.model} v{s.model_version}" for n, s in where.items() if s is not None}
    st.dataframe(versions_table(versions, now, in_mlflow), hide_index=True, width="stretch")
    labels = {v.number: t("deploy.version_n", number=v.number) for v in versions}
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    number = c1.selectbox(t("deploy.version"), list(labels), key="deploy_version", format_func=labels.get)
    if c2.button(t("deploy.promote"), key="promote", type="primary", icon=":material/verified:",
                 disabled=ctx.read_only or now.get(V.PRODUCTION) == number):
        V.promote(ctx.store, ctx.project.id, number)
        changed(ctx, t("deploy.promoted", number=number))
    if c3.button(t("deploy.challenge"), key="challenge", icon=":material/swords:",
                 disabled=ctx.read_only or number in now.values()):
        V.promote(ctx.store, ctx.project.id, number, V.CHALLENGER)
        changed(ctx, t("deploy.challenger_set", number=number))
    earlier = [m.number for m in ctx.store.alias_history(ctx.project.id, V.PRODUCTION)
               if m.number is not None and m.number != now.get(V.PRODUCTION)]
    if c4.button(t("deploy.roll_back"), key="roll_back", icon=":material/undo:",
                 disabled=ctx.read_only or not earlier, help=t("deploy.roll_back_help")):
        back = V.roll_back(ctx.store, ctx.project.id)
        changed(ctx, t("deploy.rolled_back", number=back))
    return versions


def history_view(ctx: PageContext) -> None:
    """Every move of the aliases, newest first."""
    moves = ctx.store.alias_history(ctx.project.id)
    if not moves:
        return
    with st.expander(t("deploy.history")):
        st.dataframe(pd.DataFrame({
            t("deploy.col.when"): [m.created_at[:19].replace("T", " ") for m in moves],
            t("deploy.col.alias"): [t(ALIAS_KEYS[m.alias]) for m in moves],
            t("deploy.col.version"): [t("deploy.version_n", number=m.number) if m.number is not None
                                      else t("deploy.taken_off") for m in moves],
            t("deploy.col.by"): [m.set_by or "-" for m in moves],
        }), hide_index=True, width="stretch")


def _uptime(seconds: float) -> str:
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return t("deploy.uptime_hm", hours=hours, minutes=minutes) if hours else t("deploy.uptime_m", minutes=minutes)


def endpoint_view(ctx: PageContext) -> None:
    """Start and stop the production version's endpoint, see where it answers and since when, rotate its key,
    and the last requests it served."""
    from workbench.deploy import serving

    st.subheader(t("deploy.endpoint"))
    production = V.aliased(ctx.store, ctx.project.id)
    now = serving.status(ctx.store, ctx.project.id)
    if now.running:
        st.success(say("deploy.endpoint_running", number=now.version, url=now.url, uptime=_uptime(now.uptime_s())),
                   icon=":material/cloud_done:")
        if production is not None and production.number != now.version:
            st.warning(t("deploy.endpoint_old_version", running=now.version, production=production.number),
                       icon=":material/update:")
    elif now.died:
        st.error(t("deploy.endpoint_died", number=now.version), icon=":material/error:")
        if now.last_log:
            st.code("\n".join(now.last_log), language=None)
    else:
        st.info(t("deploy.endpoint_stopped"), icon=":material/cloud_off:")
    if production is None:
        st.caption(t("deploy.endpoint_needs_production"))
        return
    c1, c2 = st.columns([3, 1])
    host = c1.text_input(t("deploy.host"), value=now.host, key="endpoint_host", disabled=now.running,
                         help=t("deploy.host_help"))
    port = int(c2.number_input(t("deploy.port"), 1, 65535, now.port, key="endpoint_port", disabled=now.running))
    b1, b2, b3 = st.columns(3)
    label = "deploy.restart" if now.running and now.version != production.number else "deploy.start"
    if b1.button(t(label), type="primary", key="endpoint_start", icon=":material/play_arrow:",
                 disabled=ctx.read_only or (now.running and now.version == production.number)):
        with st.spinner(t("deploy.starting")):
            serving.start(ctx.store, ctx.project.id, host.strip() or serving.DEFAULT_HOST, port)
        st.session_state["flash"] = t("deploy.started", number=production.number)
        st.rerun()
    if b2.button(t("deploy.stop"), key="endpoint_stop", icon=":material/stop:",
                 disabled=ctx.read_only or not now.running):
        serving.stop(ctx.store, ctx.project.id)
        st.session_state["flash"] = t("deploy.stopped")
        st.rerun()
    if b3.button(t("deploy.rotate_key"), key="endpoint_rotate", icon=":material/key:", disabled=ctx.read_only,
                 help=t("deploy.rotate_key_help")):
        serving.api_key(ctx.store, ctx.project.id, rotate=True)
        st.session_state["flash"] = t("deploy.key_rotated")
        st.rerun()
    if not ctx.read_only:  # shown, not edited: the stored key is put back on every run (a rotated one at once)
        st.session_state["endpoint_key"] = serving.api_key(ctx.store, ctx.project.id)
        st.text_input(t("deploy.api_key"), type="password", key="endpoint_key", help=t("deploy.api_key_help"))
    st.caption(t("deploy.example"))
    st.code(serving.example_request(ctx.store, ctx.project.id, now), language="bash")
    log = serving.requests_log(ctx.store, ctx.project.id, limit=20)
    if len(log):
        with st.expander(t("deploy.requests", count=len(log))):
            st.dataframe(pd.DataFrame({
                t("deploy.col.when"): log["at"].str[:19].str.replace("T", " "),
                t("deploy.col.version"): log["version"], t("deploy.col.status"): log["status"],
                t("deploy.col.rows"): log["rows"], t("deploy.col.latency"): log["latency_ms"].round(1)}),
                hide_index=True, width="stretch")
