"""Attempts, timeouts, aborts, recover/relaunch, scripted behaviours, restarts, metrics and the seeded demos."""

from __future__ import annotations

import datetime

import pytest
from engine_helpers import (
    NODE,
    TASK,
    TERMINAL,
    WF,
    attempts,
    eventually,
    fast_sandbox,
    get,
    launch_plan,
    node_id,
    node_outputs,
    nodes,
    outputs,
    run,
    task,
    task_node,
    unique,
    wait,
    workflow,
)
from flyte_admin_sandbox import builders as b
from flyte_admin_sandbox.behaviours import Behaviours, TaskScript
from flyteidl.admin import execution_pb2, task_execution_pb2
from flyteidl.core import identifier_pb2

from airflow_provider_flyte.clients import SynchronousFlyteClient
from airflow_provider_flyte.literals import literal_map_to_python

INT = {"x": b.INTEGER}
OUT = {"o0": b.INTEGER}


def _one_task_plan(admin, task_id, inputs=INT, outputs=OUT):
    workflow_id = workflow(
        admin,
        f"{task_id.name}.wf",
        inputs=inputs,
        outputs=outputs,
        nodes=[task_node("n0", task_id, {name: b.workflow_input(name) for name in inputs})],
        output_bindings={name: b.promise("n0", name) for name in outputs},
    )
    return launch_plan(admin, workflow_id)


def test_retries_produce_one_task_execution_per_attempt(admin, sandbox):
    name = unique("t.flaky")
    plan = _one_task_plan(admin, task(admin, name, INT, OUT, retries=3))
    sandbox.script(name, fail_attempts=2, outputs={"o0": 42})
    execution_id = run(admin, plan, {"x": 1}, INT)
    assert wait(admin, execution_id).closure.phase == WF.SUCCEEDED
    assert outputs(admin, execution_id) == {"o0": 42}
    tried = attempts(admin, execution_id, "n0")
    assert [(attempt.id.retry_attempt, attempt.closure.phase) for attempt in tried] == [
        (0, TASK.FAILED),
        (1, TASK.FAILED),
        (2, TASK.SUCCEEDED),
    ]
    assert tried[0].closure.error.message == "scripted failure of attempt 0"
    assert nodes(admin, execution_id)["n0"].closure.phase == NODE.SUCCEEDED
    data = admin.GetTaskExecutionData(task_execution_pb2.TaskExecutionGetDataRequest(id=tried[2].id))
    assert literal_map_to_python(data.full_inputs) == {"x": 1}
    assert literal_map_to_python(data.full_outputs) == {"o0": 42}
    assert data.flyte_urls.outputs.endswith(f"/{execution_id.name}/n0/2/o")


def test_retries_run_out(admin, sandbox):
    name = unique("t.broken")
    plan = _one_task_plan(admin, task(admin, name, INT, OUT, retries=1))
    sandbox.script(name, fail="disk full")
    execution_id = run(admin, plan, {"x": 1}, INT)
    done = wait(admin, execution_id)
    assert done.closure.phase == WF.FAILED
    assert done.closure.error.message == "[n0]: disk full"
    assert [attempt.closure.phase for attempt in attempts(admin, execution_id, "n0")] == [TASK.FAILED, TASK.FAILED]
    assert nodes(admin, execution_id)["n0"].closure.phase == NODE.FAILED


def test_task_timeout_leaves_the_node_timed_out(admin, sandbox):
    name = unique("t.slow")
    plan = _one_task_plan(admin, task(admin, name, INT, OUT, retries=1, timeout=0.1))
    sandbox.script(name, hang=True)
    execution_id = run(admin, plan, {"x": 1}, INT)
    done = wait(admin, execution_id)
    assert done.closure.phase == WF.FAILED
    assert done.closure.error.code == "TimedOut"
    assert nodes(admin, execution_id)["n0"].closure.phase == NODE.TIMED_OUT
    tried = attempts(admin, execution_id, "n0")
    assert [attempt.closure.phase for attempt in tried] == [TASK.FAILED, TASK.FAILED]
    assert "timed out after 0.1s" in tried[1].closure.error.message


