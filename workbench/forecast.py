"""Time-series forecasting: from a date column and a numeric target to backtested forecasts with intervals.

The steps, each a plain function:
- series(): dates parsed (a date column, numeric years, or a year column with a month column), the frequency
  detected, duplicates in time aggregated and gaps filled, all reported (SeriesReport);
- the models: seasonal-naive and moving-average baselines, exponential smoothing and (S)ARIMA from statsmodels,
  and histogram gradient boosting on lag, rolling and calendar features (forecasting one step at a time);
- backtest(): rolling-origin evaluation; each fold's model sees only the periods before its cut-off;
- run(): every candidate backtested, the one with the lowest MASE chosen when the model is "auto", refitted on
  the whole history and forecast H periods ahead with 80% and 95% intervals from its backtest errors.

Several series (a series-id column) are forecast one by one with the same model.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable

import numpy as np
import pandas as pd

from workbench.errors import UserError
from workbench.stats import is_number

MODELS = ("seasonal_naive", "moving_average", "ets", "arima", "gradient_boosting")
AUTO = "auto"
BASELINE = "seasonal_naive"
FILLS = ("interpolate", "previous", "zero")
AGGREGATES = ("mean", "sum", "last")
SEASON = {"h": 24, "D": 7, "W": 52, "MS": 12, "QS": 4, "YS": 1}  # periods in one season, per frequency
MAX_SEASONAL_ARIMA = 24  # longer seasons (weekly data) use Fourier terms instead of seasonal differences
Z80, Z95 = 1.2816, 1.96
# Catalogue keys of the names the pages show
MODEL_KEYS = {"auto": "forecast.model.auto", "seasonal_naive": "forecast.model.seasonal_naive",
              "moving_average": "forecast.model.moving_average", "ets": "forecast.model.ets",
              "arima": "forecast.model.arima", "gradient_boosting": "forecast.model.gradient_boosting"}
FILL_KEYS = {"interpolate": "forecast.fill.interpolate", "previous": "forecast.fill.previous",
             "zero": "forecast.fill.zero"}
AGGREGATE_KEYS = {"mean": "forecast.aggregate.mean", "sum": "forecast.aggregate.sum", "last": "forecast.aggregate.last"}
SEASONAL_KEYS = {"add": "forecast.seasonal.add", "mul": "forecast.seasonal.mul"}
FREQUENCY_KEYS = {"h": "forecast.frequency.hourly", "D": "forecast.frequency.daily",
                  "W": "forecast.frequency.weekly", "MS": "forecast.frequency.monthly",
                  "QS": "forecast.frequency.quarterly", "YS": "forecast.frequency.yearly"}
REPAIR_KEYS = {"duplicates": "forecast.repaired.duplicates", "gaps": "forecast.repaired.gaps",
               "missing": "forecast.repaired.missing", "bad_dates": "forecast.repaired.bad_dates"}
MONTHS = {name: i + 1 for i, name in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"])}
MONTHS.update({name[:3]: i for name, i in list(MONTHS.items())})
MONTHS.update({f"{i}月": i for i in range(1, 13)})


@dataclass(frozen=True)
class ForecastSettings:
    """A forecast's choices."""

    date: str
    target: str
    month: str = ""  # a month column beside a year column in `date`
    series: str = ""  # a column naming the series, when the table holds several
    model: str = AUTO
    horizon: int = 12
    folds: int = 3
    fill: str = "interpolate"
    aggregate: str = "mean"
    seasonal: str = "add"  # add or mul: how the season combines with the level (exponential smoothing)
    regressors: list[str] = field(default_factory=list)  # columns known ahead (a promotion, a holiday flag)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SeriesReport:
    """What was found in time: frequency, season length, span, and what was repaired."""

    frequency: str
    season: int
    rows: int
    start: str
    end: str
    duplicates: int = 0  # rows sharing a period with another row (aggregated)
    gaps: int = 0  # periods with no row (filled)
    missing: int = 0  # periods whose target was empty (filled)
    bad_dates: int = 0  # rows whose date did not parse (left out)
    series: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- dates and frequency


