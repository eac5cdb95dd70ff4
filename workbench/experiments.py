"""Experiments as kept in the workspace: save a training run, read it back, rank runs on a leaderboard."""

from __future__ import annotations

import io
import json
from concurrent.futures import Future
from dataclasses import asdict, replace
from typing import Any, Callable

import numpy as np
import pandas as pd
from sklearn.model_selection import ParameterSampler

from workbench import analyses, jobs
from workbench.deep import jobs as deep_jobs
from workbench.deep.runtime import final_estimator, listening
from workbench.deploy.modelfile import dump_pipeline, load_pipeline
from workbench.deploy.retrain import retrain_job
from workbench.errors import UserError
from workbench.evaluation import CV_SCORING, LOWER_IS_BETTER, PRIMARY, better
from workbench.jobs import JobContext
from workbench.models import AUTOML, CATALOGUE
from workbench.recipe import Recipe
from workbench.store import Store, StoredExperiment
from workbench.training import (
    Experiment,
    Settings,
    Split,
    cross_validate_params,
    job_cores,
    learning_curve_data,
    propose_model,
    train_experiment,
)


def record_of(experiment: Experiment) -> dict[str, Any]:
    """A training run's settings and results as JSON-ready data (what the store and the bundle keep)."""
    return {
        "settings": asdict(experiment.settings), "metrics": experiment.metrics, "baseline": experiment.baseline,
        "cv_scores": experiment.cv_scores, "primary": experiment.primary,
        "classes": [_plain(c) for c in experiment.classes], "n_train": experiment.n_train,
        "n_test": experiment.n_test, "seconds": experiment.seconds, "features": experiment.features,
        "schema": experiment.schema, "recipe": experiment.recipe, **_network_history(experiment.pipeline),
    }


def _network_history(pipeline: Any) -> dict[str, Any]:
    """A network's loss per epoch and its best epoch (restored), for the Results page; empty for other models."""
    model = final_estimator(pipeline)
    if not hasattr(model, "history_"):
        return {}
    return {"history": {**model.history_, "best_epoch": model.best_epoch_}}


def save_experiment(store: Store, project_id: str, dataset_id: str, recipe_version: int,
                    experiment: Experiment, extra: dict[str, Any] | None = None) -> StoredExperiment:
    """Write a finished training run to the store (with `extra` record entries, e.g. the AutoML search)."""
    return store.add_experiment(project_id, dataset_id, recipe_version, {**record_of(experiment), **(extra or {})},
                                dump_pipeline(experiment.pipeline), evaluation_frame(experiment))


def evaluation_frame(experiment: Experiment) -> pd.DataFrame:
    """The test rows: row label, actual, predicted, and one probability column per class."""
    frame = pd.DataFrame({"row": [str(i) for i in experiment.test_index], "actual": experiment.y_test,
                          "predicted": experiment.predictions})
    if experiment.proba is not None:
        proba = np.asarray(experiment.proba)
        for i, cls in enumerate(experiment.classes):
            frame[f"probability_{cls}"] = proba[:, i]
    if frame["actual"].dtype == object:
        frame["actual"] = frame["actual"].astype(str)
        frame["predicted"] = frame["predicted"].astype(str)
    return frame


def settings_of(stored: StoredExperiment) -> Settings:
    """The settings a stored experiment was trained with."""
    return settings_from(stored.record["settings"])


def settings_from(data: dict[str, Any]) -> Settings:
    """Settings from their JSON-ready form (dataclasses.asdict)."""
    return Settings(**{**data, "split": Split(**data["split"])})


def pipeline_of(store: Store, experiment_id: str) -> Any:
    """The fitted pipeline of a stored experiment (loaded with the trusted-type check)."""
    return load_pipeline(store.experiment_model(experiment_id))


def model_title(record: dict[str, Any]) -> str:
    """An experiment's model by name in the user's language; an AutoML average of models says it is one, and of
    how many."""
    from workbench.i18n import t

    automl = record.get("automl") or {}
    if record["settings"]["model_id"] == AUTOML and automl.get("source") == "ensemble":
        return t("model.automl_ensemble", members=len(automl["name"].split(" + ")))
    return t(f"model.{record['settings']['model_id']}")


