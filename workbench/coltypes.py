"""Column type inference beyond the CSV parser's: what a Japanese or European file really holds.

refine_types() turns text columns into numbers or datetimes when every value
agrees (full-width digits, thousands separators, 2024年1月2日, 令和6年1月2日,
2024/01/02), and names each column's kind for the report. Yes/no words (はい/いいえ,
yes/no, TRUE/FALSE) stay the user's own words: the column is named a boolean
kind, and models treat it as a two-level category, so classes, predictions and
files written back show the words as uploaded.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pandas as pd

NULL_VALUES = ["", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "#N/A", "-", "－", "なし"]
BOOL_TRUE = {"true", "yes", "y", "t", "はい", "真", "○"}
BOOL_FALSE = {"false", "no", "n", "f", "いいえ", "偽", "×"}
KINDS = ("integer", "float", "boolean", "datetime", "categorical", "text", "id", "empty")
_SAMPLE = 2000
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_NUMERIC = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_FULLWIDTH = re.compile(r"[\uff01-\uff5e\u3000]")
_ERAS = {"明治": 1868, "大正": 1912, "昭和": 1926, "平成": 1989, "令和": 2019}
_WAREKI = re.compile(r"^(明治|大正|昭和|平成|令和)(元|\d{1,2})年(\d{1,2})月(\d{1,2})日$")
_KANJI_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日(?:\s*(\d{1,2})時(\d{1,2})分(?:(\d{1,2})秒)?)?$")
_DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
                 "%Y-%m-%d %H:%M", "%Y.%m.%d", "%d/%m/%Y", "%m/%d/%Y", "%Y%m%d"]
_ID_NAME = re.compile(r"(^|[_\s])(id|no|code)$|^id|ID$|番号|コード", re.IGNORECASE)

Conversion = tuple[str, dict[str, Any]]


def refine_types(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str], list[Conversion]]:
    """Return the frame with text columns converted where every value agrees, each column's kind,
    and the conversions made (message key, parameters)."""
    kinds: dict[str, str] = {}
    notes: list[Conversion] = []
    for name in df.columns:
        col = df[name]
        if _is_text(col):
            new, note, params = _convert_text(col)
            if note:
                notes.append((note, {"column": name, **params}))
                df[name] = col = new
        kinds[name] = column_kind(col, name)
        if kinds[name] == "boolean" and _is_text(col):
            notes.append(("import.conv.boolean", {"column": name}))
    return df, kinds, notes


def _is_text(col: pd.Series) -> bool:
    return col.dtype == object or pd.api.types.is_string_dtype(col)


def _convert_text(col: pd.Series) -> tuple[pd.Series, str | None, dict[str, Any]]:
    """Convert when a sample suggests a type and then every value of the column converts; the note's key and
    any parameters beside the column's name."""
    present = int(col.notna().sum())
    if not present:
        return col, None, {}
    if col.dtype == object and not all(isinstance(v, str) for v in col.dropna().iloc[:_SAMPLE]):
        col = col.where(col.isna(), col.astype(str))
    sample = pd.Series(col.iloc[:50 * _SAMPLE].dropna().unique()[:_SAMPLE], dtype="str").str.strip()
    if _all_bool(sample):  # kept as written; column_kind names it
        return col, None, {}
    numeric = _numeric_form(sample)
    if numeric is not None:
        full = _numeric_form(col.str.strip())
        converted = pd.to_numeric(full, errors="coerce") if full is not None else None
        if converted is not None and converted.notna().sum() == present:
            note = "import.conv.fullwidth" if sample.str.contains(_FULLWIDTH).any() else (
                "import.conv.thousands" if sample.str.contains(",").any() else "import.conv.number")
            return _maybe_int(converted), note, {}
    dates = _to_datetime(sample)
    if dates is not None:
        fmt, note = dates
        converted = _parse_dates(col.str.strip(), fmt)
        if converted.notna().sum() == present:
            return converted, note, {}
    if sample.str.match(_MIXABLE_START).all() and _mixed_dates(sample) is not None:
        mixed = _mixed_dates(col.str.strip())
        if mixed is not None:
            return mixed[0], "import.conv.mixed_dates", {"formats": ", ".join(mixed[1])}
    return col, None, {}


# Forms that cannot be mistaken for one another (day-first and month-first forms are never mixed in).
_MIXABLE = ["wareki", "kanji", "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S",
            "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"]
_MIXABLE_START = re.compile(r"^(\d{4}[-/.年]|明治|大正|昭和|平成|令和)")


def _mixed_dates(values: pd.Series) -> tuple[pd.Series, list[str]] | None:
    """Dates written in several unambiguous forms in one column (2024年2月26日, 令和5年10月3日, 2024/02/26):
    the dates and one example value of each form found, or None when some value is no date or one form
    alone would do."""
    present = values.dropna()
    parts, examples = [], []
    for fmt in _MIXABLE:
        if present.empty:
            break
        parsed = _parse_dates(present, fmt)
        hit = parsed.notna()
        if hit.any():
            parts.append(parsed[hit])
            examples.append(str(present[hit].iloc[0]))
            present = present[~hit]
    if not present.empty or len(parts) < 2:
        return None
    return pd.concat(parts).reindex(values.index), examples


