"""read_table on real, awkward and hostile files."""

from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
import pytest

from tests.conftest import data_bytes, sample_bytes
from workbench.errors import UserError
from workbench.io import ReadReport, read_table, to_csv_bytes


def _error_key(data: bytes, filename: str, **kwargs) -> str:
    with pytest.raises(UserError) as info:
        read_table(data, filename, **kwargs)
    return info.value.key


# ---------------------------------------------------------------- real files


def test_titanic_reads_with_types_and_yes_no_words_kept():
    df, report = read_table(sample_bytes("titanic.csv"), "titanic.csv")
    assert df.shape == (891, 15)
    assert report.encoding == "utf-8" and report.delimiter == "," and report.header
    assert report.column_kinds["age"] == "float"
    assert report.column_kinds["sex"] == "categorical"
    assert report.column_kinds["alive"] == "boolean" and (df["alive"] == "yes").sum() == 342  # words as written


def test_cp932_japanese_headers_decode_as_cp932_not_shift_jis():
    raw = sample_bytes("tips_ja_cp932.csv")
    df, report = read_table(raw, "tips.csv")
    assert report.encoding == "cp932"
    assert list(df.columns) == raw.decode("cp932").splitlines()[0].split(",")
    assert "人数（1～6名）" in df.columns  # U+FF5E: plain shift_jis decodes this header differently
    assert report.column_kinds["喫煙"] == "boolean" and set(df["喫煙"]) == {"はい", "いいえ"}
    assert df.shape == (244, 7)


def test_cp932_only_characters_survive():
    text = "会社,番号,氏名\n㈱テスト,①,髙橋\n㈲サンプル,②,山田\n"
    df, report = read_table(text.encode("cp932"), "x.csv")
    assert report.encoding == "cp932"
    assert df.iloc[0].tolist() == ["㈱テスト", "①", "髙橋"]


def test_euc_jp_file():
    text = "都道府県,人口\n" + "東京都,14000000\n大阪府,8800000\n北海道,5100000\n" * 3
    df, report = read_table(text.encode("euc_jp"), "x.csv")
    assert report.encoding == "euc_jp"
    assert df.columns.tolist() == ["都道府県", "人口"]
    assert df["人口"].dtype == "int64"


def test_utf16_with_bom_and_tabs():
    text = "name\tscore\nAnna\t1.5\nBéla\t2.5\n"
    df, report = read_table(text.encode("utf-16"), "x.txt")
    assert report.encoding == "utf-16" and report.delimiter == "\t"
    assert df["name"].tolist() == ["Anna", "Béla"]


def test_latin1_file_is_detected():
    text = "ville;température\nMontréal;-5,5\nQuébec;-7,25\nLyon;3,0\n"
    df, report = read_table(text.encode("latin-1"), "x.csv")
    assert report.encoding in ("latin-1", "cp1252")
    assert df["ville"].tolist() == ["Montréal", "Québec", "Lyon"]
    assert df["température"].tolist() == [-5.5, -7.25, 3.0]


def test_encoding_override_is_used_and_a_wrong_one_is_refused():
    raw = sample_bytes("tips_ja_cp932.csv")
    df, report = read_table(raw, "tips.csv", encoding="cp932")
    assert report.encoding_source == "user" and "性別" in df.columns
    assert _error_key(raw, "tips.csv", encoding="utf-8") == "import.encoding_failed"


def test_semicolon_and_decimal_comma():
    df, report = read_table(data_bytes("diamonds_semicolon_decimal_comma.csv"), "d.csv")
    assert report.delimiter == ";" and report.decimal == ","
    assert df["carat"].iloc[0] == pytest.approx(0.23)
    assert df["price"].dtype == "int64"


def test_semicolons_with_dotted_values_as_in_bank_marketing():
    raw = b'"age";"job";"y"\n30;"admin.";"no"\n41;"technician";"yes"\n'
    df, report = read_table(raw, "bank.csv")
    assert report.delimiter == ";" and df["y"].tolist() == ["no", "yes"]


def test_pipe_delimiter():
    df, report = read_table(b"a|b|c\n1|x|2.5\n2|y|3.5\n", "x.txt")
    assert report.delimiter == "|" and df.shape == (2, 3)


def test_comment_preamble_is_skipped_and_reported():
    df, report = read_table(data_bytes("upstream_raw_planets.csv"), "planets.csv")
    assert report.preamble_lines == 10
    assert df.columns[0] == "rowid" and len(df) == 1035


def test_title_line_above_the_table_is_skipped():
    raw = "売上データ 2024年\n日付,店舗,売上\n2024/01/02,新宿,100\n2024/01/03,渋谷,200\n".encode("cp932")
    df, report = read_table(raw, "sales.csv")
    assert report.preamble_lines == 1
    assert df.columns.tolist() == ["日付", "店舗", "売上"]
    assert df["日付"].dtype.kind == "M"


