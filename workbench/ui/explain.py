"""Explain page widgets: global SHAP views, one row's waterfall, partial dependence, what-if and fairness."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench import explain as ex
from workbench import explain_charts as charts
from workbench import jobs
from workbench.deploy.predict import Predictor, added_columns, prepare
from workbench.evaluation import METRIC_KEYS
from workbench.experiments import explanation_of, start, test_and_training_rows
from workbench.explain import Explanation
from workbench.i18n import t
from workbench.stats import is_number
from workbench.store import StoredExperiment
from workbench.tasks import BINARY, REGRESSION
from workbench.ui.core import PageContext, say, say_note
from workbench.ui.predict import form_inputs, pipeline

EXPLAINER_KEYS = {ex.TREE: "explain.explainer.tree", ex.LINEAR: "explain.explainer.linear",
                  ex.PERMUTATION: "explain.explainer.permutation"}
ROW_SOURCES = {"wrong": "explain.rows.wrong", "uncertain": "explain.rows.uncertain", "label": "explain.rows.label",
               "search": "explain.rows.search"}
FAIRNESS_KEYS = {"count": "explain.fair.count", "accuracy": "explain.fair.accuracy",
                 "selection_rate": "explain.fair.selection_rate", "tpr": "explain.fair.tpr", "fpr": "explain.fair.fpr",
                 "mae": "explain.fair.mae"}


def start_view(ctx: PageContext, experiment: StoredExperiment) -> None:
    """Before the first explanation: say which explainer and sample sizes will be used; start it as a job."""
    model = pipeline(ctx, experiment)
    kind = ex.explainer_kind(model[-1])
    st.info(t("explain.plan", explainer=t(EXPLAINER_KEYS[kind]), rows=ex.rows_to_explain(model),
                background=ex.BACKGROUND_ROWS), icon=":material/psychology:")
    running = any(j["kind"] == "explain" for j in jobs.active_jobs(ctx.store, ctx.project.id))
    if st.button(t("explain.start"), type="primary", key="explain", disabled=running or ctx.read_only,
                 icon=":material/play_arrow:"):
        start(ctx.store, ctx.project.id, "explain", experiment_id=experiment.id)
        st.rerun()


def about(explanation: Explanation) -> None:
    """Name the explainer, the unit and the sample sizes; state how features were summed back to columns."""
    st.caption(t("explain.about", explainer=t(EXPLAINER_KEYS[explanation.explainer]), rows=len(explanation.rows),
                   background=explanation.background, unit=t(charts.UNIT_KEYS[explanation.unit])))
    st.caption(t("explain.summed"))
    if explanation.approximate:
        st.caption(t("explain.approximate"))
    if explanation.derived:
        st.caption(say("explain.derived", columns=", ".join(explanation.derived)))


def reasons_view(explanation: Explanation, k: int, target: str) -> None:
    """The top reasons in plain words, for the class (or the target) looked at."""
    label = target if explanation.unit == ex.TARGET else str(explanation.outputs[k])
    lines = [f"- {say_note(note)}" for note in ex.reasons(explanation, k, target)]
    st.markdown(f"**{say('explain.reasons', label=label)}**\n\n" + "\n".join(lines))


def output_choice(explanation: Explanation) -> int:
    """For multiclass models, which class's output to look at."""
    if len(explanation.outputs) == 1:
        return 0
    return st.selectbox(t("explain.output_class"), range(len(explanation.outputs)),
                        format_func=lambda k: explanation.outputs[k], key="explain_class")


def global_views(explanation: Explanation, importance: pd.DataFrame, metric: str, k: int) -> None:
    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.shap_bar(explanation, k), width="stretch", key="shap_bar")
    c2.plotly_chart(charts.permutation_bars(importance, t(METRIC_KEYS[metric])), width="stretch",
                    key="permutation")
    st.plotly_chart(charts.beeswarm(explanation, k), width="stretch", key="beeswarm")


