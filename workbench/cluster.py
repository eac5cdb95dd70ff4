"""The local Dask cluster `scripts/start.sh` starts beside the app: one scheduler on 127.0.0.1 and one
single-threaded worker per core, each offering one job slot (workbench.jobs.JOB_RESOURCE), at a lower CPU
priority than the app (pages stay quick while every core trains). They run detached from the app, so jobs
outlive a restart of the web server; `python -m workbench cluster stop` ends them. Their logs and process ids
are kept in WORKBENCH_HOME/cluster/."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from workbench.errors import UserError
from workbench.jobs import JOB_RESOURCE

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 8786
WORKER_NICE = 10  # workers yield the CPU to the web server, so pages stay quick while every core trains


def address(port: int = DEFAULT_PORT) -> str:
    return f"tcp://127.0.0.1:{port}"


def answers(port: int, seconds: float = 0.5) -> bool:
    """Whether something listens on 127.0.0.1:`port`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=seconds):
            return True
    except OSError:
        return False


def start(home: Path, port: int = DEFAULT_PORT, workers: int | None = None, wait_s: float = 60.0) -> dict:
    """Start the scheduler and `workers` (default: one per core) unless a scheduler already answers on `port`;
    wait until every worker has joined. Returns what was started (empty when one was running)."""
    if answers(port):
        return {}
    folder = home / "cluster"
    folder.mkdir(parents=True, exist_ok=True)
    workers = workers or os.cpu_count() or 1
    dask = str(Path(sys.executable).with_name("dask"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "WORKBENCH_HOME": str(home), "OMP_NUM_THREADS": "1",
           "DASK_DISTRIBUTED__WORKER__DAEMON": "False",  # a job may start processes of its own (joblib)
           "WORKBENCH_DASK_SCHEDULER": address(port)}  # an AutoML job's TPOT search uses the same cluster

    def launch(name: str, args: list[str], nice: int = 0) -> int:
        log = open(folder / f"{name}.log", "ab")
        process = subprocess.Popen([dask, *args], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=folder, env=env, start_new_session=True,  # not stopped with the app
                                   preexec_fn=(lambda: os.nice(nice)) if nice else None)
        return process.pid

    pids = {"scheduler": launch("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(port),
                                              "--no-dashboard"])}
    pids["workers"] = launch("workers", ["worker", address(port), "--nworkers", str(workers), "--nthreads", "1",
                                         "--resources", f"{JOB_RESOURCE}=1", "--no-dashboard"], nice=WORKER_NICE)
    (folder / "pids.json").write_text(json.dumps({**pids, "port": port}))
    _until_joined(port, workers, wait_s)
    return {**pids, "workers_started": workers}


def _until_joined(port: int, workers: int, wait_s: float) -> None:
    from distributed import Client

    deadline = time.monotonic() + wait_s
    while not answers(port):
        if time.monotonic() > deadline:
            raise UserError("cluster.not_started", address=address(port))
        time.sleep(0.2)
    with Client(address(port), timeout=wait_s) as client:
        client.wait_for_workers(workers, timeout=max(1.0, deadline - time.monotonic()))


def stop(home: Path) -> bool:
    """Stop the cluster this workspace started (its workers first); False when there was none."""
    record = home / "cluster" / "pids.json"
    if not record.exists():
        return False
    pids = json.loads(record.read_text())
    for name in ("workers", "scheduler"):
        try:
            os.killpg(pids[name], signal.SIGTERM)  # the session: the worker processes under their nannies too
        except (ProcessLookupError, PermissionError):
            pass
    record.unlink()
    return True
