"""AppTest: the Monitor page (an uploaded batch, the endpoint's logged requests by day, retraining into a
challenger and promoting it) in both languages."""

from __future__ import annotations

import json
import sqlite3
import time

from tests.test_deploy import _trained
from tests.test_pages import _no_failure, _run, _text
from workbench.deploy import serving
from workbench.deploy import versions as V
from workbench.io import to_csv_bytes
from workbench.samples import ensure_workspace
from workbench.store import Store

MONITOR = "pages/monitor.py"


def _registered(workspace, lang="en"):
    store = Store(workspace)
    project = ensure_workspace(store, lang)
    V.register(store, project.id, _trained(store, project.id).id)
    return store, project.id, store.load_frame(store.active_dataset(project.id).id)


def test_without_versions_the_monitor_page_points_to_the_deploy_page(workspace):
    store = Store(workspace)
    project = ensure_workspace(store, "en")
    at = _run(MONITOR, project=project.id)
    _no_failure(at)
    assert "No model version yet" in _text(at)


def test_an_uploaded_batch_is_summed_up_in_words_in_japanese(workspace):
    store, project_id, frame = _registered(workspace, "ja")
    at = _run(MONITOR, project=project_id, lang="ja")
    _no_failure(at)
    moved = frame.sample(300, random_state=0).assign(fare=lambda f: f["fare"] * 5)
    at.file_uploader(key="monitor_upload").set_value(("新しい行.csv", to_csv_bytes(moved), "text/csv")).run()
    _no_failure(at)
    text = _text(at).replace("\\", "")
    assert "この 300 行では" in text and "「fare」" in text  # the summary names the column as uploaded
    assert "300 行では、標準偏差の" in text
    table = at.dataframe[0].value
    assert table.iloc[0]["列"] == "fare" and table.iloc[0]["判定"] == "ドリフト"
    performance = at.dataframe[1].value
    assert list(performance["指標"])[0] == "ROC AUC"
    same = frame.drop(columns=["survived"]).sample(200, random_state=1)
    at.file_uploader(key="monitor_upload").set_value(("same.csv", to_csv_bytes(same), "text/csv")).run()
    text = _text(at).replace("\\", "")
    assert "学習データと同じ傾向です" in text and "推定性能（正解なし）" in text


def _log(store: Store, project_id: str, rows: list[dict], days: list[str]) -> None:
    """Requests as the endpoint's serve.py logs them (its own table), on the days given."""
    path = serving.folder(store, project_id) / "requests.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS requests (id INTEGER PRIMARY KEY, at TEXT NOT NULL, "
                   "version TEXT NOT NULL, status INTEGER NOT NULL, rows INTEGER NOT NULL, "
                   "latency_ms REAL NOT NULL, inputs TEXT, outputs TEXT, error TEXT)")
        for i, day in enumerate(days):
            part = rows[i::len(days)]
            db.execute("INSERT INTO requests (at, version, status, rows, latency_ms, inputs, outputs) "
                       "VALUES (?, '1', 200, ?, 30, ?, '[]')", (f"{day}T10:00:00.000+00:00", len(part),
                                                               json.dumps(part)))


def test_the_endpoints_requests_are_shown_by_day_with_a_timeline(workspace):
    store, project_id, frame = _registered(workspace)
    rows = json.loads(frame.drop(columns=["survived"]).head(240).to_json(orient="records"))
    _log(store, project_id, rows, ["2026-12-01", "2026-12-02", "2026-12-03"])
    at = _run(MONITOR, project=project_id)
    at.radio(key="monitor_source").set_value("logged").run()
    _no_failure(at)
    assert "240 rows served, in 3 batch(es)." in _text(at)
    assert at.selectbox(key="monitor_batch").options == ["2026-12-01", "2026-12-02", "2026-12-03"]
    assert at.get("plotly_chart")  # the timeline
    assert "These 80 rows look like the training data" in _text(at).replace("\\", "")
    at.radio(key="monitor_group").set_value("rows").run()
    at.number_input(key="monitor_batch_rows").set_value(100).run()
    assert at.selectbox(key="monitor_batch").options == ["1-100", "101-200", "201-240"]


def test_retrain_on_new_rows_then_promote_the_challenger(workspace):
    store, project_id, frame = _registered(workspace)
    at = _run(MONITOR, project=project_id)
    next(b for b in at.button if b.label == "Retrain on new data").click().run()
    assert "Choose a file of new rows first." in _text(at)
    at.file_uploader(key="retrain_upload").set_value(("new.csv", to_csv_bytes(frame.sample(200, random_state=3)),
                                                      "text/csv"))
    next(b for b in at.button if b.label == "Retrain on new data").click().run()
    _no_failure(at)
    deadline = time.monotonic() + 120
    while any(j["status"] in ("queued", "running") for j in store.list_jobs(project_id)):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert store.aliases_now(project_id) == {"production": 1, "challenger": 2}
    at.run()
    _no_failure(at)
    text = _text(at).replace("\\", "")
    assert "Champion (version 1) and challenger (version 2)" in text
    comparison = at.dataframe[-1].value
    assert list(comparison.columns) == ["Metric", "Champion (v1)", "Challenger (v2)"]
    at.button(key="promote_challenger").click().run()
    assert store.aliases_now(project_id) == {"production": 2}
    assert "Version 2 is now production." in _text(at)