def dependence_view(explanation: Explanation, k: int) -> None:
    c1, c2 = st.columns(2)
    ranked = list(explanation.importance(k).index)
    column = c1.selectbox(t("explain.column"), ranked, key="dependence_column")
    colours = [c for c in explanation.rows.columns if c != column]
    colour = c2.selectbox(t("explain.colour_by"), [None, *colours], key="dependence_colour",
                          format_func=lambda c: t("explain.no_colour") if c is None else c)
    st.plotly_chart(charts.dependence(explanation, column, colour, k), width="stretch", key="dependence")


def pick_row(ctx: PageContext, experiment: StoredExperiment, test: pd.DataFrame) -> pd.DataFrame | None:
    """Choose one test row: from the lists, by row label, or by searching a column's values."""
    r = experiment.record
    task = r["settings"]["task"]
    sources = {k: v for k, v in ROW_SOURCES.items() if not (task == REGRESSION and k == "uncertain")}
    if task == REGRESSION:
        sources["wrong"] = "explain.rows.misses"
    source = st.radio(t("explain.rows"), list(sources), horizontal=True, format_func=lambda s: t(sources[s]),
                      key="row_source")
    labels = test.index.astype(str)
    if source in ("wrong", "uncertain"):
        evaluation = ctx.store.experiment_evaluation(experiment.id)
        listed = ex.rows_worth_a_look(evaluation, task, r["settings"]["threshold"], source)
        if listed.empty:
            st.info(t("explain.rows.none"))
            return None
        describe = {row["row"]: t("explain.rows.item", row=row["row"], actual=row["actual"],
                                  predicted=row["predicted"]) for _, row in listed.iterrows()}
        label = st.selectbox(t("explain.row"), list(describe), format_func=describe.get, key="row_listed")
    elif source == "label":
        label = st.selectbox(t("explain.row"), list(labels), key="row_label")
    else:
        c1, c2 = st.columns(2)
        column = c1.selectbox(t("explain.column"), list(test.columns), key="search_column")
        text = c2.text_input(t("explain.search"), key="search_text")
        found = labels[test[column].astype("str").str.contains(text, case=False, regex=False, na=False)] \
            if text else labels
        if len(found) == 0:
            st.info(t("explain.search_none"))
            return None
        label = st.selectbox(t("explain.row"), list(found[:500]), key="row_found")
    return test[labels == str(label)].head(1)


def local_view(model, row: pd.DataFrame, background: pd.DataFrame, task: str,
               classes: list, k: int, key: str, probability: bool = False) -> None:
    """The row's waterfall beside its raw values (always exact SHAP), in probability when asked."""
    local = ex.explain(model, row, background, task, classes, exact=True)
    if probability:
        local = ex.in_probability(local)
    c1, c2 = st.columns([3, 2])
    c1.plotly_chart(charts.waterfall(local, 0, min(k, len(local.outputs) - 1)), width="stretch", key=key)
    c2.dataframe(row.T.rename(columns=lambda _: t("explain.value")).astype(str), width="stretch")


def pdp_view(model, X: pd.DataFrame, task: str, classes: list, k: int) -> None:
    c1, c2 = st.columns(2)
    first = c1.selectbox(t("explain.column"), list(X.columns), key="pdp_column")
    second = c2.selectbox(t("explain.second_column"), [None, *[c for c in X.columns if c != first]],
                          key="pdp_second", format_func=lambda c: t("explain.none_second") if c is None else c)
    st.caption(t("explain.pdp_help"))
    columns = [first] if second is None else [first, second]
    with st.spinner(t("explain.computing")):
        data = ex.partial_dependence_data(model, X, columns, task, classes)
    st.plotly_chart(charts.partial_dependence(data, k), width="stretch", key="pdp")


def what_if_view(experiment: StoredExperiment, model, background: pd.DataFrame, k: int,
                 probability: bool = False) -> None:
    """Edit a row's values; the prediction and its waterfall follow."""
    r = experiment.record
    st.caption(t("explain.what_if_help"))
    row = pd.DataFrame([form_inputs(r["schema"], "explain_wi")])
    predicted, _ = Predictor.from_record(model, r).predict(row)
    st.metric(t("predict.prediction"), str(predicted[added_columns(predicted, row)[0]].iloc[0]))
    prepared, _ = prepare(row, r["schema"])
    local_view(model, prepared, background, r["settings"]["task"], r["classes"], k, "what_if_waterfall",
               probability)


