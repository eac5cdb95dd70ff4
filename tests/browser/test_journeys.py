"""The main journeys in a real browser: land on a page, import a Japanese file, switch language, refresh."""

from __future__ import annotations

import re
import zipfile

from playwright.sync_api import Page, expect

from tests.conftest import DATA, SAMPLES

TIMEOUT = 30_000
expect.set_options(timeout=TIMEOUT)


def _new_page(browser, locale: str = "en-US") -> Page:
    page = browser.new_page(locale=locale, viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT)
    return page


def _title(page: Page):
    return page.locator("h1").first


def _open(browser, url: str, title: str, timeout: int = 90_000) -> Page:
    """A new page at `url`, for a journey with background work (longer waits), once its title shows."""
    page = _new_page(browser)
    page.set_default_timeout(timeout)
    page.goto(url)
    expect(_title(page)).to_have_text(title)
    return page


def test_direct_landing_on_the_data_page_opens_the_sample(app_url, browser):
    page = _new_page(browser)
    page.goto(f"{app_url}/data")
    expect(_title(page)).to_have_text("Data")
    expect(page.get_by_text("Dataset: titanic.csv")).to_be_visible()
    expect(page.get_by_text("Check these before modelling")).to_be_visible()
    # Our translated menu, not file names.
    expect(page.get_by_test_id("stSidebar").get_by_text("Home", exact=True)).to_be_visible()
    page.close()


def test_browser_locale_picks_japanese(app_url, browser):
    page = _new_page(browser, locale="ja-JP")
    page.goto(app_url)
    expect(_title(page)).to_have_text("ホーム")
    page.close()


def test_shift_jis_upload_language_switch_and_refresh(app_url, browser):
    page = _new_page(browser)
    page.goto(f"{app_url}/data")
    expect(_title(page)).to_have_text("Data")
    page.locator("input[type=file]").set_input_files(str(SAMPLES / "tips_ja_cp932.csv"))
    expect(page.get_by_text("cp932").first).to_be_visible()
    expect(page.get_by_text("'喫煙': a yes/no column; its words are kept as written")).to_be_visible()
    page.get_by_role("button", name="Save to project").click()
    expect(page.get_by_text("Saved 'tips_ja_cp932.csv' (244 rows)")).to_be_visible()
    expect(page.get_by_text("Dataset: tips_ja_cp932.csv")).to_be_visible()
    # Japanese column names reach the chart.
    expect(page.get_by_text("Distribution of 合計金額（ドル）")).to_be_visible()

    page.get_by_role("combobox", name="Language / 言語").click()
    page.get_by_role("option", name="日本語").click()
    expect(_title(page)).to_have_text("データ")
    expect(page.get_by_text("データセット: tips_ja_cp932.csv")).to_be_visible()

    page.reload()
    expect(_title(page)).to_have_text("データ")
    expect(page.get_by_text("データセット: tips_ja_cp932.csv")).to_be_visible()
    expect(page.get_by_text("合計金額（ドル） の分布")).to_be_visible()
    assert re.search(r"project=[0-9a-f]{12}", page.url)

    # A new tab without the URL's parameters finds the project too.
    other = _new_page(browser)
    other.goto(f"{app_url}/data")
    expect(other.get_by_text("Dataset: tips_ja_cp932.csv")).to_be_visible()
    other.close()
    page.close()


def test_ragged_file_report_in_the_browser(app_url, browser):
    page = _new_page(browser)
    page.goto(f"{app_url}/data")
    page.locator("input[type=file]").set_input_files(str(DATA / "titanic_bom_ragged.csv"))
    expect(page.get_by_text(re.compile(r"2 row\(s\) had the wrong number of fields.*line 6, 11"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"summary row at the end \(line 894\)"))).to_be_visible()
    assert "Traceback" not in page.content()
    page.close()


def test_an_image_renamed_csv_gets_a_message_not_a_traceback(app_url, browser, tmp_path):
    image = tmp_path / "photo.csv"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    page = _new_page(browser)
    page.goto(f"{app_url}/data")
    page.locator("input[type=file]").set_input_files(str(image))
    expect(page.get_by_text("'photo.csv' is an image, not a table.")).to_be_visible()
    assert "Traceback" not in page.content()
    page.close()


def test_two_sessions_do_not_see_each_others_unsaved_upload(app_url, browser):
    first, second = browser.new_context(), browser.new_context()
    a, b = first.new_page(), second.new_page()
    for page in (a, b):
        page.set_default_timeout(TIMEOUT)
        page.goto(f"{app_url}/data")
        expect(_title(page)).to_have_text("Data")
    a.locator("input[type=file]").set_input_files(str(DATA / "upstream_raw_planets.csv"))
    expect(a.get_by_role("button", name="Save to project")).to_be_visible()
    b.reload()
    expect(_title(b)).to_have_text("Data")
    expect(b.get_by_text("Choose a CSV")).to_be_visible()
    assert b.get_by_role("button", name="Save to project").count() == 0
    assert b.get_by_text("upstream_raw_planets.csv").count() == 0
    first.close()
    second.close()


