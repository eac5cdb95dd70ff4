"""Forecast benchmark: does the default choice beat the seasonal-naive forecast on real series?

    python benchmarks/forecast.py

For each series the last H periods (one season; 10 years for yearly data) are held out. The default
("auto": every model backtested on the periods before the holdout, the lowest MASE chosen) is fitted on
those periods and forecasts the holdout; MASE is the holdout MAE over the in-sample seasonal-naive error.
Target: MASE < 1 on the seasonal series (CO2 weekly, airline passengers monthly), i.e. better than
repeating last season. The yearly series (Nile, sunspots) have no calendar season; they are printed too.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from workbench import forecast as fc  # noqa: E402

CASES = [  # file, settings (horizon = the holdout), seasonal?
    ("ts_co2_weekly.csv", fc.ForecastSettings("date", "co2", horizon=52), True),
    ("flights.csv", fc.ForecastSettings("year", "passengers", month="month", horizon=12), True),
    ("ts_nile_yearly.csv", fc.ForecastSettings("year", "volume", horizon=10), False),
    ("ts_sunspots_yearly.csv", fc.ForecastSettings("YEAR", "SUNACTIVITY", horizon=10), False),
]


def holdout(name: str, settings: fc.ForecastSettings) -> dict:
    frame = pd.read_csv(ROOT / "sample_data" / name)
    data, report = fc.series(frame, settings)
    y = data[""]
    h, m = settings.horizon, report.season
    history, future = y.iloc[:-h], y.to_numpy()[-h:]
    start = time.perf_counter()
    tests = {model: fc.backtest(history, model, h, settings.folds, m, settings.seasonal) for model in fc.MODELS}
    chosen = min(tests, key=lambda model: tests[model].mean("mase"))
    forecast = fc.predict(chosen, history, h, m, settings.seasonal)
    seconds = time.perf_counter() - start
    naive = fc.predict(fc.BASELINE, history, h, m)
    values = history.to_numpy()
    return {"series": name, "periods": len(y), "season": m, "chosen": chosen,
            "mase": fc.metrics(future, forecast, values, m)["mase"],
            "naive_mase": fc.metrics(future, naive, values, m)["mase"], "seconds": seconds}


def main() -> None:
    print(f"# forecast benchmark · {platform.processor() or platform.machine()} · {pd.Timestamp.now():%Y-%m-%d}")
    print("| series | periods | season | default choice | its MASE | seasonal-naive MASE | ratio | seconds | target |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---|")
    misses = 0
    for name, settings, seasonal in CASES:
        r = holdout(name, settings)
        met = r["mase"] < 1
        misses += seasonal and not met
        print(f"| {name} | {r['periods']} | {r['season']} | {r['chosen']} | {r['mase']:.3f} | {r['naive_mase']:.3f} "
              f"| {r['mase'] / r['naive_mase']:.2f} | {r['seconds']:.1f} | "
              f"{('met' if met else 'MISSED') if seasonal else 'n/a (no season)'} |")
    print(f"\nseasonal series below MASE 1: {2 - misses} of 2")
    sys.exit(1 if misses else 0)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
