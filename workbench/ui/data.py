"""Data page widgets: upload with read options, samples, workspace datasets, report and profile."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from workbench import charts
from workbench.i18n import escape_md, readable, t
from workbench.io import ReadReport, read_table, to_csv_bytes
from workbench.profile import DatasetProfile, profile_dataset
from workbench.samples import SAMPLES, add_sample
from workbench.store import Dataset, Store
from workbench.textfile import DELIMITERS, ENCODINGS
from workbench.ui.core import PageContext, say, say_note

AUTO = "auto"
_DELIMITER_KEYS = {",": "delimiter.comma", ";": "delimiter.semicolon", "\t": "delimiter.tab", "|": "delimiter.pipe"}
_HEADER_KEYS = {AUTO: "data.options.auto", "yes": "data.options.header_yes", "no": "data.options.header_no"}
_BAD_LINE_KEYS = {"skip": "data.options.bad_lines_skip", "error": "data.options.bad_lines_error"}
_ENCODING_SOURCE_KEYS = {"bom": "report.encoding_source.bom", "utf-8": "report.encoding_source.utf8",
                         "detector": "report.encoding_source.detector", "user": "report.encoding_source.user"}
KIND_KEYS = {
    "integer": "kind.integer", "float": "kind.float", "boolean": "kind.boolean", "datetime": "kind.datetime",
    "categorical": "kind.categorical", "text": "kind.text", "id": "kind.id", "empty": "kind.empty",
}


@st.cache_data(show_spinner=False, max_entries=2)
def _read_upload(data: bytes, filename: str, options: dict[str, Any]) -> tuple[pd.DataFrame, ReadReport]:
    return read_table(data, filename, **options)


@st.cache_data(show_spinner=False, max_entries=4)
def load_frame(home: str, dataset_id: str) -> pd.DataFrame:
    """A dataset's table, cached by dataset id."""
    return Store(home).load_frame(dataset_id)


@st.cache_data(show_spinner=False, max_entries=8)
def load_profile(home: str, dataset_id: str) -> DatasetProfile:
    """A dataset's profile, cached by dataset id."""
    store = Store(home)
    return profile_dataset(load_frame(home, dataset_id), store.get_dataset(dataset_id).report.column_kinds)


def _read_options() -> dict[str, Any]:
    with st.expander(t("data.options.title")):
        st.caption(t("data.options.help"))
        c1, c2, c3, c4 = st.columns(4)
        encoding = c1.selectbox(t("data.options.encoding"), [AUTO, *ENCODINGS], key="opt_encoding",
                                format_func=lambda v: t("data.options.auto") if v == AUTO else v)
        delimiter = c2.selectbox(t("data.options.delimiter"), [AUTO, *DELIMITERS], key="opt_delimiter",
                                 format_func=lambda v: t("data.options.auto") if v == AUTO else t(_DELIMITER_KEYS[v]))
        decimal = c3.selectbox(t("data.options.decimal"), [AUTO, ".", ","], key="opt_decimal",
                               format_func=lambda v: t("data.options.auto") if v == AUTO else v)
        header = c4.selectbox(t("data.options.header"), [AUTO, "yes", "no"], key="opt_header",
                              format_func=lambda v: t(_HEADER_KEYS[v]))
        bad_lines = st.radio(t("data.options.bad_lines"), ["skip", "error"], key="opt_bad_lines", horizontal=True,
                             format_func=lambda v: t(_BAD_LINE_KEYS[v]))
    options: dict[str, Any] = {"bad_lines": bad_lines}
    if encoding != AUTO:
        options["encoding"] = encoding
    if delimiter != AUTO:
        options["delimiter"] = delimiter
    if decimal != AUTO:
        options["decimal"] = decimal
    if header != AUTO:
        options["header"] = header == "yes"
    return options


