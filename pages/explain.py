"""Explain: why the model predicts what it does, what matters most, and whether it treats groups fairly."""

from workbench import ui
from workbench.ui import explain as explain_ui
from workbench.ui import model as model_ui
from workbench.ui import results as results_ui

ctx = ui.page_setup("page.explain.title")
with ui.guard():
    experiments = ui.require_experiments(ctx)
    experiment = results_ui.pick(experiments)
    model_ui.jobs_panel(ctx, kinds=("explain",), results_link=False)  # other pages' jobs stay there
    explain_ui.explain_page(ctx, experiment)
