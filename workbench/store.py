"""The workspace: one SQLite database plus a folder per project under WORKBENCH_HOME.

Every call opens its own short connection (WAL mode, busy timeout), so several
browser sessions, threads and processes can read and write at once. Files are
written to a temporary name and renamed into place before the database row that
points at them is committed, so a crash never leaves a row without its files.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pandas as pd

from workbench.errors import UserError
from workbench.io import ReadReport

SCHEMA_VERSION = 4
MAX_NAME = 100
_SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    active_dataset_id TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS projects_name ON projects (name COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    filename TEXT NOT NULL,
    rows INTEGER NOT NULL,
    columns INTEGER NOT NULL,
    size_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    report TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS datasets_project ON datasets (project_id);
CREATE TABLE IF NOT EXISTS recipes (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    recipe TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (project_id, version)
);
CREATE TABLE IF NOT EXISTS experiments (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    dataset_id TEXT NOT NULL,
    recipe_version INTEGER NOT NULL,
    record TEXT NOT NULL,
    chosen INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS experiments_project ON experiments (project_id);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    message TEXT,
    result TEXT,
    cancel INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_project ON jobs (project_id);
"""


@dataclass(frozen=True)
class Project:
    """A project: a name, its datasets and (later) recipe, experiments and models."""

    id: str
    name: str
    created_at: str
    opened_at: str
    active_dataset_id: str | None


@dataclass(frozen=True)
class Dataset:
    """A dataset kept in the workspace: its original bytes, a Parquet copy and the import report."""

    id: str
    project_id: str
    name: str
    filename: str
    rows: int
    columns: int
    size_bytes: int
    sha256: str
    report: ReadReport
    created_at: str


@dataclass(frozen=True)
class StoredExperiment:
    """A saved training run; `record` holds its settings and metrics as JSON-ready data."""

    id: str
    project_id: str
    dataset_id: str
    recipe_version: int
    record: dict
    chosen: bool
    created_at: str


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _clean_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise UserError("store.name_empty")
    if len(name) > MAX_NAME:
        raise UserError("store.name_too_long", limit=MAX_NAME)
    return name


def _safe_filename(filename: str) -> str:
    base = Path(filename.replace("\\", "/")).name
    base = re.sub(r"[^\w.\-]", "_", base).lstrip(".")
    return base[:120] or "upload"


