"""Text tables: encoding detection, then a sniffed layout parsed in full by pyarrow.

The layout (delimiter, decimal mark, preamble, header, code columns) is guessed
from a sample with the standard library's csv module; pyarrow then parses the
whole file. Rows with the wrong number of fields are counted and located, never
dropped silently.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from workbench.coltypes import NULL_VALUES
from workbench.errors import UserError
from workbench.i18n import Note
from workbench.settings import get_settings

if TYPE_CHECKING:
    from workbench.io import ReadReport

BadLines = Literal["skip", "error"]
DELIMITERS = [",", ";", "\t", "|"]
ENCODINGS = ["utf-8", "utf-8-sig", "cp932", "euc_jp", "utf-16", "latin-1"]
_SAMPLE_BYTES = 256 * 1024
_MAX_LISTED_LINES = 20
_FOOTER = re.compile(r"^\s*(total|sum|grand total|合計|総計|小計)\s*[:：]?\s*$", re.IGNORECASE)


def has_content(data: bytes | memoryview) -> bool:
    return re.search(rb"[^\s\x00]", data) is not None


class NotUtf8(Exception):
    """A file whose sample decoded as UTF-8 holds invalid UTF-8 further on."""


# ---------------------------------------------------------------- encodings


def decode(data: bytes, filename: str, override: str | None,
           utf8_checked: bool = True) -> tuple[bytes, str, str]:
    """Return the file as UTF-8 bytes without BOM, the encoding, and how it was found
    ("user", "bom", "utf-8" or "detector")."""
    if override:
        try:
            text = data.decode(override)
        except (UnicodeDecodeError, LookupError):
            raise UserError("import.encoding_failed", encoding=override) from None
        return text.lstrip("\ufeff").encode("utf-8"), override, "user"
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:], "utf-8-sig", "bom"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16").encode("utf-8"), "utf-16", "bom"
    if b"\x00" in data[:8192]:
        utf16 = _guess_utf16(data)
        if utf16 is None:
            raise UserError("import.binary", filename=filename)
        return data.decode(utf16).encode("utf-8"), utf16, "detector"
    if utf8_checked and _looks_utf8(data):
        return data, "utf-8", "utf-8"
    name = _detect_encoding(data)
    return data.decode(name).encode("utf-8"), name, "detector"


def _looks_utf8(data: bytes) -> bool:
    """UTF-8 judged on the first megabyte; pyarrow validates the rest while parsing."""
    sample = data[: 1 << 20]
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sample's end is not an error.
        return len(sample) == (1 << 20) and exc.start >= len(sample) - 3
    return True


def _guess_utf16(data: bytes) -> str | None:
    sample = data[:4096]
    even_zeros = sample[0::2].count(0)
    odd_zeros = sample[1::2].count(0)
    half = len(sample) / 2
    if odd_zeros > 0.3 * half and even_zeros < 0.05 * half:
        return "utf-16-le"
    if even_zeros > 0.3 * half and odd_zeros < 0.05 * half:
        return "utf-16-be"
    return None


def _detect_encoding(data: bytes) -> str:
    """Pick a legacy encoding with charset-normalizer, preferring cp932 over plain Shift-JIS."""
    from charset_normalizer import from_bytes

    best = from_bytes(data[:_SAMPLE_BYTES * 4], cp_isolation=["cp932", "euc_jp", "cp1252", "latin_1",
                                                             "utf_16", "shift_jis", "iso2022_jp"]).best()
    name = best.encoding if best else "latin-1"
    # cp932 is a superset of Shift-JIS (①, ㈱, 髙 exist only in cp932).
    name = {"shift_jis": "cp932", "latin_1": "latin-1"}.get(name, name)
    for candidate in (name, "cp932", "euc_jp", "latin-1"):
        try:
            data.decode(candidate)
            return candidate
        except UnicodeDecodeError:
            continue
    return "latin-1"


# ---------------------------------------------------------------- delimited text


@dataclass
class _Layout:
    delimiter: str
    decimal: str
    preamble_lines: int
    header: bool
    names: list[str]
    body_offset: int  # byte offset where data rows start
    body_first_line: int  # 1-based physical line number of the first data row
    text_columns: list[str]
    multiline: bool  # a quoted field in the sample spans lines
    unnamed_first: bool = False  # the header names every column but the first (row names)


def read_delimited(
    utf8: bytes, report: ReadReport, delimiter: str | None, decimal: str | None,
    header: bool | None, bad_lines: BadLines,
) -> pd.DataFrame:
    layout = _sniff_layout(utf8, delimiter, decimal, header)
    settings = get_settings()
    if len(layout.names) > settings.max_columns:
        raise UserError("import.too_many_columns", columns=len(layout.names), limit=settings.max_columns)
    report.delimiter, report.decimal, report.header = layout.delimiter, layout.decimal, layout.header
    report.preamble_lines = layout.preamble_lines
    if layout.unnamed_first:
        report.warnings.append(Note("import.warn.unnamed_first_column"))
    report.bad_lines_policy = bad_lines
    names = unique_names(layout.names, report)

    body = memoryview(utf8)[layout.body_offset:]  # no copy of a large file
    if not has_content(body):
        raise UserError("import.header_only")
    body = _blank_unclosed_quote(utf8, body, layout, report, bad_lines)
    # Quoted newlines slow pyarrow down by ~40%: allow them only where the file needs it.
    table, bad_rows = _parse_body(body, names, layout, report, multiline=layout.multiline)
    if bad_rows and not layout.multiline and any('"' in text for _, text in bad_rows):
        table, bad_rows = _parse_body(body, names, layout, report, multiline=True)
    if bad_rows:
        report.bad_lines += len(bad_rows)
        report.bad_line_numbers = sorted(report.bad_line_numbers + _locate_lines(body, bad_rows,
                                                                                layout.body_first_line))
        if bad_lines == "error":
            raise UserError("import.bad_lines_stop", count=len(bad_rows),
                            lines=", ".join(map(str, report.bad_line_numbers[:10])))
    df = table.to_pandas()
    int_columns = [f.name for f in table.schema if pa.types.is_integer(f.type)]
    return _drop_footer(df, report, body, layout.body_first_line, int_columns)


def _blank_unclosed_quote(utf8: bytes, body: memoryview, layout: _Layout, report: ReadReport,
                          bad_lines: BadLines) -> memoryview:
    """A quote that opens a field and is never closed would swallow the rest of the file into one cell: that
    line is left out (blanked, so later line numbers stay right) and reported, or the import stops."""
    # cheap and without a copy of the file: a closed quote comes in pairs ("" inside a field too)
    if utf8.count(b'"', layout.body_offset) % 2 == 0:
        return body
    text = bytes(body).decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text), delimiter=layout.delimiter, strict=True)
    start = 0
    try:
        for _ in reader:
            start = reader.line_num
    except csv.Error:
        pass
    else:
        return body  # an odd quote inside an unquoted field (5'11") is only a character
    line = layout.body_first_line + start
    if bad_lines == "error":
        raise UserError("import.unclosed_quote", line=line)
    lines = text.splitlines(keepends=True)
    report.warnings.append(Note("import.warn.unclosed_quote", {"line": line, "text": lines[start].strip()[:80]}))
    report.bad_lines += 1
    report.bad_line_numbers.append(line)
    lines[start] = "\n"
    return memoryview("".join(lines).encode("utf-8"))


def _parse_body(body: memoryview, names: list[str], layout: _Layout, report: ReadReport,
                multiline: bool) -> tuple[pa.Table, list[tuple[int | None, str]]]:
    bad_rows: list[tuple[int | None, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad_rows.append((row.number, row.text))
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(body)),
            read_options=pacsv.ReadOptions(column_names=names, block_size=8 << 20),
            parse_options=pacsv.ParseOptions(delimiter=layout.delimiter, newlines_in_values=multiline,
                                             invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                null_values=NULL_VALUES, strings_can_be_null=True, decimal_point=layout.decimal,
                true_values=[], false_values=[],  # yes/no words stay as written
                column_types={c: pa.string() for c in layout.text_columns if c in names},
                timestamp_parsers=[pacsv.ISO8601, "%Y/%m/%d", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S"],
            ),
        )
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc) and report.encoding_source == "utf-8":
            raise NotUtf8() from exc
        raise UserError("import.parse_failed", detail=str(exc).splitlines()[0][:200]) from None
    return table, bad_rows


def _sniff_layout(utf8: bytes, delimiter: str | None, decimal: str | None, header: bool | None) -> _Layout:
    sample = utf8[:_SAMPLE_BYTES]
    if len(utf8) > _SAMPLE_BYTES:
        sample = sample[: sample.rfind(b"\n") + 1] or sample
    text = sample.decode("utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    skip = 0
    while skip < len(lines) and (not lines[skip].strip() or lines[skip].lstrip().startswith("#")):
        skip += 1
    rest = "".join(lines[skip:])
    delim = delimiter or _guess_delimiter(rest)
    records = _records(rest, delim, limit=500)
    if not records:
        raise UserError("import.header_only")
    # Title lines above the table (fewer fields than the table) belong to the preamble; a header one name
    # short above rows of the full width names all but the first column (row names, as R's write.csv has them).
    width = Counter(len(r) for _, r in records).most_common(1)[0][0]
    unnamed_first = False
    rows_decimal = decimal or _guess_decimal([r for _, r in records[1:]], delim)
    while records and width > 1 and len(records[0][1]) < width and records[0][0] < 20:
        if header is not False and _names_all_but_first(records, width, rows_decimal):
            records[0] = (records[0][0], ["", *records[0][1]])
            unnamed_first = True
            break
        records.pop(0)
    if not records:
        raise UserError("import.header_only")
    first_line = records[0][0]
    skip += first_line
    first = records[0][1]
    data_rows = [r for _, r in records[1:]]
    dec = decimal or _guess_decimal(data_rows, delim)
    has_header = unnamed_first or (_guess_header(first, data_rows, dec) if header is None else header)
    names = [c.strip() for c in first] if has_header else [f"column_{i + 1}" for i in range(len(first))]
    if len(names) < width:
        names += [f"column_{i + 1}" for i in range(len(names), width)]
    header_lines = (records[1][0] - records[0][0]) if (has_header and len(records) > 1) else (1 if has_header else 0)
    body_line = skip + header_lines  # 0-based index of the first data line
    offset = len("".join(lines[:body_line]).encode("utf-8")) if body_line <= len(lines) else len(sample)
    text_cols = _leading_zero_columns(names, data_rows if has_header else [first, *data_rows])
    multiline = any("\n" in cell or "\r" in cell for _, r in records for cell in r)
    return _Layout(delim, dec, skip, has_header, names, offset, body_line + 1, text_cols, multiline, unnamed_first)


def _names_all_but_first(records: list[tuple[int, list[str]]], width: int, decimal: str) -> bool:
    """The first record is a header of `width` - 1 names over rows of `width` fields: the rows below all have
    the full width, its cells are distinct non-empty names, and it reads as a header once shifted right."""
    first, rows = records[0][1], [r for _, r in records[1:]]
    if len(first) != width - 1 or width < 3 or not rows or any(len(r) != width for r in rows[:50]):
        return False
    cells = [c.strip() for c in first]
    if not all(cells) or len(set(cells)) != len(cells):
        return False
    # A full-width header below it makes the first record a title line instead.
    below_is_header = len(rows) > 1 and _guess_header(rows[0], rows[1:], decimal)
    return not below_is_header and _guess_header(["", *cells], rows, decimal)


def _records(text: str, delim: str, limit: int) -> list[tuple[int, list[str]]]:
    """Parse up to `limit` records; each with the 0-based line index where it starts."""
    out: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    start = 0
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                out.append((start, row))
            start = reader.line_num
            if len(out) >= limit:
                break
    except csv.Error:
        pass
    return out


def _guess_delimiter(text: str) -> str:
    best, best_key = ",", (False, 0.0, 0)
    for delim in DELIMITERS:
        rows = _records(text, delim, limit=200)
        if not rows:
            continue
        counts = [len(r) for _, r in rows]
        mode, freq = Counter(counts).most_common(1)[0]
        if mode < 2:
            continue
        key = (counts[0] == mode, round(freq / len(counts), 2), mode)
        if key > best_key:
            best, best_key = delim, key
    return best


_NUMBER_DOT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_NUMBER_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def _guess_decimal(rows: list[list[str]], delim: str) -> str:
    if delim == ",":
        return "."
    cells = [c.strip() for r in rows[:200] for c in r if c.strip()]
    comma = sum(bool(_NUMBER_COMMA.match(c)) for c in cells)
    dot = sum(bool(re.match(r"^[+-]?\d+\.\d+$", c)) for c in cells)
    return "," if comma > dot else "."


def _is_number(cell: str, decimal: str) -> bool:
    cell = cell.strip()
    if decimal == ",":
        cell = cell.replace(",", ".")
    return bool(_NUMBER_DOT.match(cell))


def _guess_header(first: list[str], rows: list[list[str]], decimal: str) -> bool:
    """A first row is data only when it is numeric wherever the columns below are numeric."""
    numeric_cols = 0
    for j, cell in enumerate(first):
        below = [r[j] for r in rows[:100] if j < len(r) and r[j].strip()]
        if below and all(_is_number(v, decimal) for v in below):
            numeric_cols += 1
            if not _is_number(cell, decimal):
                return True
    if numeric_cols:
        return False
    # All-text table: a header does not repeat values of its column.
    repeats = sum(1 for j, cell in enumerate(first) if any(j < len(r) and r[j] == cell for r in rows[:100]))
    return repeats <= len(first) // 2


def _leading_zero_columns(names: list[str], rows: list[list[str]]) -> list[str]:
    """Columns holding codes such as 007 or 0123 (ZIP codes, IDs): kept as text."""
    out = []
    for j, name in enumerate(names):
        cells = [r[j].strip() for r in rows if j < len(r) and r[j].strip()]
        if any(len(c) > 1 and c[0] == "0" and c.isdigit() for c in cells):
            out.append(name)
    return out


def unique_names(names: list[str], report: ReadReport) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for i, name in enumerate(names):
        new = name or f"column_{i + 1}"
        base, k = new, 2
        while new in seen:
            new, k = f"{base}_{k}", k + 1
        seen.add(new)
        if new != name:
            report.renamed_columns.append((name, new))
        out.append(new)
    return out


def _locate_lines(view: memoryview, bad_rows: list[tuple[int | None, str]], first_line: int) -> list[int]:
    """Physical line numbers (1-based, in the whole file) of the first bad rows."""
    body = bytes(view)  # only files with bad rows get here
    numbers: list[int] = []
    pos, line = 0, 0
    for number, row_text in bad_rows[:_MAX_LISTED_LINES]:
        if number is not None:
            numbers.append(number + first_line - 1)
            continue
        needle = row_text.encode("utf-8")
        found = body.find(needle, pos)
        while found > 0 and body[found - 1:found] not in (b"\n", b"\r"):
            found = body.find(needle, found + 1)
        if found < 0:
            continue
        line += body.count(b"\n", pos, found)
        numbers.append(first_line + line)
        pos = found
    return numbers


def _drop_footer(df: pd.DataFrame, report: ReadReport, body: memoryview, first_line: int,
                 int_columns: list[str]) -> pd.DataFrame:
    """Drop a trailing summary row such as 'Total,891,,,' and say so."""
    if len(df) < 2 or df.shape[1] < 2:
        return df
    last = df.iloc[-1, 0]
    if not (isinstance(last, str) and _FOOTER.match(last)):
        return df
    data = bytes(body)
    end = len(data.rstrip())
    start = data.rfind(b"\n", 0, end) + 1
    report.footer_line_numbers.append(first_line + data.count(b"\n", 0, start))
    report.warnings.append(Note("import.warn.footer_dropped", {"value": last}))
    df = df.iloc[:-1].reset_index(drop=True)
    # The footer's empty cells had turned integer columns into floats.
    for name in int_columns:
        if name in df and df[name].notna().all():
            df[name] = df[name].astype("int64")
    return df
