"""The engine under load: many executions at once, ticks that fail, Admin calls that never stop, and close().

Nothing here is timed (the machines are shared): the tests check what happens, not how fast. The benchmark
``benchmarks/bench_sandbox.py`` measures the speed.
"""

from __future__ import annotations

import threading
from typing import Any

import grpc
from engine_helpers import (
    WF,
    attempts,
    eventually,
    fast_sandbox,
    launch_plan,
    nodes,
    outputs,
    run,
    task,
    task_node,
    unique,
    wait,
    workflow,
)
from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox import builders as b
from flyte_admin_sandbox import engine as engine_module
from flyte_admin_sandbox.records import ExecutionKey
from flyteidl.admin import common_pb2, execution_pb2
from flyteidl.service import admin_pb2_grpc

INT = {"x": b.INTEGER}
OUT = {"o0": b.INTEGER}


def _chain(admin, length: int = 3) -> Any:
    """A chain of ``length`` tasks, each adding nothing (the default outputs: ``o0`` is 2), as a launch plan."""
    step = task(admin, unique("t.step"), INT, OUT)
    chain_nodes = [
        task_node(f"n{index}", step, {"x": b.workflow_input("x") if index == 0 else b.promise(f"n{index - 1}", "o0")})
        for index in range(length)
    ]
    workflow_id = workflow(
        admin,
        unique("wf.chain"),
        inputs=INT,
        outputs=OUT,
        nodes=chain_nodes,
        output_bindings={"o0": b.promise(f"n{length - 1}", "o0")},
    )
    return launch_plan(admin, workflow_id)


def _succeeded(admin, prefix: str) -> int:
    listed = admin.ListExecutions(
        common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project="flytesnacks", domain="development"),
            limit=10_000,
            filters=f"eq(phase,SUCCEEDED)+contains(execution_name,{prefix})",
        )
    )
    return len(listed.executions)


