"""What a Japanese analyst saw go wrong after training (issue 19): the user's own labels and values everywhere.

Each test here failed before its fix: yes/no targets came back as 0.0/1.0, the predictions file rewrote the
user's columns (はい -> True, 4 -> 4.0) and named its new columns in English, and 'most confident wrong'
listed right answers for a boolean target.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from tests.conftest import fresh_python
from workbench.deploy.export import about_dataset, build_bundle
from workbench.deploy.modelfile import dump_pipeline
from workbench.deploy.predict import Predictor, added_columns
from workbench.experiments import evaluation_frame, record_of
from workbench.explain import rows_worth_a_look
from workbench.io import read_table
from workbench.recipe import Recipe
from workbench.training import Settings, Split, class_labels, train_experiment


def _sales(rows: int = 120) -> bytes:
    """A Shift-JIS sales file: a はい/いいえ target, a yes/no feature, an integer column with gaps."""
    rng = np.random.default_rng(0)
    amount = rng.integers(1, 20, rows)
    lines = ["顧客番号,数量,会員,地域,リピート"]
    for i, a in enumerate(amount):
        quantity = "" if i % 9 == 4 else str(a)
        member = "○" if i % 3 else "×"
        repeat = "はい" if a + rng.normal(0, 3) > 10 else "いいえ"
        lines.append(f"C{i:04d},{quantity},{member},{'東京大阪名古屋'[i % 3 * 2:i % 3 * 2 + 2]},{repeat}")
    return ("\n".join(lines) + "\n").encode("cp932")


def _trained(data: bytes, target: str = "リピート"):
    frame, _ = read_table(data, "売上.csv")
    return frame, train_experiment(frame, Recipe(), Settings(target, "binary", "logistic_regression",
                                                             split=Split(folds=3)))


def test_yes_no_words_stay_as_written_and_are_the_classes():
    frame, report = read_table(_sales(), "売上.csv")
    assert report.column_kinds["リピート"] == "boolean" and report.column_kinds["会員"] == "boolean"
    assert set(frame["リピート"]) == {"はい", "いいえ"} and set(frame["会員"]) == {"○", "×"}
    _, experiment = _trained(_sales())
    assert experiment.classes == ["いいえ", "はい"]
    assert set(map(str, experiment.predictions)) <= {"はい", "いいえ"}


@pytest.mark.parametrize("values, expected", [
    (pd.array([True, False, True, False] * 15, dtype="boolean"), {False, True}),   # Excel or parquet booleans
    (pd.Series([1.0, 2.0, 4.0] * 20), {1, 2, 4}),                                   # integer codes read as floats
    (pd.array([1, 2, 4] * 20, dtype="Int64"), {1, 2, 4}),
])
def test_boolean_and_integer_coded_targets_keep_their_values_as_classes(values, expected):
    frame = pd.DataFrame({"x": np.arange(60.0), "y": values})
    task = "binary" if len(expected) == 2 else "multiclass"
    experiment = train_experiment(frame, Recipe(), Settings("y", task, "logistic_regression", split=Split(folds=3)))
    stored = record_of(experiment)["classes"]
    assert stored == sorted(expected) and [type(c) for c in stored] == [type(c) for c in sorted(expected)]
    assert {str(c) for c in experiment.classes} == {str(c) for c in expected}  # not 0.0/1.0 or 4.0


def test_class_labels_leaves_text_and_real_numbers_alone():
    text = pd.Series(["a", "b"])
    assert class_labels(text) is text
    assert class_labels(pd.Series([0.5, 1.0])).dtype == float


@pytest.mark.parametrize("lang, prediction, probability", [("ja", "予測", "確率_はい"),
                                                           ("en", "prediction", "probability_はい")])
def test_predictions_keep_the_users_values_and_name_added_columns_in_the_users_language(lang, prediction,
                                                                                      probability):
    frame, experiment = _trained(_sales())
    uploaded = frame.drop(columns=["リピート"]).head(12)
    out, _ = Predictor.from_record(experiment.pipeline, record_of(experiment)).predict(uploaded, lang)
    answer, shares = added_columns(out, uploaded)
    assert answer == prediction and probability in shares
    assert set(out[answer]) <= {"はい", "いいえ"}
    text = out.to_csv(index=False)
    assert "4.0" not in text and ",○," in text and "True" not in text
    assert out["数量"].isna().sum() == uploaded["数量"].isna().sum()  # the gaps stay gaps


def test_an_added_column_never_overwrites_one_of_the_users():
    frame, experiment = _trained(_sales())
    uploaded = frame.drop(columns=["リピート"]).head(5).assign(予測="mine")
    out, _ = Predictor.from_record(experiment.pipeline, record_of(experiment)).predict(uploaded, "ja")
    assert out["予測"].tolist() == ["mine"] * 5 and added_columns(out, uploaded)[0] == "予測_2"


def test_the_bundle_writes_japanese_column_names_and_warnings_with_the_users_values(tmp_path):
    data = _sales()
    frame, experiment = _trained(data)
    bundle = build_bundle(dump_pipeline(experiment.pipeline), record_of(experiment),
                          about_dataset("売上", "売上.csv", frame), frame, "ja")
    zipfile.ZipFile(io.BytesIO(bundle)).extractall(tmp_path)
    lines = [",".join(line.split(",")[:3]) for line in data.decode("cp932").splitlines()[:11]]  # no 地域
    (tmp_path / "new.csv").write_bytes(("\n".join(lines) + "\n").encode("cp932"))
    run = fresh_python(["predict.py", "new.csv", "out.csv"], tmp_path)
    assert run.returncode == 0, run.stderr
    assert "地域" in run.stderr and "欠損" in run.stderr  # the missing column, said in Japanese
    out = pd.read_csv(tmp_path / "out.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(out.columns) == ["顧客番号", "数量", "会員", "予測", "確率_いいえ", "確率_はい"]
    assert set(out["予測"]) <= {"はい", "いいえ"} and set(out["会員"]) == {"○", "×"}
    assert [line.split(",")[1] for line in lines[1:]] == out["数量"].tolist()  # 4 stays 4, a gap stays empty


def test_most_confident_wrong_lists_only_wrong_rows_for_a_boolean_target():
    frame = pd.DataFrame({"x": np.r_[np.zeros(30), np.ones(30)], "noise": np.arange(60.0) % 7,
                          "y": pd.array([False] * 27 + [True] * 3 + [True] * 27 + [False] * 3, dtype="boolean")})
    experiment = train_experiment(frame, Recipe(), Settings("y", "binary", "logistic_regression",
                                                            split=Split(folds=3, test_size=0.5)))
    evaluation = evaluation_frame(experiment)
    listed = rows_worth_a_look(evaluation, "binary", 0.5, "wrong")
    truly_wrong = {r for r, a, p in zip(evaluation["row"], evaluation["actual"], evaluation["predicted"]) if a != p}
    assert truly_wrong and set(listed["row"]) == truly_wrong
    # an evaluation stored before the fix: actual as the text 'True', predicted as 1.0
    old = evaluation.assign(actual=evaluation["actual"].astype(str),
                            predicted=evaluation["predicted"].astype(float))
    assert set(rows_worth_a_look(old, "binary", 0.5, "wrong")["row"]) == truly_wrong


def test_the_model_reads_what_the_recipe_keeps_and_what_its_steps_read_before_a_drop():
    from workbench import steps as S

    recipe = (Recipe().add(S.FilterRows("id", "present")).add(S.Formula("a", "add", "b", "sum"))
              .add(S.DropColumns(["a", "id", "leak"])))
    # 'a' feeds the formula; 'id' only chooses training rows, which new rows never need
    assert recipe.inputs(["id", "a", "b", "leak", "y"]) == ["a", "b", "y"]
    frame = pd.DataFrame({"id": range(60), "a": np.arange(60.0) % 5, "b": np.arange(60.0) % 3,
                          "leak": [0, 1] * 30, "y": ["n", "y"] * 30})
    experiment = train_experiment(frame, recipe, Settings("y", "binary", "logistic_regression", split=Split(folds=3)))
    assert experiment.features == ["a", "b"] and list(experiment.schema) == ["a", "b"]


def test_generated_code_shows_plain_values_not_numpy_reprs():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from workbench.automl import pipeline_code

    model = make_pipeline(StandardScaler(with_mean=np.True_),
                          LogisticRegression(penalty=np.str_("l1"), C=np.float64(0.5), solver="liblinear"))
    code = pipeline_code(model)
    assert "penalty='l1'" in code and "C=0.5" in code and "np." not in code.split("model = ")[1]
    namespace: dict = {}
    exec(code, namespace)  # the code runs as shown
    assert namespace["model"].get_params()["logisticregression__penalty"] == "l1"


def test_automl_says_why_pipelines_failed():
    """'Failed 17' was shown with no reason: TPOT's own marks (INVALID, TIMEOUT) are now counted by kind."""
    import types

    from workbench.automl import AutoMLSettings, Search

    search = Search(pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]}), Recipe(), AutoMLSettings("y", "binary"))
    population = pd.DataFrame({"roc_auc": ["INVALID", "TIMEOUT", "INVALID", 0.8],
                               "Submitted Timestamp": [1.0, 2.0, 3.0, 4.0], "Completed Timestamp": [2.0, 3.0, 4.0, 5.0],
                               "Individual": [None] * 4})
    search._watch(types.SimpleNamespace(evaluated_individuals=population), final=True)
    progress = search.progress()
    assert progress.failures == 3 and progress.failure_reasons == {"error": 2, "timeout": 1}