def leaderboard(experiments: list[StoredExperiment]) -> pd.DataFrame:
    """One row per experiment: model (its id and title), task, held-out score on its primary metric, CV mean and
    spread, the baseline's score, fit time; best first within each primary metric."""
    rows = []
    for e in experiments:
        r = e.record
        primary = r["primary"]
        cv = np.asarray(r["cv_scores"], dtype=float)
        rows.append({
            "id": e.id, "model": r["settings"]["model_id"], "title": model_title(r), "task": r["settings"]["task"],
            "target": r["settings"]["target"], "metric": primary, "test": r["metrics"].get(primary),
            "cv_mean": float(cv.mean()) if cv.size else None, "cv_sd": float(cv.std()) if cv.size else None,
            "baseline": r["baseline"].get(primary), "seconds": r["seconds"], "chosen": e.chosen,
            "created": e.created_at[:19].replace("T", " "),
        })
    board = pd.DataFrame(rows)
    if board.empty:
        return board
    board["_sort"] = [(-v if m not in LOWER_IS_BETTER else v) for v, m in zip(board["test"], board["metric"])]
    return board.sort_values(["metric", "_sort"]).drop(columns="_sort").reset_index(drop=True)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# ---------------------------------------------------------------- work for jobs (workbench.jobs)


def train_several(store: Store, project_id: str, dataset_id: str, settings: list[Settings]) -> Callable:
    """Job work: train each setting in turn on the dataset and the project's current recipe; saves each run."""

    def work(ctx: JobContext) -> dict:
        frame, recipe, version = _inputs(store, project_id, dataset_id)
        saved = []
        for i, setting in enumerate(settings):
            ctx.report(i / len(settings), "job.training", model=setting.model_id, n=i + 1, total=len(settings))
            with listening(jobs.epoch_reporter(ctx, i / len(settings), (i + 1) / len(settings),
                                               model=setting.model_id)):
                experiment = train_experiment(frame, recipe, setting)
            saved.append(save_experiment(store, project_id, dataset_id, version, experiment).id)
        return {"experiments": saved}

    return work


def text_training(store: Store, project_id: str, dataset_id: str, settings: Settings) -> Callable:
    """Job work: train a text classifier on the dataset's text column (settings.params["column"]) and label
    (settings.target), and save it as an experiment. The text is the only input: no recipe, no other columns."""

    def work(ctx: JobContext) -> dict:
        column = settings.params["column"]
        frame = store.load_frame(dataset_id)
        if column not in frame.columns or settings.target not in frame.columns:
            raise UserError("text.column_missing", column=column)
        ctx.report(0.0, "job.training", model=settings.model_id, n=1, total=1)
        with listening(jobs.epoch_reporter(ctx, model=settings.model_id)):
            experiment = train_experiment(frame[[column, settings.target]], Recipe(), settings)
        saved = save_experiment(store, project_id, dataset_id, 0, experiment, {"text_column": column})
        return {"experiments": [saved.id]}

    return work


def tune(store: Store, project_id: str, dataset_id: str, settings: Settings, candidates: int = 20) -> Callable:
    """Job work: random search over the model's catalogue space with cross-validation on the training rows,
    then train and save the best candidate (the defaults are always one of the candidates)."""

    def work(ctx: JobContext) -> dict:
        frame, recipe, version = _inputs(store, project_id, dataset_id)
        spec = CATALOGUE[settings.model_id]
        sampled = list(ParameterSampler(spec.search_space(), n_iter=candidates - 1, random_state=settings.split.seed))
        trials = [spec.defaults(), *sampled] if spec.params else [{}]
        best_score, best_params = None, trials[0]
        for i, params in enumerate(trials):
            ctx.report(i / (len(trials) + 1), "job.tuning", n=i + 1, total=len(trials))
            score = cross_validate_params(frame, recipe, replace(settings, params=params))
            if best_score is None or better(PRIMARY[settings.task], score, best_score):
                best_score, best_params = score, params
        ctx.report(len(trials) / (len(trials) + 1), "job.training", model=settings.model_id, n=1, total=1)
        experiment = train_experiment(frame, recipe, replace(settings, params=best_params))
        saved = save_experiment(store, project_id, dataset_id, version, experiment)
        return {"experiments": [saved.id], "best_params": best_params, "cv": best_score}

    return work


def _inputs(store: Store, project_id: str, dataset_id: str) -> tuple[pd.DataFrame, Recipe, int]:
    version, text = store.load_recipe(project_id)
    recipe = Recipe.saved(text)
    return store.load_frame(dataset_id), recipe, version


def suggest(store: Store, project_id: str, dataset_id: str, settings: Settings) -> Callable:
    """Job work: compare every catalogue model by quick cross-validation on the training rows and propose one."""

    def work(ctx: JobContext) -> dict:
        ctx.report(0.0, "job.preparing")
        frame, recipe, _ = _inputs(store, project_id, dataset_id)
        best, scores = propose_model(frame, recipe, settings,
                                     report=lambda share, model: ctx.report(share, "job.screening", model=model))
        return {"target": settings.target, "task": settings.task, "proposal": best, "scores": scores,
                "metric": PRIMARY[settings.task]}

    return work


