"""ONNX export of a fitted pipeline's preparation and model, with a parity check against scikit-learn.

The recipe's steps and ModelReady are our own Python transformers, which ONNX
cannot express; they run first (in the bundle's workbench package) and the ONNX
graph takes their output: one input per model-ready column (float32 numbers,
strings for categories, "" for a missing category). With an empty recipe and no
date or yes/no columns, those are the raw columns as uploaded.

Where skl2onnx cannot convert a part, or the converted graph's predictions
differ from scikit-learn's by more than TOLERANCE, no ONNX file is written and
the reason is kept, in the user's language, for the bundle and the model card.
"""

from __future__ import annotations

import copy
import functools
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline

from workbench.i18n import Note
from workbench.tasks import REGRESSION

TOLERANCE = 1e-5  # probabilities: absolute; regression: relative to the size of the prediction
OPSET = 18
ML_OPSET = 3  # the ai.onnx.ml version skl2onnx 1.20 writes (LightGBM's converter would ask for 5 otherwise)


@dataclass
class OnnxResult:
    """The ONNX model (None when it was not written), the largest difference seen, and why."""

    model: bytes | None
    max_difference: float | None
    note: Note
    inputs: list[str]

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        """JSON-ready, with the reason in words."""
        return {"converted": self.model is not None, "max_difference": self.max_difference,
                "tolerance": TOLERANCE, "inputs": self.inputs, "reason": self.note.text(lang)}


def _ready_split(pipeline: Pipeline) -> tuple[Pipeline, Pipeline]:
    """(our Python steps, the convertible tail): everything before 'prepare', and 'prepare' + 'model'."""
    names = [name for name, _ in pipeline.steps]
    cut = names.index("prepare")
    return pipeline[:cut], pipeline[cut:]


def _onnx_tail(tail: Pipeline) -> Pipeline:
    """A copy whose category imputers look for "" (how a missing category is fed to ONNX) instead of NaN."""
    tail = copy.deepcopy(tail)
    for _, transformer, columns in tail[0].transformers_:
        if len(columns) == 0:  # e.g. no category columns in an all-numeric table: nothing was fitted there
            continue
        for step in getattr(transformer, "steps", []):
            if isinstance(step[1], SimpleImputer) and step[1].statistics_.dtype == object:
                step[1].missing_values = ""
    return tail


def onnx_feed(ready: pd.DataFrame) -> dict[str, np.ndarray]:
    """The ONNX inputs for model-ready rows: one (n, 1) array per column."""
    feed = {}
    for name in ready.columns:
        col = ready[name]
        if pd.api.types.is_numeric_dtype(col):
            feed[name] = col.to_numpy(dtype=np.float32, na_value=np.nan).reshape(-1, 1)
        else:
            feed[name] = np.array([("" if pd.isna(v) else str(v)) for v in col], dtype=object).reshape(-1, 1)
    return feed


@functools.cache
def _register_lightgbm() -> None:
    """Teach skl2onnx LightGBM's models, with onnxmltools' converter (skl2onnx's documented way); without
    lightgbm or onnxmltools installed, LightGBM models simply do not convert."""
    try:
        from lightgbm import LGBMClassifier, LGBMRegressor
        from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    except ImportError:
        return
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    update_registered_converter(LGBMClassifier, "LightGbmLGBMClassifier", calculate_linear_classifier_output_shapes,
                                convert_lightgbm, options={"nocl": [True, False], "zipmap": [True, False, "columns"]})
    update_registered_converter(LGBMRegressor, "LightGbmLGBMRegressor", calculate_linear_regressor_output_shapes,
                                convert_lightgbm)


def convert(pipeline: Pipeline, sample: pd.DataFrame, task: str, model_name: str = "") -> OnnxResult:
    """Convert and check on `sample` (raw feature rows, e.g. a few hundred training rows). `model_name` (in the
    user's language) names the model in the reason when it is the model that does not convert."""
    from skl2onnx import convert_sklearn

    if type(pipeline.steps[-1][1]).__module__.startswith("lightgbm."):
        _register_lightgbm()

    head, tail = _ready_split(pipeline)
    ready = head.transform(sample)
    names = list(ready.columns)
    convertible = _onnx_tail(tail)
    options = None if task == REGRESSION else {id(convertible.steps[-1][1]): {"zipmap": False}}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = convert_sklearn(convertible, initial_types=_input_types(ready), options=options,
                                   target_opset={"": OPSET, "ai.onnx.ml": ML_OPSET}).SerializeToString()
            difference = parity(data, tail, ready, task)
    except Exception as exc:  # skl2onnx and onnxruntime raise many kinds for what they cannot express
        return OnnxResult(None, None, _why_not(convertible, ready, model_name, exc), names)
    if not np.isfinite(difference) or difference > TOLERANCE:
        return OnnxResult(None, float(difference), Note("onnx.parity_failed", {"difference": f"{difference:.2g}"}),
                          names)
    return OnnxResult(data, float(difference), Note("onnx.ok", {"difference": f"{difference:.1g}"}), names)


def _input_types(ready: pd.DataFrame) -> list[tuple[str, Any]]:
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    return [(name, FloatTensorType([None, 1]) if pd.api.types.is_numeric_dtype(ready[name])
             else StringTensorType([None, 1])) for name in ready.columns]


def _why_not(convertible: Pipeline, ready: pd.DataFrame, model_name: str, exc: Exception) -> Note:
    """Which part does not convert, in words: pooled rare categories, the preparation, or the model. The
    converter's own message is kept as `detail` (for the technical reader), never shown as the reason."""
    from skl2onnx import convert_sklearn

    detail = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
    prepare = convertible[0]
    pooled = [column for _, transformer, columns in prepare.transformers_ if len(columns)
              for step in getattr(transformer, "steps", [])
              if getattr(step[1], "infrequent_categories_", None) is not None
              for column, rare in zip(columns, step[1].infrequent_categories_) if rare is not None]
    if pooled:
        return Note("onnx.rare_levels", {"columns": ", ".join(map(str, pooled[:5])), "detail": detail})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            convert_sklearn(prepare, initial_types=_input_types(ready), target_opset=OPSET)
    except Exception:  # the preparation itself does not convert
        return Note("onnx.unsupported_preparation", {"detail": detail})
    return Note("onnx.unsupported_model", {"model": model_name or type(convertible[-1]).__name__, "detail": detail})


def run(data: bytes, ready: pd.DataFrame) -> list[np.ndarray]:
    """Run an ONNX model on model-ready rows with onnxruntime. The graph's inputs are in the order of the
    model-ready columns; the converter may rename them (a '/' or '.' in a column name becomes '_')."""
    import onnxruntime as rt

    session = rt.InferenceSession(data, providers=["CPUExecutionProvider"])
    feed = onnx_feed(ready)
    return session.run(None, {graph.name: feed[name] for graph, name in zip(session.get_inputs(), ready.columns)})


def parity(data: bytes, tail: Pipeline, ready: pd.DataFrame, task: str) -> float:
    """Largest difference between ONNX and scikit-learn: probabilities (absolute) or predictions (relative)."""
    outputs = run(data, ready)
    if task == REGRESSION:
        expected = np.asarray(tail.predict(ready), dtype=float)
        got = np.asarray(outputs[0], dtype=float).ravel()
        return float(np.max(np.abs(got - expected) / np.maximum(1.0, np.abs(expected))))
    return float(np.max(np.abs(np.asarray(outputs[1], dtype=float) - tail.predict_proba(ready))))
