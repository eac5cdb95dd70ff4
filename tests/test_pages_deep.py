"""AppTest: the neural network on the Model page, the Text page and the Images page."""

from __future__ import annotations

import io
import zipfile

from tests.test_pages import _click_and_wait, _no_failure, _run, _text
from workbench.store import Store

MODEL, RESULTS, TEXT, IMAGES = "pages/model.py", "pages/results.py", "pages/text.py", "pages/images.py"


def test_model_page_trains_a_neural_network_and_results_show_its_losses(workspace):
    at = _run(MODEL)
    next(w for w in at.multiselect if w.key.startswith("models_binary_")).set_value(["neural_network"]).run()
    _no_failure(at)
    assert "Trains on the CPU" in _text(at) or "Trains on the GPU" in _text(at)
    at.number_input(key="hp_neural_network_epochs").set_value(4).run()
    _click_and_wait(at, workspace, "train")
    store = Store(workspace)
    [experiment] = store.list_experiments(store.list_projects()[0].id)
    assert experiment.record["settings"]["params"]["epochs"] == 4 and len(experiment.record["history"]["loss"]) <= 4
    at.switch_page(RESULTS).run()
    _no_failure(at)
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "Loss per epoch" in specs and "Validation loss" in specs
    assert "kept the weights of epoch" in _text(at)


def test_text_page_trains_on_sms_spam_names_its_words_and_classifies_a_sentence(workspace):
    from workbench.samples import add_sample

    _run("app.py")
    store = Store(workspace)
    add_sample(store, store.list_projects()[0].id, "sms_spam")
    at = _run(TEXT)
    _no_failure(at)
    assert at.title[0].value == "Text"
    assert at.selectbox(key="text_column").value == "message" and at.selectbox(key="text_label").value == "label"
    _click_and_wait(at, workspace, "text_train")
    text = _text(at)
    assert "Words that point to each class" in text and "Pointing to **spam**" in text
    assert at.metric[0].label == "ROC AUC" and float(at.metric[0].value) > 0.97
    [area] = [a for a in at.text_area if a.key.startswith("try_")]
    area.set_value("URGENT! You have won a free prize, call now to claim").run()
    _no_failure(at)
    assert any("Predicted: spam" in s.value for s in at.success)


def test_text_page_says_what_to_do_without_a_text_column(workspace):
    at = _run(TEXT)  # the Titanic sample: names and places, but no free text
    _no_failure(at)
    assert "has no free-text column" in _text(at)


def test_text_page_speaks_japanese(workspace):
    at = _run(TEXT, lang="ja")
    _no_failure(at)
    assert at.title[0].value == "テキスト"


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_images_page_trains_on_digits_and_shows_scores_mistakes_and_the_bundle(workspace):
    at = _run(IMAGES)
    _no_failure(at)
    assert at.title[0].value == "Images"
    assert at.selectbox(key="images_source").value == "digits"
    at.number_input(key="images_epochs").set_value(3).run()
    _click_and_wait(at, workspace, "images_train")
    text = _text(at)
    assert "Image classifier" in text and "360 test pictures" in text
    assert float(next(m for m in at.metric if m.label == "Accuracy").value) > 0.8
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "Loss per epoch" in specs and "Predicted" in specs  # losses and the confusion matrix
    assert at.get("download_button")


def test_images_page_refuses_an_unsafe_zip_and_keeps_working(workspace):
    at = _run(IMAGES)
    at.file_uploader(key="images_zip").set_value(("evil.zip", _zip({"../../evil.png": b"x", "a/1.png": b"y"}),
                                                   "application/zip")).run()
    _no_failure(at)
    assert any("path leaves its folder" in w.value for w in at.warning)
    assert at.button(key="images_train")  # the form is still there
    store = Store(workspace)
    assert not (store.project_dir(store.list_projects()[0].id) / "images" / "uploads" / "evil.zip").exists()
