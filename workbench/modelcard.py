"""The model card: what a reviewer needs to know about a bundle's model, in the user's language (Markdown)."""

from __future__ import annotations

import re
from typing import Any

from workbench.evaluation import LOWER_IS_BETTER, METRIC_KEYS
from workbench.i18n import t
from workbench.recipe import Recipe

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def escape_md(value: Any) -> str:
    """Escape user data (names, values) so that it reads as plain text in the card's Markdown."""
    return _MD_SPECIAL.sub(r"\\\1", str(value))
def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else escape_md(value)


def model_card(record: dict[str, Any], about: dict[str, Any], onnx: dict[str, Any] | None,
               versions: dict[str, str], lang: str) -> str:
    """The card as Markdown. `about`: dataset name, filename, rows, columns, trained_at;
    optional `importances`: [(column, value)] from the explain stage."""
    s = record["settings"]

    def tr(key: str, **params: Any) -> str:
        return t(key, lang=lang, **params)

    model = tr(f"model.{s['model_id']}")
    lines = [f"# {tr('card.title', model=model, target=escape_md(s['target']))}", ""]
    lines += [f"## {tr('card.data')}", "",
              tr("card.data_text", dataset=escape_md(about.get("dataset", "")),
                 filename=escape_md(about.get("filename", "")), rows=about.get("rows", 0),
                 columns=about.get("columns", 0)), ""]
    lines += [f"## {tr('card.task')}", "",
              tr("card.task_text", task=tr(f"task.{s['task']}"), target=escape_md(s["target"]),
                 features=len(record["features"])), ""]
    if s["task"] == "binary":
        lines += [tr("card.threshold", threshold=s["threshold"]), ""]
    recipe = Recipe.from_json(record["recipe"]) if record.get("recipe") else Recipe()
    lines += [f"## {tr('card.recipe')}", ""]
    steps = [f"{i}. {escape_md(step.title())}: {escape_md(step.summary())}"
             for i, step in enumerate(recipe.active, 1)]
    lines += (steps or [tr("card.recipe_empty")]) + [""]
    lines += [f"## {tr('card.model')}", "", tr("card.model_text", model=model), ""]
    params = s.get("params") or {}
    lines += [f"- `{escape_md(k)}` = {_number(v)}" for k, v in params.items()] or [tr("card.defaults")]
    lines += ["", f"## {tr('card.metrics')}", "",
              tr("card.metrics_text", test=record["n_test"], train=record["n_train"],
                 split=tr("card.split_time") if s["split"]["method"] == "time" else tr("card.split_random"),
                 seed=s["split"]["seed"]), "",
              f"| {tr('card.metric')} | {tr('card.value')} | {tr('card.baseline')} |", "|---|---:|---:|"]
    for name, value in record["metrics"].items():
        arrow = "↓" if name in LOWER_IS_BETTER else "↑"
        label = tr(METRIC_KEYS[name]) if name in METRIC_KEYS else name
        lines.append(f"| {label} {arrow} "
                     f"| {_number(value)} | {_number(record['baseline'].get(name, float('nan')))} |")
    cv = record.get("cv_scores") or []
    if cv:
        lines += ["", tr("card.cv", folds=len(cv), mean=f"{sum(cv) / len(cv):.4g}",
                         low=f"{min(cv):.4g}", high=f"{max(cv):.4g}")]
    lines += ["", f"## {tr('card.features')}", ""]
    importances = about.get("importances")
    if importances:
        lines += [tr("card.features_text"), ""]
        lines += [f"{i}. {escape_md(name)} ({value:.3g})" for i, (name, value) in enumerate(importances[:10], 1)]
    else:
        lines += [tr("card.features_missing")]
    lines += ["", f"## {tr('card.use')}", "", tr("card.use_text", target=escape_md(s["target"])), "",
              f"## {tr('card.limits')}", "", f"- {tr('card.limit_data', rows=record['n_train'])}",
              f"- {tr('card.limit_range')}", f"- {tr('card.limit_unseen')}", f"- {tr('card.limit_fairness')}"]
    if onnx is not None:
        lines += ["", "## ONNX", "", onnx["reason"]]
    lines += ["", f"## {tr('card.provenance')}", "",
              tr("card.trained_at", when=about.get("trained_at", "")), "",
              ", ".join(f"{name} {v}" for name, v in versions.items())]
    return "\n".join(lines) + "\n"