def fairness_view(experiment: StoredExperiment, test: pd.DataFrame, evaluation: pd.DataFrame) -> None:
    r = experiment.record
    task = r["settings"]["task"]
    candidates = [c for c in test.columns if c != r["settings"]["target"]]
    default = next((i for i, c in enumerate(candidates) if c.lower() in ("sex", "gender", "性別")), 0)
    column = st.selectbox(t("explain.fair.column"), candidates, index=default, key="fair_column",
                          help=t("explain.fair.help"))
    groups = test[column]
    if is_number(groups) and groups.nunique() > 10:
        groups = pd.qcut(groups, 4, duplicates="drop").astype("str")
        st.caption(say("explain.fair.banded", column=column))
    if groups.nunique() > 30:
        st.warning(say("explain.fair.too_many", column=column, n=groups.nunique()), icon=":material/warning:")
        return
    aligned = evaluation.set_index("row").loc[test.index.astype(str)]
    positive = r["classes"][1] if task == BINARY else None
    by_group, gaps = ex.fairness(aligned["actual"], aligned["predicted"], groups.set_axis(aligned.index).rename(column),
                                 task, positive)
    table = by_group.rename(columns={k: t(v) for k, v in FAIRNESS_KEYS.items()})
    st.dataframe(table.round(3), width="stretch")
    worst = gaps.idxmax()
    limit = ex.LARGE_GAP if task != REGRESSION else 0.2 * float(aligned["actual"].astype(float).sub(
        aligned["predicted"].astype(float)).abs().mean())
    label = t(FAIRNESS_KEYS[worst])
    st.plotly_chart(charts.fairness_bars(by_group, worst, label), width="stretch", key="fairness")
    if gaps[worst] > limit:
        st.warning(say("explain.fair.large_gap", metric=label, gap=f"{gaps[worst]:.3g}", column=column),
                   icon=":material/balance:")
    else:
        st.success(say("explain.fair.small_gap", metric=label, gap=f"{gaps[worst]:.3g}", column=column),
                   icon=":material/balance:")


def explain_page(ctx: PageContext, experiment: StoredExperiment) -> None:
    """Everything on the Explain page below the experiment picker."""
    if experiment.record.get("text_column"):  # one text column: words explain it, not column attributions
        st.info(t("explain.text_model"))
        st.page_link("pages/text.py", label=t("page.text.title"), icon=":material/article:")
        return
    stored = explanation_of(ctx.store, experiment.id)
    if stored is None:
        start_view(ctx, experiment)
        return
    explanation, importance = stored
    r = experiment.record
    task, classes = r["settings"]["task"], r["classes"]
    probability = explanation.unit == ex.LOG_ODDS and len(explanation.outputs) == 1 and st.toggle(
        t("explain.in_probability"), value=True, key="explain_probability", help=t("explain.in_probability_help"))
    if probability:
        explanation = ex.in_probability(explanation)
    about(explanation)
    k = output_choice(explanation)
    reasons_view(explanation, k, r["settings"]["target"])
    model = pipeline(ctx, experiment)
    test, train = test_and_training_rows(ctx.store, experiment)
    features = r["features"]
    background = train[features].sample(min(len(train), ex.BACKGROUND_ROWS), random_state=0)
    tabs = st.tabs([t("explain.tab.global"), t("explain.tab.dependence"), t("explain.tab.row"),
                    t("explain.tab.pdp"), t("explain.tab.what_if"), t("explain.tab.fairness")])
    with tabs[0]:
        global_views(explanation, importance, r["primary"], k)
    with tabs[1]:
        dependence_view(explanation, k)
    with tabs[2]:
        row = pick_row(ctx, experiment, test[features])
        if row is not None:
            local_view(model, row, background, task, classes, k, "row_waterfall", probability)
    with tabs[3]:
        pdp_view(model, test[features], task, classes, k)
    with tabs[4]:
        what_if_view(experiment, model, background, k, probability)
    with tabs[5]:
        fairness_view(experiment, test, ctx.store.experiment_evaluation(experiment.id))
