"""A dense neural network for tables, as scikit-learn estimators (it sits after the recipe and the preparation
in the same Pipeline as any catalogue model: numbers imputed and standardised, categories one-hot encoded)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin

from workbench.deep.runtime import KerasEstimator, Probabilities, keras


class _Dense(KerasEstimator):
    def __init__(self, layers: int = 2, units: int = 128, dropout: float = 0.1, learning_rate: float = 1e-3,
                 batch_size: int = 256, epochs: int = 100, patience: int = 8, validation: float = 0.1,
                 seed: int = 0) -> None:
        self.layers = layers
        self.units = units
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.patience = patience
        self.validation = validation
        self.seed = seed

    def fit(self, X: Any, y: Any) -> _Dense:
        """Train on the prepared feature matrix; stops when validation loss has not improved for `patience`
        epochs and keeps the best epoch's weights."""
        self.n_features_in_ = np.asarray(X).shape[1]
        return self._fit_network(X, y)

    def _inputs(self, X: Any, fitting: bool = False) -> np.ndarray:
        values = np.asarray(X, dtype="float32")
        return np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)

    def _network(self, inputs: np.ndarray, n_outputs: int) -> Any:
        k = keras()
        layers = [k.Input(shape=(inputs.shape[1],))]
        for i in range(self.layers):
            layers.append(k.layers.Dense(max(4, self.units // (2 ** i)), activation="relu"))
            if self.dropout > 0:
                layers.append(k.layers.Dropout(self.dropout, seed=self.seed + i))
        layers.append(k.layers.Dense(n_outputs, activation="softmax" if self._classifier else None))
        return k.Sequential(layers)


class NetworkClassifier(Probabilities, ClassifierMixin, _Dense):
    """Dense network with a softmax output over the classes."""

    _classifier = True


class NetworkRegressor(RegressorMixin, _Dense):
    """Dense network with one output, trained on the standardised target."""

    _classifier = False
