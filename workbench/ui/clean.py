"""Clean page widgets: the step form with its live preview, and the editable recipe list."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

import workbench.steps  # noqa: F401  (registers the step kinds)
from workbench.errors import UserError
from workbench.i18n import escape_md, t
from workbench.io import to_csv_bytes
from workbench.recipe import LEARNED, ROW, STEP_TYPES, Param, Preview, Recipe, check_step, parse_mapping
from workbench.store import Dataset
from workbench.ui.core import PageContext, say, soft_guard
from workbench.ui.data import load_frame

PREVIEW_ROWS = 100_000
SORT_KEYS = {ROW: "clean.sort.row", "column": "clean.sort.column", LEARNED: "clean.sort.learned"}
UNFILLED = {"recipe.no_columns", "recipe.empty_mapping", "recipe.needs_target"}  # errors of an empty form
SORT_HELP_KEYS = {ROW: "clean.sort.row_help", "column": "clean.sort.column_help", LEARNED: "clean.sort.learned_help"}


def current_recipe(ctx: PageContext) -> Recipe:
    """The project's saved recipe (empty before the first step)."""
    _, text = ctx.store.load_recipe(ctx.project.id)
    return Recipe.saved(text)


def modelling_frame(ctx: PageContext, dataset: Dataset) -> pd.DataFrame:
    """The dataset's columns as the model sees them through the project's recipe (dropped ones left out):
    what the Model, AutoML and Text pages offer as target and check for leakage."""
    return current_recipe(ctx).modelling_table(load_frame(str(ctx.store.home), dataset.id))


@st.cache_data(show_spinner=False, max_entries=4)
def cleaned_frame(home: str, dataset_id: str, recipe_json: str) -> pd.DataFrame:
    """The dataset after the recipe, cached by dataset id and recipe."""
    return Recipe.from_json(recipe_json).apply(load_frame(home, dataset_id))


