"""Sign-in in a real browser: the app against a local OpenID Connect provider (oidc-provider-mock) started by
the test. Two people, each sees only their own and shared projects; a viewer cannot delete; a signed-out
visitor sees only the sign-in page; another person's project URL is refused; a session that ended (its cookie
expired) gets the sign-in page with the reason, and everything saved is there after signing in again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import start_app
from tests.browser.test_journeys import _new_page, _title
from tests.conftest import free_port, stop
from workbench.samples import add_sample
from workbench.store import Store, User


@pytest.fixture(scope="module")
def provider():
    import oidc_provider_mock

    with oidc_provider_mock.run_server_in_thread() as server:
        yield f"http://127.0.0.1:{server.server_port}"


@pytest.fixture(scope="module")
def team_app(provider, tmp_path_factory):
    home = tmp_path_factory.mktemp("team-workspace")
    port = free_port()
    secrets = home / "secrets.toml"
    secrets.write_text(f"""[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "a-test-cookie-secret-of-some-length"
client_id = "workbench"
client_secret = "workbench-secret"
server_metadata_url = "{provider}/.well-known/openid-configuration"
""")
    store = Store(home)
    projects = {}
    for email, name in (("alice@example.com", "Alice's churn"), ("bob@example.com", "Bob's prices")):
        mine = store.as_user(User(email))
        projects[email] = mine.create_project(name).id
        add_sample(mine, projects[email], "titanic")
    store.as_user(User("alice@example.com")).share_project(projects["alice@example.com"], "bob@example.com",
                                                           "viewer")
    server = start_app(home, port, args=["--secrets.files", str(secrets)])
    try:
        yield f"http://127.0.0.1:{port}", projects, home
    finally:
        stop(server)


def _sign_in(browser, url: str, email: str):
    page = _new_page(browser)  # a new page is a new browser context: no one's cookie
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.locator("input[name=sub]").fill(email)  # the provider's own form
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_text(f"Signed in as {email}")).to_be_visible()  # the provider gives no name
    return page


def test_a_signed_out_visitor_sees_only_the_sign_in_page(team_app, browser):
    url, projects, home = team_app
    page = _new_page(browser)
    page.goto(f"{url}/data?project={projects['alice@example.com']}")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_text("sign in to see your projects")).to_be_visible()
    expect(page.get_by_text("Alice's churn")).to_have_count(0)
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)


def test_two_people_each_see_their_own_and_shared_projects(team_app, browser):
    url, projects, home = team_app
    alice = _sign_in(browser, url, "alice@example.com")
    expect(_title(alice)).to_have_text("Home")
    expect(alice.get_by_text("bob@example.com · viewer: can look")).to_be_visible()  # whom she shared it with
    alice.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").nth(1).click()
    options = alice.get_by_role("option")
    expect(options).to_have_text(["Alice's churn"])  # not Bob's
    alice.keyboard.press("Escape")

    alice.goto(f"{url}/?project={projects['bob@example.com']}")  # Bob's project, by its URL
    expect(alice.get_by_text("is not yours and has not been shared with you")).to_be_visible()
    expect(alice.get_by_text("Bob's prices")).to_have_count(0)
    alice.get_by_role("button", name="Open my projects").click()
    expect(alice.get_by_text("Project: Alice's churn")).to_be_visible()

    bob = _sign_in(browser, url, "bob@example.com")
    bob.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").nth(1).click()
    expect(bob.get_by_role("option")).to_have_count(2)  # his own and Alice's, shared with him
    bob.keyboard.press("Escape")
    bob.goto(f"{url}/?project={projects['alice@example.com']}")
    expect(bob.get_by_text("its owner shared it with you as a viewer")).to_be_visible()
    expect(bob.get_by_role("checkbox", name="I understand that its datasets are deleted too")).to_be_disabled()
    bob.goto(f"{url}/model?project={projects['alice@example.com']}")
    expect(_title(bob)).to_have_text("Model")
    expect(bob.get_by_role("button", name="Train", exact=True)).to_be_disabled()  # but cannot train on it
    assert Store(home).list_jobs(projects["alice@example.com"]) == []  # nothing started

    bob.get_by_role("button", name="Sign out").click()
    bob.get_by_role("button", name="End session").click()  # the provider's own page, then back to the app
    expect(bob.get_by_role("button", name="Sign in")).to_be_visible()
    for page in (alice, bob):
        page.close()


def test_an_ended_session_asks_to_sign_in_again_and_nothing_saved_is_lost(team_app, browser):
    url, projects, home = team_app
    mine = projects["alice@example.com"]
    alice = _sign_in(browser, url, "alice@example.com")
    alice.goto(f"{url}/data?project={mine}")
    expect(_title(alice)).to_have_text("Data")
    saved = [d.id for d in Store(home).list_datasets(mine)]
    alice.context.clear_cookies(name="_streamlit_user")  # what the browser does when the 30-day cookie expires
    alice.reload()
    expect(alice.get_by_text("your session has ended; sign in again")).to_be_visible()
    expect(alice.get_by_test_id("stDataFrame")).to_have_count(0)
    expect(alice.get_by_test_id("stException")).to_have_count(0)
    alice.get_by_role("button", name="Sign in").click()
    alice.locator("input[name=sub]").fill("alice@example.com")
    alice.get_by_role("button", name="Authorize").click()
    expect(alice.get_by_text("Signed in as alice@example.com")).to_be_visible()
    alice.goto(f"{url}/data?project={mine}")
    expect(alice.get_by_test_id("stDataFrame").first).to_be_visible()
    assert [d.id for d in Store(home).list_datasets(mine)] == saved  # nothing lost
    alice.close()
