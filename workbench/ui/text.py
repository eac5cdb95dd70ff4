"""Text page widgets: choose the text and label columns and a model, train, then read the words that point
to each class and try a sentence."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from workbench import charts
from workbench.deep import text as tx
from workbench.evaluation import METRIC_KEYS
from workbench.experiments import start
from workbench.i18n import t
from workbench.models import CATALOGUE
from workbench.store import Dataset, StoredExperiment
from workbench.tasks import BINARY, MULTICLASS
from workbench.training import Settings
from workbench.ui.core import PageContext, say
from workbench.ui.model import another_job_running, device_caption, hyperparameter, target_check
from workbench.ui.predict import pipeline

FAMILIES = ("text_linear", "text_network")
ANALYZER_KEYS = {tx.WORDS: "text.analyzer.word", tx.CHARACTERS: "text.analyzer.char"}


def form(ctx: PageContext, dataset: Dataset, raw: pd.DataFrame) -> None:
    """Text column, label, model family and its settings; start training as a job."""
    texts = tx.text_columns(raw)
    if not texts:
        st.info(t("text.no_text_columns"))
        return
    left, right = st.columns(2)
    column = left.selectbox(t("text.column"), texts, key="text_column", help=t("text.column_help"))
    labels = tx.label_columns(raw, column)
    if not labels:
        st.info(t("text.no_labels"))
        return
    target = right.selectbox(t("text.label"), labels, key="text_label", help=t("text.label_help"))
    task = BINARY if raw[target].nunique() == 2 else MULTICLASS
    ok = target_check(raw, target, task, 5)
    family = st.radio(t("text.family"), FAMILIES, format_func=lambda m: t(f"model.{m}"), horizontal=True,
                      key="text_family", help=t("text.family_help"))
    params: dict[str, Any] = {"column": column}
    with st.expander(t("model.hyperparameters")):
        if family == "text_linear":
            proposed = tx.default_analyzer(raw[column])
            params["analyzer"] = st.selectbox(t("text.analyzer"), list(ANALYZER_KEYS),
                                              index=list(ANALYZER_KEYS).index(proposed), key=f"analyzer_{column}",
                                              format_func=lambda a: t(ANALYZER_KEYS[a]), help=t("text.analyzer_help"))
        for p in CATALOGUE[family].params:
            if p.type != "column" and p.name != "analyzer":
                params[p.name] = hyperparameter(family, p)
    if family == "text_network":
        device_caption()
    busy = another_job_running(ctx, ("text",))
    if st.button(t("text.train"), type="primary", disabled=not ok or busy or ctx.read_only, key="text_train",
                 icon=":material/play_arrow:"):
        start(ctx.store, ctx.project.id, "text", dataset_id=dataset.id,
              settings=Settings(target, task, family, params))
        st.rerun()


def text_experiments(ctx: PageContext) -> list[StoredExperiment]:
    """The project's text classifiers, newest first."""
    return [e for e in ctx.store.list_experiments(ctx.project.id) if e.record.get("text_column")]


def results(ctx: PageContext) -> None:
    """One text classifier: its scores, the words that point to each class, and a box to try a sentence."""
    found = text_experiments(ctx)
    if not found:
        return
    st.subheader(t("text.results"))
    labels = {e.id: f"{t('model.' + e.record['settings']['model_id'])} · {e.record['text_column']} → "
                    f"{e.record['settings']['target']} · {e.created_at[:16].replace('T', ' ')}" for e in found}
    chosen = st.selectbox(t("results.experiment"), list(labels), format_func=labels.get, key="text_experiment")
    experiment = next(e for e in found if e.id == chosen)
    record = experiment.record
    c = st.columns(3)
    c[0].metric(t(METRIC_KEYS[record["primary"]]), f"{record['metrics'][record['primary']]:.4f}")
    c[1].metric(t("metric.accuracy"), f"{record['metrics']['accuracy']:.4f}")
    c[2].metric(t("results.baseline"), f"{record['baseline'][record['primary']]:.4f}")
    st.page_link("pages/results.py", label=t("text.all_results"), icon=":material/leaderboard:")
    fitted = pipeline(ctx, experiment)
    st.markdown(f"**{t('text.terms')}**")
    st.caption(t("text.terms_help_linear" if record["settings"]["model_id"] == "text_linear"
                 else "text.terms_help_network"))
    terms = _terms(ctx, experiment.id, fitted)
    for column, (cls, rows) in zip(st.columns(len(terms)), terms.items()):
        column.markdown(say("text.terms_for", label=cls))
        column.dataframe(pd.DataFrame(rows, columns=[t("text.term"), t("text.weight")]).round(3), hide_index=True,
                         width="stretch")
    sentence = st.text_area(t("text.try"), key=f"try_{experiment.id}", placeholder=t("text.try_placeholder"))
    if sentence.strip():
        row = fitted.predict_proba(pd.DataFrame({record["text_column"]: [sentence]}))[0]
        proba = {str(c): float(p) for c, p in zip(record["classes"], row)}
        best = max(proba, key=proba.get)
        st.success(say("text.prediction", label=best, probability=f"{proba[best]:.1%}"), icon=":material/label:")
        st.plotly_chart(charts.class_probabilities(proba), width="stretch", key="text_proba")


def _terms(ctx: PageContext, experiment_id: str, fitted: Any) -> dict[str, list[tuple[str, float]]]:
    key = f"_terms_{experiment_id}"
    if key not in st.session_state:
        st.session_state[key] = tx.indicative_terms(fitted)
    return st.session_state[key]