def _kinds(col: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(col):
        return "datetime"
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return "numeric"
    return "text"


def _widget(param: Param, kind: str, frame: pd.DataFrame) -> Any:
    key = f"param_{kind}_{param.name}"
    label = t(param.label_key)
    columns = [c for c in frame.columns if not param.kinds or _kinds(frame[c]) in param.kinds]
    if param.kinds and param.kinds != ("text",) and not columns:
        columns = list(frame.columns)  # e.g. dates still stored as text: offer every column
    if param.type == "column":
        options = ([""] if param.optional else []) + columns
        return st.selectbox(label, options, key=key, format_func=lambda c: c or t("clean.none")) or ""
    if param.type == "columns":
        return st.multiselect(label, columns, key=key, placeholder=t("widget.choose"),
                              help=t("clean.all_if_empty") if kind == "drop_duplicates" else None)
    if param.type in ("choice", "multichoice"):
        name = lambda c: t(f"choice.{c}")  # noqa: E731
        if param.type == "multichoice":
            return st.multiselect(label, list(param.choices), default=param.default, format_func=name, key=key,
                                  placeholder=t("widget.choose"))
        return st.selectbox(label, list(param.choices), index=list(param.choices).index(param.default),
                            format_func=name, key=key)
    if param.type == "number":
        return st.number_input(label, min_value=param.minimum, max_value=param.maximum, value=float(param.default),
                               key=key)
    if param.type == "integer":
        return int(st.number_input(label, min_value=int(param.minimum), max_value=int(param.maximum),
                                   value=int(param.default), step=1, key=key))
    if param.type == "bool":
        return st.checkbox(label, value=bool(param.default), key=key)
    if param.type == "mapping":
        return parse_mapping(st.text_area(label, key=key, help=t("clean.mapping_help"),
                                          placeholder=t("clean.mapping_placeholder")))
    return st.text_input(label, value=param.default or "", key=key)


def _step_label(kind: str) -> str:
    cls = STEP_TYPES[kind]
    return f"{t(SORT_KEYS[cls.sort])} · {t(f'step.{kind}.name')}"


def step_form(ctx: PageContext, raw: pd.DataFrame, recipe: Recipe, current: pd.DataFrame) -> None:
    """Choose a step, fill its form, see its preview, and add it to the recipe."""
    kinds = sorted(STEP_TYPES, key=lambda k: (list(SORT_KEYS).index(STEP_TYPES[k].sort), _step_label(k)))
    kind = st.selectbox(t("clean.step_kind"), kinds, format_func=_step_label, key="step_kind")
    cls = STEP_TYPES[kind]
    st.caption(t(f"step.{kind}.help"))
    st.caption(t(SORT_HELP_KEYS[cls.sort]))
    with soft_guard():
        step = cls(**{p.name: _widget(p, kind, current) for p in cls.PARAMS})
        sample = current.sample(PREVIEW_ROWS, random_state=0) if len(current) > PREVIEW_ROWS else current
        if len(sample) < len(current):
            st.caption(t("clean.preview.sampled", n=f"{PREVIEW_ROWS:,}"))
        try:
            preview = check_step(sample, step)
        except UserError as exc:
            if exc.key not in UNFILLED:
                raise
            st.info(say(exc.key, **exc.params), icon=":material/edit:")  # a form not yet filled in: no alarm
            return
        preview_view(preview)
        if st.button(t("clean.add"), type="primary", key="add_step", disabled=ctx.read_only):
            if len(sample) < len(current):
                check_step(current, step)  # the whole table decides, not the sample
            save(ctx, recipe.add(step), raw)
            st.session_state["flash"] = say("clean.added", step=step.title())
            st.rerun()


def preview_view(preview: Preview) -> None:
    """Rows and columns affected, a before/after summary and a sample of changed rows."""
    c = st.columns(4)
    c[0].metric(t("clean.preview.rows"), f"{preview.rows_after:,}", delta=preview.rows_after - preview.rows_before)
    c[1].metric(t("clean.preview.added"), len(preview.columns_added))
    c[2].metric(t("clean.preview.removed"), len(preview.columns_removed))
    c[3].metric(t("clean.preview.cells"), f"{preview.changed_cells:,}")
    if preview.columns_changed or preview.columns_added or preview.columns_removed:
        st.caption(say("clean.preview.columns", changed=", ".join(preview.columns_changed) or "-",
                       added=", ".join(preview.columns_added) or "-",
                       removed=", ".join(preview.columns_removed) or "-"))
    if preview.flagged is not None:
        st.caption(t("clean.preview.flagged", count=f"{preview.flagged:,}"))
    for column, (count, examples) in preview.failed.items():
        st.warning(say("clean.preview.failed", column=column, count=count, examples=", ".join(examples)),
                   icon=":material/warning:")
    if preview.rows_after < preview.rows_before and preview.sample_after.empty:
        st.caption(t("clean.preview.removed_rows"))
        st.dataframe(preview.sample_before, width="stretch")
    elif len(preview.sample_before.columns) or len(preview.sample_after.columns):
        left, right = st.columns(2)
        left.caption(t("clean.preview.before"))
        left.dataframe(preview.sample_before, width="stretch")
        right.caption(t("clean.preview.after"))
        right.dataframe(preview.sample_after, width="stretch")


def save(ctx: PageContext, recipe: Recipe, raw: pd.DataFrame) -> None:
    """Save an edited recipe after checking it still runs on the dataset (raises UserError if not)."""
    recipe.check_columns(raw)
    ctx.store.save_recipe(ctx.project.id, recipe.to_json())


def recipe_list(ctx: PageContext, raw: pd.DataFrame, recipe: Recipe) -> None:
    """The ordered steps with switch, move and remove; undo; export and import as JSON."""
    if not recipe.entries:
        st.info(t("clean.empty"))
    for i, entry in enumerate(recipe.entries):
        with st.container(border=True):
            text = f"{i + 1}\\. {escape_md(entry.step.summary())}"
            st.markdown(text if entry.enabled else f"~~{text}~~")
            st.caption(t(SORT_KEYS[entry.step.sort]))
            b = st.columns(4)
            last = len(recipe.entries) - 1
            edits = [  # (column, icon, tooltip key, widget key, disabled, edit)
                (b[0], ":material/toggle_on:" if entry.enabled else ":material/toggle_off:",
                 "clean.disable" if entry.enabled else "clean.enable", f"toggle_{i}", False,
                 lambda i=i: recipe.toggle(i)),
                (b[1], ":material/arrow_upward:", "clean.up", f"up_{i}", i == 0, lambda i=i: recipe.move(i, i - 1)),
                (b[2], ":material/arrow_downward:", "clean.down", f"down_{i}", i == last,
                 lambda i=i: recipe.move(i, i + 1)),
                (b[3], ":material/delete:", "clean.remove", f"remove_{i}", False, lambda i=i: recipe.remove(i)),
            ]
            for column, icon, tip, key, disabled, edit in edits:
                if column.button(icon, key=key, help=t(tip), disabled=disabled or ctx.read_only, width="stretch"):
                    save(ctx, edit(), raw)
                    st.rerun()
    version, _ = ctx.store.load_recipe(ctx.project.id)
    # one above the other, the column's full width: side by side, "Export recipe (JSON)" was cut off
    if st.button(t("clean.undo"), key="undo", disabled=version == 0 or ctx.read_only, icon=":material/undo:",
                 width="stretch"):
        ctx.store.undo_recipe(ctx.project.id)
        st.session_state["flash"] = t("clean.undone")
        st.rerun()
    st.download_button(t("clean.export"), recipe.to_json().encode("utf-8"), file_name="recipe.json",
                       mime="application/json", key="export_recipe", icon=":material/download:", width="stretch")
    upload = st.file_uploader(t("clean.import"), type=["json"], key=f"import_recipe_{version}",
                              disabled=ctx.read_only)
    if upload is not None:
        imported = Recipe.from_json(upload.getvalue().decode("utf-8", errors="replace"))
        save(ctx, imported, raw)
        st.session_state["flash"] = say("clean.imported", count=len(imported.entries))
        st.rerun()


def cleaned_view(ctx: PageContext, dataset: Dataset, recipe: Recipe) -> None:
    """The cleaned table, its size and a CSV download."""
    frame = cleaned_frame(str(ctx.store.home), dataset.id, recipe.to_json())
    st.subheader(say("clean.result", rows=f"{len(frame):,}", columns=frame.shape[1]))
    st.dataframe(frame.head(200), width="stretch", height=300)
    st.download_button(t("data.download_csv"), to_csv_bytes(frame), file_name=f"{dataset.name}-cleaned.csv",
                       mime="text/csv", key="download_cleaned")


__all__ = ["cleaned_frame", "cleaned_view", "current_recipe", "recipe_list", "step_form"]