def parse_dates(frame: pd.DataFrame, date: str, month: str = "") -> pd.Series:
    """The rows' dates: a date column, whole-number years (1871 or 1871.0), or a year column with a month
    column (numbers, or month names in English or Japanese). Unparseable dates are NaT; when most are,
    UserError names the column and an example."""
    if date not in frame.columns:
        raise UserError("forecast.no_column", column=date)
    raw = frame[date]
    if month or (is_number(raw) and _years(raw)):
        months = frame[month].map(_month_number) if month else 1
        parts = pd.DataFrame({"year": pd.to_numeric(raw, errors="coerce"), "month": months, "day": 1})
        dates = pd.to_datetime(parts, errors="coerce")
    elif pd.api.types.is_datetime64_any_dtype(raw):
        dates = raw
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dates = pd.to_datetime(raw.astype("str").where(raw.notna()), errors="coerce", format="mixed")
    dates = pd.Series(dates, index=frame.index)
    if dates.notna().sum() < max(3, 0.5 * raw.notna().sum()):
        example = str(raw.dropna().iloc[0]) if raw.notna().any() else ""
        raise UserError("forecast.bad_dates", column=date, example=example[:40])
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    return dates


def _years(values: pd.Series) -> bool:
    present = pd.to_numeric(values, errors="coerce").dropna()
    return bool(len(present)) and bool((present % 1 == 0).all()) and bool(present.between(1000, 3000).all())


def month_column(frame: pd.DataFrame, date: str) -> str:
    """The column holding months beside a year column `date` (named like one, or every value a month 1-12 or a
    month's name, with a year repeated across its months); "" when `date` holds whole dates or none fits."""
    if date not in frame.columns or not (is_number(frame[date]) and _years(frame[date])):
        return ""
    candidates = [c for c in frame.columns if c != date]
    named = [c for c in candidates if str(c).strip().lower() in ("month", "mon", "月", "月份")]
    for name in named + candidates:
        months = frame[name].map(_month_number)
        if months.notna().all() and months.nunique() > 1 and frame[date].duplicated().any():
            return str(name)
    return ""


def _month_number(value: Any) -> float:
    if pd.isna(value):
        return np.nan
    try:
        number = int(float(value))
        return float(number) if 1 <= number <= 12 else np.nan
    except (TypeError, ValueError):
        return float(MONTHS.get(str(value).strip().lower(), np.nan))


def detect_frequency(dates: pd.Series) -> str:
    """A pandas frequency for the dates: hourly, daily, weekly (anchored on the weekday seen), month, quarter
    or year start; UserError when the spacing fits none of them."""
    unique = pd.Series(pd.to_datetime(dates.dropna().unique())).sort_values()
    if len(unique) < 3:
        raise UserError("forecast.too_short", rows=len(unique), needed=3)
    days = unique.diff().dropna().dt.total_seconds().median() / 86400
    if abs(days - 1 / 24) < 1e-6:
        return "h"
    if abs(days - 1) < 0.01:
        return "D"
    if abs(days - 7) < 0.01:
        return "W-" + unique.iloc[0].day_name()[:3].upper()
    if 27 <= days <= 32:
        return "MS"
    if 88 <= days <= 93:
        return "QS"
    if 360 <= days <= 367:
        return "YS"
    raise UserError("forecast.no_frequency", days=f"{days:.2f}")


def season_of(frequency: str) -> int:
    return SEASON.get(frequency.split("-")[0], 1)


def _periods(dates: pd.Series, frequency: str) -> pd.Series:
    """Dates moved to the start of their period (the 15th of a month to its first day)."""
    if frequency in ("MS", "QS", "YS"):
        return dates.dt.to_period(frequency[0]).dt.to_timestamp()
    if frequency == "D":
        return dates.dt.normalize()
    if frequency == "h":
        return dates.dt.floor("h")
    return dates


