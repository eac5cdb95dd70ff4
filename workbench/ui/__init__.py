"""The only part of workbench that imports streamlit: page set-up and shared widgets."""

from workbench.ui.core import (
    PageContext,
    current_language,
    escape_md,
    flash,
    get_store,
    guard,
    page_setup,
    require_dataset,
    require_experiments,
    say,
    select_project,
)

__all__ = ["PageContext", "current_language", "escape_md", "flash", "get_store", "guard",
           "page_setup", "require_dataset", "require_experiments", "say", "select_project"]
