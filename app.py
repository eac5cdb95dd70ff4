"""Home page and entry point (`streamlit run app.py`): what the workbench does, and the projects."""

import streamlit as st

from workbench import ui
from workbench.i18n import t
from workbench.ui import home as home_ui

ctx = ui.page_setup("page.home.title")
with ui.guard():
    ui.flash()
    st.markdown(t("home.intro"))
    st.page_link("pages/data.py", label=t("home.go_data"), icon=":material/table_chart:")
    home_ui.datasets_summary(ctx)
    st.divider()
    st.subheader(t("home.projects"))
    home_ui.project_forms(ctx)
    home_ui.sharing(ctx)
    st.divider()
    home_ui.server_mode(ctx)
