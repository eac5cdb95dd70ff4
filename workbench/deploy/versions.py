"""Model versions and the production model: register an experiment as an immutable version, promote a version
to `production` (or `challenger`), roll back; the Predict page, the endpoint and monitoring use `production`.

A version keeps its own copy of the model file and a reference profile of its training data (what monitoring
compares new data with: the raw columns the model takes in, as rows sent to it arrive), so deleting the
experiment, or editing the recipe, changes nothing about it."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import UserError
from workbench.store import Store
from workbench.store.versions import ALIASES, ModelVersion

PRODUCTION, CHALLENGER = ALIASES
PROFILE_SAMPLE = 2000  # values kept per numeric column for monitoring's tests
PROFILE_CATEGORIES = 100  # categories counted per column; the rest are counted together


def reference_profile(frame: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """What the training data looked like, per column: numbers (count, missing, mean, spread, deciles and a
    seeded sample of values) or categories (counts of the commonest)."""
    rng = np.random.default_rng(0)
    out: dict[str, Any] = {"rows": int(len(frame)), "columns": {}}
    for name in columns:
        if name not in frame.columns:
            continue
        column = frame[name]
        missing = int(column.isna().sum())
        present = column.dropna()
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            values = present.to_numpy(dtype=float)
            sample = values if len(values) <= PROFILE_SAMPLE else rng.choice(values, PROFILE_SAMPLE, replace=False)
            out["columns"][str(name)] = {
                "kind": "numeric", "n": int(len(values)), "missing": missing,
                "mean": float(values.mean()) if len(values) else None,
                "std": float(values.std(ddof=1)) if len(values) > 1 else None,
                "deciles": [float(q) for q in np.quantile(values, np.linspace(0, 1, 11))] if len(values) else [],
                "sample": [float(v) for v in sample]}
        else:
            counts = present.astype(str).value_counts()
            top = counts.head(PROFILE_CATEGORIES)
            out["columns"][str(name)] = {
                "kind": "categorical", "n": int(len(present)), "missing": missing,
                "counts": {str(k): int(v) for k, v in top.items()}, "other": int(counts.iloc[len(top):].sum())}
    return out


def prediction_profile(evaluation: pd.DataFrame) -> dict[str, Any]:
    """The profile of the model's predictions on its held-out rows (what prediction drift compares with)."""
    return reference_profile(evaluation.rename(columns={"predicted": "prediction"}), ["prediction"])["columns"][
        "prediction"]


def register(store: Store, project_id: str, experiment_id: str, note: str = "") -> ModelVersion:
    """Make the experiment a new version of the project's model. The first version becomes `production`."""
    experiment = store.get_experiment(experiment_id)
    if experiment.project_id != project_id:
        raise UserError("version.other_project")
    record = experiment.record
    if "schema" not in record or "settings" not in record:
        raise UserError("version.not_tabular")
    dataset = store.get_dataset(experiment.dataset_id)
    target = record["settings"]["target"]  # the raw columns the model takes in (the recipe is inside it)
    profile = reference_profile(store.load_frame(dataset.id), [*record["features"], target])
    profile["target"] = target
    evaluation = store.experiment_evaluation(experiment_id)  # the held-out rows: monitoring's yardstick
    profile["prediction"] = prediction_profile(evaluation)
    files = {"model.skops": store.experiment_model(experiment_id),
             "profile.json": json.dumps(profile, ensure_ascii=False).encode("utf-8"),
             "evaluation.parquet": evaluation.to_parquet(index=False)}
    version = store.add_version(project_id, experiment_id, dataset.sha256,
                                {**record, "dataset": {"id": dataset.id, "name": dataset.name,
                                                       "recipe_version": experiment.recipe_version}}, files, note)
    if PRODUCTION not in store.aliases_now(project_id):
        store.set_alias(project_id, PRODUCTION, version.number)
    return version


def promote(store: Store, project_id: str, number: int, alias: str = PRODUCTION) -> None:
    """Point `alias` at version `number`. A challenger promoted to production stops being the challenger."""
    store.get_version(project_id, number)  # this project's version, or a clear refusal
    now = store.aliases_now(project_id)
    if now.get(alias) == number:
        return
    store.set_alias(project_id, alias, number)
    if alias == PRODUCTION and now.get(CHALLENGER) == number:
        store.set_alias(project_id, CHALLENGER, None)


def roll_back(store: Store, project_id: str) -> int:
    """Put the version that was production before the current one back; its number. Raises UserError when
    production never pointed anywhere else."""
    history = [m.number for m in store.alias_history(project_id, PRODUCTION) if m.number is not None]
    current = store.aliases_now(project_id).get(PRODUCTION)
    earlier = next((n for n in history if n != current), None)
    if earlier is None:
        raise UserError("version.nothing_to_roll_back")
    store.set_alias(project_id, PRODUCTION, earlier)
    return earlier


def aliased(store: Store, project_id: str, alias: str = PRODUCTION) -> ModelVersion | None:
    """The version an alias points at, or None."""
    number = store.aliases_now(project_id).get(alias)
    return None if number is None else store.get_version(project_id, number)


def chosen_version(store: Store, project_id: str, number: int | None = None) -> ModelVersion:
    """Version `number`, or production when it is None; UserError when the project has no production."""
    version = aliased(store, project_id) if number is None else store.get_version(project_id, number)
    if version is None:
        raise UserError("monitor.no_production")
    return version


def version_model(store: Store, version: ModelVersion) -> bytes:
    """The version's own model file (skops bytes); UserError when it was deleted from the folder."""
    return store.version_file(version.project_id, version.number, "model.skops")


def version_bundle(store: Store, version: ModelVersion) -> bytes:
    """The version's model bundle (what the endpoint serves and MLflow keeps), naming the version it is."""
    from workbench.deploy.export import build_bundle

    profile = ({"profile.json": store.version_file(version.project_id, version.number, "profile.json")}
               if store.has_version_file(version.project_id, version.number, "profile.json") else {})
    return build_bundle(version_model(store, version), {**version.record, "version": version.number},
                        {"dataset": version.record.get("dataset", {}).get("name", "")}, extra=profile)


def version_profile(store: Store, version: ModelVersion) -> dict[str, Any]:
    """The version's reference profile (reference_profile of its training data)."""
    return json.loads(store.version_file(version.project_id, version.number, "profile.json"))
