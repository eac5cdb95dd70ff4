"""Which task a target implies, and what is wrong with a target before anything is trained.

propose_task() says binary, multiclass or regression and why; the person can
override it. check_target() returns blocking problems (UserError-style notes)
and warnings, each in the person's language, with what to do next. Clustering
and forecasting have no target to check: see workbench.clustering and workbench.forecast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workbench.i18n import Note
from workbench.stats import association, is_number

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"
TASKS = (BINARY, MULTICLASS, REGRESSION)
CLUSTERING, FORECASTING = "clustering", "forecasting"  # without a target to predict (workbench.clustering, .forecast)
CLASSIFICATION = (BINARY, MULTICLASS)
TEXT_CLASSIFICATION = "text_classification"  # a classification from one free-text column (workbench.deep.text)
MAX_CLASSES = 50  # beyond this a 'classification' target is almost surely a quantity
FEW_WHOLE_NUMBERS = 10
LEAKAGE = 0.98


@dataclass(frozen=True)
class TaskProposal:
    """The proposed task and the reason shown beside it."""

    task: str
    reason: Note


@dataclass
class TargetCheck:
    """Problems that block training (errors) and those a person should know (warnings)."""

    errors: list[Note] = field(default_factory=list)
    warnings: list[Note] = field(default_factory=list)
    missing_rows: int = 0  # rows without a target value; training can drop them

    @property
    def ok(self) -> bool:
        """True when training may start."""
        return not self.errors


# Names that say "target", strongest first; 'y' counts only where no 'x' column makes it a coordinate.
_TARGET_NAMES = ({"target", "label", "labels", "outcome", "response", "y", "目的変数", "正解", "ラベル"},
                 {"survived", "churn", "churned", "default", "diagnosis", "defects", "result", "結果", "判定"},
                 {"class", "species", "quality", "price", "クラス"})


def propose_target(df: pd.DataFrame, source: str = "") -> tuple[str, Note]:
    """The likeliest target and why: a column named like one (target, label, y, 結果, ...), else a column the file
    `source` is named after (mpg in mpg.csv, tip in tips.csv), else one named like a common target (survived,
    class, price, ...), else the last column; columns that cannot be a target (IDs, free text, dates, names with
    a value per row, empty or constant columns) are passed over."""
    from workbench.coltypes import column_kind

    def usable(name: str) -> bool:
        column = df[name].dropna()
        levels = column.nunique()
        if levels < 2 or column_kind(column, str(name)) in ("id", "text", "datetime", "empty"):
            return False
        return is_number(column) or levels <= max(MAX_CLASSES, 0.5 * len(column))

    def words(name: str) -> set[str]:
        text = str(name).casefold()
        return {w for w in re.split(r"[^0-9a-z]+", text) if w} | {j for j in _JAPANESE if j in text}

    candidates = [c for c in df.columns if usable(c)] or list(df.columns)
    coordinates = "x" in {str(c).casefold() for c in df.columns}
    stem = {w for w in re.split(r"[\W_]+", Path(source).stem.casefold()) if w}
    first, *others = _TARGET_NAMES
    for tier in (first, None, *others):  # None: after the names that say "target", a column the file is named after
        for name in reversed(candidates):
            if tier is None and {str(name).casefold().strip() + end for end in ("", "s", "es")} & stem:
                return name, Note("target.proposed.by_file", {"column": str(name), "file": source})
            if tier is not None and words(name) & (tier - {"y"} if coordinates else tier):
                return name, Note("target.proposed.by_name", {"column": str(name)})
    return candidates[-1], Note("target.proposed.last", {"column": str(candidates[-1])})


_JAPANESE = {w for tier in _TARGET_NAMES for w in tier if not w.isascii()}


def propose_task(target: pd.Series) -> TaskProposal:
    """Binary or multiclass for labels and a few whole numbers, regression for quantities."""
    values = target.dropna()
    levels = int(values.nunique())
    name = str(target.name)
    if pd.api.types.is_bool_dtype(values) or not is_number(values):
        task = BINARY if levels <= 2 else MULTICLASS
        return TaskProposal(task, Note("task.reason.labels", {"column": name, "levels": levels}))
    whole = bool((values % 1 == 0).all()) if len(values) else False
    if whole and levels <= FEW_WHOLE_NUMBERS:
        task = BINARY if levels <= 2 else MULTICLASS
        return TaskProposal(task, Note("task.reason.few_numbers", {"column": name, "levels": levels}))
    return TaskProposal(REGRESSION, Note("task.reason.quantity", {"column": name, "levels": levels}))


def check_target(df: pd.DataFrame, target: str, task: str, folds: int = 5) -> TargetCheck:
    """Everything wrong with `target` for `task` with `folds`-fold cross-validation."""
    check = TargetCheck()
    if target not in df.columns:
        check.errors.append(Note("target.missing_column", {"column": target}))
        return check
    column = df[target]
    present = column.dropna()
    check.missing_rows = int(column.isna().sum())
    if present.empty:
        check.errors.append(Note("target.all_missing", {"column": target}))
        return check
    if check.missing_rows:
        check.warnings.append(Note("target.missing_values", {"column": target, "count": check.missing_rows}))
    if task in CLASSIFICATION:
        _check_classes(check, present, target, task, folds)
    elif not is_number(present):
        check.errors.append(Note("target.not_numeric", {"column": target}))
    elif present.nunique() == 1:
        check.errors.append(Note("target.constant", {"column": target}))
    if len(present) < 2 * folds:
        check.errors.append(Note("target.too_few_rows", {"rows": len(present), "folds": folds, "need": 2 * folds}))
    if is_number(present) and present.is_unique and len(present) >= 20 and (
            present.is_monotonic_increasing or (present % 1 == 0).all() and task in CLASSIFICATION):
        check.warnings.append(Note("target.id_like", {"column": target}))
    check.warnings.extend(_leakage(df.loc[present.index], target))
    return check


def _check_classes(check: TargetCheck, present: pd.Series, target: str, task: str, folds: int) -> None:
    counts = present.astype("str").value_counts()
    if len(counts) < 2:
        check.errors.append(Note("target.one_class", {"column": target, "value": str(counts.index[0])}))
        return
    if is_number(present) and not (present % 1 == 0).all() and len(counts) > MAX_CLASSES:
        check.errors.append(Note("target.looks_continuous", {"column": target, "levels": len(counts)}))
        return
    if len(counts) > MAX_CLASSES:
        check.errors.append(Note("target.too_many_classes", {"column": target, "levels": len(counts),
                                                             "limit": MAX_CLASSES}))
    if task == BINARY and len(counts) > 2:
        check.errors.append(Note("target.not_binary", {"column": target, "levels": len(counts)}))
    single = counts[counts == 1]
    if len(single):
        check.warnings.append(Note("target.single_row_class", {"column": target, "values": ", ".join(single.index[:5]),
                                                               "count": len(single)}))
    small = counts[(counts > 1) & (counts < folds)]
    if len(small):
        check.warnings.append(Note("target.small_class", {"values": ", ".join(small.index[:5]), "folds": folds}))


def _leakage(df: pd.DataFrame, target: str) -> list[Note]:
    """Columns that carry the target itself (the same values, or a near-perfect relation to it)."""
    # Text with a value per row (names, IDs) "explains" any target in-sample: the profile flags those instead.
    others = [c for c in df.columns if c != target and df[c].notna().any()
              and (is_number(df[c]) or df[c].nunique() <= 0.5 * df[c].notna().sum())]
    if not others:
        return []
    strength = association(df, [target, *others]).loc[target, others].abs()
    return [Note("target.leakage", {"column": c, "target": target, "strength": round(float(v), 3)})
            for c, v in strength.items() if v >= LEAKAGE]
