"""Serve this bundle over HTTP: python serve.py --host 127.0.0.1 --port 8000

POST /predict takes {"rows": [{column: value, ...}, ...]} (see sample_request.json) with the header
X-API-Key, and answers one prediction per row, with class probabilities for classification. A row with a
wrong type or an unknown column gets a 422 answer that names the row and the field; a wrong or missing key, 401.
The key is read from the environment variable WORKBENCH_API_KEY, or from the file named by
WORKBENCH_API_KEY_FILE (or --key-file), read again when it changes, so a key is rotated without a restart.
Every request to /predict is logged, with its rows, predictions, latency and the model's version, to the SQLite
file named by WORKBENCH_REQUEST_LOG (or --log; default requests.sqlite3 beside this file).
GET /health says whether the model is loaded (no key needed: for health checks); GET /metrics gives request
counts and latency histograms in the Prometheus text format; GET /monitor (with the key; ?last=N rows, default
5,000) compares what it served with the training data's profile (profile.json), column by column; the OpenAPI
schema is at /openapi.json and the interactive page at /docs.
"""

import argparse
import json
import os
import secrets
import sqlite3
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the bundled workbench package

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from fastapi import Depends, FastAPI, Header, HTTPException, Request, Response  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.exception_handlers import request_validation_exception_handler  # noqa: E402
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest  # noqa: E402
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model  # noqa: E402

from workbench.deploy.drift import drift_report  # noqa: E402
from workbench.deploy.modelfile import load_pipeline  # noqa: E402
from workbench.deploy.predict import Predictor, added_columns, prepare  # noqa: E402

META = json.loads((HERE / "schema.json").read_text(encoding="utf-8"))
SCHEMA = META["schema"]
PREDICTOR = Predictor.from_meta(load_pipeline((HERE / "model.skops").read_bytes()), META)
PROFILE = (json.loads((HERE / "profile.json").read_text(encoding="utf-8")) if (HERE / "profile.json").is_file()
           else None)  # the training data's reference profile (bundles of model versions)
VERSION = str(META.get("version", ""))  # the model version it was built from ("" for an experiment's bundle)


def _as_text(value):
    """A JSON true, 3 or 2.0 sent for a text column, written as the uploaded file wrote it ("True", "3", "2")."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


Text = Annotated[str, BeforeValidator(_as_text)]
TYPES = {"number": float, "boolean": bool, "datetime": Text, "category": Text}
MAX_ROWS = 10_000
KEY_ENV, KEY_FILE_ENV, LOG_ENV = "WORKBENCH_API_KEY", "WORKBENCH_API_KEY_FILE", "WORKBENCH_REQUEST_LOG"

# One optional field per training column; a column name need not be a Python name, so fields are aliased.
Row = create_model(
    "Row", __config__=ConfigDict(extra="forbid", populate_by_name=False),
    **{f"field_{i}": (Optional[TYPES.get(info["kind"], str)],
                      Field(None, alias=name, examples=[info.get("default")]))
       for i, (name, info) in enumerate(SCHEMA.items())},
)


class PredictRequest(BaseModel):
    rows: list[Row] = Field(min_length=1, max_length=MAX_ROWS)  # type: ignore[valid-type]


class Prediction(BaseModel):
    prediction: object
    probabilities: Optional[dict[str, float]] = None


class PredictResponse(BaseModel):
    predictions: list[Prediction]
    warnings: list[str] = []
    version: str = ""


class ApiKey:
    """The key requests must carry: from the environment, or from a file read again whenever it changes."""

    def __init__(self, key: str = "", key_file: str = "") -> None:
        self.key, self.file = key, Path(key_file) if key_file else None
        self._seen: tuple[float, str] | None = None

    def current(self) -> str:
        if self.file is None:
            return self.key
        try:
            stamp = self.file.stat().st_mtime
            if self._seen is None or self._seen[0] != stamp:
                self._seen = (stamp, self.file.read_text(encoding="utf-8").strip())
        except OSError:  # the file went away: no key works until it is back
            return ""
        return self._seen[1]

    def matches(self, given: Optional[str]) -> bool:
        key = self.current()
        return bool(key) and given is not None and secrets.compare_digest(given.encode(), key.encode())


class RequestLog:
    """Every request to /predict, kept in a SQLite file: when, status, rows, latency, inputs and outputs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS requests (id INTEGER PRIMARY KEY, at TEXT NOT NULL, "
                         "version TEXT NOT NULL, status INTEGER NOT NULL, rows INTEGER NOT NULL, "
                         "latency_ms REAL NOT NULL, inputs TEXT, outputs TEXT, error TEXT)")

    def write(self, status: int, rows: int, latency_ms: float, inputs: Optional[list], outputs: Optional[list],
              error: Optional[str]) -> None:
        with self._lock:
            self._db.execute("INSERT INTO requests (at, version, status, rows, latency_ms, inputs, outputs, error) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (datetime.now(timezone.utc).isoformat(timespec="milliseconds"), VERSION, status, rows,
                              latency_ms, None if inputs is None else json.dumps(inputs, ensure_ascii=False,
                                                                                    default=str),
                              None if outputs is None else json.dumps(outputs, ensure_ascii=False, default=str),
                              error))


    def served(self, last: int) -> tuple[list, list]:
        """The rows and predictions of the newest successful requests, up to `last` rows, oldest first."""
        rows: list = []
        predicted: list = []
        with self._lock:
            found = self._db.execute("SELECT inputs, outputs FROM requests WHERE status = 200 ORDER BY id DESC")
            for inputs, outputs in found:
                given, answers = json.loads(inputs or "[]"), json.loads(outputs or "[]")
                rows[:0], predicted[:0] = given, [a.get("prediction") for a in answers]
                if len(rows) >= last:
                    break
        return rows[-last:], predicted[-last:]


