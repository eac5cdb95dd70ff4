"""Keras networks: the tabular estimator (scikit-learn contract, pipelines, saving), text and image classifiers on
tiny real samples, every bad zip, the jobs and the bundles run in a fresh Python."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import cross_val_score

from tests.conftest import SAMPLES, fresh_python, sample_bytes
from workbench import jobs
from workbench.deep import images as im
from workbench.deep import jobs as deep_jobs
from workbench.deep import text as tx
from workbench.deep.runtime import listening
from workbench.deep.tabular import NetworkClassifier, NetworkRegressor
from workbench.deploy.export import about_dataset, build_bundle
from workbench.deploy.modelfile import dump_pipeline, load_pipeline
from workbench.deploy.predict import Predictor
from workbench.errors import UserError
from workbench.experiments import pipeline_of, record_of, start
from workbench.io import read_table
from workbench.recipe import Recipe
from workbench.samples import add_sample
from workbench.tasks import BINARY, MULTICLASS
from workbench.training import Settings, build_pipeline, train_experiment

FAST = {"epochs": 3, "patience": 2, "batch_size": 64}


@pytest.fixture(scope="module")
def sms() -> pd.DataFrame:
    frame = read_table(sample_bytes("sms_spam.csv"), "sms_spam.csv")[0]
    return frame.sample(800, random_state=0).reset_index(drop=True)  # 13% spam, as in the whole file


# ---------------------------------------------------------------- the tabular network


def test_network_estimators_keep_the_scikit_learn_contract(titanic):
    X, y = titanic.drop(columns=["survived", "alive"]), titanic["survived"]
    pipeline = build_pipeline(Recipe(), "neural_network", BINARY, FAST, seed=1)
    assert is_classifier(pipeline) and is_classifier(NetworkClassifier()) and is_regressor(NetworkRegressor())
    assert clone(pipeline).get_params()["model__units"] == 128  # catalogue default kept through clone
    pipeline.fit(X, y)
    proba = pipeline.predict_proba(X.head(50))
    assert proba.shape == (50, 2) and np.allclose(proba.sum(axis=1), 1)
    assert set(pipeline.predict(X.head(50))) <= {0, 1}
    network = pipeline.named_steps["model"]
    assert 1 <= network.best_epoch_ <= len(network.history_["loss"]) <= 3 and network.history_["val_loss"]
    reloaded = load_pipeline(dump_pipeline(pipeline))  # the network travels as .keras bytes inside model.skops
    assert np.allclose(reloaded.predict_proba(X.head(50)), proba, atol=1e-6)
    scores = cross_val_score(build_pipeline(Recipe(), "neural_network", BINARY, FAST), X, y, cv=2, scoring="roc_auc")
    assert np.isfinite(scores).all() and scores.mean() > 0.7  # seen as a classifier: ROC AUC is scored


def test_regression_network_learns_on_the_original_scale():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4))
    y = 1000 + 300 * X[:, 0] - 200 * X[:, 1]
    model = NetworkRegressor(epochs=40, patience=5, seed=0).fit(X, y)
    error = np.abs(model.predict(X) - y).mean()
    assert error < 0.25 * np.abs(y - y.mean()).mean()  # far better than the mean, in the target's own units


def test_epochs_are_reported_and_a_cancel_stops_training_between_batches():
    X = np.random.default_rng(0).normal(size=(400, 3))
    y = (X[:, 0] > 0).astype(int)
    events: list[dict] = []
    with listening(events.append):
        NetworkClassifier(epochs=4, patience=10).fit(X, y)
    epochs = [e for e in events if "epoch" in e]
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4] and all(e["val_loss"] is not None for e in epochs)

    def stop(event: dict) -> None:
        if "epoch" in event:
            raise jobs.Cancelled()

    with pytest.raises(jobs.Cancelled), listening(stop):
        NetworkClassifier(epochs=50).fit(X, y)


def test_network_experiment_skips_cv_folds_and_keeps_its_loss_curves(titanic):
    frame = titanic.drop(columns=["alive"])
    experiment = train_experiment(frame, Recipe(), Settings("survived", BINARY, "neural_network", FAST))
    record = record_of(experiment)
    assert experiment.cv_scores == [] and experiment.metrics["roc_auc"] > 0.75
    assert record["history"]["best_epoch"] >= 1 and len(record["history"]["loss"]) <= 3


def test_network_bundle_predicts_in_a_fresh_python_as_the_app_does(tmp_path):
    frame = read_table(sample_bytes("penguins.csv"), "penguins.csv")[0]
    experiment = train_experiment(frame, Recipe(), Settings("species", MULTICLASS, "neural_network", FAST))
    data = build_bundle(dump_pipeline(experiment.pipeline), record_of(experiment),
                        about_dataset("penguins", "penguins.csv", frame), frame, "en")
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert {"network.keras", "model.skops", "workbench/deep/tabular.py"} <= set(archive.namelist())
    assert "tensorflow-cpu==" in archive.read("requirements.txt").decode()
    assert not json.loads(archive.read("schema.json"))["onnx"]["converted"]
    archive.extractall(tmp_path)
    frame.drop(columns=["species"]).head(40).to_csv(tmp_path / "new.csv", index=False)
    run = fresh_python(["predict.py", "new.csv", "out.csv"], tmp_path)
    assert run.returncode == 0, run.stderr
    out = pd.read_csv(tmp_path / "out.csv", encoding="utf-8-sig")
    app, _ = Predictor.from_record(experiment.pipeline, record_of(experiment)).predict(
        read_table((tmp_path / "new.csv").read_bytes(), "new.csv")[0])
    assert list(out["prediction"]) == list(app["prediction"])


# ---------------------------------------------------------------- text


def test_tfidf_baseline_finds_spam_and_names_its_words(sms):
    experiment = train_experiment(sms, Recipe(), Settings("label", BINARY, "text_linear", {"column": "message"}))
    assert experiment.metrics["roc_auc"] > 0.95 and experiment.features == ["message"]
    terms = tx.indicative_terms(experiment.pipeline)
    spam_words = {term for term, _ in terms["spam"]}
    assert spam_words & {"call", "free", "txt", "text", "claim", "mobile", "stop"}
    assert {term for term, _ in terms["ham"]}.isdisjoint(spam_words)
    one = experiment.pipeline.predict(pd.DataFrame({"message": ["WINNER! Call now to claim your free prize"]}))
    assert one[0] == "spam"
    compact = dump_pipeline(experiment.pipeline)  # the vocabulary saved as one text, not one node per term
    plain = clone(experiment.pipeline).set_params(model__tfidf=TfidfVectorizer(**experiment.pipeline.get_params()[
        "model__tfidf"].get_params())).fit(sms, sms["label"])
    assert len(compact) < len(dump_pipeline(plain)) / 3
    reloaded = load_pipeline(compact)
    assert reloaded[-1].named_steps["tfidf"].vocabulary_ == experiment.pipeline[-1].named_steps["tfidf"].vocabulary_
    rows = sms.head(30)[["message"]]
    assert np.allclose(reloaded.predict_proba(rows), experiment.pipeline.predict_proba(rows))


def test_text_network_trains_saves_and_reads_japanese_without_spaces():
    assert tx.tokens("今日は晴れ Hello world") == ["今", "日", "は", "晴", "れ", "hello", "world"]
    good = ["この商品はとても良いです", "素晴らしい品質で満足しています", "また買いたいと思います",
            "最高の買い物でした"]
    bad = ["二度と買いません", "すぐに壊れてしまった", "最悪の品質でがっかりです", "返品したいです"]
    frame = pd.DataFrame({"review": (good + bad) * 15, "label": (["良い"] * 4 + ["悪い"] * 4) * 15})
    assert tx.default_analyzer(frame["review"]) == tx.CHARACTERS
    linear = train_experiment(frame, Recipe(), Settings("label", BINARY, "text_linear",
                                                        {"column": "review", "analyzer": tx.CHARACTERS}))
    assert linear.metrics["accuracy"] == 1.0
    network = train_experiment(frame, Recipe(), Settings("label", BINARY, "text_network",
                                                         {"column": "review", "epochs": 15, "patience": 15}))
    assert network.metrics["accuracy"] >= 0.9 and network.cv_scores == []
    reloaded = load_pipeline(dump_pipeline(network.pipeline))
    sample = pd.DataFrame({"review": ["とても良い品質", "壊れてしまった"]})
    assert np.allclose(reloaded.predict_proba(sample), network.pipeline.predict_proba(sample), atol=1e-6)
    assert set(tx.indicative_terms(network.pipeline)) == {"悪い", "良い"}


def test_text_job_saves_an_experiment_on_the_text_column_alone(store):
    project = store.create_project("text")
    dataset = add_sample(store, project.id, "sms_spam")
    settings = Settings("label", BINARY, "text_linear", {"column": "message", "analyzer": "word", "C": 10.0})
    _, future = start(store, project.id, "text", dataset_id=dataset.id, settings=settings)
    future.result(timeout=300)
    [experiment] = store.list_experiments(project.id)
    assert experiment.record["text_column"] == "message" and experiment.record["features"] == ["message"]
    assert experiment.record["metrics"]["roc_auc"] > 0.97
    pipeline = pipeline_of(store, experiment.id)
    assert pipeline.predict(pd.DataFrame({"message": ["Sorry, I'll call you later"]}))[0] == "ham"


def test_text_columns_and_labels_are_found(sms, titanic):
    assert tx.text_columns(sms) == ["message"] and tx.label_columns(sms, "message") == ["label"]
    assert tx.text_columns(titanic) == []  # short repeated labels such as 'male' or 'Southampton' are no free text


# ---------------------------------------------------------------- images


def _png(colour: int = 128, size: int = 12, mode: str = "L") -> bytes:
    buffer = io.BytesIO()
    rng = np.random.default_rng(colour)
    pixels = rng.integers(0, 255, size=(size, size) if mode == "L" else (size, size, 3), dtype="uint8")
    Image.fromarray(pixels, mode).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _refusal(data: bytes) -> UserError:
    with pytest.raises(UserError) as caught:
        im.read_zip(data, 16)
    return caught.value


def test_a_good_zip_is_read_below_its_top_folder_and_skips_what_is_no_picture():
    entries = {f"set/{cls}/{i}.png": _png(i + 10 * k) for k, cls in enumerate(["cat", "dog"]) for i in range(3)}
    entries |= {"set/cat/notes.txt": b"hello", "set/dog/broken.png": b"\x89PNG not really", "__MACOSX/x": b"",
                "set/.DS_Store": b""}
    found = im.read_zip(_zip(entries), 16)
    assert found.images.shape == (6, 16, 16, 1) and found.images.dtype == np.uint8
    assert found.classes == ["cat", "dog"] and found.channels == 1
    assert [n.key for n in found.notes] == ["images.skipped_other", "images.skipped_unreadable"]
    assert im.survey(_zip(entries)) == {"cat": 3, "dog": 4}  # names only: nothing decoded


def test_every_bad_zip_gets_its_own_message_and_nothing_is_extracted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _refusal(b"not a zip at all").key == "images.not_zip"
    assert _refusal(_zip({"cat/1.png": _png(), "cat/2.png": _png(2)})).key == "images.one_class"
    assert _refusal(_zip({"cat/1.png": _png(), "dog/1.png": _png(2), "dog/2.png": _png(3)})).key == \
        "images.class_too_small"
    assert _refusal(_zip({"cat/a/1.png": _png(), "dog/1.png": _png(2)})).key == "images.nested"
    assert _refusal(_zip({"1.png": _png(), "dog/1.png": _png(2)})).key == "images.no_class_folder"
    assert _refusal(_zip({"cat/1.png": b"garbage", "dog/1.png": b"garbage"})).key == "images.none_readable"
    assert _refusal(_zip({"readme.txt": b"hi"})).key == "images.none"
    for name in ("../evil.png", "cat/../../evil.png", "/etc/evil.png", "C:/evil.png", "cat\\..\\..\\evil.png"):
        assert _refusal(_zip({name: _png(), "dog/1.png": _png(2)})).key == "images.unsafe_path"
    tiny = {f"c{i % 2}/{i}.png": b"x" * 10 for i in range(im.MAX_ENTRIES + 1)}  # thousands of tiny files
    assert _refusal(_zip(tiny)).key == "images.too_many_files"
    few_tiny = {f"c{i % 2}/{i}.png": b"x" * 10 for i in range(3000)}
    assert _refusal(_zip(few_tiny)).key == "images.none_readable"
    bomb = _zip({"cat/big.png": b"\0" * 40_000_000, "dog/1.png": _png()})
    assert len(bomb) < 200_000 and _refusal(bomb).key == "images.bomb"
    assert list(tmp_path.iterdir()) == []  # read in memory: nothing written anywhere


def test_a_picture_bomb_is_refused_before_it_is_decoded():
    buffer = io.BytesIO()
    Image.new("L", (8000, 8000)).save(buffer, format="PNG")  # 64 megapixels, a small file
    found = im.read_zip(_zip({"cat/big.png": buffer.getvalue(), "cat/1.png": _png(1), "cat/2.png": _png(2),
                              "dog/1.png": _png(3), "dog/2.png": _png(4)}), 16)
    assert len(found.labels) == 4 and found.notes[0].key == "images.skipped_unreadable"


def test_colour_pictures_keep_three_channels():
    entries = {f"{cls}/{i}.png": _png(i + 5 * k, mode="RGB") for k, cls in enumerate(["a", "b"]) for i in range(2)}
    assert im.read_zip(_zip(entries), 16).images.shape == (4, 16, 16, 3)


def test_image_job_trains_on_digits_keeps_its_mistakes_and_its_bundle_predicts_a_folder(store, tmp_path):
    project = store.create_project("images")
    settings = {"source": deep_jobs.DIGITS, "size": 16, "epochs": 3}
    job_id, future = start(store, project.id, "images", settings=settings)
    future.result(timeout=600)
    job = store.get_job(job_id)
    assert job["status"] == "done", job["message"]
    found_id, result = deep_jobs.latest(store, project.id)
    assert found_id == job_id and result["classes"] == [str(d) for d in range(10)]
    assert result["accuracy"] > 0.8 and result["n_test"] == 360 and len(result["history"]["loss"]) == 3
    assert np.asarray(result["confusion"]).sum() == result["n_test"]
    wrong = deep_jobs.mistakes_of(store, project.id, job_id)
    assert len(wrong["actual"]) == min(36, round((1 - result["accuracy"]) * result["n_test"]))
    assert (wrong["actual"] != wrong["predicted"]).all()

    network = deep_jobs.network_of(store, project.id, job_id)
    digits = im.digits(16)
    folder = tmp_path / "pictures"
    folder.mkdir()
    app = []
    for i in range(0, 40, 4):
        data = io.BytesIO()
        Image.fromarray(digits.images[i][:, :, 0]).save(data, format="PNG")
        (folder / f"{i:03d}.png").write_bytes(data.getvalue())
        proba = deep_jobs.predict_image(network, data.getvalue(), 16, 1)
        app.append(max(proba, key=proba.get))
    (folder / "notes.png").write_bytes(b"not a picture")
    with pytest.raises(UserError):
        deep_jobs.predict_image(network, b"not a picture", 16, 1)

    bundle = tmp_path / "bundle"
    zipfile.ZipFile(io.BytesIO(deep_jobs.build_image_bundle(network, result, "ja"))).extractall(bundle)
    assert "画像分類" in (bundle / "model_card.md").read_text(encoding="utf-8")
    run = fresh_python(["predict_images.py", str(folder), "out.csv"], bundle)
    assert run.returncode == 0, run.stderr
    out = pd.read_csv(bundle / "out.csv", encoding="utf-8-sig", dtype={"predicted": str})
    readable = out[out["error"].isna()]
    assert list(readable["predicted"]) == app
    assert out.loc[out["file"] == "notes.png", "error"].item() == "unreadable"


def test_uploads_are_kept_in_the_project_and_a_bad_one_is_not(store):
    project = store.create_project("uploads")
    good = _zip({f"{cls}/{i}.png": _png(i) for cls in ("a", "b") for i in range(3)})
    name = deep_jobs.keep_upload(store, project.id, "../../my pictures.zip", good)
    assert name == "my_pictures.zip" and deep_jobs.uploads(store, project.id) == [name]
    assert (store.project_dir(project.id) / "images" / "uploads" / name).read_bytes() == good
    with pytest.raises(UserError):
        deep_jobs.keep_upload(store, project.id, "bad.zip", _zip({"../x.png": _png()}))
    assert deep_jobs.uploads(store, project.id) == [name]


def test_samples_include_sms_spam():
    assert (SAMPLES / "sms_spam.csv").exists()
    assert Path(SAMPLES / "README.md").read_text(encoding="utf-8").count("sms_spam.csv") == 1


def test_shap_explains_a_network_in_the_uploaded_columns(titanic):
    from workbench.explain import PERMUTATION, explain, explainer_kind

    X, y = titanic.drop(columns=["survived", "alive"]), titanic["survived"]
    pipeline = build_pipeline(Recipe(), "neural_network", BINARY, FAST).fit(X, y)
    assert explainer_kind(pipeline[-1]) == PERMUTATION
    explanation = explain(pipeline, X.head(5), X.tail(50), BINARY, [0, 1])
    importance = explanation.importance()
    assert set(importance.index) <= set(X.columns) and importance.max() > 0


@pytest.mark.parametrize("pictures, least_warmup, most_epochs", [(150, 60, 200), (1_300, 10, 60), (50_000, 0, 30)])
def test_image_training_is_scaled_to_the_set_so_a_small_one_is_not_stopped_at_chance(pictures, least_warmup,
                                                                                     most_epochs):
    epochs, patience, warmup = im.ImageNetwork()._schedule(pictures)
    assert warmup >= least_warmup and epochs <= most_epochs
    assert epochs >= warmup + patience  # early stopping gets a chance to act after the wait
    assert patience >= 6 and (warmup < 30 or patience >= warmup // 4)


def test_epochs_chosen_by_hand_are_kept_and_the_wait_fits_inside_them():
    assert im.ImageNetwork(epochs=3)._schedule(150)[0] == 3
    epochs, patience, warmup = im.ImageNetwork(epochs=40, patience=4)._schedule(150)
    assert (epochs, patience) == (40, 4) and warmup <= 20
