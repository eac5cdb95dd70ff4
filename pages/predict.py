"""Predict: predictions for a new file, or for one row whose values you set, with a model of this project
or with a bundle downloaded from an Export page."""

import streamlit as st

from workbench import ui
from workbench.i18n import t
from workbench.ui import predict as predict_ui
from workbench.ui import results as results_ui

ctx = ui.page_setup("page.predict.title")
with ui.guard():
    experiments = ctx.store.list_experiments(ctx.project.id)
    production = predict_ui.production_predictor(ctx)
    sources = ({"production": t("predict.source.production", number=production[1].number)} if production
               else {}) | ({"project": t("predict.source.project")} if experiments else {}) | {
        "bundle": t("predict.source.bundle")}
    source = st.radio(t("predict.source"), list(sources), horizontal=True, key="predict_source",
                      format_func=sources.get)
    if source == "production":
        model = production[0]
    elif source == "project":
        model = predict_ui.predictor(ctx, results_ui.pick(experiments))
    else:
        if not experiments:
            st.caption(t("predict.no_experiments"))
        bundle = predict_ui.bundle_panel()
        if bundle is None:
            st.stop()
        model = bundle.predictor
    upload, single = st.tabs([t("predict.tab.file"), t("predict.tab.row")])
    with upload:
        with ui.guard():
            predict_ui.file_panel(model)
    with single:
        predict_ui.what_if(model)
