"""Jobs for the tasks without a target column: clustering (and choosing k), anomaly scans and forecasts.

Each job's result is JSON kept with the job in the store, so the Segments and
Forecast pages show the newest one to every tab and after a restart; the
bundles are made from a result's settings (refitted with the same seed on the
same rows, which gives the same clusters).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from workbench import clustering as cl
from workbench import forecast as fc
from workbench.io import read_table, to_csv_bytes
from workbench.jobs import JobContext, latest_result
from workbench.recipe import Recipe
from workbench.store import Dataset, Store


def inputs(store: Store, project_id: str, dataset_id: str) -> tuple[pd.DataFrame, Recipe]:
    """The dataset as uploaded and the project's recipe (its steps run inside the pipelines)."""
    return store.load_frame(dataset_id), Recipe.saved(store.load_recipe(project_id)[1])


def choose_k_job(store: Store, project_id: str, dataset_id: str, columns: list[str], seed: int = 42) -> Callable:
    """Job work: the elbow and silhouette curves of k-means for k = 2..10."""

    def work(ctx: JobContext) -> dict:
        frame, recipe = inputs(store, project_id, dataset_id)
        ctx.report(0.02, "cluster.progress.k", k=2)
        curve = cl.choose_k(frame, recipe, columns, seed,
                            on_step=lambda i, n: ctx.report(i / n, "cluster.progress.k", k=min(i + 2, 10)))
        return {"dataset": dataset_id, "columns": columns, "curve": curve.to_dict(orient="list"),
                "best_k": cl.best_k(curve)}

    return work


def cluster_job(store: Store, project_id: str, dataset_id: str, settings: dict[str, Any]) -> Callable:
    """Job work: fit the clustering, score it, profile its clusters and place the rows on 2-D maps."""

    def work(ctx: JobContext) -> dict:
        chosen = cl.ClusterSettings(**settings)
        frame, recipe = inputs(store, project_id, dataset_id)
        ctx.report(0.05, "cluster.progress.fit", algorithm=chosen.algorithm)
        result = cl.fit_clusters(frame, recipe, chosen)
        ctx.report(0.5, "cluster.progress.map")
        maps = {"pca": cl.row_map(result, frame, "pca").to_dict(orient="list")}
        ctx.report(0.6, "cluster.progress.tsne")
        maps["tsne"] = cl.row_map(result, frame, "tsne").to_dict(orient="list")
        ctx.report(0.95, "cluster.progress.profiles")
        sizes = pd.Series(result.labels).value_counts().sort_index()
        return {"dataset": dataset_id, "settings": chosen.to_dict(), "columns": result.columns,
                "labels": [int(v) for v in result.labels], "scores": result.scores,
                "sizes": {str(k): int(v) for k, v in sizes.items()},
                "profiles": cl.profiles(frame, result.labels, result.columns), "maps": maps,
                "assigns_new_rows": result.assigns_new_rows}

    return work


def anomaly_job(store: Store, project_id: str, dataset_id: str, settings: dict[str, Any]) -> Callable:
    """Job work: one anomaly score per row."""

    def work(ctx: JobContext) -> dict:
        chosen = cl.AnomalySettings(**settings)
        frame, recipe = inputs(store, project_id, dataset_id)
        ctx.report(0.1, "anomaly.progress", detector=chosen.detector)
        scores = cl.anomaly_scores(frame, recipe, chosen)
        return {"dataset": dataset_id, "settings": chosen.to_dict(),
                "columns": cl.feature_columns(frame, chosen.columns), "scores": [float(v) for v in scores]}

    return work


def forecast_job(store: Store, project_id: str, dataset_id: str, settings: dict[str, Any]) -> Callable:
    """Job work: backtest the forecasting models, choose one and forecast the horizon."""

    def work(ctx: JobContext) -> dict:
        chosen = fc.settings_from(settings)
        frame, _ = inputs(store, project_id, dataset_id)
        ctx.report(0.02, "forecast.progress", model=fc.BASELINE, done=0, total=1)
        result = fc.run(frame, chosen, on_step=lambda done, total, model: ctx.report(
            0.02 + 0.96 * done / max(total, 1), "forecast.progress", model=model, done=done, total=total))
        return {"dataset": dataset_id, **result}

    return work


def latest(store: Store, project_id: str, kind: str, dataset_id: str) -> dict | None:
    """The result of the newest finished job of `kind` on the dataset."""
    return latest_result(store, project_id, kind, lambda result: result.get("dataset") == dataset_id)


def with_clusters(frame: pd.DataFrame, labels: list[int], column: str = "cluster") -> pd.DataFrame:
    """The rows with their cluster as a new column (named cluster, cluster_2… when taken)."""
    name, n = column, 2
    while name in frame.columns:
        name, n = f"{column}_{n}", n + 1
    return frame.assign(**{name: np.asarray(labels)})


def add_cluster_dataset(store: Store, project_id: str, dataset: Dataset, labels: list[int]) -> Dataset:
    """Keep the rows with their cluster column as a new dataset of the project (the original stays)."""
    frame = with_clusters(store.load_frame(dataset.id), labels)
    filename = f"{dataset.filename.rsplit('.', 1)[0]}_clusters.csv"
    raw = to_csv_bytes(frame)
    table, report = read_table(raw, filename)
    return store.add_dataset(project_id, f"{dataset.name} + cluster", raw, filename, table, report)


JOB_KINDS = {"choose_k": choose_k_job, "cluster": cluster_job, "anomaly": anomaly_job, "forecast": forecast_job}
