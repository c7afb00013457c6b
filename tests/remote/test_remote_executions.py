"""FlyteRemote executions against the sandbox: execute, wait, sync with nodes, outputs, terminate, relaunch, recover,
metrics, listings and console links."""

from __future__ import annotations

import contextlib
import io
import re
from typing import Any

import grpc
import pytest
from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox import builders as b
from flyteidl.admin import execution_pb2
from flyteidl.core import identifier_pb2, literals_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2
from remote_helpers import (
    POLL,
    D,
    P,
    RpcLog,
    add_one_task,
    add_one_workflow,
    container_task,
    finish,
    register_basics,
    workflow_spec,
)

from airflow_provider_flyte.exceptions import (
    FlyteAssertion,
    FlyteEntityNotExistException,
    FlyteFailedPreconditionException,
    FlyteInvalidInputException,
    FlyteSystemUnavailableException,
    FlyteTimeout,
)
from airflow_provider_flyte.identifiers import Identifier, ResourceType, WorkflowExecutionIdentifier
from airflow_provider_flyte.remote import FlyteRemote, FlyteWorkflowExecution, Options
from tests.support.flytekit_peer import utc_time_zone

Mode = execution_pb2.ExecutionMetadata


def _slow_task(remote: FlyteRemote, flyte_sandbox: FlyteSandbox) -> Any:
    """A task whose attempts run until the execution is aborted."""
    flyte_sandbox.script("remote.slow", hang=True)
    return remote.register_task(container_task("remote.slow"))


# ---------------------------------------------------------------- execute


def test_execute_task_sends_options_and_reuses_a_named_execution(remote: FlyteRemote, rpcs: RpcLog) -> None:
    task, _workflow = register_basics(remote)
    options = Options(labels={"team": "ml"}, annotations={"note": "x"}, max_parallelism=3, disable_notifications=True)
    execution = remote.execute(
        task,
        inputs={"x": 4},
        execution_name="run-1",
        options=options,
        envs={"A": "1"},
        tags=["t"],
        cluster_pool="gpu",
        overwrite_cache=True,
    )
    assert execution.id == WorkflowExecutionIdentifier(P, D, "run-1")
    (request,) = rpcs.calls("CreateExecution")
    assert request.inputs.literals["x"].scalar.primitive.integer == 4
    # What Admin kept, read back with GetExecution:
    spec = execution.spec
    assert spec.launch_plan.resource_type == identifier_pb2.TASK
    assert (spec.launch_plan.name, spec.launch_plan.version) == ("remote.add_one", "v1")
    assert spec.labels.values["team"] == "ml"
    assert spec.annotations.values["note"] == "x"
    assert spec.max_parallelism == 3
    assert spec.disable_all
    assert spec.overwrite_cache
    assert list(spec.tags) == ["t"]
    assert [(pair.key, pair.value) for pair in spec.envs.values] == [("A", "1")]
    assert spec.cluster_assignment.cluster_pool_name == "gpu"
    assert spec.metadata.mode == Mode.MANUAL
    finish(execution)
    assert execution.outputs["o0"] == 5

    again = remote.execute(task, inputs={"x": 4}, execution_name="run-1")  # ALREADY_EXISTS: that execution
    assert again.id == execution.id
    assert len(rpcs.calls("CreateExecution")) == 2
    assert again.is_successful


def test_execute_finds_its_run_when_the_create_answer_is_lost(
    remote: FlyteRemote, flyte_sandbox: FlyteSandbox, rpcs: RpcLog
) -> None:
    task, _workflow = register_basics(remote)
    # Admin stores the run, the answer is lost (UNAVAILABLE); the client's retry then meets ALREADY_EXISTS.
    flyte_sandbox.faults.fail_after_commit("CreateExecution")
    execution = remote.execute(task, inputs={"x": 1}, execution_name="lost-answer")
    assert execution.id.name == "lost-answer"
    assert len(rpcs.calls("CreateExecution")) == 1  # the retry happened inside the client's interceptors
    assert finish(execution).outputs["o0"] == 2
    assert [run.id.name for run in remote.list_executions()] == ["lost-answer"]


