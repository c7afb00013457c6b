"""The Flyte 2 sandbox's TaskService and RunService over plain gRPC (what the provider's Flyte 2 client speaks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from flyte_admin_sandbox.v2 import Flyte2Sandbox
from flyteidl2.common import identifier_pb2, list_pb2, phase_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2, dataproxy_service_pb2_grpc
from flyteidl2.task import task_definition_pb2, task_service_pb2
from flyteidl2.workflow import run_service_pb2

from tests.sandbox_v2.v2_helpers import (
    DOMAIN,
    PROJECT,
    Stubs,
    action_identifier,
    inputs,
    run_identifier,
    spec,
    task_id,
)

P = phase_pb2


@pytest.fixture
def stubs(flyte2_sandbox: Flyte2Sandbox) -> Iterator[Stubs]:
    with grpc.insecure_channel(flyte2_sandbox.grpc_endpoint) as channel:
        yield Stubs(channel)


def code_of(call: object) -> grpc.StatusCode:
    assert isinstance(call, grpc.RpcError)
    return call.code()  # type: ignore[no-any-return]


def test_deploy_get_list_and_versions(stubs: Stubs) -> None:
    stubs.deploy(version="v1")
    stubs.deploy(version="v1")  # the same spec again: a no-op
    stubs.deploy(version="v2")
    with pytest.raises(grpc.RpcError) as raised:
        stubs.tasks.DeployTask(
            task_service_pb2.DeployTaskRequest(task_id=task_id(version="v1"), spec=spec(timeout=5.0))
        )
    assert code_of(raised.value) == grpc.StatusCode.ALREADY_EXISTS
    assert "flytesnacks/development/env.double/v1" in raised.value.details()

    details = stubs.tasks.GetTaskDetails(task_service_pb2.GetTaskDetailsRequest(task_id=task_id(version="v1"))).details
    assert details.spec.task_template.interface.inputs.variables[0].key == "x"
    latest = stubs.tasks.GetTaskDetails(task_service_pb2.GetTaskDetailsRequest(task_id=task_id(version=""))).details
    assert latest.task_id.version == "v2"

    project = identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN)
    listed = stubs.tasks.ListTasks(task_service_pb2.ListTasksRequest(project_id=project))
    assert [(t.task_id.name, t.task_id.version) for t in listed.tasks] == [("env.double", "v2")]
    versions = stubs.tasks.ListVersions(
        task_service_pb2.ListVersionsRequest(
            task_name=task_definition_pb2.TaskName(project=PROJECT, domain=DOMAIN, name="env.double")
        )
    )
    assert [v.version for v in versions.versions] == ["v2", "v1"]

    with pytest.raises(grpc.RpcError) as missing:
        stubs.tasks.GetTaskDetails(task_service_pb2.GetTaskDetailsRequest(task_id=task_id(version="v9")))
    assert code_of(missing.value) == grpc.StatusCode.NOT_FOUND
    assert "env.double/v9" in missing.value.details()


def test_run_phases_on_the_watch_stream_and_outputs(flyte2_sandbox: Flyte2Sandbox, stubs: Stubs) -> None:
    flyte2_sandbox.behave("env.double", function="tests.sandbox_v2.v2_helpers:double")
    stubs.deploy()
    created = stubs.run("first-run", x=21)
    assert created.action.id.run.name == "first-run"
    assert created.action.status.phase == P.ACTION_PHASE_QUEUED
    phases = [details.action.status.phase for details in stubs.watch("first-run")]
    assert phases[-1] == P.ACTION_PHASE_SUCCEEDED
    assert P.ACTION_PHASE_RUNNING in phases
    assert phases == sorted(set(phases), key=phases.index)  # each phase once, in order

    data = stubs.runs.GetActionData(run_service_pb2.GetActionDataRequest(action_id=action_identifier("first-run")))
    assert data.inputs.literals[0].value.scalar.primitive.integer == 21
    assert data.outputs.literals[0].name == "o0"
    assert data.outputs.literals[0].value.scalar.primitive.integer == 42
    details = stubs.runs.GetRunDetails(run_service_pb2.GetRunDetailsRequest(run_id=run_identifier("first-run")))
    assert details.details.action.task.short_name == "double"
    assert details.details.action.status.HasField("end_time")


def test_dataproxy_get_action_data_matches(flyte2_sandbox: Flyte2Sandbox, stubs: Stubs) -> None:
    stubs.deploy()
    stubs.run("data-run", x=1)
    flyte2_sandbox.wait(run_identifier("data-run"))
    with grpc.insecure_channel(flyte2_sandbox.grpc_endpoint) as channel:
        proxy = dataproxy_service_pb2_grpc.DataProxyServiceStub(channel)
        data = proxy.GetActionData(dataproxy_service_pb2.GetActionDataRequest(action_id=action_identifier("data-run")))
    assert data.outputs.literals[0].value.scalar.primitive.integer == 0  # placeholder: no behaviour


def test_create_run_errors_name_field_and_value(stubs: Stubs) -> None:
    stubs.deploy()
    stubs.run("taken", x=1)
    cases = [
        (lambda: stubs.run("taken", x=2), grpc.StatusCode.ALREADY_EXISTS, "flytesnacks/development/taken"),
        (lambda: stubs.run("x" * 31, x=1), grpc.StatusCode.INVALID_ARGUMENT, "run_id.name"),
        (lambda: stubs.run("Upper", x=1), grpc.StatusCode.INVALID_ARGUMENT, "[Upper]"),
        (lambda: stubs.run("no-task", name="env.nope", x=1), grpc.StatusCode.NOT_FOUND, "env.nope"),
        (lambda: stubs.run("no-input"), grpc.StatusCode.INVALID_ARGUMENT, "required inputs are missing"),
        (lambda: stubs.run("bad-input", x=1, z=2), grpc.StatusCode.INVALID_ARGUMENT, "invalid inputs [z]"),
    ]
    for call, code, text in cases:
        with pytest.raises(grpc.RpcError) as raised:
            call()
        assert code_of(raised.value) == code, text
        assert text in raised.value.details()
    with pytest.raises(grpc.RpcError) as raised:
        stubs.runs.CreateRun(
            run_service_pb2.CreateRunRequest(
                run_id=identifier_pb2.RunIdentifier(project="nope", domain=DOMAIN, name="r1"), task_id=task_id()
            )
        )
    assert code_of(raised.value) == grpc.StatusCode.NOT_FOUND
    assert "project [nope]" in raised.value.details()


def test_generated_names_inline_spec_and_list_runs(flyte2_sandbox: Flyte2Sandbox, stubs: Stubs) -> None:
    project = identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN)
    names = []
    for value in range(3):
        created = stubs.runs.CreateRun(
            run_service_pb2.CreateRunRequest(project_id=project, task_spec=spec(), inputs=inputs(x=value))
        )
        names.append(created.run.action.id.run.name)
    assert all(len(name) <= 30 for name in names)
    for name in names:
        flyte2_sandbox.wait(run_identifier(name))
    first = stubs.runs.ListRuns(
        run_service_pb2.ListRunsRequest(project_id=project, request=list_pb2.ListRequest(limit=2))
    )
    assert [run.action.id.run.name for run in first.runs] == names[::-1][:2]
    rest = stubs.runs.ListRuns(
        run_service_pb2.ListRunsRequest(project_id=project, request=list_pb2.ListRequest(limit=2, token=first.token))
    )
    assert [run.action.id.run.name for run in rest.runs] == names[:1]
    assert rest.token == ""
    succeeded = list_pb2.Filter(function=list_pb2.Filter.EQUAL, field="phase", values=["SUCCEEDED"])
    filtered = stubs.runs.ListRuns(
        run_service_pb2.ListRunsRequest(project_id=project, request=list_pb2.ListRequest(filters=[succeeded]))
    )
    assert len(filtered.runs) == 3
    bad = list_pb2.Filter(function=list_pb2.Filter.EQUAL, field="colour", values=["red"])
    with pytest.raises(grpc.RpcError) as raised:
        stubs.runs.ListRuns(
            run_service_pb2.ListRunsRequest(project_id=project, request=list_pb2.ListRequest(filters=[bad]))
        )
    assert code_of(raised.value) == grpc.StatusCode.INVALID_ARGUMENT
    assert "[colour]" in raised.value.details()


def test_abort_hanging_run_and_abort_rules(flyte2_sandbox: Flyte2Sandbox, stubs: Stubs) -> None:
    flyte2_sandbox.behave("env.double", hang=True)
    stubs.deploy()
    stubs.run("hangs", x=1)
    watched = stubs.watch("hangs")
    assert next(watched).action.status.phase == P.ACTION_PHASE_QUEUED
    stubs.runs.AbortRun(run_service_pb2.AbortRunRequest(run_id=run_identifier("hangs"), reason="enough"))
    last = list(watched)[-1]
    assert last.action.status.phase == P.ACTION_PHASE_ABORTED
    assert last.action.abort_info.reason == "enough"
    stubs.runs.AbortRun(run_service_pb2.AbortRunRequest(run_id=run_identifier("hangs")))  # again: a no-op

    flyte2_sandbox.behaviours.clear()
    stubs.run("done", x=1)
    flyte2_sandbox.wait(run_identifier("done"))
    with pytest.raises(grpc.RpcError) as raised:
        stubs.runs.AbortRun(run_service_pb2.AbortRunRequest(run_id=run_identifier("done")))
    assert code_of(raised.value) == grpc.StatusCode.FAILED_PRECONDITION
    assert "SUCCEEDED" in raised.value.details()
    with pytest.raises(grpc.RpcError) as raised:
        stubs.runs.AbortRun(run_service_pb2.AbortRunRequest(run_id=run_identifier("ghost")))
    assert code_of(raised.value) == grpc.StatusCode.NOT_FOUND


def test_failures_durations_and_timeouts(flyte2_sandbox: Flyte2Sandbox, stubs: Stubs) -> None:
    stubs.deploy()
    stubs.deploy("env.slow", timeout=0.2)
    stubs.deploy("env.builtin", python_callable="tests.sandbox_v2.v2_helpers:double")
    flyte2_sandbox.behave("env.double", fail="scripted boom")
    flyte2_sandbox.behave("env.slow", hang=True)
    stubs.run("fails", x=1)
    stubs.run("times-out", name="env.slow", x=1)
    stubs.run("builtin", name="env.builtin", x=5)
    failed = flyte2_sandbox.wait(run_identifier("fails"))
    assert failed.phase == P.ACTION_PHASE_FAILED
    assert failed.error is not None
    assert failed.error.message == "scripted boom"
    assert flyte2_sandbox.wait(run_identifier("times-out")).phase == P.ACTION_PHASE_TIMED_OUT
    builtin = flyte2_sandbox.wait(run_identifier("builtin"))
    assert builtin.outputs is not None
    assert builtin.outputs.literals[0].value.scalar.primitive.integer == 10

    flyte2_sandbox.behave("env.double", duration=0.3, outputs={"o0": 7})
    started = time.monotonic()
    stubs.run("timed", x=1)
    timed = flyte2_sandbox.wait(run_identifier("timed"))
    assert time.monotonic() - started >= 0.3
    assert timed.outputs is not None
    assert timed.outputs.literals[0].value.scalar.primitive.integer == 7


def test_watch_runs_sends_a_snapshot_then_changes(stubs: Stubs) -> None:
    stubs.deploy()
    stubs.run("before", x=1)
    request = run_service_pb2.WatchRunsRequest(project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN))
    stream = stubs.runs.WatchRuns(request, timeout=10)
    seen: list[tuple[str, int]] = []
    done = threading.Event()

    def consume() -> None:
        for response in stream:
            seen.extend((run.action.id.run.name, run.action.status.phase) for run in response.runs)
            if ("after", P.ACTION_PHASE_SUCCEEDED) in seen:
                done.set()
                return

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    time.sleep(0.1)
    stubs.run("after", x=1)
    assert done.wait(5), seen
    stream.cancel()
    assert seen[0][0] == "before"
    assert [phase for name, phase in seen if name == "after"][-1] == P.ACTION_PHASE_SUCCEEDED


def test_actions_of_a_run(stubs: Stubs) -> None:
    stubs.deploy()
    stubs.run("acts", x=1)
    watched = list(
        stubs.runs.WatchActions(run_service_pb2.WatchActionsRequest(run_id=run_identifier("acts")), timeout=10)
    )
    assert watched[-1].enriched_actions[0].action.status.phase == P.ACTION_PHASE_SUCCEEDED
    listed = stubs.runs.ListActions(run_service_pb2.ListActionsRequest(run_id=run_identifier("acts")))
    assert [action.id.name for action in listed.actions] == ["a0"]
    details = stubs.runs.GetActionDetails(run_service_pb2.GetActionDetailsRequest(action_id=action_identifier("acts")))
    assert details.details.status.phase == P.ACTION_PHASE_SUCCEEDED
    with pytest.raises(grpc.RpcError) as raised:
        stubs.runs.GetActionDetails(
            run_service_pb2.GetActionDetailsRequest(
                action_id=identifier_pb2.ActionIdentifier(run=run_identifier("acts"), name="a1")
            )
        )
    assert code_of(raised.value) == grpc.StatusCode.NOT_FOUND
