"""The endpoint the app runs: the production version's bundle, unpacked under the project's folder and served
by its own serve.py in a process of its own (it outlives the web server), with an API key the Deploy page can
rotate, a request log and /metrics (see workbench/deploy/bundle/serve.py).

Files, under <project folder>/endpoint/: api_key (the key, readable by its owner only), state.json (process,
address, version, start time), server.log (what serve.py printed), requests.sqlite3 (every request and
prediction, kept across versions and restarts), v<N>/ (the unpacked bundle of version N)."""

from __future__ import annotations

import errno
import io
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.deploy.export import sample_request
from workbench.deploy.versions import aliased, version_bundle
from workbench.errors import UserError
from workbench.store import Store

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
START_S = 30.0  # how long a start may take before it is called failed (loading the model takes a few seconds)
STOP_S = 5.0
LOG_LINES = 20


@dataclass(frozen=True)
class Endpoint:
    """What the Deploy page shows about the project's endpoint."""

    running: bool
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    version: int | None = None
    started_at: str = ""
    pid: int | None = None
    died: bool = False  # it was started and is gone without being stopped
    last_log: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def uptime_s(self) -> float:
        if not self.running or not self.started_at:
            return 0.0
        return (datetime.now(timezone.utc) - datetime.fromisoformat(self.started_at)).total_seconds()


def folder(store: Store, project_id: str) -> Path:
    return store.project_dir(project_id) / "endpoint"


def _may_change(store: Store, project_id: str) -> None:
    if store.role(project_id) not in ("owner", "editor"):
        raise UserError("store.viewer_only")


