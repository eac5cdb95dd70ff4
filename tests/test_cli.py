"""python -m workbench from a shell."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import DATA, ROOT, SAMPLES


def _run(*args: str, lang: str = "en_US.UTF-8") -> subprocess.CompletedProcess:
    env = {**os.environ, "LANG": lang, "PYTHONPATH": str(ROOT)}
    env.pop("WORKBENCH_LANG", None)
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


def test_help_lists_the_read_command():
    result = _run("--help")
    assert result.returncode == 0 and "read" in result.stdout


def test_read_prints_the_report_as_json():
    result = _run("read", str(SAMPLES / "tips_ja_cp932.csv"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["encoding"] == "cp932" and report["rows"] == 244
    assert "チップ（ドル）" in report["column_kinds"]


def test_read_with_options_stops_on_bad_lines():
    result = _run("read", str(DATA / "titanic_bom_ragged.csv"), "--bad-lines", "error")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "6, 11" in result.stderr


def test_unreadable_file_exits_2_with_one_line_in_the_users_language(tmp_path):
    image = tmp_path / "photo.csv"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    result = _run("read", str(image), lang="ja_JP.UTF-8")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("エラー:") and result.stderr.count("\n") == 1
    missing = _run("read", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "nope.csv" in missing.stderr and "Traceback" not in missing.stderr