def test_execute_checks_inputs_and_names_before_calling_admin(remote: FlyteRemote, rpcs: RpcLog) -> None:
    task, _workflow = register_basics(remote)
    with pytest.raises(FlyteInvalidInputException, match=r"input 'x'.*int.*'four'"):
        remote.execute(task, inputs={"x": "four"})
    with pytest.raises(FlyteInvalidInputException, match=r"missing required input.*'x'"):
        remote.execute(task, inputs={})
    with pytest.raises(FlyteInvalidInputException, match=r"unknown input.*'y'"):
        remote.execute(task, inputs={"x": 1, "y": 2})
    with pytest.raises(FlyteInvalidInputException, match="execution_name='Bad_Name'"):
        remote.execute(task, inputs={"x": 1}, execution_name="Bad_Name")
    with pytest.raises(FlyteInvalidInputException, match="not both"):
        remote.execute(task, inputs={"x": 1}, execution_name="a", execution_name_prefix="b")
    with pytest.raises(FlyteInvalidInputException, match="cannot be executed"):
        remote.execute(42)
    assert rpcs.calls("CreateExecution") == []


def test_execute_workflow_runs_its_default_launch_plan(remote: FlyteRemote, rpcs: RpcLog) -> None:
    _task, workflow = register_basics(remote)
    execution = remote.execute(workflow, inputs={"x": 1}, execution_name_prefix="nightly")
    assert execution.id.name.startswith("nightly-")
    assert execution.launched_entity_id.resource_type == identifier_pb2.LAUNCH_PLAN
    assert execution.launched_entity_id.name == "remote.wf"
    by_string = remote.execute("lp:flytesnacks:development:remote.wf:v1", inputs={"x": 2})
    by_id = remote.execute(Identifier(ResourceType.WORKFLOW, P, D, "remote.wf", "v1"), inputs={"x": 3})
    lazy = remote.execute(remote.fetch_workflow_lazy(name="remote.wf"), inputs={"x": 4})
    outputs = [finish(run).outputs["o0"] for run in (execution, by_string, by_id, lazy)]
    assert outputs == [3, 4, 5, 6]


def test_execute_seeded_pipeline_and_read_typed_inputs_and_outputs(remote: FlyteRemote) -> None:
    pipeline = remote.fetch_launch_plan(name="demo.pipeline")
    execution = remote.execute(
        pipeline, inputs={"numbers": [1, 2, 3]}, wait=True, timeout=60, poll_interval=POLL, execution_name="pipe"
    )
    assert execution.is_successful
    assert execution.outputs.to_dict() == {"total": 6, "mean": 4.0, "report": "demo: mean 4.000 over 3 value(s)"}
    assert execution.outputs["mean"] == 4.0
    assert execution.outputs.get_as("total", float) == 6.0
    assert dict(execution.inputs) == {"numbers": [1, 2, 3], "scale": 2.0, "label": "demo"}  # defaults merged
    assert execution.outputs.literals["total"].scalar.primitive.integer == 6
    with pytest.raises(FlyteInvalidInputException, match=r"'numbers'.*list\[int\]"):
        remote.execute(pipeline, inputs={"numbers": [1, "two"]})


def test_fixed_launch_plan_inputs_cannot_be_overridden(remote: FlyteRemote, rpcs: RpcLog) -> None:
    from flyteidl.admin import launch_plan_pb2

    register_basics(remote)
    fixed = launch_plan_pb2.LaunchPlan(id=Identifier(ResourceType.LAUNCH_PLAN, P, D, "fixed", "v1").to_flyte_idl())
    fixed.spec.workflow_id.CopyFrom(Identifier(ResourceType.WORKFLOW, P, D, "remote.wf", "v1").to_flyte_idl())
    fixed.spec.fixed_inputs.literals["x"].scalar.primitive.integer = 10
    plan = remote.register_launch_plan(fixed)
    with pytest.raises(FlyteInvalidInputException, match=r"input\(s\) x are fixed by launch plan lp:flytesnacks:dev"):
        remote.execute(plan, inputs={"x": 2})
    assert rpcs.calls("CreateExecution") == []
    assert finish(remote.execute(plan, inputs={})).outputs["o0"] == 12


