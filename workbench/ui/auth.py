"""Sign-in (Streamlit's own st.login / st.user, with an OpenID Connect provider in .streamlit/secrets.toml).

Without an [auth] section the app is a single-user tool (on 127.0.0.1 only) and nobody signs in."""

from __future__ import annotations

import streamlit as st

from workbench.i18n import escape_md, t
from workbench.settings import get_settings
from workbench.store import User, user_from_claims


def sign_in_configured() -> bool:
    """Whether secrets.toml names an OpenID Connect provider."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all
        return False


def signed_in_user() -> User | None:
    """The signed-in person, or None in single-user mode. A visitor who is not signed in (or whose session
    has ended) gets the sign-in page only, and the page stops there."""
    if not sign_in_configured():
        return None
    if not st.user.is_logged_in:
        _sign_in_page()
        st.stop()
    user = user_from_claims(st.user.to_dict(), get_settings().admins)
    if not user.id:
        st.error(t("auth.no_email"), icon=":material/error:")
        st.button(t("auth.sign_out"), on_click=st.logout)
        st.stop()
    return user


def _sign_in_page() -> None:
    st.title(t("app.name"))
    st.info(t("auth.sign_in_needed"), icon=":material/lock:")
    st.button(t("auth.sign_in"), type="primary", on_click=st.login, key="sign_in")


def signed_in_sidebar(user: User | None) -> None:
    """Who is signed in, and a way out."""
    if user is None:
        return
    if user.name and user.name != user.id:
        st.caption(t("auth.signed_in_as", name=escape_md(user.name), email=escape_md(user.id)))
    else:  # the provider gave no name
        st.caption(t("auth.signed_in_email", email=escape_md(user.id)))
    st.button(t("auth.sign_out"), on_click=st.logout, key="sign_out")
