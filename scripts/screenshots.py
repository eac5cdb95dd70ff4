"""Screenshots of every page in English and Japanese, for docs/screenshots/ and README's tour.

    .venv/bin/python scripts/screenshots.py            # all pages, both languages
    .venv/bin/python scripts/screenshots.py model data # some pages

Starts the app on a fresh workspace in a temporary folder, fills it the way a user would (the Titanic sample with
one trained model, flights for Forecast, SMS messages for Text), and drives Debian's Chromium with Playwright
(never `playwright install`). Each picture is docs/screenshots/<lang>/<page>.jpg.
"""

from __future__ import annotations

import sys
import tempfile
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# page path -> sample its project holds
PAGES = {"": "titanic", "data": "titanic", "clean": "titanic", "explore": "titanic", "model": "titanic",
         "automl": "titanic", "segments": "penguins", "forecast": "flights", "text": "sms_spam", "images": "titanic",
         "results": "titanic", "explain": "titanic", "predict": "titanic", "export": "titanic"}
LOCALES = {"en": "en-US", "ja": "ja-JP"}


def _workspace(home: Path) -> dict[str, str]:
    """A project per sample in PAGES; the Titanic one with a cleaning step and a trained, starred model."""
    from workbench import steps as S
    from workbench.experiments import explanation_job, save_experiment
    from workbench.recipe import Recipe
    from workbench.samples import add_sample
    from workbench.store import Store
    from workbench.training import Settings, Split, train_experiment

    store = Store(home)
    projects = {}
    for sample in dict.fromkeys(PAGES.values()):
        project = store.create_project(sample)
        dataset = add_sample(store, project.id, sample)
        projects[sample] = project.id
        if sample == "titanic":
            recipe = Recipe().add(S.DropColumns(["alive", "deck"]))
            version = store.save_recipe(project.id, recipe.to_json())
            experiment = train_experiment(store.load_frame(dataset.id), recipe,
                                          Settings("survived", "binary", "random_forest", split=Split(folds=3)))
            saved = save_experiment(store, project.id, dataset.id, version, experiment)
            store.choose_experiment(project.id, saved.id)
            quiet = types.SimpleNamespace(report=lambda *args, **kwargs: None, cancelled=lambda: False)
            explanation_job(store, project.id, saved.id)(quiet)  # the Explain page opens on its charts
    return projects


def main(pages: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    from tests.conftest import free_port
    from workbench.launch import start_app

    pages = pages or list(PAGES)
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        projects = _workspace(home)
        port = free_port()
        server = start_app(home, port)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox"])
                for lang, locale in LOCALES.items():
                    (OUT / lang).mkdir(parents=True, exist_ok=True)
                    page = browser.new_page(locale=locale, viewport={"width": 1400, "height": 1000})
                    for name in pages:
                        url = f"http://127.0.0.1:{port}/{name}?project={projects[PAGES[name]]}&lang={lang}"
                        page.goto(url)
                        page.locator("h1").first.wait_for(timeout=120_000)
                        page.wait_for_timeout(6000)  # charts draw after the page's text
                        path = OUT / lang / f"{name or 'home'}.jpg"
                        page.screenshot(path=str(path), type="jpeg", quality=70, full_page=True)
                        print(path.relative_to(ROOT))
                    page.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main(sys.argv[1:])
