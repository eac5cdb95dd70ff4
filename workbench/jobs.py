"""Long work off the page's thread: queued, run one at a time, with progress, cancel and results in the store.

A job is a function of a JobContext. It reports progress with ctx.report(),
checks ctx.cancelled() between units of work, and returns a JSON-ready result.
State lives in the store, so any tab, page, process or new session sees it.

Two ways to run a job:
- on a Dask cluster (WORKBENCH_DASK_SCHEDULER; `scripts/start.sh` starts a local one beside the app): the job is
  a task that rebuilds its work from the kind and spec kept with it (workbench.experiments.run_stored), so it
  outlives the web server. Its worker beats a heartbeat into the job's row; a running job whose heartbeat
  stops (its worker died) is marked interrupted, and so is one Dask hands to a second worker after the first died;
- without one (tests, the command line), in one thread of this process, jobs in turn; a job left queued or
  running by an earlier process is shown as interrupted.
On two cores, one fit at a time per core is faster than fits fighting for the CPU: a local cluster has one
single-threaded worker per core, each taking one job at a time.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from workbench.errors import UserError
from workbench.i18n import Note
from workbench.store import Store

log = logging.getLogger("workbench.jobs")
OWNER = uuid.uuid4().hex  # this server process
ON_CLUSTER = "dask"  # the owner of jobs run on the Dask cluster
HEARTBEAT_S = 5.0  # how often a job on the cluster says it is alive
STALE_S = 45.0  # a running job silent for this long lost its worker
JOB_RESOURCE = "job"  # workers of a local cluster offer one each: one job at a time per worker
CONNECT_S = 10.0  # how long to wait for the scheduler to answer
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbench-job")
ACTIVE = ("queued", "running")
ENDED_EARLY = ("failed", "cancelled", "interrupted")


class Cancelled(Exception):
    """Raised inside a job when its cancel was requested."""


@dataclass
class JobContext:
    """What a running job uses to talk to the store."""

    store: Store
    job_id: str
    project_id: str

    def report(self, progress: float, key: str, **params: Any) -> None:
        """Record progress (0..1) and a message; raises Cancelled when a cancel was requested."""
        self.store.update_job(self.job_id, progress=max(0.0, min(1.0, progress)),
                              message=json.dumps({"key": key, "params": params}, ensure_ascii=False))
        if self.cancelled():
            raise Cancelled()

    def cancelled(self) -> bool:
        """Whether someone asked this job to stop."""
        return bool(self.store.get_job(self.job_id)["cancel"])


def epoch_reporter(ctx: JobContext, low: float = 0.0, high: float = 1.0, **params: Any) -> Callable[[dict], None]:
    """A listener for workbench.deep.runtime.listening(): each epoch moves the job's progress between `low` and
    `high`, says the epoch and its losses, and publishes the loss curves so far as the job's live result
    ({"curve": [{"epoch", "loss", "val_loss"}, ...]}); between batches it checks for a cancel."""
    curve: list[dict] = []

    def listen(event: dict) -> None:
        if "tick" in event:
            if ctx.cancelled():
                raise Cancelled()
            return
        curve.append({"epoch": event["epoch"], "loss": event["loss"], "val_loss": event["val_loss"]})
        ctx.store.update_job(ctx.job_id, result=json.dumps({"curve": curve}))
        ctx.report(low + (high - low) * event["epoch"] / event["epochs"], "job.epoch", epoch=event["epoch"],
                   epochs=event["epochs"], loss=round(event["loss"], 4), **params)

    return listen


def live_curve(job: dict) -> list[dict]:
    """The loss curves a running (or ended) network-training job published."""
    if not job.get("result"):
        return []
    result = json.loads(job["result"])
    return result.get("curve", []) if isinstance(result, dict) else []


def made_experiments(job: dict) -> list[str]:
    """The ids of the experiments a finished job saved (training, tuning, AutoML), newest last."""
    result = json.loads(job["result"]) if job.get("result") else None
    return list(result.get("experiments", [])) if isinstance(result, dict) else []


def submit(store: Store, project_id: str, kind: str, work: Callable[[JobContext], Any],
           spec: str | None = None) -> tuple[str, Future]:
    """Queue `work`; return the job id (and the future, for tests and the command line). `spec` is the
    JSON that describes the work, kept so the job can be started again after an interruption."""
    job_id = store.add_job(project_id, kind, OWNER, spec)
    return job_id, _EXECUTOR.submit(_run, store, job_id, project_id, work)


def submit_to_cluster(store: Store, project_id: str, kind: str, spec: str, client: Any) -> tuple[str, Any]:
    """Queue the job `kind` (its work rebuilt from `spec` by the worker) as a task on the Dask cluster of
    `client`, one that goes on when this process ends; return the job id and the Dask future."""
    from distributed import fire_and_forget

    from workbench.experiments import run_stored

    job_id = store.add_job(project_id, kind, ON_CLUSTER, spec)
    try:
        workers = client.scheduler_info().get("workers", {}).values()
        offered = any(JOB_RESOURCE in (w.get("resources") or {}) for w in workers)
        future = client.submit(run_stored, str(store.home), job_id, key=f"workbench-job-{job_id}", pure=False,
                               resources={JOB_RESOURCE: 1} if offered else None)
        fire_and_forget(future)
        _until_scheduled(client, future.key)
    except (OSError, TimeoutError, UserError):  # the scheduler went away: the job is not left queued for ever
        store.update_job(job_id, status="failed", message=_note("job.no_scheduler", address=client.scheduler.address))
        raise UserError("job.no_scheduler", address=client.scheduler.address) from None
    return job_id, future


def _until_scheduled(client: Any, key: str) -> None:
    """Wait until the scheduler holds the task: a submit is sent in the background, and a web server that stops
    right after the click would otherwise take the job with it."""
    def holds(dask_scheduler: Any = None) -> bool:  # run on the scheduler (a local function: sent by value)
        return key in dask_scheduler.tasks

    deadline = time.monotonic() + CONNECT_S
    while not client.run_on_scheduler(holds):
        if time.monotonic() > deadline:
            raise UserError("job.no_scheduler", address=client.scheduler.address)
        time.sleep(0.02)


_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def cluster() -> Any:
    """A client of the Dask scheduler named by WORKBENCH_DASK_SCHEDULER (one per process), or None when none
    is named (jobs then run in this process)."""
    from workbench.settings import get_settings

    address = get_settings().dask_scheduler
    if not address:
        return None
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(address)
        if client is None or client.status in ("closed", "closing"):
            from distributed import Client

            try:
                client = _CLIENTS[address] = Client(address, timeout=CONNECT_S, set_as_default=False)
            except (OSError, TimeoutError):
                raise UserError("job.no_scheduler", address=address) from None
        return client


def where_jobs_run() -> Note:
    """Where this app's jobs run, said for the Home page: on the cluster (its address and workers) or here."""
    client = cluster()
    if client is None:
        return Note("home.jobs_here")
    workers = len(client.scheduler_info().get("workers", {}))
    return Note("home.jobs_cluster", {"address": client.scheduler.address, "workers": workers})


