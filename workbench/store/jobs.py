"""Jobs: background work's state (see workbench.jobs), readable from any session or process."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from workbench.errors import UserError
from workbench.store.access import Access
from workbench.store.base import jobs, utc_now

_ACTIVE = ("queued", "running")


class Jobs(Access):
    """Calls on jobs' state."""

    def add_job(self, project_id: str, kind: str, owner: str, spec: str | None = None) -> str:
        """Record a queued job (with the JSON `spec` that can start it again, if any); return its id."""
        self._require(project_id, "editor")
        job_id, now = uuid.uuid4().hex[:12], utc_now()
        with self._transaction() as db:
            db.execute(sa.insert(jobs).values(id=job_id, project_id=project_id, kind=kind, owner=owner,
                                              status="queued", created_at=now, updated_at=now, spec=spec))
        return job_id

    def update_job(self, job_id: str, **fields: object) -> None:
        """Change a job's status, progress, message (JSON), result (JSON) or cancel flag."""
        allowed = {"status", "progress", "message", "result", "cancel"}
        if not set(fields) <= allowed:
            raise ValueError(f"unknown job fields: {set(fields) - allowed}")
        if self.user is not None:
            self._require(self.get_job(job_id)["project_id"], "editor")
        with self._transaction() as db:
            db.execute(sa.update(jobs).where(jobs.c.id == job_id).values(**fields, updated_at=utc_now()))

    def get_job(self, job_id: str) -> dict:
        """A job's row as a dict."""
        with self._connect() as db:
            row = db.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            raise UserError("store.job_missing")
        self._require(row.project_id, "viewer")
        return row._asdict()

    def list_jobs(self, project_id: str) -> list[dict]:
        """A project's jobs, newest first."""
        self._require(project_id, "viewer")
        with self._connect() as db:
            rows = db.execute(sa.select(jobs).where(jobs.c.project_id == project_id)
                              .order_by(jobs.c.created_at.desc())).all()
        return [r._asdict() for r in rows]

    def cancel_queued_job(self, job_id: str, message: str) -> None:
        """Mark a job cancelled if it has not started (a running job stops at its next check instead)."""
        if self.user is not None:
            self._require(self.get_job(job_id)["project_id"], "editor")
        with self._transaction() as db:
            db.execute(sa.update(jobs).where(jobs.c.id == job_id, jobs.c.status == "queued")
                       .values(status="cancelled", message=message, updated_at=utc_now()))

    def touch_job(self, job_id: str) -> None:
        """A running job's heartbeat: only its updated_at changes."""
        with self._transaction() as db:
            db.execute(sa.update(jobs).where(jobs.c.id == job_id).values(updated_at=utc_now()))

    def interrupt_orphaned_jobs(self, owner: str, keep: str) -> int:
        """Mark queued or running jobs of other (earlier) server processes as interrupted; those of owner `keep`
        (the cluster, which outlives server processes) are left alone."""
        with self._transaction() as db:
            return db.execute(sa.update(jobs).where(jobs.c.status.in_(_ACTIVE), jobs.c.owner.not_in((owner, keep)))
                              .values(status="interrupted", updated_at=utc_now())).rowcount

    def interrupt_silent_jobs(self, owner: str, silent_since: str) -> int:
        """Mark running jobs of `owner` not updated since `silent_since` (an ISO time in UTC) as interrupted."""
        with self._transaction() as db:
            return db.execute(sa.update(jobs).where(jobs.c.status == "running", jobs.c.owner == owner,
                                                    jobs.c.updated_at < silent_since)
                              .values(status="interrupted", updated_at=utc_now())).rowcount

    def queued_before(self, created_at: str) -> int:
        """How many queued jobs, of any project, were queued before `created_at`."""
        with self._connect() as db:
            return db.execute(sa.select(sa.func.count()).select_from(jobs)
                              .where(jobs.c.status == "queued", jobs.c.created_at < created_at)).scalar()