def _see_results(page: Page) -> None:
    """Follow the link a finished job leaves, to the Results page."""
    page.get_by_text("See the results").click()
    expect(_title(page)).to_have_text("Results")


def _choose(page: Page, label: str, option: str) -> None:
    """Pick an option of a select box or multiselect by typing it (long option lists are virtualised)."""
    box = page.get_by_role("combobox", name=label).first
    box.click()
    box.fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")  # a multiselect stays open after a pick


def test_recipe_three_steps_undo_one_and_reload(app_url, browser, titanic_project):
    page = _new_page(browser)
    page.goto(f"{app_url}/clean?project={titanic_project}")
    expect(_title(page)).to_have_text("Clean")
    add = page.get_by_role("button", name="Add step to recipe")

    expect(page.get_by_text("Rows after")).to_be_visible()
    add.click()  # the first step offered: drop duplicate rows
    expect(page.get_by_text("Added: Drop duplicate rows.")).to_be_visible()

    _choose(page, "Step", "Column step · Drop columns")
    _choose(page, "Columns", "deck")
    add.click()
    expect(page.get_by_text("Added: Drop columns.")).to_be_visible()

    _choose(page, "Step", "Learned step · Fill missing values")
    _choose(page, "Columns", "age")
    add.click()
    expect(page.get_by_text("Added: Fill missing values.")).to_be_visible()
    expect(page.get_by_text("3. Fill missing values")).to_be_visible()

    page.get_by_role("button", name="Undo last change").click()
    expect(page.get_by_text("The last change to the recipe was undone.")).to_be_visible()
    expect(page.get_by_text("3. Fill missing values")).to_have_count(0)

    page.reload()
    expect(_title(page)).to_have_text("Clean")
    expect(page.get_by_text("1. Drop duplicate rows")).to_be_visible()
    expect(page.get_by_text(re.compile(r"2\. Drop columns \(Columns: deck\)"))).to_be_visible()
    expect(page.get_by_text("3. Fill missing values")).to_have_count(0)
    expect(page.get_by_text("Cleaned data: 784 rows × 14 columns")).to_be_visible()
    page.close()


def test_explore_chart_in_the_browser(app_url, browser, titanic_project):
    page = _new_page(browser)
    page.goto(f"{app_url}/explore?project={titanic_project}")
    expect(_title(page)).to_have_text("Explore")
    page.get_by_text("Correlation", exact=True).click()
    expect(page.get_by_text(re.compile(r"Association between columns"))).to_be_visible()
    page.close()


def test_train_two_models_compare_predict_and_download(app_url, browser, titanic_project, tmp_path):
    page = _open(browser, f"{app_url}/model?project={titanic_project}", "Model")
    _choose(page, "Models", "Logistic regression")
    page.get_by_role("button", name="Train").click()
    expect(page.get_by_text("Running")).to_be_visible()  # progress shows while the page stays usable
    expect(page.get_by_text("See the results")).to_be_visible(timeout=120_000)

    page.goto(f"{app_url}/results?project={titanic_project}")
    expect(_title(page)).to_have_text("Results")
    page.get_by_text("Compare two experiments").click()
    expect(page.get_by_text("Compare with")).to_be_visible()
    expect(page.get_by_text("Confusion matrix").first).to_be_visible()

    rows = tmp_path / "new_passengers.csv"
    lines = (SAMPLES / "titanic.csv").read_text(encoding="utf-8").splitlines()[:31]
    rows.write_text("\n".join(lines) + "\n", encoding="utf-8")
    page.goto(f"{app_url}/predict?project={titanic_project}")
    expect(_title(page)).to_have_text("Predict")
    page.locator("input[type=file]").first.set_input_files(str(rows))
    with page.expect_download() as download:
        page.get_by_role("button", name="Download predictions (CSV)").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert header[-3:] == ["prediction", "probability_0", "probability_1"] and len(text.splitlines()) == 31

    page.goto(f"{app_url}/export?project={titanic_project}")
    expect(_title(page)).to_have_text("Export")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the bundle (.zip)").click()
    with zipfile.ZipFile(download.value.path()) as bundle:
        names = set(bundle.namelist())
        card = bundle.read("model_card.md").decode("utf-8")
    assert {"model.skops", "predict.py", "serve.py", "train.py", "sample_request.json", "requirements.txt"} <= names
    assert "predicting survived" in card
    page.close()


