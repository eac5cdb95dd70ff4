"""Data: bring a table in (upload, sample, workspace), see what the reader did, and profile it."""

import streamlit as st

from workbench import ui
from workbench.i18n import t
from workbench.ui import data as data_ui

ctx = ui.page_setup("page.data.title")
with ui.guard():
    ui.flash()
    upload, samples, workspace = st.tabs([t("data.tab.upload"), t("data.tab.samples"), t("data.tab.workspace")])
    with upload:
        with ui.guard():
            data_ui.upload_panel(ctx)
    with samples:
        data_ui.sample_panel(ctx)
    with workspace:
        data_ui.workspace_panel(ctx)
    dataset = ctx.dataset()
    if dataset is None:
        st.info(t("data.none_yet"))
        st.stop()
    st.divider()
    data_ui.dataset_view(ctx, dataset)
