from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc
from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox import builders as b
from flyteidl.admin import (
    common_pb2,
    execution_pb2,
    matchable_resource_pb2,
    node_execution_pb2,
    project_pb2,
    signal_pb2,
    task_execution_pb2,
    task_pb2,
    workflow_attributes_pb2,
)
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2
from google.rpc import status_pb2
from sandbox_helpers import rpc_error, wait_for

from airflow_provider_flyte.literals import literal_map_to_python

P, D = "flytesnacks", "development"
Phase = core_execution_pb2.WorkflowExecution
PIPELINE = b.identifier(b.RT.LAUNCH_PLAN, "demo.pipeline")
NUMBERS = {"numbers": b.list_of(b.INTEGER)}


def create(admin, launch_plan=PIPELINE, inputs=None, name="", **spec_fields):
    spec = execution_pb2.ExecutionSpec(launch_plan=launch_plan, **spec_fields)
    request = execution_pb2.ExecutionCreateRequest(project=P, domain=D, name=name, spec=spec, inputs=inputs)
    return admin.CreateExecution(request).id


def test_pipeline_runs_with_defaults_and_reports_like_admin(admin):
    labels = common_pb2.Labels(values={"team": "data"})
    execution_id = create(admin, inputs=b.literal_map({"numbers": [1, 2, 3]}, NUMBERS), labels=labels, tags=["nightly"])
    assert len(execution_id.name) == 20
    assert execution_id.name[0] == "a"
    done = wait_for(admin, execution_id)
    assert done.closure.phase == Phase.SUCCEEDED
    assert done.closure.started_at.ToNanoseconds() >= done.closure.created_at.ToNanoseconds()
    assert done.closure.duration.ToNanoseconds() >= 0
    assert done.spec.max_parallelism == 25
    assert done.spec.labels.values["team"] == "data"
    assert list(done.spec.tags) == ["nightly"]
    assert done.spec.metadata.system_metadata.namespace == "flytesnacks-development"
    assert done.closure.workflow_id.name == "demo.pipeline"

    data = admin.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=execution_id))
    assert literal_map_to_python(data.full_inputs) == {"numbers": [1, 2, 3], "scale": 2.0, "label": "demo"}
    assert literal_map_to_python(data.full_outputs) == {
        "total": 6,
        "mean": 4.0,
        "report": "demo: mean 4.000 over 3 value(s)",
    }
    assert data.inputs.url == ""
    assert data.outputs.bytes == 0

    nodes = admin.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=execution_id, limit=10)
    )
    assert [n.id.node_id for n in nodes.node_executions] == ["start-node", "summarize", "mean", "report", "end-node"]
    assert {n.closure.phase for n in nodes.node_executions} == {core_execution_pb2.NodeExecution.SUCCEEDED}
    node_id = identifier_pb2.NodeExecutionIdentifier(node_id="mean", execution_id=execution_id)
    node_data = admin.GetNodeExecutionData(node_execution_pb2.NodeExecutionGetDataRequest(id=node_id))
    assert literal_map_to_python(node_data.full_outputs) == {"mean": 4.0}
    assert node_data.flyte_urls.outputs == f"flyte://v1/{P}/{D}/{execution_id.name}/mean/o"
    attempts = admin.ListTaskExecutions(task_execution_pb2.TaskExecutionListRequest(node_execution_id=node_id, limit=5))
    assert [(t.id.retry_attempt, t.closure.phase) for t in attempts.task_executions] == [
        (0, core_execution_pb2.TaskExecution.SUCCEEDED)
    ]

    metrics = admin.GetExecutionMetrics(execution_pb2.WorkflowExecutionGetMetricsRequest(id=execution_id, depth=10))
    operations = [span.operation_id for span in metrics.span.spans if span.operation_id]
    assert operations == ["WORKFLOW_SETUP", "WORKFLOW_TEARDOWN"]
    assert {span.node_id.node_id for span in metrics.span.spans if span.HasField("node_id")} == {
        "summarize",
        "mean",
        "report",
    }

    listed = admin.ListExecutions(
        common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project=P, domain=D),
            limit=10,
            filters="eq(phase,SUCCEEDED)+eq(execution_tag.key,team)",
        )
    )
    assert [e.id.name for e in listed.executions] == [execution_id.name]