def upload_panel(ctx: PageContext) -> None:
    """Upload a file, show what the reader made of it, and save it to the project."""
    # A new key after each save empties the uploader, so the same file is not saved twice.
    generation = st.session_state.setdefault("upload_generation", 0)
    upload = st.file_uploader(t("data.upload.label"), key=f"upload_{generation}", disabled=ctx.read_only,
                              type=["csv", "tsv", "txt", "xlsx", "parquet", "jsonl", "ndjson", "json"],
                              help=t("data.upload.help"))
    options = _read_options()
    if upload is None:
        return
    raw = upload.getvalue()
    with st.spinner(t("data.upload.reading")):
        frame, report = _read_upload(raw, upload.name, options)
    report_view(report)
    st.dataframe(frame.head(100), width="stretch", height=250)
    with st.form("save_upload", border=False):
        name = st.text_input(t("data.upload.name"), value=upload.name, max_chars=100)
        if st.form_submit_button(t("data.upload.save"), type="primary"):
            dataset = ctx.store.add_dataset(ctx.project.id, name, raw, upload.name, frame, report)
            st.session_state["upload_generation"] = generation + 1
            st.session_state["flash"] = say("data.saved", name=dataset.name, rows=dataset.rows)
            st.rerun()


def sample_panel(ctx: PageContext) -> None:
    """Add one of the built-in sample datasets to the project."""
    ids = [s.id for s in SAMPLES]
    descriptions = {s.id: f"{s.filename} — {t(s.description_key)}" for s in SAMPLES}
    choice = st.radio(t("data.samples.label"), ids, format_func=descriptions.get, key="sample_choice")
    if st.button(t("data.samples.add"), key="add_sample", disabled=ctx.read_only):
        dataset = add_sample(ctx.store, ctx.project.id, choice)
        st.session_state["flash"] = say("data.saved", name=dataset.name, rows=dataset.rows)
        st.rerun()


def workspace_panel(ctx: PageContext) -> None:
    """Pick the dataset the project works on, reuse one from another project, or delete one."""
    own = ctx.store.list_datasets(ctx.project.id)
    if own:
        active = ctx.project.active_dataset_id
        labels = {d.id: f"{escape_md(d.name)} ({d.rows:,} × {d.columns})" for d in own}  # radio options are Markdown
        ids = list(labels)
        chosen = st.radio(t("data.workspace.choose"), ids, format_func=labels.get, key="dataset_choice",
                          index=ids.index(active) if active in ids else 0)
        c1, c2 = st.columns(2)
        if chosen != active and c1.button(t("data.workspace.use"), key="use_dataset", disabled=ctx.read_only):
            ctx.store.set_active_dataset(ctx.project.id, chosen)
            st.rerun()
        confirm = c2.checkbox(t("data.workspace.delete_confirm", name=labels[chosen]), key="confirm_delete_ds")
        if c2.button(t("data.workspace.delete"), key="delete_dataset", disabled=not confirm or ctx.read_only):
            ctx.store.delete_dataset(chosen)
            st.rerun()
    else:
        st.caption(t("data.workspace.none"))
    others = [(p, d) for p in ctx.store.list_projects() if p.id != ctx.project.id
              for d in ctx.store.list_datasets(p.id)]
    if others:
        labels = {d.id: f"{p.name} / {d.name}" for p, d in others}
        chosen = st.selectbox(t("data.workspace.copy_label"), list(labels), format_func=labels.get, key="copy_choice")
        if st.button(t("data.workspace.copy"), key="copy_dataset", disabled=ctx.read_only):
            source = ctx.store.get_dataset(chosen)
            copy = ctx.store.add_dataset(ctx.project.id, source.name, ctx.store.raw_bytes(chosen), source.filename,
                                         ctx.store.load_frame(chosen), source.report)
            st.session_state["flash"] = say("data.saved", name=copy.name, rows=copy.rows)
            st.rerun()