def latest_suggestion(store: Store, project_id: str, target: str, task: str) -> dict | None:
    """The newest finished suggestion for this target and task, if any."""
    return jobs.latest_result(store, project_id, "suggest", lambda r: r["target"] == target and r["task"] == task)


def learning(store: Store, project_id: str, experiment_id: str) -> Callable:
    """Job work: the learning curve of a stored experiment, on its dataset and the recipe it was trained with."""

    def work(ctx: JobContext) -> dict:
        stored = store.get_experiment(experiment_id)
        ctx.report(0.0, "job.learning")
        frame = store.load_frame(stored.dataset_id)
        recipe = Recipe.saved(stored.record.get("recipe"))
        curve = learning_curve_data(frame, recipe, settings_of(stored), model=automl_model(store, stored))
        return {"experiment": experiment_id, "curve": curve.to_dict("list")}

    return work


def latest_learning_curve(store: Store, project_id: str, experiment_id: str) -> pd.DataFrame | None:
    """The newest finished learning curve of an experiment, if any."""
    result = jobs.latest_result(store, project_id, "learning", lambda r: r["experiment"] == experiment_id)
    return pd.DataFrame(result["curve"]) if result else None



def test_and_training_rows(store: Store, stored: StoredExperiment) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The experiment's test rows and (some of) its training rows, raw, from its dataset."""
    frame = store.load_frame(stored.dataset_id)
    target = stored.record["settings"]["target"]
    rows = set(store.experiment_evaluation(stored.id)["row"])
    is_test = frame.index.astype(str).isin(rows)
    return frame[is_test], frame[~is_test & frame[target].notna()]


def automl_model(store: Store, stored: StoredExperiment) -> Any:
    """The (unfitted) model step of an AutoML experiment, which the catalogue cannot rebuild; None otherwise."""
    from sklearn.base import clone

    if stored.record["settings"]["model_id"] != AUTOML:
        return None
    return clone(pipeline_of(store, stored.id).steps[-1][1])


def explanation_job(store: Store, project_id: str, experiment_id: str) -> Callable:
    """Job work: SHAP values on (a sample of) the test rows, and permutation importance on the test rows."""
    from workbench.explain import BACKGROUND_ROWS, explain, permutation_importance_table, rows_to_explain

    def work(ctx: JobContext) -> dict:
        stored = store.get_experiment(experiment_id)
        ctx.report(0.02, "job.explaining")
        pipeline = pipeline_of(store, experiment_id)
        test, train = test_and_training_rows(store, stored)
        r, seed = stored.record, stored.record["settings"]["split"]["seed"]
        features, target = r["features"], r["settings"]["target"]
        rows = test.sample(min(len(test), rows_to_explain(pipeline)), random_state=seed)
        background = train.sample(min(len(train), BACKGROUND_ROWS), random_state=seed)
        explanation = explain(pipeline, rows[features], background[features], r["settings"]["task"], r["classes"],
                              report=lambda share: ctx.report(0.05 + 0.6 * share, "job.explaining"))
        ctx.report(0.7, "job.importance")
        importance = permutation_importance_table(pipeline, test[features], test[target],
                                                  CV_SCORING[r["primary"]], seed=seed)
        meta, explained_rows = explanation.to_bytes()
        store.save_experiment_file(experiment_id, "explained_rows.parquet", explained_rows)
        store.save_experiment_file(experiment_id, "importance.json", importance.to_json(orient="records").encode())
        store.save_experiment_file(experiment_id, "explanation.json", meta)  # last: its presence means done
        return {"experiment": experiment_id, "explainer": explanation.explainer}

    return work


def explanation_of(store: Store, experiment_id: str) -> tuple[Any, pd.DataFrame] | None:
    """The stored explanation and permutation importance of an experiment, or None before the job ran."""
    from workbench.explain import Explanation

    meta = store.experiment_file(experiment_id, "explanation.json")
    if meta is None:
        return None
    explanation = Explanation.from_bytes(meta, store.experiment_file(experiment_id, "explained_rows.parquet"))
    importance = pd.read_json(io.StringIO(store.experiment_file(experiment_id, "importance.json").decode()))
    return explanation, importance