def test_node_timeout_bounds_all_attempts_together(admin, sandbox):
    from google.protobuf import duration_pb2

    name = unique("t.deadline")
    task_id = task(admin, name, INT, OUT, retries=5)
    sandbox.script(name, hang=True)
    node = task_node("n0", task_id, {"x": b.workflow_input("x")})
    node.metadata.timeout.CopyFrom(duration_pb2.Duration(nanos=100_000_000))
    workflow_id = workflow(
        admin, name, inputs=INT, outputs=OUT, nodes=[node], output_bindings={"o0": b.promise("n0", "o0")}
    )
    execution_id = run(admin, launch_plan(admin, workflow_id), {"x": 1}, INT)
    done = wait(admin, execution_id)
    assert done.closure.phase == WF.FAILED
    assert done.closure.error.message == "[n0]: node n0 timed out after 0.1s"
    assert nodes(admin, execution_id)["n0"].closure.phase == NODE.TIMED_OUT
    assert [attempt.closure.phase for attempt in attempts(admin, execution_id, "n0")] == [TASK.FAILED]


def test_abort_cascades_to_running_nodes_and_child_executions(admin, sandbox):
    name = unique("t.stuck")
    stuck = task(admin, name, INT, OUT)
    sandbox.script(name, hang=True)
    child_plan = _one_task_plan(admin, stuck)
    from engine_helpers import binding_map
    from flyteidl.core import workflow_pb2 as core_workflow_pb2

    lp_node = core_workflow_pb2.Node(
        id="child",
        inputs=binding_map({"x": b.workflow_input("x")}),
        workflow_node=core_workflow_pb2.WorkflowNode(launchplan_ref=child_plan),
    )
    parent = workflow(
        admin,
        f"{name}.parent",
        inputs=INT,
        outputs=OUT,
        nodes=[lp_node, task_node("local", stuck, {"x": b.workflow_input("x")})],
        output_bindings={"o0": b.promise("child", "o0")},
    )
    execution_id = run(admin, launch_plan(admin, parent), {"x": 1}, INT)

    def child_running():
        node = nodes(admin, execution_id).get("child")
        if node is None or not node.closure.workflow_node_metadata.HasField("executionId"):
            return None
        child = get(admin, node.closure.workflow_node_metadata.executionId)
        return child if child.closure.phase == WF.RUNNING and "n0" in nodes(admin, child.id) else None

    child = eventually(child_running, what="the child execution to run")
    admin.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=execution_id, cause="changed my mind"))
    aborted = wait(admin, execution_id)
    assert aborted.closure.phase == WF.ABORTED
    assert aborted.closure.abort_metadata.cause == "changed my mind"
    top = nodes(admin, execution_id)
    assert (top["child"].closure.phase, top["local"].closure.phase) == (NODE.ABORTED, NODE.ABORTED)
    assert [attempt.closure.phase for attempt in attempts(admin, execution_id, "local")] == [TASK.ABORTED]
    child_done = wait(admin, child.id)
    assert child_done.closure.phase == WF.ABORTED
    assert child_done.closure.abort_metadata.cause == "parent execution was aborted"
    assert nodes(admin, child.id)["n0"].closure.phase == NODE.ABORTED


def _policy_workflow(admin, sandbox, policy, independent_script):
    """``bad`` fails, ``after_bad`` depends on it, ``independent`` does not."""
    name = unique("t.policy")
    bad = task(admin, f"{name}.bad", {}, OUT)
    sandbox.script(f"{name}.bad", fail="the bad node broke")
    independent = task(admin, f"{name}.independent", {}, OUT)
    sandbox.script(f"{name}.independent", **independent_script)
    after = task(admin, f"{name}.after", INT, OUT)
    workflow_id = workflow(
        admin,
        name,
        nodes=[
            task_node("bad", bad),
            task_node("after_bad", after, {"x": b.promise("bad", "o0")}, ["bad"]),
            task_node("independent", independent),
        ],
        on_failure=policy,
    )
    return run(admin, launch_plan(admin, workflow_id))


