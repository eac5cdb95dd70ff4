"""The model bundle: a zip that predicts on raw rows without the workbench (completed by the export stage).

Holds model.skops, schema.json (task, classes, threshold, columns), predict.py,
the transformers module the pipeline refers to, and requirements.txt with the
versions the model was trained with.
"""

from __future__ import annotations

import io
import json
import zipfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

from workbench import transformers
from workbench.modelfile import TRUSTED

_TEMPLATE = Path(__file__).with_name("bundle") / "predict_template.py"
PACKAGES = ("numpy", "pandas", "scikit-learn", "scipy", "skops")


def build_bundle(model: bytes, record: dict[str, Any]) -> bytes:
    """The bundle as zip bytes, from a model file and an experiment record."""
    meta = {"task": record["settings"]["task"], "target": record["settings"]["target"],
            "threshold": record["settings"]["threshold"], "classes": record["classes"], "schema": record["schema"],
            "model": record["settings"]["model_id"], "metrics": record["metrics"]}
    predict = _TEMPLATE.read_text(encoding="utf-8").replace("__TRUSTED_JSON__", json.dumps(sorted(TRUSTED)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model.skops", model)
        archive.writestr("schema.json", json.dumps(meta, ensure_ascii=False, indent=2, default=str))
        archive.writestr("predict.py", predict)
        archive.writestr("workbench/__init__.py", '"""The parts of the workbench this bundle needs."""\n')
        archive.writestr("workbench/transformers.py", Path(transformers.__file__).read_text(encoding="utf-8"))
        archive.writestr("requirements.txt", "".join(f"{p}=={version(p)}\n" for p in PACKAGES))
    return buffer.getvalue()
