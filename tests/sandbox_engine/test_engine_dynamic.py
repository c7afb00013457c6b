"""Dynamic tasks: a task attempt produces a DynamicJobSpec and the engine runs it as the node's children."""

from __future__ import annotations

import grpc
import pytest
from engine_helpers import (
    NODE,
    TASK,
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
from flyteidl.admin import execution_pb2, node_execution_pb2, task_pb2
from flyteidl.service import admin_pb2_grpc

INT = {"x": b.INTEGER}
OUT = {"o0": b.INTEGER}
NUMBERS = {"numbers": b.list_of(b.INTEGER)}
COLLECTED = {"o0": b.list_of(b.INTEGER)}
DEMO = "flyte_admin_sandbox.demo_tasks"


def _register(admin, template) -> None:
    admin.CreateTask(task_pb2.TaskCreateRequest(id=template.id, spec=task_pb2.TaskSpec(template=template)))


def _fan_out_plan(admin, name: str, *, node_timeout: float | None = None):
    """A workflow whose only node runs the demo dynamic task ``fan_out_squares``."""
    dynamic = b.python_task(name, f"{DEMO}:fan_out_squares", inputs=NUMBERS, outputs=COLLECTED)
    _register(admin, dynamic)
    node = task_node("n0", dynamic.id, {"numbers": b.workflow_input("numbers")})
    if node_timeout is not None:
        node.metadata.timeout.FromSeconds(int(node_timeout))
    workflow_id = workflow(
        admin, name, inputs=NUMBERS, outputs=COLLECTED, nodes=[node], output_bindings={"o0": b.promise("n0", "o0")}
    )
    return launch_plan(admin, workflow_id)


def _scripted_dynamic(admin, sandbox, name: str, child_id, count: int, **job):
    """A container task scripted to return a dynamic job running ``child_id`` once per index, collecting ``o0``."""
    calls: list[int] = []
    chosen_outputs = job.pop("outputs", None)

    def generate(x: int):
        calls.append(x)
        children = [task_node(f"c{index}", child_id, {"x": b.constant(x + index, b.INTEGER)}) for index in range(count)]
        bindings = chosen_outputs or {"o0": b.collection([b.promise(child.id, "o0") for child in children])}
        return b.dynamic_job(children, bindings, **job)

    dynamic_id = task(admin, name, INT, COLLECTED)
    sandbox.script(name, outputs=generate)
    workflow_id = workflow(
        admin,
        name,
        inputs=INT,
        outputs=COLLECTED,
        nodes=[task_node("n0", dynamic_id, {"x": b.workflow_input("x")})],
        output_bindings={"o0": b.promise("n0", "o0")},
    )
    return launch_plan(admin, workflow_id), calls


def _children(admin, execution_id, parent: str = "n0") -> dict[str, node_execution_pb2.NodeExecution]:
    if parent not in nodes(admin, execution_id):
        return {}  # the parent has not started yet (listing its children would be NOT_FOUND)
    return nodes(admin, execution_id, parent=parent)


def test_python_dynamic_task_fans_out_and_collects_the_outputs(admin, sandbox):
    plan = _fan_out_plan(admin, unique("t.fan-out"))
    execution_id = run(admin, plan, {"numbers": [3, 1, 2]}, NUMBERS)
    assert wait(admin, execution_id).closure.phase == WF.SUCCEEDED
    assert outputs(admin, execution_id) == {"o0": [9, 1, 4]}

    top = nodes(admin, execution_id)
    assert set(top) == {"start-node", "n0", "end-node"}  # children are not top-level nodes
    dynamic = top["n0"]
    assert dynamic.closure.phase == NODE.SUCCEEDED
    assert dynamic.metadata.is_dynamic
    assert dynamic.metadata.is_parent_node
    assert dynamic.closure.dynamic_job_spec_uri.endswith("/n0/0/futures.pb")
    assert node_outputs(admin, execution_id, "n0") == {"o0": [9, 1, 4]}

    children = _children(admin, execution_id)
    assert set(children) == {"n0-0-n0", "n0-0-n1", "n0-0-n2"}
    assert {child.metadata.spec_node_id for child in children.values()} == {"n0", "n1", "n2"}
    assert {child.metadata.retry_group for child in children.values()} == {"0"}
    assert {child.closure.phase for child in children.values()} == {NODE.SUCCEEDED}
    assert node_outputs(admin, execution_id, "n0-0-n2") == {"o0": 4}

    (generating,) = attempts(admin, execution_id, "n0")
    assert generating.closure.phase == TASK.SUCCEEDED
    assert generating.is_parent
    launched = admin.ListNodeExecutionsForTask(
        node_execution_pb2.NodeExecutionForTaskListRequest(task_execution_id=generating.id, limit=100)
    )
    assert sorted(node.id.node_id for node in launched.node_executions) == sorted(children)
    (child_attempt,) = attempts(admin, execution_id, "n0-0-n0")
    assert not child_attempt.is_parent


def test_the_compiled_dynamic_workflow_is_served(admin, sandbox):
    plan = _fan_out_plan(admin, unique("t.fan-out"))
    execution_id = run(admin, plan, {"numbers": [5, 6]}, NUMBERS)
    assert wait(admin, execution_id).closure.phase == WF.SUCCEEDED

    request = node_execution_pb2.GetDynamicNodeWorkflowRequest(id=node_id(execution_id, "n0"))
    compiled = admin.GetDynamicNodeWorkflow(request).compiled_workflow
    template = compiled.primary.template
    assert template.id.name == "dynamic_n0"
    assert (template.id.project, template.id.domain) == (execution_id.project, execution_id.domain)
    assert [node.id for node in template.nodes] == ["start-node", "n0", "n1", "end-node"]
    assert [task.template.id.name for task in compiled.tasks] == ["demo.square_positive"]
    assert set(template.interface.inputs.variables) == {"numbers"}  # the dynamic task's own interface

    data = admin.GetNodeExecutionData(node_execution_pb2.NodeExecutionGetDataRequest(id=node_id(execution_id, "n0")))
    assert data.dynamic_workflow.compiled_workflow == compiled
    assert data.dynamic_workflow.id == template.id
    assert data.dynamic_workflow.dynamic_job_spec_uri.endswith("futures.pb")

    for plain in ("n0-0-n0", "start-node"):
        with pytest.raises(grpc.RpcError) as caught:
            admin.GetDynamicNodeWorkflow(
                node_execution_pb2.GetDynamicNodeWorkflowRequest(id=node_id(execution_id, plain))
            )
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        assert caught.value.details() == "node does not contain dynamic workflow"
        plain_data = admin.GetNodeExecutionData(
            node_execution_pb2.NodeExecutionGetDataRequest(id=node_id(execution_id, plain))
        )
        assert not plain_data.HasField("dynamic_workflow")

    span = admin.GetExecutionMetrics(execution_pb2.WorkflowExecutionGetMetricsRequest(id=execution_id, depth=10)).span
    (dynamic_span,) = [child for child in span.spans if child.node_id.node_id == "n0"]
    task_spans = [child for child in dynamic_span.spans if child.HasField("task_id")]
    child_spans = [child.node_id.node_id for child in dynamic_span.spans if child.HasField("node_id")]
    assert [child.task_id.node_execution_id.node_id for child in task_spans] == ["n0"]
    assert child_spans == ["n0-0-n0", "n0-0-n1"]
    child_tasks = [grand for grand in dynamic_span.spans[-1].spans if grand.HasField("task_id")]
    assert [grand.task_id.node_execution_id.node_id for grand in child_tasks] == ["n0-0-n1"]


def test_a_failing_child_fails_the_node_and_the_workflow_with_its_message(admin, sandbox):
    plan = _fan_out_plan(admin, unique("t.fan-out"))
    execution_id = run(admin, plan, {"numbers": [2, 0, 3]}, NUMBERS)
    failed = wait(admin, execution_id)
    assert failed.closure.phase == WF.FAILED
    assert failed.closure.error.message.startswith("[n0-0-n1]: ValueError: 0 is not positive")
    assert failed.closure.error.code == "USER:ValueError"
    dynamic = nodes(admin, execution_id)["n0"]
    assert dynamic.closure.phase == NODE.FAILED
    assert "0 is not positive" in dynamic.closure.error.message
    assert _children(admin, execution_id)["n0-0-n1"].closure.phase == NODE.FAILED
    # The task that generated the workflow succeeded: only its children failed.
    assert [attempt.closure.phase for attempt in attempts(admin, execution_id, "n0")] == [TASK.SUCCEEDED]


def test_min_successes_lets_the_other_children_finish(admin, sandbox):
    name = unique("t.tolerant")
    child = task(admin, f"{name}.child", INT, OUT)

    def half(x: int) -> int:
        if x == 11:
            raise RuntimeError("eleven is unlucky")
        return x // 2

    sandbox.script(f"{name}.child", outputs=half)
    tolerant, _ = _scripted_dynamic(
        admin, sandbox, name, child, 3, min_successes=2, outputs={"o0": b.collection([b.promise("c0", "o0")])}
    )
    execution_id = run(admin, tolerant, {"x": 10}, INT)
    assert wait(admin, execution_id).closure.phase == WF.SUCCEEDED
    assert outputs(admin, execution_id) == {"o0": [5]}
    phases = {uid: child.closure.phase for uid, child in _children(admin, execution_id).items()}
    assert phases == {"n0-0-c0": NODE.SUCCEEDED, "n0-0-c1": NODE.FAILED, "n0-0-c2": NODE.SUCCEEDED}

    strict_name = unique("t.strict")
    sandbox.script(f"{name}.child", fail="always")
    strict, _ = _scripted_dynamic(admin, sandbox, strict_name, child, 3, min_successes=2)
    execution_id = run(admin, strict, {"x": 1}, INT)
    failed = wait(admin, execution_id)
    assert failed.closure.phase == WF.FAILED
    assert "always" in failed.closure.error.message


def test_a_spec_that_does_not_compile_fails_the_node_clearly(admin, sandbox):
    name = unique("t.broken")
    ghost = b.identifier(b.RT.TASK, f"{name}.ghost")  # neither shipped in the spec nor registered
    plan, _ = _scripted_dynamic(admin, sandbox, name, ghost, 1)
    execution_id = run(admin, plan, {"x": 1}, INT)
    failed = wait(admin, execution_id)
    assert failed.closure.phase == WF.FAILED
    assert failed.closure.error.code == "DynamicWorkflowBuildFailed"
    assert f"{name}.ghost" in failed.closure.error.message
    assert "neither in the dynamic job spec nor registered" in failed.closure.error.message
    assert [attempt.closure.phase for attempt in attempts(admin, execution_id, "n0")] == [TASK.SUCCEEDED]

    unbound = unique("t.unbound")
    child = task(admin, f"{unbound}.child", INT, OUT)
    missing_output = {"o0": b.collection([b.promise("c0", "nope")])}
    plan, _ = _scripted_dynamic(admin, sandbox, unbound, child, 1, outputs=missing_output)
    execution_id = run(admin, plan, {"x": 1}, INT)
    failed = wait(admin, execution_id)
    assert failed.closure.error.code == "DynamicWorkflowBuildFailed"
    assert "Code: VariableNameNotFound, Node Id: end-node, Description: Variable [nope] not found on node [c0]" in (
        failed.closure.error.message
    )


def test_dynamic_running_is_reported_and_abort_reaches_the_children(admin, sandbox):
    name = unique("t.held")
    child = task(admin, f"{name}.child", INT, OUT)
    sandbox.script(f"{name}.child", hang=True)
    plan, _ = _scripted_dynamic(admin, sandbox, name, child, 2)
    execution_id = run(admin, plan, {"x": 1}, INT)
    eventually(
        lambda: (
            len(_children(admin, execution_id)) == 2
            and all(node.closure.phase == NODE.RUNNING for node in _children(admin, execution_id).values())
        ),
        what="both children running",
    )
    dynamic = nodes(admin, execution_id)["n0"]
    assert dynamic.closure.phase == NODE.DYNAMIC_RUNNING
    assert dynamic.metadata.is_dynamic

    admin.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=execution_id, cause="enough"))
    assert wait(admin, execution_id).closure.phase == WF.ABORTED
    assert nodes(admin, execution_id)["n0"].closure.phase == NODE.ABORTED
    assert {node.closure.phase for node in _children(admin, execution_id).values()} == {NODE.ABORTED}
    for uid in ("n0-0-c0", "n0-0-c1"):
        assert [attempt.closure.phase for attempt in attempts(admin, execution_id, uid)] == [TASK.ABORTED]


