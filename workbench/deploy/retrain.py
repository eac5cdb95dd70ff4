"""Retraining: the production version's recipe and settings replayed on a new (or appended) table into a new
version that becomes the `challenger`, then champion and challenger side by side on the same held-out rows
and on what production was asked to predict (how often they agree); promoting is one click (versions.promote)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from workbench.deploy import versions as V
from workbench.deploy.modelfile import load_pipeline
from workbench.deploy.predict import Predictor
from workbench.errors import UserError
from workbench.io import read_table, to_csv_bytes
from workbench.jobs import JobContext
from workbench.store import Dataset, Store
from workbench.store.versions import ModelVersion
from workbench.tasks import REGRESSION

AGREEMENT_ROWS = 5_000  # logged production inputs compared (the newest)


def new_training_table(store: Store, project_id: str, data: bytes, filename: str, append: bool,
                       number: int | None = None) -> Dataset:
    """Keep the new rows as a dataset of the project (appended to the version's training table when `append`),
    after checking they hold the target and every column the model takes in."""
    version = V.chosen_version(store, project_id, number)
    frame, report = read_table(data, filename)
    record = version.record
    needed = [*record["features"], record["settings"]["target"]]
    lacking = [c for c in needed if c not in frame.columns]
    if lacking:
        raise UserError("retrain.missing_columns", columns=", ".join(map(str, lacking[:10])), file=filename)
    if frame[record["settings"]["target"]].notna().sum() < 10:
        raise UserError("retrain.too_few_rows", rows=int(frame[record["settings"]["target"]].notna().sum()))
    name = f"{filename.rsplit('.', 1)[0]}"
    if append:
        try:
            base = store.load_frame(record["dataset"]["id"])
        except UserError:
            raise UserError("retrain.no_training_data", number=version.number) from None
        frame = pd.concat([base, frame[[c for c in frame.columns if c in base.columns]]], ignore_index=True)
        name = f"{record['dataset']['name']} + {name}"
        data = to_csv_bytes(frame)
        frame, report = read_table(data, f"{name}.csv")
        filename = f"{name}.csv"
    return store.add_dataset(project_id, name, data, filename, frame, report)


def retrain_job(store: Store, project_id: str, dataset_id: str, number: int, note: str = "") -> Callable:
    """Job work: train the version's recipe and settings on the dataset, register the result as the challenger
    and compare it with the champion."""
    from workbench.experiments import save_experiment, settings_from
    from workbench.recipe import Recipe
    from workbench.training import train_experiment

    def work(ctx: JobContext) -> dict[str, Any]:
        champion = store.get_version(project_id, number)
        record = champion.record
        ctx.report(0.05, "job.retraining", number=number)
        frame = store.load_frame(dataset_id)
        experiment = train_experiment(frame, Recipe.from_json(record["recipe"]), settings_from(record["settings"]))
        ctx.report(0.7, "job.registering")
        stored = save_experiment(store, project_id, dataset_id, record["dataset"].get("recipe_version", 0),
                                 experiment, {"retrained_from": number})
        challenger = V.register(store, project_id, stored.id, note or f"retrained from version {number}")
        V.promote(store, project_id, challenger.number, V.CHALLENGER)
        ctx.report(0.85, "job.comparing")
        test = frame.loc[experiment.test_index]
        return {"champion": number, "challenger": challenger.number, "experiment": stored.id,
                "experiments": [stored.id], **compare(store, champion, challenger, test)}

    return work


def compare(store: Store, champion: ModelVersion, challenger: ModelVersion, test: pd.DataFrame) -> dict[str, Any]:
    """Both versions' metrics on the same held-out rows, and how often they agree on production's inputs."""
    from workbench.deploy.serving import logged_inputs
    from workbench.evaluation import classification_metrics, regression_metrics

    target = champion.record["settings"]["target"]
    task = champion.record["settings"]["task"]
    y = test[target]
    scores: dict[str, dict[str, float]] = {}
    for label, version in (("champion", champion), ("challenger", challenger)):
        predictor = _predictor(store, version)
        predicted, proba, _ = predictor.answers(test.drop(columns=[target]))
        predicted = predicted.to_numpy()
        if task == REGRESSION:
            scores[label] = regression_metrics(y, predicted)
        else:
            known = y.astype(str).isin({str(c) for c in predictor.classes}).to_numpy()
            scores[label] = classification_metrics(y[known].to_numpy(), predicted[known],
                                                   None if proba is None else proba[known],
                                                   np.asarray(predictor.classes))
    logged = logged_inputs(store, champion.project_id)
    agreement, compared = None, 0
    if not logged.empty:
        rows = logged.drop(columns=["_at", "_version"]).tail(AGREEMENT_ROWS)
        a = _predictor(store, champion).answers(rows)[0].to_numpy()
        b = _predictor(store, challenger).answers(rows)[0].to_numpy()
        compared = int(len(rows))
        if task == REGRESSION:
            scale = float(np.nanstd(a)) or 1.0
            agreement = float(np.mean(np.abs(a.astype(float) - b.astype(float)) <= 0.1 * scale))
        else:
            agreement = float(np.mean(a.astype(str) == b.astype(str)))
    return {"test_rows": int(len(test)), "scores": {k: {m: float(v) for m, v in s.items()} for k, s in scores.items()},
            "primary": champion.record["primary"], "agreement": agreement, "compared_rows": compared}


def _predictor(store: Store, version: ModelVersion) -> Predictor:
    return Predictor.from_record(load_pipeline(V.version_model(store, version)), version.record)
