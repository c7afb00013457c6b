"""Every node kind runs through the sandbox's Admin API (flyteidl stubs over loopback gRPC)."""

from __future__ import annotations

from engine_helpers import (
    NODE,
    TASK,
    WF,
    attempts,
    binding_map,
    eventually,
    get,
    launch_plan,
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
from flyte_admin_sandbox.engine import child_execution_name
from flyte_admin_sandbox.records import ExecutionKey
from flyteidl.admin import execution_pb2, signal_pb2
from flyteidl.core import condition_pb2, identifier_pb2, literals_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2
from google.protobuf import duration_pb2

from airflow_provider_flyte.literals import literal_map_to_python

INT = {"x": b.INTEGER}
OUT = {"o0": b.INTEGER}


def _doubler(admin, sandbox, name: str):
    task_id = task(admin, name, INT, OUT)
    sandbox.script(name, outputs=lambda x: 2 * x)
    return task_id


def _compare(var: str, operator, value: int) -> condition_pb2.BooleanExpression:
    return condition_pb2.BooleanExpression(
        comparison=condition_pb2.ComparisonExpression(
            operator=operator,
            left_value=condition_pb2.Operand(var=var),
            right_value=condition_pb2.Operand(primitive=literals_pb2.Primitive(integer=value)),
        )
    )


def _branch_workflow(admin, sandbox, with_else: bool = True):
    name = unique("t.branch")
    double = _doubler(admin, sandbox, f"{name}.double")
    plus = task(admin, f"{name}.plus", INT, OUT)
    sandbox.script(f"{name}.plus", outputs=lambda x: x + 100)
    minus = task(admin, f"{name}.minus", INT, OUT)
    sandbox.script(f"{name}.minus", outputs=lambda x: x - 100)
    # As flytekit writes it: the condition reads the branch's own input "n0.o0"; the chosen node binds upstream.
    upstream = {"x": b.promise("n0", "o0")}
    if_else = core_workflow_pb2.IfElseBlock(
        case=core_workflow_pb2.IfBlock(
            condition=_compare("n0.o0", condition_pb2.ComparisonExpression.GT, 10),
            then_node=task_node("big", plus, upstream, ["n0"]),
        ),
        other=[
            core_workflow_pb2.IfBlock(
                condition=_compare("n0.o0", condition_pb2.ComparisonExpression.EQ, 4),
                then_node=task_node("four", double, upstream, ["n0"]),
            )
        ],
    )
    if with_else:
        if_else.else_node.CopyFrom(task_node("small", minus, upstream, ["n0"]))
    branch = core_workflow_pb2.Node(
        id="n1",
        metadata=core_workflow_pb2.NodeMetadata(name="classify"),
        inputs=binding_map({"n0.o0": b.promise("n0", "o0")}),
        upstream_node_ids=["n0"],
        branch_node=core_workflow_pb2.BranchNode(if_else=if_else),
    )
    workflow_id = workflow(
        admin,
        name,
        inputs=INT,
        outputs=OUT,
        nodes=[task_node("n0", double, {"x": b.workflow_input("x")}), branch],
        output_bindings={"o0": b.promise("n1", "o0")},
    )
    return launch_plan(admin, workflow_id)


def test_branch_runs_the_first_case_that_holds(admin, sandbox):
    plan = _branch_workflow(admin, sandbox)
    runs = {x: run(admin, plan, {"x": x}, INT) for x in (7, 2, 1)}
    results = {x: (wait(admin, execution_id), outputs(admin, execution_id)) for x, execution_id in runs.items()}
    assert {x: (done.closure.phase, out) for x, (done, out) in results.items()} == {
        7: (WF.SUCCEEDED, {"o0": 114}),  # 14 > 10: the if case
        2: (WF.SUCCEEDED, {"o0": 8}),  # 4 == 4: the elif case
        1: (WF.SUCCEEDED, {"o0": -98}),  # else
    }
    top = nodes(admin, runs[2])
    assert list(top) == ["start-node", "n0", "n1", "end-node"]
    assert top["n1"].metadata.is_parent_node
    assert top["n1"].metadata.spec_node_id == "n1"
    children = nodes(admin, runs[2], parent="n1")
    assert list(children) == ["n1-0-four"]
    child = children["n1-0-four"]
    assert (child.metadata.spec_node_id, child.metadata.retry_group, child.closure.phase) == (
        "four",
        "0",
        NODE.SUCCEEDED,
    )
    assert node_outputs(admin, runs[2], "n1") == {"o0": 8}
    assert [attempt.closure.phase for attempt in attempts(admin, runs[2], "n1-0-four")] == [TASK.SUCCEEDED]


def test_branch_without_a_matching_case_fails_the_node(admin, sandbox):
    plan = _branch_workflow(admin, sandbox, with_else=False)
    execution_id = run(admin, plan, {"x": 1}, INT)
    done = wait(admin, execution_id)
    assert done.closure.phase == WF.FAILED
    assert done.closure.error.message == "[n1]: node n1: no condition of the branch holds and it has no else case"
    assert nodes(admin, execution_id)["n1"].closure.phase == NODE.FAILED
    assert nodes(admin, execution_id, parent="n1") == {}


def _sub_workflow(admin, sandbox, name: str):
    double = _doubler(admin, sandbox, f"{name}.double")
    return double, b.workflow(
        f"{name}.sub",
        inputs=INT,
        outputs=OUT,
        nodes=[
            task_node("n0", double, {"x": b.workflow_input("x")}),
            task_node("n1", double, {"x": b.promise("n0", "o0")}),
        ],
        output_bindings={"o0": b.promise("n1", "o0")},
    )


def test_sub_workflow_nodes_are_children_of_their_node(admin, sandbox):
    name = unique("t.parent")
    double, sub = _sub_workflow(admin, sandbox, name)
    sub_node = core_workflow_pb2.Node(
        id="n0",
        metadata=core_workflow_pb2.NodeMetadata(name="sub"),
        inputs=binding_map({"x": b.workflow_input("x")}),
        workflow_node=core_workflow_pb2.WorkflowNode(sub_workflow_ref=sub.id),
    )
    workflow_id = workflow(
        admin,
        name,
        sub_workflows=[sub],
        inputs=INT,
        outputs=OUT,
        nodes=[sub_node, task_node("n1", double, {"x": b.promise("n0", "o0")})],
        output_bindings={"o0": b.promise("n1", "o0")},
    )
    execution_id = run(admin, launch_plan(admin, workflow_id), {"x": 3}, INT)
    assert wait(admin, execution_id).closure.phase == WF.SUCCEEDED
    assert outputs(admin, execution_id) == {"o0": 24}
    top = nodes(admin, execution_id)
    assert list(top) == ["start-node", "n0", "n1", "end-node"]
    assert top["n0"].metadata.is_parent_node
    children = nodes(admin, execution_id, parent="n0")
    assert list(children) == ["n0-0-n0", "n0-0-n1"]
    assert [child.metadata.spec_node_id for child in children.values()] == ["n0", "n1"]
    assert node_outputs(admin, execution_id, "n0-0-n0") == {"o0": 6}
    assert node_outputs(admin, execution_id, "n0") == {"o0": 12}


def test_launch_plan_node_runs_a_linked_child_execution(admin, sandbox):
    name = unique("t.caller")
    _double, sub = _sub_workflow(admin, sandbox, name)
    admin_sub = workflow(
        admin,
        sub.id.name,
        inputs=INT,
        outputs=OUT,
        nodes=list(sub.nodes),
        output_bindings={"o0": b.promise("n1", "o0")},
    )
    child_plan = launch_plan(admin, admin_sub)
    lp_node = core_workflow_pb2.Node(
        id="n0",
        metadata=core_workflow_pb2.NodeMetadata(name="child"),
        inputs=binding_map({"x": b.workflow_input("x")}),
        workflow_node=core_workflow_pb2.WorkflowNode(launchplan_ref=child_plan),
    )
    workflow_id = workflow(
        admin, name, inputs=INT, outputs=OUT, nodes=[lp_node], output_bindings={"o0": b.promise("n0", "o0")}
    )
    execution_id = run(admin, launch_plan(admin, workflow_id), {"x": 5}, INT)
    assert wait(admin, execution_id).closure.phase == WF.SUCCEEDED
    assert outputs(admin, execution_id) == {"o0": 20}
    node = nodes(admin, execution_id)["n0"]
    assert not node.metadata.is_parent_node
    child_id = node.closure.workflow_node_metadata.executionId
    assert child_id.name == child_execution_name(ExecutionKey.of(execution_id), "n0")
    child = get(admin, child_id)
    assert child.closure.phase == WF.SUCCEEDED
    assert child.spec.metadata.mode == execution_pb2.ExecutionMetadata.CHILD_WORKFLOW
    assert child.spec.metadata.nesting == 1
    assert child.spec.metadata.parent_node_execution == identifier_pb2.NodeExecutionIdentifier(
        node_id="n0", execution_id=execution_id
    )
    assert outputs(admin, child_id) == {"o0": 20}
    assert node_outputs(admin, execution_id, "n0") == {"o0": 20}


def _signal(signals, execution_id, signal_id: str):
    listed = signals.ListSignals(signal_pb2.SignalListRequest(workflow_execution_id=execution_id, limit=10))
    return next((signal for signal in listed.signals if signal.id.signal_id == signal_id), None)


def _set(signals, execution_id, signal_id: str, value) -> None:
    identifier = identifier_pb2.SignalIdentifier(signal_id=signal_id, execution_id=execution_id)
    signals.SetSignal(signal_pb2.SignalSetRequest(id=identifier, value=value))


def test_seeded_gated_workflow_waits_for_approval_and_input(admin, signals):
    plan = b.identifier(b.RT.LAUNCH_PLAN, "demo.gated_publish")
    execution_id = run(admin, plan, {"numbers": [2, 4]}, {"numbers": b.list_of(b.INTEGER)})
    approval = eventually(lambda: _signal(signals, execution_id, "approve-report"), what="the approval signal")
    assert approval.type == b.BOOLEAN
    assert not approval.HasField("value")
    assert nodes(admin, execution_id)["approve"].closure.phase == NODE.RUNNING
    assert _signal(signals, execution_id, "title") is None  # the input gate comes after the approval
    _set(signals, execution_id, "approve-report", b.literal(True, b.BOOLEAN))
    title = eventually(lambda: _signal(signals, execution_id, "title"), what="the title signal")
    assert title.type == b.STRING
    assert get(admin, execution_id).closure.phase == WF.RUNNING
    _set(signals, execution_id, "title", b.literal("Weekly", b.STRING))
    assert wait(admin, execution_id).closure.phase == WF.SUCCEEDED
    assert outputs(admin, execution_id) == {"o0": "Weekly: gated: mean 3.000 over 2 value(s)"}
    assert node_outputs(admin, execution_id, "approve") == {"text": "gated: mean 3.000 over 2 value(s)"}
    assert node_outputs(admin, execution_id, "title") == {"o0": "Weekly"}


def test_rejected_approval_fails_the_gate(admin, signals):
    plan = b.identifier(b.RT.LAUNCH_PLAN, "demo.gated_publish")
    execution_id = run(admin, plan, {"numbers": [1]}, {"numbers": b.list_of(b.INTEGER)})
    eventually(lambda: _signal(signals, execution_id, "approve-report"), what="the approval signal")
    _set(signals, execution_id, "approve-report", b.literal(False, b.BOOLEAN))
    done = wait(admin, execution_id)
    assert done.closure.phase == WF.FAILED
    assert done.closure.error.message == "[approve]: received a reject signal to disapprove the node input values"
    assert done.closure.error.code == "ReceivedRejectSignal"
    gate = nodes(admin, execution_id)["approve"]
    assert gate.closure.phase == NODE.FAILED


def test_sleep_gate_and_gate_timeout(admin, sandbox):
    name = unique("t.sleepy")
    sleep = core_workflow_pb2.Node(
        id="nap",
        metadata=core_workflow_pb2.NodeMetadata(name="nap"),
        gate_node=core_workflow_pb2.GateNode(
            sleep=core_workflow_pb2.SleepCondition(duration=duration_pb2.Duration(nanos=50_000_000))
        ),
    )
    workflow_id = workflow(admin, name, nodes=[sleep])
    execution_id = run(admin, launch_plan(admin, workflow_id))
    assert wait(admin, execution_id).closure.phase == WF.SUCCEEDED
    nap = nodes(admin, execution_id)["nap"]
    assert nap.closure.phase == NODE.SUCCEEDED
    assert nap.closure.duration.ToNanoseconds() >= 50_000_000

    waiting = core_workflow_pb2.Node(
        id="ask",
        metadata=core_workflow_pb2.NodeMetadata(name="ask", timeout=duration_pb2.Duration(nanos=100_000_000)),
        gate_node=core_workflow_pb2.GateNode(
            signal=core_workflow_pb2.SignalCondition(signal_id="never", type=b.STRING, output_variable_name="o0")
        ),
    )
    impatient = workflow(admin, f"{name}.impatient", nodes=[waiting])
    execution_id = run(admin, launch_plan(admin, impatient))
    done = wait(admin, execution_id)
    assert done.closure.phase == WF.FAILED
    assert nodes(admin, execution_id)["ask"].closure.phase == NODE.TIMED_OUT
    assert "timed out" in done.closure.error.message


def test_array_node_maps_a_task_over_a_list(admin, sandbox):
    name = unique("t.mapper")
    double = task(admin, f"{name}.double", INT, OUT)

    def double_or_fail(x: int) -> int:
        if x == 13:
            raise ValueError("unlucky")
        return 2 * x

    sandbox.script(f"{name}.double", outputs=double_or_fail)

    def array_workflow(suffix: str, ratio: float) -> identifier_pb2.Identifier:
        inner = task_node(f"{name}.inner", double, {"x": b.workflow_input("xs")})
        mapped = core_workflow_pb2.Node(
            id="n0",
            metadata=core_workflow_pb2.NodeMetadata(name="map"),
            inputs=binding_map({"x": b.workflow_input("xs")}),
            array_node=core_workflow_pb2.ArrayNode(node=inner, min_success_ratio=ratio),
        )
        workflow_id = workflow(
            admin,
            f"{name}.{suffix}",
            inputs={"xs": b.list_of(b.INTEGER)},
            outputs={"o0": b.list_of(b.INTEGER)},
            nodes=[mapped],
            output_bindings={"o0": b.promise("n0", "o0")},
        )
        return launch_plan(admin, workflow_id)

    strict, tolerant = array_workflow("strict", 1.0), array_workflow("tolerant", 0.5)
    types = {"xs": b.list_of(b.INTEGER)}
    good = run(admin, strict, {"xs": [1, 2, 3]}, types)
    bad = run(admin, strict, {"xs": [1, 13]}, types)
    partial = run(admin, tolerant, {"xs": [13, 4]}, types)
    assert wait(admin, good).closure.phase == WF.SUCCEEDED
    assert outputs(admin, good) == {"o0": [2, 4, 6]}
    assert nodes(admin, good)["n0"].metadata.is_array
    assert [attempt.closure.phase for attempt in attempts(admin, good, "n0")] == [TASK.SUCCEEDED]
    failed = wait(admin, bad)
    assert failed.closure.phase == WF.FAILED
    assert "1 of 2 array elements failed" in failed.closure.error.message
    assert "ValueError: unlucky" in failed.closure.error.message
    assert wait(admin, partial).closure.phase == WF.SUCCEEDED
    data = admin.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=partial))
    elements = data.full_outputs.literals["o0"].collection.literals
    assert elements[0].scalar.HasField("none_type")
    assert literal_map_to_python(
        literals_pb2.LiteralMap(literals={"v": elements[1]}),
    ) == {"v": 8}
