"""Shared fixtures: real data files and a fresh workspace per test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from workbench.store import Store

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
DATA = Path(__file__).resolve().parent / "data"


def sample_bytes(name: str) -> bytes:
    """Bytes of a file in sample_data/."""
    return (SAMPLES / name).read_bytes()


def data_bytes(name: str) -> bytes:
    """Bytes of a file in tests/data/."""
    return (DATA / name).read_bytes()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen, seconds: float = 15) -> None:
    """Stop a server started by a test: SIGTERM, then SIGKILL if it is still running after `seconds` (a busy
    process, such as a Dask worker fitting a pipeline in its only thread, may not stop on SIGTERM for a while)."""
    process.terminate()
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(seconds)


def fresh_python(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    """A new interpreter run in `cwd` (e.g. an unzipped bundle) with nothing of the repo on its path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "WORKBENCH_HOME")}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty WORKBENCH_HOME for this test."""
    home = tmp_path / "workspace"
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # a test that wants MLflow starts its own
    return home


@pytest.fixture
def store(workspace: Path) -> Store:
    """A Store on the test's empty workspace."""
    return Store(workspace)


@pytest.fixture(scope="session")
def titanic() -> pd.DataFrame:
    """sample_data/titanic.csv as the importer reads it (do not modify it in a test)."""
    from workbench.io import read_table

    return read_table(sample_bytes("titanic.csv"), "titanic.csv")[0]


@pytest.fixture(scope="session")
def postgres() -> str:
    """The base URL of a PostgreSQL server started for this test session."""
    from tests.postgres import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test on both databases: SQLite in the workspace folder and a new PostgreSQL database
    (WORKBENCH_DATABASE_URL, so stores opened in other processes use it too)."""
    if request.param == "sqlite":
        monkeypatch.delenv("WORKBENCH_DATABASE_URL", raising=False)
        return "sqlite"
    from tests.postgres import new_database

    url = new_database(request.getfixturevalue("postgres"))
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", url)
    return url
