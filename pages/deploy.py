"""Deploy: model versions, the production model, and the endpoint the app runs for it."""

from workbench import ui
from workbench.ui import deploy as deploy_ui

ctx = ui.page_setup("page.deploy.title")
with ui.guard():
    ui.flash()
    experiments = ui.require_experiments(ctx)
    versions = deploy_ui.versions_view(ctx)
    deploy_ui.mlflow_view(ctx, versions)
    deploy_ui.register_form(ctx, experiments)
    deploy_ui.endpoint_view(ctx)
    deploy_ui.history_view(ctx)