# ---------------------------------------------------------------- the series


def series(frame: pd.DataFrame, settings: ForecastSettings) -> tuple[dict[str, pd.Series], SeriesReport]:
    """Each series as a regular, gap-free pd.Series with a DatetimeIndex (keyed by series id; '' for one),
    and what was repaired on the way."""
    data, report, _ = inputs(frame, settings)
    return data, report


def inputs(frame: pd.DataFrame, settings: ForecastSettings, horizon: int | None = None
           ) -> tuple[dict[str, pd.Series], SeriesReport, dict[str, pd.DataFrame | None]]:
    """series() and, per series, the regressors over its history and the next `horizon` periods (the
    settings' by default): everything a forecast needs, each input checked (UserError) on the way."""
    s = replace(settings, horizon=int(horizon or settings.horizon))
    table, frequency, bad_dates = _table(frame, s)
    data, report = _series(table, frequency, bad_dates, s)
    return data, report, _regressors(table, frequency, s, data)


def _series(data: pd.DataFrame, frequency: str, bad_dates: int,
            s: ForecastSettings) -> tuple[dict[str, pd.Series], SeriesReport]:
    report = SeriesReport(frequency, season_of(frequency), len(data), str(data["date"].min().date()),
                          str(data["date"].max().date()), bad_dates=bad_dates, series=data["series"].nunique())
    out = {}
    for key, part in data.groupby("series", sort=True):
        report.duplicates += int(part["date"].duplicated().sum())
        y = _aggregate(part.groupby("date")["y"], s.aggregate)
        y = y.loc[y.first_valid_index():y.last_valid_index()]  # rows after the last value are the future
        full = pd.date_range(y.index.min(), y.index.max(), freq=frequency)
        report.gaps += len(full) - len(y)
        y = y.reindex(full)
        report.missing += int(y.isna().sum())
        out[str(key)] = _fill(y, s.fill)
    for key, y in out.items():
        if len(y) < s.horizon + 3:
            raise UserError("forecast.shorter_than_horizon", rows=len(y), horizon=s.horizon,
                            series=key or s.target)
        if y.nunique() <= 1:
            raise UserError("forecast.constant", series=key or s.target)
    return out, report


def _table(frame: pd.DataFrame, s: ForecastSettings) -> tuple[pd.DataFrame, str, int]:
    """The rows as date (moved to its period), y, series and the regressors; the frequency; rows left out
    for their date."""
    for name in (s.target, s.series, s.month, *s.regressors):
        if name and name not in frame.columns:
            raise UserError("forecast.no_column", column=name)
    target = pd.to_numeric(frame[s.target], errors="coerce") if s.target in frame.columns else None
    if target is None or target.notna().sum() == 0 or not is_number(frame[s.target].dropna()):
        raise UserError("forecast.target_not_numeric", column=s.target)
    for name in s.regressors:
        if not is_number(frame[name].dropna()):
            raise UserError("forecast.regressor_not_numeric", column=name)
    dates = parse_dates(frame, s.date, s.month)
    frequency = detect_frequency(dates)
    data = pd.DataFrame({"date": _periods(dates, frequency), "y": target,
                         "series": frame[s.series].astype("str") if s.series else "",
                         **{f"x_{i}": pd.to_numeric(frame[c], errors="coerce") for i, c in enumerate(s.regressors)}})
    bad_dates = int(data["date"].isna().sum())
    return data.dropna(subset=["date"]), frequency, bad_dates


def _aggregate(grouped: Any, how: str) -> Any:
    return grouped.sum(min_count=1) if how == "sum" else grouped.agg(how)  # an empty period stays empty