# ---------------------------------------------------------------- wait and sync


def test_wait_polls_with_get_execution_only(remote: FlyteRemote, rpcs: RpcLog) -> None:
    task, _workflow = register_basics(remote)
    execution = remote.execute(task, inputs={"x": 1})
    mark = rpcs.mark()
    done = remote.wait(execution, poll_interval=POLL, timeout=60)
    assert done is execution
    assert execution.is_done
    assert execution.is_successful
    assert execution.phase_name == "SUCCEEDED"
    polls = rpcs.names(mark)
    assert polls
    assert set(polls) == {"GetExecution"}
    mark = rpcs.mark()
    remote.wait(execution, poll_interval=POLL, sync_nodes=True)
    assert rpcs.names(mark)[0] == "GetExecution"
    assert "ListNodeExecutions" in rpcs.names(mark)  # asked for: nodes load once it is done


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"timeout": -1}, "timeout=-1"),
        ({"poll_interval": 0}, "poll_interval=0"),
        ({"poll_interval": float("nan")}, "poll_interval=nan"),
        ({"timeout": "soon"}, "timeout='soon'"),
    ],
)
def test_bad_wait_arguments_fail_before_anything_is_launched(
    remote: FlyteRemote, rpcs: RpcLog, arguments: dict[str, Any], named: str
) -> None:
    with pytest.raises(FlyteInvalidInputException, match=re.escape(named)):
        remote.execute(remote.fetch_launch_plan(name="demo.pipeline"), inputs={"numbers": [1]}, wait=True, **arguments)
    assert not rpcs.calls("CreateExecution")


def test_a_create_whose_outcome_is_unknown_is_settled_by_its_name(flyte_sandbox: FlyteSandbox) -> None:
    # No retries: the create fails after Admin stored it, and only the lookup of its name can tell it worked.
    config = flyte_sandbox.config.with_overrides(rpc_retries=0)
    with FlyteRemote(config, "flytesnacks", "development") as remote:
        plan = remote.fetch_launch_plan(name="demo.pipeline")
        flyte_sandbox.faults.fail_after_commit("CreateExecution", times=1)
        execution = remote.execute(plan, inputs={"numbers": [1]}, execution_name="settled-by-name")
        assert execution.id.name == "settled-by-name"
        found = [e.id.name for e in remote.list_executions(filters="eq(execution_name,settled-by-name)")]
        assert found == ["settled-by-name"]
        # A create that did not reach Admin is reported as the failure it is (and a later try may create it).
        flyte_sandbox.faults.fail("CreateExecution", grpc.StatusCode.UNAVAILABLE, times=1)
        with pytest.raises(FlyteSystemUnavailableException):
            remote.execute(plan, inputs={"numbers": [1]}, execution_name="never-created")
        assert not list(remote.list_executions(filters="eq(execution_name,never-created)"))


def test_wait_timeout_names_the_execution_and_argument_errors(remote: FlyteRemote, flyte_sandbox: FlyteSandbox) -> None:
    slow = _slow_task(remote, flyte_sandbox)
    execution = remote.execute(slow, inputs={"x": 1}, execution_name="slow-one")
    with pytest.raises(FlyteTimeout, match="execution ex:flytesnacks:development:slow-one is still"):
        remote.wait(execution, timeout=0, poll_interval=POLL)
    with pytest.raises(FlyteInvalidInputException, match="poll_interval"):
        remote.wait(execution, poll_interval=-1)
    with pytest.raises(FlyteInvalidInputException, match="timeout"):
        execution.wait(timeout="soon")  # type: ignore[arg-type]
    with pytest.raises(FlyteAssertion, match="outputs exist once it is done"):
        _ = execution.outputs
    remote.terminate(execution, "test over")


