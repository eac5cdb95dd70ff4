"""Image classification: pictures from a zip of one folder per class (or the digits scikit-learn ships),
resized to one size, a small convolutional network with optional augmentation, and what it got wrong.

The zip is read in memory, never extracted: entry names that climb out of a folder, too many entries, and
entries that inflate far beyond their compressed size are refused before any picture is decoded.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin

from workbench.deep.imagefile import NotAnImage, is_gray, open_image, to_array
from workbench.deep.runtime import KerasEstimator, Probabilities, keras
from workbench.errors import UserError
from workbench.i18n import Note

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MAX_ENTRIES = 20_000  # files in one zip
MAX_TOTAL_BYTES = 1_000_000_000  # all pictures together, unpacked
MAX_FILE_BYTES = 30_000_000  # one picture, unpacked
MAX_RATIO = 100  # unpacked / packed size of one entry beyond which it is a decompression bomb
SIZES = (16, 28, 32, 48, 64, 96)
PRESETS = ("small", "medium")
MIN_PER_CLASS = 2
WARMUP_STEPS = 300  # optimizer steps before early stopping may end training
MAX_WARMUP_EPOCHS = 120
MIN_PATIENCE, MIN_EPOCHS = 6, 30


@dataclass
class ImageSet:
    """Pictures as uint8 arrays (n, size, size, channels) with their class names, and what was skipped."""

    images: np.ndarray
    labels: np.ndarray
    names: list[str]
    notes: list[Note] = field(default_factory=list)

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.labels.tolist()))

    @property
    def channels(self) -> int:
        return int(self.images.shape[-1])


def digits(size: int = 16) -> ImageSet:
    """scikit-learn's 1,797 handwritten digits (8 x 8 greys, 0-16), scaled up to `size`."""
    from PIL import Image
    from sklearn.datasets import load_digits

    data = load_digits()
    pixels = (data.images * (255 / 16)).round().astype("uint8")
    images = np.stack([np.asarray(Image.fromarray(p).resize((size, size), Image.Resampling.BILINEAR))
                       for p in pixels])[:, :, :, None]
    return ImageSet(images, data.target.astype(str), [f"digit_{i:04d}.png" for i in range(len(pixels))])


def _check_name(name: str) -> PurePosixPath | None:
    """The entry's path inside the zip, None for folders and system files; refuses paths that climb out."""
    normal = name.replace("\\", "/")
    path = PurePosixPath(normal)
    if normal.startswith("/") or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise UserError("images.unsafe_path", name=name[:120])
    if normal.endswith("/") or any(p.startswith(".") or p == "__MACOSX" for p in path.parts):
        return None
    return path


