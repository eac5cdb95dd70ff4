"""The recipe: cleaning steps as data. Apply, preview, validate, save as JSON, compile to scikit-learn.

Three sorts of step (DESIGN.md):
- row steps (drop duplicates, filter, remove outliers) act on training data only;
- column steps (drop, rename, cast, date parts, formula) are stateless and also run at prediction;
- learned steps (impute, scale, encode, clip) are fitted on the training rows only.

`Recipe.to_sklearn()` compiles the column and learned steps, in order, into one
Pipeline that takes the raw uploaded columns; `Recipe.training_rows()` tells
which training rows the row steps keep.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar

import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from workbench.errors import UserError
from workbench.i18n import t

ROW, COLUMN, LEARNED = "row", "column", "learned"
SAMPLE_ROWS = 10


@dataclass(frozen=True)
class Param:
    """One input of a step's form: its type drives the widget, `kinds` filters offered columns."""

    name: str
    type: str  # column, columns, choice, multichoice, number, integer, text, bool, mapping
    default: Any = None
    choices: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()  # column kinds offered: numeric, text, datetime (empty: all)
    minimum: float | None = None
    maximum: float | None = None
    optional: bool = False  # a column that may be left empty

    @property
    def label_key(self) -> str:
        """Catalogue key of the label."""
        return f"param.{self.name}"


@dataclass
class Step:
    """Base of all steps. Subclasses are dataclasses whose fields are the PARAMS."""

    kind: ClassVar[str] = ""
    sort: ClassVar[str] = COLUMN
    PARAMS: ClassVar[tuple[Param, ...]] = ()

    def columns_used(self) -> list[str]:
        """Columns this step needs in its input."""
        used: list[str] = []
        for p in self.PARAMS:
            value = getattr(self, p.name)
            if p.type == "column" and value:
                used.append(value)
            elif p.type == "columns":
                used.extend(value)
            elif p.type == "mapping" and p.name == "renames":
                used.extend(value)
        return used

    def check(self, df: pd.DataFrame) -> None:
        """Raise UserError when this step cannot run on `df` (before any change is made)."""
        missing = [c for c in self.columns_used() if c not in df.columns]
        if missing:
            raise UserError("recipe.missing_columns", step=self.title(), columns=", ".join(missing))
        for p in self.PARAMS:
            if p.type == "columns" and not getattr(self, p.name):
                raise UserError("recipe.no_columns", step=self.title())

    def keep_rows(self, df: pd.DataFrame) -> pd.Series:
        """Row steps: a boolean mask of the rows kept."""
        raise TypeError(f"{self.kind} is not a row step")

    def transformer(self) -> Any:
        """Column and learned steps: an unfitted sklearn transformer (DataFrame in, DataFrame out)."""
        raise TypeError(f"{self.kind} is a row step")

    def target(self) -> str | None:
        """The target column a learned step needs as y (target encoding), if any."""
        return None

    def title(self) -> str:
        """The step's name in the user's language."""
        return t(f"step.{self.kind}.name")

    def summary(self) -> str:
        """One line saying what the step does, for the recipe list."""
        parts = []
        for p in self.PARAMS:
            value = getattr(self, p.name)
            if p.type == "choice":
                value = t(f"choice.{value}")
            elif p.type == "multichoice":
                value = ", ".join(t(f"choice.{v}") for v in value)
            elif isinstance(value, (list, tuple)):
                value = ", ".join(map(str, value))
            elif isinstance(value, dict):
                value = ", ".join(f"{k} → {v}" for k, v in value.items())
            if value not in (None, "", False):
                parts.append(f"{t(p.label_key)}: {value}")
        return f"{self.title()} ({'; '.join(parts)})" if parts else self.title()

    def to_dict(self) -> dict[str, Any]:
        """The step as JSON-ready data."""
        return {"kind": self.kind, **{f.name: getattr(self, f.name) for f in fields(self)}}


STEP_TYPES: dict[str, type[Step]] = {}


def register(cls: type[Step]) -> type[Step]:
    """Class decorator: make a step kind available to recipes, forms and JSON."""
    STEP_TYPES[cls.kind] = cls
    return cls


def step_from_dict(data: dict[str, Any]) -> Step:
    """Rebuild a step from to_dict() output; raises UserError for an unknown kind or bad parameters."""
    data = dict(data)
    cls = STEP_TYPES.get(str(data.pop("kind", "")))
    if cls is None:
        raise UserError("recipe.bad_json")
    if not set(data) <= {f.name for f in fields(cls)}:
        raise UserError("recipe.bad_json")
    try:
        return cls(**data)
    except TypeError:
        raise UserError("recipe.bad_json") from None


