"""The cleaning steps a recipe can hold. Adding a step is adding a registered class to one of the modules
rows.py, columns.py or learned.py (by sort)."""

from __future__ import annotations

from workbench import transformers as tf  # noqa: F401  (steps.tf, used by tests and callers)
from workbench.recipe import STEP_TYPES
from workbench.steps.columns import *  # noqa: F401,F403
from workbench.steps.learned import *  # noqa: F401,F403
from workbench.steps.rows import *  # noqa: F401,F403


def i18n_keys() -> set[str]:
    """Every catalogue key the step forms and summaries ask for (the i18n test checks them)."""
    keys: set[str] = set()
    for cls in STEP_TYPES.values():
        keys |= {f"step.{cls.kind}.name", f"step.{cls.kind}.help"}
        for p in cls.PARAMS:
            keys.add(p.label_key)
            if p.type in ("choice", "multichoice"):
                keys |= {f"choice.{c}" for c in p.choices}
    return keys
