"""python -m workbench from a shell."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import DATA, ROOT, SAMPLES, fresh_python


def _run(*args: str, lang: str = "en_US.UTF-8") -> subprocess.CompletedProcess:
    env = {**os.environ, "LANG": lang, "PYTHONPATH": str(ROOT)}
    env.pop("WORKBENCH_LANG", None)
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


def test_help_lists_the_read_command():
    result = _run("--help")
    assert result.returncode == 0 and "read" in result.stdout


def test_read_prints_the_report_as_json():
    result = _run("read", str(SAMPLES / "tips_ja_cp932.csv"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["encoding"] == "cp932" and report["rows"] == 244
    assert "チップ（ドル）" in report["column_kinds"]


def test_read_with_options_stops_on_bad_lines():
    result = _run("read", str(DATA / "titanic_bom_ragged.csv"), "--bad-lines", "error")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "6, 11" in result.stderr


def test_unreadable_file_exits_2_with_one_line_in_the_users_language(tmp_path):
    image = tmp_path / "photo.csv"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    result = _run("read", str(image), lang="ja_JP.UTF-8")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("エラー:") and result.stderr.count("\n") == 1
    missing = _run("read", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "nope.csv" in missing.stderr and "Traceback" not in missing.stderr


def test_clean_applies_a_recipe_headless(tmp_path):
    from workbench import steps as S
    from workbench.recipe import Recipe

    recipe = Recipe().add(S.DropDuplicates()).add(S.Impute(["age"], "median")).add(S.DropColumns(["alive"]))
    (tmp_path / "recipe.json").write_text(recipe.to_json(), encoding="utf-8")
    out = tmp_path / "cleaned.csv"
    result = _run("clean", "--data", str(SAMPLES / "titanic.csv"), "--recipe", str(tmp_path / "recipe.json"),
                  "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "784 rows" in result.stdout
    import pandas as pd

    cleaned = pd.read_csv(out, encoding="utf-8-sig")
    assert len(cleaned) == 784 and "alive" not in cleaned and cleaned["age"].notna().all()


def test_clean_refuses_a_recipe_for_other_columns(tmp_path):
    from workbench import steps as S
    from workbench.recipe import Recipe

    (tmp_path / "recipe.json").write_text(Recipe().add(S.Impute(["age"])).to_json(), encoding="utf-8")
    result = _run("clean", "--data", str(SAMPLES / "flights.csv"), "--recipe", str(tmp_path / "recipe.json"),
                  "--out", str(tmp_path / "x.csv"))
    assert result.returncode == 2 and "age" in result.stderr and result.stderr.count("\n") == 1
    bad = tmp_path / "bad.json"
    bad.write_text("{nope", encoding="utf-8")
    result = _run("clean", "--data", str(SAMPLES / "flights.csv"), "--recipe", str(bad), "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and "recipe" in result.stderr


def test_train_writes_a_bundle_whose_predict_py_matches_the_app(tmp_path):
    import zipfile

    import numpy as np
    import pandas as pd

    from workbench.deploy.modelfile import load_pipeline
    from workbench.deploy.predict import predict_rows, prepare
    from workbench.io import read_table

    data = SAMPLES / "penguins.csv"
    result = _run("train", "--data", str(data), "--target", "species", "--model", "random_forest",
                  "--seed", "3", "--out", str(tmp_path / "bundle.zip"))
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["task"] == "multiclass" and printed["metrics"]["balanced_accuracy"] > 0.9
    assert printed["metrics"]["balanced_accuracy"] > printed["baseline"]["balanced_accuracy"]

    bundle = tmp_path / "bundle"
    zipfile.ZipFile(tmp_path / "bundle.zip").extractall(bundle)
    rows = pd.read_csv(data).drop(columns=["species"])
    rows.to_csv(bundle / "in.csv", index=False)
    run = fresh_python(["predict.py", "in.csv", "out.csv"], bundle)
    assert run.returncode == 0, run.stderr
    out = pd.read_csv(bundle / "out.csv", encoding="utf-8-sig")

    meta = json.loads((bundle / "schema.json").read_text(encoding="utf-8"))
    app_rows, _ = read_table((bundle / "in.csv").read_bytes(), "in.csv")
    prepared, _ = prepare(app_rows, meta["schema"])
    app = predict_rows(load_pipeline((bundle / "model.skops").read_bytes()), app_rows, prepared, "multiclass",
                       meta["classes"])
    assert list(out["prediction"]) == list(app["prediction"])
    probability = [c for c in out.columns if c.startswith("probability_")]
    assert len(probability) == 3 and np.allclose(out[probability], app[probability], atol=1e-9)


def test_train_warns_of_leakage_and_refuses_unknown_models(tmp_path):
    result = _run("train", "--data", str(SAMPLES / "titanic.csv"), "--target", "survived", "--model", "dummy",
                  "--out", str(tmp_path / "b.zip"))
    assert result.returncode == 0 and "warning: 'alive' restates the target" in result.stderr
    bad = _run("train", "--data", str(SAMPLES / "titanic.csv"), "--target", "survived", "--model", "gpt",
               "--out", str(tmp_path / "b.zip"))
    assert bad.returncode == 2 and "There is no model 'gpt'" in bad.stderr
