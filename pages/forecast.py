"""Forecast: a numeric column through time, backtested, forecast with intervals and exported."""

from workbench import ui
from workbench.ui import forecast
from workbench.ui.core import soft_guard
from workbench.ui.data import load_frame

ctx = ui.page_setup("page.forecast.title")
with ui.guard():
    dataset = ui.require_dataset(ctx)
    with soft_guard():  # a bad choice of columns is said in place; the newest forecast stays below
        forecast.form(ctx, dataset, load_frame(str(ctx.store.home), dataset.id))
    forecast.result(ctx, dataset)
