"""Datasets: the uploaded bytes, a Parquet copy and the import report."""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from workbench.errors import UserError
from workbench.io import ReadReport
from workbench.store.access import Access
from workbench.store.base import atomic_write, clean_name, datasets, projects, safe_filename, utc_now, write_parquet


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


class Datasets(Access):
    """Calls on datasets."""

    def add_dataset(self, project_id: str, name: str, raw: bytes, filename: str,
                    frame: pd.DataFrame, report: ReadReport) -> Dataset:
        """Keep an imported table: its original bytes, a Parquet copy and its report.

        The new dataset becomes the project's active one.
        """
        self.get_project(project_id)
        self._require(project_id, "editor")
        name = clean_name(name)
        dataset_id = uuid.uuid4().hex[:12]
        folder = self.project_dir(project_id) / "datasets" / dataset_id
        folder.mkdir(parents=True, exist_ok=True)
        try:
            atomic_write(folder / f"raw_{safe_filename(filename)}", raw)
            write_parquet(frame, folder / "data.parquet")
            dataset = Dataset(dataset_id, project_id, name, filename, int(frame.shape[0]), int(frame.shape[1]),
                              len(raw), hashlib.sha256(raw).hexdigest(), report, utc_now())
            with self._transaction() as db:
                db.execute(sa.insert(datasets).values(
                    **{**dataset.__dict__, "report": json.dumps(report.to_dict(), ensure_ascii=False)}))
                db.execute(sa.update(projects).where(projects.c.id == project_id)
                           .values(active_dataset_id=dataset_id))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return dataset

    def list_datasets(self, project_id: str) -> list[Dataset]:
        """A project's datasets, newest first."""
        self._require(project_id, "viewer")
        with self._connect() as db:
            rows = db.execute(sa.select(datasets).where(datasets.c.project_id == project_id)
                              .order_by(datasets.c.created_at.desc())).all()
        return [_dataset(r) for r in rows]

    def get_dataset(self, dataset_id: str) -> Dataset:
        """Return a dataset; raises UserError when it does not exist (any more)."""
        with self._connect() as db:
            row = db.execute(sa.select(datasets).where(datasets.c.id == dataset_id)).first()
        if row is None:
            raise UserError("store.dataset_missing")
        self._require(row.project_id, "viewer")
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
        self._require(project_id, "editor")
        with self._transaction() as db:
            db.execute(sa.update(projects).where(projects.c.id == project_id).values(active_dataset_id=dataset_id))

    def load_frame(self, dataset_id: str) -> pd.DataFrame:
        """Return a dataset's table from its Parquet copy."""
        dataset = self.get_dataset(dataset_id)
        return pd.read_parquet(self._dataset_dir(dataset) / "data.parquet")

    def raw_bytes(self, dataset_id: str) -> bytes:
        """Return the bytes the user uploaded, unchanged."""
        dataset = self.get_dataset(dataset_id)
        return (self._dataset_dir(dataset) / f"raw_{safe_filename(dataset.filename)}").read_bytes()

    def delete_dataset(self, dataset_id: str) -> None:
        """Delete a dataset and its files."""
        dataset = self.get_dataset(dataset_id)
        self._require(dataset.project_id, "editor")
        with self._transaction() as db:
            db.execute(sa.delete(datasets).where(datasets.c.id == dataset_id))
            db.execute(sa.update(projects).where(projects.c.active_dataset_id == dataset_id)
                       .values(active_dataset_id=None))
        shutil.rmtree(self._dataset_dir(dataset), ignore_errors=True)

    def _dataset_dir(self, dataset: Dataset) -> Path:
        return self.project_dir(dataset.project_id) / "datasets" / dataset.id


def _dataset(row: sa.Row) -> Dataset:
    data = row._asdict()
    data["report"] = ReadReport.from_dict(json.loads(data["report"]))
    return Dataset(**data)
