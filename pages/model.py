"""Model: choose the target and models, and train or tune them in the background."""

import streamlit as st

from workbench import jobs, ui
from workbench.i18n import t
from workbench.ui import model as model_ui
from workbench.ui.data import load_frame

ctx = ui.page_setup("page.model.title")
with ui.guard():
    jobs.interrupt_orphans(ctx.store)
    dataset = ctx.dataset()
    if dataset is None:
        st.info(t("data.none_yet"))
        st.page_link("pages/data.py", label=t("page.data.title"), icon=":material/table_chart:")
        st.stop()
    model_ui.jobs_panel(ctx)
    model_ui.training_form(ctx, dataset, load_frame(str(ctx.store.home), dataset.id))
