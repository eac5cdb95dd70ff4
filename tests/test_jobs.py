"""Jobs: progress and results in the store, cancel honoured, failures kept apart, orphans interrupted."""

from __future__ import annotations

import threading
import time

import pytest

from workbench import jobs
from workbench.errors import UserError
from workbench.store import Store, User


def _wait(future) -> None:
    future.result(timeout=60)


def test_a_job_reports_progress_and_keeps_its_result(store):
    project = store.create_project("p")
    seen = []

    def work(ctx: jobs.JobContext) -> dict:
        for i in range(3):
            ctx.report(i / 3, "job.done")
            seen.append(store.get_job(ctx.job_id)["status"])
        return {"experiments": ["a", "b"]}

    job_id, future = jobs.submit(store, project.id, "train", work)
    _wait(future)
    job = store.get_job(job_id)
    assert job["status"] == "done" and job["progress"] == 1.0 and seen == ["running"] * 3
    assert '"experiments"' in job["result"]
    assert Store(store.home).get_job(job_id)["status"] == "done"  # as another session or process sees it


def test_cancel_stops_a_running_job_between_units(store):
    project = store.create_project("p")
    started = threading.Event()
    units = []

    def work(ctx: jobs.JobContext) -> dict:
        for i in range(200):
            started.set()
            units.append(i)
            ctx.report(i / 200, "job.done")
            time.sleep(0.02)
        return {}

    job_id, future = jobs.submit(store, project.id, "tune", work)
    started.wait(10)
    jobs.cancel(store, job_id)
    _wait(future)
    assert store.get_job(job_id)["status"] == "cancelled" and len(units) < 200
    assert jobs.message(store.get_job(job_id)).key == "job.cancelled"


def test_failures_are_kept_as_messages(store):
    project = store.create_project("p")

    def mistake(ctx):
        raise UserError("target.one_class", column="y", value="a")

    def bug(ctx):
        raise RuntimeError("boom")

    first, f1 = jobs.submit(store, project.id, "train", mistake)
    second, f2 = jobs.submit(store, project.id, "train", bug)
    _wait(f1)
    _wait(f2)
    assert jobs.message(store.get_job(first)).key == "target.one_class"
    failed = store.get_job(second)
    assert failed["status"] == "failed" and jobs.message(failed).key == "error.unexpected"
    assert "boom" not in failed["message"]


def test_jobs_of_an_earlier_server_are_shown_as_interrupted(store):
    project = store.create_project("p")
    old = store.add_job(project.id, "train", owner="an earlier process")
    store.update_job(old, status="running")
    mine = store.add_job(project.id, "train", owner=jobs.OWNER)
    assert jobs.interrupt_orphans(store) == 1
    assert store.get_job(old)["status"] == "interrupted" and store.get_job(mine)["status"] == "queued"
    assert [j["id"] for j in jobs.active_jobs(store, project.id)] == [mine]


def test_train_several_and_tune_as_jobs(store):
    import json

    from workbench.experiments import leaderboard, start
    from workbench.samples import add_sample
    from workbench.tasks import MULTICLASS
    from workbench.training import Settings

    project = store.create_project("penguins")
    dataset = add_sample(store, project.id, "penguins")
    settings = [Settings("species", MULTICLASS, m) for m in ("dummy", "logistic_regression")]
    job_id, future = start(store, project.id, "train", dataset_id=dataset.id, settings=settings)
    _wait(future)
    assert store.get_job(job_id)["status"] == "done"
    board = leaderboard(store.list_experiments(project.id))
    assert list(board["model"]) == ["logistic_regression", "dummy"]

    tuning = Settings("species", MULTICLASS, "knn")
    job_id, future = start(store, project.id, "tune", dataset_id=dataset.id, settings=tuning, candidates=4)
    _wait(future)
    job = store.get_job(job_id)
    result = json.loads(job["result"])
    assert job["status"] == "done" and 0.5 < result["cv"] <= 1 and set(result["best_params"]) == {"n_neighbors",
                                                                                                    "weights"}
    assert len(store.list_experiments(project.id)) == 3


def test_an_interrupted_job_can_be_run_again_with_the_same_settings(store):
    from workbench.experiments import restart, settings_of, start
    from workbench.samples import add_sample
    from workbench.tasks import MULTICLASS
    from workbench.training import Settings, Split

    project = store.create_project("penguins")
    dataset = add_sample(store, project.id, "penguins")
    settings = Settings("species", MULTICLASS, "knn", {"n_neighbors": 7}, split=Split(folds=3, seed=7))
    job_id, future = start(store, project.id, "train", dataset_id=dataset.id, settings=[settings])
    jobs.cancel(store, job_id)  # stopped before it saves anything
    _wait(future)
    assert store.get_job(job_id)["status"] == "cancelled" and store.list_experiments(project.id) == []

    again, future = restart(store, job_id)
    _wait(future)
    assert again != job_id and store.get_job(again)["status"] == "done"
    [experiment] = store.list_experiments(project.id)
    assert settings_of(experiment) == settings


def test_a_job_without_its_spec_is_refused_a_rerun_with_a_message(store):
    import pytest

    from workbench.experiments import restart

    project = store.create_project("p")
    old = store.add_job(project.id, "train", owner="an earlier version")
    with pytest.raises(UserError) as caught:
        restart(store, old)
    assert caught.value.key == "job.not_restartable"


def test_a_workspace_from_before_job_specs_gains_the_column(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / "workbench.sqlite3")
    db.executescript("CREATE TABLE jobs (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, kind TEXT NOT NULL, "
                     "owner TEXT NOT NULL, status TEXT NOT NULL, progress REAL NOT NULL DEFAULT 0, message TEXT, "
                     "result TEXT, cancel INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, "
                     "updated_at TEXT NOT NULL); PRAGMA user_version = 4;")
    db.close()
    store = Store(tmp_path)
    project = store.create_project("p")
    job_id = store.add_job(project.id, "train", jobs.OWNER, spec="{}")
    assert store.get_job(job_id)["spec"] == "{}"


def test_an_older_sqlite_workspace_gains_owners_and_per_owner_names(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / "workbench.sqlite3")
    db.executescript("CREATE TABLE projects (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL, "
                     "opened_at TEXT NOT NULL, active_dataset_id TEXT); "
                     "CREATE UNIQUE INDEX projects_name ON projects (name COLLATE NOCASE); "
                     "INSERT INTO projects VALUES ('0123456789ab', 'Sales', 't', 't', NULL); "
                     "PRAGMA user_version = 5;")
    db.close()
    store = Store(tmp_path)
    assert store.get_project("0123456789ab").owner == ""
    with pytest.raises(UserError):
        store.create_project("sales")  # still one name per owner
    alice = store.as_user(User("alice@example.com"))
    assert alice.create_project("Sales").owner == "alice@example.com"


def test_streamlit_no_longer_clears_keras_after_each_run_while_a_network_trains(monkeypatch):
    """Streamlit cleared Keras's session (a full garbage collection) after every fragment rerun of a live job
    panel: a network trained six times slower with its page open, and browser journeys timed out in CI."""
    import sys
    import types

    from streamlit.runtime.scriptrunner import script_runner

    import workbench.ui.core  # noqa: F401  (the app's pages import it first)

    cleared = []
    fake = types.SimpleNamespace(backend=types.SimpleNamespace(clear_session=lambda: cleared.append(1)))
    monkeypatch.setitem(sys.modules, "keras", fake)
    closed = []
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", types.SimpleNamespace(close=closed.append))
    script_runner._clean_problem_modules()
    assert cleared == [] and closed == ["all"]
