"""Forecast page widgets: the series form, and the newest forecast with its backtest, chart and downloads."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench import analyses, analysis_charts
from workbench import forecast as fc
from workbench.deploy.export import build_forecast_bundle
from workbench.experiments import start
from workbench.i18n import escape_md, t
from workbench.io import to_csv_bytes
from workbench.stats import is_number
from workbench.store import Dataset
from workbench.ui.core import PageContext, say
from workbench.ui.model import another_job_running, jobs_panel

NONE = ""


def _guess_date(raw: pd.DataFrame) -> int:
    """The column most likely to hold dates or years: a datetime, else a name that says so, else the first."""
    names = list(raw.columns)
    for i, name in enumerate(names):
        if pd.api.types.is_datetime64_any_dtype(raw[name]):
            return i
    for i, name in enumerate(names):
        if any(word in str(name).lower() for word in ("date", "time", "year", "日付", "年")):
            return i
    return 0


def form(ctx: PageContext, dataset: Dataset, raw: pd.DataFrame) -> None:
    """Date (or year and month), target, series, model, horizon, folds and how to repair the series."""
    jobs_panel(ctx, ("forecast",), results_link=False)
    names = list(raw.columns)
    numbers = [c for c in names if is_number(raw[c])]
    c1, c2, c3 = st.columns(3)
    date = c1.selectbox(t("forecast.date"), names, index=_guess_date(raw), key="fc_date", help=t("forecast.date_help"))
    others = [c for c in names if c != date]
    months = [NONE, *others]
    month = c1.selectbox(t("forecast.month"), months, index=months.index(fc.month_column(raw, date)),
                         key="fc_month", help=t("forecast.month_help"),
                         format_func=lambda c: c or t("forecast.none"))
    targets = [c for c in numbers if c not in (date, month)]
    if not targets:
        st.warning(t("forecast.no_numbers"), icon=":material/warning:")
        return
    target = c2.selectbox(t("forecast.target"), targets, index=len(targets) - 1, key="fc_target")
    series = c2.selectbox(t("forecast.series"), [NONE, *[c for c in others if c not in (month, target)]],
                          key="fc_series", help=t("forecast.series_help"),
                          format_func=lambda c: c or t("forecast.none"))
    model = c3.selectbox(t("forecast.model"), [fc.AUTO, *fc.MODELS], key="fc_model",
                         format_func=lambda m: t(fc.MODEL_KEYS[m]), help=t("forecast.model_help"))
    horizon = int(c3.number_input(t("forecast.horizon"), 1, 1000, 12, key="fc_horizon",
                                  help=t("forecast.horizon_help")))
    extra = [c for c in numbers if c not in (date, month, target, series)]
    regressors = st.multiselect(t("forecast.regressors"), extra, key="fc_regressors", placeholder=t("widget.choose"),
                                help=t("forecast.regressors_help"))
    with st.expander(t("forecast.more")):
        d1, d2, d3, d4 = st.columns(4)
        folds = int(d1.number_input(t("forecast.folds"), 1, 10, 3, key="fc_folds", help=t("forecast.folds_help")))
        fill = d2.selectbox(t("forecast.fill"), fc.FILLS, key="fc_fill", format_func=lambda f: t(fc.FILL_KEYS[f]),
                            help=t("forecast.fill_help"))
        aggregate = d3.selectbox(t("forecast.aggregate"), fc.AGGREGATES, key="fc_aggregate",
                                 format_func=lambda a: t(fc.AGGREGATE_KEYS[a]), help=t("forecast.aggregate_help"))
        seasonal = d4.radio(t("forecast.seasonal"), ("add", "mul"), key="fc_seasonal",
                            format_func=lambda v: t(fc.SEASONAL_KEYS[v]), help=t("forecast.seasonal_help"))
    settings = fc.ForecastSettings(date, target, month, series, model, horizon, folds, fill, aggregate, seasonal,
                                   regressors)
    if st.button(t("forecast.run"), type="primary", key="fc_run",
                 disabled=another_job_running(ctx, ("forecast",)) or ctx.read_only,
                 icon=":material/timeline:"):
        fc.inputs(raw, settings)  # dates, target, length and regressors are checked before the job is queued
        start(ctx.store, ctx.project.id, "forecast", dataset_id=dataset.id, settings=settings.to_dict())
        st.rerun()


def result(ctx: PageContext, dataset: Dataset) -> None:
    """The newest forecast of this dataset: what was repaired, the models' backtests, the chart, downloads."""
    found = analyses.latest(ctx.store, ctx.project.id, "forecast", dataset.id)
    if not found:
        return
    s, report = found["settings"], found["report"]
    st.subheader(t("forecast.result", target=escape_md(s["target"]), model=t(fc.MODEL_KEYS[found["chosen"]]),
                   horizon=s["horizon"]))
    st.caption(t("forecast.report", frequency=t(fc.FREQUENCY_KEYS[report["frequency"].split("-")[0]]),
                   start=report["start"], end=report["end"], rows=f"{report['rows']:,}", series=report["series"],
                   season=report["season"]))
    repaired = [say(key, count=report[name]) for name, key in fc.REPAIR_KEYS.items() if report[name]]
    if repaired:
        st.info(" ".join(repaired), icon=":material/build:")
    table = pd.DataFrame(found["table"])
    table["model"] = [t(fc.MODEL_KEYS[m]) + (" ✓" if m == found["chosen"] else "") for m in table["model"]]
    st.dataframe(table.rename(columns={"model": t("forecast.model"), "mae": "MAE", "rmse": "RMSE", "mape": "MAPE %",
                                       "mase": "MASE"}), hide_index=True, width="stretch", key="fc_table")
    st.caption(say("forecast.backtest_help", folds=s["folds"], horizon=s["horizon"]))
    for name, reason in found["failures"].items():
        st.warning(say("forecast.model_failed", model=t(fc.MODEL_KEYS[name]), reason=reason),
                   icon=":material/warning:")
    keys = list(found["series"])
    key = st.selectbox(t("forecast.series"), keys, key="fc_show") if len(keys) > 1 else keys[0]
    st.plotly_chart(analysis_charts.forecast(found["series"][key], s["target"]), width="stretch", key="fc_chart")
    frame = fc.forecast_table(found)
    st.dataframe(frame, hide_index=True, width="stretch", key="fc_future")
    c1, c2 = st.columns(2)
    c1.download_button(t("forecast.download_csv"), to_csv_bytes(frame), file_name=f"{dataset.name}-forecast.csv",
                       mime="text/csv", key="fc_download_csv", icon=":material/download:")
    about = {"dataset": dataset.name, "filename": dataset.filename, "rows": dataset.rows, "columns": dataset.columns}
    c2.download_button(t("forecast.download_bundle"), lambda: build_forecast_bundle(found, about, ctx.lang),
                       file_name=f"{dataset.name}-forecast-bundle.zip", mime="application/zip",
                       key="fc_download_bundle", icon=":material/ios_share:", on_click="ignore")
    st.caption(t("forecast.bundle_help"))