REGISTRY = CollectorRegistry()
REQUESTS = Counter("workbench_requests", "HTTP requests by path and status", ["path", "status"],
                   registry=REGISTRY)
LATENCY = Histogram("workbench_request_seconds", "Time to answer a request, by path", ["path"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
PREDICTED = Counter("workbench_predicted_rows", "Rows predicted", registry=REGISTRY)

KEY = ApiKey(os.environ.get(KEY_ENV, ""), os.environ.get(KEY_FILE_ENV, ""))
LOG: Optional[RequestLog] = None  # opened by main() (or by whoever serves `app`: see open_log)

app = FastAPI(title=f"Predict {META['target']}", version=META.get("bundle_version", "1"),
              description=f"{META['model']} ({META['task']}), trained by the workbench.")


def open_log(path: Optional[str] = None) -> RequestLog:
    global LOG
    LOG = RequestLog(Path(path or os.environ.get(LOG_ENV) or HERE / "requests.sqlite3"))
    return LOG


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


@app.middleware("http")
async def measure(request: Request, call_next):
    began = time.perf_counter()
    response = await call_next(request)
    elapsed = time.perf_counter() - began
    path = request.url.path if request.url.path in ("/predict", "/health", "/metrics", "/monitor") else "other"
    REQUESTS.labels(path, str(response.status_code)).inc()
    LATENCY.labels(path).observe(elapsed)
    if path == "/predict" and LOG is not None:
        state = request.state
        LOG.write(response.status_code, getattr(state, "rows", 0), elapsed * 1000, getattr(state, "inputs", None),
                  getattr(state, "outputs", None), getattr(state, "error", None))
    return response


@app.exception_handler(RequestValidationError)
async def invalid(request: Request, exc: RequestValidationError):
    request.state.error = json.dumps([{"where": [str(p) for p in e.get("loc", ())], "problem": e.get("msg")}
                                      for e in exc.errors()][:20], ensure_ascii=False)
    return await request_validation_exception_handler(request, exc)


def require_key(request: Request, x_api_key: Optional[str] = Header(None)) -> None:
    """Checked before the rows are read: a request without the key learns nothing about the model."""
    if not KEY.matches(x_api_key):
        request.state.error = "missing or wrong API key"
        raise HTTPException(status_code=401, detail="A valid X-API-Key header is required.")


@app.get("/health")
def health() -> dict:
    return {"status": "ok", "model": META["model"], "task": META["task"], "target": META["target"],
            "version": VERSION}


@app.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


@app.get("/monitor", dependencies=[Depends(require_key)])
def monitor(last: int = 5000) -> dict:
    """Drift of the last `last` rows served (successful requests) against the training data, per column and of
    the prediction, with p-values corrected for the number of columns."""
    if PROFILE is None:
        raise HTTPException(status_code=404, detail="This bundle has no profile.json (only model versions do).")
    if LOG is None:
        raise HTTPException(status_code=503, detail="No request log is open.")
    rows, predicted = LOG.served(max(1, min(int(last), 100_000)))
    if not rows:
        return {"rows": 0, "alarm": False, "columns": [], "message": "Nothing served yet."}
    frame, _ = prepare(pd.DataFrame(rows), {c: SCHEMA[c] for c in SCHEMA})
    keep = [c for c in SCHEMA if SCHEMA[c].get("kind") != "datetime"]
    spec = PROFILE.get("prediction")
    prediction = None
    if spec is not None:
        values = pd.Series(predicted)
        prediction = (spec, values if META["task"] == "regression" else values.map(str))
    return drift_report(PROFILE, frame[keep], prediction=prediction).to_dict()


@app.post("/predict", response_model=PredictResponse, dependencies=[Depends(require_key)])
def predict(body: PredictRequest, request: Request) -> PredictResponse:
    frame = pd.DataFrame([row.model_dump(by_alias=True) for row in body.rows], columns=list(SCHEMA))
    out, report = PREDICTOR.predict(frame, lang="en")  # an API's names stay fixed, whatever the bundle's language
    answer, probability_columns = added_columns(out, frame)
    classes = [str(_plain(c)) for c in getattr(PREDICTOR.pipeline, "classes_", [])] if probability_columns else []
    predictions = [Prediction(prediction=_plain(record[answer]),
                              probabilities={c: float(record[p]) for c, p in zip(classes, probability_columns)}
                              or None)
                   for record in out.to_dict("records")]
    warnings = [f"{name!r} has values never seen in training: {', '.join(levels)}"
                for name, levels in report.unseen.items()]
    PREDICTED.inc(len(predictions))
    request.state.rows = len(predictions)
    request.state.inputs = frame.astype(object).where(frame.notna(), None).to_dict("records")
    request.state.outputs = [p.model_dump() for p in predictions]
    return PredictResponse(predictions=predictions, warnings=warnings, version=VERSION)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Serve this model bundle over HTTP.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--key-file", help=f"a file holding the API key (else ${KEY_ENV} or ${KEY_FILE_ENV})")
    parser.add_argument("--log", help=f"the SQLite request log (else ${LOG_ENV}, else requests.sqlite3 here)")
    args = parser.parse_args()
    if args.key_file:
        KEY.file = Path(args.key_file)
    if not KEY.current():
        sys.exit(f"No API key: set {KEY_ENV}, or name a file holding it with {KEY_FILE_ENV} or --key-file "
                 "(see README.md).")
    open_log(args.log)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
