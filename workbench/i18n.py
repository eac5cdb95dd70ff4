"""Translations: t("key", **params) with English and Japanese catalogues in locales/."""

from __future__ import annotations

import json
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

LANGUAGES: dict[str, str] = {"en": "English", "ja": "日本語"}
DEFAULT_LANGUAGE = "en"
_LOCALES = Path(__file__).with_name("locales")
_current: ContextVar[str] = ContextVar("workbench_language", default=DEFAULT_LANGUAGE)


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """Return the message catalogue of one language."""
    with open(_LOCALES / f"{lang}.json", encoding="utf-8") as fh:
        return json.load(fh)


def normalise_language(value: str | None) -> str:
    """Map a browser locale such as 'ja-JP' or 'en_GB' to a supported language code."""
    if not value:
        return DEFAULT_LANGUAGE
    code = value.replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def set_language(lang: str) -> None:
    """Make `lang` the language of t() calls in this thread or task."""
    _current.set(normalise_language(lang))


def get_language() -> str:
    """Return the language t() uses when none is given."""
    return _current.get()


def t(key: str, lang: str | None = None, **params: Any) -> str:
    """Return the message for `key` in `lang` (default: the current language), formatted."""
    lang = normalise_language(lang) if lang else _current.get()
    text = catalogue(lang).get(key)
    if text is None:
        text = catalogue(DEFAULT_LANGUAGE).get(key, key)
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


@dataclass
class Note:
    """A message to show later: a catalogue key and its parameters (kept in reports as JSON)."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str | None = None) -> str:
        """Return the translated message."""
        return t(self.key, lang=lang, **self.params)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def escape_md(value: Any) -> str:
    """Escape text from user data (column names, cell values) before it reaches Markdown."""
    return _MD_SPECIAL.sub(r"\\\1", str(value))


def readable(value: Any, digits: int = 4) -> str:
    """A number as people write it: 29,840 (not 2.984e+04) from 1,000 up, `digits` significant digits below
    (0.1235, 12.35), an exponent only for the very small or very large; the sign kept; not a number as '—'."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number != number or number in (float("inf"), float("-inf")):
        return "—"
    size = abs(number)
    if 1000 <= size < 1e15:
        return f"{number:,.0f}"
    if size == 0 or 1e-4 <= size < 1000:
        return f"{number:.{digits}g}"
    return f"{number:.{digits - 1}e}"

