"""Predict page widgets: predictions for an uploaded file, and a one-row what-if form."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from workbench.deploy.export import Bundle, read_bundle
from workbench.deploy.predict import InputReport, Predictor, added_columns
from workbench.experiments import pipeline_of
from workbench.i18n import escape_md, t
from workbench.io import read_table, to_csv_bytes, to_excel_bytes
from workbench.store import StoredExperiment
from workbench.ui.core import PageContext, say, say_note


@st.cache_resource(show_spinner=False, max_entries=4)
def _pipeline(home: str, experiment_id: str) -> Any:
    from workbench.store import Store

    return pipeline_of(Store(home), experiment_id)


def pipeline(ctx: PageContext, experiment: StoredExperiment) -> Any:
    """The experiment's fitted pipeline, loaded once per server."""
    return _pipeline(str(ctx.store.home), experiment.id)


@st.cache_resource(show_spinner=False, max_entries=4)
def _version_pipeline(home: str, project_id: str, number: int) -> Any:
    from workbench.deploy.modelfile import load_pipeline
    from workbench.deploy.versions import version_model
    from workbench.store import Store

    store = Store(home)
    return load_pipeline(version_model(store, store.get_version(project_id, number)))


def production_predictor(ctx: PageContext) -> tuple[Predictor, Any] | None:
    """What predicts for the project's production version (and the version), or None without one."""
    from workbench.deploy.versions import aliased

    version = aliased(ctx.store, ctx.project.id)
    if version is None:
        return None
    return Predictor.from_record(_version_pipeline(str(ctx.store.home), ctx.project.id, version.number),
                                 version.record), version


def predictor(ctx: PageContext, experiment: StoredExperiment) -> Predictor:
    """What predicts for a stored experiment."""
    return Predictor.from_record(pipeline(ctx, experiment), experiment.record)


def bundle_panel() -> Bundle | None:
    """Upload a bundle downloaded from an Export page (this or another workspace); show its model card."""
    upload = st.file_uploader(t("predict.bundle_upload"), type=["zip"], key="bundle_upload",
                              help=t("predict.bundle_help"))
    if upload is None:
        return None
    bundle = read_bundle(upload.getvalue())
    st.success(say("predict.bundle_loaded", model=t(f"model.{bundle.meta.get('model')}"),
                   target=str(bundle.meta.get("target", ""))), icon=":material/inventory_2:")
    if bundle.card:
        with st.expander(t("predict.model_card")):
            st.markdown(bundle.card)
    return bundle


def report_view(report: InputReport) -> None:
    """Say what differed from the training data; none of it stops the prediction."""
    for warning, note in report.notes():
        if warning:
            st.warning(say_note(note), icon=":material/warning:")
        else:
            st.info(say_note(note))


def file_panel(model: Predictor) -> None:
    """Upload rows, see the input report and the predictions, download them as CSV or Excel."""
    upload = st.file_uploader(t("predict.upload"), type=["csv", "tsv", "txt", "xlsx", "parquet", "jsonl", "json"],
                              key="predict_upload")
    if upload is None:
        return
    frame, _ = read_table(upload.getvalue(), upload.name)
    predicted, report = model.predict(frame)
    report_view(report)
    st.dataframe(predicted.head(500), width="stretch")
    stem = upload.name.rsplit(".", 1)[0]
    c1, c2 = st.columns(2)
    c1.download_button(t("predict.download_csv"), to_csv_bytes(predicted), file_name=f"{stem}-predictions.csv",
                       mime="text/csv", key="download_predictions_csv", icon=":material/download:")
    c2.download_button(t("predict.download_excel"), to_excel_bytes(predicted), file_name=f"{stem}-predictions.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key="download_predictions_xlsx", icon=":material/download:")


def _input(name: str, info: dict[str, Any], key: str) -> Any:
    label = escape_md(name)  # a column name is the user's text: shown as written, never as Markdown
    if info["kind"] == "number":
        if info.get("integer"):
            return st.number_input(label, value=int(round(info["default"])), step=1, key=key)
        return st.number_input(label, value=float(info["default"]), key=key, format="%g")
    if info["kind"] == "boolean":
        return st.checkbox(label, value=bool(info["default"]), key=key)
    if info["kind"] == "datetime":
        default = dt.date.fromisoformat(info["default"]) if info["default"] else dt.date.today()
        return pd.Timestamp(st.date_input(label, value=default, key=key))
    return st.selectbox(label, info["levels"] or [""], key=key)


def form_inputs(schema: dict[str, dict[str, Any]], prefix: str) -> dict[str, Any]:
    """One input per training column, in three columns, starting from typical training values."""
    columns = st.columns(3)
    values = {}
    for i, (name, info) in enumerate(schema.items()):
        with columns[i % 3]:
            values[name] = _input(name, info, f"{prefix}_{name}")
    return values


def what_if(model: Predictor) -> None:
    """One input per column, starting from typical training values; the prediction follows every change."""
    st.caption(t("predict.what_if_help"))
    inputs, result = st.columns([2, 1])
    with inputs:
        values = form_inputs(model.schema, "whatif")
    row = pd.DataFrame([values])
    predicted, _ = model.predict(row)
    answer, probability_columns = added_columns(predicted, row)
    with result:
        st.metric(t("predict.prediction"), str(predicted[answer].iloc[0]))
        if probability_columns:
            st.dataframe(predicted[probability_columns].T.rename(columns={0: t("predict.probability")}).round(3),
                         width="stretch")