def _regressors(table: pd.DataFrame, frequency: str, settings: ForecastSettings,
                data: dict[str, pd.Series]) -> dict[str, pd.DataFrame | None]:
    """Per series, the regressors over its history and the next `settings.horizon` periods (rows of the table
    after the last known value, where the target is empty); None for every series when there are none.
    UserError when the table does not reach that far past a series' end."""
    if not settings.regressors:
        return {key: None for key in data}
    horizon = settings.horizon
    names = [f"x_{i}" for i in range(len(settings.regressors))]
    out = {}
    for key, y in data.items():
        part = _aggregate(table[table["series"] == key].groupby("date")[names], settings.aggregate)
        index = pd.date_range(y.index[0], periods=len(y) + horizon, freq=frequency)
        ahead = part.reindex(index[len(y):]).notna().all(axis=1)
        if not ahead.all():
            raise UserError("forecast.regressors_need_future", known=int(ahead.cumprod().sum()), horizon=horizon,
                            series=key or settings.target)
        out[key] = part.reindex(index).interpolate(limit_direction="both").set_axis(settings.regressors, axis=1)
    return out


def _fill(y: pd.Series, how: str) -> pd.Series:
    if how == "zero":
        return y.fillna(0.0)
    if how == "previous":
        return y.ffill().bfill()
    return y.interpolate(limit_direction="both")


# ---------------------------------------------------------------- models: history in, h values out


def seasonal_naive(y: pd.Series, h: int, m: int) -> np.ndarray:
    """Each period repeats the value one season earlier (the last value when there is no season)."""
    m = m if 1 < m <= len(y) else 1
    last = y.to_numpy()[-m:]
    return np.resize(last, h).astype(float)


def moving_average(y: pd.Series, h: int, m: int) -> np.ndarray:
    """The mean of the last season (or of the last 3 periods), held flat."""
    window = m if 1 < m <= len(y) else min(3, len(y))
    return np.full(h, float(y.to_numpy()[-window:].mean()))