def api_key(store: Store, project_id: str, rotate: bool = False) -> str:
    """The endpoint's API key (made on first use); `rotate` replaces it, and a running endpoint takes the new
    one at its next request (serve.py reads the file again when it changes)."""
    path = folder(store, project_id) / "api_key"
    if path.is_file() and not rotate:
        return path.read_text(encoding="utf-8").strip()
    _may_change(store, project_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(key, encoding="utf-8")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return key


def status(store: Store, project_id: str) -> Endpoint:
    """Whether the endpoint runs, where, which version, since when; a process that died is said so, with the
    last lines it printed."""
    record = folder(store, project_id) / "state.json"
    if not record.is_file():
        return Endpoint(False)
    state = json.loads(record.read_text(encoding="utf-8"))
    alive = _alive(state.get("pid"))
    return Endpoint(alive, state["host"], int(state["port"]), state.get("version"), state.get("started_at", ""),
                    state.get("pid") if alive else None, died=not alive and not state.get("stopped", False),
                    last_log=() if alive else _last_lines(folder(store, project_id) / "server.log"))


def _alive(pid: int | None) -> bool:
    """Whether `pid` is a serve.py process still running (a reused process id is not taken for it)."""
    import psutil

    if not pid:
        return False
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        # a process on its way out has lost its command line before it lets go of its port: still running
        command = process.cmdline()
        return "serve.py" in " ".join(command) if command else process.name().startswith("python")
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _last_lines(path: Path, lines: int = LOG_LINES) -> tuple[str, ...]:
    if not path.is_file():
        return ()
    return tuple(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def check_address(host: str, port: int, wait_s: float = 0) -> None:
    """Raise UserError when nothing could listen on host:port (taken, or a host this machine is not); a port in
    use is tried again for up to wait_s seconds."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return _bindable(host, port)
        except UserError as error:
            if error.key != "endpoint.port_in_use" or time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def _bindable(host: str, port: int) -> None:
    if not 1 <= int(port) <= 65535:
        raise UserError("endpoint.bad_port", port=port)
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            # as uvicorn binds: a port whose last connections are closing (TIME_WAIT) can be listened on again
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, int(port)))
    except socket.gaierror:
        raise UserError("endpoint.bad_host", host=host) from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UserError("endpoint.port_in_use", port=port) from None
        if exc.errno == errno.EACCES:
            raise UserError("endpoint.port_forbidden", port=port) from None
        raise UserError("endpoint.bad_host", host=host) from None


def start(store: Store, project_id: str, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          wait_s: float = START_S) -> Endpoint:
    """Serve the production version on host:port (stopping an endpoint of an older version first); returns
    once /health answers. Raises UserError without a production version, for an address that cannot be
    used, or when serve.py does not come up (with its last lines)."""
    _may_change(store, project_id)
    version = aliased(store, project_id)
    if version is None:
        raise UserError("endpoint.no_production")
    now = status(store, project_id)
    if now.running:
        if (now.host, now.port, now.version) == (host, int(port), version.number):
            return now
        stop(store, project_id)
    # the endpoint that just stopped or died may hold its port a moment longer (its last threads are exiting)
    check_address(host, port, wait_s=STOP_S if (now.host, now.port) == (host, int(port)) else 0)
    base = folder(store, project_id)
    bundle = base / f"v{version.number}"
    if not (bundle / "serve.py").is_file():
        data = version_bundle(store, version)
        shutil.rmtree(bundle, ignore_errors=True)
        zipfile.ZipFile(io.BytesIO(data)).extractall(bundle)
    key_file = base / "api_key"
    api_key(store, project_id)
    log = open(base / "server.log", "wb")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "WORKBENCH_API_KEY")}
    process = subprocess.Popen([sys.executable, "serve.py", "--host", host, "--port", str(int(port)),
                                "--key-file", str(key_file), "--log", str(base / "requests.sqlite3")],
                               cwd=bundle, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                               start_new_session=True)  # not stopped with the web server
    log.close()
    state = {"pid": process.pid, "host": host, "port": int(port), "version": version.number,
             "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    (base / "state.json").write_text(json.dumps(state), encoding="utf-8")
    deadline = time.monotonic() + wait_s
    while not _answers(Endpoint(True, host, int(port)).url):
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.kill()
            process.wait()
            raise UserError("endpoint.did_not_start",
                            log="\n".join(_last_lines(base / "server.log", 8)) or "-")
        time.sleep(0.1)
    return status(store, project_id)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


def stop(store: Store, project_id: str) -> bool:
    """Stop the endpoint (SIGTERM, then SIGKILL after a few seconds); False when none was running."""
    _may_change(store, project_id)
    record = folder(store, project_id) / "state.json"
    now = status(store, project_id)
    if record.is_file():
        state = json.loads(record.read_text(encoding="utf-8"))
        record.write_text(json.dumps({**state, "stopped": True}), encoding="utf-8")
    if not now.running or now.pid is None:
        return False
    import psutil

    try:
        process = psutil.Process(now.pid)
        os.killpg(now.pid, signal.SIGTERM)
        process.wait(STOP_S)
    except psutil.TimeoutExpired:
        os.killpg(now.pid, signal.SIGKILL)
    except (psutil.NoSuchProcess, ProcessLookupError):
        pass
    return True


def example_request(store: Store, project_id: str, endpoint: Endpoint) -> str:
    """A curl command that sends the production version's sample rows to the endpoint."""
    version = aliased(store, project_id)
    body = json.dumps(sample_request(version.record["schema"]) if version else {"rows": []}, ensure_ascii=False)
    return (f"curl -s {endpoint.url}/predict -H 'X-API-Key: <key>' -H 'content-type: application/json' "
            f"-d '{body}'")


def requests_log(store: Store, project_id: str, limit: int = 200) -> pd.DataFrame:
    """The newest requests the endpoint logged: when, version, status, rows, latency, inputs, outputs, error."""
    path = folder(store, project_id) / "requests.sqlite3"
    columns = ["at", "version", "status", "rows", "latency_ms", "inputs", "outputs", "error"]
    if not path.is_file():
        return pd.DataFrame(columns=columns)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        try:
            return pd.read_sql_query(f"SELECT {', '.join(columns)} FROM requests ORDER BY id DESC LIMIT ?", db,
                                     params=(int(limit),))
        except (sqlite3.OperationalError, pd.errors.DatabaseError):  # not created yet
            return pd.DataFrame(columns=columns)


def logged_inputs(store: Store, project_id: str) -> pd.DataFrame:
    """Every row the endpoint predicted for (successful requests), oldest first, with when and which version:
    what monitoring compares with the training data."""
    log = requests_log(store, project_id, limit=1_000_000)
    rows: list[dict[str, Any]] = []
    for entry in log[log["status"] == 200].iloc[::-1].itertuples():
        for row in json.loads(entry.inputs or "[]"):
            rows.append({**row, "_at": entry.at, "_version": entry.version})
    return pd.DataFrame(rows)
