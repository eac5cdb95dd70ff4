"""A real Dask cluster for tests: a `dask scheduler` and single-threaded `dask worker` processes on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

from tests.conftest import ROOT, free_port, stop


@contextlib.contextmanager
def dask_cluster(tmp_path: Path, workers: int, jobs: bool = False) -> Iterator[tuple[object, list]]:
    """Yields a client and the worker processes (started without nannies, so a killed worker stays dead).
    With `jobs`, the workers can import workbench, offer the resource a workbench job asks for and name their
    own scheduler, as those `scripts/start.sh` starts."""
    from distributed import Client

    from workbench.jobs import JOB_RESOURCE

    port = free_port()
    dask = os.path.join(os.path.dirname(sys.executable), "dask")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    logs = open(tmp_path / "dask.log", "wb")
    scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                 stdout=logs, stderr=subprocess.STDOUT, cwd=tmp_path, env=env)
    extra = ["--resources", f"{JOB_RESOURCE}=1"] if jobs else []
    if jobs:  # a job's own Dask work (an AutoML job's TPOT search) goes to the same cluster, as on start.sh's
        env["WORKBENCH_DASK_SCHEDULER"] = f"tcp://127.0.0.1:{port}"
    processes = [subprocess.Popen([dask, "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1", "--no-nanny",
                                   "--no-dashboard", "--memory-limit", "3GiB", *extra], stdout=logs,
                                  stderr=subprocess.STDOUT, cwd=tmp_path, env=env) for _ in range(workers)]
    client = None
    try:
        client = Client(f"tcp://127.0.0.1:{port}", timeout=60)
        client.wait_for_workers(workers, timeout=60)
        yield client, processes
    finally:
        if client is not None:
            client.close()
        for process in (*processes, scheduler):
            stop(process, 10)
        logs.close()


def until(condition, seconds: float) -> bool:
    """Wait for `condition()` to hold, at most `seconds`; whether it does."""
    import time

    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)
    return bool(condition())


def worker_of(client, key: str, processes: list, seconds: float = 60):
    """The worker process running the task `key` (waits until one is)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        running = [w for w, keys in client.processing().items() if key in keys]
        if running:
            pid = client.run(os.getpid, workers=running)[running[0]]
            return next(p for p in processes if p.pid == pid)
        time.sleep(0.2)
    raise AssertionError(f"no worker runs {key}")
