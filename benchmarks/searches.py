"""Concurrent searches benchmark: three analysts start a 1-minute AutoML search at the same moment on a 2-worker cluster.

    python benchmarks/searches.py [--searches 3] [--workers 2] [--minutes 1]

On a fresh workspace, a local Dask cluster of `--workers` workers (workbench.cluster, as scripts/start.sh starts
it) and `--searches` signed-in people, each with a project of their own holding scikit-learn's breast cancer
table (569 rows, 30 columns, binary; no column gives the answer away, so no search ends early). Each starts
an AutoML search of `--minutes` as the AutoML page's button does (workbench.experiments.start, from one thread per
person, at once). Every 0.25 s the store is read as a job panel reads it. Measured per search:
- waited: from the click until the job shows "running";
- the places in the queue it showed while it waited (workbench.jobs.queue_place);
- ran: from "running" until "done", against the budget; its winner's cross-validated score.
Targets (issue 18): with 2 workers, two searches start at once (neither waits for the other); the third shows
"place 1" until a worker is free, then runs; every search ends within its budget + 10% plus the winner's training.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.load import free_port  # noqa: E402
from workbench import cluster as local_cluster  # noqa: E402
from workbench import jobs  # noqa: E402
from workbench.automl import AutoMLSettings  # noqa: E402
from workbench.io import read_table  # noqa: E402
from workbench.store import Store, User  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=1.0)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="queue-"))
    store = Store(home)
    people = [store.as_user(User(f"analyst{i}@example.com")) for i in range(1, args.searches + 1)]
    from sklearn.datasets import load_breast_cancer

    table = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "benign"}).to_csv(index=False).encode()
    projects = []
    for person in people:
        project = person.create_project("churn")
        frame, report = read_table(table, "breast_cancer.csv")
        dataset = person.add_dataset(project.id, "breast_cancer.csv", table, "breast_cancer.csv", frame, report)
        projects.append((person, project.id, dataset.id))
    port = free_port()
    local_cluster.start(home, port, args.workers)
    os.environ["WORKBENCH_DASK_SCHEDULER"] = local_cluster.address(port)
    from workbench.experiments import start

    clicked: dict[int, float] = {}
    job_ids: dict[int, str] = {}

    def click(i: int) -> None:
        person, project_id, dataset_id = projects[i]
        clicked[i] = time.monotonic()
        job_ids[i], _ = start(person, project_id, "automl", dataset_id=dataset_id,
                              settings=AutoMLSettings("benign", "binary", minutes=args.minutes))

    try:
        threads = [threading.Thread(target=click, args=(i,)) for i in range(args.searches)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        running: dict[int, float] = {}
        ended: dict[int, float] = {}
        places: dict[int, list[int]] = {i: [] for i in job_ids}
        deadline = time.monotonic() + args.searches * (args.minutes * 60 * 1.5 + 120)
        while len(ended) < len(job_ids) and time.monotonic() < deadline:
            for i, job_id in job_ids.items():
                job = store.get_job(job_id)
                now = time.monotonic()
                place = jobs.queue_place(store, job)
                if place is not None and (not places[i] or places[i][-1] != place):
                    places[i].append(place)
                if job["status"] == "running" and i not in running:
                    running[i] = now
                if job["status"] not in jobs.ACTIVE and i not in ended:
                    ended[i] = now
                    running.setdefault(i, now)
            time.sleep(0.25)
        rows = []
        for i, job_id in job_ids.items():
            job = store.get_job(job_id)
            experiments = jobs.made_experiments(job)
            score = None
            if experiments:
                record = store.get_experiment(experiments[-1]).record
                score = round(float(record["metrics"].get("roc_auc", float("nan"))), 4)
            rows.append({"analyst": i + 1, "status": job["status"],
                         "waited_s": round(running.get(i, time.monotonic()) - clicked[i], 1),
                         "places_shown": places[i],
                         "ran_s": round(ended.get(i, time.monotonic()) - running.get(i, time.monotonic()), 1),
                         "test_roc_auc": score})
    finally:
        local_cluster.stop(home)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, {args.workers} workers, "
          f"{args.searches} searches of {args.minutes} min, {datetime.now():%Y-%m-%d %H:%M}")
    print("| analyst | status | waited (s) | places shown while queued | ran (s) | test ROC AUC |")
    print("|---:|---|---:|---|---:|---:|")
    for r in rows:
        print(f"| {r['analyst']} | {r['status']} | {r['waited_s']} | {r['places_shown'] or '-'} | {r['ran_s']} | "
              f"{r['test_roc_auc']} |")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
