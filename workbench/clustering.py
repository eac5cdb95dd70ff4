"""Without labels: clusters of similar rows, and rows unlike the others (anomalies).

Rows go through the same preparation as for supervised models (the recipe's
column and learned steps, then numbers imputed and scaled, categories one-hot
encoded), so a clustering is a Pipeline that takes the raw uploaded columns and
can assign new rows to clusters where the algorithm allows it (k-means and
Gaussian mixtures; DBSCAN and agglomerative clustering have no such rule, and
the page says so).

Everything here is a plain function of a DataFrame; the pages run the slower
ones (choosing k, fitting, scoring) as jobs with progress.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
from sklearn.cluster import DBSCAN, AgglomerativeClustering, KMeans
from sklearn.ensemble import IsolationForest
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
from sklearn.pipeline import Pipeline

from workbench.errors import UserError
from workbench.recipe import Recipe
from workbench.stats import is_number

ALGORITHMS = ("kmeans", "dbscan", "agglomerative", "gmm")
ASSIGNS_NEW_ROWS = ("kmeans", "gmm")
LINKAGES = ("ward", "average", "complete", "single")
DETECTORS = ("isolation_forest", "lof")
MAX_AGGLOMERATIVE = 15_000  # its distance matrix grows with rows squared: 15k rows ~ 2 GB at most
MAX_LOF = 100_000
SCORE_SAMPLE = 5_000  # rows on which silhouette is computed
MAP_SAMPLE = 5_000  # rows drawn on the 2-D map
TSNE_SAMPLE = 1_500
DENDROGRAM_SAMPLE = 300
K_RANGE = range(2, 11)
# Catalogue keys of the names the pages show
ALGORITHM_KEYS = {"kmeans": "cluster.algorithm.kmeans", "dbscan": "cluster.algorithm.dbscan",
                  "agglomerative": "cluster.algorithm.agglomerative", "gmm": "cluster.algorithm.gmm"}
LINKAGE_KEYS = {"ward": "cluster.linkage.ward", "average": "cluster.linkage.average",
                "complete": "cluster.linkage.complete", "single": "cluster.linkage.single"}
DETECTOR_KEYS = {"isolation_forest": "anomaly.detector.isolation_forest", "lof": "anomaly.detector.lof"}
SCORE_KEYS = {"silhouette": ("cluster.score.silhouette", "cluster.score.silhouette_help"),
              "calinski_harabasz": ("cluster.score.calinski_harabasz", "cluster.score.calinski_harabasz_help"),
              "davies_bouldin": ("cluster.score.davies_bouldin", "cluster.score.davies_bouldin_help")}
DIFFERENCE_KEYS = {"higher": "cluster.diff.higher", "lower": "cluster.diff.lower", "more": "cluster.diff.more"}
NOISE = -1
KNEE_MARGIN = 1.25


@dataclass(frozen=True)
class ClusterSettings:
    """A clustering run's choices; `columns` empty means every column."""

    algorithm: str = "kmeans"
    k: int = 3
    eps: float = 0.5
    min_samples: int = 5
    linkage: str = "ward"
    columns: list[str] = field(default_factory=list)
    seed: int = 42

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def feature_columns(frame: pd.DataFrame, columns: list[str] | None) -> list[str]:
    """The columns to cluster on; refused when none of them holds numbers (text alone does not cluster)."""
    chosen = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    if not chosen:
        raise UserError("cluster.no_columns")
    if not any(is_number(frame[c]) or pd.api.types.is_bool_dtype(frame[c]) for c in chosen):
        raise UserError("cluster.text_only", columns=", ".join(chosen[:5]))
    return chosen


def preparation(recipe: Recipe) -> Pipeline:
    """Raw columns to scaled numbers: the recipe, then impute, scale and one-hot encode."""
    from workbench.training import feature_pipeline

    return feature_pipeline(recipe, scaled=True)


