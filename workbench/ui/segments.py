"""Segments page widgets: clusters (with help to choose k, eps or the linkage), anomalies and principal
components. The slower work runs as jobs; their newest results are read back from the store."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from workbench import analyses, analysis_charts
from workbench import clustering as cl
from workbench.deploy.export import about_dataset, build_cluster_bundle
from workbench.deploy.modelcard import describe_difference
from workbench.experiments import start
from workbench.i18n import readable, t
from workbench.io import to_csv_bytes
from workbench.recipe import Recipe
from workbench.reduction import pca
from workbench.stats import is_number
from workbench.store import Dataset
from workbench.ui.clean import current_recipe
from workbench.ui.core import PageContext, say
from workbench.ui.model import another_job_running, jobs_panel

KINDS = ("choose_k", "cluster", "anomaly")


def _numbers(raw: pd.DataFrame) -> list[str]:
    return [c for c in raw.columns if is_number(raw[c])]


def _columns(raw: pd.DataFrame, key: str) -> list[str]:
    """The columns to use; numbers by default."""
    return st.multiselect(t("cluster.columns"), list(raw.columns), default=_numbers(raw)[:12], key=key,
                          placeholder=t("widget.choose"), help=t("cluster.columns_help"))


# ---------------------------------------------------------------- clusters


def clusters(ctx: PageContext, dataset: Dataset, raw: pd.DataFrame) -> None:
    jobs_panel(ctx, KINDS, results_link=False)
    columns = _columns(raw, "cl_columns")
    busy = another_job_running(ctx, ("choose_k", "cluster", "anomaly"))
    c1, c2 = st.columns([1, 2])
    algorithm = c1.radio(t("cluster.algorithm"), cl.ALGORITHMS, format_func=lambda a: t(cl.ALGORITHM_KEYS[a]),
                         key="cl_algorithm")
    seed = int(c1.number_input(t("model.seed"), 0, 2**31 - 1, 42, key="cl_seed"))
    recipe = current_recipe(ctx)
    k, eps, min_samples, linkage = 3, 0.5, 5, "ward"
    with c2:
        if algorithm in ("kmeans", "gmm", "agglomerative"):
            found = analyses.latest(ctx.store, ctx.project.id, "choose_k", dataset.id)
            if found and found["columns"] == columns:
                curve = pd.DataFrame(found["curve"])
                st.plotly_chart(analysis_charts.choose_k(curve, found["best_k"]), width="stretch", key="cl_k_chart")
                k = found["best_k"]
            elif st.button(t("cluster.choose_k"), key="cl_choose_k", disabled=busy or not columns or ctx.read_only,
                           icon=":material/query_stats:", help=t("cluster.choose_k_help")):
                start(ctx.store, ctx.project.id, "choose_k", dataset_id=dataset.id, columns=columns, seed=seed)
                st.rerun()
            k = st.slider(t("cluster.k"), 2, 20, k, key=f"cl_k_{k}")
        if algorithm == "agglomerative":
            linkage = st.selectbox(t("cluster.linkage"), cl.LINKAGES, key="cl_linkage",
                                   format_func=lambda v: t(cl.LINKAGE_KEYS[v]))
            if st.toggle(t("cluster.show_dendrogram"), key="cl_dendrogram") and columns:
                st.plotly_chart(analysis_charts.dendrogram(cl.dendrogram_data(raw, recipe, columns, linkage, seed)),
                                width="stretch", key="cl_dendrogram_chart")
        if algorithm == "dbscan":
            min_samples = int(st.number_input(t("cluster.min_samples"), 2, 100, 5, key="cl_min_samples",
                                              help=t("cluster.min_samples_help")))
            curve, suggested = _k_distance(str(ctx.store.home), dataset.id, recipe.to_json(), tuple(columns),
                                           min_samples)
            st.plotly_chart(analysis_charts.k_distance(curve, suggested, min_samples), width="stretch",
                            key="cl_kdist_chart")
            eps = float(st.number_input(t("cluster.eps"), 0.001, 1000.0, round(suggested, 3), format="%.3f",
                                        key=f"cl_eps_{min_samples}", help=t("cluster.eps_help")))
    settings = cl.ClusterSettings(algorithm, int(k), eps, min_samples, linkage, columns, seed)
    if algorithm == "agglomerative" and len(raw) > cl.MAX_AGGLOMERATIVE:
        st.warning(say("cluster.too_many_rows", rows=f"{len(raw):,}", limit=f"{cl.MAX_AGGLOMERATIVE:,}"),
                   icon=":material/warning:")
    elif st.button(t("cluster.run"), type="primary", key="cl_run", disabled=busy or not columns or ctx.read_only,
                   icon=":material/bubble_chart:"):
        start(ctx.store, ctx.project.id, "cluster", dataset_id=dataset.id, settings=settings.to_dict())
        st.rerun()
    result = analyses.latest(ctx.store, ctx.project.id, "cluster", dataset.id)
    if result:
        cluster_result(ctx, dataset, raw, result)


@st.cache_data(show_spinner=False, max_entries=8)
def _k_distance(home: str, dataset_id: str, recipe_json: str, columns: tuple[str, ...],
                       min_samples: int) -> tuple[np.ndarray, float]:
    from workbench.ui.data import load_frame

    return cl.k_distance(load_frame(home, dataset_id), Recipe.from_json(recipe_json), list(columns), min_samples)


def cluster_result(ctx: PageContext, dataset: Dataset, raw: pd.DataFrame, result: dict) -> None:
    """Scores, sizes, the map, the clusters in words, and what to take away."""
    s, scores = result["settings"], result["scores"]
    st.subheader(t("cluster.result", algorithm=t(cl.ALGORITHM_KEYS[s["algorithm"]]),
                     clusters=scores["clusters"]))
    c = st.columns(5)
    c[0].metric(t("cluster.clusters"), scores["clusters"])
    c[1].metric(t("cluster.noise"), scores["noise"])
    for col, name in zip(c[2:], ("silhouette", "calinski_harabasz", "davies_bouldin")):
        label, helps = cl.SCORE_KEYS[name]
        col.metric(t(label), "—" if scores[name] is None else f"{scores[name]:.3f}", help=t(helps))
    left, right = st.columns([1, 2])
    left.plotly_chart(analysis_charts.cluster_sizes(result["sizes"]), width="stretch", key="cl_sizes")
    with right:
        method = st.radio(t("cluster.map"), ["PCA", "t-SNE"], horizontal=True, key="cl_map")
        points = pd.DataFrame(result["maps"]["tsne" if method == "t-SNE" else "pca"])
        st.plotly_chart(analysis_charts.cluster_map(points, method), width="stretch", key="cl_map_chart")
    st.markdown(f"**{t('cluster.profiles')}**")
    st.caption(t("cluster.profiles_help"))
    for profile in result["profiles"]:
        name = analysis_charts.cluster_name(profile["cluster"])
        words = "; ".join(describe_difference(d) for d in profile["differences"]) or t("cluster.no_difference")
        st.markdown(f"- **{name}** ({profile['rows']:,} · {profile['share']:.0%}): {words}")
    if len(result["labels"]) != len(raw):
        st.info(t("cluster.stale"))
        return
    c1, c2, c3 = st.columns(3)
    if c1.button(t("cluster.add_dataset"), key="cl_add", icon=":material/add_column_right:", disabled=ctx.read_only,
                 help=t("cluster.add_dataset_help")):
        added = analyses.add_cluster_dataset(ctx.store, ctx.project.id, dataset, result["labels"])
        st.session_state.flash = say("cluster.added", name=added.name)
        st.rerun()
    c2.download_button(t("cluster.download_csv"), lambda: to_csv_bytes(analyses.with_clusters(raw, result["labels"])),
                       file_name=f"{dataset.name}-clusters.csv", mime="text/csv", key="cl_download_csv",
                       icon=":material/download:", on_click="ignore")  # the CSV is made on click, not each run
    if result["assigns_new_rows"]:
        c3.download_button(t("cluster.download_bundle"), lambda: _cluster_bundle(ctx, dataset, raw, result),
                           file_name=f"{dataset.name}-clusters-bundle.zip", mime="application/zip",
                           key="cl_download_bundle", icon=":material/ios_share:", on_click="ignore")
    else:
        c3.caption(t("cluster.no_bundle", algorithm=t(cl.ALGORITHM_KEYS[s["algorithm"]])))


def _cluster_bundle(ctx: PageContext, dataset: Dataset, raw: pd.DataFrame, result: dict) -> bytes:
    recipe = current_recipe(ctx)
    fitted = cl.fit_clusters(raw, recipe, cl.ClusterSettings(**result["settings"]))
    return build_cluster_bundle(fitted.pipeline, result, raw, recipe.to_json(),
                                about_dataset(dataset.name, dataset.filename, raw), ctx.lang)


# ---------------------------------------------------------------- anomalies


def anomalies(ctx: PageContext, dataset: Dataset, raw: pd.DataFrame) -> None:
    columns = _columns(raw, "an_columns")
    c1, c2 = st.columns(2)
    detector = c1.radio(t("anomaly.detector"), cl.DETECTORS, format_func=lambda d: t(cl.DETECTOR_KEYS[d]),
                        key="an_detector", help=t("anomaly.detector_help"))
    neighbours = int(c2.number_input(t("anomaly.neighbours"), 2, 200, 20, key="an_neighbours",
                                     disabled=detector != "lof"))
    busy = another_job_running(ctx, ("choose_k", "cluster", "anomaly"))
    if st.button(t("anomaly.run"), type="primary", key="an_run", disabled=busy or not columns or ctx.read_only,
                 icon=":material/troubleshoot:"):
        start(ctx.store, ctx.project.id, "anomaly", dataset_id=dataset.id,
              settings=cl.AnomalySettings(detector, columns, neighbours).to_dict())
        st.rerun()
    result = analyses.latest(ctx.store, ctx.project.id, "anomaly", dataset.id)
    if not result or len(result["scores"]) != len(raw):
        return
    scores = np.asarray(result["scores"])
    st.subheader(t(cl.DETECTOR_KEYS[result["settings"]["detector"]]))
    share = st.slider(t("anomaly.share"), 0.0, 20.0, 2.0, 0.5, key="an_share", format="%.1f%%",
                      help=t("anomaly.share_help")) / 100
    flags = cl.flagged(scores, share)
    st.metric(t("anomaly.flagged"), f"{int(flags.sum()):,}")
    cut = float(scores[flags].min()) if flags.any() else float(scores.max())
    st.plotly_chart(analysis_charts.anomaly_scores(scores, cut), width="stretch", key="an_chart")
    st.markdown(f"**{t('anomaly.top')}**")
    top = np.argsort(-scores)[:10]
    why = [", ".join(_unusual(u) for u in cl.unusual_values(raw, int(i), result["columns"])) for i in top]
    shown = raw.iloc[top].assign(**{t("anomaly.score"): scores[top], t("anomaly.why"): why})
    st.dataframe(shown[[t("anomaly.score"), t("anomaly.why"), *result["columns"]]], width="stretch", key="an_top")
    st.download_button(t("anomaly.download"), lambda: to_csv_bytes(cl.scored_rows(raw, scores, share)),
                       file_name=f"{dataset.name}-anomalies.csv", mime="text/csv", key="an_download",
                       icon=":material/download:", on_click="ignore")


def _unusual(u: dict) -> str:
    if u["kind"] == "number":
        return t("anomaly.unusual_number", column=u["column"], value=readable(u["value"]),
                 typical=readable(u["typical"]))
    return t("anomaly.unusual_category", column=u["column"], value=u["value"], share=f"{u['share']:.1%}")


# ---------------------------------------------------------------- principal components


def components(ctx: PageContext, dataset: Dataset, raw: pd.DataFrame) -> None:
    columns = _columns(raw, "pca_columns")
    if not columns:
        return
    result = _pca(str(ctx.store.home), dataset.id, current_recipe(ctx).to_json(), tuple(columns))
    keep = result.components_for(0.9)
    st.caption(say("pca.summary", components=keep, total=len(result.explained)))
    left, right = st.columns(2)
    left.plotly_chart(analysis_charts.explained_variance(result.explained), width="stretch", key="pca_variance")
    right.plotly_chart(analysis_charts.biplot(result.scores, result.loadings), width="stretch", key="pca_biplot")
    st.plotly_chart(analysis_charts.loadings(result.loadings), width="stretch", key="pca_loadings")
    numbers = [c for c in columns if is_number(raw[c])]
    if len(numbers) >= 2:
        n = int(st.number_input(t("param.components"), 1, len(numbers), min(keep, len(numbers)), key="pca_n"))
        if st.button(t("pca.add_step"), key="pca_add", icon=":material/playlist_add:", disabled=ctx.read_only,
                     help=t("pca.add_step_help")):
            _add_pca_step(ctx, raw, numbers, n)


def _add_pca_step(ctx: PageContext, raw: pd.DataFrame, columns: list[str], n: int) -> None:
    from workbench.steps.learned import ReduceDimensions

    recipe = current_recipe(ctx).add(ReduceDimensions(columns=columns, components=n), raw)
    ctx.store.save_recipe(ctx.project.id, recipe.to_json())
    st.session_state.flash = say("pca.added", components=n, columns=len(columns))
    st.rerun()


@st.cache_data(show_spinner=False, max_entries=8)
def _pca(home: str, dataset_id: str, recipe_json: str, columns: tuple[str, ...]):
    from workbench.ui.data import load_frame

    return pca(load_frame(home, dataset_id), Recipe.from_json(recipe_json), list(columns))
