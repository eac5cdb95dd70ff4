"""The bundle works on its own: predict.py and train.py in a fresh process outside the repo, serve.py over
HTTP, ONNX parity, safe loading and refusals, the model card in both languages, project export and replay."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from tests.conftest import ROOT, SAMPLES, free_port, fresh_python, sample_bytes, stop
from workbench import steps as S
from workbench.deploy.export import about_dataset, build_bundle, read_bundle
from workbench.deploy.modelfile import dump_pipeline
from workbench.deploy.predict import Predictor
from workbench.errors import UserError
from workbench.experiments import record_of, save_experiment
from workbench.io import read_table
from workbench.recipe import Recipe
from workbench.training import Settings, Split, train_experiment


def _bundle(name: str, target: str, model: str, drop: tuple[str, ...] = (), recipe: Recipe | None = None,
            lang: str = "en") -> tuple[bytes, pd.DataFrame, object]:
    frame = read_table(sample_bytes(name), name)[0].drop(columns=list(drop))
    experiment = train_experiment(frame, recipe or Recipe(), Settings(target, _task(frame, target), model))
    data = build_bundle(dump_pipeline(experiment.pipeline), record_of(experiment),
                        about_dataset(name.split(".")[0], name, frame), frame, lang)
    return data, frame, experiment


def _task(frame: pd.DataFrame, target: str) -> str:
    from workbench.tasks import propose_task

    return propose_task(frame[target]).task


def _unzip(data: bytes, folder: Path) -> Path:
    zipfile.ZipFile(io.BytesIO(data)).extractall(folder)
    return folder


@pytest.fixture(scope="module")
def titanic_bundle(tmp_path_factory):
    recipe = Recipe().add(S.DropColumns(["deck"]))
    data, frame, experiment = _bundle("titanic.csv", "survived", "random_forest", ("alive",), recipe)
    return _unzip(data, tmp_path_factory.mktemp("titanic")), frame, experiment, data


def test_predict_py_in_a_fresh_process_matches_the_app(titanic_bundle):
    folder, frame, experiment, _ = titanic_bundle
    found = fresh_python(["-c", "import sys; sys.path.insert(0, '.'); import workbench; print(workbench.__file__)"],
                          folder)
    assert Path(found.stdout.strip()).resolve().is_relative_to(folder.resolve())  # the bundle's copy, not the repo's
    assert fresh_python(["-c", "import workbench"], folder.parent).returncode != 0  # the repo is not importable

    new_rows = frame.drop(columns=["survived"]).head(200)
    (folder / "new.csv").write_bytes(new_rows.to_csv(index=False).encode("utf-8"))
    run = fresh_python(["predict.py", "new.csv", "out.csv"], folder)
    assert run.returncode == 0, run.stderr
    out = pd.read_csv(folder / "out.csv", encoding="utf-8-sig")

    app_rows, _ = read_table((folder / "new.csv").read_bytes(), "new.csv")
    app, _ = Predictor.from_record(experiment.pipeline, record_of(experiment)).predict(app_rows)
    assert list(out["prediction"]) == list(app["prediction"])
    assert np.abs(out[["probability_0", "probability_1"]].to_numpy() -
                  app[["probability_0", "probability_1"]].to_numpy()).max() <= 1e-9
    assert list(out.columns[:len(new_rows.columns)]) == list(new_rows.columns)


def test_predict_py_reads_a_shift_jis_file_and_refuses_a_tampered_model(tmp_path):
    data, frame, experiment = _bundle("tips_ja_cp932.csv", TIP, "ridge")
    folder = _unzip(data, tmp_path / "tips")
    raw = sample_bytes("tips_ja_cp932.csv")
    (folder / "new.csv").write_bytes(raw)
    run = fresh_python(["predict.py", "new.csv", "out.csv"], folder)
    assert run.returncode == 0, run.stderr
    out = pd.read_csv(folder / "out.csv", encoding="utf-8-sig")
    app, _ = Predictor.from_record(experiment.pipeline, record_of(experiment)).predict(read_table(raw, "x.csv")[0])
    assert np.abs(out["prediction"].to_numpy() - app["prediction"].to_numpy()).max() <= 1e-9
    assert TIP in out.columns

    (folder / "model.skops").write_bytes(sio.dumps(Evil()))
    refused = fresh_python(["predict.py", "new.csv", "out2.csv"], folder)
    assert refused.returncode == 2 and "Evil" in refused.stderr and "Traceback" not in refused.stderr
    assert not (folder / "out2.csv").exists()


TIP = "チップ（ドル）"


class Evil:
    """A type no bundle trusts."""


def test_train_py_retrains_to_the_same_metrics(titanic_bundle, tmp_path):
    folder, frame, experiment, _ = titanic_bundle
    (folder / "train.csv").write_bytes(sample_bytes("titanic.csv"))
    meta = json.loads((folder / "schema.json").read_text(encoding="utf-8"))
    assert meta["settings"]["split"]["seed"] == 42 and json.loads((folder / "recipe.json").read_text())["steps"]
    # the bundle was trained without 'alive'; train.py reads the raw file, so drop it there too
    frame_raw = pd.read_csv(folder / "train.csv").drop(columns=["alive"])
    frame_raw.to_csv(folder / "train.csv", index=False)
    run = fresh_python(["train.py", "train.csv", str(tmp_path / "again.skops")], folder)
    assert run.returncode == 0, run.stderr
    printed = json.loads(run.stdout)
    for name, value in experiment.metrics.items():
        assert printed["metrics"][name] == pytest.approx(value, abs=1e-9), name
    assert (tmp_path / "again.skops").stat().st_size > 0


def _post(url: str, body: object, key: str | None = None) -> tuple[int, dict]:
    headers = {"content-type": "application/json", **({"X-API-Key": key} if key is not None else {})}
    request = urllib.request.Request(url, json.dumps(body).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read()


def _serving(folder: Path, port: int, env: dict) -> subprocess.Popen:
    """serve.py started in the bundle's folder, once /health answers."""
    server = subprocess.Popen([sys.executable, "serve.py", "--host", "127.0.0.1", "--port", str(port)], cwd=folder,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while True:
        try:
            _get(f"http://127.0.0.1:{port}/health")
            return server
        except OSError:
            assert server.poll() is None, server.stdout.read().decode()
            assert time.monotonic() < deadline, "serve.py did not start"
            time.sleep(0.5)


def test_serve_py_needs_its_key_answers_predictions_logs_every_request_and_counts_them(titanic_bundle, tmp_path):
    import sqlite3

    folder, _, experiment, _ = titanic_bundle
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "WORKBENCH_API_KEY")}
    refused = subprocess.run([sys.executable, "serve.py"], cwd=folder, env=env, capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode != 0 and "No API key: set WORKBENCH_API_KEY" in refused.stderr  # no open endpoint
    port, log = free_port(), tmp_path / "requests.sqlite3"
    server = _serving(folder, port, {**env, "WORKBENCH_API_KEY": "s3cret", "WORKBENCH_REQUEST_LOG": str(log)})
    base = f"http://127.0.0.1:{port}"
    try:
        health = json.loads(_get(f"{base}/health"))
        assert health == {"status": "ok", "model": "random_forest", "task": "binary", "target": "survived",
                          "version": ""}
        sample = json.loads((folder / "sample_request.json").read_text(encoding="utf-8"))
        assert _post(f"{base}/predict", sample)[0] == 401  # no key
        assert _post(f"{base}/predict", {"rows": [{"colour": "red"}]}, "guess")[0] == 401  # wrong key, first
        status, answer = _post(f"{base}/predict", sample, "s3cret")
        assert status == 200 and len(answer["predictions"]) == len(sample["rows"]) == 2
        served = [p["prediction"] for p in answer["predictions"]]
        expected, _ = Predictor.from_record(experiment.pipeline, record_of(experiment)).predict(
            pd.DataFrame(sample["rows"]))
        first = answer["predictions"][0]
        assert first["prediction"] == expected["prediction"].iloc[0]
        assert first["probabilities"]["1"] == pytest.approx(expected["probability_1"].iloc[0], abs=1e-9)

        status, answer = _post(f"{base}/predict", {"rows": [{"age": "old", "colour": "red"}]}, "s3cret")
        assert status == 422
        wrong = {tuple(d["loc"]) for d in answer["detail"]}
        assert ("body", "rows", 0, "age") in wrong and ("body", "rows", 0, "colour") in wrong
        assert _post(f"{base}/predict", {"rows": []}, "s3cret")[0] == 422
        assert "/predict" in json.loads(_get(f"{base}/openapi.json"))["paths"]

        metrics = _get(f"{base}/metrics").decode()
        assert 'workbench_requests_total{path="/predict",status="200"} 1.0' in metrics
        assert 'workbench_requests_total{path="/predict",status="401"} 2.0' in metrics
        assert 'workbench_request_seconds_count{path="/predict"} 5.0' in metrics
        assert "workbench_predicted_rows_total 2.0" in metrics
    finally:
        stop(server, 30)
    with sqlite3.connect(log) as db:
        rows = db.execute("SELECT status, rows, latency_ms, inputs, outputs, error FROM requests ORDER BY id")\
            .fetchall()
    assert [r[0] for r in rows] == [401, 401, 200, 422, 422]  # every request, refused ones too
    status, count, latency, inputs, outputs, error = rows[2]
    assert count == 2 and latency > 0 and error is None
    assert [r["age"] for r in json.loads(inputs)] == [r.get("age") for r in sample["rows"]]
    assert [o["prediction"] for o in json.loads(outputs)] == served
    assert "colour" in rows[3][5] and rows[0][5] == "missing or wrong API key"


def test_onnx_matches_scikit_learn_where_it_converts_and_says_why_where_not(titanic_bundle, tmp_path):
    from workbench.deploy.onnx_export import TOLERANCE, run

    data, frame, experiment = _bundle("penguins.csv", "species", "svm")
    folder = _unzip(data, tmp_path / "penguins")
    meta = json.loads((folder / "schema.json").read_text(encoding="utf-8"))
    assert meta["onnx"]["converted"] and (folder / "model.onnx").exists()
    ready = experiment.pipeline[:2].transform(frame.drop(columns=["species"]))
    onnx_proba = run((folder / "model.onnx").read_bytes(), ready)[1]
    assert np.abs(onnx_proba - experiment.pipeline[2:].predict_proba(ready)).max() <= TOLERANCE
    assert "matched scikit-learn" in (folder / "model_card.md").read_text(encoding="utf-8")

    titanic_folder = titanic_bundle[0]
    titanic_meta = json.loads((titanic_folder / "schema.json").read_text(encoding="utf-8"))
    assert not titanic_meta["onnx"]["converted"] and not (titanic_folder / "model.onnx").exists()
    assert titanic_meta["onnx"]["reason"].startswith("No ONNX file:")


def test_a_lightgbm_bundle_converts_to_onnx_and_pins_lightgbm(tmp_path):
    """LightGBM converts through onnxmltools' converter; its bundle's requirements name lightgbm, which a bundle
    of another model does not need."""
    from workbench.deploy.onnx_export import TOLERANCE, run

    for target, task in (("species", "multiclass"), ("body_mass_g", "regression")):
        data, frame, experiment = _bundle("penguins.csv", target, "lightgbm")
        folder = _unzip(data, tmp_path / target)
        meta = json.loads((folder / "schema.json").read_text(encoding="utf-8"))
        assert meta["onnx"]["converted"], meta["onnx"]["reason"]
        ready = experiment.pipeline[:2].transform(frame.drop(columns=[target]))
        outputs = run((folder / "model.onnx").read_bytes(), ready)
        tail = experiment.pipeline[2:]
        if task == "regression":
            values = outputs[0].ravel()
            assert np.abs(values - tail.predict(ready)).max() <= TOLERANCE * np.abs(values).max()
        else:
            assert np.abs(outputs[1] - tail.predict_proba(ready)).max() <= TOLERANCE
        requirements = (folder / "requirements.txt").read_text()
        assert "lightgbm==" in requirements and "tensorflow" not in requirements
    svm = _unzip(_bundle("penguins.csv", "species", "svm")[0], tmp_path / "svm")
    assert "lightgbm" not in (svm / "requirements.txt").read_text()


def test_read_bundle_refuses_what_is_not_a_safe_bundle(titanic_bundle):
    data = titanic_bundle[3]
    assert read_bundle(data).meta["target"] == "survived"

    def refused(payload: bytes) -> str:
        with pytest.raises(UserError) as caught:
            read_bundle(payload)
        return caught.value.key

    def rezip(replace: dict[str, bytes]) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
            for name in source.namelist():
                target.writestr(name, replace.pop(name, source.read(name)))
            for name, content in replace.items():
                target.writestr(name, content)
        return buffer.getvalue()

    assert refused(b"PK not really a zip") == "bundle.not_zip"
    assert refused(sample_bytes("titanic.csv")) == "bundle.not_zip"
    assert refused(rezip({"../../evil.py": b"print('owned')"})) == "bundle.unsafe_entry"
    assert refused(rezip({"model.skops": b"not a skops file"})) == "model.not_skops"
    assert refused(rezip({"model.skops": sio.dumps(Evil())})) == "model.untrusted"
    no_schema = io.BytesIO()
    with zipfile.ZipFile(no_schema, "w") as z:
        z.writestr("model.skops", b"x")
    assert refused(no_schema.getvalue()) == "bundle.incomplete"
    assert "../" in UserError("bundle.unsafe_entry", name="../../evil.py").message("en")


def test_model_card_says_what_a_reviewer_needs_in_the_users_language(titanic_bundle, tmp_path):
    card = (titanic_bundle[0] / "model_card.md").read_text(encoding="utf-8")
    for words in ("Model card: Random forest predicting survived", "891 rows", "179 test rows",
                  "Drop columns", "| ROC AUC ↑ |", "Known limits", "scikit-learn 1.9.1"):
        assert words in card, words
    data, _, _ = _bundle("penguins.csv", "species", "knn", lang="ja")
    folder = _unzip(data, tmp_path / "ja")
    card_ja = (folder / "model_card.md").read_text(encoding="utf-8")
    assert card_ja.startswith("# モデルカード") and "既知の限界" in card_ja
    assert json.loads((folder / "schema.json").read_text(encoding="utf-8"))["language"] == "ja"


def test_requirements_pin_the_versions_the_model_was_trained_with(titanic_bundle):
    from importlib.metadata import version

    pins = dict(line.split("==") for line in (titanic_bundle[0] / "requirements.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    assert pins["scikit-learn"] == version("scikit-learn") and pins["skops"] == version("skops")
    assert {"pandas", "numpy", "fastapi", "uvicorn", "pyarrow", "charset-normalizer"} <= set(pins)


def test_project_export_replays_to_the_same_metrics(store):
    from workbench.deploy.replay import export_project, replay
    from workbench.samples import add_sample

    project = store.create_project("replay me")
    dataset = add_sample(store, project.id, "titanic")
    frame = store.load_frame(dataset.id)
    recipe = Recipe().add(S.DropColumns(["alive", "deck"]))
    version = store.save_recipe(project.id, recipe.to_json())
    for model in ("logistic_regression", "hist_gradient_boosting"):
        run = train_experiment(frame, recipe, Settings("survived", "binary", model, split=Split(seed=7, folds=3)))
        saved = save_experiment(store, project.id, dataset.id, version, run)
    store.choose_experiment(project.id, saved.id)

    exported = export_project(store, project.id)
    new_project, results = replay(exported, store)
    assert len(results) == 2 and all(r.same for r in results)
    assert [r.model for r in results] == ["logistic_regression", "hist_gradient_boosting"]
    rebuilt = store.list_experiments(new_project)
    assert len(rebuilt) == 2 and [e.chosen for e in rebuilt].count(True) == 1
    assert store.get_project(new_project).name == "replay me (replay)"

    with pytest.raises(UserError) as caught:
        replay(sample_bytes("titanic.csv"), store)
    assert caught.value.key == "replay.not_export"


def test_replay_command_prints_the_comparison_and_exits_0(store, tmp_path, workspace):
    from workbench.deploy.replay import export_project
    from workbench.samples import add_sample

    project = store.create_project("cli replay")
    dataset = add_sample(store, project.id, "penguins")
    run = train_experiment(store.load_frame(dataset.id), Recipe(), Settings("species", "multiclass", "knn"))
    save_experiment(store, project.id, dataset.id, 0, run)
    (tmp_path / "export.zip").write_bytes(export_project(store, project.id))
    env = {**os.environ, "WORKBENCH_HOME": str(workspace), "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "workbench", "replay", str(tmp_path / "export.zip")], env=env,
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["same"] and printed["experiments"][0]["model"] == "knn"
    bad = subprocess.run([sys.executable, "-m", "workbench", "replay", str(SAMPLES / "tips.csv")], env=env,
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert bad.returncode == 2 and "not a project export" in bad.stderr


def test_a_bundle_and_a_model_saved_before_the_deploy_move_still_open_and_predict(tmp_path):
    """tests/data/bundle_before_deploy_move.zip was built by the code of 2026-12-02, before the export modules
    moved into workbench/deploy/: the app opens it (its model file names the classes' modules), and its own
    predict.py runs."""
    from workbench.deploy.modelfile import load_pipeline

    data = (ROOT / "tests" / "data" / "bundle_before_deploy_move.zip").read_bytes()
    rows = read_table(sample_bytes("penguins.csv"), "penguins.csv")[0].drop(columns=["species"]).head(30)
    bundle = read_bundle(data)
    predicted, _ = bundle.predictor.predict(rows)
    model = load_pipeline(zipfile.ZipFile(io.BytesIO(data)).read("model.skops"))  # as kept in a workspace
    assert list(predicted["prediction"]) == list(model.predict(rows))
    assert (predicted["prediction"] == "Adelie").mean() > 0.9  # the first rows of penguins.csv are Adelie
    zipfile.ZipFile(io.BytesIO(data)).extractall(tmp_path)
    rows.to_csv(tmp_path / "in.csv", index=False)
    run = fresh_python(["predict.py", "in.csv", "out.csv"], tmp_path)
    assert run.returncode == 0, run.stderr
    assert list(pd.read_csv(tmp_path / "out.csv", encoding="utf-8-sig")["prediction"]) == list(
        predicted["prediction"])
