"""Every user-facing string has both languages, and no catalogue entry is dead."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from workbench.i18n import LANGUAGES, catalogue, normalise_language, set_language, t

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "app.py", *ROOT.glob("pages/*.py"), *ROOT.glob("workbench/**/*.py")]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys():
    en, ja = catalogue("en"), catalogue("ja")
    assert sorted(set(en) - set(ja)) == [], "missing in Japanese"
    assert sorted(set(ja) - set(en)) == [], "missing in English"


def test_translations_use_the_same_placeholders():
    en, ja = catalogue("en"), catalogue("ja")
    mismatched = [k for k in en if _placeholders(en[k]) != _placeholders(ja[k])]
    assert mismatched == []


def test_japanese_catalogue_is_translated():
    en, ja = catalogue("en"), catalogue("ja")
    same = [k for k in en if en[k] == ja[k] and re.search(r"[A-Za-z]{4,}", en[k])]
    assert same == []


def _step_keys() -> set[str]:
    """Keys that step forms and the model catalogue build from their entries."""
    from workbench.models import i18n_keys as model_keys
    from workbench.steps import i18n_keys

    return i18n_keys() | model_keys()


def test_every_key_is_used_in_the_code():
    code = "\n".join(p.read_text(encoding="utf-8") for p in SOURCES)
    used = set(re.findall(r"""["']([a-z_]+(?:\.[a-z0-9_-]+)+)["']""", code)) | _step_keys()
    unused = sorted(set(catalogue("en")) - used)
    assert unused == []


def test_every_step_form_key_exists():
    assert sorted(_step_keys() - set(catalogue("en"))) == []


def test_every_key_the_code_uses_exists():
    code = "\n".join(p.read_text(encoding="utf-8") for p in SOURCES)
    calls = re.findall(r"""\b(?:t|say|UserError|Note)\(\s*["']([a-z_]+(?:\.[a-z0-9_]+)+)["']""", code)
    assert calls, "the scan found no calls: the pattern is broken"
    missing = sorted(set(calls) - set(catalogue("en")))
    assert missing == []


@pytest.mark.parametrize("locale, expected", [("ja-JP", "ja"), ("ja", "ja"), ("en-GB", "en"), ("fr-FR", "en"),
                                              (None, "en"), ("ja_JP.UTF-8", "ja")])
def test_browser_locale_maps_to_a_language(locale, expected):
    assert normalise_language(locale) == expected


def test_t_formats_in_the_chosen_language_and_falls_back():
    assert t("data.saved", lang="ja", name="x", rows=3) == "「x」（3 行）をプロジェクトに保存しました。"
    set_language("ja")
    try:
        assert t("page.data.title") == "データ"
    finally:
        set_language("en")
    assert t("no.such.key") == "no.such.key"
    assert set(LANGUAGES) == {"en", "ja"}


def test_a_live_panel_draws_in_the_pages_language_on_its_own_reruns(monkeypatch):
    """A fragment's timed rerun starts in a fresh context (English by default): it must set the language."""
    import contextvars

    import streamlit as st

    from workbench.i18n import set_language
    from workbench.ui.core import live_fragment

    monkeypatch.setattr(st, "fragment", lambda run_every=None: (lambda function: function))
    seen = []
    panel = live_fragment("ja", 1.5)(lambda: seen.append(t("job.cancel")))
    set_language("en")
    contextvars.Context().run(panel)  # as Streamlit reruns the fragment: a context of its own
    assert seen == [t("job.cancel", lang="ja")] and seen[0] != t("job.cancel", lang="en")


@pytest.mark.parametrize("value, shown", [
    (29840.0, "29,840"), (-1234567.891, "-1,234,568"), (0.123456, "0.1235"), (12.3456, "12.35"), (0, "0"),
    (0.00001234, "1.234e-05"), (float("nan"), "—"), (3, "3"), ("n/a", "n/a"),
])
def test_numbers_are_shown_as_people_write_them_not_in_exponent_form(value, shown):
    from workbench.i18n import readable

    assert readable(value) == shown


def test_the_profile_summarises_money_with_thousands_separators():
    import pandas as pd

    from workbench.profile import profile_dataset
    from workbench.ui.data import _column_table

    table = _column_table(profile_dataset(pd.DataFrame({"売上": [29840.0, 31250.0, 45000.5, 12000.0]})))
    summary = table.iloc[0, -1]
    assert "min 12,000" in summary and "max 45,000" in summary and "e+0" not in summary
