"""Serving benchmark: the endpoint the Deploy page starts, timed from a client on the same machine.

    python benchmarks/serve.py [--requests 500] [--model random_forest]

On a fresh workspace: the titanic sample, one model trained and registered (version 1, production), its endpoint
started as the Deploy page starts it (workbench.deploy.serving.start: serve.py in its own process, API key,
request log on). Measured:
- start and stop: seconds from the call until /health answers, and until the process is gone;
- one-row requests: `--requests` POSTs of one row each, one after another over a kept-alive connection, p50/p95/
  p99 of the time to the answer, with every request logged; and the same with logging off (the bundle served by
  uvicorn without the request log), as the baseline of what logging costs;
- 1,000-row requests: 20 POSTs of 1,000 rows, p50/p95, and rows per second.
Targets (issue 16): one-row p95 under 50 ms with logging on; start or stop under 5 s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.load import free_port  # noqa: E402
from workbench.deploy import serving  # noqa: E402
from workbench.deploy import versions as V  # noqa: E402
from workbench.experiments import save_experiment  # noqa: E402
from workbench.recipe import Recipe  # noqa: E402
from workbench.samples import add_sample  # noqa: E402
from workbench.store import Store  # noqa: E402
from workbench.training import Settings, train_experiment  # noqa: E402


def timed_posts(port: int, key: str, bodies: list[bytes]) -> np.ndarray:
    """Milliseconds per request, one after another on one kept-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"content-type": "application/json", "X-API-Key": key}
    times = []
    for body in bodies:
        began = time.perf_counter()
        connection.request("POST", "/predict", body, headers)
        answer = connection.getresponse()
        answer.read()
        times.append((time.perf_counter() - began) * 1000)
        assert answer.status == 200, answer.status
    connection.close()
    return np.array(times)


def summary(times: np.ndarray) -> dict:
    return {q: round(float(np.percentile(times, p)), 2) for q, p in (("p50", 50), ("p95", 95), ("p99", 99))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--model", default="random_forest")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="serve-"))
    store = Store(home)
    project = store.create_project("serve")
    dataset = add_sample(store, project.id, "titanic")
    frame = store.load_frame(dataset.id).drop(columns=["alive"])
    experiment = save_experiment(store, project.id, dataset.id, 0,
                                 train_experiment(frame, Recipe(), Settings("survived", "binary", args.model)))
    V.register(store, project.id, experiment.id)
    rows = frame.drop(columns=["survived"]).astype(object).where(frame.notna(), None).to_dict("records")
    one = [json.dumps({"rows": [rows[i % len(rows)]]}, default=str).encode() for i in range(args.requests)]
    big = [json.dumps({"rows": [rows[(i * 7 + j) % len(rows)] for j in range(1000)]}, default=str).encode()
           for i in range(20)]

    port = free_port()
    began = time.perf_counter()
    endpoint = serving.start(store, project.id, "127.0.0.1", port)
    start_s = time.perf_counter() - began
    key = serving.api_key(store, project.id)
    timed_posts(port, key, one[:20])  # warm-up
    logged = timed_posts(port, key, one)
    thousand = timed_posts(port, key, big)
    began = time.perf_counter()
    serving.stop(store, project.id)
    stop_s = time.perf_counter() - began
    logged_rows = len(serving.requests_log(store, project.id, limit=10**6))

    # the baseline: the same bundle served without the request log (serve.py's app, no LOG opened)
    folder = serving.folder(store, project.id) / f"v{endpoint.version}"
    base_port = free_port()
    code = ("import serve, uvicorn; uvicorn.run(serve.app, host='127.0.0.1', port=%d, log_level='warning', "
            "access_log=False)" % base_port)
    plain = subprocess.Popen([sys.executable, "-c", code], cwd=folder, env={
        **{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "WORKBENCH_API_KEY": key})
    try:
        deadline = time.monotonic() + 60
        while not serving._answers(f"http://127.0.0.1:{base_port}"):
            assert time.monotonic() < deadline and plain.poll() is None, "the baseline did not start"
            time.sleep(0.1)
        timed_posts(base_port, key, one[:20])
        unlogged = timed_posts(base_port, key, one)
    finally:
        plain.terminate()
        plain.wait(10)

    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {args.model} on titanic, {args.requests} one-row requests")
    print("| measure | p50 (ms) | p95 (ms) | p99 (ms) |")
    print("|---|---:|---:|---:|")
    for name, times in (("one row, request log on", logged), ("one row, no request log (baseline)", unlogged),
                        ("1,000 rows, request log on", thousand)):
        s = summary(times)
        print(f"| {name} | {s['p50']} | {s['p95']} | {s['p99']} |")
    print(f"\n1,000-row requests: {1000 / (np.median(thousand) / 1000):,.0f} rows/s at the median; "
          f"start {start_s:.2f} s, stop {stop_s:.2f} s; {logged_rows} requests in the log "
          f"(expected {args.requests + 40}).")
    print(json.dumps({"start_s": round(start_s, 2), "stop_s": round(stop_s, 2), "logged": summary(logged),
                      "unlogged": summary(unlogged), "thousand": summary(thousand), "logged_rows": logged_rows}))


if __name__ == "__main__":
    main()
