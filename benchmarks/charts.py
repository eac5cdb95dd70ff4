"""Chart benchmark: every Explore chart on 100,000 and 1,000,000 rows, against naive plotly express.

    python benchmarks/charts.py [--sizes 100000 1000000]

Each time is building the figure plus serialising it to JSON (what the browser
receives), best of 3. The baseline is the plain plotly-express call on every
row. Target: each workbench chart under 1 s at 100,000 rows.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import plotly.express as px

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from workbench import charts  # noqa: E402

TARGET_SECONDS = 1.0


def frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "x": rng.normal(size=rows), "y": rng.normal(size=rows), "z": rng.lognormal(size=rows),
        "w": rng.integers(0, 100, rows).astype("float64"),
        "group": pd.Series(rng.choice(["北", "南", "東", "西"], rows), dtype="str"),
        "label": pd.Series(rng.choice(["yes", "no"], rows), dtype="str"),
        "when": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 4 * 365, rows), unit="D"),
    }).assign(y=lambda d: d["y"].mask(rng.random(rows) < 0.05))


CASES: dict[str, tuple[Callable, Callable]] = {
    "histogram": (lambda d: charts.histogram(d, "x", color="group"), lambda d: px.histogram(d, x="x", color="group")),
    "box": (lambda d: charts.box(d, "z", by="group"), lambda d: px.box(d, x="group", y="z")),
    "violin": (lambda d: charts.box(d, "z", by="group", violin=True), lambda d: px.violin(d, x="group", y="z")),
    "scatter+trend": (lambda d: charts.scatter(d, "x", "z", color="group", trend=True),
                      lambda d: px.scatter(d, x="x", y="z", color="group")),
    "pair plot": (lambda d: charts.scatter_matrix(d, ["x", "y", "z", "w"], color="label"),
                  lambda d: px.scatter_matrix(d, dimensions=["x", "y", "z", "w"], color="label")),
    "correlation": (lambda d: charts.correlation_heatmap(d),
                    lambda d: px.imshow(d[["x", "y", "z", "w"]].corr())),
    "counts": (lambda d: charts.bar_counts(d, "group", color="label"),
               lambda d: px.histogram(d, x="group", color="label")),
    "over time": (lambda d: charts.line_over_time(d, "when", "x", "mean"),
                  lambda d: px.line(d.groupby(d["when"].dt.to_period("M").dt.start_time)["x"].mean().reset_index(),
                                    x="when", y="x")),
    "target view": (lambda d: charts.target_view(d, "label", "group"),
                    lambda d: px.histogram(d, x="group", color="label", barnorm="fraction")),
    "missing map": (lambda d: charts.missing_map(d), lambda d: px.imshow(d.isna().to_numpy())),
}


def best(fn: Callable, data: pd.DataFrame, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(data).to_json()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("seconds to build and serialise; ratio = workbench / plotly express on every row\n")
    header = f"{'chart':<16}" + "".join(f"{f'wb {n:,}':>14}{'px':>8}{'ratio':>7}" for n in args.sizes)
    print(header)
    slowest = 0.0
    data = {n: frame(n) for n in args.sizes}
    for name, (ours, naive) in CASES.items():
        row = f"{name:<16}"
        for n in args.sizes:
            wb, base = best(ours, data[n], args.repeats), best(naive, data[n], 1)
            if n == 100_000:
                slowest = max(slowest, wb)
            row += f"{wb:>14.2f}{base:>8.2f}{wb / base:>7.2f}"
        print(row, flush=True)
    if 100_000 in args.sizes:
        verdict = "met" if slowest <= TARGET_SECONDS else "MISSED"
        print(f"\nslowest workbench chart at 100,000 rows: {slowest:.2f} s "
              f"(target < {TARGET_SECONDS:.0f} s): {verdict}")


if __name__ == "__main__":
    main()