def prepared(frame: pd.DataFrame, recipe: Recipe, columns: list[str] | None) -> tuple[np.ndarray, Pipeline, list[str]]:
    """The chosen columns of every row as scaled numbers, the fitted preparation, and the columns used."""
    chosen = feature_columns(frame, columns)
    prep = preparation(recipe)
    return np.asarray(prep.fit_transform(frame[chosen]), dtype=float), prep, chosen


def sample_rows(rows: int, limit: int, seed: int = 0) -> np.ndarray:
    """Positions of at most `limit` rows out of `rows`, drawn at random (all of them when few), in order."""
    if rows <= limit:
        return np.arange(rows)
    return np.sort(np.random.default_rng(seed).choice(rows, limit, replace=False))


def estimator(settings: ClusterSettings, rows: int) -> Any:
    """The unfitted clustering algorithm; refuses agglomerative clustering on too many rows."""
    s = settings
    if s.algorithm == "kmeans":
        return KMeans(n_clusters=s.k, n_init=4, random_state=s.seed)
    if s.algorithm == "gmm":
        return GaussianMixture(n_components=s.k, covariance_type="full", n_init=2, random_state=s.seed)
    if s.algorithm == "dbscan":
        return DBSCAN(eps=s.eps, min_samples=s.min_samples)
    if s.algorithm == "agglomerative":
        if rows > MAX_AGGLOMERATIVE:
            raise UserError("cluster.too_many_rows", rows=f"{rows:,}", limit=f"{MAX_AGGLOMERATIVE:,}")
        return AgglomerativeClustering(n_clusters=s.k, linkage=s.linkage)
    raise ValueError(f"unknown clustering algorithm {s.algorithm!r}")


@dataclass
class Clustering:
    """A fitted clustering: its pipeline (raw columns in), one label per row, scores and where rows lie."""

    settings: ClusterSettings
    pipeline: Pipeline
    labels: np.ndarray
    scores: dict[str, float | None]
    columns: list[str]

    @property
    def assigns_new_rows(self) -> bool:
        return self.settings.algorithm in ASSIGNS_NEW_ROWS


def fit_clusters(frame: pd.DataFrame, recipe: Recipe, settings: ClusterSettings) -> Clustering:
    """Prepare the chosen columns and cluster every row."""
    if len(frame) < 3:
        raise UserError("cluster.too_few_rows", rows=len(frame))
    Z, prep, columns = prepared(frame, recipe, settings.columns)
    model = estimator(settings, len(Z))
    labels = np.asarray(model.fit_predict(Z))
    scores = cluster_scores(Z, labels, settings.seed)
    return Clustering(settings, Pipeline([*prep.steps, ("model", model)]), labels, scores, columns)


