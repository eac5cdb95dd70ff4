"""python -m workbench: the workbench without a browser (grows with each stage of the workflow)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from workbench.errors import UserError
from workbench.i18n import normalise_language, set_language, t


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m workbench", description=t("cli.description"))
    commands = parser.add_subparsers(dest="command", required=True)
    read = commands.add_parser("read", help=t("cli.read.help"), description=t("cli.read.help"))
    read.add_argument("file", help=t("cli.read.file"))
    read.add_argument("--encoding", help=t("cli.read.encoding"))
    read.add_argument("--delimiter", help=t("cli.read.delimiter"))
    read.add_argument("--decimal", choices=[".", ","], help=t("cli.read.decimal"))
    read.add_argument("--header", choices=["yes", "no"], help=t("cli.read.header"))
    read.add_argument("--bad-lines", choices=["skip", "error"], default="skip", help=t("cli.read.bad_lines"))
    clean = commands.add_parser("clean", help=t("cli.clean.help"), description=t("cli.clean.help"))
    clean.add_argument("--data", required=True, help=t("cli.clean.data"))
    clean.add_argument("--recipe", required=True, help=t("cli.clean.recipe"))
    clean.add_argument("--out", required=True, help=t("cli.clean.out"))
    # what train and automl both take: the data, its target and task, a recipe, a seed, the bundle to write
    training = argparse.ArgumentParser(add_help=False)
    training.add_argument("--data", required=True, help=t("cli.clean.data"))
    training.add_argument("--target", required=True, help=t("cli.train.target"))
    training.add_argument("--task", choices=["binary", "multiclass", "regression"], help=t("cli.train.task"))
    training.add_argument("--recipe", help=t("cli.clean.recipe"))
    training.add_argument("--seed", type=int, default=42, help=t("cli.train.seed"))
    training.add_argument("--out", required=True, help=t("cli.train.out"))
    train = commands.add_parser("train", parents=[training], help=t("cli.train.help"), description=t("cli.train.help"))
    train.add_argument("--model", default=None, help=t("cli.train.model"))
    automl = commands.add_parser("automl", parents=[training], help=t("cli.automl.help"),
                                 description=t("cli.automl.help"))
    automl.add_argument("--minutes", type=float, required=True, help=t("cli.automl.minutes"))
    automl.add_argument("--metric", help=t("cli.automl.metric"))
    automl.add_argument("--preset", choices=["fast", "linear", "trees", "full"], default="fast",
                        help=t("automl.preset_help"))
    explain = commands.add_parser("explain", help=t("cli.explain.help"), description=t("cli.explain.help"))
    explain.add_argument("--bundle", required=True, help=t("cli.explain.bundle"))
    explain.add_argument("--data", required=True, help=t("cli.explain.data"))
    explain.add_argument("--rows", type=int, default=200, help=t("cli.explain.rows"))
    cluster = commands.add_parser("cluster", help=t("cli.cluster.help"), description=t("cli.cluster.help"))
    cluster.add_argument("action", choices=["start", "stop"])
    cluster.add_argument("--port", type=int, default=8786, help=t("cli.cluster.port"))
    cluster.add_argument("--workers", type=int, help=t("cli.cluster.workers"))
    replay = commands.add_parser("replay", help=t("cli.replay.help"), description=t("cli.replay.help"))
    replay.add_argument("export", help=t("cli.replay.export"))
    register = commands.add_parser("register", help=t("cli.register.help"), description=t("cli.register.help"))
    register.add_argument("--project", required=True, help=t("cli.project"))
    register.add_argument("--experiment", help=t("cli.register.experiment"))
    register.add_argument("--note", default="", help=t("cli.register.note"))
    promote = commands.add_parser("promote", help=t("cli.promote.help"), description=t("cli.promote.help"))
    promote.add_argument("--project", required=True, help=t("cli.project"))
    promote.add_argument("--version", type=int, help=t("cli.promote.version"))
    promote.add_argument("--alias", choices=["production", "challenger"], default="production",
                         help=t("cli.promote.alias"))
    promote.add_argument("--roll-back", action="store_true", help=t("cli.promote.roll_back"))
    serve = commands.add_parser("serve", help=t("cli.serve.help"), description=t("cli.serve.help"))
    serve.add_argument("action", choices=["start", "stop", "status", "rotate-key"], nargs="?", default="start")
    serve.add_argument("--project", required=True, help=t("cli.project"))
    serve.add_argument("--host", default="127.0.0.1", help=t("deploy.host_help"))
    serve.add_argument("--port", type=int, default=8000, help=t("deploy.port"))
    monitor = commands.add_parser("monitor", help=t("cli.monitor.help"), description=t("cli.monitor.help"))
    monitor.add_argument("batch", type=Path, help=t("cli.monitor.batch"))
    monitor.add_argument("--project", required=True, help=t("cli.project"))
    monitor.add_argument("--version", type=int, help=t("cli.monitor.version"))
    retrain = commands.add_parser("retrain", help=t("cli.retrain.help"), description=t("cli.retrain.help"))
    retrain.add_argument("data", type=Path, help=t("cli.retrain.data"))
    retrain.add_argument("--project", required=True, help=t("cli.project"))
    retrain.add_argument("--version", type=int, help=t("cli.monitor.version"))
    retrain.add_argument("--alone", action="store_true", help=t("cli.retrain.alone"))
    return parser


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as exc:
        print(t("cli.error", message=t("cli.file_missing", path=path, reason=exc.strerror)), file=sys.stderr)
        return None


def _read(args: argparse.Namespace) -> int:
    from workbench.io import read_table

    path = Path(args.file)
    data = _read_bytes(path)
    if data is None:
        return 2
    options = {"encoding": args.encoding, "delimiter": args.delimiter, "decimal": args.decimal,
               "header": None if args.header is None else args.header == "yes", "bad_lines": args.bad_lines}
    _, report = read_table(data, path.name, **{k: v for k, v in options.items() if v is not None})
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    return 0


def _clean(args: argparse.Namespace) -> int:
    from workbench.io import read_table, to_csv_bytes
    from workbench.recipe import Recipe

    data, recipe_text = _read_bytes(Path(args.data)), _read_bytes(Path(args.recipe))
    if data is None or recipe_text is None:
        return 2
    recipe = Recipe.from_json(recipe_text.decode("utf-8", errors="replace"))
    frame, _ = read_table(data, Path(args.data).name)
    recipe.check_columns(frame)
    cleaned = recipe.apply(frame)
    Path(args.out).write_bytes(to_csv_bytes(cleaned))
    print(t("cli.clean.done", rows=len(cleaned), columns=cleaned.shape[1], path=args.out))
    return 0


def _training_inputs(args: argparse.Namespace) -> tuple[Any, Any, str] | None:
    """The data, recipe and task of the train and automl commands (None when a file cannot be read)."""
    from workbench.io import read_table
    from workbench.recipe import Recipe
    from workbench.tasks import propose_task

    data = _read_bytes(Path(args.data))
    recipe_text = _read_bytes(Path(args.recipe)) if args.recipe else b""
    if data is None or recipe_text is None:
        return None
    frame, _ = read_table(data, Path(args.data).name)
    if args.target not in frame.columns:
        raise UserError("target.missing_column", column=args.target)
    recipe = Recipe.from_json(recipe_text.decode("utf-8", errors="replace")) if recipe_text else Recipe()
    recipe.check_columns(frame)
    return frame, recipe, args.task or propose_task(frame[args.target]).task


def _write_bundle(args: argparse.Namespace, experiment: Any, frame: Any) -> None:
    from workbench.deploy.export import about_dataset, build_bundle
    from workbench.deploy.modelfile import dump_pipeline
    from workbench.experiments import record_of

    about = about_dataset(Path(args.data).stem, Path(args.data).name, frame)
    Path(args.out).write_bytes(build_bundle(dump_pipeline(experiment.pipeline), record_of(experiment), about, frame))


def _train(args: argparse.Namespace) -> int:
    from workbench.models import CATALOGUE, DEFAULT_MODEL
    from workbench.tasks import check_target
    from workbench.training import Settings, Split, default_folds, train_experiment

    model = args.model or DEFAULT_MODEL
    tabular = [m for m, spec in CATALOGUE.items() if not spec.text]  # text models are trained on the Text page
    if model not in tabular:
        raise UserError("cli.train.unknown_model", model=model, models=", ".join(tabular))
    inputs = _training_inputs(args)
    if inputs is None:
        return 2
    frame, recipe, task = inputs
    for note in check_target(frame, args.target, task).warnings:
        print(t("cli.warning", message=note.text()), file=sys.stderr)
    split = Split(folds=default_folds(len(frame)), seed=args.seed)
    experiment = train_experiment(frame, recipe, Settings(args.target, task, model, split=split))
    _write_bundle(args, experiment, frame)
    print(json.dumps({"model": model, "task": task, "target": args.target, "test_rows": experiment.n_test,
                      "metrics": experiment.metrics, "baseline": experiment.baseline,
                      "cv_scores": experiment.cv_scores, "bundle": args.out}, ensure_ascii=False, indent=2))
    return 0


def _automl(args: argparse.Namespace) -> int:
    from workbench.automl import METRICS, AutoMLSettings, Search, dask_client, pipeline_code, search_and_train
    from workbench.tasks import check_target
    from workbench.training import default_folds, job_cores

    inputs = _training_inputs(args)
    if inputs is None:
        return 2
    frame, recipe, task = inputs
    if args.metric and args.metric not in METRICS[task]:
        raise UserError("cli.automl.unknown_metric", metric=args.metric, metrics=", ".join(METRICS[task]))
    check = check_target(frame, args.target, task)
    if not check.ok:
        raise UserError(check.errors[0].key, **check.errors[0].params)
    if not 0 < args.minutes <= 60:
        raise UserError("cli.automl.bad_minutes")
    settings = AutoMLSettings(args.target, task, args.metric or "", args.minutes, args.preset,
                              default_folds(len(frame)), args.seed)
    search = Search(frame, recipe, settings, client=dask_client(), n_jobs=job_cores())

    def tick(searching: bool) -> None:
        if searching:
            p = search.progress()
            print(t("cli.automl.progress", elapsed=round(p.elapsed), evaluated=p.evaluated, failures=p.failures,
                    best="—" if p.best is None else f"{p.best:.4f}"), file=sys.stderr, flush=True)

    best, experiment = search_and_train(search, tick, every=5.0)
    _write_bundle(args, experiment, frame)
    print(json.dumps({"winner": best.name, "found_by": best.source, "task": task,
                      "metric": settings.score_metric, "cv_score": best.score,
                      "seconds": round(search.progress().elapsed, 1), "test_rows": experiment.n_test,
                      "metrics": experiment.metrics, "baseline": experiment.baseline,
                      "code": pipeline_code(experiment.pipeline.steps[-1][1]), "bundle": args.out},
                     ensure_ascii=False, indent=2))
    return 0


def _explain(args: argparse.Namespace) -> int:
    from workbench.deploy.export import read_bundle
    from workbench.deploy.predict import prepare
    from workbench.explain import BACKGROUND_ROWS, explain
    from workbench.io import read_table

    bundle_bytes, data = _read_bytes(Path(args.bundle)), _read_bytes(Path(args.data))
    if bundle_bytes is None or data is None:
        return 2
    model = read_bundle(bundle_bytes).predictor
    frame, _ = read_table(data, Path(args.data).name)
    prepared, report = prepare(frame, model.schema)
    explained = prepared.sample(min(len(prepared), max(1, args.rows)), random_state=0)
    background = prepared.sample(min(len(prepared), BACKGROUND_ROWS), random_state=1)
    explanation = explain(model.pipeline, explained, background, model.task, model.classes)
    print(json.dumps({"explainer": explanation.explainer, "unit": explanation.unit, "rows": len(explained),
                      "approximate": explanation.approximate, "missing_columns": report.missing,
                      "importance": {output: {k: float(v) for k, v in explanation.importance(i).items()}
                                     for i, output in enumerate(explanation.outputs)}},
                     ensure_ascii=False, indent=2))
    return 0


def _replay(args: argparse.Namespace) -> int:
    from workbench.deploy.replay import replay
    from workbench.settings import get_settings
    from workbench.store import Store

    data = _read_bytes(Path(args.export))
    if data is None:
        return 2
    project_id, results = replay(data, Store(get_settings().home))
    print(json.dumps({"project": project_id, "same": all(r.same for r in results),
                      "experiments": [{"original": r.experiment_id, "replayed": r.new_id, "model": r.model,
                                       "same": r.same, "original_metrics": r.original,
                                       "replayed_metrics": r.replayed} for r in results]},
                     ensure_ascii=False, indent=2))
    return 0 if all(r.same for r in results) else 1


def _store_project(ref: str) -> tuple[Any, str]:
    """The workspace's store and the project named by its id or (case aside) its name."""
    from workbench.settings import get_settings
    from workbench.store import Store

    store = Store(get_settings().home)
    project = store.find_project(ref) or next(
        (p for p in store.list_projects() if p.name.casefold() == ref.casefold()), None)
    if project is None:
        raise UserError("cli.project_unknown", project=ref)
    return store, project.id