def report_view(report: ReadReport) -> None:
    """What the reader did with the file: format, encoding, delimiter, skipped lines, renames, types."""
    facts = [say("report.format", format=report.format, rows=f"{report.rows:,}", columns=report.columns)]
    if report.encoding:
        source = _ENCODING_SOURCE_KEYS.get(report.encoding_source or "", "report.encoding_source.detector")
        facts.append(say("report.encoding", encoding=report.encoding, source=t(source)))
    if report.delimiter:
        delimiter = t(_DELIMITER_KEYS[report.delimiter]) if report.delimiter in _DELIMITER_KEYS else report.delimiter
        facts.append(say("report.delimiter", delimiter=delimiter,
                         decimal=report.decimal))
        facts.append(t("report.header_yes") if report.header else t("report.header_no"))
    if report.sheet:
        facts.append(say("report.sheet", sheet=report.sheet))
    if report.preamble_lines:
        facts.append(say("report.preamble", count=report.preamble_lines))
    st.markdown("\n".join(f"- {f}" for f in facts))
    if report.bad_lines:
        key = "report.bad_lines_skipped" if report.bad_lines_policy == "skip" else "report.bad_lines_found"
        st.warning(say(key, count=report.bad_lines, lines=", ".join(map(str, report.bad_line_numbers[:10]))),
                   icon=":material/warning:")
    if report.footer_line_numbers:
        st.warning(say("report.footer", lines=", ".join(map(str, report.footer_line_numbers))),
                   icon=":material/warning:")
    for note in report.warnings:
        if note.key != "import.warn.footer_dropped":
            st.warning(say_note(note), icon=":material/warning:")
    if report.renamed_columns:
        st.info(say("report.renamed", pairs=", ".join(f"'{a}' → '{b}'" for a, b in report.renamed_columns)))
    for note in report.conversions:
        st.caption(say_note(note))
    if report.column_kinds:
        kinds = pd.DataFrame({t("profile.col.column"): list(report.column_kinds),
                              t("profile.col.kind"): [t(KIND_KEYS[k]) for k in report.column_kinds.values()]})
        with st.expander(t("report.types")):
            st.dataframe(kinds, hide_index=True, width="stretch")


def dataset_view(ctx: PageContext, dataset: Dataset) -> None:
    """The active dataset: overview, warnings, per-column profile, a column chart, the data and its report."""
    home = str(ctx.store.home)
    profile = load_profile(home, dataset.id)
    frame = load_frame(home, dataset.id)
    st.subheader(say("data.active", name=dataset.name))
    m = st.columns(5)
    m[0].metric(t("profile.rows"), f"{profile.rows:,}")
    m[1].metric(t("profile.columns"), profile.columns)
    m[2].metric(t("profile.memory"), f"{profile.memory_bytes / 1024 / 1024:.1f} MB")
    m[3].metric(t("profile.missing"), f"{profile.missing_pct}%")
    m[4].metric(t("profile.duplicates"), f"{profile.duplicate_rows:,}")
    st.caption(" · ".join(f"{t(KIND_KEYS[k])}: {n}" for k, n in sorted(profile.kind_counts.items())))
    if profile.warnings:
        with st.container(border=True):
            st.markdown(f"**{t('profile.warnings')}**")
            st.markdown("\n".join(f"- {say_note(w)}" for w in profile.warnings))
    st.dataframe(_column_table(profile), hide_index=True, width="stretch")
    names = [c.name for c in profile.column_profiles]
    column = st.selectbox(t("profile.chart_column"), names, key="profile_column", index=charts.worth_plotting(frame))
    kind = next(c.kind for c in profile.column_profiles if c.name == column)
    st.plotly_chart(charts.column_distribution(frame[column], kind), width="stretch")
    with st.expander(t("data.preview")):
        st.dataframe(frame.head(500), width="stretch")
        st.download_button(t("data.download_csv"), to_csv_bytes(frame), file_name=f"{dataset.name}.csv",
                           mime="text/csv", key="download_csv")
    with st.expander(t("data.report")):
        report_view(dataset.report)


def _column_table(profile: DatasetProfile) -> pd.DataFrame:
    rows = []
    for c in profile.column_profiles:
        if c.stats and "mean" in c.stats:
            summary = t("profile.summary_numeric", min=_fmt(c.stats["min"]), median=_fmt(c.stats["median"]),
                        mean=_fmt(c.stats["mean"]), max=_fmt(c.stats["max"]), std=_fmt(c.stats["std"]))
        elif c.stats:
            summary = f"{c.stats['min']} → {c.stats['max']}"
        else:
            summary = ", ".join(f"{v} ({n})" for v, n in c.top[:5])
        rows.append({t("profile.col.column"): c.name, t("profile.col.kind"): t(KIND_KEYS[c.kind]),
                     t("profile.col.missing"): c.missing_pct, t("profile.col.unique"): c.unique,
                     t("profile.col.summary"): summary})
    return pd.DataFrame(rows)


def _fmt(value: float) -> str:
    return readable(value)


__all__ = ["dataset_view", "load_frame", "load_profile", "report_view", "sample_panel", "upload_panel",
           "workspace_panel"]