def _all_bool(sample: pd.Series) -> bool:
    """Every value is a yes/no word, and the words are not only single letters that may be codes."""
    lowered = set(sample.str.lower())
    if not lowered or not lowered <= BOOL_TRUE | BOOL_FALSE:
        return False
    words = {"true", "false", "yes", "no", "はい", "いいえ"}
    return bool(lowered & words) or (bool(lowered & BOOL_TRUE) and bool(lowered & BOOL_FALSE))


def is_yes_no(values: pd.Series) -> bool:
    """Every value of the text column is a yes/no word (はい/いいえ, yes/no, true/false, ○/×)."""
    levels = values.dropna().unique()  # a few, in any case: "Yes", "YES", "yes"
    return 0 < len(levels) <= 2 * len(BOOL_TRUE | BOOL_FALSE) and _all_bool(pd.Series(levels, dtype="str").str.strip())


def _numeric_form(values: pd.Series) -> pd.Series | None:
    """Return the values rewritten as plain numbers, or None when some value is not a number."""
    if values.str.contains(_FULLWIDTH).any():
        values = values.map(lambda v: unicodedata.normalize("NFKC", v).strip(), na_action="ignore")
    if values.str.match(_THOUSANDS).any():
        values = values.where(~values.str.match(_THOUSANDS).fillna(False), values.str.replace(",", "", regex=False))
    ok = values.dropna()
    if ok.empty or not ok.str.match(_NUMERIC).all():
        return None
    # Codes such as 007 keep their zeros: they are labels, not quantities.
    if ok.str.match(r"^0\d").any():
        return None
    return values


def _maybe_int(values: pd.Series) -> pd.Series:
    if values.notna().all() and (values % 1 == 0).all() and values.abs().max() < 2**53:
        return values.astype("int64")
    return values.astype("float64")


def _to_datetime(sample: pd.Series) -> tuple[str, str] | None:
    if sample.str.match(_WAREKI).all():
        return "wareki", "import.conv.wareki"
    if sample.str.match(_KANJI_DATE).all():
        return "kanji", "import.conv.japanese_date"
    if not sample.str.match(r"^\d").all():
        return None
    for fmt in _DATE_FORMATS:
        parsed = pd.to_datetime(sample, format=fmt, errors="coerce")
        if parsed.notna().all():
            return fmt, "import.conv.datetime"
    return None


def _parse_dates(col: pd.Series, fmt: str) -> pd.Series:
    if fmt == "wareki":
        return pd.to_datetime(col.map(_wareki_to_iso, na_action="ignore"), format="%Y-%m-%d", errors="coerce")
    if fmt == "kanji":
        return pd.to_datetime(col.map(_kanji_to_iso, na_action="ignore"), format="ISO8601", errors="coerce")
    return pd.to_datetime(col, format=fmt, errors="coerce")


def _wareki_to_iso(value: str) -> str | None:
    match = _WAREKI.match(value)
    if not match:
        return None
    era, year, month, day = match.groups()
    gregorian = _ERAS[era] + (1 if year == "元" else int(year)) - 1
    return f"{gregorian:04d}-{int(month):02d}-{int(day):02d}"


def _kanji_to_iso(value: str) -> str | None:
    match = _KANJI_DATE.match(value)
    if not match:
        return None
    y, m, d, hh, mm, ss = match.groups()
    iso = f"{int(y):04d}-{int(m):02d}-{int(d):02d}"
    if hh is not None:
        iso += f"T{int(hh):02d}:{int(mm):02d}:{int(ss or 0):02d}"
    return iso


def column_kind(col: pd.Series, name: str) -> str:
    """Name what a column holds: integer, float, boolean, datetime, categorical, text, id or empty."""
    if not col.notna().any():
        return "empty"
    if pd.api.types.is_bool_dtype(col):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(col):
        return "datetime"
    if pd.api.types.is_numeric_dtype(col):
        if pd.api.types.is_integer_dtype(col):
            # Cheap tests first: an ID counts up or is named like one, and is unique.
            if len(col) >= 20 and (_ID_NAME.search(str(name)) or col.is_monotonic_increasing) and col.is_unique:
                return "id"
            return "integer"
        return "float"
    values = col.dropna()
    text = values if pd.api.types.is_string_dtype(values) else values.astype(str)
    if is_yes_no(text):
        return "boolean"
    sample = text.iloc[:_SAMPLE]
    lengths = sample.str.len()
    words = sample.str.count(r"\s+") + 1
    unique_ratio = text.nunique() / len(text)
    if unique_ratio > 0.5 and (words.mean() >= 3 or lengths.mean() >= 25):
        return "text"
    if len(text) >= 20 and unique_ratio == 1.0:
        return "id"
    return "categorical"