def cluster_scores(Z: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict[str, float | None]:
    """Silhouette (on a sample), Calinski-Harabasz and Davies-Bouldin, on the rows not marked as noise;
    None where fewer than two clusters exist."""
    keep = labels != NOISE
    Z, labels = Z[keep], labels[keep]
    found = len(np.unique(labels))
    out: dict[str, float | None] = {"clusters": found, "noise": int((~keep).sum())}
    if found < 2 or found >= len(labels):
        return {**out, "silhouette": None, "calinski_harabasz": None, "davies_bouldin": None}
    sample = min(SCORE_SAMPLE, len(labels))
    return {**out,
            "silhouette": float(silhouette_score(Z, labels, sample_size=sample, random_state=seed)),
            "calinski_harabasz": float(calinski_harabasz_score(Z, labels)),
            "davies_bouldin": float(davies_bouldin_score(Z, labels))}


def choose_k(frame: pd.DataFrame, recipe: Recipe, columns: list[str] | None, seed: int = 42,
             on_step: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """For k = 2..10: k-means inertia (the elbow chart) and silhouette; one row per k."""
    Z, _, _ = prepared(frame, recipe, columns)
    rows = []
    ks = [k for k in K_RANGE if k < len(Z)]
    for i, k in enumerate(ks):
        model = KMeans(n_clusters=k, n_init=2, random_state=seed).fit(Z)
        score = cluster_scores(Z, model.labels_, seed)["silhouette"]
        rows.append({"k": k, "inertia": float(model.inertia_), "silhouette": score})
        if on_step:
            on_step(i + 1, len(ks))
    return pd.DataFrame(rows)


def best_k(curve: pd.DataFrame) -> int:
    """The k with the highest silhouette."""
    return int(curve.loc[curve["silhouette"].idxmax(), "k"])


def k_distance(frame: pd.DataFrame, recipe: Recipe, columns: list[str] | None, min_samples: int = 5,
               seed: int = 0) -> tuple[np.ndarray, float]:
    """Each row's distance to its min_samples-th neighbour, sorted (the k-distance chart for DBSCAN), and the
    suggested eps: the knee (the point farthest below the line joining the ends) moved out by a quarter, as
    the knee is where distances start to climb and rows just past it still belong to their cluster (on three
    well-separated blobs the knee itself splits one of them; 1.25 times it finds all three)."""
    Z, _, _ = prepared(frame, recipe, columns)
    Z = Z[sample_rows(len(Z), SCORE_SAMPLE, seed)]
    distances, _ = NearestNeighbors(n_neighbors=min(min_samples, len(Z) - 1) + 1).fit(Z).kneighbors(Z)
    curve = np.sort(distances[:, -1])
    return curve, float(curve[_knee(curve)]) * KNEE_MARGIN


def _knee(curve: np.ndarray) -> int:
    x = np.linspace(0, 1, len(curve))
    span = curve[-1] - curve[0]
    y = (curve - curve[0]) / span if span > 0 else np.zeros_like(curve)
    return int(np.argmax(x - y)) if len(curve) > 2 else len(curve) - 1


def dendrogram_data(frame: pd.DataFrame, recipe: Recipe, columns: list[str] | None, linkage: str = "ward",
                    seed: int = 0) -> dict[str, Any]:
    """scipy's dendrogram of a sample of rows (line coordinates, ready to draw)."""
    from scipy.cluster.hierarchy import dendrogram
    from scipy.cluster.hierarchy import linkage as link

    Z, _, _ = prepared(frame, recipe, columns)
    Z = Z[sample_rows(len(Z), DENDROGRAM_SAMPLE, seed)]
    tree = dendrogram(link(Z, method=linkage), no_plot=True)
    return {"icoord": tree["icoord"], "dcoord": tree["dcoord"], "rows": len(Z)}


def row_map(clustering: Clustering, frame: pd.DataFrame, method: str = "pca") -> pd.DataFrame:
    """The rows (a sample) placed in two dimensions by PCA or t-SNE, with their cluster: x, y, cluster, row."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    rows = sample_rows(len(frame), TSNE_SAMPLE if method == "tsne" else MAP_SAMPLE, clustering.settings.seed)
    prep = Pipeline(clustering.pipeline.steps[:-1])
    Z = np.asarray(prep.transform(frame[clustering.columns].iloc[rows]), dtype=float)
    if method == "tsne":
        xy = TSNE(n_components=2, init="pca", perplexity=min(30.0, max(2.0, (len(Z) - 1) / 3)),
                  random_state=clustering.settings.seed).fit_transform(Z)
    else:
        xy = PCA(n_components=2, random_state=0).fit_transform(Z) if Z.shape[1] >= 2 else np.c_[Z, np.zeros(len(Z))]
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "cluster": clustering.labels[rows], "row": rows})


NOTABLE = 0.2  # strength from which a difference is named: 0.2 sd, or a 10-point lift of a category's share


def profiles(frame: pd.DataFrame, labels: np.ndarray, columns: list[str], top: int = 3) -> list[dict[str, Any]]:
    """How each cluster differs from all rows, per original column: for numbers the cluster's mean against
    the overall mean (in standard deviations); for categories the level most over-represented in the
    cluster (its share there against overall). Each cluster lists its `top` most distinctive columns, of those
    at least NOTABLE apart (none: the cluster is like the whole table)."""
    out = []
    labels = np.asarray(labels)
    for cluster in sorted(np.unique(labels)):
        inside = labels == cluster
        differences = []
        for name in columns:
            col = frame[name]
            if is_number(col):
                values = pd.to_numeric(col, errors="coerce")
                sd = float(values.std())
                mean_all, mean_in = float(values.mean()), float(values[inside].mean())
                if not sd or np.isnan(mean_in):
                    continue
                differences.append({"column": name, "kind": "number", "cluster_value": mean_in,
                                    "overall_value": mean_all, "strength": abs(mean_in - mean_all) / sd,
                                    "direction": "higher" if mean_in > mean_all else "lower"})
            else:
                text = col.astype("str").where(col.notna(), "—")
                share_all = text.value_counts(normalize=True)
                share_in = text[inside].value_counts(normalize=True)
                if share_in.empty:
                    continue
                lift = (share_in - share_all.reindex(share_in.index)).sort_values(ascending=False)
                level = lift.index[0]
                differences.append({"column": name, "kind": "category", "level": str(level),
                                    "cluster_value": float(share_in[level]), "overall_value": float(share_all[level]),
                                    "strength": float(lift.iloc[0]) * 2,  # a 50-point lift weighs like 1 sd
                                    "direction": "more"})
        differences.sort(key=lambda d: -d["strength"])
        notable = [d for d in differences if d["strength"] >= NOTABLE]  # a 1% gap is not "lower"
        out.append({"cluster": int(cluster), "rows": int(inside.sum()), "share": float(inside.mean()),
                    "differences": notable[:top]})
    return out


# ---------------------------------------------------------------- anomalies


@dataclass(frozen=True)
class AnomalySettings:
    """An anomaly scan's choices."""

    detector: str = "isolation_forest"
    columns: list[str] = field(default_factory=list)
    neighbours: int = 20
    seed: int = 42

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def anomaly_scores(frame: pd.DataFrame, recipe: Recipe, settings: AnomalySettings) -> np.ndarray:
    """One score per row, higher = more unusual (isolation forest's path length or LOF's density ratio)."""
    if len(frame) < 3:
        raise UserError("cluster.too_few_rows", rows=len(frame))
    Z, _, _ = prepared(frame, recipe, settings.columns)
    if settings.detector == "isolation_forest":
        model = IsolationForest(n_estimators=200, random_state=settings.seed).fit(Z)
        return -model.score_samples(Z)
    if len(Z) > MAX_LOF:
        raise UserError("anomaly.too_many_rows", rows=f"{len(Z):,}", limit=f"{MAX_LOF:,}")
    lof = LocalOutlierFactor(n_neighbors=min(settings.neighbours, len(Z) - 1)).fit(Z)
    return -lof.negative_outlier_factor_


def unusual_values(frame: pd.DataFrame, row: int, columns: list[str], top: int = 3) -> list[dict[str, Any]]:
    """What makes one row unusual: its numbers furthest from the median (in robust deviations) and its
    rarest categories; the `top` strongest."""
    found = []
    for name in columns:
        col = frame[name]
        value = col.iloc[row]
        if pd.isna(value):
            continue
        if is_number(col):
            values = pd.to_numeric(col, errors="coerce")
            median = float(values.median())
            spread = float((values - median).abs().median()) * 1.4826 or float(values.std()) or 1.0
            z = (float(value) - median) / spread
            found.append({"column": name, "value": float(value), "typical": median, "strength": abs(z),
                          "kind": "number"})
        else:
            share = float((col == value).mean())
            found.append({"column": name, "value": str(value), "share": share, "kind": "category",
                          "strength": float(-np.log10(max(share, 1e-6)))})
    found.sort(key=lambda d: -d["strength"])
    return found[:top]


def flagged(scores: np.ndarray, share: float) -> np.ndarray:
    """True for the `share` of rows with the highest scores."""
    if share <= 0:
        return np.zeros(len(scores), dtype=bool)
    cut = np.quantile(scores, 1 - share)
    return scores >= cut


def scored_rows(frame: pd.DataFrame, scores: np.ndarray, share: float) -> pd.DataFrame:
    """The rows with their anomaly score and flag, most unusual first."""
    out = frame.assign(anomaly_score=scores, anomaly=flagged(scores, share))
    return out.sort_values("anomaly_score", ascending=False)
