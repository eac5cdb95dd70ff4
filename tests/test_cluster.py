"""Jobs on a real Dask cluster (scheduler and worker processes): they run on a worker, outlive the process that
started them, and a worker that dies leaves its job interrupted with "Run again"; heartbeats and the queue."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from tests.cluster import dask_cluster, until, worker_of
from tests.conftest import ROOT, free_port
from workbench import jobs
from workbench.errors import UserError
from workbench.store import Store


def _project_with_titanic(home):
    from workbench.samples import add_sample

    store = Store(home)
    project = store.create_project("team")
    return store, project, add_sample(store, project.id, "titanic")


def test_a_job_runs_on_a_worker_and_outlives_the_web_server_that_started_it(tmp_path):
    with dask_cluster(tmp_path, workers=1, jobs=True) as (client, _):
        store, project, dataset = _project_with_titanic(tmp_path / "ws")
        server = textwrap.dedent(f"""
            import os
            from workbench.experiments import start
            from workbench.store import Store
            from workbench.training import Settings
            store = Store({str(tmp_path / "ws")!r})
            job_id, _ = start(store, {project.id!r}, "train", dataset_id={dataset.id!r},
                              settings=[Settings("survived", "binary", "random_forest")])
            print(job_id, os.getpid(), flush=True)
            os._exit(0)  # the web server goes at once, without waiting for anything
        """)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "WORKBENCH_DASK_SCHEDULER": client.scheduler.address}
        ran = subprocess.run([sys.executable, "-c", server], env=env, capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0, ran.stderr
        job_id, server_pid = ran.stdout.split()
        assert store.get_job(job_id)["status"] in jobs.ACTIVE  # its server is gone; the job is not
        assert jobs.interrupt_orphans(store) == 0  # a new server process leaves the cluster's jobs alone
        assert until(lambda: store.get_job(job_id)["status"] not in jobs.ACTIVE, 120)
        job = store.get_job(job_id)
        assert job["status"] == "done" and job["owner"] == jobs.ON_CLUSTER, job["message"]
        [experiment] = store.list_experiments(project.id)
        assert experiment.id in jobs.made_experiments(job) and 0.7 < experiment.record["metrics"]["roc_auc"] <= 1
        worker_pid = next(iter(client.run(os.getpid).values()))
        assert worker_pid not in (os.getpid(), int(server_pid))
        # a job on a single-threaded worker fits on one core (joblib's n_jobs), not on every core of the machine
        from workbench.training import job_cores

        assert client.submit(job_cores, pure=False).result() == 1 and job_cores() == (os.cpu_count() or 1)


def test_a_worker_that_dies_mid_job_leaves_it_interrupted_and_it_can_run_again(tmp_path, monkeypatch):
    from workbench.experiments import restart, start
    from workbench.training import Settings

    with dask_cluster(tmp_path, workers=2, jobs=True) as (client, workers):
        monkeypatch.setenv("WORKBENCH_DASK_SCHEDULER", client.scheduler.address)
        store, project, dataset = _project_with_titanic(tmp_path / "ws")
        job_id, _ = start(store, project.id, "tune", dataset_id=dataset.id,
                          settings=Settings("survived", "binary", "random_forest"), candidates=400)
        assert until(lambda: store.get_job(job_id)["status"] == "running", 90)
        worker_of(client, f"workbench-job-{job_id}", workers).kill()
        # Dask hands the task to the other worker, which sees that it was started before
        assert until(lambda: store.get_job(job_id)["status"] == "interrupted", 60)
        assert jobs.message(store.get_job(job_id)).key == "job.worker_lost" and store.list_experiments(project.id) == []
        again, _ = restart(store, job_id)
        assert until(lambda: store.get_job(again)["status"] == "running", 60)
        jobs.cancel(store, again)
        assert until(lambda: store.get_job(again)["status"] == "cancelled", 60)


def test_a_running_cluster_job_whose_heartbeat_stops_is_interrupted(store, monkeypatch):
    project = store.create_project("p")
    silent = store.add_job(project.id, "train", jobs.ON_CLUSTER)
    store.update_job(silent, status="running")
    queued = store.add_job(project.id, "train", jobs.ON_CLUSTER)
    monkeypatch.setattr(jobs, "STALE_S", 0.3)
    time.sleep(0.4)
    beating = store.add_job(project.id, "train", jobs.ON_CLUSTER)
    store.update_job(beating, status="running")
    assert jobs.interrupt_lost(store) == 1
    assert [store.get_job(j)["status"] for j in (silent, queued, beating)] == ["interrupted", "queued", "running"]


def test_a_job_on_the_cluster_beats_a_heartbeat_while_it_works_silently(store, monkeypatch):
    monkeypatch.setattr(jobs, "HEARTBEAT_S", 0.1)
    project = store.create_project("p")
    job_id = store.add_job(project.id, "train", jobs.ON_CLUSTER)
    beats = []

    def work(ctx: jobs.JobContext) -> dict:
        for _ in range(5):
            time.sleep(0.15)
            beats.append(store.get_job(ctx.job_id)["updated_at"])
        return {}

    jobs._run(store, job_id, project.id, work, heartbeat=True)
    assert len(set(beats)) >= 3 and store.get_job(job_id)["status"] == "done"
    settled = store.get_job(job_id)["updated_at"]
    time.sleep(0.3)
    assert store.get_job(job_id)["updated_at"] == settled  # the heartbeat ends with the job


def test_a_queued_job_cancelled_is_cancelled_at_once_and_never_starts(store):
    from workbench.experiments import run_stored

    project = store.create_project("p")
    job_id = store.add_job(project.id, "train", jobs.ON_CLUSTER, '{"dataset_id": "gone", "settings": []}')
    jobs.cancel(store, job_id)  # e.g. its cluster is gone: the page is not left waiting on it
    assert store.get_job(job_id)["status"] == "cancelled" and jobs.active_jobs(store, project.id) == []
    run_stored(str(store.home), job_id)  # the scheduler hands it to a worker after all: it does not run
    assert store.get_job(job_id)["status"] == "cancelled"


def test_queued_jobs_know_their_place_across_projects(store):
    one, two = store.create_project("one"), store.create_project("two")
    running = store.add_job(one.id, "automl", jobs.ON_CLUSTER)
    store.update_job(running, status="running")
    first = store.add_job(two.id, "automl", jobs.ON_CLUSTER)
    second = store.add_job(one.id, "train", jobs.ON_CLUSTER)
    assert [jobs.queue_place(store, store.get_job(j)) for j in (running, first, second)] == [None, 1, 2]
    store.update_job(first, status="running")
    assert jobs.queue_place(store, store.get_job(second)) == 1


def test_a_scheduler_that_does_not_answer_refuses_the_job_with_a_message(store, monkeypatch):
    from workbench.experiments import start
    from workbench.samples import add_sample
    from workbench.training import Settings

    project = store.create_project("p")
    dataset = add_sample(store, project.id, "titanic")
    monkeypatch.setenv("WORKBENCH_DASK_SCHEDULER", f"tcp://127.0.0.1:{free_port()}")
    monkeypatch.setattr(jobs, "CONNECT_S", 1.0)
    with pytest.raises(UserError) as refused:
        start(store, project.id, "train", dataset_id=dataset.id, settings=[Settings("survived", "binary", "dummy")])
    assert refused.value.key == "job.no_scheduler" and store.list_jobs(project.id) == []


def test_the_local_cluster_of_start_sh_runs_jobs_and_stops(tmp_path, monkeypatch):
    from workbench import cluster
    from workbench.experiments import start
    from workbench.training import Settings

    port = free_port()
    home = tmp_path / "ws"
    started = cluster.start(home, port, workers=1)
    try:
        assert started["workers_started"] == 1 and cluster.answers(port)
        assert cluster.start(home, port, workers=1) == {}  # a second start uses the running one
        from distributed import Client

        with Client(cluster.address(port), timeout=30) as client:  # workers yield the CPU to the web server
            assert set(client.run(os.nice, 0).values()) == {min(19, os.nice(0) + cluster.WORKER_NICE)}
        monkeypatch.setenv("WORKBENCH_DASK_SCHEDULER", cluster.address(port))
        store, project, dataset = _project_with_titanic(home)
        job_id, future = start(store, project.id, "train", dataset_id=dataset.id,
                               settings=[Settings("survived", "binary", "logistic_regression")])
        future.result(timeout=120)
        job = store.get_job(job_id)
        assert job["status"] == "done" and job["owner"] == jobs.ON_CLUSTER, job["message"]
    finally:
        assert cluster.stop(home)
    assert until(lambda: not cluster.answers(port), 20) and not cluster.stop(home)


def test_an_automl_job_on_the_cluster_searches_with_tpot_there_too(tmp_path, monkeypatch):
    """On a worker the job's client is not the process's default one: TPOT must still reach the cluster
    (it once failed at once there, "No clients found", and only the portfolio's models were tried)."""
    from workbench.automl import AutoMLSettings
    from workbench.experiments import automl_progress, start
    from workbench.samples import add_sample

    with dask_cluster(tmp_path, workers=2, jobs=True) as (client, _):
        monkeypatch.setenv("WORKBENCH_DASK_SCHEDULER", client.scheduler.address)
        store = Store(tmp_path / "ws")
        project = store.create_project("automl")
        dataset = add_sample(store, project.id, "penguins")
        job_id, _ = start(store, project.id, "automl", dataset_id=dataset.id, settings=AutoMLSettings(
            "species", "multiclass", "balanced_accuracy", minutes=0.5, preset="fast", folds=3))
        assert until(lambda: store.get_job(job_id)["status"] not in jobs.ACTIVE, 150)
        job = store.get_job(job_id)
        assert job["status"] == "done", job["message"]
        sources = {row["source"] for row in automl_progress(job)["leaderboard"]}
        assert "tpot" in sources, sources
