"""A throwaway PostgreSQL server for the store's tests (Debian's postgresql package: initdb, pg_ctl)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from typing import Iterator

import pytest

from tests.conftest import free_port


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name)]
    return found[-1]


def _as_server_user(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: as root they run as Debian's `postgres` user."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a private server on a free loopback port (trust auth, no fsync); yield its base URL."""
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (.ci/run installs Debian's postgresql package)")
        pytest.skip("PostgreSQL is not installed here (apt-get install postgresql)")
    folder = tempfile.mkdtemp(prefix="workbench-pg-")
    if os.geteuid() == 0:
        record = pwd.getpwnam("postgres")
        os.chown(folder, record.pw_uid, record.pw_gid)
    data, port = os.path.join(folder, "data"), free_port()
    subprocess.run(_as_server_user([initdb, "-D", data, "-U", "workbench", "--auth=trust", "-E", "UTF8",
                                    "--locale=C.UTF-8"]), check=True, capture_output=True)
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off -c full_page_writes=off"
    subprocess.run(_as_server_user([pg_ctl, "-D", data, "-o", options, "-l", os.path.join(folder, "log"),
                                    "-w", "-t", "60", "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://workbench@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_server_user([pg_ctl, "-D", data, "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def new_database(base_url: str) -> str:
    """A new, empty database on the server; its URL."""
    import psycopg

    name = f"wb_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"host=127.0.0.1 port={base_url.rsplit(':', 1)[1]} user=workbench dbname=postgres",
                         autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    return f"{base_url}/{name}"
