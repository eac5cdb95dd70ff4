"""The model bundle: a zip that predicts on raw rows on a machine that has never seen the app.

Contents:
- model.skops: the fitted pipeline (recipe steps inside), loaded only with our list of trusted types;
- model.onnx where the preparation and model convert, checked against scikit-learn (or the reason it is absent);
- predict.py, serve.py (HTTP JSON endpoint: API key, request log, /metrics), train.py (retrains from a raw CSV
  and recipe.json); a Dockerfile that serves it and a README that says how;
- schema.json (task, target, classes, threshold, columns, settings, metrics, ONNX report), recipe.json,
  sample_request.json, model_card.md (in the user's language), requirements.txt (exact versions);
- workbench/: the parts of the workbench these scripts import (reading files, the recipe's transformers,
  preparing rows, training), so the bundle does not need the workbench installed.

read_bundle() opens a bundle uploaded to the app: never unpickled, every entry name checked.
"""

from __future__ import annotations

import io
import json
import platform
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

import workbench
from workbench.deploy.modelcard import cluster_card, forecast_card, model_card
from workbench.deploy.modelfile import dump_pipeline, load_pipeline
from workbench.deploy.predict import Predictor, feature_schema
from workbench.errors import UserError
from workbench.i18n import Note, get_language, t
from workbench.models import CATALOGUE
from workbench.recipe import Recipe

_HERE = Path(__file__).resolve().parent.parent  # workbench/: the bundle keeps its layout
SCRIPTS = ("predict.py", "serve.py", "train.py")
MODULES = ("__init__.py", "errors.py", "i18n.py", "settings.py", "coltypes.py", "textfile.py", "io.py",
           "transformers.py", "stats.py", "tasks.py", "evaluation.py", "recipe.py", "models.py", "training.py",
           "deploy/__init__.py", "deploy/predict.py", "deploy/modelfile.py", "deploy/drift.py", "steps/__init__.py",
           "steps/_common.py",
           "steps/columns.py", "steps/learned.py", "steps/rows.py", "locales/en.json", "locales/ja.json",
           "deep/__init__.py", "deep/runtime.py", "deep/tabular.py", "deep/text.py")
PACKAGES = ("numpy", "pandas", "scipy", "scikit-learn", "skops", "joblib", "threadpoolctl", "pyarrow",
            "charset-normalizer", "openpyxl", "fastapi", "pydantic", "uvicorn", "prometheus-client")
ONNX_PACKAGES = ("onnxruntime",)
NETWORK_PACKAGES = ("tensorflow-cpu", "keras")  # only for bundles of Keras networks
MODEL_PACKAGES = ("lightgbm",)  # only for bundles whose model file names one of their types
MAX_BUNDLE_MB = 500  # an uploaded bundle larger than this, unpacked, is refused
MAX_ENTRIES = 200
ONNX_SAMPLE = 500  # rows on which ONNX predictions are compared with scikit-learn's


def versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """The versions of the packages the model was trained with."""
    return {name: version(name) for name in packages}


def model_packages(model: bytes) -> tuple[str, ...]:
    """The packages of MODEL_PACKAGES whose types the model file names (a LightGBM model needs lightgbm)."""
    import skops.io as sio

    named = {name.split(".")[0] for name in sio.get_untrusted_types(data=model)}
    return tuple(name for name in MODEL_PACKAGES if name in named)


def _requirements(pinned: dict[str, str]) -> str:
    return "".join(f"{name}=={v}\n" for name, v in pinned.items())


def about_dataset(name: str, filename: str, frame: pd.DataFrame) -> dict[str, Any]:
    """What the model card says of the data."""
    return {"dataset": name, "filename": filename, "rows": int(frame.shape[0]), "columns": int(frame.shape[1])}


