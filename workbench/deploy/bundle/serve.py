"""Serve this bundle over HTTP: python serve.py --host 127.0.0.1 --port 8000

POST /predict takes {"rows": [{column: value, ...}, ...]} (see sample_request.json)
and answers one prediction per row, with class probabilities for classification.
A row with a wrong type or an unknown column gets a 422 answer that names the
row and the field. GET /health says whether the model is loaded; the OpenAPI
schema is at /openapi.json and the interactive page at /docs.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the bundled workbench package

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field, create_model  # noqa: E402

from workbench.deploy.modelfile import load_pipeline  # noqa: E402
from workbench.deploy.predict import Predictor, added_columns  # noqa: E402

META = json.loads((HERE / "schema.json").read_text(encoding="utf-8"))
SCHEMA = META["schema"]
PREDICTOR = Predictor.from_meta(load_pipeline((HERE / "model.skops").read_bytes()), META)
TYPES = {"number": float, "boolean": bool, "datetime": str, "category": str}
MAX_ROWS = 10_000

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


app = FastAPI(title=f"Predict {META['target']}", version=META.get("bundle_version", "1"),
              description=f"{META['model']} ({META['task']}), trained by the workbench.")


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


@app.get("/health")
def health() -> dict:
    return {"status": "ok", "model": META["model"], "task": META["task"], "target": META["target"]}


@app.post("/predict", response_model=PredictResponse)
def predict(request: PredictRequest) -> PredictResponse:
    frame = pd.DataFrame([row.model_dump(by_alias=True) for row in request.rows], columns=list(SCHEMA))
    out, report = PREDICTOR.predict(frame, lang="en")  # an API's names stay fixed, whatever the bundle's language
    answer, probability_columns = added_columns(out, frame)
    classes = [str(_plain(c)) for c in getattr(PREDICTOR.pipeline, "classes_", [])] if probability_columns else []
    predictions = [Prediction(prediction=_plain(record[answer]),
                              probabilities={c: float(record[p]) for c, p in zip(classes, probability_columns)}
                              or None)
                   for record in out.to_dict("records")]
    warnings = [f"{name!r} has values never seen in training: {', '.join(levels)}"
                for name, levels in report.unseen.items()]
    return PredictResponse(predictions=predictions, warnings=warnings)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Serve this model bundle over HTTP.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