def test_a_node_timeout_covers_the_children(admin, sandbox):
    name = unique("t.slow-children")
    child = task(admin, f"{name}.child", INT, OUT)
    sandbox.script(f"{name}.child", hang=True)
    dynamic_id = task(admin, name, INT, COLLECTED)
    sandbox.script(
        name,
        outputs=lambda x: b.dynamic_job(
            [task_node("c0", child, {"x": b.constant(x, b.INTEGER)})],
            {"o0": b.collection([b.promise("c0", "o0")])},
        ),
    )
    node = task_node("n0", dynamic_id, {"x": b.workflow_input("x")})
    node.metadata.timeout.FromSeconds(1)
    workflow_id = workflow(
        admin, name, inputs=INT, outputs=COLLECTED, nodes=[node], output_bindings={"o0": b.promise("n0", "o0")}
    )
    execution_id = run(admin, launch_plan(admin, workflow_id), {"x": 1}, INT)
    failed = wait(admin, execution_id)
    assert failed.closure.phase == WF.FAILED
    assert nodes(admin, execution_id)["n0"].closure.phase == NODE.TIMED_OUT
    assert _children(admin, execution_id)["n0-0-c0"].closure.phase == NODE.ABORTED


def test_retries_of_the_generating_task_number_the_children(admin, sandbox):
    name = unique("t.flaky-generator")
    child = task(admin, f"{name}.child", INT, OUT)
    sandbox.script(f"{name}.child", outputs=lambda x: x + 1)
    dynamic_id = task(admin, name, INT, COLLECTED, retries=1)
    tries: list[int] = []

    def generate(x: int):
        tries.append(x)
        if len(tries) == 1:
            raise RuntimeError("first try fails")
        return b.dynamic_job(
            [task_node("c0", child, {"x": b.constant(x, b.INTEGER)})], {"o0": b.collection([b.promise("c0", "o0")])}
        )

    sandbox.script(name, outputs=generate)
    workflow_id = workflow(
        admin,
        name,
        inputs=INT,
        outputs=COLLECTED,
        nodes=[task_node("n0", dynamic_id, {"x": b.workflow_input("x")})],
        output_bindings={"o0": b.promise("n0", "o0")},
    )
    execution_id = run(admin, launch_plan(admin, workflow_id), {"x": 4}, INT)
    assert wait(admin, execution_id).closure.phase == WF.SUCCEEDED
    assert outputs(admin, execution_id) == {"o0": [5]}
    assert [attempt.closure.phase for attempt in attempts(admin, execution_id, "n0")] == [TASK.FAILED, TASK.SUCCEEDED]
    (only,) = _children(admin, execution_id).values()
    assert only.id.node_id == "n0-1-c0"
    assert only.metadata.retry_group == "1"


