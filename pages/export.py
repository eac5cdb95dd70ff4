"""Export: download a model bundle that predicts anywhere, and the project for replay."""

import streamlit as st

from workbench import ui
from workbench.i18n import t
from workbench.ui import export as export_ui
from workbench.ui import results as results_ui

ctx = ui.page_setup("page.export.title")
with ui.guard():
    experiments = ui.require_experiments(ctx)
    st.caption(t("export.intro"))
    export_ui.bundle_view(ctx, results_ui.pick(experiments))
    st.divider()
    export_ui.project_view(ctx)