def _entries(archive: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise UserError("images.too_many_files", count=len(infos), limit=MAX_ENTRIES)
    entries = [(info, path) for info in infos if (path := _check_name(info.filename)) is not None]
    total = sum(info.file_size for info, _ in entries)
    if total > MAX_TOTAL_BYTES:
        raise UserError("images.bomb", name=f"{total / 1e9:.1f} GB")
    for info, _ in entries:
        if info.file_size > MAX_FILE_BYTES or (info.file_size > 1_000_000 and
                                               info.file_size > MAX_RATIO * max(1, info.compress_size)):
            raise UserError("images.bomb", name=info.filename[:120])
    return entries


def _class_of(paths: list[PurePosixPath]) -> list[str]:
    """Class folder of each picture: the folder it sits in, below one common top folder if every file has one."""
    parts = [p.parts for p in paths]
    if parts and all(len(p) >= 3 for p in parts) and len({p[0] for p in parts}) == 1:
        parts = [p[1:] for p in parts]  # "digits/0/a.png": the zip's own top folder
    for p in parts:
        if len(p) == 1:
            raise UserError("images.no_class_folder", name="/".join(p))
        if len(p) > 2:
            raise UserError("images.nested", name="/".join(p))
    return [p[0] for p in parts]


def _open(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise UserError("images.not_zip") from None


def _layout(archive: zipfile.ZipFile) -> tuple[list[tuple[zipfile.ZipInfo, PurePosixPath]], list[str], list[str]]:
    """The picture entries, their classes, and the other (skipped) files; raises UserError for a bad zip."""
    entries = _entries(archive)
    pictures = [(info, path) for info, path in entries if path.suffix.lower() in IMAGE_SUFFIXES]
    others = [str(path) for _, path in entries if path.suffix.lower() not in IMAGE_SUFFIXES]
    if not pictures:
        raise UserError("images.none", example=others[0] if others else "-")
    return pictures, _class_of([path for _, path in pictures]), others


def survey(data: bytes) -> dict[str, int]:
    """Pictures per class of an uploaded zip, from its entry names alone (quick: nothing is decoded)."""
    with _open(data) as archive:
        _, classes, _ = _layout(archive)
    counts = dict(sorted(Counter(classes).items()))
    _check_counts(counts)
    return counts


def read_zip(data: bytes, size: int = 32) -> ImageSet:
    """Pictures of a zip laid out as one folder per class (class/picture.png), resized to `size`. Non-pictures
    and unreadable pictures are skipped and counted in the notes; unsafe or malformed zips raise UserError."""
    with _open(data) as archive:
        pictures, classes, others = _layout(archive)
        decoded, labels, names, unreadable = [], [], [], []
        for (info, path), label in zip(pictures, classes):
            with archive.open(info) as handle:
                raw = handle.read(MAX_FILE_BYTES + 1)
            if len(raw) > MAX_FILE_BYTES:  # the entry lied about its size
                raise UserError("images.bomb", name=info.filename[:120])
            try:
                decoded.append(open_image(raw))
            except NotAnImage:
                unreadable.append(str(path))
                continue
            labels.append(label)
            names.append(str(path))
    notes = []
    if others:
        notes.append(Note("images.skipped_other", {"count": len(others), "example": others[0]}))
    if unreadable:
        notes.append(Note("images.skipped_unreadable", {"count": len(unreadable), "example": unreadable[0]}))
    if not decoded:
        raise UserError("images.none_readable", count=len(unreadable), example=unreadable[0])
    channels = 1 if all(is_gray(image) for image in decoded) else 3
    images = np.stack([to_array(image, size, channels) for image in decoded])
    _check_counts(Counter(labels))
    return ImageSet(images, np.asarray(labels, dtype=object), names, notes)


def _check_counts(counts: dict[str, int]) -> None:
    """At least two classes, each with enough pictures to hold some out for testing."""
    if len(counts) < 2:
        raise UserError("images.one_class", name=next(iter(counts)))
    small = [name for name, count in counts.items() if count < MIN_PER_CLASS]
    if small:
        raise UserError("images.class_too_small", name=small[0], minimum=MIN_PER_CLASS)


class ImageNetwork(Probabilities, ClassifierMixin, KerasEstimator):
    """A small convolutional network on uint8 pictures (n, size, size, channels): optional augmentation (flip,
    rotation, zoom; active only while training), scaling to 0-1, three convolution blocks (one convolution each
    for "small", two for "medium"; batch-normalised), each feature map averaged over the picture, and softmax
    over the classes. Everything lives inside the Keras model, so the
    saved network takes the same pixels as this estimator."""

    def __init__(self, preset: str = "small", flip: bool = False, rotation: float = 0.05, zoom: float = 0.1,
                 dropout: float = 0.3, learning_rate: float = 1e-3, batch_size: int = 64, epochs: int | None = None,
                 patience: int | None = None, validation: float = 0.1, seed: int = 0) -> None:
        self.preset = preset
        self.flip = flip
        self.rotation = rotation
        self.zoom = zoom
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.patience = patience
        self.validation = validation
        self.seed = seed

    def fit(self, X: np.ndarray, y: Any) -> ImageNetwork:
        """Train on pictures X with class names y."""
        return self._fit_network(X, y)

    def _inputs(self, X: Any, fitting: bool = False) -> np.ndarray:
        return np.asarray(X, dtype="float32")

    def _schedule(self, rows: int) -> tuple[int, int, int]:
        """Scaled to the set: a network first learns nothing for a while, and a small set gives few steps per
        epoch, so early stopping waits for WARMUP_STEPS optimizer steps and its patience grows with that wait.
        Epochs or patience chosen by hand are kept (the wait then takes at most half the epochs)."""
        steps = max(1, math.ceil(rows / self.batch_size))
        warmup = min(MAX_WARMUP_EPOCHS, math.ceil(WARMUP_STEPS / steps))
        patience = self.patience or max(MIN_PATIENCE, warmup // 4)
        if self.epochs:
            return self.epochs, patience, min(warmup, self.epochs // 2)
        return max(MIN_EPOCHS, warmup + 2 * patience), patience, warmup

    def _network(self, inputs: np.ndarray, n_outputs: int) -> Any:
        k = keras()
        layers: list[Any] = [k.Input(shape=inputs.shape[1:])]
        if self.flip:
            layers.append(k.layers.RandomFlip("horizontal", seed=self.seed))
        if self.rotation > 0:
            layers.append(k.layers.RandomRotation(self.rotation, fill_mode="constant", seed=self.seed))
        if self.zoom > 0:
            layers.append(k.layers.RandomZoom(self.zoom, fill_mode="constant", seed=self.seed))
        layers.append(k.layers.Rescaling(1 / 255))
        for width in (32, 64, 128):
            for _ in range(1 if self.preset == "small" else 2):
                layers += [k.layers.Conv2D(width, 3, padding="same", use_bias=False),
                           k.layers.BatchNormalization(momentum=0.9), k.layers.Activation("relu")]
            layers.append(k.layers.MaxPooling2D(2, padding="same"))
        # Batch statistics settle in tens of steps (momentum 0.9, not Keras' 0.99), so a short run predicts as
        # it trained. Averaging each feature map over the picture (not a dense layer over every position) keeps the
        # weights few: a small set cannot fit half a million of them without learning its pictures by heart.
        layers += [k.layers.GlobalAveragePooling2D(), k.layers.Dropout(self.dropout, seed=self.seed),
                   k.layers.Dense(n_outputs, activation="softmax")]
        return k.Sequential(layers)


def misclassified(images: np.ndarray, actual: np.ndarray, predicted: np.ndarray, proba: np.ndarray,
                  limit: int = 36) -> dict[str, Any]:
    """The test pictures the network got wrong, most confident mistakes first (arrays for a gallery)."""
    wrong = np.flatnonzero(actual != predicted)
    wrong = wrong[np.argsort(-proba[wrong].max(axis=1))][:limit]
    return {"images": images[wrong], "actual": actual[wrong].astype(str), "predicted": predicted[wrong].astype(str),
            "confidence": proba[wrong].max(axis=1)}