def test_create_execution_validation(admin):
    inputs = b.literal_map({"numbers": [1]}, NUMBERS)
    create(admin, inputs=inputs, name="my-run")
    error = rpc_error(
        admin.CreateExecution,
        execution_pb2.ExecutionCreateRequest(
            project=P, domain=D, name="my-run", spec=execution_pb2.ExecutionSpec(launch_plan=PIPELINE), inputs=inputs
        ),
    )
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS

    def details(**fields):
        request = execution_pb2.ExecutionCreateRequest(
            project=P, domain=D, spec=execution_pb2.ExecutionSpec(launch_plan=PIPELINE), inputs=inputs
        )
        for key, value in fields.items():
            getattr(request, key).CopyFrom(value) if key == "inputs" else setattr(request, key, value)
        return rpc_error(admin.CreateExecution, request).details()

    assert details(name="9lives") == "invalid name format: 9lives, does not match regex '^[a-z][a-z\\-0-9]*$'"
    assert details(name="a" * 64) == f"size of name exceeded length 63 : {'a' * 64}"
    assert (
        details(inputs=b.literal_map({"numbers": [1], "oops": 1}, {**NUMBERS, "oops": b.INTEGER}))
        == "invalid input oops"
    )
    assert details(inputs=b.literal_map({}, {})) == "expected_inputs numbers missing"
    wrong = details(inputs=b.literal_map({"numbers": "x"}, {"numbers": b.STRING}))
    assert wrong.startswith("invalid numbers input wrong type. Expected collection_type")
    assert details(domain="qa") == "domain [qa] is unrecognized by system"
    assert details(project="nope") == (
        "failed to validate that project [nope] and domain [development] are registered, "
        "err: [project [nope] not found]"
    )
    missing_lp = execution_pb2.ExecutionCreateRequest(
        project=P, domain=D, spec=execution_pb2.ExecutionSpec(launch_plan=b.identifier(b.RT.LAUNCH_PLAN, "nope"))
    )
    assert rpc_error(admin.CreateExecution, missing_lp).code() == grpc.StatusCode.NOT_FOUND


def test_filter_values_that_cannot_be_compared_are_invalid_arguments(admin):
    def answer(filters):
        request = common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project=P, domain=D), limit=10, filters=filters
        )
        error = rpc_error(admin.ListExecutions, request)
        return error.code(), error.details()

    invalid = grpc.StatusCode.INVALID_ARGUMENT
    for value in ("inf", "-inf", "nan", "1e400", "9" * 400, "9999999999", "99999999999999999999h", "abc", ";"):
        shown = value.split(";")[0]
        assert answer(f"gt(duration,{value})") == (invalid, f"Failed to parse duration [{shown}]")
    assert answer("lt(created_at,9999-12-31T23:59:59-05:00)") == (
        invalid,
        "Failed to parse timestamp [9999-12-31T23:59:59-05:00]",
    )
    assert answer("eq(execution_name,)") == (invalid, "invalid value for filters")
    fine = admin.ListExecutions(
        common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project=P, domain=D),
            limit=10,
            filters=f"gt(duration,9000000000)+lt(duration,1e9)+ne(state,{'9' * 30})",
        )
    )
    assert list(fine.executions) == []


