"""Profile benchmark: profile_dataset on 100,000 rows x 30 columns against pandas' describe().

    python benchmarks/profile.py [--rows 100000]

The issue's target: the profile of 100,000 rows x 30 columns appears in a few seconds.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from workbench.profile import profile_dataset  # noqa: E402

TARGET_SECONDS = 3.0


def frame(rows: int) -> pd.DataFrame:
    """20 numeric columns (some skewed, some missing), 8 categorical, 2 datetime."""
    rng = np.random.default_rng(0)
    data = {f"x{i}": rng.normal(size=rows) for i in range(15)}
    data.update({f"skew{i}": rng.lognormal(sigma=1.5, size=rows) for i in range(3)})
    data["gappy"] = np.where(rng.random(rows) < 0.3, np.nan, rng.normal(size=rows))
    data["count"] = rng.integers(0, 20, rows)
    for i in range(8):
        data[f"c{i}"] = pd.Series(rng.choice([f"level {k}" for k in range(3 + 10 * i)], rows), dtype="str")
    data["day"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D")
    data["day_text"] = pd.Series(data["day"].strftime("%d %b %Y"), dtype="str")
    return pd.DataFrame(data)


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    df = frame(args.rows)
    base = best(lambda: df.describe(include="all"), args.repeats)
    ours = best(lambda: profile_dataset(df), args.repeats)
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"table: {args.rows:,} rows x {df.shape[1]} columns; best of {args.repeats}\n")
    print(f"{'what':<28}{'seconds':>9}{'x describe':>12}")
    print(f"{'pandas describe(all)':<28}{base:>9.2f}{1:>12.2f}")
    print(f"{'workbench profile_dataset':<28}{ours:>9.2f}{ours / base:>12.2f}")
    print(f"\ntarget: under {TARGET_SECONDS:.0f} s: {'met' if ours <= TARGET_SECONDS else 'MISSED'}")


if __name__ == "__main__":
    main()
