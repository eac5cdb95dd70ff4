"""MLflow, when the user has it: with MLFLOW_TRACKING_URI set, every model version is also an MLflow run (its
settings as params, its metrics, the bundle as an artifact) and a version of a registered model (a pyfunc model
wrapping the bundle, bundle/mlflow_model.py), and the registered model's `production` and `challenger` aliases
follow the workbench's. Without the variable nothing here imports mlflow.

The workbench stays the record: a version is registered, promoted or rolled back whether MLflow answers or not;
`sync` says what it could not send, and sending again later sends what is missing (idempotent)."""

from __future__ import annotations

import io
import json
import math
import os
import re
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.deploy.versions import version_bundle
from workbench.errors import UserError
from workbench.store import Store
from workbench.store.versions import ALIASES, ModelVersion

ENV = "MLFLOW_TRACKING_URI"
RECORD = "mlflow.json"  # kept with a version once MLflow has it: run id, registered model and its version
PROBE_TIMEOUT_S = 5
MODEL_CODE = Path(__file__).parent / "bundle" / "mlflow_model.py"


def configured() -> str:
    """The tracking server's address, or "" when the user has no MLflow."""
    return os.environ.get(ENV, "").strip()


@dataclass(frozen=True)
class Sent:
    """Where MLflow keeps a version."""

    uri: str
    run_id: str
    model: str
    model_version: str

    @property
    def model_uri(self) -> str:
        return f"models:/{self.model}/{self.model_version}"


def sent(store: Store, version: ModelVersion) -> Sent | None:
    """Where MLflow keeps the version, or None when it was not sent (yet)."""
    if not store.has_version_file(version.project_id, version.number, RECORD):
        return None
    data = json.loads(store.version_file(version.project_id, version.number, RECORD))
    return Sent(data["uri"], data["run_id"], data["model"], data["model_version"])


def model_name(store: Store, project_id: str) -> str:
    """The registered model of a project: its name (letters, digits, - _ .) and its id, so two projects of the
    same name stay apart."""
    name = re.sub(r"[^\w.-]+", "-", store.get_project(project_id).name).strip("-.") or "project"
    return f"{name[:60]}-{project_id}"


def sync(store: Store, project_id: str) -> UserError | None:
    """Send the project's versions MLflow lacks and set its aliases as the workbench has them. Returns what went
    wrong as a message (nothing is undone in the workbench), None when MLflow is up to date or not configured."""
    uri = configured()
    if not uri:
        return None
    try:
        _reachable(uri)
        client = _client(uri)
        for version in sorted(store.list_versions(project_id), key=lambda v: v.number):
            if sent(store, version) is None:
                publish(store, version, client)
        _set_aliases(store, project_id, client)
    except UserError as error:
        return error
    except Exception as error:  # noqa: BLE001  (anything MLflow raises: its server's refusal, a broken store)
        return UserError("mlflow.failed", uri=uri, reason=_reason(error))
    return None


def publish(store: Store, version: ModelVersion, client: Any) -> Sent:
    """Log the version as a run and register its pyfunc model; keep where MLflow put it with the version."""
    import mlflow

    uri = configured()
    name = model_name(store, version.project_id)
    experiment = _experiment(client, f"workbench/{name}")
    bundle = version_bundle(store, version)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "bundle"
        zipfile.ZipFile(io.BytesIO(bundle)).extractall(folder)
        (Path(tmp) / f"model-v{version.number}.zip").write_bytes(bundle)
        requirements = [line.strip() for line in (folder / "requirements.txt").read_text().splitlines()
                        if line.strip() and not line.startswith("#")]
        mlflow.set_tracking_uri(uri)
        with mlflow.start_run(experiment_id=experiment, run_name=f"v{version.number}",
                              tags=_tags(version)) as run:
            mlflow.log_params(_params(version.record.get("settings", {})))
            metrics = _metrics(version.record.get("metrics", {}))
            if metrics:
                mlflow.log_metrics(metrics)
            mlflow.log_artifact(str(Path(tmp) / f"model-v{version.number}.zip"), artifact_path="bundle")
            info = mlflow.pyfunc.log_model(name="model", python_model=str(MODEL_CODE),
                                           artifacts={"bundle": str(folder)}, pip_requirements=requirements,
                                           registered_model_name=name, await_registration_for=60)
    record = Sent(uri, run.info.run_id, name, str(info.registered_model_version))
    store.keep_version_file(version.project_id, version.number, RECORD,
                            json.dumps(record.__dict__, ensure_ascii=False).encode("utf-8"))
    return record


def _set_aliases(store: Store, project_id: str, client: Any) -> None:
    name = model_name(store, project_id)
    now = store.aliases_now(project_id)
    registered = client.get_registered_model(name).aliases  # {"production": "3", ...}
    for alias in ALIASES:
        number = now.get(alias)
        where = sent(store, store.get_version(project_id, number)) if number is not None else None
        if where is not None and where.model == name:
            if registered.get(alias) != where.model_version:
                client.set_registered_model_alias(name, alias, where.model_version)
        elif alias in registered:
            client.delete_registered_model_alias(name, alias)


def _client(uri: str) -> Any:
    # MLflow retries a refused request 7 times over minutes by default; the page waits for it
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def _reachable(uri: str) -> None:
    """A tracking server that does not answer within seconds is said so, before MLflow's long retries."""
    if not uri.startswith(("http://", "https://")):
        return
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=PROBE_TIMEOUT_S) as answer:
            answer.read(64)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise UserError("mlflow.unreachable", uri=uri, reason=_reason(error)) from error


def _experiment(client: Any, name: str) -> str:
    found = client.get_experiment_by_name(name)
    return found.experiment_id if found is not None else client.create_experiment(name)


def _tags(version: ModelVersion) -> dict[str, str]:
    tags = {"workbench.project_id": version.project_id, "workbench.version": str(version.number),
            "workbench.experiment_id": version.experiment_id, "workbench.data_sha256": version.data_sha256,
            "workbench.registered_by": version.created_by, "workbench.registered_at": version.created_at}
    if version.note:
        tags["mlflow.note.content"] = version.note
    return tags


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested settings or metrics as one level, their keys joined with '.' (in the characters MLflow allows)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = re.sub(r"[^\w\-./ ]", "_", f"{prefix}{key}")
        out.update(_flat(value, f"{name}.") if isinstance(value, dict) else {name: value})
    return out


def _params(settings: dict[str, Any]) -> dict[str, str]:
    """Settings as MLflow params (values as text)."""
    return {k: (v if isinstance(v, str) else json.dumps(v, default=str))[:6000] for k, v in _flat(settings).items()}


def _metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """The finite numbers among a version's metrics."""
    return {k: float(v) for k, v in _flat(metrics).items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}


def _reason(error: BaseException) -> str:
    text = str(getattr(error, "reason", None) or error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:300]