def claim(store: Store, job: dict) -> bool:
    """Whether a worker may start this cluster job: a queued one, yes. One already running was started by a
    worker that died, and Dask handed it on: it is marked interrupted (the user chooses to run it again) rather
    than silently started over; a cancelled one stays cancelled."""
    if job["status"] == "queued":
        return True
    if job["status"] == "running":
        store.update_job(job["id"], status="interrupted", message=_note("job.worker_lost"))
    return False


def _heartbeat(store: Store, job_id: str, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_S):
        try:
            store.touch_job(job_id)
        except Exception:  # a busy database misses one beat, not the job
            log.warning("heartbeat of job %s missed", job_id, exc_info=True)


def _run(store: Store, job_id: str, project_id: str, work: Callable[[JobContext], Any],
         heartbeat: bool = False) -> None:
    ctx = JobContext(store, job_id, project_id)
    if ctx.cancelled():
        store.update_job(job_id, status="cancelled")
        return
    store.update_job(job_id, status="running")
    beating = threading.Event()
    if heartbeat:
        threading.Thread(target=_heartbeat, args=(store, job_id, beating), daemon=True,
                         name=f"workbench-heartbeat-{job_id}").start()
    try:
        result = work(ctx)
    except Cancelled:
        store.update_job(job_id, status="cancelled", message=_note("job.cancelled"))
    except UserError as exc:
        store.update_job(job_id, status="failed", message=_note(exc.key, **exc.params))
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("job %s failed (error id %s)", job_id, error_id)
        store.update_job(job_id, status="failed", message=_note("error.unexpected", id=error_id))
    else:
        store.update_job(job_id, status="done", progress=1.0, result=json.dumps(result, ensure_ascii=False),
                         message=_note("job.done"))
    finally:
        beating.set()


def _note(key: str, **params: Any) -> str:
    return json.dumps({"key": key, "params": params}, ensure_ascii=False)


def cancel(store: Store, job_id: str) -> None:
    """Ask a job to stop at its next check; a queued job is cancelled at once (it never starts, and no page
    waits on a job whose cluster may be gone)."""
    store.update_job(job_id, cancel=1)
    store.cancel_queued_job(job_id, _note("job.cancelled"))


def message(job: dict) -> Note | None:
    """A job's latest message as a Note."""
    return Note(**json.loads(job["message"])) if job.get("message") else None


def active_jobs(store: Store, project_id: str) -> list[dict]:
    """The project's queued and running jobs."""
    return [j for j in store.list_jobs(project_id) if j["status"] in ACTIVE]


def latest_result(store: Store, project_id: str, kind: str,
                  matches: Callable[[dict], bool] = lambda result: True) -> dict | None:
    """The result of the newest finished job of `kind` whose result `matches`."""
    for job in store.list_jobs(project_id):
        if job["kind"] == kind and job["status"] == "done" and job["result"]:
            result = json.loads(job["result"])
            if matches(result):
                return result
    return None


def interrupt_orphans(store: Store) -> int:
    """Mark jobs an earlier server process left unfinished as interrupted (call once per server process), and
    those the cluster lost (see interrupt_lost)."""
    return store.interrupt_orphaned_jobs(OWNER, ON_CLUSTER) + interrupt_lost(store)


def interrupt_lost(store: Store) -> int:
    """Mark running cluster jobs whose heartbeat stopped (their worker died) as interrupted."""
    silent_since = (datetime.now(timezone.utc) - timedelta(seconds=STALE_S)).isoformat(timespec="microseconds")
    return store.interrupt_silent_jobs(ON_CLUSTER, silent_since)


def queue_place(store: Store, job: dict) -> int | None:
    """A queued job's place in the workspace's queue (1: next to start), counting every project's jobs."""
    if job["status"] != "queued":
        return None
    return store.queued_before(job["created_at"]) + 1
