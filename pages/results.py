"""Results: the leaderboard of experiments, one experiment's metrics and plots, and a comparison."""

import streamlit as st

from workbench import ui
from workbench.i18n import t
from workbench.ui import automl as automl_ui
from workbench.ui import results as results_ui

ctx = ui.page_setup("page.results.title")
with ui.guard():
    ui.flash()
    experiments = ui.require_experiments(ctx)
    results_ui.board_view(experiments)
    experiment = results_ui.pick(experiments)
    results_ui.actions(ctx, experiment)
    results_ui.details(ctx, experiment)
    automl_ui.code_view(experiment.record)
    with st.expander(t("chart.learning_curve")):
        results_ui.learning_view(ctx, experiment)
    with st.expander(t("results.compare")):
        results_ui.compare(experiments, experiment)
