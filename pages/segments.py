"""Segments: clusters of similar rows, rows unlike the others, and principal components; no target needed."""

import streamlit as st

from workbench import ui
from workbench.i18n import t
from workbench.ui import segments
from workbench.ui.core import soft_guard
from workbench.ui.data import load_frame

ctx = ui.page_setup("page.segments.title")
with ui.guard():
    ui.flash()
    dataset = ui.require_dataset(ctx)
    raw = load_frame(str(ctx.store.home), dataset.id)
    st.caption(t("segments.intro"))
    tabs = st.tabs([t("segments.tab.clusters"), t("segments.tab.anomalies"), t("segments.tab.pca")])
    for tab, draw in zip(tabs, (segments.clusters, segments.anomalies, segments.components)):
        with tab, soft_guard():
            draw(ctx, dataset, raw)
