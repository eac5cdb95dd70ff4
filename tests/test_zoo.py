"""The table zoo, end to end: every table reads, profiles, proposes a target and task, trains the proposed model,
exports a bundle whose predict.py (in a fresh process) gives the app's predictions, explains in uploaded
columns, converts to ONNX or says why in the user's language, and clusters where it has numbers."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import fresh_python
from tests.zoo import TABLES, Table
from workbench.clustering import ClusterSettings, fit_clusters, profiles
from workbench.deploy.export import about_dataset, build_bundle
from workbench.deploy.modelfile import dump_pipeline, load_pipeline
from workbench.deploy.predict import Predictor, added_columns, as_uploaded
from workbench.deploy.versions import prediction_profile, reference_profile
from workbench.experiments import evaluation_frame, record_of
from workbench.explain import explain
from workbench.i18n import set_language, t
from workbench.io import read_table, to_csv_bytes
from workbench.models import DEFAULT_MODEL
from workbench.profile import profile_dataset
from workbench.recipe import Recipe
from workbench.stats import is_number
from workbench.tasks import CLASSIFICATION, REGRESSION, check_target, propose_target, propose_task
from workbench.training import Settings, Split, train_experiment

TRAIN_ROWS = 400  # rows sampled for training: the zoo is about shapes, not about size
REQUIRED_SHAPES = {"all-numeric", "all-text", "numbers and yes/no", "integer-coded", "boolean target",
                   "many classes", "tiny", "wide", "dates", "missing everywhere", "Japanese headers"}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_the_zoo_has_every_shape_and_thirty_tables():
    assert len(TABLES) >= 30 and len({t.name for t in TABLES}) == len(TABLES)
    assert REQUIRED_SHAPES <= set().union(*(t.shapes for t in TABLES))


def _read(table: Table) -> tuple[bytes, str, pd.DataFrame]:
    data, filename = table.load()
    frame, report = read_table(data, filename)
    assert frame.shape[0] >= 10 and frame.shape[1] >= 2, report
    if "wide" in table.shapes:
        assert frame.shape[1] > 200
    if "tiny" in table.shapes:
        assert len(frame) < 100
    if "dates" in table.shapes:
        assert any(pd.api.types.is_datetime64_any_dtype(frame[c]) for c in frame.columns)
    if "Japanese headers" in table.shapes:
        assert any(JAPANESE.search(str(c)) for c in frame.columns)
    return data, filename, frame


# predict.py in a fresh interpreter for one table of each kind of file and pipeline; the rest run the bundle's
# model and schema in this process (the bundled modules are the same for every tabular bundle)
FRESH_PYTHON = {"wine", "linnerud", "fertility_wide", "macro_mixed_dates", "car", "pc1", "bank", "taxis",
                "titanic_holes", "tips_ja", "iris_ja", "diamonds"}


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_a_zoo_table_goes_from_upload_to_a_bundle_that_predicts_like_the_app(table, tmp_path):
    data, filename, frame = _read(table)
    profile = profile_dataset(frame)
    assert profile.columns == frame.shape[1] and len(profile.column_profiles) == frame.shape[1]

    target, why = propose_target(frame)
    assert target == table.target and why.params["column"] == target
    task = propose_task(frame[target]).task
    folds = 3
    check = check_target(frame, target, task, folds)
    assert check.ok, [e.text() for e in check.errors]

    rows = frame.sample(min(len(frame), TRAIN_ROWS), random_state=0)
    experiment = train_experiment(rows, Recipe(), Settings(target, task, DEFAULT_MODEL, split=Split(folds=folds)))
    assert all(np.isfinite(v) for v in experiment.metrics.values() if v is not None)
    if task in CLASSIFICATION:  # the user's own labels as a predictions file shows them (text: True == 1.0 in Python)
        written = as_uploaded(frame[[target]])[target].dropna().unique()
        assert {str(c) for c in experiment.classes} <= {str(v) for v in written}

    features = record_of(experiment)["features"]
    profile = {**reference_profile(rows, [*features, target]), "target": target,
               "prediction": prediction_profile(evaluation_frame(experiment))}
    assert set(profile["columns"]) == {str(c) for c in [*features, target]}
    json.dumps(profile, allow_nan=False)  # what a version keeps for monitoring: plain JSON
    folder = _exported(table, data, filename, frame, rows, experiment, task, tmp_path, profile)
    _predicts_rows_that_leave_every_column_out(experiment)
    _serves_what_the_app_predicts(folder, frame, experiment, task)
    _monitors_its_own_rows(experiment, rows, profile, target, task, table.lang)
    _explains_in_uploaded_columns(experiment, rows, target, task)
    _clusters_where_it_has_numbers(rows.drop(columns=[target]))


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_lightgbm_and_the_portfolio_configurations_train_save_explain_and_bundle_on_every_zoo_table(table):
    """LightGBM entered the catalogue and the AutoML portfolio: every zoo shape trains, survives save and load,
    predicts rows that leave every column out, is explained by the tree explainer, and its bundle names
    lightgbm among its requirements."""
    from workbench.automl import portfolio
    from workbench.deploy.export import model_packages
    from workbench.explain import TREE, explainer_kind

    _, _, frame = _read(table)
    target = table.target
    task = propose_task(frame[target]).task
    rows = frame.sample(min(len(frame), TRAIN_ROWS), random_state=0)
    config = next(c for c in portfolio(task) if c.label == "lightgbm/2")  # random split points (extra_trees)
    experiment = train_experiment(rows, Recipe(), Settings(target, task, "lightgbm", {**config.settings,
                                                                                      "n_estimators": 40},
                                                           split=Split(folds=3)))
    assert all(np.isfinite(v) for v in experiment.metrics.values() if v is not None)
    assert experiment.pipeline[-1].get_params()["extra_trees"] is True
    data = dump_pipeline(experiment.pipeline)
    X = rows.drop(columns=[target]).head(30)
    assert np.array_equal(load_pipeline(data).predict(X), experiment.pipeline.predict(X))
    assert model_packages(data) == ("lightgbm",)
    assert explainer_kind(experiment.pipeline[-1]) == TREE
    _predicts_rows_that_leave_every_column_out(experiment)
    _explains_in_uploaded_columns(experiment, rows, target, task)


def _exported(table: Table, data: bytes, filename: str, frame: pd.DataFrame, rows: pd.DataFrame, experiment,
              task: str, tmp_path: Path, profile: dict | None = None) -> Path:
    """The experiment's bundle (with a version's profile), unzipped; its predict.py gives the app's predictions
    and its ONNX says why not."""
    bundle = build_bundle(dump_pipeline(experiment.pipeline), record_of(experiment),
                          about_dataset(table.name, filename, frame), rows, table.lang,
                          extra={"profile.json": json.dumps(profile, ensure_ascii=False).encode()} if profile else None)
    folder = tmp_path / "bundle"
    zipfile.ZipFile(io.BytesIO(bundle)).extractall(folder)
    _predict_py_matches_the_app(folder, data, filename, experiment, task, table.lang, table.name in FRESH_PYTHON)
    _onnx_converts_or_says_why(folder, table.lang)
    return folder


def _predict_py_matches_the_app(folder: Path, data: bytes, filename: str, experiment, task: str,
                                lang: str, fresh: bool = True) -> None:
    (folder / filename).write_bytes(data)  # the file as uploaded, in its own encoding and layout
    if fresh:
        run = fresh_python(["predict.py", filename, "out.csv"], folder)
        assert run.returncode == 0, run.stderr
        assert "Traceback" not in run.stderr
    else:  # the bundle's own model and schema, read and run here (a fresh interpreter costs ~4 s a table)
        set_language(lang)
        try:
            meta = json.loads((folder / "schema.json").read_text(encoding="utf-8"))
            bundled = Predictor.from_meta(load_pipeline((folder / "model.skops").read_bytes()), meta)
            (folder / "out.csv").write_bytes(to_csv_bytes(bundled.predict(read_table(data, filename)[0])[0]))
        finally:
            set_language("en")
    out = pd.read_csv(folder / "out.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    uploaded, _ = read_table(data, filename)
    app, _ = Predictor.from_record(experiment.pipeline, record_of(experiment)).predict(uploaded, lang)
    assert len(out) == len(app) and list(out.columns) == [str(c) for c in app.columns]
    answer, shares = added_columns(app, uploaded)  # named in the bundle's language, after the user's labels
    assert answer == t("predict.col.prediction", lang)
    assert shares == [t("predict.col.probability", lang, label=str(c)) for c in experiment.classes]
    if task == REGRESSION:
        assert np.allclose(out[answer].astype(float), app[answer].astype(float), rtol=1e-9)
    else:
        assert out[answer].tolist() == app[answer].astype(str).tolist()
        assert np.abs(out[shares].astype(float).to_numpy() - app[shares].to_numpy(dtype=float)).max() <= 1e-9


def _predicts_rows_that_leave_every_column_out(experiment) -> None:
    """Rows as the endpoint builds them from a request that names no field: every column None, of dtype object
    (to_number once failed on them: an all-missing text column lost its .str)."""
    predictor = Predictor.from_record(experiment.pipeline, record_of(experiment))
    empty = pd.DataFrame([{name: None for name in predictor.schema}] * 2, dtype=object)
    out, _ = predictor.predict(empty)
    assert len(out) == 2 and out[added_columns(out, empty)[0]].notna().all()


def _serves_what_the_app_predicts(folder: Path, frame: pd.DataFrame, experiment, task: str) -> None:
    """The bundle's serve.py, answering rows of the table as a client sends them (JSON: numbers, text, true and
    false, ISO dates, null), with the app's predictions; its own column names are the request's fields."""
    import importlib.util

    from fastapi.testclient import TestClient

    spec = importlib.util.spec_from_file_location(f"serve_{folder.parent.name}", folder / "serve.py")
    serve = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve)
    serve.KEY.key = "k"
    serve.open_log(str(folder / "requests.sqlite3"))
    sent = frame[list(serve.SCHEMA)].head(5)
    body = {"rows": json.loads(sent.to_json(orient="records", date_format="iso", force_ascii=False))}
    app, _ = Predictor.from_record(experiment.pipeline, record_of(experiment)).predict(sent, "en")
    # and as a client that writes JSON's own types sends them: true for "True", 3 for "3" in a text column
    typed = {"rows": [{name: _json_typed(value) for name, value in row.items()} for row in body["rows"]]}
    for request in (body, typed):
        answer = TestClient(serve.app).post("/predict", json=request, headers={"X-API-Key": "k"})
        assert answer.status_code == 200, answer.text[:2000]
        served = [p["prediction"] for p in answer.json()["predictions"]]
        if task == REGRESSION:
            assert np.allclose(served, app["prediction"].astype(float), rtol=1e-6)
        else:
            assert [str(v) for v in served] == [str(v) for v in as_uploaded(app[["prediction"]])["prediction"]]
    watched = TestClient(serve.app).get("/monitor", headers={"X-API-Key": "k"})  # what it served, against training
    assert watched.status_code == 200, watched.text[:2000]
    assert watched.json()["rows"] == 2 * len(sent) and watched.json()["prediction"] is not None


def _monitors_its_own_rows(experiment, rows: pd.DataFrame, profile: dict, target: str, task: str,
                           lang: str) -> None:
    """Monitoring a version of this model: its own training rows do not drift; with the target they are scored
    against the test rows, without it (classification) estimated; a column moved by 3 sd is found."""
    from workbench.deploy import monitor as M
    from workbench.store.versions import ModelVersion

    record = record_of(experiment)
    version = ModelVersion("0" * 12, 1, "e", "", record, "", "", "")
    ref = M.Reference(version, Predictor.from_record(experiment.pipeline, record), profile,
                      evaluation_frame(experiment), None)
    batch = rows.sample(min(len(rows), 150), random_state=1)
    report = M.check_batch(ref, batch, "zoo")
    json.dumps(json.loads(M.report_json(report, lang)), allow_nan=False)
    assert report.rows == len(batch) and not report.drift.drifted, [c.column for c in report.drift.drifted]
    assert report.checks and report.checks[0].metric == ("rmse" if task == REGRESSION else report.checks[0].metric)
    if task != REGRESSION:
        unlabelled = M.check_batch(ref, batch.drop(columns=[target]))
        assert unlabelled.estimate is not None and 0 <= unlabelled.estimate.accuracy <= 1
    spread = [c for c in record["features"] if record["schema"][c]["kind"] == "number"
              and batch[c].nunique() > 20]
    if spread:
        column = spread[0]
        moved = batch.assign(**{column: pd.to_numeric(batch[column], errors="coerce") + 3 * batch[column].std()})
        assert column in [c.column for c in M.check_batch(ref, moved).drift.drifted]


def _json_typed(value):
    if value in ("True", "False"):
        return value == "True"
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return value


def _onnx_converts_or_says_why(folder: Path, lang: str) -> None:
    onnx = json.loads((folder / "schema.json").read_text(encoding="utf-8"))["onnx"]
    assert onnx["converted"] == (folder / "model.onnx").exists()
    reason = onnx["reason"]
    assert reason and not re.search(r"Error|Exception|Traceback|attributes=|array\(", reason)
    if lang == "ja":
        assert JAPANESE.search(reason)


def _explains_in_uploaded_columns(experiment, rows: pd.DataFrame, target: str, task: str) -> None:
    pipeline = load_pipeline(dump_pipeline(experiment.pipeline))
    X = rows.drop(columns=[target])
    explanation = explain(pipeline, X.head(20), X.head(50), task, experiment.classes)
    assert set(explanation.columns) <= set(X.columns)
    assert np.isfinite(explanation.values).all()


def _clusters_where_it_has_numbers(X: pd.DataFrame) -> None:
    numbers = [c for c in X.columns if is_number(X[c]) and X[c].notna().any()]
    if len(numbers) < 2:
        return
    clustering = fit_clusters(X, Recipe(), ClusterSettings(k=3))
    assert len(clustering.labels) == len(X)
    assert profiles(X, clustering.labels, clustering.columns)


AUTOML_TABLES = [t for t in TABLES if t.name in ("wine", "car", "kc2")]  # numbers; text only; yes/no target


@pytest.mark.parametrize("table", AUTOML_TABLES, ids=[t.name for t in AUTOML_TABLES])
def test_a_20_second_automl_search_on_a_zoo_table_gives_a_winner_that_exports(table, tmp_path):
    from workbench.automl import AutoMLSettings, Search, search_and_train

    data, filename, frame = _read(table)
    target, _ = propose_target(frame)
    task = propose_task(frame[target]).task
    rows = frame.sample(min(len(frame), TRAIN_ROWS), random_state=0)
    search = Search(rows, Recipe(), AutoMLSettings(target, task, minutes=1 / 3, preset="fast", folds=3), n_jobs=1)
    best, experiment = search_and_train(search, lambda searching: None)
    assert np.isfinite(best.score) and search.progress().evaluated >= 2
    assert search.progress().elapsed <= 20 + 30  # the budget, and the margin kept for the final fit
    folder = _exported(table, data, filename, frame, rows, experiment, task, tmp_path)
    # train.py retrains the winner (no catalogue entry) from the same rows to the same held-out metrics
    (folder / "rows.csv").write_bytes(rows.to_csv(index=False).encode("utf-8"))
    run = fresh_python(["train.py", "rows.csv", "again.skops"], folder)
    assert run.returncode == 0, run.stderr
    again = json.loads(run.stdout)["metrics"]
    assert again == pytest.approx(experiment.metrics, rel=1e-6, nan_ok=True)
