"""The app as a team server: its jobs run on a Dask cluster (real scheduler and worker processes) and outlive
the web server. An AutoML search goes on while the web server is killed and started again."""

from __future__ import annotations

import re
import signal

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import start_app
from tests.browser.test_journeys import _open, _see_results, _title
from tests.cluster import dask_cluster
from tests.conftest import free_port, stop


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with dask_cluster(tmp_path_factory.mktemp("cluster"), workers=2, jobs=True) as (client, _):
        yield client.scheduler.address


def test_an_automl_search_outlives_a_restart_of_the_web_server(cluster, browser, app_home, titanic_project):
    port = free_port()
    server = start_app(app_home, port, WORKBENCH_DASK_SCHEDULER=cluster)
    url = f"http://127.0.0.1:{port}"
    try:
        page = _open(browser, f"{url}/automl?project={titanic_project}", "AutoML", 120_000)
        budget = page.get_by_role("slider").first  # the time budget: 2 minutes -> 1
        budget.focus()
        budget.press("ArrowLeft")
        expect(budget).to_have_attribute("aria-valuetext", "1")
        page.get_by_role("button", name="Start the search").click()
        tried = page.get_by_test_id("stMetric").filter(has_text="Pipelines tried").get_by_test_id("stMetricValue")
        expect(tried).to_have_text(re.compile(r"^[1-9]\d*$"))  # the portfolio's first models are in
        before = int(tried.inner_text())

        server.send_signal(signal.SIGKILL)  # the web server dies mid-search, without any clean-up
        server.wait(10)
        server = start_app(app_home, port, WORKBENCH_DASK_SCHEDULER=cluster)
        page.goto(f"{url}/automl?project={titanic_project}")
        expect(_title(page)).to_have_text("AutoML")
        expect(page.get_by_text("Interrupted")).to_have_count(0)
        expect(tried).not_to_have_text(str(before), timeout=60_000)  # still searching, on the cluster
        assert int(tried.inner_text()) > before
        _see_results(page)
        page.get_by_text("How AutoML found this model, and its code").click()
        expect(page.get_by_text(re.compile("model = ")).first).to_be_visible()
        page.close()
        from workbench import jobs
        from workbench.store import Store

        [job] = [j for j in Store(app_home).list_jobs(titanic_project) if j["kind"] == "automl"]
        assert job["status"] == "done" and job["owner"] == jobs.ON_CLUSTER
    finally:
        stop(server)
