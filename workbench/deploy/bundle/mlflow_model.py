"""The MLflow model of a workbench bundle (MLflow's "models from code"): mlflow.pyfunc.load_model(...).predict(rows)
predicts raw rows as the bundle's predict.py does. The unzipped bundle is the model's artifact "bundle"; its own
workbench/ folder holds what it imports, so the model loads where the workbench is not installed."""

import json
import sys
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class BundleModel(PythonModel):
    """Rows in, one prediction per row out (with a probability per class for a classifier)."""

    def load_context(self, context) -> None:
        folder = Path(context.artifacts["bundle"])
        if "workbench" not in sys.modules:  # a process of its own: the bundle's copy of what it imports
            sys.path.insert(0, str(folder))  # (inside the app, its own workbench, and sys.path stays as it was)
        from workbench.deploy.modelfile import load_pipeline
        from workbench.deploy.predict import Predictor

        meta = json.loads((folder / "schema.json").read_text(encoding="utf-8"))
        self.predictor = Predictor.from_meta(load_pipeline((folder / "model.skops").read_bytes()), meta)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from workbench.deploy.predict import added_columns

        rows = pd.DataFrame(model_input)
        out, _ = self.predictor.predict(rows, lang="en")  # fixed column names, whatever the bundle's language
        answer, probabilities = added_columns(out, rows)
        return out[[answer, *probabilities]].reset_index(drop=True)


mlflow.models.set_model(BundleModel())
