"""Deep-learning benchmark: the tabular network against strong default models, the digits CNN, and the text
classifiers, with their training times on this machine.

    python benchmarks/deep.py [--only tabular pictures text scale]

- tabular: bank marketing and diamonds (the larger real tables), one stratified 80/20 split (seed 42); the
  network with its catalogue defaults against the best of histogram gradient boosting, random forest, extra
  trees and a linear model with theirs, all through the same recipe-free pipeline. Target: within 2%.
- pictures: scikit-learn's handwritten digits and a small set the benchmark draws (3 shapes x 70, PNG and JPEG),
  80/20 split, the Images page's defaults against its previous network and schedule. Target: >= 0.95 on both, under 2 min.
- text: SMS spam, 80/20 split; TF-IDF (words, characters) with logistic regression, and the Keras CNN and LSTM.
- scale: the network's defaults on 100,000 rows x 30 columns. Target: under a minute.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.models import DATASETS, wide_table  # noqa: E402
from workbench.evaluation import LOWER_IS_BETTER, PRIMARY, classification_metrics, regression_metrics  # noqa: E402
from workbench.io import read_table  # noqa: E402
from workbench.recipe import Recipe  # noqa: E402
from workbench.tasks import REGRESSION, propose_task  # noqa: E402
from workbench.training import Split, build_pipeline, split_rows  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = {"classification": ("hist_gradient_boosting", "random_forest", "extra_trees", "logistic_regression"),
            "regression": ("hist_gradient_boosting", "random_forest", "extra_trees", "ridge")}


def _score(pipeline, X, y, task: str) -> float:
    if task == REGRESSION:
        return regression_metrics(y, pipeline.predict(X))["rmse"]
    proba = pipeline.predict_proba(X)
    classes = pipeline.classes_
    return classification_metrics(y, classes[np.argmax(proba, axis=1)], proba, classes)[PRIMARY[task]]


def _fit(model_id: str, task: str, train, test, target: str) -> tuple[float, float]:
    from threadpoolctl import threadpool_limits

    pipeline = build_pipeline(Recipe(), model_id, task, seed=42)
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        pipeline.fit(train.drop(columns=[target]), train[target])
    seconds = time.perf_counter() - start
    return _score(pipeline, test.drop(columns=[target]), test[target], task), seconds


def tabular() -> list[str]:
    verdicts = []
    for name in ("bank marketing", "diamonds"):
        path, target, leaks = DATASETS[name]
        frame = read_table(path.read_bytes(), path.name)[0].drop(columns=leaks)
        task = propose_task(frame[target]).task
        train_index, test_index = split_rows(frame, target, task, Split(seed=42))
        train, test = frame.loc[train_index], frame.loc[test_index]
        metric = PRIMARY[task]
        print(f"\n{name}: {len(frame):,} rows, {task}, test {metric} on {len(test):,} rows", flush=True)
        scores = {}
        for model_id in DEFAULTS["regression" if task == REGRESSION else "classification"] + ("neural_network",):
            scores[model_id], seconds = _fit(model_id, task, train, test, target)
            print(f"  {model_id:<24} {scores[model_id]:>10.4f}   fit {seconds:>6.1f} s", flush=True)
        lower = metric in LOWER_IS_BETTER
        best = min if lower else max
        best_id = best((m for m in scores if m != "neural_network"), key=scores.get)
        gap = (scores["neural_network"] / scores[best_id] - 1) if lower else (1 - scores["neural_network"] /
                                                                               scores[best_id])
        verdict = "met" if gap <= 0.02 else "MISSED"
        verdicts.append(f"{name}: network {scores['neural_network']:.4f} vs best default {best_id} "
                        f"{scores[best_id]:.4f}: {100 * gap:+.2f}% worse, target within 2%: {verdict}")
    return verdicts


def _previous_defaults():
    """The Images page's network and schedule before they were scaled to the set (the baseline): two
    convolution blocks, a dense layer of 128 over every position, 30 epochs at most, patience 6 from epoch 1."""
    from workbench.deep.images import ImageNetwork
    from workbench.deep.runtime import keras

    class Previous(ImageNetwork):
        def _schedule(self, rows: int) -> tuple[int, int, int]:
            return 30, 6, 0

        def _network(self, inputs, n_outputs):
            k = keras()
            layers = [k.Input(shape=inputs.shape[1:]), k.layers.RandomRotation(self.rotation, fill_mode="constant",
                      seed=self.seed), k.layers.RandomZoom(self.zoom, fill_mode="constant", seed=self.seed),
                      k.layers.Rescaling(1 / 255)]
            for width in (32, 64):
                layers += [k.layers.Conv2D(width, 3, padding="same", activation="relu"),
                           k.layers.MaxPooling2D(2, padding="same")]
            layers += [k.layers.Flatten(), k.layers.Dropout(self.dropout, seed=self.seed),
                       k.layers.Dense(128, activation="relu"), k.layers.Dropout(self.dropout, seed=self.seed + 1),
                       k.layers.Dense(n_outputs, activation="softmax")]
            return k.Sequential(layers)

    return Previous(seed=42)


def _picture_run(name: str, found, settings, previous: bool) -> tuple[float, str]:
    X_train, X_test, y_train, y_test = settings.held_out(found)
    network = _previous_defaults() if previous else settings.network()
    start = time.perf_counter()
    network.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(network.predict(X_test) == y_test))
    label = "previous defaults" if previous else "page defaults (scaled)"
    line = (f"  {name:<22} {label:<28} accuracy {accuracy:.4f}  {len(network.history_['loss']):>3} epochs "
            f"(best {network.best_epoch_:>3})  {seconds:6.1f} s")
    print(line, flush=True)
    return accuracy, f"{seconds:.0f} s"


def pictures() -> list[str]:
    """Digits and a small drawn set (3 shapes x 70 pictures, PNG and JPEG in a zip), each with the Images
    page's defaults and with its previous defaults (the baseline). Target: above 0.95 held out on both, under 2 minutes."""
    from benchmarks.pictures import shapes_zip
    from workbench.deep.images import digits as load_digits
    from workbench.deep.images import read_zip
    from workbench.deep.jobs import ImageSettings

    sets = {"digits (1,797 x 16 px)": (load_digits(16), ImageSettings()),
            "shapes (210 x 32 px)": (read_zip(shapes_zip(70), 32), ImageSettings(source="shapes.zip", size=32))}
    verdicts = []
    print("\npictures: held-out accuracy (20% of each set, stratified)", flush=True)
    for name, (found, settings) in sets.items():
        baseline, _ = _picture_run(name, found, settings, previous=True)
        accuracy, seconds = _picture_run(name, found, settings, previous=False)
        met = accuracy >= 0.95 and float(seconds[:-2]) < 120
        verdicts.append(f"{name}: defaults {accuracy:.4f} in {seconds} vs previous defaults {baseline:.4f}; "
                        f"target >= 0.95 in under 2 minutes: {'met' if met else 'MISSED'}")
    return verdicts


