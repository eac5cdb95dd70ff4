"""AutoML: press one button and watch a search find a pipeline, starting from strong defaults."""

import streamlit as st

from workbench import ui
from workbench.i18n import t
from workbench.ui import automl as automl_ui
from workbench.ui import clean as clean_ui

ctx = ui.page_setup("page.automl.title")
with ui.guard():
    dataset = ui.require_dataset(ctx)
    st.caption(t("automl.intro"))
    automl_ui.form(ctx, dataset, clean_ui.modelling_frame(ctx, dataset))
    automl_ui.live(ctx)