def test_recover_reruns_only_the_children_that_did_not_succeed(admin, sandbox):
    name = unique("t.recover-dynamic")
    child = task(admin, f"{name}.child", INT, OUT)
    ran: list[int] = []

    def flaky(x: int) -> int:
        ran.append(x)
        if x == 2:
            raise RuntimeError("two fails the first time")
        return 10 * x

    sandbox.script(f"{name}.child", outputs=flaky)
    plan, generated = _scripted_dynamic(admin, sandbox, name, child, 3)
    original = run(admin, plan, {"x": 1}, INT)
    assert wait(admin, original).closure.phase == WF.FAILED
    assert generated == [1]
    # Children still running when c1 failed were aborted with the workflow; those that finished first succeeded.
    before = {uid: node.closure.phase for uid, node in _children(admin, original).items()}
    assert before["n0-0-c1"] == NODE.FAILED
    finished = {uid for uid, phase in before.items() if phase == NODE.SUCCEEDED}

    ran.clear()
    sandbox.script(f"{name}.child", outputs=lambda x: ran.append(x) or 10 * x)
    recovered = admin.RecoverExecution(execution_pb2.ExecutionRecoverRequest(id=original)).id
    assert wait(admin, recovered).closure.phase == WF.SUCCEEDED
    assert outputs(admin, recovered) == {"o0": [10, 20, 30]}
    assert generated == [1]  # the dynamic workflow was reused, not produced again
    phases = {uid: node.closure.phase for uid, node in _children(admin, recovered).items()}
    assert phases == {uid: NODE.RECOVERED if uid in finished else NODE.SUCCEEDED for uid in before}
    assert len(ran) == 3 - len(finished)
    assert 2 in ran
    (reused,) = attempts(admin, recovered, "n0")
    assert reused.closure.phase == TASK.SUCCEEDED
    assert reused.closure.reason == f"recovered the dynamic workflow of execution {original.name}"

    ran.clear()
    again = admin.RecoverExecution(execution_pb2.ExecutionRecoverRequest(id=recovered)).id
    assert wait(admin, again).closure.phase == WF.SUCCEEDED
    assert nodes(admin, again)["n0"].closure.phase == NODE.RECOVERED  # a succeeded dynamic node is recovered whole
    assert _children(admin, again) == {}
    assert attempts(admin, again, "n0") == []
    assert generated == [1]
    assert ran == []


