"""Reading tables from uploaded bytes: read_table(bytes, filename) -> (DataFrame, ReadReport).

Text files are sniffed on a sample (encoding, delimiter, decimal mark, preamble,
header) with the standard library, then parsed in full by pyarrow. Column types
are refined afterwards (booleans, Japanese and slash dates, full-width digits,
thousands separators, codes with leading zeros) in workbench.coltypes.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from workbench.errors import UserError
from workbench.i18n import Note
from workbench.settings import get_settings
from workbench.coltypes import NULL_VALUES, PARSER_FALSE, PARSER_TRUE, refine_types

BadLines = Literal["skip", "error"]
DELIMITERS = [",", ";", "\t", "|"]
ENCODINGS = ["utf-8", "utf-8-sig", "cp932", "euc_jp", "utf-16", "latin-1"]
_SAMPLE_BYTES = 256 * 1024
_MAX_LISTED_LINES = 20
_FOOTER = re.compile(r"^\s*(total|sum|grand total|合計|総計|小計)\s*[:：]?\s*$", re.IGNORECASE)
_MAGIC: list[tuple[bytes, str]] = [
    (b"\x89PNG", "import.not_table.image"),
    (b"\xff\xd8\xff", "import.not_table.image"),
    (b"GIF8", "import.not_table.image"),
    (b"RIFF", "import.not_table.image"),
    (b"%PDF", "import.not_table.pdf"),
    (b"\x1f\x8b", "import.not_table.gzip"),
    (b"SQLite format 3", "import.not_table.sqlite"),
    (b"\xd0\xcf\x11\xe0", "import.not_table.xls"),
]


@dataclass
class ReadReport:
    """What read_table did with a file: shown on the Data page and kept with the dataset."""

    filename: str
    format: str
    rows: int = 0
    columns: int = 0
    encoding: str | None = None
    encoding_source: str | None = None  # "bom", "utf-8", "detector", "user"
    delimiter: str | None = None
    decimal: str = "."
    header: bool = True
    sheet: str | None = None
    preamble_lines: int = 0
    bad_lines_policy: BadLines = "skip"
    bad_lines: int = 0
    bad_line_numbers: list[int] = field(default_factory=list)
    footer_line_numbers: list[int] = field(default_factory=list)
    renamed_columns: list[tuple[str, str]] = field(default_factory=list)
    column_kinds: dict[str, str] = field(default_factory=dict)
    conversions: list[Note] = field(default_factory=list)
    warnings: list[Note] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ReadReport":
        """Rebuild a report saved with to_dict()."""
        data = dict(data)
        data["conversions"] = [Note(**n) for n in data.get("conversions", [])]
        data["warnings"] = [Note(**n) for n in data.get("warnings", [])]
        data["renamed_columns"] = [tuple(p) for p in data.get("renamed_columns", [])]
        return cls(**data)


def read_table(
    data: bytes,
    filename: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    header: bool | None = None,
    sheet: str | None = None,
    bad_lines: BadLines = "skip",
) -> tuple[pd.DataFrame, ReadReport]:
    """Read an uploaded file into a typed DataFrame and a report of every decision taken.

    Keyword arguments override what would be detected. Raises UserError for a
    file that is not a readable table.
    """
    settings = get_settings()
    if len(data) > settings.max_upload_mb * 1024 * 1024:
        raise UserError("import.too_large", size_mb=round(len(data) / 1024 / 1024, 1),
                        limit_mb=settings.max_upload_mb)
    if not _has_content(data):
        raise UserError("import.empty_file")
    kind = _sniff_format(data, filename)
    if kind == "excel":
        df, report = _read_excel(data, filename, sheet)
    elif kind == "parquet":
        df, report = _read_parquet(data, filename)
    else:
        text_bytes, report = _decode(data, filename, encoding)
        try:
            df = _parse_text(kind, text_bytes, report, delimiter, decimal, header, bad_lines)
        except _NotUtf8:
            # The sample looked like UTF-8 but a later part is not: detect the legacy encoding.
            text_bytes, report = _decode(data, filename, encoding, utf8_checked=False)
            df = _parse_text(kind, text_bytes, report, delimiter, decimal, header, bad_lines)
    _check_shape(df, settings.max_columns)
    df, report.column_kinds, conversions = refine_types(df)
    report.conversions += [Note(key, params) for key, params in conversions]
    if df.shape[1] == 1:
        report.warnings.append(Note("import.warn.one_column"))
    report.rows, report.columns = df.shape
    return df, report


class _NotUtf8(Exception):
    """A file whose sample decoded as UTF-8 holds invalid UTF-8 further on."""


def _has_content(data: bytes | memoryview) -> bool:
    return re.search(rb"[^\s\x00]", data) is not None


def _parse_text(kind: str, utf8: bytes, report: "ReadReport", delimiter: str | None, decimal: str | None,
                header: bool | None, bad_lines: BadLines) -> pd.DataFrame:
    if kind == "jsonl":
        report.format = "jsonl"
        return _read_json_lines(utf8)
    return _read_delimited(utf8, report, delimiter, decimal, header, bad_lines)


def _sniff_format(data: bytes, filename: str) -> str:
    head = data[:16]
    for magic, key in _MAGIC:
        if head.startswith(magic):
            raise UserError(key, filename=filename)
    if head.startswith(b"PK\x03\x04"):
        return "excel"
    if head.startswith(b"PAR1"):
        return "parquet"
    name = filename.lower()
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith((".xlsx", ".xlsm")):
        raise UserError("import.bad_excel", filename=filename)
    if name.endswith(".parquet"):
        raise UserError("import.bad_parquet", filename=filename)
    return "text"


# ---------------------------------------------------------------- encodings


def _decode(data: bytes, filename: str, override: str | None,
            utf8_checked: bool = True) -> tuple[bytes, ReadReport]:
    """Return the file as UTF-8 bytes without BOM, and a report naming the encoding."""
    report = ReadReport(filename=filename, format="csv")
    if override:
        try:
            text = data.decode(override)
        except (UnicodeDecodeError, LookupError):
            raise UserError("import.encoding_failed", encoding=override) from None
        report.encoding, report.encoding_source = override, "user"
        return text.lstrip("\ufeff").encode("utf-8"), report
    for bom, name in [(b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")]:
        if data.startswith(bom):
            report.encoding, report.encoding_source = name, "bom"
            if name == "utf-8-sig":
                return data[3:], report
            return data.decode("utf-16").encode("utf-8"), report
    if b"\x00" in data[:8192]:
        utf16 = _guess_utf16(data)
        if utf16 is None:
            raise UserError("import.binary", filename=filename)
        report.encoding, report.encoding_source = utf16, "detector"
        return data.decode(utf16).encode("utf-8"), report
    if utf8_checked and _looks_utf8(data):
        report.encoding, report.encoding_source = "utf-8", "utf-8"
        return data, report
    name = _detect_encoding(data)
    report.encoding, report.encoding_source = name, "detector"
    return data.decode(name).encode("utf-8"), report


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


def _read_delimited(
    utf8: bytes, report: ReadReport, delimiter: str | None, decimal: str | None,
    header: bool | None, bad_lines: BadLines,
) -> pd.DataFrame:
    layout = _sniff_layout(utf8, delimiter, decimal, header)
    settings = get_settings()
    if len(layout.names) > settings.max_columns:
        raise UserError("import.too_many_columns", columns=len(layout.names), limit=settings.max_columns)
    report.delimiter, report.decimal, report.header = layout.delimiter, layout.decimal, layout.header
    report.preamble_lines = layout.preamble_lines
    report.bad_lines_policy = bad_lines
    names = _unique_names(layout.names, report)

    body = memoryview(utf8)[layout.body_offset:]  # no copy of a large file
    if not _has_content(body):
        raise UserError("import.header_only")
    # Quoted newlines slow pyarrow down by ~40%: allow them only where the file needs it.
    table, bad_rows = _parse_body(body, names, layout, report, multiline=layout.multiline)
    if bad_rows and not layout.multiline and any('"' in text for _, text in bad_rows):
        table, bad_rows = _parse_body(body, names, layout, report, multiline=True)
    if bad_rows:
        report.bad_lines = len(bad_rows)
        report.bad_line_numbers = _locate_lines(body, bad_rows, layout.body_first_line)
        if bad_lines == "error":
            raise UserError("import.bad_lines_stop", count=len(bad_rows),
                            lines=", ".join(map(str, report.bad_line_numbers[:10])))
    df = table.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get)
    report.conversions.extend(Note("import.conv.boolean", {"column": f.name}) for f in table.schema
                              if pa.types.is_boolean(f.type))
    int_columns = [f.name for f in table.schema if pa.types.is_integer(f.type)]
    return _drop_footer(df, report, body, layout.body_first_line, int_columns)


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
                true_values=PARSER_TRUE, false_values=PARSER_FALSE,
                column_types={c: pa.string() for c in layout.text_columns if c in names},
                timestamp_parsers=[pacsv.ISO8601, "%Y/%m/%d", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S"],
            ),
        )
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc) and report.encoding_source == "utf-8":
            raise _NotUtf8() from exc
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
    # Title lines above the table (fewer fields than the table) belong to the preamble.
    width = Counter(len(r) for _, r in records).most_common(1)[0][0]
    while records and width > 1 and len(records[0][1]) < width and records[0][0] < 20:
        records.pop(0)
    if not records:
        raise UserError("import.header_only")
    first_line = records[0][0]
    skip += first_line
    first = records[0][1]
    data_rows = [r for _, r in records[1:]]
    dec = decimal or _guess_decimal(data_rows, delim)
    has_header = _guess_header(first, data_rows, dec) if header is None else header
    names = [c.strip() for c in first] if has_header else [f"column_{i + 1}" for i in range(len(first))]
    if len(names) < width:
        names += [f"column_{i + 1}" for i in range(len(names), width)]
    header_lines = (records[1][0] - records[0][0]) if (has_header and len(records) > 1) else (1 if has_header else 0)
    body_line = skip + header_lines  # 0-based index of the first data line
    offset = len("".join(lines[:body_line]).encode("utf-8")) if body_line <= len(lines) else len(sample)
    text_cols = _leading_zero_columns(names, data_rows if has_header else [first, *data_rows])
    multiline = any("\n" in cell or "\r" in cell for _, r in records for cell in r)
    return _Layout(delim, dec, skip, has_header, names, offset, body_line + 1, text_cols, multiline)


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


def _unique_names(names: list[str], report: ReadReport) -> list[str]:
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


# ---------------------------------------------------------------- other formats


def _read_excel(data: bytes, filename: str, sheet: str | None) -> tuple[pd.DataFrame, ReadReport]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except zipfile.BadZipFile:
        raise UserError("import.bad_excel", filename=filename) from None
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        raise UserError("import.zip_not_excel", filename=filename)
    unpacked = sum(i.file_size for i in infos)
    limit = get_settings().max_upload_mb * 1024 * 1024
    if unpacked > 5 * limit or unpacked > 200 * max(len(data), 1):
        raise UserError("import.zip_bomb", filename=filename)
    try:
        book = pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
        sheet_name = sheet if sheet in book.sheet_names else book.sheet_names[0]
        df = pd.read_excel(book, sheet_name=sheet_name, dtype=object)
    except UserError:
        raise
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise UserError("import.bad_excel", filename=filename) from exc
    report = ReadReport(filename=filename, format="excel", sheet=str(sheet_name))
    if len(book.sheet_names) > 1:
        report.warnings.append(Note("import.warn.other_sheets", {"sheets": ", ".join(map(str, book.sheet_names))}))
    df.columns = _unique_names([("" if str(c).startswith("Unnamed:") else str(c)) for c in df.columns], report)
    df = df.dropna(how="all")
    if df.empty:
        raise UserError("import.header_only")
    df = df.infer_objects()
    return df.reset_index(drop=True), report


def _read_parquet(data: bytes, filename: str) -> tuple[pd.DataFrame, ReadReport]:
    import pyarrow.parquet as pq

    try:
        df = pq.read_table(io.BytesIO(data)).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise UserError("import.bad_parquet", filename=filename) from exc
    if df.empty:
        raise UserError("import.header_only")
    return df, ReadReport(filename=filename, format="parquet")


def _read_json_lines(utf8: bytes) -> pd.DataFrame:
    text = utf8.decode("utf-8", errors="replace").strip()
    try:
        if text.startswith("["):
            records = json.loads(text)
        else:
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise UserError("import.bad_json", line=exc.lineno) from None
    if not records or not all(isinstance(r, dict) for r in records):
        raise UserError("import.bad_json", line=1)
    return pd.json_normalize(records)


def _check_shape(df: pd.DataFrame, max_columns: int) -> None:
    if df.shape[1] > max_columns:
        raise UserError("import.too_many_columns", columns=df.shape[1], limit=max_columns)
    if df.shape[0] == 0:
        raise UserError("import.header_only")


# ---------------------------------------------------------------- writing


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV as UTF-8 with BOM (Japanese Excel opens it), formula-like cells neutralised (OWASP)."""
    safe = df.copy()
    for col in safe.columns:
        if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = safe[col].map(_neutralise, na_action="ignore")
    return safe.to_csv(index=False).encode("utf-8-sig")


def _neutralise(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
