"""AppTest: the pages with sign-in configured (st.user as the provider would fill it)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.test_pages import _text as _texts
from workbench.deploy import versions as V
from workbench.errors import UserError
from workbench.samples import ensure_workspace
from workbench.store import Store, User

AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "test-secret",
        "client_id": "workbench", "client_secret": "secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}


def _run(page: str, email: str | None, **query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": email, "name": email.split("@")[0].title()} if email else {
        "is_logged_in": False}
    for key, value in query.items():
        at.query_params[key] = value
    if page != "app.py":
        at.switch_page(page)
    return at.run()


def _own_project(workspace, email: str):
    store = Store(workspace).as_user(User(email))
    return store, ensure_workspace(store, "en")


def test_a_signed_out_visitor_sees_only_the_sign_in_page(workspace):
    _own_project(workspace, "alice@example.com")
    for page in ("app.py", "pages/data.py", "pages/model.py"):
        at = _run(page, None, lang="ja")
        assert not at.exception
        assert [b.label for b in at.button] == ["サインイン"]
        assert "サインインすると自分のプロジェクトが表示されます" in _texts(at)
        assert not at.sidebar.selectbox and not at.dataframe  # no project, no data


def test_a_signed_in_person_gets_a_project_of_their_own_and_sees_who_they_are(workspace):
    _, bobs = _own_project(workspace, "bob@example.com")
    at = _run("app.py", "alice@example.com")
    assert not at.exception
    assert "Signed in as Alice (alice@example\\.com)" in _texts(at)
    assert "Team mode" in _texts(at) and "Single-user mode" not in _texts(at)
    assert [o for o in at.sidebar.selectbox(key="_project_widget").options] != [bobs.id]
    alice = Store(workspace).as_user(User("alice@example.com"))
    assert [p.owner for p in alice.list_projects()] == ["alice@example.com"]
    assert bobs.id not in {p.id for p in alice.list_projects()}


def test_the_url_of_another_persons_project_is_refused_without_its_data(workspace):
    _, bobs = _own_project(workspace, "bob@example.com")
    _own_project(workspace, "alice@example.com")
    for page in ("app.py", "pages/explore.py"):
        at = _run(page, "alice@example.com", project=bobs.id)
        assert not at.exception
        assert any("is not yours and has not been shared with you" in e.value for e in at.error)
        assert not at.dataframe and "titanic" not in _texts(at).lower()
    at.button[0].click().run()  # "Open my projects"
    assert not at.error and at.query_params["project"] != [bobs.id]


# every button (and upload) that changes the project or starts a job, page by page: disabled for a viewer
WRITES = {"pages/data.py": ["add_sample", "delete_dataset", "upload_0"], "pages/clean.py": ["add_step"],
          "pages/model.py": ["train", "tune", "suggest"], "pages/automl.py": ["automl_start"],
          "pages/segments.py": ["cl_run", "an_run"], "pages/results.py": ["choose", "learning"],
          "pages/explain.py": ["explain"], "pages/deploy.py": ["promote", "roll_back", "endpoint_start",
                                                              "endpoint_rotate"]}


def _writes(at: AppTest, keys: list[str]) -> dict[str, bool]:
    """Whether each of these widgets is disabled."""
    widgets = {w.key: w for w in [*at.button, *at.get("file_uploader")] if getattr(w, "key", None)}
    return {key: bool(widgets[key].proto.disabled) for key in keys}


def test_a_viewer_sees_a_shared_project_but_every_change_and_job_is_disabled(workspace):
    from workbench.experiments import save_experiment, start
    from workbench.recipe import Recipe
    from workbench.training import Settings, train_experiment

    alice, project = _own_project(workspace, "alice@example.com")
    dataset = alice.active_dataset(project.id)
    frame = alice.load_frame(dataset.id).drop(columns=["alive"])
    experiment = save_experiment(alice, project.id, dataset.id, 0, train_experiment(frame, Recipe(), Settings(
        "survived", "binary", "logistic_regression")))
    V.register(alice, project.id, experiment.id)
    alice.share_project(project.id, "bob@example.com", "viewer")
    at = _run("app.py", "bob@example.com", project=project.id)
    assert not at.exception
    assert "its owner shared it with you as a viewer" in _texts(at)
    assert "shared this project with you (viewer" in _texts(at)
    assert at.checkbox(key="confirm_delete_project").disabled
    for page, keys in WRITES.items():
        as_viewer = _run(page, "bob@example.com", project=project.id)
        as_owner = _run(page, "alice@example.com", project=project.id)
        assert not as_viewer.exception and not as_owner.exception, page
        assert _writes(as_viewer, keys) == dict.fromkeys(keys, True), page
        assert not all(_writes(as_owner, keys).values()), page  # the same buttons work for the owner
    bob = Store(workspace).as_user(User("bob@example.com"))  # a click that reaches the server anyway:
    with pytest.raises(UserError) as refused:  # the store refuses it
        start(bob, project.id, "train", dataset_id=dataset.id, settings=[Settings("survived", "binary", "knn")])
    assert refused.value.key == "store.viewer_only" and alice.list_jobs(project.id) == []  # nothing started


def test_the_owner_shares_a_project_and_takes_it_back(workspace):
    alice, project = _own_project(workspace, "alice@example.com")
    at = _run("app.py", "alice@example.com", lang="ja")
    assert "このプロジェクトはあなただけが見られます。" in _texts(at)
    share = next(w for w in at.text_input if w.label == "共有相手（メールアドレス）")
    share.input("nobody").run()
    next(b for b in at.button if b.label == "共有する").click().run()
    assert any("メールアドレス（例: name@example.com）" in e.value for e in at.error)
    share = next(w for w in at.text_input if w.label == "共有相手（メールアドレス）")
    share.input("Bob@Example.com")
    next(s for s in at.selectbox if s.label == "役割").set_value("editor")
    next(b for b in at.button if b.label == "共有する").click().run()
    assert alice.list_shares(project.id) == [("bob@example.com", "editor")]
    assert "bob@example\\.com · 編集者：変更・学習できる" in _texts(at)
    at.button(key="unshare_bob@example.com").click().run()
    assert alice.list_shares(project.id) == []


def test_a_person_without_a_name_claim_is_shown_once_by_address(workspace):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": "carol@example.com"}
    at.query_params["lang"] = "ja"
    at.run()
    assert not at.exception
    assert [c.value for c in at.sidebar.caption] == ["carol@example\\.com としてサインイン中"]


def test_an_admin_hands_a_project_from_before_sign_in_to_its_owner(workspace, monkeypatch):
    monkeypatch.setenv("WORKBENCH_ADMINS", "root@example.com")
    old = Store(workspace).create_project("Sales 2025")  # made in single-user mode: no owner
    at = _run("app.py", "root@example.com", project=old.id, lang="ja")
    assert not at.exception
    assert any("このプロジェクトには所有者がいません" in w.value for w in at.warning)
    new_owner = next(w for w in at.text_input if w.label == "新しい所有者（メールアドレス）")
    assert new_owner.value == "root@example.com"  # an admin may simply take it
    new_owner.input("Alice@Example.com")
    next(b for b in at.button if b.label == "引き渡す").click().run()
    assert not at.exception and Store(workspace).get_project(old.id).owner == "alice@example.com"
    assert "「Sales 2025」の所有者を alice@example\\.com さんにしました。" in _texts(at)
    at = _run("app.py", "alice@example.com", project=old.id)
    assert not at.warning and not at.error and "Sales 2025" in _texts(at)
