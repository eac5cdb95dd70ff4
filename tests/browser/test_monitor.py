"""Monitor in a real browser: the production version's endpoint serves requests, the Monitor page shows them
against the training data, labelled rows are uploaded and scored, retraining makes a challenger, and the
challenger is promoted."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from playwright.sync_api import expect

from tests.browser.test_journeys import _open
from tests.conftest import free_port
from tests.test_deploy import _trained


def _send(url: str, key: str, rows: list[dict]) -> None:
    request = urllib.request.Request(f"{url}/predict", json.dumps({"rows": rows}).encode(),
                                     {"content-type": "application/json", "X-API-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 200
    except urllib.error.HTTPError as refused:
        raise AssertionError(refused.read()[:2000]) from None


def test_served_requests_are_monitored_then_retrained_and_the_challenger_promoted(app_url, browser, app_home,
                                                                                 titanic_project, tmp_path):
    from workbench.deploy import serving
    from workbench.deploy import versions as V
    from workbench.io import to_csv_bytes
    from workbench.store import Store

    store = Store(app_home)
    version = V.register(store, titanic_project, _trained(store, titanic_project).id)
    frame = store.load_frame(store.active_dataset(titanic_project).id)
    endpoint = serving.start(store, titanic_project, port=free_port())
    try:
        rows = json.loads(frame[version.record["features"]].head(60).to_json(orient="records"))
        for start in range(0, 60, 20):
            _send(endpoint.url, serving.api_key(store, titanic_project), rows[start:start + 20])
    finally:
        serving.stop(store, titanic_project)

    page = _open(browser, f"{app_url}/monitor?project={titanic_project}", "Monitor")
    page.get_by_text("What the endpoint served").click()
    expect(page.get_by_text("60 rows served, in 1 batch(es).")).to_be_visible()
    expect(page.get_by_text("These 60 rows look like the training data")).to_be_visible()
    expect(page.get_by_text("Drift and performance per batch")).to_be_visible()  # the timeline

    page.get_by_text("A file", exact=True).click()
    expect(page.get_by_text("60 rows served, in 1 batch(es).")).to_have_count(0)  # the page ran again
    labelled = tmp_path / "labelled.csv"
    labelled.write_bytes(to_csv_bytes(frame.sample(200, random_state=0).assign(fare=lambda f: f["fare"] * 5)))
    batch = page.get_by_role("region", name="A batch of new rows (with “survived” too, to measure performance)")
    batch.locator("input[type=file]").set_input_files(str(labelled))
    expect(page.get_by_text("the one that matters most is “fare”")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Performance on these rows")).to_be_visible()

    newer = tmp_path / "newer.csv"
    newer.write_bytes(to_csv_bytes(frame.sample(300, random_state=1)))
    page.get_by_role("region", name="New rows with true values").locator("input[type=file]").set_input_files(str(newer))
    expect(page.get_by_text("newer.csv")).to_be_visible()
    page.get_by_role("button", name="Retrain on new data").click()
    expect(page.get_by_text("Champion (version 1) and challenger (version 2)")).to_be_visible(timeout=180_000)
    expect(page.get_by_text("They agree on")).to_be_visible()  # on the 60 rows production was asked about
    page.get_by_role("button", name="Promote version 2 to production").click()
    expect(page.get_by_text("Version 2 is now production.")).to_be_visible()
    assert store.aliases_now(titanic_project) == {"production": 2}
    page.close()
