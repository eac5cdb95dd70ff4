"""The workspace's database and files: connections, schema, atomic file writes."""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pandas as pd

from workbench.errors import UserError

SCHEMA_VERSION = 5
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
    updated_at TEXT NOT NULL,
    spec TEXT
);
CREATE INDEX IF NOT EXISTS jobs_project ON jobs (project_id);
"""


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def clean_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise UserError("store.name_empty")
    if len(name) > MAX_NAME:
        raise UserError("store.name_too_long", limit=MAX_NAME)
    return name


def safe_filename(filename: str) -> str:
    base = Path(filename.replace("\\", "/")).name
    base = re.sub(r"[^\w.\-]", "_", base).lstrip(".")
    return base[:120] or "upload"


class StoreBase:
    """The database and folder at `home` (created on first use); the entity modules add their calls."""

    def __init__(self, home: Path | str) -> None:
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.db_path = self.home / "workbench.sqlite3"
        with self._connect() as db:
            db.executescript(_SCHEMA)
            _migrate(db)
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


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a workspace made by an earlier version up to date (columns added since)."""
    if db.execute("PRAGMA user_version").fetchone()[0] < 5:
        columns = {row["name"] for row in db.execute("PRAGMA table_info(jobs)")}
        if "spec" not in columns:
            db.execute("ALTER TABLE jobs ADD COLUMN spec TEXT")


def atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
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
