"""Monitoring: the drift statistics (false alarms at the chosen rate at every batch size, power against the
shifts the issue names, on fixed seeds), the label-free estimate, a batch's report on a version, bad batches,
retraining into a challenger, `python -m workbench monitor | retrain`, and the served bundle's GET /monitor."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

from benchmarks.monitor import calibrated_binary
from tests.conftest import ROOT
from tests.test_deploy import _trained
from workbench.deploy import drift as D
from workbench.deploy import monitor as M
from workbench.deploy import performance as P
from workbench.deploy import versions as V
from workbench.deploy.retrain import new_training_table, retrain_job
from workbench.deploy.versions import reference_profile
from workbench.errors import UserError
from workbench.io import to_csv_bytes
from workbench.jobs import JobContext
from workbench.tasks import BINARY

SHARES = [0.4, 0.3, 0.2, 0.1]


def _no_drift_rate(n: int, kind: str, batches: int = 200, seed: int = 0) -> float:
    """Share of batches (each with its own reference of 5,000 rows, as a version has) raising an alarm with
    no drift at all."""
    rng = np.random.default_rng(seed)
    alarms = 0
    for _ in range(batches):
        def draw(size):
            return (pd.Series(rng.normal(size=size)) if kind == "numeric"
                    else pd.Series(rng.choice(list("abcd"), size, p=SHARES)))
        profile = reference_profile(pd.DataFrame({"x": draw(5000)}), ["x"])
        alarms += D.drift_report(profile, pd.DataFrame({"x": draw(n)})).columns[0].p_value <= D.ALPHA
    return alarms / batches


@pytest.mark.parametrize("kind", ["numeric", "categorical"])
@pytest.mark.parametrize("n", [50, 500])
def test_with_no_drift_false_alarms_stay_at_five_percent_however_small_the_batch(kind, n):
    assert 0.03 <= _no_drift_rate(n, kind, batches=1000 if kind == "numeric" else 400) <= 0.07


def test_a_fixed_distance_threshold_would_alarm_on_small_batches_where_the_test_does_not():
    """What common tools do (Wasserstein distance / sd >= 0.1) against the test, on the same no-drift batches."""
    from scipy.stats import wasserstein_distance

    rng = np.random.default_rng(1)
    reference = rng.normal(size=5000)
    batches = [rng.normal(size=50) for _ in range(100)]
    fixed = np.mean([wasserstein_distance(reference, b) / reference.std() >= 0.1 for b in batches])
    profile = reference_profile(pd.DataFrame({"x": reference}), ["x"])
    ours = np.mean([D.drift_report(profile, pd.DataFrame({"x": b})).columns[0].drifted for b in batches])
    assert fixed > 0.5 and ours <= 0.08


def test_a_small_shift_is_found_in_batches_of_500_rows():
    rng = np.random.default_rng(2)
    found_mean, found_share = 0, 0
    for _ in range(100):
        reference = pd.DataFrame({"x": rng.normal(size=5000),
                                  "c": rng.choice(["a", "b", "c"], 5000, p=[0.2, 0.4, 0.4])})
        profile = reference_profile(reference, ["x", "c"])
        batch = pd.DataFrame({"x": rng.normal(0.2, 1, 500), "c": rng.choice(["a", "b", "c"], 500, p=[0.3, 0.35, 0.35])})
        report = {c.column: c for c in D.drift_report(profile, batch).columns}
        found_mean += report["x"].drifted
        found_share += report["c"].drifted
    assert found_mean >= 80 and found_share >= 80


def test_each_verdict_says_the_smallest_shift_its_batch_could_show_and_that_is_what_it_shows():
    rng = np.random.default_rng(3)
    profile = reference_profile(pd.DataFrame({"x": rng.normal(size=5000)}), ["x"])
    small = D.drift_report(profile, pd.DataFrame({"x": rng.normal(size=120)})).columns[0]
    large = D.drift_report(profile, pd.DataFrame({"x": rng.normal(size=2000)})).columns[0]
    assert 0.2 < small.detectable < 0.4 and large.detectable < small.detectable / 2
    shift = small.detectable  # at the stated shift, about 80% of batches of that size find it
    found = np.mean([D.drift_report(profile, pd.DataFrame({"x": rng.normal(shift, 1, 120)})).columns[0].drifted
                     for _ in range(100)])
    assert 0.65 <= found <= 0.95


def test_many_columns_are_corrected_together_and_ranked_by_importance():
    rng = np.random.default_rng(4)
    reference = pd.DataFrame({f"c{i}": rng.normal(size=3000) for i in range(40)})
    profile = reference_profile(reference, list(reference.columns))
    alarms = sum(D.drift_report(profile, pd.DataFrame({f"c{i}": rng.normal(size=200) for i in range(40)})).alarm
                 for _ in range(40))
    assert alarms <= 5  # one report over 40 columns: about 5% of reports, not 1 - 0.95**40 = 87%
    batch = pd.DataFrame({f"c{i}": rng.normal(size=1000) for i in range(40)})
    batch["c1"] += 0.5
    batch["c2"] += 0.5
    report = D.drift_report(profile, batch, importance={"c1": 0.1, "c2": 0.6, **{f"c{i}": 0.01 for i in range(3, 40)}})
    assert [c.column for c in report.columns[:2]] == ["c2", "c1"] and report.columns[0].importance > 0.5


def test_new_categories_missing_values_and_ranges_are_reported():
    reference = pd.DataFrame({"city": ["Tokyo", "Osaka"] * 500, "age": np.arange(1000) % 80,
                              "income": np.linspace(100, 900, 1000)})
    profile = reference_profile(reference, list(reference.columns))
    batch = pd.DataFrame({"city": ["Tokyo", "Nagoya", None, None] * 50, "age": [10, 20, 30, 99] * 50,
                          "income": [50.0, 500.0, 950.0, np.nan] * 50})
    by = {c.column: c for c in D.drift_report(profile, batch).columns}
    assert by["city"].new_categories == ["Nagoya"] and by["city"].missing == (0.0, 0.5)
    assert by["city"].missing_changed and by["city"].drifted
    assert by["income"].below == 50 and by["income"].above == 50
    assert by["age"].kind == "numeric"
    json.dumps(D.drift_report(profile, batch).to_dict(), allow_nan=False)


def test_a_column_of_text_where_training_had_numbers_is_said_so():
    profile = reference_profile(pd.DataFrame({"x": np.arange(500.0)}), ["x"])
    out = D.drift_report(profile, pd.DataFrame({"x": ["abc", "def"] * 10})).columns[0]
    assert out.problem == "not_numbers" and out.unreadable == 20 and not out.drifted


def test_the_label_free_estimate_is_within_three_points_of_the_truth_under_covariate_shift():
    from sklearn.metrics import roc_auc_score

    model, evaluation, rows = calibrated_binary()
    for shift in (0.0, 1.0, -1.5):
        X, y = rows(1000, shift)
        proba = model.predict_proba(X)
        predicted = pd.Series((proba[:, 1] >= 0.5).astype(int))
        e = P.estimate(evaluation, BINARY, [0, 1], proba, predicted)
        assert abs(e.accuracy - np.mean(predicted == y)) <= 0.03
        assert abs(e.roc_auc - roc_auc_score(y, proba[:, 1])) <= 0.03
        assert 0.003 < e.accuracy_sd < 0.03 and e.roc_auc_sd > 0


def test_labelled_batches_alarm_only_outside_the_test_rows_spread():
    model, evaluation, rows = calibrated_binary(1)
    X, y = rows(300)
    proba = model.predict_proba(X)
    predicted = pd.Series((proba[:, 1] >= 0.5).astype(int))
    fine = P.labelled_checks(evaluation, BINARY, [0, 1], pd.Series(y), predicted, proba)
    assert fine[0].metric == "roc_auc" and not fine[0].alarm and fine[0].low < fine[0].value < fine[0].high
    flipped = P.labelled_checks(evaluation, BINARY, [0, 1], pd.Series(1 - y), predicted, proba)
    assert flipped[0].alarm and flipped[1].alarm


# ---------------------------------------------------------------- a registered version


@pytest.fixture
def version(store):
    project = store.create_project("monitor")
    experiment = _trained(store, project.id)
    return store, project.id, V.register(store, project.id, experiment.id)


def _titanic(store, project_id) -> pd.DataFrame:
    return store.load_frame(store.active_dataset(project_id).id)


def test_a_batch_is_reported_in_words_with_performance_when_it_has_the_target(version):
    store, project_id, v = version
    ref = M.reference(store, v)
    frame = _titanic(store, project_id)
    labelled = M.check_batch(ref, frame.sample(300, random_state=0), "labelled")
    assert labelled.checks and labelled.checks[0].metric == "roc_auc" and labelled.estimate is None
    unlabelled = M.check_batch(ref, frame.drop(columns=["survived"]).sample(300, random_state=1))
    assert unlabelled.estimate is not None and not unlabelled.checks
    shifted = frame.sample(300, random_state=2).assign(fare=lambda f: f["fare"] * 4, sex="female", who="woman",
                                                         adult_male=False)
    report = M.check_batch(ref, shifted)
    assert {"fare", "sex"} <= {c.column for c in report.drift.drifted} and report.alarm
    assert report.drift.prediction.drifted  # everyone female: the predictions move too
    data = json.loads(M.report_json(report, "ja"))
    assert data["alarm"] and "ドリフト" in data["summary"][0]
    assert data["drift"]["columns"][0]["column"] in {"fare", "sex", "who", "adult_male"}


def test_bad_batches_get_a_message_and_a_way_forward(version):
    store, project_id, v = version
    ref = M.reference(store, v)
    with pytest.raises(UserError) as empty:
        M.check_batch(ref, pd.DataFrame())
    assert empty.value.key == "monitor.empty"
    with pytest.raises(UserError) as unrelated:
        M.check_batch(ref, pd.DataFrame({"shop": [1, 2], "sales": [3, 4]}))
    assert unrelated.value.key == "monitor.no_columns" and "pclass" in unrelated.value.message("en")
    frame = _titanic(store, project_id)
    with pytest.raises(UserError) as unseen:
        M.check_batch(ref, frame.head(20).assign(survived=7))
    assert unseen.value.key == "monitor.unseen_classes" and "7" in unseen.value.message("ja")
    one = M.check_batch(ref, frame.head(1).drop(columns=["age"]))
    assert {"monitor.small_batch", "monitor.missing_columns"} <= {n.key for n in one.notes}
    assert "age" in one.drift.missing_columns and not one.drift.alarm
    words = M.check_batch(ref, frame.head(40).assign(fare="cheap"))  # text where training had numbers
    assert "monitor.not_numbers" in {n.key for n in words.notes} and "fare" in [c.column for c in words.drift.drifted]
    (store.project_dir(project_id) / "versions" / "1" / "profile.json").unlink()
    with pytest.raises(UserError) as no_profile:
        M.reference(store, v)
    assert no_profile.value.key == "monitor.no_profile"


def test_logged_rows_are_batched_by_day_or_by_rows():
    rows = pd.DataFrame({"x": range(10), "_at": ["2026-12-01T10:00"] * 4 + ["2026-12-02T09:00"] * 6,
                         "_version": "1"})
    assert [(label, len(f)) for label, f in M.batches_of(rows, M.BY_DAY)] == [("2026-12-01", 4), ("2026-12-02", 6)]
    assert [(label, len(f)) for label, f in M.batches_of(rows, M.BY_ROWS, 4)] == [("1-4", 4), ("5-8", 4),
                                                                                  ("9-10", 2)]
    assert list(M.batches_of(rows, M.BY_DAY)[0][1].columns) == ["x"]


def test_retraining_makes_a_challenger_compared_with_the_champion(version):
    store, project_id, v = version
    frame = _titanic(store, project_id)
    new = frame.sample(300, random_state=5)
    with pytest.raises(UserError) as lacking:
        new_training_table(store, project_id, to_csv_bytes(new.drop(columns=["survived"])), "new.csv", True)
    assert lacking.value.key == "retrain.missing_columns"
    dataset = new_training_table(store, project_id, to_csv_bytes(new), "new.csv", append=True)
    assert dataset.rows == len(frame) + 300
    job_id = store.add_job(project_id, "retrain", "test")
    result = retrain_job(store, project_id, dataset.id, 1)(JobContext(store, job_id, project_id))
    assert result["champion"] == 1 and result["challenger"] == 2
    assert store.aliases_now(project_id) == {"production": 1, "challenger": 2}
    assert set(result["scores"]) == {"champion", "challenger"} and result["test_rows"] > 100
    assert result["scores"]["challenger"]["roc_auc"] > 0.7 and result["agreement"] is None
    assert store.get_version(project_id, 2).record["settings"]["model_id"] == "logistic_regression"


def test_the_monitor_command_prints_json_and_exits_1_on_drift(version, tmp_path):
    store, project_id, _ = version
    frame = _titanic(store, project_id)
    same, moved = tmp_path / "same.csv", tmp_path / "moved.csv"
    same.write_bytes(to_csv_bytes(frame.sample(200, random_state=0)))
    moved.write_bytes(to_csv_bytes(frame.sample(200, random_state=0).assign(fare=lambda f: f["fare"] * 5)))

    def run(path, lang="en"):
        return subprocess.run([sys.executable, "-m", "workbench", "monitor", str(path), "--project", project_id],
                              cwd=ROOT, capture_output=True, text=True, timeout=300,
                              env={"PATH": "/usr/bin:/bin", "WORKBENCH_HOME": str(store.home), "WORKBENCH_LANG": lang})

    calm = run(same)
    assert calm.returncode == 0, calm.stderr[-2000:]
    assert json.loads(calm.stdout)["alarm"] is False
    alarm = run(moved, "ja")
    assert alarm.returncode == 1 and "fare" in json.loads(alarm.stdout)["drift"]["drifted"]
    assert "ドリフト" in alarm.stderr
    missing = run(tmp_path / "none.csv")
    assert missing.returncode == 2 and "none.csv" in missing.stderr and "Traceback" not in missing.stderr
    retrained = subprocess.run([sys.executable, "-m", "workbench", "retrain", str(same), "--project", project_id],
                               cwd=ROOT, capture_output=True, text=True, timeout=300,
                               env={"PATH": "/usr/bin:/bin", "WORKBENCH_HOME": str(store.home), "WORKBENCH_LANG": "en"})
    assert retrained.returncode == 0, retrained.stderr[-2000:]
    assert json.loads(retrained.stdout)["challenger"] == 2 and "promote --version 2" in retrained.stderr
    assert store.aliases_now(project_id) == {"production": 1, "challenger": 2}
    refused = subprocess.run([sys.executable, "-m", "workbench", "retrain", str(same), "--project", project_id,
                              "--version", "9"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                             env={"PATH": "/usr/bin:/bin", "WORKBENCH_HOME": str(store.home), "WORKBENCH_LANG": "ja"})
    assert refused.returncode == 2 and "Traceback" not in refused.stderr


def test_the_served_bundle_answers_get_monitor_over_what_it_served(version, tmp_path, monkeypatch):
    import importlib.util

    from fastapi.testclient import TestClient

    from tests.test_serving import ROWS

    store, project_id, v = version
    folder = tmp_path / "bundle"
    zipfile.ZipFile(io.BytesIO(V.version_bundle(store, v))).extractall(folder)
    monkeypatch.setattr(sys, "path", list(sys.path))  # serve.py puts its folder first: not for later tests
    spec = importlib.util.spec_from_file_location("serve_monitor", folder / "serve.py")
    serve = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve)
    serve.KEY.key = "k"
    serve.open_log(str(folder / "requests.sqlite3"))
    client = TestClient(serve.app)
    assert client.get("/monitor").status_code == 401
    assert client.get("/monitor", headers={"X-API-Key": "k"}).json()["rows"] == 0
    for _ in range(20):
        assert client.post("/predict", json={"rows": ROWS}, headers={"X-API-Key": "k"}).status_code == 200
    answer = client.get("/monitor", headers={"X-API-Key": "k"}).json()
    assert answer["rows"] == 20 * len(ROWS) and answer["prediction"]["column"] == "prediction"
    assert {c["column"] for c in answer["columns"]} >= {"age", "fare", "sex"}
    assert client.get("/monitor?last=3", headers={"X-API-Key": "k"}).json()["rows"] == 3
