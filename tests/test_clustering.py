"""Clusters, anomalies and principal components on real data, and a hand-checkable profile."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score

from tests.conftest import SAMPLES, fresh_python
from workbench import analyses
from workbench import clustering as cl
from workbench.errors import UserError
from workbench.recipe import Recipe
from workbench.reduction import pca

NUMBERS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return pd.read_csv(SAMPLES / "penguins.csv")


@pytest.mark.parametrize("algorithm", cl.ALGORITHMS)
def test_every_algorithm_clusters_the_penguins_close_to_their_species(penguins, algorithm):
    settings = cl.ClusterSettings(algorithm, k=3, eps=0.6, min_samples=5, columns=NUMBERS)
    found = cl.fit_clusters(penguins, Recipe(), settings)
    assert len(found.labels) == len(penguins)
    known = penguins["species"].notna() & (found.labels != cl.NOISE)
    agreement = adjusted_rand_score(penguins["species"][known], found.labels[known])
    assert agreement > 0.4, agreement  # three species, found without their labels
    assert found.scores["silhouette"] is not None and -1 <= found.scores["silhouette"] <= 1
    assert found.assigns_new_rows == (algorithm in ("kmeans", "gmm"))
    if found.assigns_new_rows:  # the pipeline takes raw columns and gives the same clusters
        assert (found.pipeline.predict(penguins[NUMBERS]) == found.labels).all()


def test_choose_k_finds_three_well_separated_groups():
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=300, centers=3, cluster_std=0.6, random_state=1)
    frame = pd.DataFrame(X, columns=["a", "b"])
    steps = []
    curve = cl.choose_k(frame, Recipe(), None, on_step=lambda i, n: steps.append((i, n)))
    assert list(curve["k"]) == list(range(2, 11)) and steps[-1] == (9, 9)
    assert cl.best_k(curve) == 3
    assert curve["inertia"].is_monotonic_decreasing
    distances, eps = cl.k_distance(frame, Recipe(), None, 5)
    assert (np.diff(distances) >= 0).all()
    found = cl.fit_clusters(frame, Recipe(), cl.ClusterSettings("dbscan", eps=eps, min_samples=5))
    assert found.scores["clusters"] == 3 and found.scores["noise"] < 15  # the suggested eps works


def test_profiles_say_how_a_cluster_differs_in_numbers_and_categories():
    frame = pd.DataFrame({"spend": [10, 12, 11, 100, 110, 90], "city": ["A", "A", "B", "C", "C", "C"]})
    labels = np.array([0, 0, 0, 1, 1, 1])
    first, second = cl.profiles(frame, labels, ["spend", "city"])
    assert first["rows"] == 3 and first["share"] == 0.5
    spend = next(d for d in first["differences"] if d["column"] == "spend")
    assert spend["direction"] == "lower" and spend["cluster_value"] == 11 and spend["overall_value"] == 55.5
    city = next(d for d in second["differences"] if d["column"] == "city")
    assert city["level"] == "C" and city["cluster_value"] == 1.0 and city["overall_value"] == 0.5
    from workbench.deploy.modelcard import describe_difference

    assert describe_difference(spend, "en") == "lower spend (mean 11 against 55.5 overall)"
    assert describe_difference(city, "en") == "more often city = C (100% against 50% overall)"


def test_text_only_columns_and_too_many_rows_are_refused_before_any_work(penguins):
    with pytest.raises(UserError) as refused:
        cl.fit_clusters(penguins, Recipe(), cl.ClusterSettings(columns=["species", "island", "sex"]))
    assert refused.value.key == "cluster.text_only"
    big = pd.DataFrame(np.random.default_rng(0).normal(size=(50_000, 3)), columns=["a", "b", "c"])
    with pytest.raises(UserError) as refused:
        cl.fit_clusters(big, Recipe(), cl.ClusterSettings("agglomerative"))
    assert refused.value.key == "cluster.too_many_rows"  # 50,000 rows: said at once, no 10 GB matrix


def test_an_odd_row_scores_highest_and_its_odd_column_is_named(penguins):
    odd = penguins.copy()
    odd.loc[5, "body_mass_g"] = 20_000.0
    for detector in cl.DETECTORS:
        scores = cl.anomaly_scores(odd, Recipe(), cl.AnomalySettings(detector, NUMBERS))
        assert int(np.argmax(scores)) == 5, detector
    why = cl.unusual_values(odd, 5, NUMBERS)
    assert why[0]["column"] == "body_mass_g" and why[0]["value"] == 20_000.0
    flags = cl.flagged(scores, 0.05)
    assert flags.sum() == pytest.approx(0.05 * len(odd), abs=1) and flags[5]
    ranked = cl.scored_rows(odd, scores, 0.05)
    assert ranked.index[0] == 5 and ranked["anomaly"].sum() == flags.sum()


def test_pca_matches_scikit_learn_and_becomes_a_recipe_step(penguins):
    result = pca(penguins, Recipe(), NUMBERS)
    complete = penguins[NUMBERS].fillna(penguins[NUMBERS].median())
    expected = PCA().fit((complete - complete.mean()) / complete.std(ddof=0))
    assert np.allclose(result.explained["ratio"], expected.explained_variance_ratio_, atol=1e-6)
    assert result.components_for(0.9) == 3 and result.explained["cumulative"].iloc[-1] == pytest.approx(1)

    from workbench.deploy.modelfile import dump_pipeline, load_pipeline
    from workbench.steps.learned import ReduceDimensions
    from workbench.training import Settings, train_experiment

    recipe = Recipe().add(ReduceDimensions(columns=NUMBERS, components=2), penguins)
    prepared = recipe.to_sklearn().fit_transform(penguins)
    assert [c for c in prepared.columns if c.startswith("pca")] == ["pca0", "pca1"]
    assert not set(NUMBERS) & set(prepared.columns)
    run = train_experiment(penguins, recipe, Settings("species", "multiclass", "logistic_regression"))
    assert run.metrics["balanced_accuracy"] > 0.9
    reopened = load_pipeline(dump_pipeline(run.pipeline))  # the step's types are on the trusted list
    assert (reopened.predict(penguins.head(20)) == run.pipeline.predict(penguins.head(20))).all()
    with pytest.raises(UserError):
        Recipe().add(ReduceDimensions(columns=NUMBERS[:2], components=3), penguins)


def test_the_cluster_bundle_assigns_new_rows_in_a_fresh_python(penguins, tmp_path):
    from workbench.deploy.export import build_cluster_bundle

    settings = cl.ClusterSettings("kmeans", k=3, columns=[*NUMBERS, "sex"])
    found = cl.fit_clusters(penguins, Recipe(), settings)
    result = {"settings": settings.to_dict(), "columns": found.columns, "scores": found.scores,
              "profiles": cl.profiles(penguins, found.labels, found.columns)}
    bundle = build_cluster_bundle(found.pipeline, result, penguins, None, {"dataset": "penguins"}, "ja")
    zipfile.ZipFile(io.BytesIO(bundle)).extractall(tmp_path)
    assert "クラスタ" in (tmp_path / "model_card.md").read_text(encoding="utf-8")
    penguins.drop(columns=["species"]).to_csv(tmp_path / "new.csv", index=False)
    done = fresh_python(["predict.py", "new.csv", "out.csv"], tmp_path)
    assert done.returncode == 0, done.stderr
    # the added column is named in the bundle's language
    assert (pd.read_csv(tmp_path / "out.csv")["クラスタ"].to_numpy() == found.labels).all()


def test_cluster_column_becomes_a_new_dataset_and_the_original_stays(store, penguins):
    from workbench.samples import add_sample

    project = store.create_project("segments")
    dataset = add_sample(store, project.id, "penguins")
    labels = [i % 3 for i in range(len(penguins))]
    added = analyses.add_cluster_dataset(store, project.id, dataset, labels)
    frame = store.load_frame(added.id)
    assert frame["cluster"].tolist() == labels and store.active_dataset(project.id).id == added.id
    assert "cluster" not in store.load_frame(dataset.id).columns
    assert list(analyses.with_clusters(frame, labels).columns)[-1] == "cluster_2"  # never overwrites
