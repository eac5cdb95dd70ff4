"""Clean: build the recipe step by step, each with a preview, and undo any of it."""

import streamlit as st

from workbench import ui
from workbench.i18n import t
from workbench.ui import clean as clean_ui
from workbench.ui.data import load_frame

ctx = ui.page_setup("page.clean.title")
with ui.guard():
    ui.flash()
    dataset = ui.require_dataset(ctx)
    raw = load_frame(str(ctx.store.home), dataset.id)
    recipe = clean_ui.current_recipe(ctx)
    current = clean_ui.cleaned_frame(str(ctx.store.home), dataset.id, recipe.to_json())
    form, steps = st.columns([3, 2], gap="large")
    with form:
        st.subheader(t("clean.add_title"))
        clean_ui.step_form(ctx, raw, recipe, current)
    with steps:
        st.subheader(t("clean.recipe_title"))
        with ui.guard():
            clean_ui.recipe_list(ctx, raw, recipe)
    st.divider()
    clean_ui.cleaned_view(ctx, dataset, recipe)