def _versions_json(store: Any, project_id: str) -> dict[str, Any]:
    return {"aliases": store.aliases_now(project_id),
            "versions": [{"number": v.number, "experiment": v.experiment_id, "model": v.record["settings"]["model_id"],
                          "metrics": v.record["metrics"], "data_sha256": v.data_sha256, "note": v.note,
                          "created_by": v.created_by, "created_at": v.created_at}
                         for v in store.list_versions(project_id)]}


def _register(args: argparse.Namespace) -> int:
    from workbench.deploy.versions import register

    store, project_id = _store_project(args.project)
    experiment = args.experiment
    if experiment is None:  # the project's chosen experiment, else its newest
        experiments = store.list_experiments(project_id)
        if not experiments:
            raise UserError("cli.register.no_experiment")
        experiment = next((e for e in experiments if e.chosen), experiments[0]).id
    version = register(store, project_id, experiment, args.note)
    print(t("cli.register.done", number=version.number), file=sys.stderr)
    _tell_mlflow(store, project_id)
    print(json.dumps(_versions_json(store, project_id), ensure_ascii=False, indent=2))
    return 0


def _tell_mlflow(store, project_id: str) -> None:
    """With MLFLOW_TRACKING_URI set, send MLflow what it lacks; what it could not take is a warning (the
    version is kept here either way, and the next command sends it again)."""
    from workbench.deploy.mlflow_sync import sync

    problem = sync(store, project_id)
    if problem is not None:
        print(t("cli.warning", message=problem.message()), file=sys.stderr)


