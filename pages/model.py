"""Model: choose the target and models, and train or tune them in the background."""

from workbench import ui
from workbench.ui import model as model_ui
from workbench.ui.data import load_frame

ctx = ui.page_setup("page.model.title")
with ui.guard():
    dataset = ui.require_dataset(ctx)
    model_ui.jobs_panel(ctx)
    model_ui.training_form(ctx, dataset, load_frame(str(ctx.store.home), dataset.id))
