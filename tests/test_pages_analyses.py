"""AppTest: the Segments page (clusters, anomalies, principal components) and the Forecast page."""

from __future__ import annotations

from tests.test_pages import _click_and_wait, _no_failure, _run, _text
from workbench.store import Store

SEGMENTS = "pages/segments.py"
FORECAST = "pages/forecast.py"


def _use_sample(workspace, sample: str) -> Store:
    from workbench.samples import add_sample

    store = Store(workspace)
    add_sample(store, store.list_projects()[0].id, sample)
    return store


def test_segments_page_chooses_k_finds_clusters_and_adds_the_column(workspace):
    _run("app.py")  # a new workspace with its sample project
    store = _use_sample(workspace, "penguins")
    at = _run(SEGMENTS)
    _no_failure(at)
    assert at.title[0].value == "Segments"
    assert at.multiselect(key="cl_columns").value == ["bill_length_mm", "bill_depth_mm", "flipper_length_mm",
                                                       "body_mass_g"]
    _click_and_wait(at, workspace, "cl_choose_k")
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "Choosing k: elbow and silhouette" in specs
    assert at.slider(key="cl_k_2").value == 2  # the k with the best silhouette is proposed
    at.slider(key="cl_k_2").set_value(3).run()
    _click_and_wait(at, workspace, "cl_run")
    text = _text(at)
    assert "K-means: 3 clusters" in text and "What sets each cluster apart" in text
    assert "flipper\\_length\\_mm" in text  # a cluster is described by its columns (escaped Markdown)
    assert any(m.label == "Silhouette" for m in at.metric)
    project = store.list_projects()[0]
    before = len(store.list_datasets(project.id))
    at.button(key="cl_add").click().run()
    _no_failure(at)
    datasets = store.list_datasets(project.id)
    assert len(datasets) == before + 1
    assert "cluster" in store.load_frame(store.active_dataset(project.id).id).columns
    assert "Saved the dataset “penguins\\.csv \\+ cluster”" in _text(at)


def test_segments_page_refuses_text_only_columns_and_big_agglomerative_runs(workspace, monkeypatch):
    from workbench import clustering

    _run("app.py")
    _use_sample(workspace, "penguins")
    at = _run(SEGMENTS)
    at.multiselect(key="cl_columns").set_value(["species", "island"]).run()
    _no_failure(at)
    at.button(key="cl_run").click().run()
    _no_failure(at)
    from tests.test_pages import _wait_for_jobs

    _wait_for_jobs(workspace)
    at.run()
    assert "hold no numbers" in _text(at)  # the failed job's message, in words
    monkeypatch.setattr(clustering, "MAX_AGGLOMERATIVE", 100)
    at.multiselect(key="cl_columns").set_value(["bill_length_mm", "body_mass_g"]).run()
    at.radio(key="cl_algorithm").set_value("agglomerative").run()
    _no_failure(at)
    assert "Agglomerative clustering needs memory" in _text(at)


def test_segments_page_dbscan_suggests_eps_and_anomalies_are_explained(workspace):
    _run("app.py")
    _use_sample(workspace, "penguins")
    at = _run(SEGMENTS)
    at.radio(key="cl_algorithm").set_value("dbscan").run()
    _no_failure(at)
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "k-distance chart" in specs
    _click_and_wait(at, workspace, "cl_run")
    assert "DBSCAN (density)" in _text(at)
    assert "no rule to place new rows" in _text(at)  # DBSCAN: no bundle, and why

    _click_and_wait(at, workspace, "an_run")
    assert any(m.label == "Rows flagged" and m.value == "7" for m in at.metric)  # 2% of 344 rows
    top = next(d.value for d in at.dataframe if "What is unusual" in d.value.columns)
    assert len(top) == 10 and top["What is unusual"].str.len().min() > 0
    at.slider(key="an_share").set_value(10.0).run()
    assert any(m.label == "Rows flagged" and m.value == "35" for m in at.metric)


def test_segments_page_pca_adds_a_recipe_step(workspace):
    _run("app.py")
    store = _use_sample(workspace, "penguins")
    at = _run(SEGMENTS)
    _no_failure(at)
    assert "components keep 90% of the variation" in _text(at)
    at.number_input(key="pca_n").set_value(2).run()
    at.button(key="pca_add").click().run()
    _no_failure(at)
    _, text = store.load_recipe(store.list_projects()[0].id)
    assert '"kind": "pca"' in text and '"components": 2' in text
    assert "Added a PCA step" in _text(at)


def test_forecast_page_forecasts_flights_and_reports_bad_dates(workspace):
    _run("app.py")
    _use_sample(workspace, "flights")
    at = _run(FORECAST)
    _no_failure(at)
    assert at.title[0].value == "Forecast"
    assert at.selectbox(key="fc_date").value == "year" and at.selectbox(key="fc_target").value == "passengers"
    assert at.selectbox(key="fc_month").value == "month"  # picked beside the year column, not left for the user
    _click_and_wait(at, workspace, "fc_run")
    text = _text(at)
    assert "passengers:" in text and "12 periods ahead" in text and "monthly series from 1949-01-01" in text
    backtests = next(d.value for d in at.dataframe if "MASE" in d.value.columns)
    assert len(backtests) == 5 and backtests["Model"].str.endswith("✓").sum() == 1
    chosen = backtests[backtests["Model"].str.endswith("✓")]
    assert float(chosen["MASE"].iloc[0]) < 1  # beats the seasonal-naive forecast
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "history, backtests and forecast" in specs and "95% interval" in specs

    at.selectbox(key="fc_month").set_value("").run()
    at.number_input(key="fc_horizon").set_value(200).run()
    at.button(key="fc_run").click().run()  # more periods ahead than the yearly series holds
    _no_failure(at)
    assert "has 12 periods, too few to forecast 200 periods ahead" in _text(at)
    assert "12 periods ahead" in _text(at)  # the newest forecast is still shown below


def test_forecast_page_says_when_the_date_column_holds_no_dates(workspace):
    _run("app.py")
    _use_sample(workspace, "penguins")
    at = _run(FORECAST)
    at.selectbox(key="fc_date").set_value("species").run()
    at.button(key="fc_run").click().run()
    _no_failure(at)
    assert "does not hold dates that can be read (for example “Adelie”)" in _text(at)
