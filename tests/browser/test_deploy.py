"""Deploy in a real browser: train, register two versions, promote one, start its endpoint, send rows over HTTP
with the key, stop it, roll back."""

from __future__ import annotations

import json
import urllib.request

from playwright.sync_api import expect

from tests.browser.test_journeys import _choose, _open, _title
from tests.conftest import free_port


def test_train_register_promote_serve_stop_and_roll_back(app_url, browser, app_home, titanic_project):
    from workbench.deploy import serving
    from workbench.store import Store

    page = _open(browser, f"{app_url}/model?project={titanic_project}", "Model")
    _choose(page, "Models", "Logistic regression")  # beside the proposed model: two experiments
    page.get_by_role("button", name="Train").click()
    expect(page.get_by_text("See the results")).to_be_visible(timeout=180_000)

    page.goto(f"{app_url}/deploy?project={titanic_project}")
    expect(_title(page)).to_have_text("Deploy")
    expect(page.get_by_text("No versions yet")).to_be_visible()
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("Registered as version 1: the project's first version, so it is now production"))\
        .to_be_visible()
    box = page.get_by_role("combobox", name="Experiment")
    box.click()
    page.get_by_role("option").nth(1).click()  # the other experiment
    page.get_by_label("Note (why this version)").fill("the other model")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("Registered as version 2.")).to_be_visible()
    _choose(page, "Version", "version 2")
    page.get_by_role("button", name="Make production").click()
    expect(page.get_by_text("Version 2 is now production.")).to_be_visible()

    port = free_port()
    page.get_by_label("Port").fill(str(port))
    page.get_by_label("Port").press("Enter")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text(f"Serving version 2 at http://127.0.0.1:{port}")).to_be_visible(timeout=30_000)
    key = serving.api_key(Store(app_home), titanic_project)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/predict", json.dumps({"rows": [{"sex": "female", "pclass": 1, "age": 30}]}).encode(),
        {"content-type": "application/json", "X-API-Key": key})
    with urllib.request.urlopen(request, timeout=30) as answer:
        body = json.loads(answer.read())
    assert body["version"] == "2" and len(body["predictions"]) == 1
    page.reload()
    served = page.get_by_test_id("stExpander").filter(has_text="Requests it served, newest first (1)")
    served.get_by_text("Requests it served").click()
    expect(served.get_by_test_id("stDataFrame")).to_be_visible()

    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_text("The endpoint is stopped.")).to_be_visible()
    page.get_by_role("button", name="Roll back").click()
    expect(page.get_by_text("Rolled back: version 1 is production again.")).to_be_visible()
    expect(page.get_by_text("Production: version 1")).to_be_visible()
    assert not serving.status(Store(app_home), titanic_project).running
    page.close()
