"""Images: classify pictures (handwritten digits, or a zip of one folder per class) with a small CNN."""

from workbench import ui
from workbench.ui import images
from workbench.ui.core import soft_guard
from workbench.ui.model import jobs_panel

ctx = ui.page_setup("page.images.title")
with ui.guard():
    ui.flash()
    with soft_guard():  # a bad zip is said in place; the form and the newest run stay usable
        images.upload(ctx)
    with soft_guard():
        images.form(ctx)
    jobs_panel(ctx, kinds=("images",), results_link=False)
    images.results(ctx)
