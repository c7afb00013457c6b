"""The Flyte 2 client against the Flyte 2 sandbox (``flyte_admin_sandbox.v2``): deploy, run, watch, read, abort."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from flyteidl2.task import task_definition_pb2, task_service_pb2

from airflow_provider_flyte.clients.v2 import AsyncFlyte2Client, Flyte2Client, RunPhase, decode_outputs, encode_inputs
from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.exceptions import FlyteEntityAlreadyExistsException

sandbox_v2 = pytest.importorskip("flyte_admin_sandbox.v2")

PROJECT, DOMAIN, TASK = "flytesnacks", "development", "env.double"


def double(x: int, scale: float = 2.0) -> float:
    return x * scale


@pytest.fixture
def sandbox() -> Iterator[object]:
    with sandbox_v2.Flyte2Sandbox(port=0, connect_port=0) as running:
        running.behave(TASK, function=double)
        with Flyte2Client(_config(running)) as client:
            _deploy(client, "v1")
        yield running


def _config(sandbox: object) -> PlatformConfig:
    return PlatformConfig(endpoint=sandbox.grpc_endpoint, insecure=True, backend="flyte2")  # type: ignore[attr-defined]


def _deploy(client: Flyte2Client, version: str) -> None:
    """Deploy ``double`` as the SDK would describe it (its typed interface and default inputs)."""
    from flyte._internal.runtime.convert import convert_upload_default_inputs
    from flyte._internal.runtime.types_serde import transform_native_to_typed_interface
    from flyte.models import NativeInterface

    native = NativeInterface.from_callable(double)
    spec = task_definition_pb2.TaskSpec()
    spec.task_template.type = "python-task"
    spec.task_template.interface.CopyFrom(transform_native_to_typed_interface(native))
    spec.default_inputs.extend(asyncio.run(convert_upload_default_inputs(native)))
    task_id = task_definition_pb2.TaskIdentifier(project=PROJECT, domain=DOMAIN, name=TASK, version=version)
    client.raw.task_service.DeployTask(task_service_pb2.DeployTaskRequest(task_id=task_id, spec=spec))


def test_sync_client_runs_a_deployed_task(sandbox: object) -> None:
    with Flyte2Client(_config(sandbox)) as client:
        version = client.latest_task_version(PROJECT, DOMAIN, TASK)
        task = client.get_task_details(PROJECT, DOMAIN, TASK, version)
        inputs = encode_inputs({"x": 21}, task)
        run = client.create_run(PROJECT, DOMAIN, "int-1", task_id=task, inputs=inputs)
        states = list(client.watch_run_details(run.action.id.run))
        assert RunPhase.of(states[-1].action.status.phase) is RunPhase.SUCCEEDED
        outputs = client.get_action_data(run.action.id.run).outputs
        assert decode_outputs(outputs, task.spec.task_template.interface.outputs) == {"o0": 42.0}
        with pytest.raises(FlyteEntityAlreadyExistsException):
            client.create_run(PROJECT, DOMAIN, "int-1", task_id=task, inputs=inputs)


async def test_async_client_aborts_a_hanging_run(sandbox: object) -> None:
    sandbox.behave(TASK, hang=True)  # type: ignore[attr-defined]
    async with AsyncFlyte2Client(_config(sandbox)) as client:
        task = await client.get_task_details(PROJECT, DOMAIN, TASK, "v1")
        run = await client.create_run(PROJECT, DOMAIN, "int-2", task_id=task, inputs=encode_inputs({"x": 1}, task))
        await client.abort_run(run.action.id.run, "stopped by the test")
        phases = [
            RunPhase.of(details.action.status.phase) async for details in client.watch_run_details(run.action.id.run)
        ]
        assert phases[-1] is RunPhase.ABORTED