def test_fail_immediately_aborts_the_nodes_still_running(admin, sandbox):
    execution_id = _policy_workflow(admin, sandbox, b.FAIL_IMMEDIATELY, {"hang": True})
    done = wait(admin, execution_id)
    assert done.closure.phase == WF.FAILED
    assert done.closure.error.message == "[bad]: the bad node broke"
    listed = nodes(admin, execution_id)
    assert (listed["bad"].closure.phase, listed["independent"].closure.phase) == (NODE.FAILED, NODE.ABORTED)
    assert "after_bad" not in listed


def test_fail_after_executable_nodes_complete_lets_independent_nodes_finish(admin, sandbox):
    execution_id = _policy_workflow(
        admin, sandbox, b.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE, {"duration": 0.3, "outputs": {"o0": 7}}
    )
    done = wait(admin, execution_id)
    assert done.closure.phase == WF.FAILED
    assert done.closure.error.message == "[bad]: the bad node broke"
    listed = nodes(admin, execution_id)
    assert (listed["bad"].closure.phase, listed["independent"].closure.phase) == (NODE.FAILED, NODE.SUCCEEDED)
    assert "after_bad" not in listed  # downstream of the failure: never started
    assert node_outputs(admin, execution_id, "independent") == {"o0": 7}


def test_recover_reuses_succeeded_nodes_and_relaunch_runs_everything(admin, sandbox):
    name = unique("t.two-step")
    first = task(admin, f"{name}.first", INT, OUT)
    second = task(admin, f"{name}.second", INT, OUT)
    calls: list[int] = []

    def count_and_double(x: int) -> int:
        calls.append(x)
        return 2 * x

    sandbox.script(f"{name}.first", outputs=count_and_double)
    sandbox.script(f"{name}.second", fail="not yet")
    workflow_id = workflow(
        admin,
        name,
        inputs=INT,
        outputs=OUT,
        nodes=[
            task_node("n0", first, {"x": b.workflow_input("x")}),
            task_node("n1", second, {"x": b.promise("n0", "o0")}),
        ],
        output_bindings={"o0": b.promise("n1", "o0")},
    )
    original = run(admin, launch_plan(admin, workflow_id), {"x": 5}, INT)
    assert wait(admin, original).closure.phase == WF.FAILED
    assert calls == [5]

    sandbox.script(f"{name}.second", outputs=lambda x: x + 1)
    recovered = admin.RecoverExecution(execution_pb2.ExecutionRecoverRequest(id=original)).id
    assert wait(admin, recovered).closure.phase == WF.SUCCEEDED
    assert outputs(admin, recovered) == {"o0": 11}
    phases = {node: execution.closure.phase for node, execution in nodes(admin, recovered).items()}
    assert phases["n0"] == NODE.RECOVERED
    assert phases["n1"] == NODE.SUCCEEDED
    assert attempts(admin, recovered, "n0") == []  # not run again
    assert calls == [5]

    relaunched = admin.RelaunchExecution(execution_pb2.ExecutionRelaunchRequest(id=original)).id
    assert wait(admin, relaunched).closure.phase == WF.SUCCEEDED
    assert {node.closure.phase for node in nodes(admin, relaunched).values()} == {NODE.SUCCEEDED}
    assert calls == [5, 5]


