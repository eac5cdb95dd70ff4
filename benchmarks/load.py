"""Load benchmark: simulated analysts on one server, with jobs inside the web process vs on a Dask cluster.

    python benchmarks/load.py [--sessions 10] [--minutes 10] [--think 5] [--modes inprocess cluster] [--workers 2]

For each mode, on a fresh workspace: the app (`streamlit run`, loopback only) and, for "cluster", a local Dask
cluster of `--workers` workers (workbench.cluster, as scripts/start.sh starts it). One AutoML search (2 minutes)
starts first, through the AutoML page's button. Then `--sessions` simulated browser sessions (each a websocket
to Streamlit's /_stcore/stream speaking its protocol, as a tab does, on a project of its own) open the Explore
and Data pages in turn for `--minutes`, reading each for `--think` seconds (a person looks at a page before the
next click), and click Train on the Model page once a minute. Measured:
- page time: from asking for a script run (opening a page, clicking a button) to the run finished, p50/p95;
- errors: runs that drew an exception, timed out (120 s) or lost their websocket;
- jobs: started, finished ("done") within 5 minutes of the end, recorded in the store;
- the web server's memory (RSS) after warm-up (each page opened once) and once every session closed and every
  job ended.
Targets (issue 18): 0 errors, page p95 < 2 s while jobs run, every job done, memory within +150 MB.
On 2 cores the browsers, the server and the workers share the CPUs, so the comparison between the two modes in
the same run is what counts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from workbench import cluster as local_cluster  # noqa: E402
from workbench.launch import start_app  # noqa: E402
from workbench.samples import add_sample  # noqa: E402
from workbench.store import Store  # noqa: E402

def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Session:
    """One simulated browser tab: a websocket to Streamlit's /_stcore/stream that asks for script runs (as the
    page does on opening a URL or clicking a button) and reads the app's messages until the run finishes."""

    def __init__(self, port: int) -> None:
        self.port, self.ws, self.buttons = port, None, []

    async def open(self) -> None:
        from tornado.websocket import websocket_connect

        self.ws = await websocket_connect(f"ws://127.0.0.1:{self.port}/_stcore/stream", subprotocols=["streamlit"])

    async def run(self, page: str, query: str, click: str | None = None) -> tuple[float, int]:
        """Seconds until the run of `page` finished (clicking the button whose key is `click`), and how many
        exceptions it drew."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        message = BackMsg()
        message.rerun_script.query_string = query
        message.rerun_script.page_name = page
        if click is not None:
            widget = message.rerun_script.widget_states.widgets.add()
            widget.id = next(b for b in self.buttons if b.endswith(f"-{click}"))
            widget.trigger_value = True
        began = time.perf_counter()
        await self.ws.write_message(message.SerializeToString(), binary=True)
        self.buttons, exceptions = [], 0
        while True:
            raw = await asyncio.wait_for(self.ws.read_message(), 120)
            if raw is None:
                raise ConnectionError("the server closed the websocket")
            forward = ForwardMsg()
            forward.ParseFromString(raw)
            kind = forward.WhichOneof("type")
            if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                element = forward.delta.new_element
                if element.WhichOneof("type") == "button":
                    self.buttons.append(element.button.id)
                exceptions += element.WhichOneof("type") == "exception"
            if kind == "script_finished" and forward.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                return time.perf_counter() - began, exceptions


async def analyst(port: int, project: str, seconds: float, think: float, times: list, errors: list,
                  started: list) -> None:
    """Opens the Explore and Data pages in turn, and once a minute the Model page and its Train button."""
    session = Session(port)
    await session.open()
    end = time.monotonic() + seconds
    next_job = time.monotonic() + 5
    query = f"project={project}"
    turn = 0
    while time.monotonic() < end:
        try:
            if time.monotonic() >= next_job:
                times.append((await session.run("model", query))[0])
                took, failed = await session.run("model", query, click="train")
                started.append(project)
                next_job += 60
            else:
                took, failed = await session.run(("explore", "data")[turn % 2], query)
                turn += 1
            times.append(took)
            if failed:
                errors.append("exception")
        except Exception as exc:  # a timeout or a closed websocket
            errors.append(type(exc).__name__)
            session = Session(port)
            await session.open()
        await asyncio.sleep(think)
    session.ws.close()


async def drive(port: int, projects: list[str], seconds: float, think: float, pid: int, rss: dict) -> dict:
    times: list[float] = []
    errors: list[str] = []
    started: list[str] = []
    warm = Session(port)
    await warm.open()
    for page in ("explore", "data", "model", "automl"):  # every page's modules loaded: not counted
        await warm.run(page, f"project={projects[0]}")
    rss["start"] = psutil.Process(pid).memory_info().rss
    await warm.run("automl", f"project={projects[0]}", click="automl_start")  # a 2-minute search first
    await asyncio.gather(*(analyst(port, p, seconds, think, times, errors, started) for p in projects[1:]))
    warm.ws.close()
    return {"times": times, "errors": errors, "started": len(started)}


def run_mode(mode: str, sessions: int, minutes: float, think: float, workers: int) -> dict:
    home = Path(tempfile.mkdtemp(prefix=f"load-{mode}-"))
    store = Store(home)
    projects = []
    for i in range(sessions + 1):  # the first one holds the AutoML search
        project = store.create_project(f"analyst {i}")
        add_sample(store, project.id, "titanic")
        projects.append(project.id)
    env: dict[str, str] = {}
    if mode == "cluster":
        port = free_port()
        local_cluster.start(home, port, workers)
        env["WORKBENCH_DASK_SCHEDULER"] = local_cluster.address(port)
    port = free_port()
    server = start_app(home, port, env, home / "streamlit.log")
    try:
        rss: dict = {}
        result = asyncio.run(drive(port, projects, minutes * 60, think, server.pid, rss))
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            rows = [j for p in projects for j in store.list_jobs(p)]
            if all(j["status"] not in ("queued", "running") for j in rows):
                break
            time.sleep(2)
        rows = [j for p in projects for j in store.list_jobs(p)]
        time.sleep(5)  # every session closed, every job ended: what the server keeps now stays
        rss_start, rss_end = rss["start"], psutil.Process(server.pid).memory_info().rss
    finally:
        server.terminate()
        server.wait(30)
        if mode == "cluster":
            local_cluster.stop(home)
    times = np.array(result["times"])
    train = [j for j in rows if j["kind"] == "train"]
    return {"mode": mode, "pages": len(times), "p50_s": round(float(np.percentile(times, 50)), 2),
            "p95_s": round(float(np.percentile(times, 95)), 2), "errors": len(result["errors"]),
            "error_kinds": sorted(set(result["errors"])), "train_started": result["started"],
            "train_done": sum(j["status"] == "done" for j in train), "train_recorded": len(train),
            "automl_done": sum(j["status"] == "done" for j in rows if j["kind"] == "automl"),
            "rss_start_mb": round(rss_start / 2**20), "rss_end_mb": round(rss_end / 2**20),
            "rss_growth_mb": round((rss_end - rss_start) / 2**20)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--think", type=float, default=5.0, help="seconds a session reads a page before the next")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--modes", nargs="+", default=["inprocess", "cluster"], choices=["inprocess", "cluster"])
    args = parser.parse_args()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, {args.sessions} sessions, "
          f"{args.minutes} min, {args.think} s per page, {args.workers} workers for the cluster", flush=True)
    results = [run_mode(mode, args.sessions, args.minutes, args.think, args.workers) for mode in args.modes]
    print("| mode | pages opened | p50 (s) | p95 (s) | errors | training jobs started / done | AutoML done | "
          "server RSS start → end (MB) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['mode']} | {r['pages']} | {r['p50_s']} | {r['p95_s']} | {r['errors']} | "
              f"{r['train_started']} / {r['train_done']} | {r['automl_done']} | {r['rss_start_mb']} → "
              f"{r['rss_end_mb']} ({r['rss_growth_mb']:+d}) |")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