def automl_job(store: Store, project_id: str, dataset_id: str, settings: Any) -> Callable:
    """Job work: an AutoML search (automl.Search) whose live progress is kept in the job's result, then the
    winner trained and saved as an experiment. A cancel ends the search and keeps the best found so far."""
    from workbench.automl import Search, dask_client, pipeline_code, search_and_train

    def work(ctx: JobContext) -> dict:
        frame, recipe, version = _inputs(store, project_id, dataset_id)
        search = Search(frame, recipe, settings, client=dask_client(), n_jobs=job_cores())

        def tick(searching: bool) -> None:
            if ctx.cancelled():
                search.cancel()
            _publish(store, ctx.job_id, search, settings)
            if not searching:
                store.update_job(ctx.job_id, message=json.dumps({"key": "job.automl_training", "params": {}}))

        best, experiment = search_and_train(search, tick)
        snapshot = asdict(search.progress())
        extra = {"automl": {"source": best.source, "name": best.name, "cv_score": best.score,
                            "metric": settings.score_metric, "minutes": settings.minutes, "preset": settings.preset,
                            "code": pipeline_code(experiment.pipeline.steps[-1][1]), "evaluated": snapshot["evaluated"],
                            "failures": snapshot["failures"], "timeline": snapshot["timeline"],
                            "leaderboard": snapshot["leaderboard"], "stopped_early": search.cancelled}}
        saved = save_experiment(store, project_id, dataset_id, version, experiment, extra)
        return {"experiments": [saved.id], "progress": snapshot, "winner": best.name, "source": best.source}

    return work


def _publish(store: Store, job_id: str, search: Any, settings: Any) -> None:
    """The search's progress as the job's progress, message and (running) result."""
    progress = search.progress()
    share = min(0.99, progress.elapsed / max(1.0, settings.minutes * 60))
    best = None if progress.best is None else round(progress.best, 4)
    store.update_job(job_id, progress=share, result=json.dumps({"progress": asdict(progress)}, default=float),
                     message=json.dumps({"key": "job.automl", "params": {"evaluated": progress.evaluated,
                                                                          "best": best}}))


def automl_progress(job: dict) -> dict[str, Any] | None:
    """The live (or final) progress an AutoML job published."""
    if not job.get("result"):
        return None
    return json.loads(job["result"]).get("progress")


# ---------------------------------------------------------------- starting jobs, and starting them again

JOB_KINDS: dict[str, Callable[..., Callable[[JobContext], Any]]] = {
    "train": train_several, "tune": tune, "suggest": suggest, "learning": learning, "explain": explanation_job,
    "automl": automl_job, "text": text_training, "retrain": retrain_job, **analyses.JOB_KINDS,
    **deep_jobs.JOB_KINDS,
}


def start(store: Store, project_id: str, kind: str, **spec: Any) -> tuple[str, Future]:
    """Queue the job `kind` with its arguments (Settings, lists of them, plain values); the arguments are kept
    with the job as JSON so that it can be started again (restart) after an interruption or a failure, and so
    that a Dask worker can run it (when WORKBENCH_DASK_SCHEDULER names a cluster; else it runs here)."""
    work = JOB_KINDS[kind](store, project_id, **spec)  # built here too, so bad arguments fail before queueing
    text = json.dumps(_encode(spec), ensure_ascii=False)
    client = jobs.cluster()
    if client is not None:
        return jobs.submit_to_cluster(store, project_id, kind, text, client)
    return jobs.submit(store, project_id, kind, work, text)


def run_stored(home: str, job_id: str) -> None:
    """On a Dask worker: run the job `job_id` of the workspace at `home`, its work rebuilt from its kind and spec
    (if it may start: jobs.claim)."""
    store = Store(home)
    job = store.get_job(job_id)
    if not jobs.claim(store, job):
        return
    work = JOB_KINDS[job["kind"]](store, job["project_id"], **_decode(json.loads(job["spec"])))
    if job["kind"] == "automl":  # its TPOT search needs this worker's thread for its own pipelines
        from distributed import secede

        secede()
    jobs._run(store, job_id, job["project_id"], work, heartbeat=True)


def restart(store: Store, job_id: str) -> tuple[str, Future]:
    """Queue a new job that does what an ended job set out to do."""
    job = store.get_job(job_id)
    if not job.get("spec") or job["kind"] not in JOB_KINDS:
        raise UserError("job.not_restartable")
    return start(store, job["project_id"], job["kind"], **_decode(json.loads(job["spec"])))


def _encode(value: Any) -> Any:
    from workbench.automl import AutoMLSettings

    if isinstance(value, Settings):
        return {"__settings__": asdict(value)}
    if isinstance(value, AutoMLSettings):
        return {"__automl__": asdict(value)}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__settings__"}:
            return settings_from(value["__settings__"])
        if set(value) == {"__automl__"}:
            from workbench.automl import AutoMLSettings

            return AutoMLSettings(**value["__automl__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value
