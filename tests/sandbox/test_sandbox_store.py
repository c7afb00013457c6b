"""The store and the records under the engine: savepoints, waiting threads, rows returned by writes, timestamps."""

from __future__ import annotations

import datetime
import threading

import grpc
import pytest
from flyte_admin_sandbox.blobs import BlobStore
from flyte_admin_sandbox.errors import AdminError
from flyte_admin_sandbox.filters import format_timestamp
from flyte_admin_sandbox.records import ExecutionKey, Records, WorkflowPhase, parse_stored, stored_text
from flyte_admin_sandbox.store import Store
from flyteidl.admin import execution_pb2 as admin_execution_pb2
from flyteidl.core import execution_pb2, identifier_pb2, literals_pb2

NodePhase = execution_pb2.NodeExecution.Phase
TaskPhase = execution_pb2.TaskExecution.Phase
KEY = ExecutionKey("p", "d", "run")


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def records(store: Store, tmp_path) -> Records:
    records = Records(store, BlobStore(tmp_path / "blobs"))
    closure = admin_execution_pb2.ExecutionClosure(phase=WorkflowPhase.UNDEFINED)
    store.insert(
        "executions",
        {
            "execution_project": KEY.project,
            "execution_domain": KEY.domain,
            "execution_name": KEY.name,
            "phase": "UNDEFINED",
            "closure": closure.SerializeToString(),
            "spec": b"",
            "inputs": b"",
        },
    )
    return records


def _names(store: Store) -> list[str]:
    return [row["name"] for row in store.all("SELECT name FROM projects_seen ORDER BY name")]


def _failing_block(store: Store, name: str) -> None:
    with store.savepoint():
        store.execute("INSERT INTO projects_seen VALUES (?)", (name,))
        raise RuntimeError("the block fails")


def test_a_failed_savepoint_undoes_its_own_writes_only(store: Store) -> None:
    store.execute("CREATE TABLE projects_seen (name TEXT)")
    with store.transaction():
        store.execute("INSERT INTO projects_seen VALUES ('kept')")
        with pytest.raises(RuntimeError):
            _failing_block(store, "undone")
        with store.savepoint():
            store.execute("INSERT INTO projects_seen VALUES ('also kept')")
    assert _names(store) == ["also kept", "kept"]
    # Outside a transaction a savepoint is a transaction of its own.
    with pytest.raises(RuntimeError):
        _failing_block(store, "alone")
    assert _names(store) == ["also kept", "kept"]


def test_threads_waiting_for_the_store_are_counted(store: Store) -> None:
    waiters = [threading.Thread(target=lambda: store.one("SELECT 1")) for _ in range(3)]
    with store.locked():
        for waiter in waiters:
            waiter.start()
        for _ in range(1000):
            if store.waiting == 3:
                break
            threading.Event().wait(0.01)
        assert store.waiting == 3
    for waiter in waiters:
        waiter.join()
    assert store.waiting == 0
    with store.locked(), store.locked():  # re-entrant, and never counted as waiting for itself
        assert store.waiting == 0


def test_writes_return_the_row_as_stored(store: Store) -> None:
    inserted = store.insert_row(
        "projects", {"created_at": "a", "updated_at": "a", "identifier": "one", "name": "One", "state": 0}
    )
    assert (inserted["identifier"], inserted["name"], inserted["description"]) == ("one", "One", None)
    updated = store.update_row("projects", inserted["id"], {"updated_at": "b", "description": "first"})
    assert (updated["id"], updated["name"], updated["description"], updated["updated_at"]) == (
        inserted["id"],
        "One",
        "first",
        "b",
    )
    with pytest.raises(LookupError):
        store.update_row("projects", 12345, {"updated_at": "c"})


@pytest.mark.parametrize(
    "moment",
    [
        datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        datetime.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.timezone.utc),
        datetime.datetime(2024, 6, 1, 23, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
    ],
)
def test_stored_timestamps_match_the_filters_text_and_read_back(moment: datetime.datetime) -> None:
    assert stored_text(moment) == format_timestamp(moment)
    assert parse_stored(stored_text(moment)) == moment
    assert parse_stored(None) is None


def test_events_return_their_rows_and_keep_inputs_and_outputs_in_them(records: Records) -> None:
    inputs = literals_pb2.LiteralMap()
    inputs.literals["x"].scalar.primitive.integer = 3
    task_id = identifier_pb2.Identifier(resource_type=identifier_pb2.TASK, project="p", domain="d", name="t")
    node = records.node_event(KEY, "n0", NodePhase.RUNNING, inputs=inputs, current=None)
    assert (node["phase"], node["started_at"] is not None) == ("RUNNING", True)
    attempt = records.task_event(KEY, "n0", task_id, 0, TaskPhase.RUNNING, inputs=inputs, current=None)
    attempt = records.task_event(KEY, "n0", task_id, 0, TaskPhase.SUCCEEDED, outputs=inputs, current=attempt)
    node = records.node_event(KEY, "n0", NodePhase.SUCCEEDED, outputs=inputs, current=node)
    assert (node["phase"], attempt["phase"]) == ("SUCCEEDED", "SUCCEEDED")
    assert node["duration"] is not None
    assert attempt["duration"] is not None
    # A terminal node ignores later events (and says so by returning its row unchanged).
    assert records.node_event(KEY, "n0", NodePhase.FAILED)["phase"] == "SUCCEEDED"
    data = inputs.SerializeToString(deterministic=True)
    prefix = "metadata/p/d/run"
    assert records.stored_object(f"{prefix}/n0/offloaded_outputs") == data
    assert records.stored_object(f"{prefix}/n0/inputs.pb") == data
    assert records.stored_object(f"{prefix}/n0/0/outputs.pb") == data
    assert records.stored_object(f"{prefix}/n0/0/inputs.pb") == data
    assert records.blobs.get(f"{prefix}/n0/0/outputs.pb") == data  # the blob store asks the records
    assert records.stored_object(f"{prefix}/offloaded_outputs") is None  # the run has no outputs yet