def text() -> list[str]:
    from workbench.deep.text import CHARACTERS, WORDS, network_model, tfidf_model

    frame = read_table((ROOT / "sample_data/sms_spam.csv").read_bytes(), "sms_spam.csv")[0]
    train_index, test_index = split_rows(frame, "label", "binary", Split(seed=42))
    train, test = frame.loc[train_index], frame.loc[test_index]
    print(f"\nSMS spam: {len(train):,} training and {len(test):,} test messages", flush=True)
    lines = []
    for name, model in (("TF-IDF words + logistic", tfidf_model("message", WORDS)),
                        ("TF-IDF characters + logistic", tfidf_model("message", CHARACTERS)),
                        ("Keras CNN (defaults)", network_model("message", architecture="cnn")),
                        ("Keras LSTM (defaults)", network_model("message", architecture="lstm"))):
        start = time.perf_counter()
        model.fit(train, train["label"])
        seconds = time.perf_counter() - start
        proba = model.predict_proba(test)
        classes = model.classes_
        metrics = classification_metrics(test["label"], classes[np.argmax(proba, axis=1)], proba, classes)
        line = (f"  {name:<30} ROC AUC {metrics['roc_auc']:.4f}  accuracy {metrics['accuracy']:.4f}  "
                f"macro F1 {metrics['f1_macro']:.4f}  fit {seconds:.1f} s")
        print(line, flush=True)
        lines.append(line.strip())
    return lines


def scale() -> list[str]:
    frame = wide_table()
    pipeline = build_pipeline(Recipe(), "neural_network", "binary", seed=0)
    start = time.perf_counter()
    pipeline.fit(frame.drop(columns=["target"]), frame["target"])
    seconds = time.perf_counter() - start
    network = pipeline[-1]
    print(f"\n100,000 x 30: network defaults trained {len(network.history_['loss'])} epochs "
          f"(best {network.best_epoch_}) in {seconds:.1f} s", flush=True)
    return [f"100,000 x 30 network fit: {seconds:.1f} s, target under 60 s: {'met' if seconds < 60 else 'MISSED'}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=["tabular", "pictures", "text", "scale"])
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    parts = {"tabular": tabular, "pictures": pictures, "text": text, "scale": scale}
    verdicts = [line for name in args.only for line in parts[name]()]
    print("\n" + "\n".join(verdicts))


if __name__ == "__main__":
    main()
