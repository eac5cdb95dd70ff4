"""Page set-up shared by every page: language, project, sidebar, navigation and error guard."""

from __future__ import annotations

import logging
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import streamlit as st

from workbench.errors import UserError
from workbench.i18n import LANGUAGES, Note, escape_md, normalise_language, set_language, t
from workbench.samples import ensure_workspace
from workbench.settings import get_settings
from workbench.store import Dataset, Project, Store, User
from workbench.ui.auth import signed_in_sidebar, signed_in_user

log = logging.getLogger("workbench.ui")


def _keep_keras_state() -> None:
    """Stop Streamlit from clearing Keras's global state after every script run.

    Streamlit calls keras.backend.clear_session() when each run ends, fragment reruns included, for scripts
    that build models in the script itself. Here networks train in job threads while a live panel reruns
    every 1.5 s: each clear ran a full garbage collection under the GIL (six times slower training: 180 s
    instead of 30 s for the penguins network) and reset state a network in mid-fit shares. Matplotlib's
    clean-up is kept."""
    from streamlit.runtime.scriptrunner import script_runner

    current = getattr(script_runner, "_clean_problem_modules", None)
    if current is None or getattr(current, "keeps_keras", False):
        return

    def clean() -> None:
        if "matplotlib.pyplot" in sys.modules:
            try:
                sys.modules["matplotlib.pyplot"].close("all")
            except Exception:  # noqa: BLE001 - as Streamlit's own clean-up: never fail a page over it
                log.debug("matplotlib close failed", exc_info=True)

    clean.keeps_keras = True  # type: ignore[attr-defined]
    script_runner._clean_problem_modules = clean


_keep_keras_state()


@dataclass(frozen=True)
class PageContext:
    """What a page works on: the store (seen by the signed-in person, if any), the open project, the language
    and that person's role on the project ('owner' in single-user mode)."""

    store: Store
    project: Project
    lang: str
    user: User | None = None
    role: str = "owner"

    @property
    def read_only(self) -> bool:
        """Whether this person may only look (a viewer): every button that changes the project is disabled."""
        return self.role == "viewer"

    def dataset(self) -> Dataset | None:
        """The project's active dataset, if any."""
        return self.store.active_dataset(self.project.id)


def say(key: str, **params: Any) -> str:
    """Translate a message whose parameters come from user data, escaping them for Markdown."""
    return t(key, **{k: escape_md(v) if isinstance(v, str) else v for k, v in params.items()})


def say_note(note: Note) -> str:
    """Translate a stored Note for Markdown display."""
    return say(note.key, **note.params)


@st.cache_resource(show_spinner=False)
def _store(home: str) -> Store:
    from workbench.jobs import interrupt_orphans

    store = Store(home)
    interrupt_orphans(store)  # once per server process: jobs an earlier process left running
    return store


def get_store() -> Store:
    """The workspace store of this server (WORKBENCH_HOME)."""
    return _store(str(get_settings().home))


def current_language() -> str:
    """The session's language: chosen in the sidebar, else from the URL, else the browser's locale."""
    if "lang" not in st.session_state:
        from_url = st.query_params.get("lang")
        st.session_state.lang = from_url if from_url in LANGUAGES else normalise_language(st.context.locale)
    lang = st.session_state.lang
    set_language(lang)
    return lang


# The pages, in menu order: (script, title key, icon). Streamlit's own menu is hidden
# (client.showSidebarNavigation) because its labels come from file names, not the user's language.
PAGES: list[tuple[str, str, str]] = [
    ("app.py", "page.home.title", ":material/home:"),
    ("pages/data.py", "page.data.title", ":material/table_chart:"),
    ("pages/clean.py", "page.clean.title", ":material/cleaning_services:"),
    ("pages/explore.py", "page.explore.title", ":material/insights:"),
    ("pages/model.py", "page.model.title", ":material/model_training:"),
    ("pages/automl.py", "page.automl.title", ":material/rocket_launch:"),
    ("pages/segments.py", "page.segments.title", ":material/bubble_chart:"),
    ("pages/forecast.py", "page.forecast.title", ":material/timeline:"),
    ("pages/text.py", "page.text.title", ":material/article:"),
    ("pages/images.py", "page.images.title", ":material/image:"),
    ("pages/results.py", "page.results.title", ":material/leaderboard:"),
    ("pages/explain.py", "page.explain.title", ":material/psychology:"),
    ("pages/predict.py", "page.predict.title", ":material/online_prediction:"),
    ("pages/export.py", "page.export.title", ":material/ios_share:"),
    ("pages/deploy.py", "page.deploy.title", ":material/rocket:"),
    ("pages/monitor.py", "page.monitor.title", ":material/monitor_heart:"),
]


def page_setup(title_key: str) -> PageContext:
    """Set up a page: config, language, open project, sidebar. Every page starts with this call."""
    lang = current_language()
    st.set_page_config(page_title=f"{t(title_key)} · {t('app.name')}", page_icon=":material/science:",
                       layout="wide")
    user = signed_in_user()
    try:
        store = get_store().as_user(user)
        project = _open_project(store, lang)
    except UserError as exc:  # the database does not answer, or the project is not this person's
        _refuse(exc, user)
    _sidebar(store, project, user)
    st.query_params.update({"project": project.id, "lang": lang})
    st.title(t(title_key))
    _widget_texts()
    role = store.role(project.id)
    if role == "viewer":
        st.info(t("auth.viewer_banner"), icon=":material/visibility:")
    return PageContext(store, project, lang, user, role)


