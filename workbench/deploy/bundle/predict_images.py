"""Classify every PNG/JPEG picture in a folder (and its sub-folders) with the bundled network.

    python predict_images.py FOLDER out.csv

Writes one row per picture: file, predicted class, and the probability of each class. Pictures that cannot be
read are listed with an empty prediction and the reason.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from imagefile import NotAnImage, open_image, to_array  # noqa: E402

HERE = Path(__file__).resolve().parent
SUFFIXES = {".png", ".jpg", ".jpeg"}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    folder, out = Path(argv[0]), Path(argv[1])
    if not folder.is_dir():
        print(f"error: {folder} is not a folder", file=sys.stderr)
        return 1
    import keras

    labels = json.loads((HERE / "labels.json").read_text(encoding="utf-8"))
    model = keras.saving.load_model(HERE / "model.keras", compile=False, safe_mode=True)
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
    rows, pixels, readable = [], [], []
    for path in files:
        try:
            pixels.append(to_array(open_image(path), labels["size"], labels["channels"]))
            readable.append(path)
        except NotAnImage as exc:
            rows.append({"file": str(path.relative_to(folder)), "predicted": "", "error": str(exc)})
    if pixels:
        proba = np.asarray(model(np.stack(pixels).astype("float32"), training=False))
        for path, p in zip(readable, proba):
            row = {"file": str(path.relative_to(folder)), "predicted": labels["classes"][int(np.argmax(p))],
                   "error": ""}
            row.update({f"probability_{c}": f"{v:.6f}" for c, v in zip(labels["classes"], p)})
            rows.append(row)
    columns = ["file", "predicted", *[f"probability_{c}" for c in labels["classes"]], "error"]
    with out.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: r["file"]))
    print(f"{len(readable)} pictures classified, {len(files) - len(readable)} unreadable -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
