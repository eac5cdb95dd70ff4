"""Project export and replay: the whole project as a zip (raw files, read options, recipes, settings), and
its rebuilding on the same data with the same seeds, which must give the same metrics.

    python -m workbench replay project.zip

Replay reads each raw file with the options it was imported with, trains every
experiment again from its own recipe and settings, saves the rebuilt project in
the workspace, and reports each metric beside the original.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import dataclass
from typing import Any

import workbench
from workbench.deploy.export import open_zip
from workbench.errors import UserError
from workbench.experiments import save_experiment, settings_from
from workbench.io import ReadReport, read_table
from workbench.models import AUTOML
from workbench.recipe import Recipe
from workbench.store import Store
from workbench.training import train_experiment

FORMAT = 1
MAX_EXPORT_MB = 4_000
TOLERANCE = 1e-9


def read_options(report: ReadReport) -> dict[str, Any]:
    """The read_table options that reproduce an import: what was detected or chosen, passed back."""
    options: dict[str, Any] = {"bad_lines": report.bad_lines_policy}
    if report.format == "csv":
        options.update(delimiter=report.delimiter, decimal=report.decimal, header=report.header)
    if report.encoding_source == "user":
        options["encoding"] = report.encoding
    if report.sheet:
        options["sheet"] = report.sheet
    return {k: v for k, v in options.items() if v is not None}


def export_project(store: Store, project_id: str) -> bytes:
    """The project as a zip: project.json (datasets with their read options, experiments with their recipe
    and settings and metrics) and each dataset's raw file as uploaded."""
    project = store.get_project(project_id)
    datasets = store.list_datasets(project_id)
    manifest = {
        "format": FORMAT, "workbench": workbench.__version__, "name": project.name,
        "datasets": [{"id": d.id, "name": d.name, "filename": d.filename, "sha256": d.sha256,
                      "read": read_options(d.report)} for d in datasets],
        "experiments": [{"id": e.id, "dataset_id": e.dataset_id, "recipe_version": e.recipe_version,
                         "record": e.record, "chosen": e.chosen} for e in reversed(store.list_experiments(project_id))],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.json", json.dumps(manifest, ensure_ascii=False, indent=2, default=str))
        for d in datasets:
            archive.writestr(f"datasets/{d.id}/raw", store.raw_bytes(d.id))
    return buffer.getvalue()


@dataclass
class Replayed:
    """One experiment trained again: its metrics beside the original ones."""

    experiment_id: str
    new_id: str
    model: str
    original: dict[str, float]
    replayed: dict[str, float]

    @property
    def same(self) -> bool:
        """Every metric equal within TOLERANCE (NaN equals NaN)."""
        return self.original.keys() == self.replayed.keys() and all(
            (math.isnan(a) and math.isnan(b)) or abs(a - b) <= TOLERANCE
            for a, b in ((self.original[k], self.replayed[k]) for k in self.original))


_READ_OPTIONS = {"encoding", "delimiter", "decimal", "header", "sheet", "bad_lines"}


def _manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    """project.json, checked for the shape export_project writes (UserError otherwise)."""
    try:
        manifest = json.loads(archive.read("project.json").decode("utf-8"))
    except (KeyError, ValueError, UnicodeDecodeError):
        raise UserError("replay.not_export") from None
    datasets, experiments = manifest.get("datasets"), manifest.get("experiments")
    if not (isinstance(manifest, dict) and manifest.get("format") == FORMAT and isinstance(datasets, list)
            and isinstance(experiments, list)):
        raise UserError("replay.not_export")
    for d in datasets:
        if not (isinstance(d, dict) and {"id", "name", "filename"} <= d.keys() and isinstance(d.get("read"), dict)
                and set(d["read"]) <= _READ_OPTIONS):
            raise UserError("replay.damaged", what="project.json: datasets")
    known = {d["id"] for d in datasets}
    for e in experiments:
        settings = e.get("record", {}).get("settings") if isinstance(e, dict) else None
        if not isinstance(settings, dict) or "model_id" not in settings or e.get("dataset_id") not in known:
            raise UserError("replay.damaged", what="project.json: experiments")
    return manifest


def _read_datasets(archive: zipfile.ZipFile, manifest: dict[str, Any]) -> dict[str, tuple[bytes, Any, Any]]:
    """Each dataset's raw bytes and table as it was imported, read before anything is saved."""
    tables = {}
    for d in manifest["datasets"]:
        entry = f"datasets/{d['id']}/raw"
        try:
            raw = archive.read(entry)
        except KeyError:
            raise UserError("replay.missing_file", dataset=d["name"], entry=entry) from None
        try:
            tables[d["id"]] = (raw, *read_table(raw, d["filename"], **d["read"]))
        except UserError as exc:
            raise UserError("replay.dataset_unreadable", dataset=d["name"], message=exc.message()) from None
    return tables


def replay(data: bytes, store: Store, report: Any = None) -> tuple[str, list[Replayed]]:
    """Rebuild an exported project in `store` (as a new project) and train its experiments again. A damaged
    export is refused before anything is saved; a replay that fails part-way leaves no project behind."""
    # raw files of every dataset travel inside: a larger bound than a model bundle's
    with open_zip(data, "replay.not_export", max_mb=MAX_EXPORT_MB, max_entries=10_000) as archive:
        manifest = _manifest(archive)
        tables = _read_datasets(archive, manifest)
    name = f"{manifest.get('name') or 'project'} (replay)"
    taken = {p.name.casefold() for p in store.list_projects()}
    suffix = 2
    while name.casefold() in taken:
        name, suffix = f"{manifest.get('name') or 'project'} (replay {suffix})", suffix + 1
    project = store.create_project(name)
    try:
        return project.id, _replay_into(store, project.id, manifest, tables, report)
    except BaseException:
        store.delete_project(project.id)
        raise


def _replay_into(store: Store, project_id: str, manifest: dict[str, Any], tables: dict[str, tuple[bytes, Any, Any]],
                 report: Any) -> list[Replayed]:
    ids = {}
    for d in manifest["datasets"]:
        raw, frame, read_report = tables[d["id"]]
        ids[d["id"]] = store.add_dataset(project_id, d["name"], raw, d["filename"], frame, read_report).id
    results = []
    # an AutoML pipeline is not rebuilt from settings (the search is not repeated): it is left out
    replayable = [e for e in manifest["experiments"] if e["record"]["settings"]["model_id"] != AUTOML]
    for i, e in enumerate(replayable):
        if report:
            report(i / max(1, len(replayable)), e["record"]["settings"]["model_id"])
        record = e["record"]
        recipe_text = record.get("recipe") or Recipe().to_json()
        version = store.save_recipe(project_id, recipe_text)
        experiment = train_experiment(tables[e["dataset_id"]][1], Recipe.from_json(recipe_text),
                                      settings_from(record["settings"]))
        saved = save_experiment(store, project_id, ids[e["dataset_id"]], version, experiment)
        if e.get("chosen"):
            store.choose_experiment(project_id, saved.id)
        results.append(Replayed(e["id"], saved.id, record["settings"]["model_id"], record.get("metrics", {}),
                                experiment.metrics))
    return results