def _refuse(exc: UserError, user: User | None) -> None:
    """Say why the page cannot open (and nothing of the project); offer a way back to one's own projects."""
    st.title(t("app.name"))
    st.error(say(exc.key, **exc.params), icon=":material/block:")
    if exc.key == "store.project_forbidden":
        st.session_state.pop("project_id", None)
        if st.button(t("auth.my_projects"), type="primary"):
            st.query_params.pop("project", None)
            st.rerun()
    with st.sidebar:
        signed_in_sidebar(user)
    st.stop()


def _css_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _widget_texts() -> None:
    """Streamlit's file uploader writes 'Upload' and '200MB per file' in English whatever the page's language
    (1.67 has no setting for it): the page's words are drawn over them. Multiselects get their placeholder
    through `placeholder=t("widget.choose")`."""
    limit = st.get_option("server.maxUploadSize")
    st.html(f"""<style>
[data-testid="stFileUploaderDropzone"] button p {{ font-size: 0; }}
[data-testid="stFileUploaderDropzone"] button p::after {{ content: {_css_text(t("widget.upload"))};
  font-size: 0.875rem; }}
[data-testid="stFileUploaderDropzoneInstructions"] span {{ font-size: 0; }}
[data-testid="stFileUploaderDropzoneInstructions"] span::after {{
  content: {_css_text(t("widget.upload_limit", mb=limit))}; font-size: 0.875rem; }}
</style>""")


def _open_project(store: Store, lang: str) -> Project:
    """The session's project, else the one the URL names, else the latest; a project the URL names that is
    not this person's raises UserError('store.project_forbidden')."""
    asked = st.query_params.get("project")
    if asked and asked != st.session_state.get("project_id"):
        try:
            store.get_project(asked)
        except UserError as exc:
            if exc.key == "store.project_forbidden":
                raise  # a missing project is passed over below
    for candidate in (st.session_state.get("project_id"), asked):
        project = store.find_project(candidate)
        if project is not None:
            break
    else:
        project = ensure_workspace(store, lang)
    if st.session_state.get("project_id") != project.id:
        st.session_state.project_id = project.id
        project = store.open_project(project.id)
    return project


def select_project(project_id: str) -> None:
    """Open another project in this browser session."""
    st.session_state.project_id = project_id
    st.query_params["project"] = project_id


def _on_language() -> None:
    st.session_state.lang = st.session_state["_lang_widget"]
    st.query_params["lang"] = st.session_state.lang


def _on_project() -> None:
    select_project(st.session_state["_project_widget"])


def _sidebar(store: Store, project: Project, user: User | None) -> None:
    with st.sidebar:
        for script, title_key, icon in PAGES:
            st.page_link(script, label=t(title_key), icon=icon)
        st.divider()
        langs = list(LANGUAGES)
        st.session_state["_lang_widget"] = st.session_state.lang
        st.selectbox(t("sidebar.language"), langs, format_func=LANGUAGES.get, key="_lang_widget",
                     on_change=_on_language)
        projects = {p.id: p.name for p in store.list_projects()}
        st.session_state["_project_widget"] = project.id
        st.selectbox(t("sidebar.project"), list(projects), format_func=projects.get, key="_project_widget",
                     on_change=_on_project)
        signed_in_sidebar(user)


def live_fragment(lang: str, run_every: float | None) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """st.fragment that draws in `lang`: a fragment's own reruns (every `run_every` seconds) start in a fresh
    context, where t() would fall back to English until the whole page ran again."""
    def wrap(draw: Callable[[], None]) -> Callable[[], None]:
        @st.fragment(run_every=run_every)
        def run() -> None:
            set_language(lang)
            draw()
        return run
    return wrap


@contextmanager
def soft_guard() -> Iterator[None]:
    """Show a person's mistake as a warning in place, so the rest of the page stays usable."""
    try:
        yield
    except UserError as exc:
        st.warning(say(exc.key, **exc.params), icon=":material/block:")


@contextmanager
def guard() -> Iterator[None]:
    """Show a person's mistakes as a translated message and unexpected failures as an id, never a traceback."""
    try:
        yield
    except UserError as exc:
        st.error(say(exc.key, **exc.params), icon=":material/error:")
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("unexpected error %s", error_id)
        st.error(t("error.unexpected", id=error_id), icon=":material/error:")


def require_dataset(ctx: PageContext) -> Dataset:
    """The project's dataset; without one, say so, link the Data page and stop the page here."""
    dataset = ctx.dataset()
    if dataset is None:
        st.info(t("data.none_elsewhere"))
        st.page_link("pages/data.py", label=t("page.data.title"), icon=":material/table_chart:")
        st.stop()
    return dataset


def require_experiments(ctx: PageContext) -> list:
    """The project's experiments; without any, say so, link the Model page and stop the page here."""
    experiments = ctx.store.list_experiments(ctx.project.id)
    if not experiments:
        st.info(t("results.none"))
        st.page_link("pages/model.py", label=t("page.model.title"), icon=":material/model_training:")
        st.stop()
    return experiments


def flash() -> None:
    """Show (once) the message a previous run left, such as 'dataset saved'."""
    message = st.session_state.pop("flash", None)
    if message:
        st.success(message, icon=":material/check_circle:")
    warning = st.session_state.pop("flash_warning", None)
    if warning:
        st.warning(warning, icon=":material/warning:")
