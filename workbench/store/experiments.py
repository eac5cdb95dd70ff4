"""Experiments: a training run's record, its model file and its test-row predictions."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench.errors import UserError
from workbench.store.base import StoreBase, atomic_write, utc_now, write_parquet


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


class Experiments(StoreBase):
    """Calls on experiments."""

    def add_experiment(self, project_id: str, dataset_id: str, recipe_version: int, record: dict,
                       model: bytes, evaluation: pd.DataFrame) -> StoredExperiment:
        """Keep a training run: its record (settings, metrics), the model file and the test-row predictions."""
        self.get_project(project_id)
        experiment_id = uuid.uuid4().hex[:12]
        folder = self.project_dir(project_id) / "experiments" / experiment_id
        folder.mkdir(parents=True, exist_ok=True)
        try:
            atomic_write(folder / "model.skops", model)
            write_parquet(evaluation, folder / "evaluation.parquet")
            with self._transaction() as db:
                db.execute("INSERT INTO experiments VALUES (?, ?, ?, ?, ?, 0, ?)",
                           (experiment_id, project_id, dataset_id, recipe_version,
                            json.dumps(record, ensure_ascii=False, default=str), utc_now()))
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

    def save_experiment_file(self, experiment_id: str, name: str, data: bytes) -> None:
        """Keep a file computed later for an experiment (e.g. its explanation), replacing an older one."""
        if not re.fullmatch(r"[\w.-]+", name) or name in ("model.skops", "evaluation.parquet"):
            raise ValueError(f"not an extra experiment file name: {name!r}")
        atomic_write(self._experiment_dir(self.get_experiment(experiment_id)) / name, data)

    def experiment_file(self, experiment_id: str, name: str) -> bytes | None:
        """A file kept with save_experiment_file(), or None."""
        path = self._experiment_dir(self.get_experiment(experiment_id)) / name
        return path.read_bytes() if path.is_file() else None

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

    def _experiment_dir(self, experiment: StoredExperiment) -> Path:
        return self.project_dir(experiment.project_id) / "experiments" / experiment.id


def _experiment(row: sqlite3.Row) -> StoredExperiment:
    data = dict(row)
    data["record"] = json.loads(data["record"])
    data["chosen"] = bool(data["chosen"])
    return StoredExperiment(**data)