def test_failure_terminate_relaunch_and_recover(admin):
    failed_id = create(admin, launch_plan=b.identifier(b.RT.LAUNCH_PLAN, "demo.always_fails"), name="boom")
    failed = wait_for(admin, failed_id)
    assert failed.closure.phase == Phase.FAILED
    assert failed.closure.error.message == "[explode]: ValueError: demo failure: this run was meant to fail"
    assert failed.closure.error.kind == core_execution_pb2.ExecutionError.USER

    error = rpc_error(admin.TerminateExecution, execution_pb2.ExecutionTerminateRequest(id=failed_id, cause="stop"))
    assert (error.code(), error.details()) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "Cannot abort an already terminated workflow execution",
    )
    status = status_pb2.Status.FromString(dict(error.trailing_metadata())["grpc-status-details-bin"])
    assert status.details[0].type_url.endswith("flyteidl.admin.EventFailureReason")

    relaunched = admin.RelaunchExecution(execution_pb2.ExecutionRelaunchRequest(id=failed_id, name="boom-again")).id
    again = wait_for(admin, relaunched)
    assert again.spec.metadata.mode == execution_pb2.ExecutionMetadata.RELAUNCH
    assert again.spec.metadata.reference_execution.name == "boom"

    done_id = create(admin, inputs=b.literal_map({"numbers": [4]}, NUMBERS), name="first")
    wait_for(admin, done_id)
    recovered_id = admin.RecoverExecution(execution_pb2.ExecutionRecoverRequest(id=done_id, name="second")).id
    recovered = wait_for(admin, recovered_id)
    assert recovered.closure.phase == Phase.SUCCEEDED
    assert recovered.spec.metadata.mode == execution_pb2.ExecutionMetadata.RECOVERED
    nodes = admin.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=recovered_id, limit=10)
    )
    phases = {n.id.node_id: n.closure.phase for n in nodes.node_executions}
    assert phases["summarize"] == core_execution_pb2.NodeExecution.RECOVERED
    data = admin.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=recovered_id))
    assert literal_map_to_python(data.full_outputs)["total"] == 4


def test_terminate_running_execution():
    with FlyteSandbox(port=0, task_delay=60.0) as slow, grpc.insecure_channel(slow.endpoint) as channel:
        from flyteidl.service import admin_pb2_grpc

        admin = admin_pb2_grpc.AdminServiceStub(channel)
        task = b.container_task("t.slow", outputs={"o0": b.INTEGER})
        admin.CreateTask(task_pb2.TaskCreateRequest(id=task.id, spec=task_pb2.TaskSpec(template=task)))
        execution_id = create(admin, launch_plan=task.id, name="slow")
        wait_for(admin, execution_id, phases={Phase.RUNNING})
        admin.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=execution_id, cause="no longer needed"))
        aborted = wait_for(admin, execution_id)
        assert aborted.closure.phase == Phase.ABORTED
        assert aborted.closure.abort_metadata.cause == "no longer needed"


def test_creates_follow_later_changes_of_project_and_execution_config(admin):
    """A create reads the project and its execution config from caches: every change must reach the next create."""
    inputs = b.literal_map({"numbers": [1]}, NUMBERS)

    def spec_of(execution_id):
        return admin.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=execution_id)).spec

    first = spec_of(create(admin, inputs=inputs))
    assert first.max_parallelism == 25
    assert "team" not in first.labels.values
    admin.UpdateProject(project_pb2.Project(id=P, labels=common_pb2.Labels(values={"team": "data"})))
    config = matchable_resource_pb2.MatchingAttributes(
        workflow_execution_config=matchable_resource_pb2.WorkflowExecutionConfig(max_parallelism=7)
    )
    admin.UpdateWorkflowAttributes(
        workflow_attributes_pb2.WorkflowAttributesUpdateRequest(
            attributes=workflow_attributes_pb2.WorkflowAttributes(
                project=P, domain=D, workflow="demo.pipeline", matching_attributes=config
            )
        )
    )
    second = spec_of(create(admin, inputs=inputs))
    assert second.max_parallelism == 7
    assert second.labels.values["team"] == "data"
    admin.DeleteWorkflowAttributes(
        workflow_attributes_pb2.WorkflowAttributesDeleteRequest(
            project=P,
            domain=D,
            workflow="demo.pipeline",
            resource_type=matchable_resource_pb2.WORKFLOW_EXECUTION_CONFIG,
        )
    )
    assert spec_of(create(admin, inputs=inputs)).max_parallelism == 25
    admin.UpdateProject(project_pb2.Project(id=P, state=project_pb2.Project.ARCHIVED))
    request = execution_pb2.ExecutionCreateRequest(
        project=P, domain=D, spec=execution_pb2.ExecutionSpec(launch_plan=PIPELINE), inputs=inputs
    )
    assert rpc_error(admin.CreateExecution, request).details() == f"project [{P}] is not active"