def test_ragged_rows_are_skipped_counted_and_located():
    df, report = read_table(data_bytes("titanic_bom_ragged.csv"), "t.csv")
    assert report.encoding == "utf-8-sig"
    assert report.bad_lines == 2 and report.bad_line_numbers == [6, 11]
    assert report.footer_line_numbers == [894]
    assert len(df) == 891 - 2
    assert df["PassengerId"].dtype == "int64" and df["Pclass"].dtype == "int64"


def test_ragged_rows_stop_when_the_user_says_stop():
    with pytest.raises(UserError) as info:
        read_table(data_bytes("titanic_bom_ragged.csv"), "t.csv", bad_lines="error")
    assert info.value.key == "import.bad_lines_stop"
    assert info.value.params["count"] == 2 and "6, 11" in info.value.params["lines"]


def test_quoted_fields_with_embedded_newlines():
    raw = b'id,comment,score\n1,"first line\nsecond line",3\n2,"plain",4\n3,"a, b",5\n'
    df, report = read_table(raw, "x.csv")
    assert report.bad_lines == 0
    assert df["comment"].iloc[0] == "first line\nsecond line" and df["comment"].iloc[2] == "a, b"


def test_file_without_header_gets_generated_names():
    df, report = read_table(b"1,2.5,3\n4,5.5,6\n7,8.5,9\n", "x.csv")
    assert not report.header
    assert df.columns.tolist() == ["column_1", "column_2", "column_3"] and len(df) == 3


def test_header_override_keeps_first_row_as_names():
    df, _ = read_table(b"1,2\n3,4\n", "x.csv", header=True)
    assert df.columns.tolist() == ["1", "2"] and len(df) == 1


def test_duplicate_and_empty_column_names_are_made_unique_and_reported():
    df, report = read_table(b"a,a,,b\n1,2,3,4\n5,6,7,8\n", "x.csv")
    assert df.columns.tolist() == ["a", "a_2", "column_3", "b"]
    assert ("a", "a_2") in report.renamed_columns and ("", "column_3") in report.renamed_columns


def test_japanese_types_full_width_thousands_dates_wareki():
    text = (
        "日付,和暦,金額,数量,郵便番号,確認\n"
        '2024年1月2日,令和6年1月2日,"1,234",１２,0010001,はい\n'
        '2024年12月31日,令和元年5月1日,"12,345,678",－５,1000001,いいえ\n'
    )
    df, report = read_table(text.encode("utf-8"), "jp.csv")
    assert df["日付"].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-12-31")]
    assert df["和暦"].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2019-05-01")]
    assert df["金額"].tolist() == [1234, 12345678]
    assert df["数量"].tolist() == [12, -5]
    assert df["郵便番号"].tolist() == ["0010001", "1000001"]  # leading zeros kept
    assert df["確認"].tolist() == ["はい", "いいえ"] and report.column_kinds["確認"] == "boolean"
    keys = {n.key for n in report.conversions}
    assert {"import.conv.japanese_date", "import.conv.wareki", "import.conv.thousands",
            "import.conv.fullwidth", "import.conv.boolean"} <= keys


def test_slash_dates_and_iso_datetimes():
    df, report = read_table(b"when,at\n2024/01/02,2024-01-02 10:00:00\n2024/02/03,2024-02-03 11:30:00\n", "x.csv")
    assert report.column_kinds == {"when": "datetime", "at": "datetime"}


def test_id_text_and_category_kinds():
    names = [f"Passenger number {i} of the long list" for i in range(30)]
    frame = pd.DataFrame({"code": [f"K{i:04d}" for i in range(30)], "note": names,
                          "group": ["a", "b", "c"] * 10, "row": range(30)})
    df, report = read_table(frame.to_csv(index=False).encode(), "x.csv")
    assert report.column_kinds == {"code": "id", "note": "text", "group": "categorical", "row": "id"}


def test_excel_with_japanese_headers_and_two_sheets():
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        pd.DataFrame({"商品": ["りんご", "みかん"], "価格": [120, 80]}).to_excel(writer, sheet_name="売上", index=False)
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="メモ", index=False)
    df, report = read_table(buffer.getvalue(), "book.xlsx")
    assert report.format == "excel" and report.sheet == "売上"
    assert df.columns.tolist() == ["商品", "価格"] and df["価格"].tolist() == [120, 80]
    assert any(n.key == "import.warn.other_sheets" for n in report.warnings)
    df2, report2 = read_table(buffer.getvalue(), "book.xlsx", sheet="メモ")
    assert report2.sheet == "メモ" and df2.columns.tolist() == ["x"]


