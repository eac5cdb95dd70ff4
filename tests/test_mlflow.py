"""MLflow when the user has it: against a real local MLflow server (SQLite backend) that the tests start,
registering a version logs its run and registers its pyfunc model, and the aliases follow promote and roll back;
a server that does not answer is said so and nothing is lost; without MLFLOW_TRACKING_URI nothing imports mlflow."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, free_port, fresh_python, stop
from tests.test_deploy import _trained
from tests.test_pages import _no_failure, _run, _text
from tests.test_serving import ROWS
from workbench.deploy import mlflow_sync
from workbench.deploy import versions as V
from workbench.deploy.modelfile import load_pipeline
from workbench.deploy.predict import Predictor, added_columns
from workbench.samples import ensure_workspace
from workbench.store import Store


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory):
    """A real MLflow tracking server and model registry on 127.0.0.1, storing in SQLite and a folder."""
    home = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{home / 'mlflow.db'}",
         "--artifacts-destination", str(home / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"], cwd=home, stdout=open(home / "server.log", "wb"), stderr=subprocess.STDOUT)
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop(process)
                pytest.fail("the MLflow server did not start:\n" + (home / "server.log").read_text()[-3000:])
            time.sleep(0.5)
    yield uri
    stop(process)


def _predicted(store: Store, experiment_id: str, rows: pd.DataFrame) -> pd.DataFrame:
    experiment = store.get_experiment(experiment_id)
    predictor = Predictor.from_record(load_pipeline(store.experiment_model(experiment_id)), experiment.record)
    out, _ = predictor.predict(rows, lang="en")
    answer, probabilities = added_columns(out, rows)
    return out[[answer, *probabilities]].reset_index(drop=True)


def test_without_the_variable_nothing_imports_mlflow(tmp_path):
    code = ("import sys, workbench.cli, workbench.ui.deploy, workbench.deploy.serving\n"
            "from workbench.deploy import mlflow_sync\n"
            "from workbench.store import Store\n"
            "from workbench.samples import ensure_workspace\n"
            "store = Store(sys.argv[1]); project = ensure_workspace(store, 'en')\n"
            "assert mlflow_sync.sync(store, project.id) is None\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'mlflow'))\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "ws")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_versions_go_to_mlflow_with_their_run_model_and_aliases(store, mlflow_server, monkeypatch):
    import mlflow
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    project = store.create_project("churn 顧客")
    first, second = _trained(store, project.id), _trained(store, project.id, "decision_tree")
    v1 = V.register(store, project.id, first.id, note="baseline")
    assert mlflow_sync.sync(store, project.id) is None
    where = mlflow_sync.sent(store, v1)
    assert where is not None and where.model == f"churn-顧客-{project.id}" and where.model_version == "1"
    client = MlflowClient(mlflow_server)
    run = client.get_run(where.run_id)
    assert run.data.params["model_id"] == "logistic_regression" and run.data.params["target"] == "survived"
    assert run.data.metrics["roc_auc"] == pytest.approx(first.record["metrics"]["roc_auc"])
    assert run.data.tags["workbench.version"] == "1" and run.data.tags["mlflow.note.content"] == "baseline"
    assert run.data.tags["workbench.data_sha256"] == v1.data_sha256
    assert [a.path for a in client.list_artifacts(where.run_id, "bundle")] == ["bundle/model-v1.zip"]
    assert client.get_registered_model(where.model).aliases == {"production": "1"}

    mlflow.set_tracking_uri(mlflow_server)
    rows = pd.DataFrame(ROWS)
    path = list(sys.path)
    served = mlflow.pyfunc.load_model(f"models:/{where.model}@production").predict(rows)
    assert sys.path == path  # loaded in the app: processes it starts later still import the app's workbench
    pd.testing.assert_frame_equal(served, _predicted(store, first.id, rows))
    code = ("import mlflow, pandas as pd\n"  # a Python without the workbench: the model brings the bundle's own
            f"mlflow.set_tracking_uri({mlflow_server!r})\n"
            f"model = mlflow.pyfunc.load_model('models:/{where.model}@production')\n"
            f"print(model.predict(pd.DataFrame({ROWS!r})).to_json())\n"
            "import workbench\n"
            "assert '/artifacts/bundle/' in workbench.__file__, workbench.__file__\n")
    away = fresh_python(["-c", code], store.home.parent)
    assert away.returncode == 0, away.stderr[-3000:]
    pd.testing.assert_frame_equal(pd.read_json(io.StringIO(away.stdout.strip().splitlines()[-1])), served,
                                  check_dtype=False)

    V.register(store, project.id, second.id)
    V.promote(store, project.id, 2, V.CHALLENGER)
    assert mlflow_sync.sync(store, project.id) is None
    assert client.get_registered_model(where.model).aliases == {"production": "1", "challenger": "2"}
    V.promote(store, project.id, 2)
    assert mlflow_sync.sync(store, project.id) is None  # sending again sends nothing twice
    assert client.get_registered_model(where.model).aliases == {"production": "2"}
    assert len(client.search_model_versions(f"name = '{where.model}'")) == 2
    V.roll_back(store, project.id)
    assert mlflow_sync.sync(store, project.id) is None
    assert client.get_registered_model(where.model).aliases == {"production": "1"}
    two = mlflow.pyfunc.load_model(f"models:/{where.model}/2").predict(rows)
    pd.testing.assert_frame_equal(two, _predicted(store, second.id, rows))


def test_a_server_that_does_not_answer_is_said_so_and_the_version_is_sent_later(store, mlflow_server,
                                                                               monkeypatch):
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", dead)
    project = store.create_project("later")
    version = V.register(store, project.id, _trained(store, project.id).id)
    problem = mlflow_sync.sync(store, project.id)
    assert problem is not None and problem.key == "mlflow.unreachable" and problem.params["uri"] == dead
    assert "MLflow server at" in problem.message("en") and "応答しません" in problem.message("ja")
    assert store.aliases_now(project.id) == {"production": 1} and mlflow_sync.sent(store, version) is None
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)  # the server is back
    assert mlflow_sync.sync(store, project.id) is None
    assert mlflow_sync.sent(store, version).model_version == "1"
    record = json.loads((store.project_dir(project.id) / "versions" / "1" / "mlflow.json").read_text())
    assert record["uri"] == mlflow_server


def test_the_deploy_page_warns_when_mlflow_is_away_and_sends_on_a_click(workspace, mlflow_server, monkeypatch):
    store = Store(workspace)
    project = ensure_workspace(store, "ja")
    _trained(store, project.id)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    at = _run("pages/deploy.py", project=project.id, lang="ja")
    next(b for b in at.button if b.label == "登録する").click().run(timeout=60)
    _no_failure(at)
    text = _text(at).replace("\\", "")
    assert "バージョン 1 として登録しました" in text and "応答しません" in text  # registered, and told why not sent
    assert "MLflow に送る" in [b.label for b in at.button]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    at.button(key="mlflow_send").click().run(timeout=120)
    _no_failure(at)
    text = _text(at).replace("\\", "")
    assert f"MLflow（{mlflow_server}）にすべてのバージョンとエイリアスを送りました。" in text
    assert "mlflow_send" not in [b.key for b in at.button]
    table = at.dataframe[0].value
    assert list(table["MLflow"]) == [f"{mlflow_sync.model_name(store, project.id)} v1"]


def test_register_from_the_command_line_warns_when_mlflow_is_away(workspace, tmp_path):
    store = Store(workspace)
    project = ensure_workspace(store, "en")
    _trained(store, project.id)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "WORKBENCH_HOME": str(workspace),
           "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{free_port()}", "WORKBENCH_LANG": "en"}
    done = subprocess.run([sys.executable, "-m", "workbench", "register", "--project", project.id], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "warning: The MLflow server at" in done.stderr and store.aliases_now(project.id) == {"production": 1}
    assert Path(store.project_dir(project.id) / "versions" / "1" / "model.skops").is_file()
