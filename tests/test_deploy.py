"""Model versions and the production alias (workbench.deploy.versions), on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from workbench import steps as S
from workbench.deploy import versions as V
from workbench.errors import UserError
from workbench.store import Store, User


@pytest.fixture(autouse=True)
def _on_both_databases(database):
    """Every test here runs once on SQLite and once on PostgreSQL."""


def _trained(store: Store, project_id: str, model: str = "logistic_regression", sample: str = "titanic"):
    from workbench.experiments import save_experiment
    from workbench.recipe import Recipe
    from workbench.samples import add_sample
    from workbench.training import Settings, train_experiment

    dataset = store.active_dataset(project_id) or add_sample(store, project_id, sample)
    frame = store.load_frame(dataset.id).drop(columns=["alive"])
    recipe = Recipe().add(S.DropColumns(["deck"]))
    return save_experiment(store, project_id, dataset.id, 0, train_experiment(
        frame, recipe, Settings("survived", "binary", model)))


def test_register_promote_and_roll_back_keep_every_move(store):
    project = store.create_project("churn")
    first, second = _trained(store, project.id), _trained(store, project.id, "decision_tree")
    v1 = V.register(store, project.id, first.id, note="baseline")
    assert (v1.number, v1.note, v1.experiment_id) == (1, "baseline", first.id)
    assert store.aliases_now(project.id) == {"production": 1}  # the first version goes to production
    v2 = V.register(store, project.id, second.id)
    assert v2.number == 2 and store.aliases_now(project.id) == {"production": 1}
    V.promote(store, project.id, 2, V.CHALLENGER)
    assert store.aliases_now(project.id) == {"production": 1, "challenger": 2}
    V.promote(store, project.id, 2)  # the challenger wins: it is production, and no longer the challenger
    assert store.aliases_now(project.id) == {"production": 2}
    assert V.roll_back(store, project.id) == 1 and V.aliased(store, project.id).number == 1
    moves = [(m.alias, m.number) for m in store.alias_history(project.id)]
    assert moves == [("production", 1), ("challenger", None), ("production", 2), ("challenger", 2),
                     ("production", 1)]
    assert [v.number for v in store.list_versions(project.id)] == [2, 1]


def test_a_version_keeps_what_it_was_trained_on_and_outlives_its_experiment(store):
    project = store.create_project("churn")
    experiment = _trained(store, project.id)
    dataset = store.active_dataset(project.id)
    version = V.register(store, project.id, experiment.id)
    assert version.data_sha256 == dataset.sha256 and version.record["metrics"] == experiment.record["metrics"]
    assert json.loads(version.record["recipe"])["steps"][0]["kind"] == "drop_columns"
    assert version.record["dataset"] == {"id": dataset.id, "name": dataset.name, "recipe_version": 0}
    profile = V.version_profile(store, version)
    assert profile["rows"] == 891 and profile["target"] == "survived" and "alive" not in profile["columns"]
    assert set(profile["columns"]) == {*experiment.record["features"], "survived"}  # what the model takes in
    age, sex = profile["columns"]["age"], profile["columns"]["sex"]
    assert age["kind"] == "numeric" and age["missing"] == 177 and age["n"] == 714 and len(age["sample"]) == 714
    assert abs(age["mean"] - 29.699) < 0.01 and age["deciles"][0] == 0.42 and age["deciles"][-1] == 80
    assert sex == {"kind": "categorical", "n": 891, "missing": 0, "counts": {"male": 577, "female": 314},
                   "other": 0}
    model = V.version_model(store, version)
    store.delete_experiment(experiment.id)
    assert V.version_model(store, store.get_version(project.id, 1)) == model  # its own copy


def test_bad_requests_are_refused_with_messages_and_nothing_is_lost(store):
    churn, prices = store.create_project("churn"), store.create_project("prices")
    experiment = _trained(store, churn.id)
    with pytest.raises(UserError) as info:
        V.register(store, prices.id, experiment.id)
    assert info.value.key == "version.other_project"
    V.register(store, churn.id, experiment.id)
    with pytest.raises(UserError) as info:  # prices has no version 1: a version of another project
        V.promote(store, prices.id, 1)
    assert info.value.key == "version.missing" and store.aliases_now(prices.id) == {}
    with pytest.raises(UserError) as info:
        V.roll_back(store, churn.id)
    assert info.value.key == "version.nothing_to_roll_back" and store.aliases_now(churn.id) == {"production": 1}
    (store.project_dir(churn.id) / "versions" / "1" / "model.skops").unlink()  # deleted by hand
    with pytest.raises(UserError) as info:
        V.version_model(store, store.get_version(churn.id, 1))
    assert info.value.key == "version.files_missing" and info.value.params["number"] == 1
    assert [v.number for v in store.list_versions(churn.id)] == [1]  # the version itself is still there


def test_a_viewer_sees_versions_but_cannot_register_or_promote(store):
    alice, bob = store.as_user(User("alice@example.com")), store.as_user(User("bob@example.com"))
    project = alice.create_project("churn")
    V.register(alice, project.id, _trained(alice, project.id).id)
    alice.share_project(project.id, "bob@example.com", "viewer")
    assert [v.created_by for v in bob.list_versions(project.id)] == ["alice@example.com"]
    for call in (lambda: V.promote(bob, project.id, 1, V.CHALLENGER),
                 lambda: V.register(bob, project.id, alice.list_experiments(project.id)[0].id)):
        with pytest.raises(UserError) as info:
            call()
        assert info.value.key == "store.viewer_only"
    assert alice.aliases_now(project.id) == {"production": 1}