def exponential_smoothing(y: pd.Series, h: int, m: int, seasonal: str = "add") -> np.ndarray:
    """Holt-Winters with a damped trend, and a season when two full seasons are known."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    use_season = 1 < m and len(y) >= 2 * m + 2
    if seasonal == "mul" and use_season and (y <= 0).any():
        raise UserError("forecast.multiplicative_needs_positive")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ExponentialSmoothing(y.to_numpy(dtype=float), trend="add", damped_trend=True,
                                   seasonal=seasonal if use_season else None,
                                   seasonal_periods=m if use_season else None,
                                   initialization_method="estimated").fit()
        return np.asarray(fit.forecast(h), dtype=float)


def arima(y: pd.Series, h: int, m: int, exog: pd.DataFrame | None = None) -> np.ndarray:
    """ARIMA(1,1,1) with a seasonal (0,1,1) part for seasons up to 24 periods, and Fourier terms (3 pairs)
    for longer ones such as 52 weeks; regressors (`exog`: the history and the h periods ahead) enter as
    exogenous columns."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    values = y.to_numpy(dtype=float)
    kwargs: dict[str, Any] = {"order": (1, 1, 1)}
    columns = [] if exog is None else [exog.to_numpy(dtype=float)[: len(values) + h]]
    if 1 < m <= MAX_SEASONAL_ARIMA and len(values) >= 2 * m + 2:
        kwargs["seasonal_order"] = (0, 1, 1, m)
    else:
        kwargs["trend"] = "c"
        if m > MAX_SEASONAL_ARIMA:
            steps = np.arange(len(values) + h)
            period = 365.25 / 7 if m == 52 else m
            columns.append(np.column_stack([f(2 * np.pi * j * steps / period) for j in (1, 2, 3)
                                            for f in (np.sin, np.cos)]))
    known = np.column_stack(columns) if columns else None
    past, future = (known[: len(values)], known[len(values):]) if known is not None else (None, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = SARIMAX(values, exog=past, **kwargs).fit(disp=False, maxiter=50)
        return np.asarray(fit.forecast(h, exog=future), dtype=float)


def _lags(m: int) -> list[int]:
    return sorted({1, 2, 3, *([m - 1, m] if m > 3 else [])})


def _calendar(index: pd.DatetimeIndex, frequency: str) -> np.ndarray:
    kind = frequency.split("-")[0]
    if kind == "h":
        return np.c_[index.hour, index.dayofweek]
    if kind == "D":
        return np.c_[index.dayofweek, index.month, index.day]
    if kind == "W":
        return np.c_[index.isocalendar().week.to_numpy(dtype=int), index.month]
    if kind in ("MS", "QS"):
        return np.c_[index.month]
    return np.zeros((len(index), 0))


def gradient_boosting(y: pd.Series, h: int, m: int, exog: pd.DataFrame | None = None) -> np.ndarray:
    """Histogram gradient boosting on the period-to-period changes: their recent lags, the lag one season back,
    a rolling mean, calendar features and the regressors' values and changes (`exog`: the history and the h
    periods ahead); the changes are forecast one period at a time and added up."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    frequency = y.index.freqstr if isinstance(y.index, pd.DatetimeIndex) and y.index.freq else "YS"
    changes = np.diff(y.to_numpy(dtype=float))
    lags = _lags(m)
    window = max(m, 3)
    start = max(max(lags), window)
    if len(changes) - start < 10:  # too short to learn from: fall back to the seasonal-naive forecast
        return seasonal_naive(y, h, m)
    future_index = pd.date_range(y.index[-1], periods=h + 1, freq=frequency)[1:]
    extra = _calendar(y.index[1:].append(future_index), frequency)  # row t: the period of change t
    if exog is not None:
        known = exog.to_numpy(dtype=float)[: len(y) + h]
        extra = np.c_[extra, known[1:], np.diff(known, axis=0)]

    def row(history: np.ndarray, t: int) -> list[float]:
        return [history[t - lag] for lag in lags] + [history[t - window:t].mean()]

    X = np.c_[np.array([row(changes, t) for t in range(start, len(changes))]), extra[start:len(changes)]]
    model = HistGradientBoostingRegressor(max_iter=200, learning_rate=0.05, random_state=0)
    model.fit(X, changes[start:])
    history = list(changes)
    for _ in range(h):
        t = len(history)
        features = np.r_[row(np.asarray(history), t), extra[t]]
        history.append(float(model.predict(features.reshape(1, -1))[0]))
    return float(y.iloc[-1]) + np.cumsum(history[len(changes):])


def predict(model: str, y: pd.Series, h: int, m: int, seasonal: str = "add",
            exog: pd.DataFrame | None = None) -> np.ndarray:
    """h values after the end of y by the named model; `exog` (regressors over y's periods and the h ahead)
    is used by ARIMA and gradient boosting, and ignored by the others."""
    if model == "seasonal_naive":
        return seasonal_naive(y, h, m)
    if model == "moving_average":
        return moving_average(y, h, m)
    if model == "ets":
        return exponential_smoothing(y, h, m, seasonal)
    if model == "arima":
        return arima(y, h, m, exog)
    if model == "gradient_boosting":
        return gradient_boosting(y, h, m, exog)
    raise ValueError(f"unknown forecasting model {model!r}")


# ---------------------------------------------------------------- backtests and metrics


def cutoffs(length: int, horizon: int, folds: int, m: int) -> list[int]:
    """Where each backtest fold's history ends: the last `folds` stretches of `horizon` periods, keeping at
    least two seasons (or 10 periods) of history before the first; fewer folds when the series is short."""
    minimum = max(2 * m, 10)
    cuts = [length - horizon * (folds - i) for i in range(folds)]
    cuts = [c for c in cuts if c >= minimum]
    if not cuts:
        raise UserError("forecast.too_short", rows=length, needed=minimum + horizon)
    return cuts


def scale(y: np.ndarray, m: int) -> float:
    """The in-sample mean absolute error of the seasonal-naive forecast: MASE's denominator."""
    m = m if 1 < m < len(y) else 1
    errors = np.abs(y[m:] - y[:-m])
    value = float(errors.mean()) if len(errors) else 0.0
    return value if value > 0 else float(np.abs(y).mean() or 1.0)


def metrics(actual: np.ndarray, predicted: np.ndarray, history: np.ndarray, m: int) -> dict[str, float | None]:
    """MAE, RMSE, MAPE (None when an actual value is zero) and MASE against the seasonal-naive forecast."""
    error = actual - predicted
    mae = float(np.abs(error).mean())
    mape = float(np.mean(np.abs(error / actual)) * 100) if np.all(np.abs(actual) > 1e-12) else None
    return {"mae": mae, "rmse": float(np.sqrt(np.mean(error ** 2))), "mape": mape, "mase": mae / scale(history, m)}


@dataclass
class Backtest:
    """One model's backtest on one series: per fold the cut-off date, the forecast and its metrics."""

    model: str
    folds: list[dict[str, Any]] = field(default_factory=list)
    errors: list[list[float]] = field(default_factory=list)  # per fold, actual - forecast per step

    def mean(self, metric: str) -> float | None:
        values = [f["metrics"][metric] for f in self.folds if f["metrics"][metric] is not None]
        return float(np.mean(values)) if values else None


def backtest(y: pd.Series, model: str, horizon: int, folds: int, m: int, seasonal: str = "add",
             forecaster: Callable[..., np.ndarray] | None = None, exog: pd.DataFrame | None = None) -> Backtest:
    """Rolling-origin evaluation: for each cut-off the model is fitted on the periods before it only and
    forecasts the next `horizon` periods (the regressors `exog` are known up to the end of the fold, as they
    will be in the future). `forecaster(history, h, m)` replaces the named model (tests)."""
    result = Backtest(model)
    values = y.to_numpy(dtype=float)
    for cut in cutoffs(len(y), horizon, folds, m):
        history = y.iloc[:cut]
        h = min(horizon, len(y) - cut)
        known = exog.iloc[:cut + h] if exog is not None else None
        forecast = (forecaster(history, h, m) if forecaster else predict(model, history, h, m, seasonal, known))
        actual = values[cut:cut + h]
        result.folds.append({"cutoff": str(y.index[cut - 1].date()),
                             "dates": [str(d.date()) for d in y.index[cut:cut + h]],
                             "forecast": [float(v) for v in forecast],
                             "metrics": metrics(actual, forecast, values[:cut], m)})
        result.errors.append([float(v) for v in actual - forecast])
    return result


def spread(errors: list[list[float]], horizon: int) -> list[float]:
    """Per step ahead that the backtest saw, its root mean squared error (never shrinking with the step): the
    interval half-width is this times 1.28 (80%) or 1.96 (95%)."""
    width = []
    for step in range(horizon):
        at = [e[step] for e in errors if len(e) > step]
        if not at:
            break
        width.append(float(np.sqrt(np.mean(np.square(at)))))
    return [float(w) for w in np.maximum.accumulate(width)] if width else []


def candidates(settings: ForecastSettings) -> tuple[str, ...]:
    return MODELS if settings.model == AUTO else tuple(dict.fromkeys((BASELINE, settings.model)))


def run(frame: pd.DataFrame, settings: ForecastSettings,
        on_step: Callable[[int, int, str], None] | None = None) -> dict[str, Any]:
    """Backtest the candidates on every series, choose (the lowest mean MASE when auto), refit on the whole
    history and forecast `horizon` periods with intervals. A JSON-ready result."""
    s = settings
    if s.horizon < 1 or s.folds < 1:
        raise UserError("forecast.bad_horizon")
    data, report, exogs = inputs(frame, s)
    m = report.season
    models = candidates(s)
    tests: dict[str, dict[str, Backtest]] = {name: {} for name in models}
    failures: dict[str, str] = {}
    total, done = len(models) * len(data), 0
    for name in models:
        for key, y in data.items():
            if on_step:
                on_step(done, total, name)
            try:
                tests[name][key] = backtest(y, name, s.horizon, s.folds, m, s.seasonal, exog=exogs[key])
            except UserError:
                raise
            except Exception as exc:  # a model that cannot fit this series is left out, and said so
                failures[name] = f"{type(exc).__name__}: {exc}"[:200]
                break
            done += 1
    table = []
    for name in models:
        if name in failures:
            continue
        row = {"model": name}
        for metric in ("mae", "rmse", "mape", "mase"):
            values = [t.mean(metric) for t in tests[name].values()]
            row[metric] = float(np.mean(values)) if values and None not in values else None
        table.append(row)
    if not table:
        raise UserError("forecast.nothing_fitted")
    chosen = s.model if s.model != AUTO and s.model not in failures else min(
        table, key=lambda r: r["mase"] if r["mase"] is not None else np.inf)["model"]
    out_series = {}
    for key, y in data.items():
        width = spread(tests[chosen][key].errors, s.horizon)
        out_series[key] = {
            "history": {"dates": [str(d.date()) for d in y.index], "values": [float(v) for v in y]},
            "backtest": tests[chosen][key].folds,
            "forecast": _ahead(y, chosen, s.horizon, m, s.seasonal, width, report.frequency, exogs[key]),
            "spread": width}
    if on_step:
        on_step(total, total, chosen)
    return {"settings": s.to_dict(), "report": report.to_dict(), "table": table, "chosen": chosen,
            "failures": failures, "series": out_series}


def _ahead(y: pd.Series, model: str, h: int, m: int, seasonal: str, width: list[float], frequency: str,
           exog: pd.DataFrame | None = None) -> dict[str, list]:
    """The next h periods after y by `model`, with intervals `width` wide per step (stretched like a random
    walk beyond the steps it covers)."""
    point = predict(model, y, h, m, seasonal, exog)
    width = list(width) or [0.0]
    while len(width) < h:
        width.append(width[-1] * np.sqrt((len(width) + 1) / len(width)))
    future = pd.date_range(y.index[-1], periods=h + 1, freq=frequency)[1:]
    out: dict[str, list] = {"dates": [str(d.date()) for d in future], "values": [float(v) for v in point]}
    for name, z in (("80", Z80), ("95", Z95)):
        out[f"lower{name}"] = [float(p - z * w) for p, w in zip(point, width)]
        out[f"upper{name}"] = [float(p + z * w) for p, w in zip(point, width)]
    return out


def future_forecast(frame: pd.DataFrame, settings: ForecastSettings, model: str,
                    spreads: dict[str, list[float]], horizon: int | None = None) -> pd.DataFrame:
    """Refit `model` on each series of `frame` (a history table) and forecast `horizon` periods (the settings'
    by default) with intervals from `spreads` (per series; their mean for a series not seen before). This is
    what a forecast bundle runs."""
    h = int(horizon or settings.horizon)
    data, report, exogs = inputs(frame, settings, h)
    pooled = list(np.mean([w for w in spreads.values()], axis=0)) if spreads else []
    result = {"settings": settings.to_dict(), "series": {
        key: {"forecast": _ahead(y, model, h, report.season, settings.seasonal, spreads.get(key, pooled),
                                 report.frequency, exogs[key])} for key, y in data.items()}}
    return forecast_table(result)


def forecast_table(result: dict[str, Any]) -> pd.DataFrame:
    """The future forecast as rows: series, date, forecast and the interval bounds."""
    frames = []
    for key, part in result["series"].items():
        f = part["forecast"]
        frames.append(pd.DataFrame({"series": key, "date": f["dates"], "forecast": f["values"],
                                    "lower_80": f["lower80"], "upper_80": f["upper80"],
                                    "lower_95": f["lower95"], "upper_95": f["upper95"]}))
    table = pd.concat(frames, ignore_index=True)
    return table if result["settings"].get("series") else table.drop(columns="series")


def settings_from(data: dict[str, Any]) -> ForecastSettings:
    return ForecastSettings(**{k: v for k, v in data.items() if k in ForecastSettings.__dataclass_fields__})
