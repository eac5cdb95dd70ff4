"""Text: classify free text (reviews, messages) with TF-IDF and a linear model, or a Keras network."""

from workbench import ui
from workbench.ui import clean as clean_ui
from workbench.ui import text
from workbench.ui.core import soft_guard
from workbench.ui.model import jobs_panel

ctx = ui.page_setup("page.text.title")
with ui.guard():
    dataset = ui.require_dataset(ctx)
    with soft_guard():
        text.form(ctx, dataset, clean_ui.modelling_frame(ctx, dataset))
    jobs_panel(ctx, kinds=("text",), results_link=False)
    text.results(ctx)