@pytest.fixture(scope="module")
def explained_titanic():
    from tests.conftest import sample_bytes
    from workbench.explain import explain

    frame, _ = read_table(sample_bytes("titanic.csv"), "titanic.csv")
    frame = frame.drop(columns=["alive"])
    experiment = train_experiment(frame, Recipe(), Settings("survived", "binary", "logistic_regression",
                                                            split=Split(folds=3)))
    X = frame[experiment.features]
    return experiment, X, explain(experiment.pipeline, X.head(60), X.head(100), "binary", experiment.classes)


def test_a_binary_explanation_in_probability_adds_up_to_each_predicted_probability(explained_titanic):
    from workbench.explain import PROBABILITY, in_probability

    experiment, X, explanation = explained_titanic
    shown = in_probability(explanation)
    assert explanation.unit == "log_odds" and shown.unit == PROBABILITY
    predicted = experiment.pipeline.predict_proba(X.head(60))[:, 1]
    assert np.allclose(shown.base[0] + shown.values[0].sum(axis=1), predicted, atol=1e-6)
    assert np.array_equal(np.sign(shown.values), np.sign(explanation.values))  # directions kept


@pytest.mark.parametrize("lang, words", [("en", ["'who' = woman makes '1' most likely.",
                                                 "'sex' = female makes '1' most likely."]),
                                         ("ja", ["「who」が「woman」のとき最も「1」になりやすい。",
                                                 "「sex」が「female」のとき最も「1」になりやすい。"])])