def test_restart_on_the_same_database_resumes_the_children(tmp_path):
    database = tmp_path / "sandbox.db"
    name = "t.dynamic-survivor"
    sandbox = fast_sandbox(db_path=database).start()
    try:
        channel = grpc.insecure_channel(sandbox.endpoint)
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        child = task(admin, f"{name}.child", INT, OUT)
        sandbox.script(f"{name}.child", hang=True)  # the children can only finish after the restart
        plan, generated = _scripted_dynamic(admin, sandbox, name, child, 2)
        execution_id = run(admin, plan, {"x": 1}, INT, name="dynamic-survivor")
        eventually(lambda: len(_children(admin, execution_id)) == 2, what="the children to start")
        assert generated == [1]
        channel.close()
    finally:
        sandbox.close()
    # The new sandbox has no scripts: the generator is not run again (its workflow is stored with the node) and
    # the children get the default behaviour (placeholder outputs, len("o0") == 2).
    with fast_sandbox(db_path=database) as reopened, grpc.insecure_channel(reopened.endpoint) as channel:
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        assert wait(admin, execution_id).closure.phase == WF.SUCCEEDED
        assert outputs(admin, execution_id) == {"o0": [2, 2]}
        assert set(_children(admin, execution_id)) == {"n0-0-c0", "n0-0-c1"}
        assert [attempt.closure.phase for attempt in attempts(admin, execution_id, "n0")] == [TASK.SUCCEEDED]
        assert get(admin, execution_id).closure.phase == WF.SUCCEEDED


