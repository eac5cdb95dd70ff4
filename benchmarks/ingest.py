"""Ingest benchmark: the workbench's read_table against plain pyarrow.csv.read_csv on one generated file.

    python benchmarks/ingest.py [--rows 1000000] [--repeats 3]

Each reader runs in a fresh process (so peak memory is its own), best time of
`--repeats`. Target: the workbench takes at most 1.5x pyarrow's time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5


def generate(path: Path, rows: int) -> None:
    """A realistic 20-column table: floats, integers, categories, dates, some missing cells."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"x{i}": rng.normal(100, 25, rows).round(3) for i in range(10)})
    for i in range(4):
        frame[f"n{i}"] = rng.integers(0, 10_000, rows)
    for i, levels in enumerate([["東京", "大阪", "名古屋", "福岡"], ["A", "B", "C"], ["yes", "no"]]):
        frame[f"c{i}"] = rng.choice(levels, rows)
    frame["when"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**8, rows), unit="s")
    frame["label"] = rng.choice(["ham", "spam", "eggs"], rows)
    frame["gappy"] = np.where(rng.random(rows) < 0.1, np.nan, rng.normal(size=rows).round(4))
    frame.to_csv(path, index=False)


def measure(reader: str, path: Path) -> dict[str, float]:
    """Read the file once with `reader` and return seconds and peak resident memory."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("WORKBENCH_MAX_UPLOAD_MB", "100000")
    data = path.read_bytes()
    import io

    import pyarrow.csv as pacsv

    from workbench.io import read_table

    start = time.perf_counter()
    if reader == "pyarrow":
        pacsv.read_csv(io.BytesIO(data))
    elif reader == "pyarrow+pandas":
        pacsv.read_csv(io.BytesIO(data)).to_pandas()
    else:
        read_table(data, path.name)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--measure", nargs=2, metavar=("READER", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], Path(args.measure[1]))))
        return
    folder = ROOT / "benchmarks" / "_generated"
    folder.mkdir(exist_ok=True)
    path = folder / f"ingest_{args.rows}.csv"
    if not path.exists():
        generate(path, args.rows)
    size_mb = path.stat().st_size / 1024 / 1024
    results: dict[str, dict[str, float]] = {}
    for reader in ("pyarrow", "pyarrow+pandas", "workbench"):
        runs = [json.loads(subprocess.run([sys.executable, __file__, "--measure", reader, str(path)],
                                          capture_output=True, text=True, check=True).stdout)
                for _ in range(args.repeats)]
        results[reader] = {"seconds": min(r["seconds"] for r in runs), "peak_mb": max(r["peak_mb"] for r in runs)}
    base = results["pyarrow"]["seconds"]
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"file: {args.rows:,} rows x 20 columns, {size_mb:.0f} MB; best of {args.repeats}, fresh process each\n")
    print(f"{'reader':<16}{'seconds':>9}{'x pyarrow':>11}{'peak MB':>9}")
    for reader, r in results.items():
        print(f"{reader:<16}{r['seconds']:>9.2f}{r['seconds'] / base:>11.2f}{r['peak_mb']:>9.0f}")
    ratio = results["workbench"]["seconds"] / base
    print(f"\nworkbench / pyarrow = {ratio:.2f} (target <= {TARGET}): {'met' if ratio <= TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