def test_many_executions_all_finish_with_their_outputs_and_no_file_per_node(admin, sandbox: FlyteSandbox) -> None:
    plan = _chain(admin)
    prefix = unique("many")
    ids = [run(admin, plan, {"x": index}, INT, name=f"{prefix}-{index}") for index in range(300)]
    eventually(lambda: _succeeded(admin, prefix) == len(ids), limit=120, what="all executions to succeed")
    for execution_id in ids[:: len(ids) // 10]:
        assert outputs(admin, execution_id) == {"o0": 2}
        assert sorted(nodes(admin, execution_id)) == ["end-node", "n0", "n1", "n2", "start-node"]
        assert [attempt.closure.phase for attempt in attempts(admin, execution_id, "n1")] == [3]  # SUCCEEDED once
    # Outputs live in the store: no node wrote a file into the bucket folder.
    assert not (sandbox.blobs.root / "metadata").exists()


def test_a_tick_that_fails_leaves_nothing_of_it_behind(admin, sandbox: FlyteSandbox, monkeypatch) -> None:
    plan = _chain(admin, length=1)
    engine, records = sandbox.engine, sandbox.records
    failed_once = threading.Event()
    tick_ended = threading.Event()
    looked = threading.Event()
    real_task_event = records.task_event
    real_batch = engine._tick_batch

    def task_event(*args: Any, **kwargs: Any) -> Any:
        row = real_task_event(*args, **kwargs)  # written, then the tick fails: the write must be undone
        if not failed_once.is_set():
            failed_once.set()
            raise RuntimeError("the disk is full (injected)")
        return row

    def batch(first: ExecutionKey) -> None:
        real_batch(first)  # its transaction is over when it returns
        if failed_once.is_set() and not tick_ended.is_set():
            tick_ended.set()
            looked.wait(30)  # no retry before the test has looked at the store

    monkeypatch.setattr(records, "task_event", task_event)
    monkeypatch.setattr(engine, "_tick_batch", batch)
    execution_id = run(admin, plan, {"x": 1}, INT, name=unique("rolled-back"))
    try:
        assert tick_ended.wait(30)
        key = ExecutionKey.of(execution_id)
        # The first tick recorded RUNNING, the start node, the node and its attempt, then failed: none of it stayed.
        assert records.execution_row(key)["phase"] == "UNDEFINED"
        assert records.node_rows(key) == {}
    finally:
        looked.set()
    assert wait(admin, execution_id).closure.phase == WF.SUCCEEDED  # the next tick did it all again
    assert [attempt.id.retry_attempt for attempt in attempts(admin, execution_id, "n0")] == [0]


def test_a_failing_tick_undoes_only_its_own_writes_in_a_batch(admin, sandbox: FlyteSandbox, monkeypatch) -> None:
    plan = _chain(admin, length=1)
    engine, records = sandbox.engine, sandbox.records
    prefix = unique("batch")
    doomed = f"{prefix}-2"
    real_task_event = records.task_event
    batches: list[list[str]] = []
    first_batch_done = threading.Event()
    real_tick = engine._tick_in_savepoint
    real_batch = engine._tick_batch

    def task_event(key: ExecutionKey, *args: Any, **kwargs: Any) -> Any:
        row = real_task_event(key, *args, **kwargs)
        if key.name == doomed and not batches[1:]:
            raise RuntimeError("injected")
        return row

    def tick(key: ExecutionKey) -> None:
        batches[-1].append(key.name)
        real_tick(key)

    def batch(first: ExecutionKey) -> None:
        batches.append([])
        real_batch(first)
        first_batch_done.set()

    monkeypatch.setattr(records, "task_event", task_event)
    monkeypatch.setattr(engine, "_tick_in_savepoint", tick)
    monkeypatch.setattr(engine, "_tick_batch", batch)
    monkeypatch.setattr(engine_module, "BATCH_SECONDS", 60.0)  # a batch ends on its own only when nothing is due
    monkeypatch.setattr(engine_module, "API_BUSY_SECONDS", 0.0)  # nor because the chain was just registered
    with engine._condition:  # the engine cannot take a tick meanwhile: the five first ticks are due together
        ids = [
            sandbox.executions.CreateExecution(
                execution_pb2.ExecutionCreateRequest(
                    project="flytesnacks",
                    domain="development",
                    name=f"{prefix}-{index}",
                    spec=execution_pb2.ExecutionSpec(launch_plan=plan),
                    inputs=b.literal_map({"x": 1}, INT),
                )
            ).id
            for index in range(5)
        ]
    assert first_batch_done.wait(30)  # nothing touched the store meanwhile, so no Admin call cut the batch short
    assert sorted(batches[0]) == sorted(execution_id.name for execution_id in ids)
    for execution_id in ids:
        # The doomed tick's writes were undone and done again later; the other four ticks of its batch stayed.
        assert wait(admin, execution_id).closure.phase == WF.SUCCEEDED
        assert [attempt.id.retry_attempt for attempt in attempts(admin, execution_id, "n0")] == [0]
    assert any(doomed in names for names in batches[1:])  # ticked again after its first tick failed


def test_executions_finish_while_admin_calls_never_stop(admin, sandbox: FlyteSandbox) -> None:
    plan = _chain(admin)
    stop = threading.Event()
    calls = [0]

    def hammer() -> None:
        with grpc.insecure_channel(sandbox.endpoint) as channel:
            stub = admin_pb2_grpc.AdminServiceStub(channel)
            request = common_pb2.ResourceListRequest(
                id=common_pb2.NamedEntityIdentifier(project="flytesnacks", domain="development"), limit=5
            )
            while not stop.is_set():
                stub.ListExecutions(request)
                calls[0] += 1

    hammers = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in hammers:
        thread.start()
    try:
        prefix = unique("busy")
        ids = [run(admin, plan, {"x": 1}, INT, name=f"{prefix}-{index}") for index in range(30)]
        for execution_id in ids:
            assert wait(admin, execution_id).closure.phase == WF.SUCCEEDED
    finally:
        stop.set()
        for thread in hammers:
            thread.join()
    assert calls[0] > 0
    assert sandbox.records.store.waiting == 0


def _sandbox_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name.startswith("flyte-sandbox")}


def test_close_with_many_executions_running_leaves_no_thread_behind() -> None:
    before = _sandbox_threads()
    sandbox = fast_sandbox(task_delay=30.0, seed=False).start()
    try:
        from flyteidl.admin import project_pb2

        sandbox.registry.RegisterProject(
            project_pb2.ProjectRegisterRequest(project=project_pb2.Project(id="flytesnacks", name="flytesnacks"))
        )
        with grpc.insecure_channel(sandbox.endpoint) as channel:
            admin = admin_pb2_grpc.AdminServiceStub(channel)
            plan = _chain(admin)
            ids = [run(admin, plan, {"x": 1}, INT, name=f"open-{index}") for index in range(400)]
            # Every execution has started: its first node runs (and would for another 30 seconds).
            eventually(
                lambda: all(
                    admin.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=execution_id)).closure.phase
                    == WF.RUNNING
                    for execution_id in ids[-5:]
                ),
                what="the last executions to run",
            )
        assert _sandbox_threads() - before
    finally:
        sandbox.close()
    left = [thread for thread in _sandbox_threads() - before if thread.is_alive()]
    assert left == []
