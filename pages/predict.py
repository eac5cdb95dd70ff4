"""Predict: predictions for a new file, or for one row whose values you set."""

import streamlit as st

from workbench import ui
from workbench.i18n import t
from workbench.ui import predict as predict_ui
from workbench.ui import results as results_ui

ctx = ui.page_setup("page.predict.title")
with ui.guard():
    experiments = ui.require_experiments(ctx)
    experiment = results_ui.pick(experiments)
    upload, single = st.tabs([t("predict.tab.file"), t("predict.tab.row")])
    with upload:
        with ui.guard():
            predict_ui.file_panel(ctx, experiment)
    with single:
        predict_ui.what_if(ctx, experiment)
