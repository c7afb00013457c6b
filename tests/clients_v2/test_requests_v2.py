"""Every Flyte 2 client method sends the right request and parses the response, on the sync and asyncio clients."""

from __future__ import annotations

import grpc
import pytest
from conftest import Driver2
from flyteidl2.common import identifier_pb2, list_pb2, phase_pb2
from flyteidl2.task import common_pb2, run_pb2
from v2_fake_services import ScriptedFlyte2

from airflow_provider_flyte.clients.v2 import TERMINAL_PHASES, RunPhase, check_run_name, run_url
from airflow_provider_flyte.clients.v2.phases import is_terminal
from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.exceptions import (
    FlyteEntityAlreadyExistsException,
    FlyteEntityNotExistException,
    FlyteInvalidInputException,
)

RUN = identifier_pb2.RunIdentifier(project="p", domain="d", name="nightly-1")


async def test_get_task_details_is_cached(driver: Driver2, backend: ScriptedFlyte2) -> None:
    first = await driver.call("get_task_details", "p", "d", "env.square", "v1")
    second = await driver.call("get_task_details", "p", "d", "env.square", "v1")
    assert first == second
    assert first.task_id.name == "env.square"
    (call,) = backend.calls_to("GetTaskDetails")
    assert (call.request.task_id.project, call.request.task_id.version) == ("p", "v1")


async def test_latest_task_version_asks_list_tasks_like_the_sdk(driver: Driver2, backend: ScriptedFlyte2) -> None:
    assert await driver.call("latest_task_version", "p", "d", "env.square") == "v7"
    request = backend.calls_to("ListTasks")[0].request
    assert request.project_id == identifier_pb2.ProjectIdentifier(name="p", domain="d")
    assert request.request.limit == 1
    assert request.request.sort_by == list_pb2.Sort(key="created_at", direction=list_pb2.Sort.DESCENDING)
    assert list(request.request.filters) == [
        list_pb2.Filter(function=list_pb2.Filter.EQUAL, field="name", values=["env.square"])
    ]
    with pytest.raises(FlyteEntityNotExistException, match="'missing' has no deployed version"):
        await driver.call("latest_task_version", "p", "d", "missing")


async def test_list_task_versions(driver: Driver2, backend: ScriptedFlyte2) -> None:
    assert await driver.call("list_task_versions", "p", "d", "env.square", limit=5) == (["v2", "v1"], "")
    assert backend.calls_to("ListVersions")[0].request.task_name.name == "env.square"


async def test_create_run_of_a_task_with_inline_inputs(driver: Driver2, backend: ScriptedFlyte2) -> None:
    inputs = common_pb2.Inputs(literals=[common_pb2.NamedLiteral(name="x")])
    spec = run_pb2.RunSpec(overwrite_cache=True)
    run = await driver.call(
        "create_run", "p", "d", "nightly-1", task_id=("env.square", "v1"), inputs=inputs, run_spec=spec
    )
    assert run.action.id.run == RUN
    request = backend.calls_to("CreateRun")[0].request
    assert request.run_id == RUN
    assert (request.task_id.name, request.task_id.version, request.task_id.project) == ("env.square", "v1", "p")
    assert request.inputs == inputs
    assert request.run_spec.overwrite_cache


async def test_create_run_of_a_trigger_without_a_name(driver: Driver2, backend: ScriptedFlyte2) -> None:
    run = await driver.call("create_run", "p", "d", None, trigger_name=("env.square", "nightly"))
    request = backend.calls_to("CreateRun")[0].request
    assert request.WhichOneof("id") == "project_id"
    assert request.trigger_name == identifier_pb2.TriggerName(
        project="p", domain="d", task_name="env.square", name="nightly"
    )
    assert run.action.id.run.name.startswith("rgen")


async def test_create_run_needs_exactly_one_target(driver: Driver2, backend: ScriptedFlyte2) -> None:
    with pytest.raises(FlyteInvalidInputException, match="exactly one of them"):
        await driver.call("create_run", "p", "d", "a", task_id=("t", "v"), trigger_name=("t", "n"))
    with pytest.raises(FlyteInvalidInputException, match="exactly one of them"):
        await driver.call("create_run", "p", "d", "a")
    assert backend.calls == []


async def test_duplicate_run_name_is_already_exists(driver: Driver2) -> None:
    await driver.call("create_run", "p", "d", "dup", task_id=("t", "v"))
    with pytest.raises(FlyteEntityAlreadyExistsException, match="run dup already exists") as raised:
        await driver.call("create_run", "p", "d", "dup", task_id=("t", "v"))
    assert raised.value.rpc == "flyteidl2.workflow.RunService/CreateRun"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("a" * 31, "has 31 characters"),
        ("Nightly", "characters Flyte 2 does not allow"),
        ("run_1", "characters Flyte 2 does not allow"),
        ("-run", "characters Flyte 2 does not allow"),
        ("", "is not a Flyte 2 run name"),
    ],
)
async def test_run_names_are_checked_before_any_rpc(
    driver: Driver2, backend: ScriptedFlyte2, name: str, reason: str
) -> None:
    with pytest.raises(FlyteInvalidInputException, match=reason) as raised:
        await driver.call("create_run", "p", "d", name, task_id=("t", "v"))
    assert f"run_name={name!r}" in str(raised.value)
    assert "at most 30 lowercase letters, digits and '-'" in str(raised.value)
    assert backend.calls == []


def test_valid_run_names() -> None:
    for name in ("a", "nightly-2026-01-01", "x" * 30, "0abc"):
        assert check_run_name(name) == name


