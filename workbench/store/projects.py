"""Projects: named containers of datasets, a recipe, experiments and jobs."""

from __future__ import annotations

import re
import shutil
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import UserError
from workbench.store.base import StoreBase, clean_name, utc_now


@dataclass(frozen=True)
class Project:
    """A project: a name, its datasets and (later) recipe, experiments and models."""

    id: str
    name: str
    created_at: str
    opened_at: str
    active_dataset_id: str | None


class Projects(StoreBase):
    """Calls on projects."""

    def create_project(self, name: str) -> Project:
        """Create an empty project; raises UserError when the name is empty or taken."""
        name = clean_name(name)
        now = utc_now()
        project = Project(uuid.uuid4().hex[:12], name, now, now, None)
        try:
            with self._transaction() as db:
                db.execute("INSERT INTO projects VALUES (?, ?, ?, ?, ?)",
                           (project.id, project.name, project.created_at, project.opened_at, None))
        except sqlite3.IntegrityError:
            raise UserError("store.name_taken", name=name) from None
        self.project_dir(project.id).mkdir(parents=True, exist_ok=True)
        return project

    def list_projects(self) -> list[Project]:
        """Projects, the most recently opened first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM projects ORDER BY opened_at DESC").fetchall()
        return [Project(**dict(r)) for r in rows]

    def get_project(self, project_id: str) -> Project:
        """Return a project; raises UserError when it does not exist (any more)."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone()
        if row is None:
            raise UserError("store.project_missing")
        return Project(**dict(row))

    def find_project(self, project_id: str | None) -> Project | None:
        """Return the project or None, without raising."""
        if not project_id:
            return None
        try:
            return self.get_project(project_id)
        except UserError:
            return None

    def rename_project(self, project_id: str, name: str) -> Project:
        """Rename a project; raises UserError when the name is empty or taken."""
        name = clean_name(name)
        self.get_project(project_id)
        try:
            with self._transaction() as db:
                db.execute("UPDATE projects SET name = ? WHERE id = ?", (name, project_id))
        except sqlite3.IntegrityError:
            raise UserError("store.name_taken", name=name) from None
        return self.get_project(project_id)

    def open_project(self, project_id: str) -> Project:
        """Mark a project as opened now (the next visit opens it first)."""
        with self._transaction() as db:
            db.execute("UPDATE projects SET opened_at = ? WHERE id = ?", (utc_now(), project_id))
        return self.get_project(project_id)

    def delete_project(self, project_id: str) -> None:
        """Delete a project, its datasets and its folder."""
        with self._transaction() as db:
            db.execute("DELETE FROM projects WHERE id = ?", (project_id,))
        shutil.rmtree(self.project_dir(project_id), ignore_errors=True)

    def project_dir(self, project_id: str) -> Path:
        """The folder holding a project's files."""
        if not re.fullmatch(r"[0-9a-f]{12}", project_id):
            raise ValueError(f"not a project id: {project_id!r}")
        return self.home / "projects" / project_id
