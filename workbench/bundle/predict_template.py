"""Predict with this model bundle: python predict.py input.csv output.csv

Needs only the packages in requirements.txt (not the workbench). Reads a CSV of
raw rows with the columns the model was trained on and writes the same rows plus
a 'prediction' column and, for classification, one 'probability_<class>' column
per class. The model file is loaded with an explicit list of trusted types.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the bundled workbench/transformers.py

from workbench.transformers import to_boolean, to_number  # noqa: E402

TRUSTED = json.loads('__TRUSTED_JSON__')  # filled in when the bundle is built


def read_csv(path):
    for encoding in ("utf-8-sig", "cp932", "latin-1"):
        try:
            return pd.read_csv(path, encoding=encoding)
        except UnicodeDecodeError:
            continue
    raise SystemExit(f"cannot read {path}")


def prepare(frame, schema):
    rows = pd.DataFrame(index=frame.index)
    for name, info in schema.items():
        if name not in frame.columns:
            print(f"warning: column {name!r} is missing; treated as empty", file=sys.stderr)
            rows[name] = np.nan
        elif info["kind"] == "number":
            rows[name] = to_number(frame[name])
        elif info["kind"] == "boolean":
            rows[name] = to_boolean(frame[name])
        elif info["kind"] == "datetime":
            rows[name] = pd.to_datetime(frame[name], errors="coerce")
        else:
            rows[name] = frame[name].astype("str").where(frame[name].notna())
    return rows


def main(argv):
    if len(argv) != 3:
        raise SystemExit("usage: python predict.py input.csv output.csv")
    meta = json.loads((HERE / "schema.json").read_text(encoding="utf-8"))
    data = (HERE / "model.skops").read_bytes()
    untrusted = set(sio.get_untrusted_types(data=data))
    if untrusted - set(TRUSTED):
        raise SystemExit(f"refusing to load a model with untrusted types: {sorted(untrusted - set(TRUSTED))}")
    pipeline = sio.loads(data, trusted=sorted(untrusted))
    frame = read_csv(argv[1])
    rows = prepare(frame, meta["schema"])
    out = frame.copy()
    if meta["task"] == "regression":
        out["prediction"] = pipeline.predict(rows)
    else:
        proba = pipeline.predict_proba(rows)
        classes = np.asarray(pipeline.classes_)
        if meta["task"] == "binary":
            out["prediction"] = np.where(proba[:, 1] >= meta["threshold"], classes[1], classes[0])
        else:
            out["prediction"] = classes[np.argmax(proba, axis=1)]
        for i, cls in enumerate(classes):
            out[f"probability_{cls}"] = proba[:, i]
    out.to_csv(argv[2], index=False, encoding="utf-8-sig")


if __name__ == "__main__":
    main(sys.argv)