def test_failed_execution_has_an_error_and_no_outputs(remote: FlyteRemote) -> None:
    execution = finish(remote.execute(remote.fetch_launch_plan(name="demo.always_fails"), inputs={"reason": "why"}))
    assert execution.phase_name == "FAILED"
    assert not execution.is_successful
    assert execution.error is not None
    assert "ValueError: demo failure: why" in execution.error.message
    with pytest.raises(FlyteAssertion, match=r"failed and has no outputs; error: .*demo failure: why"):
        _ = execution.outputs
    assert dict(execution.inputs) == {"reason": "why"}
    failed = execution.node_executions["explode"]
    assert failed.phase_name == "FAILED"
    assert failed.error is not None
    assert failed.task_executions[0].phase_name == "FAILED"


def test_sync_nodes_loads_task_attempts_sub_workflows_and_launched_executions(
    remote: FlyteRemote, flyte_sandbox: FlyteSandbox
) -> None:
    register_basics(remote)
    remote.register_task(add_one_task(name="remote.flaky", retries=1))
    flyte_sandbox.script("remote.flaky", fail_attempts=1)  # the first attempt fails, the retry succeeds
    add_one = b.identifier(b.RT.TASK, "remote.add_one")
    sub = b.workflow(
        "remote.sub",
        inputs={"x": b.INTEGER},
        outputs={"o0": b.INTEGER},
        nodes=[b.task_node("inner", add_one, {"x": b.workflow_input("x")})],
        output_bindings={"o0": b.promise("inner", "o0")},
    )
    parent = b.workflow(
        "remote.tree",
        inputs={"x": b.INTEGER},
        outputs={"a": b.INTEGER, "b": b.INTEGER, "c": b.INTEGER},
        nodes=[
            b.task_node("retry", b.identifier(b.RT.TASK, "remote.flaky"), {"x": b.workflow_input("x")}),
            core_workflow_pb2.Node(
                id="sub",
                inputs=[literals_pb2.Binding(var="x", binding=b.workflow_input("x"))],
                workflow_node=core_workflow_pb2.WorkflowNode(sub_workflow_ref=sub.id),
            ),
            core_workflow_pb2.Node(
                id="launch",
                inputs=[literals_pb2.Binding(var="x", binding=b.workflow_input("x"))],
                workflow_node=core_workflow_pb2.WorkflowNode(
                    launchplan_ref=b.identifier(b.RT.LAUNCH_PLAN, "remote.wf")
                ),
            ),
        ],
        output_bindings={"a": b.promise("retry", "o0"), "b": b.promise("sub", "o0"), "c": b.promise("launch", "o0")},
    )
    workflow = remote.register_workflow(workflow_spec(parent, [sub]))
    execution = finish(remote.execute(workflow, inputs={"x": 1}))
    assert execution.outputs.to_dict() == {"a": 2, "b": 2, "c": 3}

    nodes = execution.node_executions
    assert {"retry", "sub", "launch"} <= set(nodes)
    retry = nodes["retry"]
    assert [attempt.retry_attempt for attempt in retry.task_executions] == [0, 1]
    assert retry.retries == 1
    assert not retry.task_executions[0].is_successful
    assert retry.task_executions[1].is_successful
    assert retry.task_executions[1].id.task_id.name == "remote.flaky"
    assert retry.task_executions[1].outputs["o0"] == 2
    assert retry.inputs["x"] == 1
    sub_node = nodes["sub"]
    assert sub_node.is_parent_node
    assert list(sub_node.subworkflow_node_executions) == ["sub-0-inner"]
    assert sub_node.subworkflow_node_executions["sub-0-inner"].is_successful
    assert sub_node.task_executions == []
    launch = nodes["launch"]
    (child,) = launch.workflow_executions
    assert launch.child_execution_id == child.id
    assert child.is_successful
    assert child.spec.metadata.mode == Mode.CHILD_WORKFLOW
    assert {"first", "second"} <= set(child.node_executions)
    assert launch.executions == [child]