class Store:
    """The workspace at `home` (created on first use)."""

    def __init__(self, home: Path | str) -> None:
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.db_path = self.home / "workbench.sqlite3"
        with self._connect() as db:
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA busy_timeout = 30000")
            yield db
        finally:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # ------------------------------------------------------------ projects

    def create_project(self, name: str) -> Project:
        """Create an empty project; raises UserError when the name is empty or taken."""
        name = _clean_name(name)
        now = _now()
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
        name = _clean_name(name)
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
            db.execute("UPDATE projects SET opened_at = ? WHERE id = ?", (_now(), project_id))
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

    # ------------------------------------------------------------ datasets

    def add_dataset(self, project_id: str, name: str, raw: bytes, filename: str,
                    frame: pd.DataFrame, report: ReadReport) -> Dataset:
        """Keep an imported table: its original bytes, a Parquet copy and its report.

        The new dataset becomes the project's active one.
        """
        self.get_project(project_id)
        name = _clean_name(name)
        dataset_id = uuid.uuid4().hex[:12]
        folder = self.project_dir(project_id) / "datasets" / dataset_id
        folder.mkdir(parents=True, exist_ok=True)
        try:
            _atomic_write(folder / f"raw_{_safe_filename(filename)}", raw)
            _write_parquet(frame, folder / "data.parquet")
            dataset = Dataset(dataset_id, project_id, name, filename, int(frame.shape[0]), int(frame.shape[1]),
                              len(raw), hashlib.sha256(raw).hexdigest(), report, _now())
            with self._transaction() as db:
                db.execute(
                    "INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (dataset.id, project_id, dataset.name, filename, dataset.rows, dataset.columns,
                     dataset.size_bytes, dataset.sha256, json.dumps(report.to_dict(), ensure_ascii=False),
                     dataset.created_at),
                )
                db.execute("UPDATE projects SET active_dataset_id = ? WHERE id = ?", (dataset_id, project_id))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return dataset

    def list_datasets(self, project_id: str) -> list[Dataset]:
        """A project's datasets, newest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM datasets WHERE project_id = ? ORDER BY created_at DESC",
                              (project_id,)).fetchall()
        return [_dataset(r) for r in rows]

    def get_dataset(self, dataset_id: str) -> Dataset:
        """Return a dataset; raises UserError when it does not exist (any more)."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
        if row is None:
            raise UserError("store.dataset_missing")
        return _dataset(row)

    def active_dataset(self, project_id: str) -> Dataset | None:
        """The dataset the project works on, if any."""
        project = self.get_project(project_id)
        if project.active_dataset_id:
            try:
                return self.get_dataset(project.active_dataset_id)
            except UserError:
                return None
        return None

    def set_active_dataset(self, project_id: str, dataset_id: str) -> None:
        """Make a dataset of the project the one it works on."""
        if self.get_dataset(dataset_id).project_id != project_id:
            raise UserError("store.dataset_missing")
        with self._transaction() as db:
            db.execute("UPDATE projects SET active_dataset_id = ? WHERE id = ?", (dataset_id, project_id))

    def load_frame(self, dataset_id: str) -> pd.DataFrame:
        """Return a dataset's table from its Parquet copy."""
        dataset = self.get_dataset(dataset_id)
        return pd.read_parquet(self._dataset_dir(dataset) / "data.parquet")

    def raw_bytes(self, dataset_id: str) -> bytes:
        """Return the bytes the user uploaded, unchanged."""
        dataset = self.get_dataset(dataset_id)
        return (self._dataset_dir(dataset) / f"raw_{_safe_filename(dataset.filename)}").read_bytes()

    def delete_dataset(self, dataset_id: str) -> None:
        """Delete a dataset and its files."""
        dataset = self.get_dataset(dataset_id)
        with self._transaction() as db:
            db.execute("DELETE FROM datasets WHERE id = ?", (dataset_id,))
            db.execute("UPDATE projects SET active_dataset_id = NULL WHERE active_dataset_id = ?", (dataset_id,))
        shutil.rmtree(self._dataset_dir(dataset), ignore_errors=True)

    # ------------------------------------------------------------ recipes

    def save_recipe(self, project_id: str, recipe_json: str) -> int:
        """Keep a new version of the project's recipe (every edit is one); return its number."""
        self.get_project(project_id)
        with self._transaction() as db:
            row = db.execute("SELECT COALESCE(MAX(version), 0) FROM recipes WHERE project_id = ?",
                             (project_id,)).fetchone()
            version = int(row[0]) + 1
            db.execute("INSERT INTO recipes VALUES (?, ?, ?, ?)", (project_id, version, recipe_json, _now()))
        return version

    def load_recipe(self, project_id: str) -> tuple[int, str | None]:
        """The latest recipe version and its JSON ((0, None) before the first edit)."""
        with self._connect() as db:
            row = db.execute("SELECT version, recipe FROM recipes WHERE project_id = ? ORDER BY version DESC "
                             "LIMIT 1", (project_id,)).fetchone()
        return (int(row["version"]), row["recipe"]) if row else (0, None)

    def undo_recipe(self, project_id: str) -> bool:
        """Go back to the recipe before the last edit; False when there is nothing to undo."""
        with self._transaction() as db:
            row = db.execute("SELECT MAX(version) FROM recipes WHERE project_id = ?", (project_id,)).fetchone()
            if not row or row[0] is None:
                return False
            db.execute("DELETE FROM recipes WHERE project_id = ? AND version = ?", (project_id, row[0]))
        return True

    # ------------------------------------------------------------ experiments

    def add_experiment(self, project_id: str, dataset_id: str, recipe_version: int, record: dict,
                       model: bytes, evaluation: pd.DataFrame) -> StoredExperiment:
        """Keep a training run: its record (settings, metrics), the model file and the test-row predictions."""
        self.get_project(project_id)
        experiment_id = uuid.uuid4().hex[:12]
        folder = self.project_dir(project_id) / "experiments" / experiment_id
        folder.mkdir(parents=True, exist_ok=True)
        try:
            _atomic_write(folder / "model.skops", model)
            _write_parquet(evaluation, folder / "evaluation.parquet")
            with self._transaction() as db:
                db.execute("INSERT INTO experiments VALUES (?, ?, ?, ?, ?, 0, ?)",
                           (experiment_id, project_id, dataset_id, recipe_version,
                            json.dumps(record, ensure_ascii=False, default=str), _now()))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return self.get_experiment(experiment_id)

    def list_experiments(self, project_id: str) -> list[StoredExperiment]:
        """A project's experiments, newest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM experiments WHERE project_id = ? ORDER BY created_at DESC",
                              (project_id,)).fetchall()
        return [_experiment(r) for r in rows]

    def get_experiment(self, experiment_id: str) -> StoredExperiment:
        """Return an experiment; raises UserError when it does not exist (any more)."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM experiments WHERE id = ?", (experiment_id,)).fetchone()
        if row is None:
            raise UserError("store.experiment_missing")
        return _experiment(row)

    def experiment_model(self, experiment_id: str) -> bytes:
        """The experiment's model file (skops bytes)."""
        return (self._experiment_dir(self.get_experiment(experiment_id)) / "model.skops").read_bytes()

    def experiment_evaluation(self, experiment_id: str) -> pd.DataFrame:
        """The experiment's test rows: actual, predicted and class probabilities."""
        return pd.read_parquet(self._experiment_dir(self.get_experiment(experiment_id)) / "evaluation.parquet")

    def choose_experiment(self, project_id: str, experiment_id: str) -> None:
        """Mark an experiment as the project's chosen model (one at a time)."""
        if self.get_experiment(experiment_id).project_id != project_id:
            raise UserError("store.experiment_missing")
        with self._transaction() as db:
            db.execute("UPDATE experiments SET chosen = (id = ?) WHERE project_id = ?", (experiment_id, project_id))

    def delete_experiment(self, experiment_id: str) -> None:
        """Delete an experiment and its files."""
        experiment = self.get_experiment(experiment_id)
        with self._transaction() as db:
            db.execute("DELETE FROM experiments WHERE id = ?", (experiment_id,))
        shutil.rmtree(self._experiment_dir(experiment), ignore_errors=True)

    # ------------------------------------------------------------ jobs (see workbench.jobs)

    def add_job(self, project_id: str, kind: str, owner: str) -> str:
        """Record a queued job; return its id."""
        job_id, now = uuid.uuid4().hex[:12], _now()
        with self._transaction() as db:
            db.execute("INSERT INTO jobs (id, project_id, kind, owner, status, created_at, updated_at) "
                       "VALUES (?, ?, ?, ?, 'queued', ?, ?)", (job_id, project_id, kind, owner, now, now))
        return job_id

    def update_job(self, job_id: str, **fields: object) -> None:
        """Change a job's status, progress, message (JSON) or result (JSON)."""
        allowed = {"status", "progress", "message", "result", "cancel"}
        if not set(fields) <= allowed:
            raise ValueError(f"unknown job fields: {set(fields) - allowed}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._transaction() as db:
            db.execute(f"UPDATE jobs SET {assignments}, updated_at = ? WHERE id = ?",
                       (*fields.values(), _now(), job_id))

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

    def interrupt_orphaned_jobs(self, owner: str) -> int:
        """Mark queued or running jobs of other (earlier) server processes as interrupted."""
        with self._transaction() as db:
            cursor = db.execute("UPDATE jobs SET status = 'interrupted', updated_at = ? "
                                "WHERE status IN ('queued', 'running') AND owner != ?", (_now(), owner))
        return cursor.rowcount

    def _experiment_dir(self, experiment: StoredExperiment) -> Path:
        return self.project_dir(experiment.project_id) / "experiments" / experiment.id

    def _dataset_dir(self, dataset: Dataset) -> Path:
        return self.project_dir(dataset.project_id) / "datasets" / dataset.id


def _experiment(row: sqlite3.Row) -> StoredExperiment:
    data = dict(row)
    data["record"] = json.loads(data["record"])
    data["chosen"] = bool(data["chosen"])
    return StoredExperiment(**data)


def _dataset(row: sqlite3.Row) -> Dataset:
    data = dict(row)
    data["report"] = ReadReport.from_dict(json.loads(data["report"]))
    return Dataset(**data)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    safe = frame.copy()
    for col in safe.columns:
        if safe[col].dtype == object:  # mixed values (e.g. from Excel) are kept as text
            safe[col] = safe[col].map(str, na_action="ignore").astype("str")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".parquet")
    os.close(fd)
    try:
        safe.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
