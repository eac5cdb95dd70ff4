"""Projects: named containers of datasets, a recipe, experiments and jobs, each with an owner."""

from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from workbench.errors import UserError
from workbench.store.access import Access
from workbench.store.base import clean_name, projects, utc_now


@dataclass(frozen=True)
class Project:
    """A project: a name, its datasets and (later) recipe, experiments and models."""

    id: str
    name: str
    created_at: str
    opened_at: str
    active_dataset_id: str | None
    owner: str = ""


def _project(row: sa.Row) -> Project:
    return Project(**row._asdict())


class Projects(Access):
    """Calls on projects."""

    def create_project(self, name: str) -> Project:
        """Create an empty project owned by the store's user; raises UserError when the name is empty or taken."""
        name = clean_name(name)
        now = utc_now()
        project = Project(uuid.uuid4().hex[:12], name, now, now, None, self.user.id if self.user else "")
        try:
            with self._transaction() as db:
                db.execute(sa.insert(projects).values(**project.__dict__))
        except sa_exc.IntegrityError:
            raise UserError("store.name_taken", name=name) from None
        self.project_dir(project.id).mkdir(parents=True, exist_ok=True)
        return project

    def list_projects(self) -> list[Project]:
        """The projects the store's user may see, the most recently opened first."""
        with self._connect() as db:
            rows = db.execute(sa.select(projects).where(self._visible()).order_by(projects.c.opened_at.desc()))
            return [_project(r) for r in rows]

    def get_project(self, project_id: str) -> Project:
        """Return a project; raises UserError when it does not exist (any more) or is not the user's to see."""
        with self._connect() as db:
            row = db.execute(sa.select(projects).where(projects.c.id == project_id)).first()
        if row is None:
            raise UserError("store.project_missing")
        self._require(project_id, "viewer")
        return _project(row)

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
        self._require(project_id, "owner")
        try:
            with self._transaction() as db:
                db.execute(sa.update(projects).where(projects.c.id == project_id).values(name=name))
        except sa_exc.IntegrityError:
            raise UserError("store.name_taken", name=name) from None
        return self.get_project(project_id)

    def open_project(self, project_id: str) -> Project:
        """Mark a project as opened now (the next visit opens it first)."""
        self.get_project(project_id)
        with self._transaction() as db:
            db.execute(sa.update(projects).where(projects.c.id == project_id).values(opened_at=utc_now()))
        return self.get_project(project_id)

    def delete_project(self, project_id: str) -> None:
        """Delete a project, its datasets and its folder."""
        self._require(project_id, "owner")
        with self._transaction() as db:
            db.execute(sa.delete(projects).where(projects.c.id == project_id))
        shutil.rmtree(self.project_dir(project_id), ignore_errors=True)

    def project_dir(self, project_id: str) -> Path:
        """The folder holding a project's files."""
        if not re.fullmatch(r"[0-9a-f]{12}", project_id):
            raise ValueError(f"not a project id: {project_id!r}")
        return self.home / "projects" / project_id