def test_parquet_and_json_lines():
    frame = pd.DataFrame({"a": [1, 2], "名前": ["x", "y"]})
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    df, report = read_table(buffer.getvalue(), "x.parquet")
    assert report.format == "parquet" and df.equals(frame)
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in frame.to_dict("records"))
    df, report = read_table(lines.encode(), "x.jsonl")
    assert report.format == "jsonl" and df["名前"].tolist() == ["x", "y"]


def test_report_round_trips_through_json():
    _, report = read_table(data_bytes("titanic_bom_ragged.csv"), "t.csv")
    again = ReadReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again == report


# ---------------------------------------------------------------- bad input


def test_empty_file():
    assert _error_key(b"", "x.csv") == "import.empty_file"
    assert _error_key(b"  \n\r\n ", "x.csv") == "import.empty_file"


def test_header_only_file():
    assert _error_key(b"a,b,c\n", "x.csv") == "import.header_only"


def test_binary_file():
    assert _error_key(bytes(range(256)) * 20, "x.csv") == "import.binary"


def test_image_renamed_to_csv():
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(100)
    assert _error_key(png, "photo.csv") == "import.not_table.image"
    assert _error_key(b"\xff\xd8\xff\xe0" + bytes(50), "photo.csv") == "import.not_table.image"


def test_pdf_gzip_and_old_excel_get_their_own_advice():
    assert _error_key(b"%PDF-1.7\n...", "x.csv") == "import.not_table.pdf"
    assert _error_key(b"\x1f\x8b\x08\x00" + bytes(20), "x.csv") == "import.not_table.gzip"
    assert _error_key(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(20), "x.xls") == "import.not_table.xls"


def test_file_over_the_size_limit(monkeypatch):
    monkeypatch.setenv("WORKBENCH_MAX_UPLOAD_MB", "1")
    with pytest.raises(UserError) as info:
        read_table(b"a,b\n" + b"1,2\n" * 400_000, "big.csv")
    assert info.value.key == "import.too_large" and info.value.params["limit_mb"] == 1


def test_one_column_file_reads_with_a_warning():
    df, report = read_table(b"name\nAnna\nBob\nCarla\n", "x.csv")
    assert df.shape == (3, 1)
    assert [n.key for n in report.warnings] == ["import.warn.one_column"]


def test_ten_thousand_columns_are_refused_with_the_limit():
    header = ",".join(f"c{i}" for i in range(10_000))
    row = ",".join("1" for _ in range(10_000))
    with pytest.raises(UserError) as info:
        read_table(f"{header}\n{row}\n".encode(), "wide.csv")
    assert info.value.key == "import.too_many_columns" and info.value.params["columns"] == 10_000


def test_zip_bomb_disguised_as_xlsx():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (60 * 1024 * 1024))
    assert len(buffer.getvalue()) < 1024 * 1024
    assert _error_key(buffer.getvalue(), "report.xlsx") == "import.zip_bomb"


def test_plain_zip_and_broken_xlsx():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    assert _error_key(buffer.getvalue(), "data.zip") == "import.zip_not_excel"
    assert _error_key(b"not a workbook", "x.xlsx") == "import.bad_excel"


def test_broken_json_lines():
    assert _error_key(b'{"a": 1}\n{"a": \n', "x.jsonl") == "import.bad_json"


def test_every_error_has_a_message_in_both_languages():
    with pytest.raises(UserError) as info:
        read_table(b"", "x.csv")
    assert "empty" in info.value.message("en")
    assert "空" in info.value.message("ja")


# ---------------------------------------------------------------- writing


def test_csv_download_has_bom_and_neutralised_formulas():
    out = to_csv_bytes(pd.DataFrame({"名前": ["=SUM(A1)", "@x", "ok", "-1+2"], "n": [1, 2, 3, -4]}))
    assert out.startswith(b"\xef\xbb\xbf")
    text = out.decode("utf-8-sig")
    assert "'=SUM(A1)" in text and "'@x" in text and "'-1+2" in text and "\n3," not in text
    assert ",-4" in text  # numbers stay numbers


def test_a_quoted_newline_beyond_the_sniffing_sample_is_still_one_field():
    rows = "".join(f"{i},plain text,{i * 2}\n" for i in range(30_000))  # > the 256 KB sniffing sample
    raw = ("id,comment,score\n" + rows + '30000,"two\nlines",1\n30001,after,2\n').encode()
    df, report = read_table(raw, "x.csv")
    assert report.bad_lines == 0 and len(df) == 30_002
    assert df["comment"].iloc[30_000] == "two\nlines" and df["score"].iloc[-1] == 2
