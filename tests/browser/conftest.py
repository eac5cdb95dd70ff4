"""A real `streamlit run` on 127.0.0.1 and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import free_port, stop

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-quic", "--no-first-run"]


@pytest.fixture(scope="module")
def app_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workspace of the app under test."""
    return tmp_path_factory.mktemp("browser-workspace")


@pytest.fixture
def titanic_project(app_home: Path) -> str:
    """A new project in the app's workspace whose active dataset is the Titanic sample; its id."""
    import uuid

    from workbench.samples import add_sample
    from workbench.store import Store

    store = Store(app_home)
    project = store.create_project(f"Titanic {uuid.uuid4().hex[:6]}")
    add_sample(store, project.id, "titanic")
    return project.id


@pytest.fixture
def sample_project(app_home: Path):
    """Make a new project in the app's workspace whose active dataset is a sample; returns its id."""
    import uuid

    from workbench.samples import add_sample
    from workbench.store import Store

    def make(sample: str) -> str:
        store = Store(app_home)
        project = store.create_project(f"{sample} {uuid.uuid4().hex[:6]}")
        add_sample(store, project.id, sample)
        return project.id

    return make


def start_app(home: Path, port: int, args: list[str] | None = None, **env: str) -> subprocess.Popen:
    """The app on 127.0.0.1:`port` with the workspace `home` (and `env` and streamlit's `args` added), logging
    to home/streamlit.log."""
    from workbench.launch import start_app as launch

    return launch(home, port, env, home / "streamlit.log", wait_s=90, args=args)


@pytest.fixture(scope="module")
def app_url(app_home: Path) -> Iterator[str]:
    """Start the app on a fresh workspace; stop it (by PID) afterwards."""
    port = free_port()
    server = start_app(app_home, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium; skipped where it is not installed, except in CI where it must be."""
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs /usr/bin/chromium (apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
