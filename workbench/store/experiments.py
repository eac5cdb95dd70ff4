"""Experiments: a training run's record, its model file and its test-row predictions."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from workbench.errors import UserError
from workbench.store.access import Access
from workbench.store.base import atomic_write, experiments, utc_now, write_parquet


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


class Experiments(Access):
    """Calls on experiments."""

    def add_experiment(self, project_id: str, dataset_id: str, recipe_version: int, record: dict,
                       model: bytes, evaluation: pd.DataFrame) -> StoredExperiment:
        """Keep a training run: its record (settings, metrics), the model file and the test-row predictions."""
        self.get_project(project_id)
        self._require(project_id, "editor")
        experiment_id = uuid.uuid4().hex[:12]
        folder = self.project_dir(project_id) / "experiments" / experiment_id
        folder.mkdir(parents=True, exist_ok=True)
        try:
            atomic_write(folder / "model.skops", model)
            write_parquet(evaluation, folder / "evaluation.parquet")
            with self._transaction() as db:
                db.execute(sa.insert(experiments).values(
                    id=experiment_id, project_id=project_id, dataset_id=dataset_id, recipe_version=recipe_version,
                    record=json.dumps(record, ensure_ascii=False, default=str), chosen=0, created_at=utc_now()))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return self.get_experiment(experiment_id)

    def list_experiments(self, project_id: str) -> list[StoredExperiment]:
        """A project's experiments, newest first."""
        self._require(project_id, "viewer")
        with self._connect() as db:
            rows = db.execute(sa.select(experiments).where(experiments.c.project_id == project_id)
                              .order_by(experiments.c.created_at.desc())).all()
        return [_experiment(r) for r in rows]

    def get_experiment(self, experiment_id: str) -> StoredExperiment:
        """Return an experiment; raises UserError when it does not exist (any more)."""
        with self._connect() as db:
            row = db.execute(sa.select(experiments).where(experiments.c.id == experiment_id)).first()
        if row is None:
            raise UserError("store.experiment_missing")
        self._require(row.project_id, "viewer")
        return _experiment(row)

    def experiment_model(self, experiment_id: str) -> bytes:
        """The experiment's model file (skops bytes)."""
        return (self._experiment_dir(self.get_experiment(experiment_id)) / "model.skops").read_bytes()

    def experiment_evaluation(self, experiment_id: str) -> pd.DataFrame:
        """The experiment's test rows: actual, predicted and class probabilities."""
        return pd.read_parquet(self._experiment_dir(self.get_experiment(experiment_id)) / "evaluation.parquet")

    def save_experiment_file(self, experiment_id: str, name: str, data: bytes) -> None:
        """Keep a file computed later for an experiment (e.g. its explanation), replacing an older one."""
        if not re.fullmatch(r"[\w.-]+", name) or name in ("model.skops", "evaluation.parquet"):
            raise ValueError(f"not an extra experiment file name: {name!r}")
        experiment = self.get_experiment(experiment_id)
        self._require(experiment.project_id, "editor")
        atomic_write(self._experiment_dir(experiment) / name, data)

    def experiment_file(self, experiment_id: str, name: str) -> bytes | None:
        """A file kept with save_experiment_file(), or None."""
        path = self._experiment_dir(self.get_experiment(experiment_id)) / name
        return path.read_bytes() if path.is_file() else None

    def choose_experiment(self, project_id: str, experiment_id: str) -> None:
        """Mark an experiment as the project's chosen model (one at a time)."""
        if self.get_experiment(experiment_id).project_id != project_id:
            raise UserError("store.experiment_missing")
        self._require(project_id, "editor")
        with self._transaction() as db:
            db.execute(sa.update(experiments).where(experiments.c.project_id == project_id)
                       .values(chosen=sa.case((experiments.c.id == experiment_id, 1), else_=0)))

    def delete_experiment(self, experiment_id: str) -> None:
        """Delete an experiment and its files."""
        experiment = self.get_experiment(experiment_id)
        self._require(experiment.project_id, "editor")
        with self._transaction() as db:
            db.execute(sa.delete(experiments).where(experiments.c.id == experiment_id))
        shutil.rmtree(self._experiment_dir(experiment), ignore_errors=True)

    def _experiment_dir(self, experiment: StoredExperiment) -> Path:
        return self.project_dir(experiment.project_id) / "experiments" / experiment.id


def _experiment(row: sa.Row) -> StoredExperiment:
    data = row._asdict()
    data["record"] = json.loads(data["record"])
    data["chosen"] = bool(data["chosen"])
    return StoredExperiment(**data)
