"""AppTest: the Deploy page (versions, production, roll back, the endpoint) and the Predict page's production
model, in both languages."""

from __future__ import annotations

from tests.conftest import free_port
from tests.test_deploy import _trained
from tests.test_pages import _no_failure, _run, _text
from workbench.deploy import serving
from workbench.deploy import versions as V
from workbench.samples import ensure_workspace
from workbench.store import Store

DEPLOY = "pages/deploy.py"
RESULTS_NONE = "No experiment yet: train a model on the Model page."


def _two_experiments(workspace):
    store = Store(workspace)
    project = ensure_workspace(store, "en")
    return store, project.id, _trained(store, project.id), _trained(store, project.id, "decision_tree")


def test_without_experiments_the_deploy_page_points_to_the_model_page(workspace):
    at = _run(DEPLOY)
    _no_failure(at)
    assert RESULTS_NONE in _text(at) and not [b for b in at.button if b.key in ("promote", "endpoint_start")]


def test_register_promote_challenge_and_roll_back_from_the_page(workspace):
    store, project_id, first, second = _two_experiments(workspace)
    at = _run(DEPLOY, project=project_id)
    _no_failure(at)
    assert "No versions yet" in _text(at)
    register = next(b for b in at.button if b.label == "Register")
    register.click().run()
    assert "Registered as version 1: the project's first version, so it is now production." in _text(at)
    assert store.aliases_now(project_id) == {"production": 1}
    experiment = next(s for s in at.selectbox if s.label == "Experiment")
    experiment.set_value(next(o for o in [first.id, second.id] if o != store.get_version(project_id, 1)
                              .experiment_id))
    next(t for t in at.text_input if t.label == "Note (why this version)").input("a tree")
    next(b for b in at.button if b.label == "Register").click().run()
    assert "Registered as version 2." in _text(at) and store.get_version(project_id, 2).note == "a tree"
    at.selectbox(key="deploy_version").set_value(2).run()
    at.button(key="challenge").click().run()
    assert store.aliases_now(project_id) == {"production": 1, "challenger": 2}
    table = at.dataframe[0].value
    assert list(table["Version"]) == [2, 1] and list(table["Alias"]) == ["challenger", "production"]
    at.selectbox(key="deploy_version").set_value(2).run()
    at.button(key="promote").click().run()
    assert "Version 2 is now production." in _text(at) and store.aliases_now(project_id) == {"production": 2}
    at.button(key="roll_back").click().run()
    assert "Rolled back: version 1 is production again." in _text(at)
    assert "Production: version 1" in _text(at)
    history = at.dataframe[-1].value
    assert list(history["Version"]) == ["version 1", "(taken off)", "version 2", "version 2", "version 1"]


def test_the_endpoint_starts_and_stops_from_the_page_in_japanese(workspace):
    store, project_id, first, _ = _two_experiments(workspace)
    V.register(store, project_id, first.id)
    at = _run(DEPLOY, project=project_id, lang="ja")
    _no_failure(at)
    assert "エンドポイントは停止しています。" in _text(at)
    port = free_port()
    at.number_input(key="endpoint_port").set_value(port).run()
    try:
        at.button(key="endpoint_start").click().run(timeout=60)
        _no_failure(at)
        assert f"バージョン 1 を http://127.0.0.1:{port} で公開中" in _text(at).replace("\\", "")  # as markdown shows it
        assert serving.status(store, project_id).running
        assert at.button(key="endpoint_start").disabled and at.number_input(key="endpoint_port").disabled
        assert any("X-API-Key: <key>" in c.value for c in at.code)
        key = at.text_input(key="endpoint_key").value
        at.button(key="endpoint_rotate").click().run()
        assert at.text_input(key="endpoint_key").value not in (key, "")  # the new key is shown
        at.button(key="endpoint_stop").click().run()
        assert "エンドポイントを停止しました。" in _text(at) and not serving.status(store, project_id).running
    finally:
        serving.stop(store, project_id)


def test_a_port_in_use_is_said_so_and_nothing_starts(workspace):
    import socket

    store, project_id, first, _ = _two_experiments(workspace)
    V.register(store, project_id, first.id)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        at = _run(DEPLOY, project=project_id)
        at.number_input(key="endpoint_port").set_value(taken.getsockname()[1]).run()
        at.button(key="endpoint_start").click().run()
        _no_failure(at)
        assert any("is already in use by another program" in e.value for e in at.error)
    assert not serving.status(store, project_id).running


def test_the_predict_page_predicts_with_production_by_default(workspace):
    store, project_id, first, second = _two_experiments(workspace)
    V.register(store, project_id, second.id)
    at = _run("pages/predict.py", project=project_id)
    _no_failure(at)
    source = at.radio(key="predict_source")
    assert source.value == "production" and source.options[0] == "the production model (version 1)"
