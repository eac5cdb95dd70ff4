"""Reading tables from uploaded bytes: read_table(bytes, filename) -> (DataFrame, ReadReport).

The format is told by the bytes (magic numbers), not the file name. Text tables
are read by workbench.textfile; column types are then refined (booleans,
Japanese and slash dates, full-width digits, thousands separators, codes with
leading zeros) by workbench.coltypes. Also the safe CSV writer for downloads.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench.coltypes import refine_types
from workbench.errors import UserError
from workbench.i18n import Note
from workbench.settings import get_settings
from workbench.textfile import BadLines, NotUtf8, decode, has_content, read_delimited, unique_names

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
    if not has_content(data):
        raise UserError("import.empty_file")
    kind = _sniff_format(data, filename)
    if kind == "excel":
        df, report = _read_excel(data, filename, sheet)
    elif kind == "parquet":
        df, report = _read_parquet(data, filename)
    else:
        try:
            df, report = _parse_text(kind, data, filename, encoding, delimiter, decimal, header, bad_lines)
        except NotUtf8:
            # The sample looked like UTF-8 but a later part is not: detect the legacy encoding.
            df, report = _parse_text(kind, data, filename, encoding, delimiter, decimal, header, bad_lines,
                                     utf8_checked=False)
    _check_shape(df, settings.max_columns)
    df, report.column_kinds, conversions = refine_types(df)
    report.conversions += [Note(key, params) for key, params in conversions]
    report.warnings += _infinite_to_missing(df)
    if df.shape[1] == 1:
        report.warnings.append(Note("import.warn.one_column"))
    report.rows, report.columns = df.shape
    return df, report


def _parse_text(kind: str, data: bytes, filename: str, encoding: str | None, delimiter: str | None,
                decimal: str | None, header: bool | None, bad_lines: BadLines,
                utf8_checked: bool = True) -> tuple[pd.DataFrame, ReadReport]:
    utf8, encoding, source = decode(data, filename, encoding, utf8_checked)
    report = ReadReport(filename=filename, format=kind, encoding=encoding, encoding_source=source)
    if b"\x00" in utf8:  # past the first 8 KB (earlier, the file is refused as binary): damage, not data
        utf8 = _without_nul(utf8, report)
    if kind == "jsonl":
        return _read_json_lines(utf8), report
    return read_delimited(utf8, report, delimiter, decimal, header, bad_lines), report


def _without_nul(utf8: bytes, report: ReadReport) -> bytes:
    """The text with its NUL bytes removed, and a warning naming the lines that held them."""
    lines, at = [], utf8.find(b"\x00")
    while at >= 0 and len(lines) < 5:
        line = utf8.count(b"\n", 0, at) + 1
        if line not in lines:
            lines.append(line)
        at = utf8.find(b"\x00", at + 1)
    report.warnings.append(Note("import.warn.nul_removed", {"count": utf8.count(b"\x00"),
                                                            "lines": ", ".join(map(str, lines))}))
    return utf8.replace(b"\x00", b"")


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
    return "csv"


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
    df.columns = unique_names([("" if str(c).startswith("Unnamed:") else str(c)) for c in df.columns], report)
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


def _infinite_to_missing(df: pd.DataFrame) -> list[Note]:
    """Infinite numbers (inf, -inf, 1e400) become missing values, each column said with its first rows."""
    notes = []
    for name in df.columns:
        if not pd.api.types.is_float_dtype(df[name]):
            continue
        values = df[name].astype("float64")
        infinite = np.isinf(values.to_numpy())
        if infinite.any():
            rows = ", ".join(str(i + 1) for i in np.flatnonzero(infinite)[:5])
            df[name] = values.where(~infinite, np.nan)
            notes.append(Note("import.warn.infinite", {"column": name, "count": int(infinite.sum()), "rows": rows}))
    return notes


def _check_shape(df: pd.DataFrame, max_columns: int) -> None:
    if df.shape[1] > max_columns:
        raise UserError("import.too_many_columns", columns=df.shape[1], limit=max_columns)
    if df.shape[0] == 0:
        raise UserError("import.header_only")


# ---------------------------------------------------------------- writing


def _neutralised(df: pd.DataFrame) -> pd.DataFrame:
    safe = df.copy()
    for col in safe.columns:
        if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = safe[col].map(_neutralise, na_action="ignore")
    return safe


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV as UTF-8 with BOM (Japanese Excel opens it), formula-like cells neutralised (OWASP)."""
    return _neutralised(df).to_csv(index=False).encode("utf-8-sig")


def to_excel_bytes(df: pd.DataFrame) -> bytes:
    """An .xlsx workbook of `df`, text that would start a formula neutralised."""
    buffer = io.BytesIO()
    _neutralised(df).to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()


def _neutralise(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