def test_explain_a_trained_titanic_model_beeswarm_and_a_passengers_waterfall(app_url, browser, app_home,
                                                                              titanic_project):
    from workbench.experiments import save_experiment
    from workbench.recipe import Recipe
    from workbench.store import Store
    from workbench.training import Settings, train_experiment

    store = Store(app_home)
    dataset = store.active_dataset(titanic_project)
    frame = store.load_frame(dataset.id).drop(columns=["alive"])
    save_experiment(store, titanic_project, dataset.id, 0,
                    train_experiment(frame, Recipe(), Settings("survived", "binary", "hist_gradient_boosting")))
    page = _open(browser, f"{app_url}/explain?project={titanic_project}", "Explain")
    expect(page.get_by_text(re.compile("TreeExplainer"))).to_be_visible()
    page.get_by_role("button", name="Explain this model").click()
    expect(page.get_by_text("Every row: how each column pushed the output (1)")).to_be_visible(timeout=120_000)

    page.get_by_role("tab", name="One row").click()
    page.get_by_text("by row number").click()  # the first passenger of the test rows, by row number
    expect(page.get_by_text("Why this prediction (1)").first).to_be_visible()
    expect(page.get_by_text("Base value (average output)").first).to_be_visible()
    page.close()


def test_segment_penguins_read_the_clusters_download_them_and_flag_anomalies(app_url, browser, sample_project):
    project = sample_project("penguins")
    page = _open(browser, f"{app_url}/segments?project={project}", "Segments")
    page.get_by_role("button", name="Find clusters").click()
    expect(page.get_by_text("K-means: 3 clusters")).to_be_visible(timeout=90_000)
    expect(page.get_by_text("What sets each cluster apart")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Cluster 0\s*\(\d+ · \d+%\)"))).to_be_visible()
    page.get_by_text("t-SNE", exact=True).click()
    expect(page.get_by_text("Rows placed by t-SNE, coloured by cluster")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the rows with their cluster (CSV)").click()
    header = open(download.value.path(), encoding="utf-8-sig").readline()
    assert header.strip().endswith(",cluster")

    page.get_by_role("tab", name="Anomalies").click()
    page.get_by_role("button", name="Score every row").click()
    expect(page.get_by_text("Rows flagged")).to_be_visible(timeout=90_000)
    expect(page.get_by_text("The most unusual rows, and why")).to_be_visible()
    page.close()


def test_forecast_airline_passengers_with_a_year_and_a_month_column(app_url, browser, sample_project):
    project = sample_project("flights")
    page = _open(browser, f"{app_url}/forecast?project={project}", "Forecast")
    page.get_by_role("combobox", name="Month column (with a year column)").click()
    page.get_by_role("option", name="month", exact=True).click()
    page.get_by_role("button", name="Forecast", exact=True).click()
    expect(page.get_by_text(re.compile(r"passengers: .*12 periods ahead"))).to_be_visible(timeout=90_000)
    expect(page.get_by_text("monthly series from 1949-01-01 to 1960-12-01")).to_be_visible()
    expect(page.get_by_text("passengers: history, backtests and forecast")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the forecast bundle").click()
    with zipfile.ZipFile(download.value.path()) as bundle:
        assert {"forecast.py", "spec.json", "model_card.md", "requirements.txt"} <= set(bundle.namelist())
    page.close()


def test_classify_sms_messages_read_the_spam_words_and_try_a_sentence(app_url, browser, sample_project):
    project = sample_project("sms_spam")
    page = _open(browser, f"{app_url}/text?project={project}", "Text")
    page.get_by_role("button", name="Train text classifier").click()
    expect(page.get_by_text("Words that point to each class")).to_be_visible(timeout=240_000)
    box = page.get_by_label("Try a sentence")
    box.fill("WINNER!! You have won a free prize. Call now to claim")
    box.press("Control+Enter")
    expect(page.get_by_text(re.compile(r"Predicted: spam"))).to_be_visible()
    page.close()


def test_images_refuse_an_unsafe_zip_then_train_on_digits_and_download_the_bundle(app_url, browser, sample_project,
                                                                                 tmp_path):
    project = sample_project("penguins")
    page = _open(browser, f"{app_url}/images?project={project}", "Images")
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../../evil.png", b"x")
        archive.writestr("cats/1.png", b"y")
    page.locator("input[type=file]").first.set_input_files(str(evil))
    expect(page.get_by_text(re.compile("path leaves its folder"))).to_be_visible()
    epochs = page.get_by_label("Epochs (at most)", exact=True)
    epochs.fill("3")
    epochs.press("Enter")
    page.get_by_role("button", name="Train image classifier").click()
    expect(page.get_by_text("Held-out pictures the network got wrong")).to_be_visible(timeout=300_000)
    expect(page.get_by_text(re.compile(r"1437 training and 360 test pictures"))).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the bundle (predicts on a folder of pictures)").click()
    with zipfile.ZipFile(download.value.path()) as bundle:
        assert {"model.keras", "labels.json", "predict_images.py", "imagefile.py"} <= set(bundle.namelist())
    page.close()
