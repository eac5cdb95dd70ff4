"""The endpoint the app runs (workbench.deploy.serving): the production version's serve.py in a process of its
own, with its key, its request log and /metrics; and what a person can get wrong about it."""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.conftest import ROOT, free_port
from tests.test_deploy import _trained
from workbench.deploy import serving
from workbench.deploy import versions as V
from workbench.errors import UserError


def _post(url: str, rows: list[dict], key: str | None) -> tuple[int, dict]:
    headers = {"content-type": "application/json", **({"X-API-Key": key} if key else {})}
    request = urllib.request.Request(f"{url}/predict", json.dumps({"rows": rows}).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# the first two passengers of sample_data/titanic.csv as a client sends them (the model does not take alive or deck)
ROWS = [{"pclass": 3, "sex": "male", "age": 22, "sibsp": 1, "parch": 0, "fare": 7.25, "embarked": "S", "class": "Third",
         "who": "man", "adult_male": True, "embark_town": "Southampton", "alone": False},
        {"pclass": 1, "sex": "female", "age": 38, "sibsp": 1, "parch": 0, "fare": 71.2833, "embarked": "C",
         "class": "First", "who": "woman", "adult_male": False, "embark_town": "Cherbourg", "alone": False}]


@pytest.fixture
def production(store):
    project = store.create_project("churn")
    V.register(store, project.id, _trained(store, project.id).id)
    yield store, project.id
    serving.stop(store, project.id)


def test_the_endpoint_serves_production_with_its_key_logs_requests_and_rotates_the_key(production):
    store, project_id = production
    port = free_port()
    endpoint = serving.start(store, project_id, "127.0.0.1", port)
    assert endpoint.running and endpoint.version == 1 and endpoint.url == f"http://127.0.0.1:{port}"
    with urllib.request.urlopen(f"{endpoint.url}/health", timeout=5) as answer:
        assert json.loads(answer.read())["version"] == "1"
    key = serving.api_key(store, project_id)
    assert oct((serving.folder(store, project_id) / "api_key").stat().st_mode)[-3:] == "600"
    status, answer = _post(endpoint.url, ROWS, key)
    assert status == 200 and [p["prediction"] for p in answer["predictions"]] == [0, 1] and answer["version"] == "1"
    assert _post(endpoint.url, ROWS, None)[0] == 401 and _post(endpoint.url, ROWS, "guess")[0] == 401
    status, answer = _post(endpoint.url, [{"age": "old", "colour": "red"}], key)
    assert status == 422  # wrong type, unknown column: named in the answer
    assert {tuple(d["loc"])[-1] for d in answer["detail"]} == {"age", "colour"}
    new = serving.api_key(store, project_id, rotate=True)  # no restart
    assert new != key and _post(endpoint.url, ROWS, key)[0] == 401 and _post(endpoint.url, ROWS, new)[0] == 200
    log = serving.requests_log(store, project_id)
    assert list(log["status"]) == [200, 401, 422, 401, 401, 200] and set(log["version"]) == {"1"}
    inputs = serving.logged_inputs(store, project_id)
    assert len(inputs) == 4 and list(inputs["sex"]) == ["male", "female"] * 2
    with urllib.request.urlopen(f"{endpoint.url}/metrics", timeout=5) as answer:
        assert 'workbench_requests_total{path="/predict",status="200"} 2.0' in answer.read().decode()
    assert "X-API-Key: <key>" in serving.example_request(store, project_id, endpoint)
    assert serving.stop(store, project_id) and not serving.status(store, project_id).running
    assert not serving.status(store, project_id).died  # stopped, not dead
    with socket.create_server(("127.0.0.1", port)):  # the port is free again
        pass


def test_a_new_production_version_is_served_after_a_restart_and_a_dead_endpoint_is_said_so(production):
    store, project_id = production
    port = free_port()
    first = serving.start(store, project_id, "127.0.0.1", port)
    V.promote(store, project_id, V.register(store, project_id, _trained(store, project_id, "decision_tree").id).number)
    assert serving.status(store, project_id).version == 1  # still the old one, until restarted
    again = serving.start(store, project_id, "127.0.0.1", port)
    assert again.version == 2 and again.pid != first.pid
    os.killpg(again.pid, signal.SIGKILL)  # it dies
    assert _until(lambda: not serving.status(store, project_id).running)
    dead = serving.status(store, project_id)
    assert dead.died and dead.version == 2
    started = serving.start(store, project_id, "127.0.0.1", port)  # and can be started again
    assert started.running and started.version == 2


def _until(condition, seconds: float = 10) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
    return bool(condition())


def test_bad_addresses_and_missing_things_get_messages_and_nothing_starts(store):
    project = store.create_project("empty")
    with pytest.raises(UserError) as info:
        serving.start(store, project.id)
    assert info.value.key == "endpoint.no_production"
    V.register(store, project.id, _trained(store, project.id).id)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        with pytest.raises(UserError) as info:
            serving.start(store, project.id, "127.0.0.1", taken.getsockname()[1])
        assert info.value.key == "endpoint.port_in_use"
    for host in ("no-such-host.invalid", "10.254.254.254"):
        with pytest.raises(UserError) as info:
            serving.start(store, project.id, host, free_port())
        assert info.value.key == "endpoint.bad_host", host
    with pytest.raises(UserError) as info:
        serving.start(store, project.id, "127.0.0.1", 70000)
    assert info.value.key == "endpoint.bad_port"
    (store.project_dir(project.id) / "versions" / "1" / "model.skops").unlink()
    with pytest.raises(UserError) as info:
        serving.start(store, project.id, "127.0.0.1", free_port())
    assert info.value.key == "version.files_missing"
    assert not serving.status(store, project.id).running and len(store.list_versions(project.id)) == 1


def test_every_bundle_that_serves_has_a_dockerfile_and_a_readme(production):
    import io
    import zipfile

    from workbench.deploy.export import build_bundle

    store, project_id = production
    version = store.get_version(project_id, 1)
    files = zipfile.ZipFile(io.BytesIO(build_bundle(V.version_model(store, version), version.record, lang="ja")))
    docker = files.read("Dockerfile").decode()
    assert f"FROM python:{platform.python_version()}-slim\n" in docker
    assert "\nUSER model\n" in docker and "/health" in docker.split("HEALTHCHECK", 1)[1]
    assert 'CMD ["python", "serve.py", "--host", "0.0.0.0", "--port", "8000"]' in docker
    readme = files.read("README.md").decode()
    assert "docker build -t logistic-regression-survived ." in readme and "WORKBENCH_API_KEY" in readme
    assert "## Docker でビルドして動かす" in readme  # in the user's language
    assert "prometheus-client==" in files.read("requirements.txt").decode()


def test_the_commands_register_promote_and_serve_do_what_the_page_does(store, workspace):
    project = store.create_project("CLI churn")
    first, second = _trained(store, project.id), _trained(store, project.id, "decision_tree")
    env = {**os.environ, "WORKBENCH_HOME": str(workspace), "WORKBENCH_LANG": "en", "PYTHONPATH": str(ROOT)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "workbench", *args], env=env, capture_output=True, text=True,
                              timeout=120, cwd=ROOT)

    for command in ("register", "promote", "serve"):
        assert run(command, "--help").returncode == 0
    done = run("register", "--project", "cli churn", "--experiment", first.id, "--note", "first")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["aliases"] == {"production": 1} and "Registered as version 1" in done.stderr
    assert run("register", "--project", project.id, "--experiment", second.id).returncode == 0
    promoted = run("promote", "--project", project.id, "--version", "2")
    assert json.loads(promoted.stdout)["aliases"] == {"production": 2}
    back = run("promote", "--project", project.id, "--roll-back")
    assert json.loads(back.stdout)["aliases"] == {"production": 1} and "Version 1 is now production" in back.stderr
    wrong = run("promote", "--project", project.id, "--version", "7")
    assert wrong.returncode == 2 and "no model version 7" in wrong.stderr and "Traceback" not in wrong.stderr
    unknown = run("serve", "status", "--project", "nobody's")
    assert unknown.returncode == 2 and "no project 'nobody's'" in unknown.stderr
    status = json.loads(run("serve", "status", "--project", project.id).stdout)
    assert status["running"] is False and status["key_file"].endswith("api_key")
