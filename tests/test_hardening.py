"""Inputs a new user brought that the samples never had: each test failed before its fix (issue 15)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT, sample_bytes
from workbench.errors import UserError
from workbench.i18n import t
from workbench.io import read_table
from workbench.models import CATALOGUE
from workbench.recipe import Recipe
from workbench.tasks import BINARY, MULTICLASS, propose_target
from workbench.training import Settings, learning_curve_data, train_experiment


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


# ---------------------------------------------------------------- reading


@pytest.mark.parametrize("body, line, kept", [
    ('name,text\nalice,"hello\nbob,x\ncarl,y\ndan,z\n', 2, ["bob", "carl", "dan"]),
    ('name,text\nbob,x\ncarl,y\ndan,"z\n', 4, ["bob", "carl"]),
    ('name,text\nbob,x\nann,"two\nlines"\ncarl,"never closed\ndan,z\n', 5, ["bob", "ann", "dan"]),
])
def test_an_unclosed_quote_leaves_its_line_out_and_says_where(body, line, kept):
    df, report = read_table(body.encode(), "quote.csv")
    assert df["name"].tolist() == kept
    assert line in report.bad_line_numbers
    warning = next(w for w in report.warnings if w.key == "import.warn.unclosed_quote")
    assert warning.params["line"] == line
    assert str(line) in warning.text("ja") and "引用符" in warning.text("ja")


def test_an_unclosed_quote_stops_the_import_when_bad_lines_stop_it():
    with pytest.raises(UserError) as caught:
        read_table(b'name,text\nalice,"hello\nbob,x\n', "quote.csv", bad_lines="error")
    assert caught.value.key == "import.unclosed_quote" and caught.value.params["line"] == 2


def test_a_quote_inside_an_unquoted_field_is_only_a_character():
    df, report = read_table(b'height,n\n5\'11",3\n6\'2",4\n', "h.csv")
    assert df["height"].tolist() == ["5'11\"", "6'2\""] and not report.warnings


def test_infinite_numbers_become_missing_with_a_warning_naming_column_and_rows():
    df, report = read_table(b"a,b\n1,inf\n2,-inf\n3,1e400\n4,5\n", "inf.csv")
    assert df["b"].isna().tolist() == [True, True, True, False]
    note = next(w for w in report.warnings if w.key == "import.warn.infinite")
    assert note.params == {"column": "b", "count": 3, "rows": "1, 2, 3"}


def test_infinite_values_from_anywhere_never_reach_the_model():
    frame = pd.DataFrame({"x": [1.0, np.inf, 3.0, -np.inf] * 10, "y": [0, 1] * 20})
    experiment = train_experiment(frame, Recipe(), Settings("y", "binary", "logistic_regression"))
    assert np.isfinite(experiment.metrics["accuracy"])
    assert experiment.pipeline.predict(pd.DataFrame({"x": [np.inf]})).shape == (1,)


def test_a_nul_byte_past_the_first_8_kb_is_removed_and_reported():
    body = b"a,b\n" + b"".join(b"%d,hello%d\n" % (i, i) for i in range(1000)) + b"5,x\x00y\n"
    df, report = read_table(body, "nul.csv")
    assert df["b"].iloc[-1] == "xy" and not df["b"].str.contains("\x00").any()
    note = next(w for w in report.warnings if w.key == "import.warn.nul_removed")
    assert note.params["lines"] == "1002"


@pytest.mark.parametrize("body", [b"a,b,c\n1,2,3,4\n5,6,7,8\n9,10,11,12\n",
                                  b"a,b,c\nr1,2,3,4\nr2,6,7,8\nr3,1,1,1\n"])
def test_a_header_one_name_short_names_all_but_the_first_column(body):
    df, report = read_table(body, "rownames.csv")
    assert list(df.columns) == ["column_1", "a", "b", "c"] and len(df) == 3
    assert any(w.key == "import.warn.unnamed_first_column" for w in report.warnings)


def test_a_title_line_above_a_header_is_still_a_title():
    df, _ = read_table(b"Sales report,2024\na,b,c\n1,2,3\n4,5,6\n", "title.csv")
    assert list(df.columns) == ["a", "b", "c"] and len(df) == 2


def test_japanese_and_western_dates_mixed_in_one_column_are_dates_with_the_forms_found():
    body = "日付,売上\n2024年2月26日,1\n令和5年10月3日,2\n2024/02/26,3\n,4\n2023-01-05,5\n".encode()
    df, report = read_table(body, "dates.csv")
    assert pd.api.types.is_datetime64_any_dtype(df["日付"])
    assert df["日付"].dt.strftime("%Y-%m-%d").tolist()[:3] == ["2024-02-26", "2023-10-03", "2024-02-26"]
    assert df["日付"].isna().tolist() == [False, False, False, True, False]
    note = next(c for c in report.conversions if c.key == "import.conv.mixed_dates")
    for form in ("2024年2月26日", "令和5年10月3日", "2024/02/26", "2023-01-05"):
        assert form in note.params["formats"]


def test_mixed_dates_with_one_value_that_is_no_date_stay_text():
    body = "d\n2024年2月26日\n令和5年10月3日\n2024/02/26\nsoon\n".encode()
    df, _ = read_table(body, "dates.csv")
    assert not pd.api.types.is_datetime64_any_dtype(df["d"])


# ---------------------------------------------------------------- targets and training


@pytest.mark.parametrize("columns, expected, key", [
    (["id", "age", "income", "label"], "label", "target.proposed.by_name"),
    (["ID", "結果", "数量", "地域"], "結果", "target.proposed.by_name"),
    (["customer_id", "x", "y", "z"], "z", "target.proposed.last"),  # y beside x is a coordinate
    (["passenger_id", "age", "fare", "sex"], "sex", "target.proposed.last"),
])
def test_the_target_proposed_is_a_named_or_the_last_column_never_an_id(columns, expected, key):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({c: rng.integers(0, 3, 60) for c in columns})
    frame[columns[0]] = range(60)  # an ID first, as tables usually start
    column, why = propose_target(frame)
    assert column == expected and why.key == key and why.params["column"] == expected


@pytest.mark.parametrize("columns, source, expected, key", [
    (["mpg", "cylinders", "weight", "origin"], "mpg.csv", "mpg", "target.proposed.by_file"),
    (["total_bill", "tip", "sex", "size"], "tips.csv", "tip", "target.proposed.by_file"),  # the file is plural
    (["売上", "店舗", "気温"], "売上.csv", "売上", "target.proposed.by_file"),
    (["sales", "price", "region"], "2024_sales-report.CSV", "sales", "target.proposed.by_file"),
    (["price", "label", "region"], "price.csv", "label", "target.proposed.by_name"),  # "label" says it outright
    (["mpg", "weight", "origin"], "cars.csv", "origin", "target.proposed.last"),
    (["mpg", "weight", "origin"], "", "origin", "target.proposed.last"),
])
def test_a_column_the_file_is_named_after_is_proposed_as_the_target(columns, source, expected, key):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({c: rng.normal(size=60) for c in columns})
    column, why = propose_target(frame, source)
    assert column == expected and why.key == key and why.params["column"] == expected
    if key == "target.proposed.by_file":
        assert why.params["file"] == source


@pytest.mark.parametrize("model", ["hist_gradient_boosting", "logistic_regression", "random_forest"])
@pytest.mark.parametrize("rare_rows", [1, 2, 3])
def test_a_class_smaller_than_the_folds_trains(model, rare_rows):
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    frame["target"] = frame["target"].map({0: "setosa", 1: "versicolor", 2: "virginica"})
    frame.loc[: rare_rows - 1, "target"] = "rare"
    experiment = train_experiment(frame, Recipe(), Settings("target", "multiclass", model))
    assert experiment.metrics["accuracy"] > 0.6 and len(experiment.cv_scores) == 5


BALANCED = [spec.id for spec in CATALOGUE.values() if spec.class_weight and BINARY in spec.tasks]
CODES = {"digits": ("0", "1"), "leading zeros": ("01", "02", "03"), "signed": ("-1", "1"), "full-width": ("１", "２"),
         "digit and word": ("1", "x")}


@pytest.mark.parametrize("model, codes", [(model, "leading zeros") for model in BALANCED] + [
    (forest, codes) for forest in ("random_forest", "extra_trees") for codes in CODES if codes != "leading zeros"])
def test_balanced_classes_train_on_codes_written_as_text(model, codes):
    """A target of codes that are text ("01", "02" stay text on reading; "0"/"1" once made text on the Clean page)
    with balanced classes: scikit-learn's forests looked each class up as int("01") and refused ("The classes,
    [1, 2], are not in class_weight"). Every model that weighs classes trains, predicts the labels as written, and
    weighs them as it does the same classes named by letters."""
    labels, rng = CODES[codes], np.random.default_rng(0)
    x = rng.normal(size=240)
    drawn = np.digitize(x + rng.normal(scale=0.5, size=240), [0.8, 1.6][: len(labels) - 1])
    frame = pd.DataFrame({"x": x, "z": rng.normal(size=240), "grade": pd.Series([labels[c] for c in drawn], dtype="str")})
    task = BINARY if len(labels) == 2 else MULTICLASS
    coded = train_experiment(frame, Recipe(), Settings("grade", task, model, balanced=True))
    assert set(coded.predictions) <= set(labels) and set(coded.classes) == set(labels)
    letters = dict(zip(sorted(labels), "abc"))  # the same classes in the same order, named by letters
    lettered = train_experiment(frame.assign(grade=frame["grade"].map(letters)), Recipe(),
                                Settings("grade", task, model, balanced=True))
    assert [letters[p] for p in coded.predictions] == lettered.predictions
    assert coded.metrics["balanced_accuracy"] == pytest.approx(lettered.metrics["balanced_accuracy"])
    curve = learning_curve_data(frame, Recipe(), Settings("grade", task, model, balanced=True), sizes=(1.0,))
    assert curve["valid_mean"].notna().all()


def test_codes_with_leading_zeros_stay_text_on_reading():
    frame, report = read_table(b"x,grade\n1,01\n2,02\n3,01\n", "grades.csv")
    assert report.column_kinds["grade"] == "categorical" and frame["grade"].tolist() == ["01", "02", "01"]


# ---------------------------------------------------------------- export and ONNX


def test_an_all_numeric_table_with_slashes_in_its_names_exports_with_onnx(tmp_path):
    from sklearn.datasets import load_wine

    from workbench.cli import main

    wine = load_wine(as_frame=True).frame  # a column is named od280/od315_of_diluted_wines
    (tmp_path / "wine.csv").write_bytes(_csv(wine))
    assert main(["train", "--data", str(tmp_path / "wine.csv"), "--target", "target", "--model", "random_forest",
                 "--out", str(tmp_path / "b.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "b.zip") as bundle:
        meta = json.loads(bundle.read("schema.json"))
        assert meta["onnx"]["converted"] and "model.onnx" in bundle.namelist()


@pytest.mark.parametrize("lang, words", [("en", "the model (Gradient boosting (histogram))"),
                                         ("ja", "モデル（勾配ブースティング")])
def test_the_onnx_reason_names_the_part_in_the_users_language_without_converter_text(lang, words):
    from sklearn.datasets import load_wine

    from workbench.deploy.export import build_bundle
    from workbench.deploy.modelfile import dump_pipeline
    from workbench.experiments import record_of

    wine = load_wine(as_frame=True).frame
    wine["target"] = wine["target"].astype(str)
    experiment = train_experiment(wine, Recipe(), Settings("target", "multiclass", "hist_gradient_boosting"))
    bundle = build_bundle(dump_pipeline(experiment.pipeline), record_of(experiment), None, wine, lang=lang)
    reason = json.loads(zipfile.ZipFile(io.BytesIO(bundle)).read("schema.json"))["onnx"]["reason"]
    assert words in reason.replace(t("model.hist_gradient_boosting", lang="ja"), "勾配ブースティング")
    assert "TreeEnsemble" not in reason and "attributes" not in reason


# ---------------------------------------------------------------- replay of a damaged export


def _damaged_export(store) -> bytes:
    from workbench.deploy.replay import export_project
    from workbench.experiments import save_experiment

    project = store.create_project("damaged")
    frame, report = read_table(sample_bytes("titanic.csv"), "titanic.csv")
    frame = frame.head(200)
    dataset = store.add_dataset(project.id, "titanic", _csv(frame), "titanic.csv", frame, report)
    version = store.save_recipe(project.id, Recipe().to_json())
    save_experiment(store, project.id, dataset.id, version,
                    train_experiment(frame, Recipe(), Settings("survived", "binary", "logistic_regression")))
    exported = zipfile.ZipFile(io.BytesIO(export_project(store, project.id)))
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as out:
        out.writestr("project.json", exported.read("project.json"))  # its dataset's raw file left out
    return damaged.getvalue()


def test_replay_of_an_export_missing_a_dataset_file_is_refused_and_leaves_no_project(store):
    from workbench.deploy.replay import replay

    data = _damaged_export(store)
    before = {p.id for p in store.list_projects()}
    with pytest.raises(UserError) as caught:
        replay(data, store)
    assert caught.value.key == "replay.missing_file" and caught.value.params["dataset"] == "titanic"
    assert {p.id for p in store.list_projects()} == before


def test_replay_command_on_a_damaged_export_exits_2_with_one_line_and_no_traceback(store, workspace, tmp_path):
    path = tmp_path / "damaged.zip"
    path.write_bytes(_damaged_export(store))
    done = subprocess.run([sys.executable, "-m", "workbench", "replay", str(path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**__import__("os").environ, "WORKBENCH_LANG": "ja"})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "titanic" in done.stderr and "不完全" in done.stderr
    assert [p.name for p in store.list_projects()] == ["damaged"]


def test_replay_refuses_a_project_json_of_the_wrong_shape(store):
    from workbench.deploy.replay import replay

    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as out:
        out.writestr("project.json", json.dumps({"format": 1, "datasets": [{"id": "x"}], "experiments": []}))
    with pytest.raises(UserError) as caught:
        replay(damaged.getvalue(), store)
    assert caught.value.key == "replay.damaged" and not store.list_projects()


def test_multiclass_roc_auc_is_defined_when_a_rare_class_is_missing_from_the_test_rows():
    from sklearn.metrics import roc_auc_score

    from workbench.evaluation import classification_metrics

    classes = np.array(["a", "b", "c"])
    y = np.array(["a", "b", "a", "b", "a", "b"])  # no 'c' among the test rows
    proba = np.array([[.8, .1, .1], [.2, .7, .1], [.6, .3, .1], [.3, .6, .1], [.5, .4, .1], [.4, .5, .1]])
    got = classification_metrics(y, classes[proba.argmax(axis=1)], proba, classes)["roc_auc"]
    assert got == pytest.approx(np.mean([roc_auc_score(y == "a", proba[:, 0]), roc_auc_score(y == "b", proba[:, 1])]))
    full = np.array(["a", "b", "c", "a", "b", "c"])  # all present: the same as scikit-learn's macro one-vs-rest
    assert classification_metrics(full, full, proba, classes)["roc_auc"] == pytest.approx(
        roc_auc_score(full, proba, multi_class="ovr", labels=classes))
