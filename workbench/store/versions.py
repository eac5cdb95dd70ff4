"""Model versions: registered experiments, numbered per project and never changed, and the aliases
(`production`, `challenger`) that point at them, with every move of an alias kept."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from workbench.errors import UserError
from workbench.store.access import Access
from workbench.store.base import aliases, atomic_write, model_versions, next_number, utc_now

ALIASES = ("production", "challenger")
# kept with every version: the model, its training data's profile and its held-out rows (monitoring's reference)
VERSION_FILES = ("model.skops", "profile.json", "evaluation.parquet")


@dataclass(frozen=True)
class ModelVersion:
    """A registered model: what it was trained on and how, who registered it and when."""

    project_id: str
    number: int
    experiment_id: str
    data_sha256: str
    record: dict
    note: str
    created_by: str
    created_at: str


@dataclass(frozen=True)
class AliasMove:
    """One move of an alias: onto `number` (None: taken off) by `set_by` at `created_at`."""

    alias: str
    number: int | None
    set_by: str
    created_at: str


class Versions(Access):
    """Calls on model versions and their aliases."""

    def add_version(self, project_id: str, experiment_id: str, data_sha256: str, record: dict,
                    files: dict[str, bytes], note: str = "") -> ModelVersion:
        """Keep a new version (numbered after the project's last) with its files; nothing is kept on failure."""
        self._require(project_id, "editor")
        with self._transaction() as db:
            number = next_number(db, project_id, model_versions.c.number)
            folder = self._version_dir(project_id, number)
            folder.mkdir(parents=True, exist_ok=True)
            try:
                for name, data in files.items():
                    atomic_write(folder / name, data)
                db.execute(sa.insert(model_versions).values(
                    project_id=project_id, number=number, experiment_id=experiment_id, data_sha256=data_sha256,
                    record=json.dumps(record, ensure_ascii=False, default=str), note=note.strip()[:2000],
                    created_by=self.user.id if self.user else "", created_at=utc_now()))
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
        return self.get_version(project_id, number)

    def list_versions(self, project_id: str) -> list[ModelVersion]:
        """A project's versions, newest first."""
        self._require(project_id, "viewer")
        with self._connect() as db:
            rows = db.execute(sa.select(model_versions).where(model_versions.c.project_id == project_id)
                              .order_by(model_versions.c.number.desc())).all()
        return [_version(r) for r in rows]

    def get_version(self, project_id: str, number: int) -> ModelVersion:
        """One version; raises UserError when the project has no such version."""
        self._require(project_id, "viewer")
        with self._connect() as db:
            row = db.execute(sa.select(model_versions).where(model_versions.c.project_id == project_id,
                                                             model_versions.c.number == int(number))).first()
        if row is None:
            raise UserError("version.missing", number=number)
        return _version(row)

    def version_file(self, project_id: str, number: int, name: str) -> bytes:
        """A file kept with a version; raises UserError when it was deleted from the workspace folder."""
        self.get_version(project_id, number)
        path = self._version_dir(project_id, number) / name
        if not path.is_file():
            raise UserError("version.files_missing", number=number, path=str(path))
        return path.read_bytes()

    def keep_version_file(self, project_id: str, number: int, name: str, data: bytes) -> None:
        """Keep a further file with a version (where it was sent, say); the version's own files never change."""
        if name in VERSION_FILES or "/" in name or name.startswith("."):
            raise ValueError(f"not a file a version may gain: {name!r}")
        self._require(project_id, "editor")
        self.get_version(project_id, number)
        atomic_write(self._version_dir(project_id, number) / name, data)

    def has_version_file(self, project_id: str, number: int, name: str) -> bool:
        """Whether the version's folder holds the file."""
        self._require(project_id, "viewer")
        return (self._version_dir(project_id, number) / name).is_file()

    def set_alias(self, project_id: str, alias: str, number: int | None) -> None:
        """Point `alias` at version `number` of this project (None takes it off); the move is kept."""
        if alias not in ALIASES:
            raise ValueError(f"not an alias: {alias!r}")
        self._require(project_id, "editor")
        if number is not None:
            self.get_version(project_id, number)  # a version of this project, or a clear refusal
        with self._transaction() as db:
            db.execute(sa.insert(aliases).values(project_id=project_id, alias=alias, number=number,
                                                 set_by=self.user.id if self.user else "", created_at=utc_now()))

    def alias_history(self, project_id: str, alias: str | None = None) -> list[AliasMove]:
        """Every move of the project's aliases (or of one), newest first."""
        self._require(project_id, "viewer")
        query = sa.select(aliases).where(aliases.c.project_id == project_id)
        if alias is not None:
            query = query.where(aliases.c.alias == alias)
        with self._connect() as db:
            rows = db.execute(query.order_by(aliases.c.id.desc())).all()
        return [AliasMove(r.alias, r.number, r.set_by, r.created_at) for r in rows]

    def aliases_now(self, project_id: str) -> dict[str, int]:
        """The versions the aliases point at now ({"production": 3, ...}; an alias taken off is absent)."""
        now: dict[str, int] = {}
        for move in reversed(self.alias_history(project_id)):
            if move.number is None:
                now.pop(move.alias, None)
            else:
                now[move.alias] = move.number
        return now

    def _version_dir(self, project_id: str, number: int) -> Path:
        return self.project_dir(project_id) / "versions" / str(int(number))


def _version(row: sa.Row) -> ModelVersion:
    data = row._asdict()
    data["record"] = json.loads(data["record"])
    return ModelVersion(**data)