def test_a_dynamic_child_can_itself_be_dynamic(admin, sandbox):
    name = unique("t.nested")
    leaf = task(admin, f"{name}.leaf", INT, OUT)
    sandbox.script(f"{name}.leaf", outputs=lambda x: x * 100)
    inner, _ = _scripted_dynamic(admin, sandbox, f"{name}.inner", leaf, 2)
    inner_task = b.identifier(b.RT.TASK, f"{name}.inner")
    outer_id = task(admin, name, INT, {"o0": b.list_of(b.list_of(b.INTEGER))})
    sandbox.script(
        name,
        outputs=lambda x: b.dynamic_job(
            [task_node("d0", inner_task, {"x": b.constant(x, b.INTEGER)})],
            {"o0": b.collection([b.promise("d0", "o0")])},
        ),
    )
    workflow_id = workflow(
        admin,
        name,
        inputs=INT,
        outputs={"o0": b.list_of(b.list_of(b.INTEGER))},
        nodes=[task_node("n0", outer_id, {"x": b.workflow_input("x")})],
        output_bindings={"o0": b.promise("n0", "o0")},
    )
    del inner  # only its task is used, through the outer spec
    execution_id = run(admin, launch_plan(admin, workflow_id), {"x": 1}, INT)
    assert wait(admin, execution_id).closure.phase == WF.SUCCEEDED
    assert outputs(admin, execution_id) == {"o0": [[100, 200]]}
    (middle,) = _children(admin, execution_id).values()
    assert middle.id.node_id == "n0-0-d0"
    assert middle.metadata.is_dynamic
    assert set(nodes(admin, execution_id, parent="n0-0-d0")) == {"n0-0-d0-0-c0", "n0-0-d0-0-c1"}