def test_the_top_reasons_read_as_plain_sentences_in_both_languages(explained_titanic, lang, words):
    from workbench.explain import reasons

    _, _, explanation = explained_titanic
    notes = reasons(explanation, 0, "survived")
    texts = [n.text(lang) for n in notes]
    assert len(texts) == 3 and any(w in texts for w in words), texts
    numbers = [n for n in notes if n.key in ("explain.reason.up", "explain.reason.down")]
    for note in numbers:  # the direction agrees with the data: fare up -> survival up, age up -> down
        column = note.params["column"]
        assert note.key == {"fare": "explain.reason.up", "age": "explain.reason.down",
                            "pclass": "explain.reason.down"}.get(column, note.key)


def test_the_beeswarm_colours_categories_by_category_not_on_a_low_high_scale(explained_titanic):
    from workbench.explain_charts import beeswarm

    _, _, explanation = explained_titanic
    figure = beeswarm(explanation)
    by_column = {trace.text[0].split(" = ")[0]: trace for trace in figure.data}
    assert isinstance(by_column["sex"].marker.color[0], str) and by_column["sex"].marker.colorscale is None
    assert by_column["fare"].marker.colorscale is not None


def test_tree_explanations_say_how_far_they_are_and_give_the_same_values():
    """Explaining an ensemble took 97 s with no percentage: tree SHAP now runs in chunks and reports each."""
    from tests.conftest import sample_bytes
    from workbench.explain import explain

    frame, _ = read_table(sample_bytes("titanic.csv"), "titanic.csv")
    frame = frame.drop(columns=["alive"])
    experiment = train_experiment(frame, Recipe(), Settings("survived", "binary", "random_forest",
                                                            {"n_estimators": 50}, split=Split(folds=2)))
    X = frame[experiment.features].head(80)
    shares: list[float] = []
    reported = explain(experiment.pipeline, X, X, "binary", experiment.classes, report=shares.append)
    quiet = explain(experiment.pipeline, X, X, "binary", experiment.classes)
    assert len(shares) >= 5 and shares == sorted(shares) and shares[-1] == 1.0
    assert np.allclose(reported.values, quiet.values)


def test_cluster_words_name_only_real_differences():
    """A 1.4% gap was called 'lower' (低い): differences under 0.2 sd (or a 10-point lift) are not named."""
    from workbench.clustering import profiles
    from workbench.deploy.modelcard import describe_difference

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"price": np.r_[rng.normal(100, 10, 50), rng.normal(140, 10, 50)],
                          "size": rng.normal(50, 10, 100)})  # the same in both clusters
    frame.loc[:49, "size"] += 0.14  # a 1.4% gap
    labels = np.r_[np.zeros(50, int), np.ones(50, int)]
    found = profiles(frame, labels, ["price", "size"])
    named = {d["column"] for p in found for d in p["differences"]}
    assert named == {"price"}
    assert "price" in describe_difference(found[0]["differences"][0], "ja")
