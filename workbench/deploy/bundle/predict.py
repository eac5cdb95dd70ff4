"""Predict with this bundle: python predict.py input.csv output.csv

Needs only the packages in requirements.txt: the parts of the workbench it uses
travel inside the bundle (workbench/). The input is read with the workbench's
own import rules (encodings such as Shift-JIS, delimiters, decimal commas, title
lines); the output is the same rows plus a prediction column and, for
classification, one probability column per class, named in the language the
bundle was made in (prediction, probability_<class>; 予測, 確率_<class>), as the
app's Predict page writes them; warnings are in that language too. The model file is loaded only when every type in it
is on the bundle's list of trusted types.
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the bundled workbench package

from workbench.deploy.modelfile import load_pipeline  # noqa: E402
from workbench.deploy.predict import Predictor  # noqa: E402
from workbench.errors import exit_status  # noqa: E402
from workbench.i18n import set_language  # noqa: E402
from workbench.io import read_table, to_csv_bytes  # noqa: E402


def load():
    """The fitted pipeline with the bundle's metadata (task, classes, threshold, columns)."""
    meta = json.loads((HERE / "schema.json").read_text(encoding="utf-8"))
    set_language(meta.get("language", "en"))
    return Predictor.from_meta(load_pipeline((HERE / "model.skops").read_bytes()), meta)


def predict_file(source: Path, target: Path) -> None:
    predictor = load()
    frame, _ = read_table(source.read_bytes(), source.name)
    predicted, report = predictor.predict(frame)
    for _, note in report.notes():
        print(note.text(), file=sys.stderr)
    target.write_bytes(to_csv_bytes(predicted))


def main(argv):
    if len(argv) != 3:
        print("usage: python predict.py input.csv output.csv", file=sys.stderr)
        return 2
    return exit_status(lambda: predict_file(Path(argv[1]), Path(argv[2])))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
