"""Home page widgets: the open project's datasets and the project forms (new, rename, delete)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench.i18n import escape_md, t
from workbench.ui.core import PageContext, say, say_note, select_project


def datasets_summary(ctx: PageContext) -> None:
    """A table of the open project's datasets."""
    st.subheader(say("home.current_project", name=ctx.project.name))
    datasets = ctx.store.list_datasets(ctx.project.id)
    if not datasets:
        st.info(t("data.none_elsewhere"))
        return
    st.dataframe(pd.DataFrame({
        t("home.col.name"): [d.name for d in datasets],
        t("profile.rows"): [d.rows for d in datasets],
        t("profile.columns"): [d.columns for d in datasets],
        t("home.col.active"): ["✓" if d.id == ctx.project.active_dataset_id else "" for d in datasets],
        t("home.col.added"): [d.created_at[:19].replace("T", " ") for d in datasets],
    }), hide_index=True, width="stretch")


def server_mode(ctx: PageContext) -> None:
    """Who can reach this app (single-user mode: this computer only; or signed-in team members) and where its
    jobs run."""
    from workbench.errors import UserError
    from workbench.jobs import where_jobs_run

    try:
        where = say_note(where_jobs_run())
    except UserError as exc:
        st.warning(say(exc.key, **exc.params), icon=":material/cloud_off:")
        where = ""
    who = t("home.team_mode") if ctx.user is not None else t("home.single_user")
    st.caption(f"{who} {where}")


ROLE_LABELS = {"viewer": "home.role.viewer", "editor": "home.role.editor", "owner": "home.role.owner"}


def sharing(ctx: PageContext) -> None:
    """The project's owner shares it with named people (viewer or editor) and takes access back."""
    if ctx.user is None:
        return
    from workbench.store import ROLES, normalise_user

    st.subheader(t("home.sharing"))
    if ctx.role != "owner":
        st.caption(say("home.shared_by", owner=ctx.project.owner or "?", role=t(ROLE_LABELS[ctx.role])))
        return
    if not ctx.project.owner:
        st.warning(t("home.no_owner"), icon=":material/person_off:")
    shares = ctx.store.list_shares(ctx.project.id)
    if not shares and ctx.project.owner:
        st.caption(t("home.not_shared"))
    for user, role in shares:
        who, remove = st.columns([4, 1])
        who.markdown(f"{escape_md(user)} · {t(ROLE_LABELS[role])}")
        if remove.button(t("home.unshare"), key=f"unshare_{user}"):
            ctx.store.unshare_project(ctx.project.id, user)
            st.rerun()
    with st.form("share_project"):
        email, role = st.columns([3, 1])
        user = email.text_input(t("home.share_with"), placeholder="name@example.com")
        labels = {r: t(ROLE_LABELS[r]) for r in ROLES}
        role = role.selectbox(t("home.share_role"), ROLES, format_func=labels.get)
        if st.form_submit_button(t("home.share")):
            ctx.store.share_project(ctx.project.id, user, role)
            st.session_state["flash"] = say("home.shared", user=normalise_user(user), name=ctx.project.name)
            st.rerun()
    hand_over(ctx)


def hand_over(ctx: PageContext) -> None:
    """The owner (or an admin, for a project without one) makes someone else the owner."""
    from workbench.store import normalise_user

    with st.expander(t("home.hand_over"), expanded=not ctx.project.owner):
        with st.form("hand_over_project"):
            default = ctx.user.id if ctx.user and not ctx.project.owner else ""
            user = st.text_input(t("home.hand_over_to"), value=default, placeholder="name@example.com",
                                 help=t("home.hand_over_help"))
            if st.form_submit_button(t("home.hand_over_button")):
                ctx.store.hand_over_project(ctx.project.id, user)
                st.session_state["flash"] = say("home.handed_over", user=normalise_user(user),
                                                name=ctx.project.name)
                st.rerun()


def project_forms(ctx: PageContext) -> None:
    """Create, rename and delete (with confirmation) projects."""
    new, rename, delete = st.columns(3)
    owner = ctx.role == "owner"
    with new.form("new_project"):
        name = st.text_input(t("home.new_name"), max_chars=100)
        if st.form_submit_button(t("home.create"), type="primary"):
            project = ctx.store.create_project(name)
            select_project(project.id)
            st.session_state["flash"] = say("home.created", name=project.name)
            st.rerun()
    with rename.form("rename_project"):
        name = st.text_input(t("home.rename_to"), value=ctx.project.name, max_chars=100)
        if st.form_submit_button(t("home.rename"), disabled=not owner):
            project = ctx.store.rename_project(ctx.project.id, name)
            st.session_state["flash"] = say("home.renamed", name=project.name)
            st.rerun()
    with delete.container(border=True):
        st.markdown(say("home.delete_title", name=ctx.project.name))
        confirm = st.checkbox(t("home.delete_confirm"), key="confirm_delete_project", disabled=not owner)
        if st.button(t("home.delete"), disabled=not confirm, key="delete_project"):
            ctx.store.delete_project(ctx.project.id)
            st.session_state.pop("project_id", None)
            st.query_params.pop("project", None)
            st.session_state["flash"] = say("home.deleted", name=ctx.project.name)
            st.rerun()
