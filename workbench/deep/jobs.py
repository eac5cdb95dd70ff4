"""The image-classification job and what is kept of it: the network (skops, `.keras` inside), the test pictures
it got wrong, and a result (metrics, confusion matrix, loss per epoch) with the job in the store.

Uploaded zips are kept in the project's folder first, so a rerun after a restart finds them again.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
from sklearn.metrics import balanced_accuracy_score, confusion_matrix
from sklearn.model_selection import train_test_split

from workbench import jobs
from workbench.deep import images as im
from workbench.deep.imagefile import NotAnImage, open_image, to_array
from workbench.deep.runtime import gpus, listening
from workbench.deploy.modelfile import dump_pipeline, load_pipeline
from workbench.errors import UserError
from workbench.jobs import JobContext
from workbench.store import Store
from workbench.store.base import atomic_write, safe_filename

DIGITS = "digits"  # the built-in source: scikit-learn's handwritten digits


@dataclass(frozen=True)
class ImageSettings:
    """An image-classification run's choices: the pictures (DIGITS or a kept upload), their size, the network."""

    source: str = DIGITS
    size: int = 16
    preset: str = "small"
    flip: bool = False
    rotation: float = 0.05
    zoom: float = 0.1
    epochs: int | None = None  # None: scaled to the number of pictures (ImageNetwork._schedule)
    test_size: float = 0.2
    seed: int = 42

    def network(self) -> im.ImageNetwork:
        """The unfitted network these settings describe."""
        return im.ImageNetwork(preset=self.preset, flip=self.flip, rotation=self.rotation, zoom=self.zoom,
                               epochs=self.epochs, seed=self.seed)

    def held_out(self, found: im.ImageSet) -> list[np.ndarray]:
        """X_train, X_test, y_train, y_test: a stratified test share of the pictures."""
        return train_test_split(found.images, found.labels, test_size=self.test_size, random_state=self.seed,
                                stratify=found.labels)


def _folder(store: Store, project_id: str, *parts: str) -> Path:
    folder = store.project_dir(project_id).joinpath("images", *parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def keep_upload(store: Store, project_id: str, filename: str, data: bytes) -> str:
    """Check an uploaded zip's layout (names only) and keep it in the project; returns its source name."""
    im.survey(data)
    name = safe_filename(filename)
    name = name if name.lower().endswith(".zip") else f"{name}.zip"
    atomic_write(_folder(store, project_id, "uploads") / name, data)
    return name


def uploads(store: Store, project_id: str) -> list[str]:
    """The zips kept in the project, newest first."""
    folder = _folder(store, project_id, "uploads")
    return [p.name for p in sorted(folder.glob("*.zip"), key=lambda p: p.stat().st_mtime, reverse=True)]


def upload_bytes(store: Store, project_id: str, name: str) -> bytes:
    """A kept zip's bytes."""
    path = _folder(store, project_id, "uploads") / safe_filename(name)
    if not path.exists():
        raise UserError("images.upload_missing", name=name)
    return path.read_bytes()


def load_images(store: Store, project_id: str, settings: ImageSettings) -> im.ImageSet:
    """The pictures a run trains on."""
    if settings.source == DIGITS:
        return im.digits(settings.size)
    return im.read_zip(upload_bytes(store, project_id, settings.source), settings.size)


def image_job(store: Store, project_id: str, settings: dict[str, Any]) -> Callable:
    """Job work: read the pictures, hold out a stratified test share, train the network (loss per epoch shown
    live), score it on the held-out pictures and keep the network and its mistakes."""

    def work(ctx: JobContext) -> dict:
        chosen = ImageSettings(**settings)
        start = time.perf_counter()
        ctx.report(0.01, "images.progress.read")
        found = load_images(store, project_id, chosen)
        X_train, X_test, y_train, y_test = chosen.held_out(found)
        network = chosen.network()
        ctx.report(0.02, "images.progress.train", count=len(X_train))
        with listening(jobs.epoch_reporter(ctx, 0.02, 0.95)):
            network.fit(X_train, y_train)
        proba = network.predict_proba(X_test)
        predicted = network.classes_[np.argmax(proba, axis=1)]
        classes = [str(c) for c in network.classes_]
        folder = _folder(store, project_id, ctx.job_id)
        atomic_write(folder / "model.skops", dump_pipeline(network))
        wrong = im.misclassified(X_test, np.asarray(y_test), predicted, proba)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **wrong)
        atomic_write(folder / "mistakes.npz", buffer.getvalue())
        return {"job": ctx.job_id, "settings": asdict(chosen), "classes": classes, "channels": found.channels,
                "n_train": len(X_train), "n_test": len(X_test),
                "accuracy": float(np.mean(predicted == y_test)),
                "balanced_accuracy": float(balanced_accuracy_score(y_test, predicted)),
                "confusion": confusion_matrix(y_test, predicted, labels=network.classes_).tolist(),
                "history": network.history_, "best_epoch": network.best_epoch_,
                "notes": [{"key": n.key, "params": n.params} for n in found.notes],
                "device": gpus() or ["CPU"], "seconds": time.perf_counter() - start}

    return work


JOB_KINDS: dict[str, Callable[..., Callable[[JobContext], Any]]] = {"images": image_job}


def latest(store: Store, project_id: str) -> tuple[str, dict] | None:
    """The newest finished image run: its job id and result."""
    result = jobs.latest_result(store, project_id, "images")
    return (result["job"], result) if result else None


def network_of(store: Store, project_id: str, job_id: str) -> im.ImageNetwork:
    """The fitted network of a finished image run."""
    return load_pipeline((_folder(store, project_id, job_id) / "model.skops").read_bytes())


def mistakes_of(store: Store, project_id: str, job_id: str) -> dict[str, np.ndarray]:
    """The held-out pictures a run got wrong (images, actual, predicted, confidence)."""
    with np.load(_folder(store, project_id, job_id) / "mistakes.npz", allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def predict_image(network: im.ImageNetwork, data: bytes, size: int, channels: int) -> dict[str, float]:
    """Class probabilities for one uploaded picture (read as the training pictures were); raises UserError."""
    try:
        pixels = to_array(open_image(data), size, channels)
    except NotAnImage:
        raise UserError("images.not_an_image") from None
    proba = network.predict_proba(pixels[None])[0]
    return {str(c): float(p) for c, p in zip(network.classes_, proba)}


BUNDLE_SCRIPT = Path(__file__).resolve().parent.parent / "deploy" / "bundle" / "predict_images.py"


def build_image_bundle(network: im.ImageNetwork, result: dict[str, Any], lang: str) -> bytes:
    """A zip that classifies a folder of pictures without the app: model.keras (Keras' own format), labels.json
    (classes, size, channels), predict_images.py and imagefile.py, requirements.txt, model_card.md."""
    from importlib.metadata import version

    from workbench.deep.runtime import to_bytes
    from workbench.deploy.modelcard import image_card

    labels = {"classes": result["classes"], "size": result["settings"]["size"], "channels": result["channels"]}
    requirements = "".join(f"{name}=={version(name)}\n" for name in ("tensorflow-cpu", "keras", "numpy", "pillow"))
    files = {"model.keras": to_bytes(network.network_), "labels.json": json.dumps(labels, ensure_ascii=False),
             "requirements.txt": requirements, "model_card.md": image_card(result, lang),
             "predict_images.py": BUNDLE_SCRIPT.read_bytes(),
             "imagefile.py": (Path(__file__).resolve().parent / "imagefile.py").read_bytes()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
