"""Monitor: is new data still like the training data, does the model still perform, and retraining."""

from workbench import ui
from workbench.ui import monitor as monitor_ui

ctx = ui.page_setup("page.monitor.title")
with ui.guard():
    ui.flash()
    version = monitor_ui.choose_version(ctx)
    if version is not None:
        ref = monitor_ui.reference(ctx, version)
        batch = monitor_ui.batch_source(ctx, ref)
        if batch is not None:
            label, frame = batch
            monitor_ui.report_view(monitor_ui.check(ref, label, frame), ref)
        monitor_ui.retrain_view(ctx, version)
