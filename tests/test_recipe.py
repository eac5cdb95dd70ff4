"""The recipe: every step kind, its preview, its compiled pipeline, JSON, and the bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import sample_bytes
from workbench import steps as S
from workbench.errors import UserError
from workbench.io import read_table
from workbench.recipe import ROW, STEP_TYPES, Recipe, check_step, parse_mapping


@pytest.fixture(scope="module")
def taxis_like() -> pd.DataFrame:
    return read_table(sample_bytes("flights.csv"), "flights.csv")[0]


def _key(fn) -> str:
    with pytest.raises(UserError) as info:
        fn()
    return info.value.key


def _recipe(*steps) -> Recipe:
    recipe = Recipe()
    for step in steps:
        recipe = recipe.add(step)
    return recipe


# One example of every registered step kind, on titanic.
EXAMPLES = {
    "drop_missing_rows": S.DropMissingRows(["embarked"]),
    "drop_duplicates": S.DropDuplicates(),
    "remove_outliers": S.RemoveOutliers(["fare"], "iqr", 3.0),
    "filter_rows": S.FilterRows("age", "ge", "18"),
    "drop_columns": S.DropColumns(["alive", "who"]),
    "rename_columns": S.RenameColumns({"sex": "性別"}),
    "cast_columns": S.CastColumns(["pclass"], "category"),
    "date_parts": None,  # needs a date column: tested on flights below
    "elapsed_days": None,
    "trim_text": None,  # titanic's text is tidy: tested on messy text below
    "formula": S.Formula("sibsp", "add", "parch", "family"),
    "map_values": S.MapValues("embarked", {"S": "Southampton", "C": "Cherbourg"}),
    "impute": S.Impute(["age"], "median", indicator=True),
    "group_rare": S.GroupRare(["deck"], 0.05),
    "encode": S.Encode(["embarked"], "onehot"),
    "scale": S.Scale(["fare"], "standard"),
    "transform": S.Transform(["fare"], "log"),
    "bin": S.Bin(["fare"], 4, "quantile"),
    "clip_outliers": S.ClipOutliers(["fare"], "iqr", 1.5),
    "flag_outliers": S.FlagOutliers(["fare"], "zscore", 3.0),
    "pca": S.ReduceDimensions(["age", "fare", "sibsp", "parch"], 2),
}


def test_every_registered_step_has_an_example():
    assert set(EXAMPLES) == set(STEP_TYPES)


@pytest.mark.parametrize("kind", [k for k, v in EXAMPLES.items() if v is not None])
def test_each_step_previews_applies_and_compiles(titanic, kind):
    step = EXAMPLES[kind]
    preview = check_step(titanic, step)
    after = _recipe(step).apply(titanic)
    assert preview.rows_after == len(after)
    if step.sort == ROW:
        assert len(after) < len(titanic) and after.columns.equals(titanic.columns)
        assert len(preview.sample_before) > 0  # which rows go
        assert len(_recipe(step).to_sklearn().fit(titanic).transform(titanic)) == len(titanic)  # not at predict
    else:
        assert preview.changed_cells or preview.columns_added or preview.columns_removed
        compiled = _recipe(step).to_sklearn().fit(titanic).transform(titanic)
        pd.testing.assert_frame_equal(compiled, after)


def test_date_parts_and_elapsed_days(taxis_like):
    dated = taxis_like.assign(when=pd.to_datetime(taxis_like["year"].astype(str) + "-" + taxis_like["month"] + "-01",
                                                  format="%Y-%B-%d"))
    after = _recipe(S.DateParts("when", ["year", "month", "quarter"])).apply(dated)
    assert {"when_year", "when_month", "when_quarter"} <= set(after.columns) and "when" not in after
    assert after["when_quarter"].max() == 4
    days = _recipe(S.ElapsedDays("when", "1949-01-01")).apply(dated)
    assert days["when_days"].iloc[0] == 0 and days["when_days"].iloc[12] == 365


def test_trim_text_tidies_spaces_and_full_width():
    df = pd.DataFrame({"shop": pd.Series(["  新宿　店 ", "ＡＢＣ  mart", None], dtype="str")})
    preview = check_step(df, S.TrimText(["shop"]))
    assert preview.changed_cells == 2
    assert _recipe(S.TrimText(["shop"])).apply(df)["shop"].tolist()[:2] == ["新宿 店", "ABC mart"]


def test_compiled_pipeline_equals_preview_for_a_long_recipe(titanic):
    recipe = _recipe(
        S.Impute(["age"], "median", indicator=True), S.Encode(["embarked", "sex"], "onehot"), S.Scale(["fare"]),
        S.Formula("fare", "add", "age", "fare_plus_age"), S.CastColumns(["pclass"], "category"),
        S.GroupRare(["deck"], 0.05), S.Transform(["fare"], "yeo-johnson"), S.Bin(["age"], 4),
        S.ClipOutliers(["sibsp"]), S.FlagOutliers(["parch"]), S.DropColumns(["alive"]),
        S.RenameColumns({"who": "person"}), S.TrimText(["class"]), S.MapValues("class", {"First": "1st"}),
        S.Encode(["class"], "target", "survived"), S.Impute(["deck"], "most_frequent"),
        S.Impute(["embark_town"], "constant", "unknown"), S.Impute(["age", "fare"], "knn"),
    )
    pipeline = recipe.to_sklearn().fit(titanic, titanic["survived"])
    pd.testing.assert_frame_equal(pipeline.transform(titanic), recipe.apply(titanic))
    assert list(pipeline.get_feature_names_out()) == list(recipe.apply(titanic).columns)


def test_learned_steps_see_training_rows_only(titanic):
    train, test = titanic.iloc[:600], titanic.iloc[600:]
    pipeline = _recipe(S.Impute(["age"], "mean"), S.Scale(["fare"], "standard")).to_sklearn().fit(train)
    out = pipeline.transform(test)
    filled = out.loc[test["age"].isna(), "age"]
    assert np.allclose(filled, train["age"].mean()) and not np.isclose(train["age"].mean(), titanic["age"].mean())
    expected = (test["fare"] - train["fare"].mean()) / train["fare"].std(ddof=0)
    assert np.allclose(out["fare"], expected)


def test_unseen_category_at_prediction_does_not_fail(titanic):
    pipeline = _recipe(S.Encode(["embarked"], "onehot")).to_sklearn().fit(titanic)
    new = titanic.head(2).assign(embarked=["Z", None])
    out = pipeline.transform(new)
    assert out.filter(like="embarked_").iloc[0].sum() == 0


def test_training_rows_apply_column_steps_before_row_steps(titanic):
    recipe = _recipe(S.CastColumns(["age"], "text"), S.CastColumns(["age"], "number"), S.FilterRows("age", "lt", "10"))
    kept = recipe.training_rows(titanic)
    assert set(kept) == set(titanic.index[titanic["age"] < 10])


def test_editing_undo_like_operations(titanic):
    a, b, c = S.DropDuplicates(), S.Impute(["age"]), S.Scale(["fare"])
    recipe = _recipe(a, b, c)
    assert [s.kind for s in recipe.move(2, 0).active] == ["scale", "drop_duplicates", "impute"]
    assert [s.kind for s in recipe.remove(1).active] == ["drop_duplicates", "scale"]
    off = recipe.toggle(0)
    assert not off.entries[0].enabled and len(off.apply(titanic)) == len(titanic)
    assert off.toggle(0).entries[0].enabled
    assert [s.kind for s in recipe.active] == ["drop_duplicates", "impute", "scale"]  # the original is unchanged


def test_json_round_trip_keeps_order_params_and_switches(titanic):
    recipe = _recipe(S.RenameColumns({"sex": "性別"}), S.Impute(["age"], "knn"), S.FilterRows("性別", "eq", "male"))
    recipe = recipe.toggle(1)
    again = Recipe.from_json(recipe.to_json())
    assert again == recipe and again.digest() == recipe.digest()
    assert "性別" in recipe.to_json()  # Japanese kept readable


@pytest.mark.parametrize("text", ["not json", "[]", '{"steps": [{"kind": "nope"}]}', '{"steps": "x"}',
                                  '{"steps": [{"kind": "impute", "colums": 1}]}'])
def test_bad_recipe_json_is_refused(text):
    assert _key(lambda: Recipe.from_json(text)) == "recipe.bad_json"


# ---------------------------------------------------------------- bad input: clear message, nothing applied


def test_a_step_that_removes_every_row(titanic):
    recipe = Recipe()
    assert _key(lambda: recipe.add(S.FilterRows("age", "gt", "1000"), titanic)) == "recipe.removes_all_rows"
    assert recipe.entries == []


def test_a_cast_that_fails_on_every_value_names_examples(titanic):
    with pytest.raises(UserError) as info:
        Recipe().add(S.CastColumns(["sex"], "number"), titanic)
    assert info.value.key == "recipe.cast_failed_all" and "male" in info.value.params["examples"]


def test_a_cast_that_fails_on_some_values_is_allowed_and_counted():
    df = pd.DataFrame({"price": pd.Series(["1,200", "３００", "n/a?", "45"], dtype="str")})
    preview = check_step(df, S.CastColumns(["price"], "number"))
    assert preview.failed["price"] == (1, ["n/a?"])
    assert _recipe(S.CastColumns(["price"], "number")).apply(df)["price"].tolist()[:2] == [1200.0, 300.0]


def test_a_formula_dividing_by_zero(titanic):
    with pytest.raises(UserError) as info:
        Recipe().add(S.Formula("fare", "divide", "sibsp", "ratio"), titanic)
    assert info.value.key == "recipe.division_by_zero" and info.value.params["count"] == (titanic["sibsp"] == 0).sum()


def test_a_step_referencing_a_column_a_later_file_lacks(titanic):
    recipe = _recipe(S.Impute(["age"]), S.DropColumns(["deck"]))
    other = titanic.drop(columns=["deck"])
    with pytest.raises(UserError) as info:
        recipe.check_columns(other)
    assert info.value.key == "recipe.missing_columns" and info.value.params["columns"] == "deck"
    recipe.check_columns(titanic)  # the original file is fine


def test_steps_check_their_inputs(titanic):
    assert _key(lambda: check_step(titanic, S.Scale(["sex"]))) == "recipe.needs_numbers"
    assert _key(lambda: check_step(titanic, S.Impute([]))) == "recipe.no_columns"
    assert _key(lambda: check_step(titanic, S.Transform(["fare"], "box-cox"))) == "recipe.needs_positive"
    assert _key(lambda: check_step(titanic, S.Formula("fare", "add", "age", "fare"))) == "recipe.column_exists"
    assert _key(lambda: check_step(titanic, S.FilterRows("age", "gt", "old"))) == "recipe.filter_not_number"
    assert _key(lambda: check_step(titanic, S.Bin(["age"]))) == "recipe.impute_first"
    assert _key(lambda: check_step(titanic, S.Encode(["sex"], "target"))) == "recipe.needs_target"
    assert _key(lambda: check_step(titanic, S.RenameColumns({"sex": "age"}))) == "recipe.bad_new_name"
    assert _key(lambda: check_step(titanic, S.DateParts("sex"))) == "recipe.not_dates"


def test_flag_outliers_preview_counts_and_shows_the_flagged_rows(titanic):
    preview = check_step(titanic, S.FlagOutliers(["fare"], "iqr", 1.5))
    low, high = S.tf.outlier_bounds(titanic["fare"], "iqr", 1.5)
    assert preview.flagged == int(((titanic["fare"] < low) | (titanic["fare"] > high)).sum()) > 0
    assert (preview.sample_after["fare_outlier"] == 1).all() and len(preview.sample_after) == 10
    assert check_step(titanic, S.Impute(["age"], indicator=True)).flagged == titanic["age"].isna().sum()


def test_row_outliers_by_isolation_forest_removes_about_the_share_asked(titanic):
    after = _recipe(S.RemoveOutliers(["fare", "age"], "isolation_forest", 5)).apply(titanic)
    complete = titanic[["fare", "age"]].notna().all(axis=1).sum()
    assert 0.03 * complete <= len(titanic) - len(after) <= 0.07 * complete


def test_parse_mapping():
    assert parse_mapping("東京都 = 東京\n\n大阪府 -> 大阪\nx → y") == {"東京都": "東京", "大阪府": "大阪", "x": "y"}
    assert _key(lambda: parse_mapping("no separator")) == "recipe.bad_mapping"


def test_summaries_name_the_step_in_both_languages():
    from workbench.i18n import set_language

    step = S.Impute(["age"], "median")
    assert step.summary().startswith("Fill missing values")
    set_language("ja")
    try:
        assert step.summary().startswith("欠損値の補完") and "中央値" in step.summary()
    finally:
        set_language("en")
