"""FlyteRemote's view of a dynamic node: its children, the attempt that launched them, the compiled workflow."""

from __future__ import annotations

from flyte_admin_sandbox import builders as b
from flyteidl.admin import task_pb2
from remote_helpers import RpcLog, finish, workflow_spec

from airflow_provider_flyte.remote import FlyteRemote, FlyteWorkflow

NUMBERS = {"numbers": b.list_of(b.INTEGER)}
COLLECTED = {"o0": b.list_of(b.INTEGER)}


def _run_fan_out(remote: FlyteRemote, numbers: list[int], name: str):
    """Register and run a workflow whose node ``n0`` is the sandbox's demo dynamic task ``fan_out_squares``."""
    dynamic = b.python_task(
        "remote.fan_out",
        "flyte_admin_sandbox.demo_tasks:fan_out_squares",
        inputs=NUMBERS,
        outputs=COLLECTED,
    )
    remote.register_task(task_pb2.TaskSpec(template=dynamic))
    template = b.workflow(
        "remote.fan_out_wf",
        inputs=NUMBERS,
        outputs=COLLECTED,
        nodes=[b.task_node("n0", dynamic.id, {"numbers": b.workflow_input("numbers")})],
        output_bindings={"o0": b.promise("n0", "o0")},
    )
    workflow = remote.register_workflow(workflow_spec(template))
    return remote.execute(workflow, inputs={"numbers": numbers}, execution_name=name)


def test_sync_shows_the_children_of_a_dynamic_node(remote: FlyteRemote, rpcs: RpcLog) -> None:
    execution = finish(_run_fan_out(remote, [4, 2], "fanned"))
    assert execution.outputs["o0"] == [16, 4]
    mark = rpcs.mark()
    remote.sync_execution(execution, sync_nodes=True)
    # One listing per level: the top nodes, the dynamic node's children, and each node's attempts.
    assert rpcs.names(mark).count("ListNodeExecutions") == 2
    assert "ListNodeExecutionsForTask" not in rpcs.names(mark)
    assert "GetDynamicNodeWorkflow" not in rpcs.names(mark)

    dynamic = execution.node_executions["n0"]
    assert dynamic.is_dynamic
    assert dynamic.is_parent_node
    assert dynamic.phase_name == "SUCCEEDED"
    assert set(dynamic.subworkflow_node_executions) == {"n0-0-n0", "n0-0-n1"}
    first = dynamic.subworkflow_node_executions["n0-0-n0"]
    assert first.outputs["o0"] == 16
    assert [attempt.phase_name for attempt in first.task_executions] == ["SUCCEEDED"]
    assert not first.is_dynamic
    assert first.dynamic_workflow is None  # no RPC for a node that is not dynamic

    (generating,) = dynamic.task_executions
    assert generating.phase_name == "SUCCEEDED"
    assert generating.is_parent
    mark = rpcs.mark()
    launched = generating.node_executions
    assert rpcs.names(mark) == ["ListNodeExecutionsForTask"]  # the synced children are reused
    assert set(launched) == {"n0-0-n0", "n0-0-n1"}
    assert launched["n0-0-n1"] is dynamic.subworkflow_node_executions["n0-0-n1"]
    assert first.task_executions[0].node_executions == {}  # not a parent: nothing to list
    assert rpcs.names(mark) == ["ListNodeExecutionsForTask"]

    compiled = dynamic.dynamic_workflow
    assert isinstance(compiled, FlyteWorkflow)
    assert compiled.name == "dynamic_n0"
    assert [node.id for node in compiled.nodes] == ["n0", "n1"]
    assert {child.metadata.spec_node_id for child in dynamic.subworkflow_node_executions.values()} == {"n0", "n1"}
    assert set(compiled.interface.outputs.variables) == {"o0"}
    assert dynamic.dynamic_workflow is compiled  # loaded once
    assert rpcs.names(mark) == ["ListNodeExecutionsForTask", "GetDynamicNodeWorkflow"]


def test_a_failed_child_is_visible_from_the_dynamic_node(remote: FlyteRemote) -> None:
    execution = finish(_run_fan_out(remote, [3, -1], "half-fanned"), sync_nodes=True)
    assert execution.phase_name == "FAILED"
    assert execution.error is not None
    assert "-1 is not positive" in execution.error.message
    dynamic = execution.node_executions["n0"]
    assert dynamic.phase_name == "FAILED"
    phases = {node_id: child.phase_name for node_id, child in dynamic.subworkflow_node_executions.items()}
    assert phases["n0-0-n1"] == "FAILED"
    failed_attempt = dynamic.subworkflow_node_executions["n0-0-n1"].task_executions[0]
    assert failed_attempt.error is not None
    assert failed_attempt.error.message == "ValueError: -1 is not positive"
    # The attempt that produced the workflow succeeded; only a child failed.
    assert [attempt.phase_name for attempt in dynamic.task_executions] == ["SUCCEEDED"]
