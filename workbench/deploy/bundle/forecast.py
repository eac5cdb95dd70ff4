"""Forecast with this bundle: python forecast.py history.csv output.csv [--horizon H]

The history CSV has the same columns as the table the forecast was made on (the date column, the target and,
when there are several series, the series column), up to the latest period known. The bundle's model
(spec.json) is fitted again on that history, as forecasting models are, and the next H periods are written
with 80% and 95% intervals, which are as wide as the backtest in the app measured. Needs only the packages in
requirements.txt; the parts of the workbench it uses travel inside the bundle (workbench/).
"""

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the bundled workbench package

from workbench.errors import exit_status  # noqa: E402
from workbench.forecast import future_forecast, settings_from  # noqa: E402
from workbench.io import read_table, to_csv_bytes  # noqa: E402


def forecast_file(source: Path, target: Path, horizon: int | None) -> None:
    spec = json.loads((HERE / "spec.json").read_text(encoding="utf-8"))
    frame, _ = read_table(source.read_bytes(), source.name)
    table = future_forecast(frame, settings_from(spec["settings"]), spec["chosen"], spec["spread"], horizon)
    target.write_bytes(to_csv_bytes(table))


def main(argv):
    parser = argparse.ArgumentParser(description="Forecast the next periods from a history CSV.")
    parser.add_argument("history")
    parser.add_argument("output")
    parser.add_argument("--horizon", type=int, default=None, help="periods ahead (default: as in the app)")
    args = parser.parse_args(argv[1:])
    return exit_status(lambda: forecast_file(Path(args.history), Path(args.output), args.horizon))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
