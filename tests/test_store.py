"""The workspace keeps everything, survives restarts, and takes concurrent writers."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import data_bytes, sample_bytes
from workbench.errors import UserError
from workbench.io import read_table
from workbench.samples import SAMPLE_DIR, SAMPLES, add_sample, ensure_workspace
from workbench.store import Store, User, user_from_claims


@pytest.fixture(autouse=True)
def _on_both_databases(database: str) -> None:
    """Every test here runs on SQLite and on PostgreSQL."""


def _add(store: Store, project_id: str, raw: bytes, filename: str):
    frame, report = read_table(raw, filename)
    return store.add_dataset(project_id, filename, raw, filename, frame, report)


def test_project_lifecycle(store):
    project = store.create_project("  Churn   study ")
    assert project.name == "Churn study"
    assert [p.id for p in store.list_projects()] == [project.id]
    renamed = store.rename_project(project.id, "顧客離反の分析")
    assert renamed.name == "顧客離反の分析"
    store.delete_project(project.id)
    assert store.list_projects() == []
    assert not store.project_dir(project.id).exists()


def test_project_names_are_checked(store):
    store.create_project("Sales")
    for bad, key in [("", "store.name_empty"), ("   ", "store.name_empty"), ("sales", "store.name_taken"),
                     ("x" * 101, "store.name_too_long")]:
        with pytest.raises(UserError) as info:
            store.create_project(bad)
        assert info.value.key == key


def test_dataset_keeps_original_bytes_parquet_copy_and_report_across_restart(workspace):
    store = Store(workspace)
    project = store.create_project("p")
    raw = sample_bytes("tips_ja_cp932.csv")
    dataset = _add(store, project.id, raw, "チップ.csv")
    frame, _ = read_table(raw, "チップ.csv")

    reopened = Store(workspace)  # as after a server restart
    again = reopened.get_dataset(dataset.id)
    assert reopened.raw_bytes(dataset.id) == raw
    assert again.report == dataset.report and again.report.encoding == "cp932"
    pd.testing.assert_frame_equal(reopened.load_frame(dataset.id), frame)
    assert reopened.active_dataset(project.id).id == dataset.id


def test_deleting_a_dataset_removes_its_files_and_clears_active(store):
    project = store.create_project("p")
    dataset = _add(store, project.id, data_bytes("upstream_raw_planets.csv"), "planets.csv")
    store.delete_dataset(dataset.id)
    assert store.list_datasets(project.id) == []
    assert store.active_dataset(project.id) is None
    assert not any((store.project_dir(project.id) / "datasets").iterdir())


def test_missing_things_raise_user_errors(store):
    with pytest.raises(UserError) as info:
        store.get_project("0123456789ab")
    assert info.value.key == "store.project_missing"
    with pytest.raises(UserError):
        store.get_dataset("nope")
    assert store.find_project("0123456789ab") is None


def test_a_dataset_of_another_project_cannot_be_made_active(store):
    a, b = store.create_project("a"), store.create_project("b")
    dataset = _add(store, a.id, sample_bytes("penguins.csv"), "penguins.csv")
    with pytest.raises(UserError):
        store.set_active_dataset(b.id, dataset.id)


def test_a_failed_save_leaves_no_row_and_no_files(store, monkeypatch):
    project = store.create_project("p")
    frame, report = read_table(sample_bytes("penguins.csv"), "penguins.csv")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken)
    with pytest.raises(OSError):
        store.add_dataset(project.id, "p", b"raw", "penguins.csv", frame, report)
    assert store.list_datasets(project.id) == []
    assert not (store.project_dir(project.id) / "datasets").exists() or not any(
        (store.project_dir(project.id) / "datasets").iterdir())


def test_new_workspace_opens_on_the_titanic_sample(store):
    project = ensure_workspace(store, "ja")
    assert project.name == "サンプルプロジェクト"
    dataset = store.active_dataset(project.id)
    assert dataset.filename == "titanic.csv" and dataset.rows == 891
    assert ensure_workspace(store, "en").id == project.id  # only once


def test_every_sample_imports(store):
    project = store.create_project("samples")
    for sample in SAMPLES:
        dataset = add_sample(store, project.id, sample.id)
        assert dataset.rows > 50 and dataset.report.bad_lines == 0, sample.id
    assert {s.filename for s in SAMPLES} <= {p.name for p in Path(SAMPLE_DIR).glob("*.csv")}


def _writer(home: str, project_id: str, worker: int) -> None:
    store = Store(home)
    raw = sample_bytes("flights.csv")
    frame, report = read_table(raw, "flights.csv")
    for i in range(5):
        store.add_dataset(project_id, f"w{worker}-{i}", raw, "flights.csv", frame, report)
        store.create_project(f"worker {worker} project {i}")


def _write_at_once(target, workspace: Path, project_id: str, workers: int) -> None:
    """Run `target(home, project_id, worker)` in `workers` new processes at once; each must succeed."""
    ctx = multiprocessing.get_context("spawn")
    processes = [ctx.Process(target=target, args=(str(workspace), project_id, w)) for w in range(workers)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(120)
        assert p.exitcode == 0


def test_concurrent_writers_in_separate_processes_lose_nothing(workspace):
    store = Store(workspace)
    project = store.create_project("shared")
    _write_at_once(_writer, workspace, project.id, 4)
    names = sorted(d.name for d in store.list_datasets(project.id))
    assert names == sorted(f"w{w}-{i}" for w in range(4) for i in range(5))
    assert len(store.list_projects()) == 1 + 4 * 5
    for dataset in store.list_datasets(project.id):
        assert len(store.load_frame(dataset.id)) == 144


def test_recipe_versions_and_undo_survive_a_restart(workspace):
    store = Store(workspace)
    project = store.create_project("p")
    assert store.load_recipe(project.id) == (0, None)
    assert store.save_recipe(project.id, '{"steps": [1]}') == 1
    assert store.save_recipe(project.id, '{"steps": [1, 2]}') == 2
    again = Store(workspace)
    assert again.load_recipe(project.id) == (2, '{"steps": [1, 2]}')
    assert again.undo_recipe(project.id)
    assert again.load_recipe(project.id) == (1, '{"steps": [1]}')
    assert again.undo_recipe(project.id) and not again.undo_recipe(project.id)
    store.save_recipe(project.id, "{}")
    store.delete_project(project.id)
    with pytest.raises(UserError):
        store.save_recipe(project.id, "{}")


def test_the_store_uses_the_database_it_is_given(database, store):
    assert store.engine.dialect.name == ("sqlite" if database == "sqlite" else "postgresql")
    project = store.create_project("p")
    assert Store(store.home).get_project(project.id) == project  # a second store (process) sees it


def _recipe_writer(home: str, project_id: str, worker: int) -> None:
    store = Store(home)
    for i in range(10):
        store.save_recipe(project_id, f'{{"worker": {worker}, "edit": {i}}}')


def test_concurrent_recipe_edits_get_one_version_each(workspace):
    store = Store(workspace)
    project = store.create_project("shared")
    _write_at_once(_recipe_writer, workspace, project.id, 3)
    assert store.load_recipe(project.id)[0] == 30


def test_a_database_that_does_not_answer_is_said_so(tmp_path):
    with pytest.raises(UserError) as info:
        Store(tmp_path, database="postgresql+psycopg://someone:secret@127.0.0.1:1/workbench")
    assert info.value.key == "store.unreachable"
    assert "secret" not in str(info.value.params)  # the password is never shown


def test_a_read_only_database_still_reads_and_refuses_writes_with_a_message(database, workspace):
    store = Store(workspace)
    project = store.create_project("kept")
    if database == "sqlite":
        read_only = Store(workspace, database=f"sqlite:///file:{store.home / 'workbench.sqlite3'}?mode=ro&uri=true")
    else:
        with store._transaction() as db:
            db.exec_driver_sql(f"ALTER DATABASE {store.engine.url.database} SET default_transaction_read_only = on")
        store.engine.dispose()
        read_only = Store(workspace)
    assert [p.name for p in read_only.list_projects()] == ["kept"]
    with pytest.raises(UserError) as info:
        read_only.create_project("new")
    assert info.value.key == "store.read_only"
    with pytest.raises(UserError):
        read_only.rename_project(project.id, "renamed")
    assert read_only.get_project(project.id).name == "kept"  # nothing lost


def test_each_person_sees_only_their_own_and_shared_projects(store):
    alice, bob = store.as_user(User("alice@example.com")), store.as_user(User("bob@example.com"))
    mine = alice.create_project("Sales")
    theirs = bob.create_project("Sales")  # the same name, another owner
    assert [p.id for p in alice.list_projects()] == [mine.id]
    assert [p.id for p in bob.list_projects()] == [theirs.id]
    for call in (lambda: bob.get_project(mine.id), lambda: bob.list_datasets(mine.id),
                 lambda: bob.load_recipe(mine.id), lambda: bob.list_experiments(mine.id),
                 lambda: bob.list_jobs(mine.id), lambda: bob.delete_project(mine.id)):
        with pytest.raises(UserError) as info:
            call()
        assert info.value.key == "store.project_forbidden"
    assert bob.find_project(mine.id) is None
    assert alice.get_project(mine.id).name == "Sales"  # nothing deleted
    admin = store.as_user(User("root@example.com", admin=True))
    assert {p.id for p in admin.list_projects()} == {mine.id, theirs.id}


def test_a_viewer_reads_but_cannot_change_and_an_editor_can(store):
    alice, bob = store.as_user(User("alice@example.com")), store.as_user(User("bob@example.com"))
    project = alice.create_project("Shared")
    dataset = _add(alice, project.id, sample_bytes("penguins.csv"), "penguins.csv")
    alice.share_project(project.id, " Bob@Example.com ", "viewer")
    assert alice.list_shares(project.id) == [("bob@example.com", "viewer")]
    assert bob.role(project.id) == "viewer"
    assert [p.id for p in bob.list_projects()] == [project.id]
    assert len(bob.load_frame(dataset.id)) == 344
    writes = {
        "store.viewer_only": [lambda: _add(bob, project.id, sample_bytes("penguins.csv"), "p.csv"),
                              lambda: bob.save_recipe(project.id, "{}"), lambda: bob.delete_dataset(dataset.id),
                              lambda: bob.add_job(project.id, "train", "x")],
        "store.owner_only": [lambda: bob.delete_project(project.id), lambda: bob.rename_project(project.id, "x"),
                             lambda: bob.share_project(project.id, "carol@example.com", "editor")],
    }
    for key, calls in writes.items():
        for call in calls:
            with pytest.raises(UserError) as info:
                call()
            assert info.value.key == key
    assert len(alice.list_datasets(project.id)) == 1  # nothing lost
    alice.share_project(project.id, "bob@example.com", "editor")
    assert bob.save_recipe(project.id, "{}") == 1
    assert bob.add_job(project.id, "train", "x")
    with pytest.raises(UserError) as info:
        bob.delete_project(project.id)
    assert info.value.key == "store.owner_only"
    alice.unshare_project(project.id, "bob@example.com")
    assert bob.list_projects() == []


def test_a_project_from_before_sign_in_is_seen_by_admins_only_until_handed_over(store):
    old = store.create_project("Sales")  # single-user mode: no owner
    alice, bob = store.as_user(User("alice@example.com")), store.as_user(User("bob@example.com"))
    admin = store.as_user(User("root@example.com", admin=True))
    assert alice.list_projects() == [] and [p.id for p in admin.list_projects()] == [old.id]
    with pytest.raises(UserError) as info:
        alice.hand_over_project(old.id, "alice@example.com")
    assert info.value.key == "store.project_forbidden"
    bob.create_project("sales")
    with pytest.raises(UserError) as info:  # bob has a project of that name: nothing changes
        admin.hand_over_project(old.id, "bob@example.com")
    assert info.value.key == "store.name_taken_by" and store.get_project(old.id).owner == ""
    admin.hand_over_project(old.id, " Alice@Example.com ")
    assert [p.id for p in alice.list_projects()] == [old.id] and alice.role(old.id) == "owner"
    alice.share_project(old.id, "carol@example.com", "viewer")
    alice.hand_over_project(old.id, "carol@example.com")  # the owner hands on: she stays an editor
    carol = store.as_user(User("carol@example.com"))
    assert carol.role(old.id) == "owner" and alice.role(old.id) == "editor"
    assert carol.list_shares(old.id) == [("alice@example.com", "editor")]
    with pytest.raises(UserError) as info:
        alice.hand_over_project(old.id, "alice@example.com")
    assert info.value.key == "store.owner_only"


def test_sharing_checks_the_address(store):
    alice = store.as_user(User("alice@example.com"))
    project = alice.create_project("p")
    for bad, key in [("bob", "store.share_not_email"), ("", "store.share_not_email"),
                     ("alice@example.com", "store.share_owner")]:
        with pytest.raises(UserError) as info:
            alice.share_project(project.id, bad, "viewer")
        assert info.value.key == key


def test_the_signed_in_person_comes_from_the_providers_claims():
    admins = frozenset({"root@example.com"})
    assert user_from_claims({"email": "Alice@Example.com", "name": "Alice"}, admins) == User(
        "alice@example.com", "Alice", False)
    assert user_from_claims({"sub": "root@example.com"}, admins).admin


def test_every_zoo_table_is_kept_and_shared_whole_on_both_databases(store):
    from tests.zoo import TABLES

    alice, bob = store.as_user(User("alice@example.com")), store.as_user(User("bob@example.com"))
    project = alice.create_project("動物園 zoo")
    alice.share_project(project.id, "bob@example.com", "viewer")
    for table in TABLES:
        raw, filename = table.load()
        frame, report = read_table(raw, filename)
        dataset = alice.add_dataset(project.id, f"{table.name} データ", raw, filename, frame, report)
        again = bob.get_dataset(dataset.id)  # what the person it is shared with sees
        assert (again.name, again.rows, again.columns, again.report) == (
            f"{table.name} データ", *frame.shape, report), table.name
        assert bob.raw_bytes(dataset.id) == raw, table.name
        pd.testing.assert_frame_equal(_ns(bob.load_frame(dataset.id)), _ns(frame), obj=table.name)


def _ns(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates in nanoseconds (the Parquet copy keeps their values, not always their unit)."""
    return frame.apply(lambda col: col.dt.as_unit("ns") if col.dtype.kind == "M" else col)
