"""The workspace's tables (SQLAlchemy Core, on SQLite or PostgreSQL), connections and atomic file writes."""

from __future__ import annotations

import os
import re
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from workbench.errors import UserError

MAX_NAME = 100
metadata = sa.MetaData()
Text, Int = sa.Text, sa.Integer


def _project_id(**options: bool) -> sa.Column:
    """The column naming the project a row belongs to (its rows go when the project is deleted)."""
    return sa.Column("project_id", Text, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False,
                     **options)


def _created_at() -> sa.Column:
    return sa.Column("created_at", Text, nullable=False)


projects = sa.Table(
    "projects", metadata,
    sa.Column("id", Text, primary_key=True),
    sa.Column("name", Text, nullable=False),
    _created_at(),
    sa.Column("opened_at", Text, nullable=False),
    sa.Column("active_dataset_id", Text),
    sa.Column("owner", Text, nullable=False, server_default=""),  # "" = made in single-user mode
)
# One name per owner, whatever its case (two people may each have a "Sales" project).
projects_name = sa.Index("projects_owner_name", projects.c.owner, sa.func.lower(projects.c.name), unique=True)
shares = sa.Table(
    "shares", metadata,
    _project_id(primary_key=True),
    sa.Column("user", Text, primary_key=True),
    sa.Column("role", Text, nullable=False),  # "viewer" or "editor"
    _created_at(),
)
datasets = sa.Table(
    "datasets", metadata,
    sa.Column("id", Text, primary_key=True),
    _project_id(index=True),
    sa.Column("name", Text, nullable=False),
    sa.Column("filename", Text, nullable=False),
    sa.Column("rows", Int, nullable=False),
    sa.Column("columns", Int, nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("sha256", Text, nullable=False),
    sa.Column("report", Text, nullable=False),
    _created_at(),
)
recipes = sa.Table(
    "recipes", metadata,
    _project_id(primary_key=True),
    sa.Column("version", Int, primary_key=True),
    sa.Column("recipe", Text, nullable=False),
    _created_at(),
)
experiments = sa.Table(
    "experiments", metadata,
    sa.Column("id", Text, primary_key=True),
    _project_id(index=True),
    sa.Column("dataset_id", Text, nullable=False),
    sa.Column("recipe_version", Int, nullable=False),
    sa.Column("record", Text, nullable=False),
    sa.Column("chosen", Int, nullable=False, server_default="0"),
    _created_at(),
)
model_versions = sa.Table(  # immutable: a registered experiment, its files copied under versions/<number>/
    "model_versions", metadata,
    _project_id(primary_key=True),
    sa.Column("number", Int, primary_key=True),
    sa.Column("experiment_id", Text, nullable=False),  # the experiment may be deleted later; the version stays
    sa.Column("data_sha256", Text, nullable=False),  # the training table's hash (its raw file)
    sa.Column("record", Text, nullable=False),  # the experiment's record: settings, recipe, metrics, schema
    sa.Column("note", Text, nullable=False, server_default=""),
    sa.Column("created_by", Text, nullable=False, server_default=""),
    _created_at(),
)
aliases = sa.Table(  # append-only: the latest row per (project, alias) is current; the rest is its history
    "aliases", metadata,
    sa.Column("id", Int, primary_key=True, autoincrement=True),
    _project_id(index=True),
    sa.Column("alias", Text, nullable=False),  # "production" or "challenger"
    sa.Column("number", Int),  # None: the alias was taken off
    sa.Column("set_by", Text, nullable=False, server_default=""),
    _created_at(),
)
jobs = sa.Table(
    "jobs", metadata,
    sa.Column("id", Text, primary_key=True),
    _project_id(index=True),
    sa.Column("kind", Text, nullable=False),
    sa.Column("owner", Text, nullable=False),  # the process or cluster that runs it (workbench.jobs)
    sa.Column("status", Text, nullable=False),
    sa.Column("progress", sa.Float, nullable=False, server_default="0"),
    sa.Column("message", Text),
    sa.Column("result", Text),
    sa.Column("cancel", Int, nullable=False, server_default="0"),
    _created_at(),
    sa.Column("updated_at", Text, nullable=False),
    sa.Column("spec", Text),
)


def next_number(db: sa.Connection, project_id: str, number: sa.Column) -> int:
    """The number after the project's last in `number` (a column of a table keyed by project_id). The project's
    row is locked first, so two writers at once number theirs one after the other."""
    db.execute(sa.select(projects.c.id).where(projects.c.id == project_id).with_for_update())
    latest = db.execute(sa.select(sa.func.coalesce(sa.func.max(number), 0))
                        .where(number.table.c.project_id == project_id)).scalar()
    return int(latest) + 1


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


def database_url(home: Path) -> str:
    """WORKBENCH_DATABASE_URL (PostgreSQL for a team), else the SQLite file in the workspace folder."""
    url = os.environ.get("WORKBENCH_DATABASE_URL", "").strip()
    return url or f"sqlite:///{home / 'workbench.sqlite3'}"


def shown_url(url: str) -> str:
    """The database's address without its password, for messages."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "?"


_engines: dict[str, sa.Engine] = {}
_ready: set[str] = set()
_lock = threading.Lock()


def _sqlite_engine(url: str) -> sa.Engine:
    # Every transaction that writes starts with BEGIN IMMEDIATE: writers queue on the lock at once instead of
    # failing when a read transaction turns into a write (SQLAlchemy's documented pysqlite recipe).
    # No pool: a connection to a file is cheap, and a process that opens many workspaces (the tests) keeps no
    # file handles open.
    engine = sa.create_engine(url, connect_args={"timeout": 30}, poolclass=sa.pool.NullPool)

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001 - SQLAlchemy's event signature
        dbapi_connection.isolation_level = None
        for pragma in ("journal_mode = WAL", "foreign_keys = ON", "busy_timeout = 30000"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection: sa.Connection) -> None:
        write = connection.get_execution_options().get("workbench_write")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def engine_for(url: str) -> sa.Engine:
    """One engine (a pool of connections) per database and process."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = _sqlite_engine(url)
            else:
                engine = sa.create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
            _engines[url] = engine
    return engine


def _forget_parent_connections() -> None:
    for engine in _engines.values():
        engine.dispose(close=False)  # a forked child must not share its parent's sockets


os.register_at_fork(after_in_child=_forget_parent_connections)


@contextmanager
def _translated(url: str) -> Iterator[None]:
    """A database that cannot be reached or written becomes a message saying so and what to do."""
    try:
        yield
    except (sa_exc.OperationalError, sa_exc.InternalError, sa_exc.InterfaceError) as exc:
        text = str(exc.orig or exc).lower()
        sqlstate = getattr(exc.orig, "sqlstate", None)
        if sqlstate == "25006" or "readonly" in text or "read-only" in text or "read only" in text:
            raise UserError("store.read_only", database=shown_url(url)) from None
        if "locked" in text or "busy" in text:
            raise UserError("store.busy") from None
        raise UserError("store.unreachable", database=shown_url(url)) from None


@dataclass(frozen=True)
class User:
    """A signed-in person: `id` is the e-mail address the provider vouches for (lower case)."""

    id: str
    name: str = ""
    admin: bool = False


class StoreBase:
    """The database and folder at `home` (created on first use); the entity modules add their calls.

    With a `user`, every call checks that user's rights on the project it touches (see store.access);
    without one (single-user mode, and the cluster's workers running a job someone was allowed to start)
    nothing is checked."""

    def __init__(self, home: Path | str, database: str | None = None, user: User | None = None) -> None:
        self.user = user
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.url = database or database_url(self.home)
        self.engine = engine_for(self.url)
        if self.url not in _ready:
            with self._transaction() as db:
                if db.dialect.name == "postgresql":  # two processes starting at once create the tables once
                    db.execute(sa.text("SELECT pg_advisory_xact_lock(20261202)"))
                metadata.create_all(db)
                _migrate(db)
            _ready.add(self.url)

    @contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        """A connection for reading (one consistent snapshot; nothing is written)."""
        with _translated(self.url), self.engine.connect() as db:
            yield db

    @contextmanager
    def _transaction(self) -> Iterator[sa.Connection]:
        """A connection whose statements commit together, or not at all."""
        with _translated(self.url), self.engine.connect() as db:
            db.execution_options(workbench_write=True)
            with db.begin():
                yield db


def _migrate(db: sa.Connection) -> None:
    """Bring a workspace made by an earlier version up to date (columns and indexes added since)."""
    inspector = sa.inspect(db)
    if "spec" not in {c["name"] for c in inspector.get_columns("jobs")}:
        db.execute(sa.text("ALTER TABLE jobs ADD COLUMN spec TEXT"))
    if "owner" not in {c["name"] for c in inspector.get_columns("projects")}:
        db.execute(sa.text("ALTER TABLE projects ADD COLUMN owner TEXT NOT NULL DEFAULT ''"))
        db.execute(sa.text("DROP INDEX IF EXISTS projects_name"))  # names were unique across the workspace
    db.execute(sa.schema.CreateIndex(projects_name, if_not_exists=True))


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
