"""Jobs: background work's state (see workbench.jobs), readable from any session or process."""

from __future__ import annotations

import uuid

from workbench.errors import UserError
from workbench.store.base import StoreBase, utc_now


class Jobs(StoreBase):
    """Calls on jobs' state."""

    def add_job(self, project_id: str, kind: str, owner: str, spec: str | None = None) -> str:
        """Record a queued job (with the JSON `spec` that can start it again, if any); return its id."""
        job_id, now = uuid.uuid4().hex[:12], utc_now()
        with self._transaction() as db:
            db.execute("INSERT INTO jobs (id, project_id, kind, owner, status, created_at, updated_at, spec) "
                       "VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)", (job_id, project_id, kind, owner, now, now, spec))
        return job_id

    def update_job(self, job_id: str, **fields: object) -> None:
        """Change a job's status, progress, message (JSON) or result (JSON)."""
        allowed = {"status", "progress", "message", "result", "cancel"}
        if not set(fields) <= allowed:
            raise ValueError(f"unknown job fields: {set(fields) - allowed}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._transaction() as db:
            db.execute(f"UPDATE jobs SET {assignments}, updated_at = ? WHERE id = ?",
                       (*fields.values(), utc_now(), job_id))

    def get_job(self, job_id: str) -> dict:
        """A job's row as a dict."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise UserError("store.job_missing")
        return dict(row)

    def list_jobs(self, project_id: str) -> list[dict]:
        """A project's jobs, newest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM jobs WHERE project_id = ? ORDER BY created_at DESC",
                              (project_id,)).fetchall()
        return [dict(r) for r in rows]

    def cancel_queued_job(self, job_id: str, message: str) -> None:
        """Mark a job cancelled if it has not started (a running job stops at its next check instead)."""
        with self._transaction() as db:
            db.execute("UPDATE jobs SET status = 'cancelled', message = ?, updated_at = ? "
                       "WHERE id = ? AND status = 'queued'", (message, utc_now(), job_id))

    def touch_job(self, job_id: str) -> None:
        """A running job's heartbeat: only its updated_at changes."""
        with self._transaction() as db:
            db.execute("UPDATE jobs SET updated_at = ? WHERE id = ?", (utc_now(), job_id))

    def interrupt_orphaned_jobs(self, owner: str, keep: str) -> int:
        """Mark queued or running jobs of other (earlier) server processes as interrupted; those of owner `keep`
        (the cluster, which outlives server processes) are left alone."""
        with self._transaction() as db:
            cursor = db.execute("UPDATE jobs SET status = 'interrupted', updated_at = ? "
                                "WHERE status IN ('queued', 'running') AND owner NOT IN (?, ?)",
                                (utc_now(), owner, keep))
        return cursor.rowcount

    def interrupt_silent_jobs(self, owner: str, silent_since: str) -> int:
        """Mark running jobs of `owner` not updated since `silent_since` (an ISO time in UTC) as interrupted."""
        with self._transaction() as db:
            cursor = db.execute("UPDATE jobs SET status = 'interrupted', updated_at = ? "
                                "WHERE status = 'running' AND owner = ? AND updated_at < ?",
                                (utc_now(), owner, silent_since))
        return cursor.rowcount

    def queued_before(self, created_at: str) -> int:
        """How many queued jobs, of any project, were queued before `created_at`."""
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND created_at < ?",
                              (created_at,)).fetchone()[0]
