"""What every Keras model in the workbench shares: a lazy import, the device, progress per epoch, cancel, and
saving the network in Keras' own format.

A fitted network is kept as the bytes of a `.keras` file in the estimator's state, so a pipeline holding one is
saved by skops like any other (and loaded with Keras' safe mode: no code in the file is run).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import tempfile
import time
from abc import ABCMeta, abstractmethod
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from sklearn.base import BaseEstimator

_KERAS: Any = None


def keras() -> Any:
    """The keras module (TensorFlow backend), imported on first use with TensorFlow's start-up chatter off."""
    global _KERAS
    if _KERAS is None:
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import keras as k

        _KERAS = k
    return _KERAS


def gpus() -> list[str]:
    """Names of the GPUs TensorFlow can use (empty on a CPU-only machine: training then runs on the CPU)."""
    keras()
    import tensorflow as tf

    return [d.name for d in tf.config.list_physical_devices("GPU")]


# ---------------------------------------------------------------- progress per epoch, and cancel

Listener = Callable[[dict[str, Any]], None]
_LISTENER: contextvars.ContextVar[Listener | None] = contextvars.ContextVar("workbench_epoch_listener", default=None)


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """While inside, every network fitted in this thread calls `listener` with {"epoch", "epochs", "loss",
    "val_loss"} after each epoch and with {"tick": True} every few batches; the listener stops training by raising."""
    token = _LISTENER.set(listener)
    try:
        yield
    finally:
        _LISTENER.reset(token)


def _relay(epochs: int) -> Any:
    """A Keras callback that passes epochs (and batch ticks, at most one a second) to the current listener."""
    listener = _LISTENER.get()
    if listener is None:
        return None
    k = keras()

    class Relay(k.callbacks.Callback):
        last = 0.0

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            if time.monotonic() - self.last > 1.0:
                self.last = time.monotonic()
                listener({"tick": True})

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            listener({"epoch": epoch + 1, "epochs": epochs, "loss": float(logs.get("loss", np.nan)),
                      "val_loss": float(logs["val_loss"]) if "val_loss" in logs else None})

    return Relay()


# ---------------------------------------------------------------- a scikit-learn estimator around a Keras network


def final_estimator(pipeline: Any) -> Any:
    """The estimator at the very end of a pipeline (inside a text model's own pipeline too)."""
    model = pipeline
    while hasattr(model, "steps"):
        model = model.steps[-1][1]
    return model


def to_bytes(model: Any) -> bytes:
    """A Keras model as the bytes of its `.keras` file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def from_bytes(data: bytes) -> Any:
    """A Keras model from `.keras` bytes, in safe mode (a file with code in it is refused)."""
    k = keras()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(data)
        return k.saving.load_model(path, compile=False, safe_mode=True)


class KerasEstimator(BaseEstimator, metaclass=ABCMeta):
    """Shared by the workbench's networks: subclasses build the network (`_network`) and turn inputs into arrays
    (`_inputs`); this class trains it with a validation split, early stopping on validation loss (the best
    epoch's weights restored), progress per epoch, and keeps it picklable and skops-safe as `.keras` bytes.

    Fitted attributes: network_ (the Keras model), history_ ({"loss": [...], "val_loss": [...]}), best_epoch_.
    """

    _classifier = True

    @abstractmethod
    def _network(self, inputs: Any, n_outputs: int) -> Any:
        """The unfitted Keras model for `inputs` (as _inputs() made them) and `n_outputs` outputs."""

    @abstractmethod
    def _inputs(self, X: Any, fitting: bool = False) -> Any:
        """X as the network's input arrays; `fitting` is true while training (e.g. to learn a vocabulary)."""

    def _fit_network(self, X: Any, y: Any) -> Any:
        from sklearn.model_selection import train_test_split

        k = keras()
        k.utils.set_random_seed(self.seed)
        y = np.asarray(y)
        if self._classifier:
            self.classes_, target = np.unique(y, return_inverse=True)
            n_out, loss = len(self.classes_), "sparse_categorical_crossentropy"
        else:
            target = y.astype("float64")
            self.y_mean_, self.y_scale_ = float(target.mean()), float(target.std() or 1.0)
            target, n_out, loss = ((target - self.y_mean_) / self.y_scale_).astype("float32"), 1, "mse"
        inputs = self._inputs(X, fitting=True)
        rows = len(target)
        validate = self.validation > 0 and rows >= 20
        if validate:
            counts = np.unique(target, return_counts=True)[1] if self._classifier else None
            stratify = target if counts is not None and counts.min() >= 2 else None
            index = np.arange(rows)
            fit_rows, val_rows = train_test_split(index, test_size=self.validation, random_state=self.seed,
                                                  stratify=stratify)
        else:
            fit_rows, val_rows = np.arange(rows), None
        network = self._network(inputs, n_out)
        network.compile(optimizer=k.optimizers.Adam(learning_rate=self.learning_rate), loss=loss)
        epochs, patience, warmup = self._schedule(len(fit_rows))
        self.schedule_ = {"epochs": epochs, "patience": patience, "warmup": warmup}
        callbacks = [cb for cb in [_relay(epochs)] if cb is not None]
        if validate:
            callbacks.append(k.callbacks.EarlyStopping(monitor="val_loss", patience=max(1, patience),
                                                       start_from_epoch=warmup, restore_best_weights=True))
        history = network.fit(
            _take(inputs, fit_rows), target[fit_rows], epochs=epochs, batch_size=self.batch_size,
            validation_data=(_take(inputs, val_rows), target[val_rows]) if validate else None,
            callbacks=callbacks, verbose=0, shuffle=True)
        self.network_ = network
        self.history_ = {"loss": [float(v) for v in history.history.get("loss", [])],
                         "val_loss": [float(v) for v in history.history.get("val_loss", [])]}
        losses = self.history_["val_loss"] or self.history_["loss"]
        self.best_epoch_ = int(np.argmin(losses)) + 1 if losses else 0
        return self

    def _schedule(self, rows: int) -> tuple[int, int, int]:
        """(most epochs, early-stopping patience, epochs before early stopping may act) for `rows` fitting rows."""
        return self.epochs, self.patience, 0

    def _outputs(self, X: Any) -> np.ndarray:
        inputs = self._inputs(X)
        rows = len(inputs[0]) if isinstance(inputs, (list, tuple)) else len(inputs)
        k = keras()
        parts = [k.ops.convert_to_numpy(self.network_(_take(inputs, slice(i, i + 4096)), training=False))
                 for i in range(0, rows, 4096)]
        return np.concatenate(parts) if parts else np.zeros((0, len(getattr(self, "classes_", [0]))))

    def predict(self, X: Any) -> np.ndarray:
        """Classes (classifiers) or values (regressors)."""
        out = self._outputs(X)
        if self._classifier:
            return self.classes_[np.argmax(out, axis=1)]
        return out[:, 0].astype("float64") * self.y_scale_ + self.y_mean_

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if "network_" in state:
            state["network_"] = to_bytes(state["network_"])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("network_"), bytes):
            state = {**state, "network_": from_bytes(state["network_"])}
        self.__dict__.update(state)


class Probabilities:
    """predict_proba for the classifiers (regressors must not have one: scikit-learn tells them apart by it)."""

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, one column per class in classes_ order."""
        proba = self._outputs(X).astype("float64")
        return proba / proba.sum(axis=1, keepdims=True)  # float32 softmax sums to 1 only within 1e-7


def _take(inputs: Any, rows: Any) -> Any:
    if isinstance(inputs, (list, tuple)):
        return [part[rows] for part in inputs]
    return inputs[rows]
