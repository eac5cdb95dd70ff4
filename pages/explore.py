"""Explore: interactive charts of the dataset, cleaned by the recipe or as uploaded."""

import streamlit as st

from workbench import ui
from workbench.i18n import t
from workbench.ui import clean as clean_ui
from workbench.ui import explore as explore_ui
from workbench.ui.data import load_frame

ctx = ui.page_setup("page.explore.title")
with ui.guard():
    dataset = ui.require_dataset(ctx)
    recipe = clean_ui.current_recipe(ctx)
    use_recipe = st.toggle(t("explore.use_recipe"), value=bool(recipe.entries), key="ex_use_recipe",
                           disabled=not recipe.entries)
    home = str(ctx.store.home)
    frame = clean_ui.cleaned_frame(home, dataset.id, recipe.to_json()) if use_recipe else load_frame(home, dataset.id)
    st.caption(ui.say("explore.data", name=dataset.name, rows=f"{len(frame):,}", columns=frame.shape[1]))
    explore_ui.chart_panel(frame, dataset.filename)