def test_first_runs_of_a_task_at_once_share_one_generated_launch_plan(admin):
    task_id = b.identifier(b.RT.TASK, "demo.summarize")
    inputs = b.literal_map({"numbers": [5, 5]}, NUMBERS)
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda _: create(admin, launch_plan=task_id, inputs=inputs), range(8)))
    assert len({execution_id.name for execution_id in ids}) == 8
    plans = admin.ListLaunchPlans(
        common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project=P, domain=D, name=".flytegen.demo.summarize"), limit=10
        )
    )
    assert len(plans.launch_plans) == 1
    for execution_id in ids:
        assert wait_for(admin, execution_id).closure.phase == Phase.SUCCEEDED


def test_single_task_execution_uses_hidden_flytegen_launch_plan(admin):
    task_id = b.identifier(b.RT.TASK, "demo.summarize")
    execution_id = create(admin, launch_plan=task_id, inputs=b.literal_map({"numbers": [5, 5]}, NUMBERS))
    done = wait_for(admin, execution_id)
    assert done.closure.phase == Phase.SUCCEEDED
    assert done.closure.workflow_id.name == ".flytegen.demo.summarize"
    data = admin.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=execution_id))
    assert literal_map_to_python(data.full_outputs) == {"total": 10, "count": 2}
    named = admin.ListNamedEntities(
        common_pb2.NamedEntityListRequest(resource_type=b.RT.WORKFLOW, project=P, domain=D, limit=100)
    )
    assert not any(e.id.name.startswith(".flytegen") for e in named.entities)


def test_signals(admin, signals):
    execution_id = create(admin, inputs=b.literal_map({"numbers": [1]}, NUMBERS), name="with-signal")
    signal_id = identifier_pb2.SignalIdentifier(signal_id="approve", execution_id=execution_id)
    created = signals.GetOrCreateSignal(signal_pb2.SignalGetOrCreateRequest(id=signal_id, type=b.BOOLEAN))
    assert created.type == b.BOOLEAN
    assert not created.HasField("value")
    listed = signals.ListSignals(signal_pb2.SignalListRequest(workflow_execution_id=execution_id, limit=10))
    assert [s.id.signal_id for s in listed.signals] == ["approve"]
    error = rpc_error(signals.SetSignal, signal_pb2.SignalSetRequest(id=signal_id, value=b.literal("yes", b.STRING)))
    assert error.details().startswith(
        'requested signal value [scalar { primitive { string_value: "yes" } }] is not castable'
    )
    missing = identifier_pb2.SignalIdentifier(signal_id="nope", execution_id=execution_id)
    error = rpc_error(signals.SetSignal, signal_pb2.SignalSetRequest(id=missing, value=b.literal(True, b.BOOLEAN)))
    assert error.details() == (
        f"failed to validate that signal [{{{{flytesnacks development {execution_id.name}}} nope}}] exists, "
        "err: [signal does not exist]"
    )
    signals.SetSignal(signal_pb2.SignalSetRequest(id=signal_id, value=b.literal(True, b.BOOLEAN)))
    fetched = signals.GetOrCreateSignal(signal_pb2.SignalGetOrCreateRequest(id=signal_id, type=b.BOOLEAN))
    assert fetched.value.scalar.primitive.boolean is True
    error = rpc_error(signals.GetOrCreateSignal, signal_pb2.SignalGetOrCreateRequest(id=signal_id))
    assert error.details() == "missing type"