def _promote(args: argparse.Namespace) -> int:
    from workbench.deploy.versions import promote, roll_back

    store, project_id = _store_project(args.project)
    if args.roll_back:
        number = roll_back(store, project_id)
    elif args.version is None:
        raise UserError("cli.promote.which")
    else:
        promote(store, project_id, args.version, args.alias)
        number = args.version
    print(t("cli.promote.done", number=number, alias=args.alias if not args.roll_back else "production"),
          file=sys.stderr)
    _tell_mlflow(store, project_id)
    print(json.dumps(_versions_json(store, project_id), ensure_ascii=False, indent=2))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from workbench.deploy import serving

    store, project_id = _store_project(args.project)
    if args.action == "start":
        serving.start(store, project_id, args.host, args.port)
    elif args.action == "stop":
        serving.stop(store, project_id)
    elif args.action == "rotate-key":
        serving.api_key(store, project_id, rotate=True)
        print(t("deploy.key_rotated"), file=sys.stderr)
    now = serving.status(store, project_id)
    print(json.dumps({"running": now.running, "url": now.url if now.running else None, "version": now.version,
                      "started_at": now.started_at or None, "died": now.died, "pid": now.pid,
                      "key_file": str(serving.folder(store, project_id) / "api_key"),
                      "last_log": list(now.last_log)}, ensure_ascii=False, indent=2))
    return 0