def test_scripted_behaviours_and_default_outputs(admin, sandbox):
    name = unique("t.scripted")
    task_id = task(admin, name, INT, {"o0": b.INTEGER, "label": b.STRING})
    plan = _one_task_plan(admin, task_id, outputs={"o0": b.INTEGER, "label": b.STRING})

    default = run(admin, plan, {"x": 3}, INT)
    assert wait(admin, default).closure.phase == WF.SUCCEEDED
    assert outputs(admin, default) == {"o0": 2, "label": "label"}  # derived from the interface: len(name), name

    sandbox.script(name, outputs=lambda x: {"o0": x * 10, "label": f"x={x}"})
    computed = run(admin, plan, {"x": 3}, INT)
    assert wait(admin, computed).closure.phase == WF.SUCCEEDED
    assert outputs(admin, computed) == {"o0": 30, "label": "x=3"}

    # A script for one version wins over a script for every version.
    sandbox.script(b.identifier(b.RT.TASK, name, "v1"), outputs=lambda x: (_ for _ in ()).throw(KeyError("nope")))
    failing = run(admin, plan, {"x": 3}, INT)
    done = wait(admin, failing)
    assert done.closure.phase == WF.FAILED
    assert done.closure.error.message == "[n0]: KeyError: 'nope'"
    assert done.closure.error.code == "USER:KeyError"

    sandbox.engine.behaviours.unscript(b.identifier(b.RT.TASK, name, "v1"))
    sandbox.script(name, outputs=lambda x: x)  # a single value for two outputs
    mismatched = run(admin, plan, {"x": 3}, INT)
    assert "expected a dict with keys label, o0" in wait(admin, mismatched).closure.error.message


def test_script_arguments_are_checked():
    with pytest.raises(ValueError, match="duration must not be negative"):
        TaskScript(duration=-1)
    with pytest.raises(TypeError, match="outputs must be a mapping or a callable"):
        TaskScript(outputs=3)  # type: ignore[arg-type]
    behaviours = Behaviours()
    with pytest.raises(ValueError, match="needs a name"):
        behaviours.script(identifier_pb2.Identifier(), TaskScript())


def _wait_running_node(admin, execution_id, node: str) -> None:
    eventually(
        lambda: (found := nodes(admin, execution_id).get(node)) is not None and found.closure.phase == NODE.RUNNING,
        what=f"node {node} to run",
    )


def _engine_caught_up(admin, plan) -> None:
    """Return once the engine has run every tick planned so far (``plan`` must run a task that finishes).

    The engine ticks one execution at a time in due order: once a second quick execution, started after a first
    one ended, ends too, every tick planned before the first one ended has run.
    """
    for _ in range(2):
        assert wait(admin, run(admin, plan, {"x": 1}, INT)).closure.phase == WF.SUCCEEDED


def test_a_new_script_reaches_an_attempt_already_hanging(admin, sandbox):
    name = unique("t.unstuck")
    plan = _one_task_plan(admin, task(admin, name, INT, OUT))
    sandbox.script(name, hang=True)
    execution_id = run(admin, plan, {"x": 1}, INT)
    eventually(lambda: attempts(admin, execution_id, "n0"), what="the first attempt")
    # Every tick of the run has now seen the hanging script; nothing is planned for it any more.
    _engine_caught_up(admin, _one_task_plan(admin, task(admin, unique("t.quick"), INT, OUT)))
    sandbox.script(name, outputs=lambda x: x + 10)
    assert wait(admin, execution_id).closure.phase == WF.SUCCEEDED
    assert outputs(admin, execution_id) == {"o0": 11}
    assert [attempt.closure.phase for attempt in attempts(admin, execution_id, "n0")] == [TASK.SUCCEEDED]


