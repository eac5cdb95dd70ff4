"""Fitted pipelines as skops files, loaded only when every type in them is on our own allow-list.

pickle and joblib run code on load, so they are never used for models. The
allow-list lives here, never in the file: a model file naming any other type is
refused with a clear message.
"""

from __future__ import annotations

import inspect
import zipfile
from typing import Any

import skops.io as sio

from workbench import transformers
from workbench.errors import UserError

# Types skops does not trust by default that our pipelines need; everything else it flags is refused.
TRUSTED: frozenset[str] = frozenset({
    "numpy.dtype",
    "sklearn.compose._column_transformer.make_column_selector",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",  # k-nearest neighbours keep a search tree
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.metrics._dist_metrics.ManhattanDistance64",  # pipelines an AutoML search found
    "sklearn.metrics._dist_metrics.MinkowskiDistance64",
    "sklearn.metrics._dist_metrics.ChebyshevDistance64",
    "sklearn.feature_selection._univariate_selection.f_classif",
    "sklearn.feature_selection._univariate_selection.f_regression",
    "sklearn.utils._bunch.Bunch",
    "collections.OrderedDict",  # LightGBM models keep their booster and its parameters
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",  # a voting ensemble keeps its fitted members in one
    "workbench.deep.tabular.NetworkClassifier",  # Keras networks, kept as `.keras` bytes (loaded in safe mode)
    "workbench.deep.tabular.NetworkRegressor",
    "workbench.deep.text.TextNetwork",
    "workbench.deep.images.ImageNetwork",
} | {f"workbench.transformers.{name}" for name, obj in vars(transformers).items()
     if inspect.isclass(obj) and obj.__module__ == transformers.__name__})


def dump_pipeline(pipeline: Any) -> bytes:
    """The fitted pipeline as skops bytes."""
    return sio.dumps(pipeline)


def load_pipeline(data: bytes) -> Any:
    """Load a pipeline saved by dump_pipeline(); raises UserError for a foreign or tampered file."""
    try:
        untrusted = set(sio.get_untrusted_types(data=data))
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError):
        raise UserError("model.not_skops") from None
    foreign = sorted(untrusted - TRUSTED)
    if foreign:
        raise UserError("model.untrusted", types=", ".join(foreign[:5]))
    try:
        return sio.loads(data, trusted=sorted(untrusted))
    except Exception as exc:  # a damaged file can fail in many ways inside skops
        raise UserError("model.not_skops") from exc
