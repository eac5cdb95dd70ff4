"""python -m workbench: the workbench without a browser (grows with each stage of the workflow)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from workbench.errors import UserError
from workbench.i18n import normalise_language, set_language, t


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m workbench", description=t("cli.description"))
    commands = parser.add_subparsers(dest="command", required=True)
    read = commands.add_parser("read", help=t("cli.read.help"), description=t("cli.read.help"))
    read.add_argument("file", help=t("cli.read.file"))
    read.add_argument("--encoding", help=t("cli.read.encoding"))
    read.add_argument("--delimiter", help=t("cli.read.delimiter"))
    read.add_argument("--decimal", choices=[".", ","], help=t("cli.read.decimal"))
    read.add_argument("--header", choices=["yes", "no"], help=t("cli.read.header"))
    read.add_argument("--bad-lines", choices=["skip", "error"], default="skip", help=t("cli.read.bad_lines"))
    clean = commands.add_parser("clean", help=t("cli.clean.help"), description=t("cli.clean.help"))
    clean.add_argument("--data", required=True, help=t("cli.clean.data"))
    clean.add_argument("--recipe", required=True, help=t("cli.clean.recipe"))
    clean.add_argument("--out", required=True, help=t("cli.clean.out"))
    return parser


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as exc:
        print(t("cli.error", message=t("cli.file_missing", path=path, reason=exc.strerror)), file=sys.stderr)
        return None


def _read(args: argparse.Namespace) -> int:
    from workbench.io import read_table

    path = Path(args.file)
    data = _read_bytes(path)
    if data is None:
        return 2
    options = {"encoding": args.encoding, "delimiter": args.delimiter, "decimal": args.decimal,
               "header": None if args.header is None else args.header == "yes", "bad_lines": args.bad_lines}
    _, report = read_table(data, path.name, **{k: v for k, v in options.items() if v is not None})
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    return 0


def _clean(args: argparse.Namespace) -> int:
    from workbench.io import read_table, to_csv_bytes
    from workbench.recipe import Recipe

    data, recipe_text = _read_bytes(Path(args.data)), _read_bytes(Path(args.recipe))
    if data is None or recipe_text is None:
        return 2
    recipe = Recipe.from_json(recipe_text.decode("utf-8", errors="replace"))
    frame, _ = read_table(data, Path(args.data).name)
    recipe.check_columns(frame)
    cleaned = recipe.apply(frame)
    Path(args.out).write_bytes(to_csv_bytes(cleaned))
    print(t("cli.clean.done", rows=len(cleaned), columns=cleaned.shape[1], path=args.out))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit code 2 with a one-line message for bad input."""
    set_language(normalise_language(os.environ.get("WORKBENCH_LANG") or os.environ.get("LANG")))
    args = _parser().parse_args(argv)
    try:
        return {"read": _read, "clean": _clean}[args.command](args)
    except UserError as exc:
        print(t("cli.error", message=exc.message()), file=sys.stderr)
        return 2
