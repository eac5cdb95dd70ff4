"""The model card: what a reviewer needs to know about a bundle's model, in the user's language (Markdown)."""

from __future__ import annotations

import re
from functools import partial
from typing import Any, Callable

from workbench.clustering import ALGORITHM_KEYS, DIFFERENCE_KEYS, SCORE_KEYS
from workbench.evaluation import LOWER_IS_BETTER, METRIC_KEYS
from workbench.forecast import MODEL_KEYS
from workbench.i18n import readable, t
from workbench.recipe import Recipe

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def escape_md(value: Any) -> str:
    """Escape user data (names, values) so that it reads as plain text in the card's Markdown."""
    return _MD_SPECIAL.sub(r"\\\1", str(value))


def _number(value: Any) -> str:
    if value is None:
        return "—"
    return readable(value) if isinstance(value, float) else escape_md(value)


def model_card(record: dict[str, Any], about: dict[str, Any], onnx: dict[str, Any] | None,
               versions: dict[str, str], lang: str) -> str:
    """The card as Markdown. `about`: dataset name, filename, rows, columns, trained_at;
    optional `importances`: [(column, value)] from the explain stage."""
    s = record["settings"]
    tr = partial(t, lang=lang)

    model = tr(f"model.{s['model_id']}")
    lines = [f"# {tr('card.title', model=model, target=escape_md(s['target']))}", ""]
    lines += _data_lines(about, tr)
    lines += [f"## {tr('card.task')}", "",
              tr("card.task_text", task=tr(f"task.{s['task']}"), target=escape_md(s["target"]),
                 features=len(record["features"])), ""]
    if s["task"] == "binary":
        lines += [tr("card.threshold", threshold=s["threshold"]), ""]
    recipe = Recipe.saved(record.get("recipe"))
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
    return "\n".join(lines + _provenance_lines(about, versions, tr)) + "\n"


def _data_lines(about: dict[str, Any], tr: Callable[..., str]) -> list[str]:
    return [f"## {tr('card.data')}", "",
            tr("card.data_text", dataset=escape_md(about.get("dataset", "")),
               filename=escape_md(about.get("filename", "")), rows=about.get("rows", 0),
               columns=about.get("columns", 0)), ""]


def _provenance_lines(about: dict[str, Any], versions: dict[str, str], tr: Callable[..., str]) -> list[str]:
    return ["", f"## {tr('card.provenance')}", "", tr("card.trained_at", when=about.get("trained_at", "")), "",
            ", ".join(f"{name} {v}" for name, v in versions.items())]


def cluster_card(result: dict[str, Any], about: dict[str, Any], versions: dict[str, str], lang: str) -> str:
    """The card of a clustering bundle: data, columns, algorithm, scores, the clusters in words, limits."""
    tr = partial(t, lang=lang)

    s = result["settings"]
    algorithm = tr(ALGORITHM_KEYS[s["algorithm"]])
    lines = [f"# {tr('card.cluster_title', algorithm=algorithm)}", ""] + _data_lines(about, tr)
    lines += [f"## {tr('card.model')}", "",
              tr("card.cluster_text", algorithm=algorithm, clusters=result["scores"]["clusters"],
                 columns=", ".join(escape_md(c) for c in result["columns"])), ""]
    lines += [f"| {tr('card.metric')} | {tr('card.value')} |", "|---|---:|"]
    for name in ("silhouette", "calinski_harabasz", "davies_bouldin"):
        lines.append(f"| {tr(SCORE_KEYS[name][0])} | {_number(result['scores'][name])} |")
    lines += ["", f"## {tr('card.cluster_profiles')}", ""]
    for profile in result["profiles"]:
        words = ("; ".join(describe_difference(d, lang) for d in profile["differences"])
                 or tr("cluster.no_difference"))
        lines.append(f"- {tr('cluster.name', cluster=profile['cluster'])} ({profile['rows']}): {words}")
    lines += ["", f"## {tr('card.limits')}", "", f"- {tr('card.cluster_limit')}", f"- {tr('card.limit_unseen')}"]
    return "\n".join(lines + _provenance_lines(about, versions, tr)) + "\n"


def image_card(result: dict[str, Any], lang: str) -> str:
    """The card of an image bundle: pictures, network, held-out scores, limits."""
    tr = partial(t, lang=lang)
    s = result["settings"]
    lines = [f"# {tr('card.image_title')}", "",
             tr("card.image_text", classes=", ".join(escape_md(c) for c in result["classes"]), size=s["size"],
                train=result["n_train"], test=result["n_test"], preset=s["preset"]), "",
             f"| {tr('card.metric')} | {tr('card.value')} |", "|---|---:|",
             f"| {tr('metric.accuracy')} | {_number(result['accuracy'])} |",
             f"| {tr('metric.balanced_accuracy')} | {_number(result['balanced_accuracy'])} |", "",
             f"## {tr('card.limits')}", "", f"- {tr('card.image_limit')}", f"- {tr('card.limit_unseen')}"]
    return "\n".join(lines) + "\n"


def describe_difference(d: dict[str, Any], lang: str | None = None) -> str:
    """One way a cluster differs from all rows, in words (from clustering.profiles)."""
    column = escape_md(d["column"])
    if d["kind"] == "number":
        return t(DIFFERENCE_KEYS[d["direction"]], lang=lang, column=column, value=readable(d["cluster_value"]),
                 overall=readable(d["overall_value"]))
    return t("cluster.diff.more", lang=lang, column=column, level=escape_md(d["level"]),
             value=f"{d['cluster_value']:.0%}", overall=f"{d['overall_value']:.0%}")


def forecast_card(result: dict[str, Any], about: dict[str, Any], versions: dict[str, str], lang: str) -> str:
    """The card of a forecast bundle: data, series, the model chosen, its backtest against the baselines."""
    tr = partial(t, lang=lang)

    s, report = result["settings"], result["report"]
    model = tr(MODEL_KEYS[result["chosen"]])
    lines = [f"# {tr('card.forecast_title', model=model, target=escape_md(s['target']))}", ""]
    lines += _data_lines(about, tr)
    lines += [tr("card.forecast_series", frequency=report["frequency"], start=report["start"], end=report["end"],
                 series=report["series"], horizon=s["horizon"]), ""]
    lines += [f"## {tr('card.metrics')}", "", tr("card.forecast_backtest", folds=s["folds"], horizon=s["horizon"]),
              "", "| | MAE | RMSE | MAPE | MASE |", "|---|---:|---:|---:|---:|"]
    for row in result["table"]:
        mark = " ✓" if row["model"] == result["chosen"] else ""
        lines.append(f"| {tr(MODEL_KEYS[row['model']])}{mark} | {_number(row['mae'])} | "
                     f"{_number(row['rmse'])} | {_number(row['mape'])} | {_number(row['mase'])} |")
    lines += ["", f"## {tr('card.limits')}", "", f"- {tr('card.forecast_limit')}"]
    return "\n".join(lines + _provenance_lines(about, versions, tr)) + "\n"
