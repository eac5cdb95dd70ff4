"""Model: choose the target and models, and train or tune them in the background."""

from workbench import ui
from workbench.ui import clean as clean_ui
from workbench.ui import model as model_ui

ctx = ui.page_setup("page.model.title")
with ui.guard():
    dataset = ui.require_dataset(ctx)
    model_ui.jobs_panel(ctx)
    model_ui.training_form(ctx, dataset, clean_ui.modelling_frame(ctx, dataset))
