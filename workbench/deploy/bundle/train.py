"""Retrain this bundle's pipeline: python train.py data.csv [model.skops]

Reads the CSV with the workbench's import rules, applies recipe.json, and trains
the same model with the same settings (split, seed, parameters) as the app did;
prints the held-out metrics as JSON and writes the new model file (by default
model.retrained.skops beside this script). On the data the bundle was trained
on, the metrics are the ones in schema.json.
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the bundled workbench package

from workbench.deploy.modelfile import dump_pipeline, load_pipeline  # noqa: E402
from workbench.errors import exit_status  # noqa: E402
from workbench.io import read_table  # noqa: E402
from workbench.models import CATALOGUE  # noqa: E402
from workbench.recipe import Recipe  # noqa: E402
from workbench.training import Settings, Split, train_experiment  # noqa: E402


def retrain(source: Path, target: Path) -> dict:
    meta = json.loads((HERE / "schema.json").read_text(encoding="utf-8"))
    settings = dict(meta["settings"])
    settings = Settings(**{**settings, "split": Split(**settings["split"])})
    recipe = Recipe.from_json((HERE / "recipe.json").read_text(encoding="utf-8"))
    frame, _ = read_table(source.read_bytes(), source.name)
    # A model the AutoML search found is no catalogue entry: the bundled pipeline's own model (its steps and
    # hyperparameters, refitted from scratch) is trained again.
    found = None if settings.model_id in CATALOGUE else load_pipeline((HERE / "model.skops").read_bytes()).steps[-1][1]
    experiment = train_experiment(frame, recipe, settings, model=found)
    target.write_bytes(dump_pipeline(experiment.pipeline))
    return {"metrics": experiment.metrics, "test_rows": experiment.n_test, "model_file": str(target)}


def main(argv):
    if len(argv) not in (2, 3):
        print("usage: python train.py data.csv [model.skops]", file=sys.stderr)
        return 2
    target = Path(argv[2]) if len(argv) == 3 else HERE / "model.retrained.skops"
    return exit_status(lambda: print(json.dumps(retrain(Path(argv[1]), target), indent=2, ensure_ascii=False)))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