def _cluster(args: argparse.Namespace) -> int:
    from workbench import cluster
    from workbench.settings import get_settings

    home = get_settings().home
    if args.action == "stop":
        print(t("cli.cluster.stopped" if cluster.stop(home) else "cli.cluster.none"), file=sys.stderr)
        return 0
    started = cluster.start(home, args.port, args.workers)
    print(t("cli.cluster.started" if started else "cli.cluster.running", address=cluster.address(args.port),
            workers=started.get("workers_started", 0)), file=sys.stderr)
    return 0


def _monitor(args: argparse.Namespace) -> int:
    """Print the batch's report as JSON; exit status 1 when it drifted or performs worse (a scheduler acts)."""
    from workbench.deploy import monitor
    from workbench.deploy.versions import chosen_version
    from workbench.i18n import get_language
    from workbench.io import read_table

    store, project_id = _store_project(args.project)
    data = _read_bytes(args.batch)
    if data is None:
        return 2
    frame, _ = read_table(data, args.batch.name)
    version = chosen_version(store, project_id, args.version)
    report = monitor.check_batch(monitor.reference(store, version), frame, args.batch.name)
    print(monitor.report_json(report, get_language()))
    for note in monitor.summary(report):
        print(note.text(), file=sys.stderr)
    return 1 if report.alarm else 0


def _retrain(args: argparse.Namespace) -> int:
    """Retrain the version on new rows into a challenger, and print the comparison as JSON."""
    from workbench import jobs
    from workbench.deploy.retrain import new_training_table, retrain_job
    from workbench.deploy.versions import chosen_version

    store, project_id = _store_project(args.project)
    data = _read_bytes(args.data)
    if data is None:
        return 2
    version = chosen_version(store, project_id, args.version)
    dataset = new_training_table(store, project_id, data, args.data.name, not args.alone, version.number)
    job_id, future = jobs.submit(store, project_id, "retrain",
                                 retrain_job(store, project_id, dataset.id, version.number))
    future.result()
    job = store.get_job(job_id)
    if job["status"] != "done":
        note = jobs.message(job)
        raise UserError(note.key, **note.params) if note else UserError("job.not_restartable")
    result = json.loads(job["result"])
    print(t("cli.retrain.done", number=result["challenger"], champion=version.number), file=sys.stderr)
    _tell_mlflow(store, project_id)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit code 2 with a one-line message for bad input."""
    set_language(normalise_language(os.environ.get("WORKBENCH_LANG") or os.environ.get("LANG")))
    args = _parser().parse_args(argv)
    try:
        return {"read": _read, "clean": _clean, "train": _train, "replay": _replay,
                "explain": _explain, "automl": _automl, "cluster": _cluster, "register": _register,
                "promote": _promote, "serve": _serve, "monitor": _monitor, "retrain": _retrain}[args.command](args)
    except UserError as exc:
        print(t("cli.error", message=exc.message()), file=sys.stderr)
        return 2
