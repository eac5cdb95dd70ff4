"""Text: classify free text (reviews, messages) with TF-IDF and a linear model, or a Keras network."""

from workbench import ui
from workbench.ui import text
from workbench.ui.core import soft_guard
from workbench.ui.data import load_frame
from workbench.ui.model import jobs_panel

ctx = ui.page_setup("page.text.title")
with ui.guard():
    dataset = ui.require_dataset(ctx)
    with soft_guard():
        text.form(ctx, dataset, load_frame(str(ctx.store.home), dataset.id))
    jobs_panel(ctx, kinds=("text",), results_link=False)
    text.results(ctx)
