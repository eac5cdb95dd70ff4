"""Forecasting on real series: dates and frequency, repairs, every model, backtests that never peek, metrics,
intervals, several series, bad input, and the bundle in a fresh Python."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SAMPLES, fresh_python
from workbench import forecast as fc
from workbench.errors import UserError


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    return pd.read_csv(SAMPLES / "flights.csv")


@pytest.fixture(scope="module")
def nile() -> pd.DataFrame:
    return pd.read_csv(SAMPLES / "ts_nile_yearly.csv")


FLIGHTS = fc.ForecastSettings("year", "passengers", month="month", horizon=12)


def test_dates_from_years_from_year_and_month_and_from_text(flights, nile):
    years = fc.parse_dates(nile, "year")  # written 1871.0
    assert years.iloc[0] == pd.Timestamp("1871-01-01") and fc.detect_frequency(years) == "YS"
    months = fc.parse_dates(flights, "year", "month")  # "January" in a column beside the year
    assert months.iloc[13] == pd.Timestamp("1950-02-01") and fc.detect_frequency(months) == "MS"
    japanese = pd.DataFrame({"年": [2020, 2020, 2020], "月": ["1月", "2月", "3月"]})
    assert fc.parse_dates(japanese, "年", "月").dt.month.tolist() == [1, 2, 3]
    co2 = pd.read_csv(SAMPLES / "ts_co2_weekly.csv")
    assert fc.detect_frequency(fc.parse_dates(co2, "date")) == "W-SAT"
    with pytest.raises(UserError) as refused:
        fc.parse_dates(pd.DataFrame({"when": ["soon", "later", "never", "maybe"]}), "when")
    assert refused.value.key == "forecast.bad_dates" and refused.value.params["example"] == "soon"
    with pytest.raises(UserError) as refused:
        fc.detect_frequency(pd.Series(pd.to_datetime(["2020-01-01", "2020-01-11", "2020-01-21", "2020-01-31"])))
    assert refused.value.key == "forecast.no_frequency"


def test_gaps_duplicates_and_empty_values_are_repaired_and_counted(flights):
    broken = flights.drop(index=[10, 11, 50]).copy()
    broken.loc[20, "passengers"] = np.nan
    broken = pd.concat([broken, flights.iloc[[30, 31]].assign(passengers=[0, 0])], ignore_index=True)
    data, report = fc.series(broken, FLIGHTS)
    y = data[""]
    assert (report.gaps, report.duplicates, report.missing) == (3, 2, 4)  # 3 gaps + 1 empty value filled
    assert len(y) == 144 and y.index.freqstr == "MS" and y.notna().all()
    assert y.iloc[30] == flights["passengers"].iloc[30] / 2  # a duplicated month: the mean of its rows
    assert y.iloc[10] == pytest.approx(y.iloc[9] + (y.iloc[12] - y.iloc[9]) / 3)  # a straight line over the gap
    summed, _ = fc.series(broken, fc.ForecastSettings("year", "passengers", "month", aggregate="sum"))
    assert summed[""].iloc[30] == flights["passengers"].iloc[30]


@pytest.mark.parametrize("model", fc.MODELS)
def test_every_model_forecasts_the_horizon_with_finite_values(flights, nile, model):
    data, report = fc.series(flights, FLIGHTS)
    values = fc.predict(model, data[""], 12, report.season)
    assert values.shape == (12,) and np.isfinite(values).all()
    data, report = fc.series(nile, fc.ForecastSettings("year", "volume", horizon=5))
    assert np.isfinite(fc.predict(model, data[""], 5, report.season)).all()


def test_the_backtest_never_lets_a_fold_see_its_future(flights):
    data, report = fc.series(flights, FLIGHTS)
    y = data[""]
    seen = []

    def spy(history: pd.Series, h: int, m: int) -> np.ndarray:
        seen.append((history.index[-1], len(history)))
        return fc.seasonal_naive(history, h, m)

    result = fc.backtest(y, "spy", 12, 3, 12, forecaster=spy)
    assert [n for _, n in seen] == [108, 120, 132]
    for (last, _), fold in zip(seen, result.folds):
        assert pd.Timestamp(fold["dates"][0]) > last  # every forecast date is after what the model saw
        assert fold["cutoff"] == str(last.date())
    assert fc.cutoffs(40, 12, 3, 1) == [16, 28]  # the first fold would keep only 4 periods: left out
    with pytest.raises(UserError):
        fc.cutoffs(20, 12, 3, 12)


def test_mase_against_the_seasonal_naive_forecast_by_hand():
    history = np.array([1.0, 2.0, 3.0, 1.0, 2.0, 3.0])  # season 3: the seasonal-naive in-sample error is 0
    assert fc.scale(history, 3) == pytest.approx(2.0)  # ... so the scale falls back to the mean level
    history = np.array([10.0, 12.0, 14.0, 16.0])
    assert fc.scale(history, 1) == 2.0
    scores = fc.metrics(np.array([18.0, 20.0]), np.array([16.0, 16.0]), history, 1)
    assert scores == {"mae": 3.0, "rmse": pytest.approx(np.sqrt(10)),
                      "mape": pytest.approx((2 / 18 + 4 / 20) / 2 * 100), "mase": 1.5}
    assert fc.metrics(np.array([0.0, 1.0]), np.array([1.0, 1.0]), history, 1)["mape"] is None


def test_auto_beats_the_seasonal_naive_forecast_on_flights_with_widening_intervals(flights):
    result = fc.run(flights, FLIGHTS)
    table = {row["model"]: row for row in result["table"]}
    assert set(table) == set(fc.MODELS) and result["failures"] == {}
    chosen = table[result["chosen"]]
    assert chosen["mase"] == min(r["mase"] for r in table.values()) and chosen["mase"] < 1
    assert table["seasonal_naive"]["mase"] > chosen["mase"]
    part = result["series"][""]
    f = part["forecast"]
    assert f["dates"][0] == "1961-01-01" and len(f["values"]) == 12
    assert all(lo95 <= lo80 <= v <= hi80 <= hi95 for lo95, lo80, v, hi80, hi95 in
               zip(f["lower95"], f["lower80"], f["values"], f["upper80"], f["upper95"]))
    widths = np.array(f["upper95"]) - np.array(f["lower95"])
    assert (np.diff(widths) >= -1e-9).all() and widths[0] > 0
    table_out = fc.forecast_table(result)
    assert list(table_out.columns) == ["date", "forecast", "lower_80", "upper_80", "lower_95", "upper_95"]


def test_several_series_are_forecast_one_by_one(flights):
    two = pd.concat([flights.assign(route="A"), flights.assign(route="B", passengers=flights["passengers"] * 2)])
    result = fc.run(two, fc.ForecastSettings("year", "passengers", "month", series="route", model="ets",
                                             horizon=6, folds=2))
    assert set(result["series"]) == {"A", "B"} and result["report"]["series"] == 2
    a, b = (np.array(result["series"][k]["forecast"]["values"]) for k in "AB")
    assert np.allclose(b, 2 * a, rtol=0.05)
    assert set(fc.forecast_table(result)["series"]) == {"A", "B"}


def test_bad_series_get_clear_refusals(flights, nile):
    with pytest.raises(UserError) as refused:
        fc.series(flights.head(20), fc.ForecastSettings("year", "passengers", "month", horizon=24))
    assert refused.value.key == "forecast.shorter_than_horizon"
    with pytest.raises(UserError) as refused:
        fc.series(flights.assign(passengers=5), FLIGHTS)
    assert refused.value.key == "forecast.constant"
    with pytest.raises(UserError) as refused:
        fc.series(flights, fc.ForecastSettings("year", "month", "month"))
    assert refused.value.key == "forecast.target_not_numeric"
    negative = flights.assign(passengers=flights["passengers"] - 200)
    with pytest.raises(UserError) as refused:
        fc.run(negative, fc.ForecastSettings("year", "passengers", "month", model="ets", seasonal="mul"))
    assert refused.value.key == "forecast.multiplicative_needs_positive"
    with pytest.raises(UserError) as refused:
        fc.run(nile.head(15), fc.ForecastSettings("year", "volume", horizon=10))
    assert refused.value.key == "forecast.too_short"


def test_the_forecast_bundle_refits_on_a_history_in_a_fresh_python(flights, tmp_path):
    from workbench.deploy.export import build_forecast_bundle

    result = fc.run(flights, fc.ForecastSettings("year", "passengers", "month", model="ets", horizon=12))
    bundle = build_forecast_bundle(result, {"dataset": "flights", "rows": 144, "columns": 3}, "en")
    zipfile.ZipFile(io.BytesIO(bundle)).extractall(tmp_path)
    assert "statsmodels==" in (tmp_path / "requirements.txt").read_text()
    assert "Exponential smoothing (Holt-Winters) ✓" in (tmp_path / "model_card.md").read_text(encoding="utf-8")
    flights.to_csv(tmp_path / "history.csv", index=False)
    done = fresh_python(["forecast.py", "history.csv", "out.csv", "--horizon", "18"], tmp_path)
    assert done.returncode == 0, done.stderr
    out = pd.read_csv(tmp_path / "out.csv")
    assert len(out) == 18 and out["date"].iloc[-1] == "1962-06-01"
    expected = fc.forecast_table(result)
    assert np.allclose(out["forecast"].head(12), expected["forecast"])
    assert np.allclose(out["upper_95"].head(12), expected["upper_95"])
    assert np.diff(out["upper_95"] - out["lower_95"]).min() >= -1e-9  # never narrower (up to rounding)
    (tmp_path / "bad.csv").write_text("year,month,passengers\nsoon,May,1\nlater,June,2\nnever,July,3\n")
    done = fresh_python(["forecast.py", "bad.csv", "out.csv"], tmp_path)
    assert done.returncode != 0 and "Traceback" not in done.stderr and "date" in done.stderr


def test_regressors_known_ahead_are_used_and_their_future_is_required(flights):
    rng = np.random.default_rng(7)
    promo = rng.integers(0, 2, len(flights) + 12)
    table = pd.concat([flights, pd.DataFrame({"year": 1961, "month": flights["month"].head(12)})],
                      ignore_index=True).assign(promo=promo)
    table["passengers"] = table["passengers"] + 60 * table["promo"]  # the empty future stays empty
    plain = fc.run(table, fc.ForecastSettings("year", "passengers", "month", model="arima"))
    helped = fc.run(table, fc.ForecastSettings("year", "passengers", "month", model="arima", regressors=["promo"]))
    mase = {r["model"]: r["mase"] for r in helped["table"]}
    assert mase["arima"] < 0.8 * {r["model"]: r["mase"] for r in plain["table"]}["arima"]
    future = np.array(helped["series"][""]["forecast"]["values"])
    assert future.shape == (12,) and plain["report"]["missing"] == 0  # the future rows are not filled in
    lift = future[promo[-12:] == 1].mean() - future[promo[-12:] == 0].mean()
    assert lift > 30  # the promotion months are forecast higher
    for model in ("gradient_boosting",):
        assert np.isfinite(fc.run(table, fc.ForecastSettings("year", "passengers", "month", model=model,
                                                             regressors=["promo"]))["table"][1]["mase"])
    with pytest.raises(UserError) as refused:
        fc.run(table.head(144 + 5), fc.ForecastSettings("year", "passengers", "month", regressors=["promo"]))
    assert refused.value.key == "forecast.regressors_need_future" and refused.value.params["known"] == 5