def test_recent_executions_follow_pages_and_filters(
    remote: FlyteRemote, rpcs: RpcLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    import airflow_provider_flyte.remote._listing as listing_module

    task, _workflow = register_basics(remote)
    for index in range(5):
        remote.execute(task, inputs={"x": index}, execution_name=f"e{index}")
    monkeypatch.setattr(listing_module, "PAGE_SIZE", 2)
    mark = rpcs.mark()
    recent = remote.recent_executions(limit=3)
    assert [execution.id.name for execution in recent] == ["e4", "e3", "e2"]
    assert rpcs.names(mark) == ["ListExecutions", "ListExecutions"]
    assert sorted(execution.id.name for execution in remote.list_executions()) == [f"e{i}" for i in range(5)]
    chosen = remote.list_executions(filters=["value_in(execution_name,e1;e3)", "eq(task.name,remote.add_one)"])
    assert sorted(execution.id.name for execution in chosen) == ["e1", "e3"]
    assert [execution.id.name for execution in remote.list_executions(domain="staging")] == []
    with pytest.raises(FlyteInvalidInputException, match="limit=0"):
        remote.recent_executions(limit=0)
    mark = rpcs.mark()
    with pytest.raises(FlyteInvalidInputException, match=r"^filters must be .*, got int 123$"):
        list(remote.list_executions(filters=123))  # type: ignore[arg-type]
    with pytest.raises(FlyteInvalidInputException, match=r"^filters items must be .*, got int 5 in filters=\[5\]$"):
        remote.recent_executions(filters=[5])
    with pytest.raises(FlyteInvalidInputException, match=r"^filters must be .*, got bytes"):
        remote.list_signals("e1", filters=b"eq(signal_id,x)")  # type: ignore[arg-type]
    assert rpcs.names(mark) == []


def test_fetch_execution_and_its_console_url(remote: FlyteRemote, flyte_sandbox: FlyteSandbox) -> None:
    task, _workflow = register_basics(remote)
    remote.execute(task, inputs={"x": 1}, execution_name="linked")
    fetched = remote.fetch_execution(name="linked")
    assert isinstance(fetched, FlyteWorkflowExecution)
    base = f"{flyte_sandbox.console_endpoint}/console/projects/flytesnacks/domains/development"
    assert fetched.execution_url == f"{base}/executions/linked"
    assert remote.generate_console_url(task) == f"{base}/task/remote.add_one/version/v1"
    finish(fetched, sync_nodes=True)
    # A task runs as the one node of Admin's generated workflow, named after the task.
    (node,) = (node for node_id, node in fetched.node_executions.items() if node_id not in ("start-node", "end-node"))
    attempt = node.task_executions[0]
    assert remote.generate_console_url(node) == f"{base}/executions/linked"
    assert remote.generate_console_url(attempt) == (
        f"{base}/executions/linked/nodeId/{node.node_id}/taskId/remote.add_one/attempt/0/view/logs"
    )
    with pytest.raises(FlyteEntityNotExistException):
        remote.fetch_execution(name="never-ran")


# ---------------------------------------------------------------- terminate, relaunch, recover


def test_terminate_then_relaunch(remote: FlyteRemote, flyte_sandbox: FlyteSandbox, rpcs: RpcLog) -> None:
    slow = _slow_task(remote, flyte_sandbox)
    execution = remote.execute(slow, inputs={"x": 1}, execution_name="to-stop")
    remote.terminate(execution, "no longer needed")
    assert rpcs.calls("TerminateExecution")[0].cause == "no longer needed"
    finish(execution)
    assert execution.phase_name == "ABORTED"
    assert execution.closure.abort_metadata.cause == "no longer needed"
    with pytest.raises(FlyteFailedPreconditionException, match="already terminated"):
        remote.terminate("ex:flytesnacks:development:to-stop", "again")

    flyte_sandbox.script("remote.slow")  # back to the plain behaviour: succeed
    relaunched = remote.relaunch_execution(execution.id, name="again")
    assert relaunched.id == WorkflowExecutionIdentifier(P, D, "again")
    assert relaunched.spec.metadata.mode == Mode.RELAUNCH
    assert relaunched.spec.metadata.reference_execution.name == "to-stop"
    assert finish(relaunched).is_successful
    assert dict(relaunched.inputs) == {"x": 1}
    with pytest.raises(FlyteEntityNotExistException):
        remote.relaunch_execution("never-ran")


def test_recover_reuses_the_nodes_that_succeeded(remote: FlyteRemote, flyte_sandbox: FlyteSandbox) -> None:
    remote.register_task(add_one_task())
    remote.register_task(add_one_task(name="remote.flaky"))
    spec = add_one_workflow("remote.recoverable")
    spec.template.nodes[1].task_node.reference_id.name = "remote.flaky"
    workflow = remote.register_workflow(spec)
    flyte_sandbox.script("remote.flaky", fail="flaky today")
    failed = finish(remote.execute(workflow, inputs={"x": 1}, execution_name="broken"))
    assert failed.phase_name == "FAILED"
    assert failed.error is not None
    assert "flaky today" in failed.error.message

    flyte_sandbox.script("remote.flaky")
    recovered = remote.recover_execution("broken", name="mended")
    assert recovered.id.name == "mended"
    assert recovered.spec.metadata.mode == Mode.RECOVERED
    assert recovered.spec.metadata.reference_execution.name == "broken"
    finish(recovered, sync_nodes=True)
    assert recovered.outputs["o0"] == 3
    first = recovered.node_executions["first"]
    assert first.phase_name == "RECOVERED"
    assert first.is_done  # flyteadmin's RECOVERED is terminal (flytekit's is_done misses it)
    assert first.is_successful
    assert recovered.node_executions["second"].phase_name == "SUCCEEDED"
    with pytest.raises(FlyteEntityNotExistException):
        remote.recover_execution("never-ran")


# ---------------------------------------------------------------- metrics


def test_execution_metrics_as_data_and_table(remote: FlyteRemote, rpcs: RpcLog) -> None:
    execution = finish(remote.execute(remote.fetch_launch_plan(name="demo.pipeline"), inputs={"numbers": [2]}))
    span = remote.get_execution_metrics(execution, depth=3)
    assert rpcs.calls("GetExecutionMetrics")[0].depth == 3
    data = span.to_dict()
    assert data["kind"] == "workflow"
    assert data["name"] == execution.id.name
    assert data["duration"] >= 0
    node_names = [child["name"] for child in data["children"] if child["kind"] == "node"]
    assert {"summarize", "mean", "report"} <= set(node_names)
    assert set(span.breakdown()) >= {"TASK_RUNTIME"}
    out = io.StringIO()
    span.explain(file=out)
    table = out.getvalue()
    # flytekit's rows: operations only, under the entity they belong to (a task attempt's under "task/<attempt>").
    assert f"workflow/{execution.id.name}" in table
    assert "    task/0\n" in table
    assert "TASK_RUNTIME" in table
    assert table == _flytekit_explain(span.to_flyte_idl())
    assert remote.get_execution_metrics(f"ex:{P}:{D}:{execution.id.name}").name == execution.id.name


def _flytekit_explain(span: Any) -> str:
    """What flytekit's ``FlyteExecutionSpan.explain()`` prints for the same span, with the time zone set to UTC."""
    pytest.importorskip("flytekit")
    from flytekit.remote.metrics import FlyteExecutionSpan as FlytekitSpan

    printed = io.StringIO()
    with utc_time_zone(), contextlib.redirect_stdout(printed):  # flytekit prints local time; ours UTC
        FlytekitSpan(span).explain()
    return printed.getvalue()