def sample_request(schema: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Two example rows for POST /predict: the typical row, and one with every number at its minimum."""
    typical = {name: info.get("default") for name, info in schema.items()}
    low = {name: info.get("min") if info["kind"] == "number" else info.get("default")
           for name, info in schema.items()}
    return {"rows": [typical, low]}


def build_bundle(model: bytes, record: dict[str, Any], about: dict[str, Any] | None = None,
                 frame: pd.DataFrame | None = None, lang: str | None = None,
                 extra: dict[str, bytes] | None = None) -> bytes:
    """The bundle as zip bytes, from a model file and an experiment record (see experiments.record_of).

    `about` describes the data (dataset, filename, rows, columns, trained_at; optionally importances);
    the ONNX conversion is checked on a sample of `frame`'s rows (without it, no conversion is tried)."""
    lang = lang or get_language()
    about = _stamped(about)
    settings = record["settings"]
    spec = CATALOGUE.get(settings["model_id"])
    keras_model = spec is not None and spec.network
    onnx_result = None
    if spec is not None and (spec.network or spec.text):
        onnx = {"converted": False, "reason": Note("onnx.not_for_networks").text(lang)}
    elif frame is not None and len(frame):
        from workbench.deploy.onnx_export import convert

        sample = frame[record["features"]].sample(min(ONNX_SAMPLE, len(frame)), random_state=0)
        model_name = t(f"model.{settings['model_id']}", lang)
        onnx_result = convert(load_pipeline(model), sample, settings["task"], model_name)
        onnx = onnx_result.to_dict(lang)
    else:
        onnx = {"converted": False, "reason": Note("onnx.not_tried").text(lang)}
    meta = {"bundle_version": workbench.__version__, "task": settings["task"], "target": settings["target"],
            "threshold": settings["threshold"], "classes": record["classes"], "schema": record["schema"],
            "model": settings["model_id"], "settings": settings, "metrics": record["metrics"],
            "baseline": record["baseline"], "n_train": record["n_train"], "n_test": record["n_test"],
            "about": about, "onnx": onnx, "language": lang, **({"version": record["version"]} if "version" in record
                                                                else {})}
    pinned = versions(PACKAGES + (NETWORK_PACKAGES if keras_model else ()) + model_packages(model))
    requirements = _requirements(pinned)
    requirements += "".join(f"# {name}=={version(name)}  (only to run model.onnx)\n" for name in ONNX_PACKAGES)
    files = {"model.skops": model, "schema.json": _json(meta),
             "recipe.json": record.get("recipe") or Recipe().to_json(),
             "sample_request.json": _json(sample_request(record["schema"])),
             "model_card.md": model_card(record, about, onnx, pinned, lang), "requirements.txt": requirements,
             **serving_files(meta, lang)}
    if onnx_result and onnx_result.model:
        files["model.onnx"] = onnx_result.model
    if keras_model:  # the network alone, in Keras' own format (its inputs: prepared features or token ids)
        files["network.keras"] = network_file(load_pipeline(model))
    files.update(extra or {})  # a version's reference profile: serve.py's GET /monitor compares with it
    return _zip(files, SCRIPTS, MODULES)


DOCKER_PORT = 8000


def dockerfile() -> str:
    """A Dockerfile that serves the bundle: the training Python's slim image (pinned to its exact version), the
    bundle's own requirements, a user that is not root, and a health check on /health."""
    return f"""# Serves this bundle (serve.py): see README.md for building and running it.
FROM python:{platform.python_version()}-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    WORKBENCH_REQUEST_LOG=/app/logs/requests.sqlite3
RUN useradd --create-home --uid 10001 model
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN mkdir -p /app/logs && chown -R model:model /app/logs
USER model
EXPOSE {DOCKER_PORT}
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \\
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{DOCKER_PORT}/health', timeout=4)"]
CMD ["python", "serve.py", "--host", "0.0.0.0", "--port", "{DOCKER_PORT}"]
"""


def serving_files(meta: dict[str, Any], lang: str) -> dict[str, str]:
    """The Dockerfile and the README (in the user's language) of a bundle that serve.py serves."""
    name = re.sub(r"[^a-z0-9]+", "-", f"{meta['model']}-{meta['target'] or meta['task']}".lower()).strip("-")
    return {"Dockerfile": dockerfile(),
            "README.md": t("bundle.readme", lang, image=name or "model", port=DOCKER_PORT,
                           python=platform.python_version())}


def network_file(pipeline: Any) -> bytes:
    """The `.keras` file of the Keras network at the end of a pipeline."""
    from workbench.deep.runtime import final_estimator, to_bytes

    return to_bytes(final_estimator(pipeline).network_)


def _stamped(about: dict[str, Any] | None) -> dict[str, Any]:
    return {"trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **(about or {})}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def _zip(files: dict[str, bytes | str], scripts: tuple[str, ...], modules: tuple[str, ...]) -> bytes:
    """A bundle: its own files, the scripts from workbench/deploy/bundle and the workbench modules they import."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        for script in scripts:
            archive.write(_HERE / "deploy" / "bundle" / script, script)
        for module in modules:
            archive.write(_HERE / module, f"workbench/{module}")
    return buffer.getvalue()


def build_cluster_bundle(pipeline: Any, result: dict[str, Any], frame: pd.DataFrame, recipe_json: str | None,
                         about: dict[str, Any] | None = None, lang: str | None = None) -> bytes:
    """A bundle that assigns new rows to the clusters of a fitted k-means or Gaussian mixture `pipeline`
    (result: a clustering job's result); predict.py and serve.py add a 'cluster' column."""
    lang = lang or get_language()
    about = _stamped(about)
    schema = feature_schema(frame[result["columns"]])
    meta = {"bundle_version": workbench.__version__, "task": "clustering", "target": "", "threshold": 0.5,
            "classes": [], "schema": schema, "model": result["settings"]["algorithm"],
            "settings": result["settings"], "metrics": result["scores"], "about": about, "language": lang}
    pinned = versions()
    files = {"model.skops": dump_pipeline(pipeline), "schema.json": _json(meta),
             "recipe.json": recipe_json or Recipe().to_json(),
             "sample_request.json": _json(sample_request(schema)),
             "model_card.md": cluster_card(result, about, pinned, lang),
             "requirements.txt": _requirements(pinned), **serving_files(meta, lang)}
    return _zip(files, ("predict.py", "serve.py"), MODULES)


FORECAST_MODULES = ("__init__.py", "errors.py", "i18n.py", "settings.py", "coltypes.py", "textfile.py", "io.py",
                    "stats.py", "forecast.py", "locales/en.json", "locales/ja.json")
FORECAST_PACKAGES = ("numpy", "pandas", "scipy", "scikit-learn", "statsmodels", "pyarrow", "charset-normalizer",
                     "openpyxl")


def build_forecast_bundle(result: dict[str, Any], about: dict[str, Any] | None = None,
                          lang: str | None = None) -> bytes:
    """A bundle that forecasts the next periods from a history CSV (result: a forecast job's result):
    forecast.py refits the chosen model on the history it is given, with the backtest's interval widths."""
    lang = lang or get_language()
    about = _stamped(about)
    spec = {"bundle_version": workbench.__version__, "task": "forecasting", "settings": result["settings"],
            "chosen": result["chosen"], "report": result["report"], "table": result["table"],
            "spread": {key: part["spread"] for key, part in result["series"].items()}, "about": about,
            "language": lang}
    pinned = versions(FORECAST_PACKAGES)
    files = {"spec.json": _json(spec), "model_card.md": forecast_card(result, about, pinned, lang),
             "requirements.txt": _requirements(pinned)}
    return _zip(files, ("forecast.py",), FORECAST_MODULES)


@dataclass
class Bundle:
    """A bundle opened in the app: what predicts, its metadata and its model card."""

    predictor: Predictor
    meta: dict[str, Any]
    card: str


def open_zip(data: bytes, not_zip: str, max_mb: int = MAX_BUNDLE_MB, max_entries: int = MAX_ENTRIES) -> zipfile.ZipFile:
    """A zip (a bundle or a project export) opened in memory, refused with UserError when it is not a zip
    (the message key `not_zip`), names an entry outside its folder, or unpacks too large."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UserError(not_zip) from None
    for entry in entries:
        path = PurePosixPath(entry.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or ":" in entry.filename:
            archive.close()
            raise UserError("bundle.unsafe_entry", name=entry.filename[:100])
    if len(entries) > max_entries or sum(e.file_size for e in entries) > max_mb * 2**20:
        archive.close()
        raise UserError("bundle.too_large", limit=max_mb)
    return archive


def read_bundle(data: bytes) -> Bundle:
    """Open a bundle made by build_bundle(); raises UserError for anything else, and never unpickles."""
    with open_zip(data, "bundle.not_zip") as archive:
        entries = archive.infolist()
        names = {e.filename for e in entries}
        if not {"model.skops", "schema.json"} <= names:
            raise UserError("bundle.incomplete")
        try:
            meta = json.loads(archive.read("schema.json").decode("utf-8"))
            assert isinstance(meta, dict) and {"task", "schema", "classes", "threshold"} <= set(meta)
        except (ValueError, AssertionError, UnicodeDecodeError):
            raise UserError("bundle.incomplete") from None
        pipeline = load_pipeline(archive.read("model.skops"))
        card = archive.read("model_card.md").decode("utf-8", errors="replace") if "model_card.md" in names else ""
    return Bundle(Predictor.from_meta(pipeline, meta), meta, card)