@dataclass
class Entry:
    """A step in a recipe, which can be switched off without removing it."""

    step: Step
    enabled: bool = True


@dataclass
class Preview:
    """What a step changes: rows and columns before and after, changed cells, a sample of changed rows."""

    rows_before: int
    rows_after: int
    columns_added: list[str]
    columns_removed: list[str]
    columns_changed: list[str]
    changed_cells: int
    sample_before: pd.DataFrame
    sample_after: pd.DataFrame
    failed: dict[str, tuple[int, list[str]]] = field(default_factory=dict)  # column -> (count, examples)
    flagged: int | None = None  # rows marked 1 by added 0/1 columns (outlier flags, missing indicators)


@dataclass
class Recipe:
    """An ordered, editable list of steps. Edits return a new Recipe; nothing is changed in place."""

    entries: list[Entry] = field(default_factory=list)

    # ------------------------------------------------------------ editing

    def add(self, step: Step, df: pd.DataFrame | None = None) -> "Recipe":
        """Append a step, after checking it against the data it will see (when given)."""
        if df is not None:
            self.validate_step(df, step)
        return Recipe([*self.entries, Entry(step)])

    def remove(self, index: int) -> "Recipe":
        """Drop the step at `index`."""
        return Recipe([e for i, e in enumerate(self.entries) if i != index])

    def move(self, index: int, to: int) -> "Recipe":
        """Move the step at `index` to position `to`."""
        entries = list(self.entries)
        entry = entries.pop(index)
        entries.insert(max(0, min(to, len(entries))), entry)
        return Recipe(entries)

    def toggle(self, index: int) -> "Recipe":
        """Switch the step at `index` off or on."""
        return Recipe([replace(e, enabled=not e.enabled) if i == index else e for i, e in enumerate(self.entries)])

    @property
    def active(self) -> list[Step]:
        """The enabled steps, in order."""
        return [e.step for e in self.entries if e.enabled]

    # ------------------------------------------------------------ running

    def apply(self, df: pd.DataFrame, rows: bool = True, upto: int | None = None) -> pd.DataFrame:
        """Run the enabled steps (the first `upto` entries) on `df`; learned steps are fitted on `df` itself.

        This is the preview of the recipe. With rows=False, row steps are skipped (prediction).
        """
        for entry in self.entries[:upto]:
            if entry.enabled:
                df = _run_step(entry.step, df, rows)
        return df

    def training_rows(self, df: pd.DataFrame) -> pd.Index:
        """Index labels of the training rows that the row steps keep (column steps applied before them)."""
        return self.apply(df).index

    def inputs(self, columns: Any) -> list[str]:
        """The `columns` of a table (in its order) that the model sees through the recipe: a column a drop
        step removes is left out, unless a column step reads it first (a formula, a rename). Everything after
        Clean (the target list, leakage checks, the columns a new file needs, importance, the what-if form)
        works on these."""
        dropped: set[str] = set()
        read: set[str] = set()
        for step in self.active:
            if step.sort == ROW:
                continue
            (dropped if step.kind == "drop_columns" else read).update(step.columns_used())
        return [c for c in columns if c not in dropped or c in read]

    def modelling_table(self, df: pd.DataFrame) -> pd.DataFrame:
        """`df` with only the columns the recipe lets through (see inputs)."""
        return df[self.inputs(df.columns)]

    def to_sklearn(self) -> Pipeline:
        """The column and learned steps as one Pipeline from raw columns to the cleaned frame."""
        steps = [(f"{i}_{s.kind}", s.transformer()) for i, s in enumerate(self.active) if s.sort != ROW]
        return Pipeline(steps or [("identity", FunctionTransformer(feature_names_out="one-to-one"))])

    def check_columns(self, df: pd.DataFrame) -> None:
        """Raise UserError naming the first step that needs a column `df` (a new file) lacks."""
        for step in self.active:
            step.check(df)
            df = _run_step(step, df, rows=False)

    def validate_step(self, df: pd.DataFrame, step: Step) -> Preview:
        """Check a step on the recipe's output for `df`; return its preview or raise UserError."""
        return check_step(self.apply(df), step)

    # ------------------------------------------------------------ storage

    def to_json(self) -> str:
        """The recipe as JSON (what is saved, exported and replayed)."""
        return json.dumps({"version": 1, "steps": [{**e.step.to_dict(), "enabled": e.enabled}
                                                   for e in self.entries]}, ensure_ascii=False, indent=2)

    @classmethod
    def saved(cls, text: str | None) -> "Recipe":
        """A recipe kept as text (in the store, an experiment's record), or an empty one where none was kept."""
        return cls.from_json(text) if text else cls()

    @classmethod
    def from_json(cls, text: str) -> "Recipe":
        """Read a recipe saved by to_json(); raises UserError for anything else."""
        import workbench.steps  # noqa: F401  (registers the step kinds)

        try:
            data = json.loads(text)
            items = data["steps"]
            assert isinstance(items, list)
        except (ValueError, KeyError, TypeError, AssertionError):
            raise UserError("recipe.bad_json") from None
        entries = []
        for item in items:
            if not isinstance(item, dict):
                raise UserError("recipe.bad_json")
            item = dict(item)
            enabled = bool(item.pop("enabled", True))
            entries.append(Entry(step_from_dict(item), enabled))
        return cls(entries)

    def digest(self) -> str:
        """A short hash of the recipe, for caching results by recipe version."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]


def check_step(before: pd.DataFrame, step: Step) -> Preview:
    """Check a step on the data it will see; return its preview or raise UserError (nothing is applied)."""
    step.check(before)
    preview = preview_step(before, step)
    if preview.rows_after == 0:
        raise UserError("recipe.removes_all_rows", step=step.title())
    for column, (count, examples) in preview.failed.items():
        if count and count == int(before[column].notna().sum()):
            raise UserError("recipe.cast_failed_all", column=column, examples=", ".join(examples))
    return preview


def parse_mapping(text: str) -> dict[str, str]:
    """Read 'old = new' lines (also 'old → new' or 'old -> new') into a mapping; blank lines are skipped."""
    mapping: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        for sep in ("=", "→", "->"):
            if sep in line:
                old, new = line.split(sep, 1)
                mapping[old.strip()] = new.strip()
                break
        else:
            raise UserError("recipe.bad_mapping", line=number)
    return mapping


def _run_step(step: Step, df: pd.DataFrame, rows: bool) -> pd.DataFrame:
    if step.sort == ROW:
        return df[step.keep_rows(df)] if rows else df
    transformer = step.transformer()
    target = step.target()
    y = df[target] if target else None
    return transformer.fit(df, y).transform(df)


def preview_step(before: pd.DataFrame, step: Step) -> Preview:
    """Run one step on `before` and describe the difference."""
    after = _run_step(step, before, rows=True)
    added = [c for c in after.columns if c not in before.columns]
    removed = [c for c in before.columns if c not in after.columns]
    common = [c for c in before.columns if c in after.columns]
    kept = before.loc[after.index, common]
    changed_mask = pd.DataFrame({c: ~_same(kept[c], after[c]) for c in common}, index=after.index)
    changed_cols = [c for c in common if changed_mask[c].any()]
    changed_rows = changed_mask.any(axis=1) if common else pd.Series(False, index=after.index)
    indicator = [c for c in added if pd.api.types.is_integer_dtype(after[c]) and set(after[c].unique()) <= {0, 1}]
    flags = after[indicator].eq(1).any(axis=1) if added and indicator == added else None
    if step.sort == ROW:
        dropped = before.index.difference(after.index)
        sample_before, sample_after = before.loc[dropped[:SAMPLE_ROWS]], after.iloc[:0]
    else:
        rows = after.index[changed_rows.to_numpy()][:SAMPLE_ROWS] if changed_cols else after.index[:0]
        if flags is not None:
            rows = after.index[flags.to_numpy()][:SAMPLE_ROWS]
        elif added and not len(rows):
            rows = after.index[:SAMPLE_ROWS]
        shown = changed_cols + removed
        sample_before = before.loc[rows, shown]
        sample_after = after.loc[rows, changed_cols + added]
    failed = {}
    for c in changed_cols:
        lost = kept[c].notna() & after[c].isna()
        if lost.any():
            failed[c] = (int(lost.sum()), kept.loc[lost, c].astype(str).drop_duplicates().head(5).tolist())
    return Preview(len(before), len(after), added, removed, changed_cols, int(changed_mask.to_numpy().sum()),
                   sample_before, sample_after, failed, None if flags is None else int(flags.sum()))


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    both_missing = a.isna().to_numpy() & b.isna().to_numpy()
    try:
        equal = (a.astype(object).to_numpy() == b.astype(object).to_numpy())
    except (TypeError, ValueError):
        equal = a.astype(str).to_numpy() == b.astype(str).to_numpy()
    return pd.Series(equal | both_missing, index=a.index)
