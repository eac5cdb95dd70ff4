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


def test_register_promote_roll_back_and_serve_from_the_shell_do_what_the_deploy_page_does(workspace):
    import urllib.request

    from tests.conftest import free_port
    from tests.test_deploy import _trained
    from workbench.store import Store

    store = Store(workspace)
    project = store.create_project("Churn 解約")
    first, second = _trained(store, project.id), _trained(store, project.id, "decision_tree")
    for command in ("register", "promote", "serve"):
        assert _run(command, "--help").returncode == 0
    done = _run("register", "--project", "churn 解約", "--experiment", first.id, "--note", "baseline")
    assert done.returncode == 0, done.stderr
    assert "Registered as version 1." in done.stderr and json.loads(done.stdout)["aliases"] == {"production": 1}
    assert json.loads(_run("register", "--project", project.id, "--experiment", second.id).stdout)["aliases"] == {
        "production": 1}  # a later version waits for a promotion
    promoted = json.loads(_run("promote", "--project", project.id, "--version", "2").stdout)
    assert promoted["aliases"] == {"production": 2} and promoted["versions"][1]["note"] == "baseline"
    back = _run("promote", "--project", project.id, "--roll-back")
    assert back.returncode == 0 and json.loads(back.stdout)["aliases"] == {"production": 1}

    port = free_port()
    started = _run("serve", "start", "--project", project.id, "--port", str(port))
    try:
        assert started.returncode == 0, started.stderr
        now = json.loads(started.stdout)
        assert now["running"] and now["version"] == 1 and now["url"] == f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{now['url']}/health", timeout=5) as answer:
            assert json.loads(answer.read())["version"] == "1"
        assert json.loads(_run("serve", "status", "--project", project.id).stdout)["running"]
    finally:
        stopped = _run("serve", "stop", "--project", project.id)
    assert stopped.returncode == 0 and not json.loads(stopped.stdout)["running"]
    assert [v.number for v in store.list_versions(project.id)] == [2, 1]  # nothing lost on the way


def test_deploy_commands_say_what_is_wrong_in_the_users_language(workspace):
    from tests.test_deploy import _trained
    from workbench.store import Store

    store = Store(workspace)
    churn, prices = store.create_project("churn"), store.create_project("prices")
    unknown = _run("register", "--project", "nope", lang="ja_JP.UTF-8")
    assert unknown.returncode == 2 and "「nope」というプロジェクトはありません" in unknown.stderr
    empty = _run("register", "--project", "churn")
    assert empty.returncode == 2 and "no experiment to register yet" in empty.stderr
    experiment = _trained(store, churn.id)
    other = _run("register", "--project", "prices", "--experiment", experiment.id)
    assert other.returncode == 2 and "belongs to another project" in other.stderr
    assert _run("register", "--project", "churn").returncode == 0
    missing = _run("promote", "--project", "churn", "--version", "7")
    assert missing.returncode == 2 and "no model version 7" in missing.stderr
    assert "Traceback" not in missing.stderr + other.stderr + unknown.stderr
    no_production = _run("serve", "start", "--project", "prices", lang="ja_JP.UTF-8")
    assert no_production.returncode == 2 and "Traceback" not in no_production.stderr
    assert store.list_versions(prices.id) == []