def test_restart_on_the_same_database_resumes_running_executions(tmp_path):
    import grpc
    from flyteidl.admin import task_pb2
    from flyteidl.service import admin_pb2_grpc

    database = tmp_path / "sandbox.db"
    sandbox = fast_sandbox(db_path=database, seed=True).start()
    try:
        channel = grpc.insecure_channel(sandbox.endpoint)
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        template = b.container_task("t.long", inputs=INT, outputs=OUT)
        admin.CreateTask(task_pb2.TaskCreateRequest(id=template.id, spec=task_pb2.TaskSpec(template=template)))
        plan = _one_task_plan(admin, template.id)
        # The attempt cannot finish before the restart: it hangs until the script changes after it.
        sandbox.script("t.long", hang=True)
        execution_id = run(admin, plan, {"x": 1}, INT, name="survivor")
        _wait_running_node(admin, execution_id, "n0")
        sandbox.restart()
        sandbox.script("t.long", outputs=lambda x: x + 10)
        assert wait(admin, execution_id).closure.phase == WF.SUCCEEDED
        assert outputs(admin, execution_id) == {"o0": 11}
        assert [attempt.closure.phase for attempt in attempts(admin, execution_id, "n0")] == [TASK.SUCCEEDED]

        sandbox.script("t.long", hang=True)
        second = run(admin, plan, {"x": 1}, INT, name="survivor-two")
        _wait_running_node(admin, execution_id=second, node="n0")
        channel.close()
    finally:
        sandbox.close()
    # A new sandbox on the same file: scripts were in memory, so the resumed run gets the default behaviour.
    with fast_sandbox(db_path=database, seed=True) as reopened, SynchronousFlyteClient(reopened.config) as client:
        eventually(lambda: client.get_execution(second).closure.phase == WF.SUCCEEDED, what="the resumed execution")
        data = client.get_execution_data(second)
        assert literal_map_to_python(data.full_outputs) == {"o0": 2}  # the placeholder, len("o0")
        tried, _ = client.list_task_executions_paginated(node_id(second, "n0"))
        assert [attempt.closure.phase for attempt in tried] == [TASK.SUCCEEDED]


def test_metrics_spans_follow_nodes_and_attempts(admin, sandbox):
    name = unique("t.measured")
    plan = _one_task_plan(admin, task(admin, name, INT, OUT, retries=1))
    sandbox.script(name, fail_attempts=1)
    execution_id = run(admin, plan, {"x": 1}, INT)
    assert wait(admin, execution_id).closure.phase == WF.SUCCEEDED
    span = admin.GetExecutionMetrics(execution_pb2.WorkflowExecutionGetMetricsRequest(id=execution_id, depth=10)).span
    node_spans = [child for child in span.spans if child.HasField("node_id")]
    assert [child.node_id.node_id for child in node_spans] == ["n0"]
    task_spans = [child for child in node_spans[0].spans if child.HasField("task_id")]
    assert [child.task_id.retry_attempt for child in task_spans] == [0, 1]
    assert [child.operation_id for child in task_spans[1].spans] == ["TASK_SETUP", "TASK_RUNTIME"]


def test_seeded_demos_through_our_client(sandbox):
    with SynchronousFlyteClient(sandbox.config) as client:

        def start(plan: str, values, types):
            spec = execution_pb2.ExecutionSpec(launch_plan=b.identifier(b.RT.LAUNCH_PLAN, plan))
            return client.create_execution("flytesnacks", "development", None, spec, b.literal_map(values, types))

        def finish(execution_id):
            return eventually(
                lambda: done if (done := client.get_execution(execution_id)).closure.phase in TERMINAL else None,
                what=f"{execution_id.name} to finish",
            )

        kickoff = datetime.datetime(2026, 1, 2, 2, 0, tzinfo=datetime.timezone.utc)
        pipeline = start("demo.pipeline", {"numbers": [1, 2, 3, 4]}, {"numbers": b.list_of(b.INTEGER)})
        nightly = start("demo.nightly", {"kickoff_time": kickoff}, {"kickoff_time": b.DATETIME})
        failing = start("demo.always_fails", {}, {})
        assert finish(pipeline).closure.phase == WF.SUCCEEDED
        assert literal_map_to_python(client.get_execution_data(pipeline).full_outputs) == {
            "total": 10,
            "mean": 5.0,
            "report": "demo: mean 5.000 over 4 value(s)",
        }
        assert finish(nightly).closure.phase == WF.SUCCEEDED
        assert literal_map_to_python(client.get_execution_data(nightly).full_outputs) == {
            "o0": "processing eu data for 2026-01-02T02:00:00+00:00"
        }
        failed = finish(failing)
        assert failed.closure.phase == WF.FAILED
        assert failed.closure.error.message == "[explode]: ValueError: demo failure: this run was meant to fail"
        children = list(client.iter_node_executions(pipeline))
        assert [node.id.node_id for node in children] == ["start-node", "summarize", "mean", "report", "end-node"]
        assert list(client.iter_signals(pipeline)) == []
