"""The two users of issue 19, in a real browser: a Japanese analyst with a Shift-JIS sales file, and an English
presenter who goes from opening the app to a downloaded bundle by the shortest path (timed)."""

from __future__ import annotations

import csv
import io
import time
import uuid
import zipfile

from playwright.sync_api import expect

from tests.browser.test_journeys import _choose, _new_page, _title
from tests.test_journey import _sales
from workbench import steps as S
from workbench.i18n import t
from workbench.io import read_table
from workbench.recipe import Recipe
from workbench.store import Store

ENGLISH_WHILE_RUNNING = ("Running", "Cancel", "Epoch", "Loss per epoch", "Training loss")


def _ja(key: str, **params) -> str:
    return t(key, "ja", **params)


def _sales_project(app_home) -> str:
    """A project holding the Shift-JIS sales file, with a recipe that drops the customer number."""
    store = Store(app_home)
    project = store.create_project(f"売上 {uuid.uuid4().hex[:6]}")
    data = _sales()
    frame, report = read_table(data, "売上.csv")
    store.add_dataset(project.id, "売上.csv", data, "売上.csv", frame, report)
    store.save_recipe(project.id, Recipe().add(S.DropColumns(["顧客番号"])).to_json())
    return project.id


def test_a_japanese_analyst_sees_her_own_labels_and_japanese_panels_and_no_dropped_column(app_url, app_home,
                                                                                          browser, tmp_path):
    project = _sales_project(app_home)
    page = _new_page(browser, locale="ja-JP")
    page.set_default_timeout(90_000)
    page.goto(f"{app_url}/model?project={project}&lang=ja")
    expect(_title(page)).to_have_text(_ja("page.model.title"))
    target = page.get_by_role("combobox", name=_ja("model.target"))
    expect(target).to_have_value("リピート")  # proposed by name
    target.click()
    expect(page.get_by_role("option", name="数量")).to_be_visible()
    expect(page.get_by_role("option", name="顧客番号")).to_have_count(0)  # dropped in Clean
    page.keyboard.press("Escape")

    _choose(page, _ja("model.models"), _ja("model.neural_network"))
    page.get_by_role("button", name=_ja("model.train")).click()
    # while the network trains, the live panel speaks Japanese: status, cancel, epoch line and chart
    expect(page.get_by_text(_ja("job.status.running")).first).to_be_visible()
    expect(page.get_by_role("button", name=_ja("job.cancel"))).to_be_visible()
    expect(page.get_by_text("エポック").first).to_be_visible(timeout=120_000)
    expect(page.get_by_text(_ja("chart.loss_curve")).first).to_be_visible()
    for english in ENGLISH_WHILE_RUNNING:
        expect(page.get_by_text(english, exact=True)).to_have_count(0)
    expect(page.get_by_text(_ja("model.see_results"))).to_be_visible(timeout=240_000)

    page.get_by_text(_ja("model.see_results")).click()
    expect(_title(page)).to_have_text(_ja("page.results.title"))
    expect(page.get_by_text(_ja("chart.confusion")).first).to_be_visible()
    for label in ("はい", "いいえ"):  # the user's classes on the charts' axes, not 0.0/1.0
        expect(page.locator("svg text", has_text=label).first).to_be_attached()

    new = tmp_path / "新規.csv"
    lines = [",".join(line.split(",")[:4]) for line in _sales().decode("cp932").splitlines()[:21]]
    new.write_bytes(("\n".join(lines) + "\n").encode("cp932"))
    page.goto(f"{app_url}/predict?project={project}&lang=ja")
    expect(_title(page)).to_have_text(_ja("page.predict.title"))
    expect(page.get_by_label("数量").first).to_be_attached()  # the what-if form (in its tab)
    expect(page.get_by_label("顧客番号")).to_have_count(0)
    page.locator("input[type=file]").first.set_input_files(str(new))
    with page.expect_download() as download:
        page.get_by_role("button", name=_ja("predict.download_csv")).click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["顧客番号", "数量", "会員", "地域", "予測", "確率_いいえ", "確率_はい"]
    assert {r[4] for r in rows[1:]} <= {"はい", "いいえ"} and {r[2] for r in rows[1:]} == {"○", "×"}
    assert [r[:4] for r in rows[1:]] == [line.split(",") for line in lines[1:]]  # her columns as she wrote them
    expect(page.get_by_text(_ja("predict.missing", columns="顧客番号"))).to_have_count(0)
    page.close()


def test_a_presenter_goes_from_opening_the_app_to_a_downloaded_bundle(app_url, browser, titanic_project,
                                                                    record_property):
    """The shortest path on the sample: Home, Model, Train, Export, download. Timed from the first page load."""
    page = _new_page(browser)
    page.set_default_timeout(90_000)
    start = time.monotonic()
    page.goto(f"{app_url}/?project={titanic_project}")
    expect(_title(page)).to_have_text("Home")
    page.get_by_role("link", name="Model").first.click()
    expect(_title(page)).to_have_text("Model")
    page.get_by_role("button", name="Train").click()
    expect(page.get_by_text("See the results")).to_be_visible(timeout=180_000)
    page.get_by_role("link", name="Export").first.click()
    expect(_title(page)).to_have_text("Export")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the bundle (.zip)").click()
    seconds = time.monotonic() - start
    record_property("seconds_to_bundle", round(seconds, 1))
    print(f"\nopening the app to a downloaded bundle: {seconds:.1f} s")
    with zipfile.ZipFile(download.value.path()) as bundle:
        assert {"predict.py", "model.skops", "schema.json", "model_card.md"} <= set(bundle.namelist())
    page.close()