def test_a_workflow_event_via_a_phase_checks_both_changes(records: Records) -> None:
    running = records.workflow_event(KEY, WorkflowPhase.RUNNING)
    assert running["phase"] == "RUNNING"
    records.store.execute("UPDATE executions SET phase = 'ABORTING'")
    closure = admin_execution_pb2.ExecutionClosure.FromString(running["closure"])
    closure.phase = WorkflowPhase.ABORTING
    records.store.execute("UPDATE executions SET closure = ?", (closure.SerializeToString(),))
    with pytest.raises(AdminError) as refused:
        records.workflow_event(KEY, WorkflowPhase.SUCCEEDED, via=WorkflowPhase.SUCCEEDING)
    assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
    aborted = records.workflow_event(KEY, WorkflowPhase.ABORTED)
    assert aborted["phase"] == "ABORTED"


def test_a_workflow_event_via_a_phase_is_one_write_with_the_final_phase(records: Records) -> None:
    row = records.workflow_event(KEY, WorkflowPhase.RUNNING)
    outputs = literals_pb2.LiteralMap()
    outputs.literals["o0"].scalar.primitive.integer = 1
    done = records.workflow_event(
        KEY, WorkflowPhase.SUCCEEDED, via=WorkflowPhase.SUCCEEDING, outputs=outputs, current=row
    )
    closure = admin_execution_pb2.ExecutionClosure.FromString(done["closure"])
    assert (done["phase"], closure.phase) == ("SUCCEEDED", WorkflowPhase.SUCCEEDED)
    assert closure.outputs.uri == "s3://my-s3-bucket/metadata/p/d/run/offloaded_outputs"
    assert closure.HasField("duration")
    assert closure.HasField("started_at")
    assert records.stored_object("metadata/p/d/run/offloaded_outputs") == outputs.SerializeToString(deterministic=True)
    with pytest.raises(AdminError) as repeated:
        records.workflow_event(KEY, WorkflowPhase.SUCCEEDED)
    assert repeated.value.code == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(AdminError) as after_the_end:
        records.workflow_event(KEY, WorkflowPhase.RUNNING)
    assert after_the_end.value.code == grpc.StatusCode.FAILED_PRECONDITION


def _fill(store: Store, rows: int) -> None:
    store.execute("CREATE TABLE filler (data BLOB)")
    for _ in range(rows):
        store.execute("INSERT INTO filler VALUES (?)", (b"x" * 4096,))


def test_an_in_memory_store_outgrowing_memdb_moves_to_memory_with_its_data(monkeypatch) -> None:
    import flyte_admin_sandbox.store as store_module

    monkeypatch.setattr(store_module, "MEMDB_LIMIT", 64 * 4096)
    store = Store()
    assert store.in_memdb
    store.insert_row("projects", {"created_at": "a", "updated_at": "a", "identifier": "kept", "name": "Kept"})
    _fill(store, 1100)  # past the limit, and past two size checks
    assert not store.in_memdb
    assert store.one("SELECT name FROM projects WHERE identifier = 'kept'")["name"] == "Kept"
    assert store.one("SELECT COUNT(*) FROM filler")[0] == 1100
    with store.transaction():  # the moved store works as before: writes, rollbacks, case-sensitive LIKE
        store.execute("INSERT INTO filler VALUES (x'00')")
    assert store.one("SELECT COUNT(*) FROM filler")[0] == 1101
    assert store.one("SELECT COUNT(*) FROM projects WHERE name LIKE 'kept'")[0] == 0
    store.close()


def test_an_sqlite_without_memdb_keeps_the_store_in_memory(monkeypatch) -> None:
    import flyte_admin_sandbox.store as store_module

    real_connect = store_module.sqlite3.connect

    def connect(database: str, *args: object, **kwargs: object) -> object:
        if "vfs=memdb" in database:
            raise store_module.sqlite3.OperationalError("no such vfs: memdb")
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(store_module.sqlite3, "connect", connect)
    store = Store()
    assert not store.in_memdb
    _fill(store, 10)
    assert store.one("SELECT COUNT(*) FROM filler")[0] == 10
    store.close()


def test_file_stores_keep_their_journal_settings(tmp_path) -> None:
    store = Store(tmp_path / "state.db")
    assert not store.in_memdb
    assert store.one("PRAGMA journal_mode")[0] == "wal"
    store.close()