async def test_upload_inputs_then_create_run_with_them(driver: Driver2, backend: ScriptedFlyte2) -> None:
    inputs = common_pb2.Inputs(literals=[common_pb2.NamedLiteral(name="x")])
    offloaded = await driver.call("upload_inputs", "p", "d", "up-1", inputs, task_id=("t", "v"))
    assert offloaded.uri == "s3://bucket/inputs.pb"
    upload = backend.calls_to("UploadInputs")[0].request
    assert (upload.run_id.name, upload.task_id.name, upload.inputs) == ("up-1", "t", inputs)
    await driver.call("create_run", "p", "d", "up-1", task_id=("t", "v"), inputs=offloaded)
    assert backend.calls_to("CreateRun")[0].request.offloaded_input_data == offloaded


async def test_abort_get_and_action_data(driver: Driver2, backend: ScriptedFlyte2) -> None:
    await driver.call("abort_run", "p:d:nightly-1", "stopped by Airflow")
    abort = backend.calls_to("AbortRun")[0].request
    assert (abort.run_id, abort.reason) == (RUN, "stopped by Airflow")
    backend.phases["nightly-1"] = [phase_pb2.ACTION_PHASE_ABORTED]
    details = await driver.call("get_run_details", RUN)
    assert RunPhase.of(details.action.status.phase) is RunPhase.ABORTED
    await driver.call("get_action_data", RUN)
    assert backend.calls_to("GetActionData")[0].request.action_id == identifier_pb2.ActionIdentifier(run=RUN, name="a0")


async def test_bad_run_ids_fail_before_any_rpc(driver: Driver2, backend: ScriptedFlyte2) -> None:
    with pytest.raises(FlyteInvalidInputException, match="'p:d' is not a run id"):
        await driver.call("get_run_details", "p:d")
    assert backend.calls == []


async def test_list_and_iterate_runs(driver: Driver2, backend: ScriptedFlyte2) -> None:
    for index in range(5):
        await driver.call("create_run", "p", "d", f"run-{index}", task_id=("t", "v"))
    runs, token = await driver.call(
        "list_runs", "p", "d", {"phase": ["RUNNING", "QUEUED"]}, limit=2, sort_by="-created_at"
    )
    assert ([run.action.id.run.name for run in runs], token) == (["run-0", "run-1"], "2")
    request = backend.calls_to("ListRuns")[0].request
    assert request.project_id == identifier_pb2.ProjectIdentifier(name="p", domain="d")
    assert list(request.request.filters) == [
        list_pb2.Filter(function=list_pb2.Filter.VALUE_IN, field="phase", values=["RUNNING", "QUEUED"])
    ]
    assert request.request.sort_by == list_pb2.Sort(key="created_at", direction=list_pb2.Sort.DESCENDING)
    every = await driver.collect("iter_runs", "p", "d", page_size=2)
    assert [run.action.id.run.name for run in every] == [f"run-{index}" for index in range(5)]
    with pytest.raises(FlyteInvalidInputException, match="limit=0 must be a positive integer"):
        await driver.call("list_runs", "p", "d", limit=0)


async def test_triggers(driver: Driver2, backend: ScriptedFlyte2) -> None:
    trigger = await driver.call("get_trigger", "p", "d", "env.square", "nightly")
    assert trigger.id.name == identifier_pb2.TriggerName(
        project="p", domain="d", task_name="env.square", name="nightly"
    )
    triggers, token = await driver.call("list_triggers", "p", "d", task_name="env.square")
    assert ([t.id.name.name for t in triggers], token) == (["nightly"], "")
    assert backend.calls_to("ListTriggers")[0].request.task_name.name == "env.square"
    await driver.call("list_triggers", "p", "d")
    assert backend.calls_to("ListTriggers")[1].request.WhichOneof("scope_by") == "project_id"


def test_phases_come_from_the_idl() -> None:
    names = {
        value.name.removeprefix("ACTION_PHASE_"): value.number for value in phase_pb2.ActionPhase.DESCRIPTOR.values
    }
    assert {phase.name: phase.value for phase in RunPhase} == names
    assert {phase.name for phase in TERMINAL_PHASES} == {"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT", "RECOVERED"}
    assert not is_terminal(phase_pb2.ACTION_PHASE_PAUSED)
    assert RunPhase.of(999) is RunPhase.UNSPECIFIED


def test_console_url_matches_the_sdk() -> None:
    from flyte.remote._client.controlplane import Console

    cases = [
        (PlatformConfig(endpoint="flyte.example.com:443"), "dns:///flyte.example.com", False),
        (PlatformConfig(endpoint="localhost:8090", insecure=True), "dns:///localhost:8090", True),
        (PlatformConfig(endpoint="127.0.0.1:30080", insecure=True), "dns:///127.0.0.1:30080", True),
    ]
    for config, sdk_endpoint, insecure in cases:
        expected = Console(sdk_endpoint, insecure=insecure).run_url("p", "development", "nightly-1")
        assert run_url(config, "p", "development", "nightly-1") == expected
    custom = PlatformConfig(endpoint="api:443", console_endpoint="https://console.example.com/")
    assert run_url(custom, "p", "d", "r") == "https://console.example.com/v2/domain/d/project/p/runs/r"


async def test_not_found_maps_to_our_exception(driver: Driver2, backend: ScriptedFlyte2) -> None:
    backend.fail("GetRunDetails", grpc.StatusCode.NOT_FOUND, message="run not found")
    with pytest.raises(
        FlyteEntityNotExistException, match=r"NOT_FOUND in flyteidl2\.workflow\.RunService/GetRunDetails"
    ):
        await driver.call("get_run_details", RUN)
