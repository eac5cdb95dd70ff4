"""Long work off the page's thread: queued, run one at a time, with progress, cancel and results in the store.

A job is a function of a JobContext. It reports progress with ctx.report(),
checks ctx.cancelled() between units of work, and returns a JSON-ready result.
State lives in the store, so any tab, page or new session sees it; a job left
queued or running by an earlier server process is shown as interrupted.
One worker thread runs jobs in turn: on two cores, one fit at a time is faster
than two fighting for the CPU. (Compute moves to Dask with the AutoML stage.)
"""

from __future__ import annotations

import json
import logging
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from workbench.errors import UserError
from workbench.i18n import Note
from workbench.store import Store

log = logging.getLogger("workbench.jobs")
OWNER = uuid.uuid4().hex  # this server process
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


def _run(store: Store, job_id: str, project_id: str, work: Callable[[JobContext], Any]) -> None:
    ctx = JobContext(store, job_id, project_id)
    if ctx.cancelled():
        store.update_job(job_id, status="cancelled")
        return
    store.update_job(job_id, status="running")
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


def _note(key: str, **params: Any) -> str:
    return json.dumps({"key": key, "params": params}, ensure_ascii=False)


def cancel(store: Store, job_id: str) -> None:
    """Ask a job to stop at its next check (a queued job never starts)."""
    store.update_job(job_id, cancel=1)


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
    """Mark jobs an earlier server process left unfinished as interrupted (call once per page run)."""
    return store.interrupt_orphaned_jobs(OWNER)
