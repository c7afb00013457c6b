"""Retry, deadline and error mapping through the raw clients' interceptors, sync and grpc.aio, on real gRPC."""

from __future__ import annotations

import logging

import grpc
import grpc.aio
import pytest
from flyteidl.admin import common_pb2, execution_pb2, task_pb2
from flyteidl.core import identifier_pb2
from transport_fake_admin import ScriptedAdmin

from airflow_provider_flyte.clients.policy import RetryPolicy, RpcKind, classify
from airflow_provider_flyte.clients.raw import RawAsyncFlyteClient, RawSynchronousFlyteClient
from airflow_provider_flyte.exceptions import (
    FlyteEntityAlreadyExistsException,
    FlyteEntityNotExistException,
    FlyteInvalidInputException,
    FlyteResourceExhaustedException,
    FlyteSystemUnavailableException,
    FlyteTimeout,
)
from tests.support.clients import RecordedSleeps

EXECUTION_ID = identifier_pb2.WorkflowExecutionIdentifier(project="flytesnacks", domain="development", name="abc")
GET = execution_pb2.WorkflowExecutionGetRequest(id=EXECUTION_ID)


def create_request(name: str = "") -> execution_pb2.ExecutionCreateRequest:
    return execution_pb2.ExecutionCreateRequest(project="flytesnacks", domain="development", name=name)


def retry_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.INFO and r.getMessage().startswith("Retrying")]


@pytest.mark.parametrize(
    ("rpc", "kind", "retried"),
    [
        (
            "/flyteidl.service.AdminService/GetExecution",
            RpcKind.READ,
            {"UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED"},
        ),
        ("/flyteidl.service.AdminService/ListTasks", RpcKind.READ, {"RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED"}),
        ("/flyteidl.service.IdentityService/UserInfo", RpcKind.READ, {"DEADLINE_EXCEEDED"}),
        ("/flyteidl.service.AdminService/CreateExecution", RpcKind.NAMED_CREATE, {"UNAVAILABLE", "DEADLINE_EXCEEDED"}),
        ("/flyteidl.service.AdminService/CreateTask", RpcKind.WRITE, {"UNAVAILABLE", "RESOURCE_EXHAUSTED"}),
    ],
)
def test_classification(rpc: str, kind: RpcKind, retried: set[str]) -> None:
    plan = classify(rpc)
    assert plan.kind is kind
    assert retried <= {code.name for code in plan.retry_codes}
    assert "NOT_FOUND" not in {code.name for code in plan.retry_codes}
    if kind is RpcKind.WRITE:
        assert grpc.StatusCode.DEADLINE_EXCEEDED not in plan.retry_codes
        assert grpc.StatusCode.CANCELLED not in plan.retry_codes


def test_unavailable_is_retried_with_growing_backoff(
    admin: ScriptedAdmin, sleeps: RecordedSleeps, caplog: pytest.LogCaptureFixture
) -> None:
    admin.fail("GetExecution", grpc.StatusCode.UNAVAILABLE, times=3)
    config = admin.config(rpc_retries=3, retry_initial_backoff=0.01, retry_max_backoff=1.0)
    with caplog.at_level(logging.INFO), RawSynchronousFlyteClient(config, retry_policy=sleeps.policy(config)) as raw:
        execution = raw.admin_service.GetExecution(GET)
    assert execution.id.name == "abc"
    assert len(admin.calls_to("GetExecution")) == 4
    assert sleeps == [0.01, 0.02, 0.04]
    logs = retry_logs(caplog)
    assert [r.args[0:3] for r in logs] == [("GetExecution", "UNAVAILABLE", n) for n in (1, 2, 3)]


def test_backoff_is_capped(admin: ScriptedAdmin, sleeps: RecordedSleeps) -> None:
    admin.fail("GetExecution", grpc.StatusCode.UNAVAILABLE, times=4)
    config = admin.config(rpc_retries=4, retry_initial_backoff=0.01, retry_max_backoff=0.025)
    with RawSynchronousFlyteClient(config, retry_policy=sleeps.policy(config)) as raw:
        raw.admin_service.GetExecution(GET)
    assert sleeps == [0.01, 0.02, 0.025, 0.025]


def test_retries_are_bounded_and_the_error_is_ours(admin: ScriptedAdmin, sleeps: RecordedSleeps) -> None:
    admin.fail("GetExecution", grpc.StatusCode.UNAVAILABLE, times=10, message="admin is restarting")
    config = admin.config(rpc_retries=2)
    with (
        RawSynchronousFlyteClient(config, retry_policy=sleeps.policy(config)) as raw,
        pytest.raises(FlyteSystemUnavailableException) as raised,
    ):
        raw.admin_service.GetExecution(GET)
    assert len(admin.calls_to("GetExecution")) == 3
    assert len(sleeps) == 2
    error = raised.value
    assert error.code == "UNAVAILABLE"
    assert error.rpc == "flyteidl.service.AdminService/GetExecution"
    assert error.server_message == "admin is restarting"
    assert isinstance(error.__cause__, grpc.RpcError)


def test_total_timeout_stops_retrying_before_an_oversized_sleep(admin: ScriptedAdmin, sleeps: RecordedSleeps) -> None:
    admin.fail("GetExecution", grpc.StatusCode.UNAVAILABLE, times=3)
    config = admin.config(rpc_retries=3, retry_initial_backoff=50.0, retry_max_backoff=50.0, retry_total_timeout=30.0)
    with (
        RawSynchronousFlyteClient(config, retry_policy=sleeps.policy(config)) as raw,
        pytest.raises(FlyteSystemUnavailableException),
    ):
        raw.admin_service.GetExecution(GET)
    assert sleeps == []
    assert len(admin.calls_to("GetExecution")) == 1


@pytest.mark.parametrize(
    ("code", "exception"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, FlyteInvalidInputException),
        (grpc.StatusCode.NOT_FOUND, FlyteEntityNotExistException),
    ],
)
def test_user_errors_are_not_retried(
    admin: ScriptedAdmin, sleeps: RecordedSleeps, code: grpc.StatusCode, exception: type[Exception]
) -> None:
    admin.fail("GetExecution", code, message="missing project")
    config = admin.config()
    with (
        RawSynchronousFlyteClient(config, retry_policy=sleeps.policy(config)) as raw,
        pytest.raises(exception, match="missing project"),
    ):
        raw.admin_service.GetExecution(GET)
    assert len(admin.calls_to("GetExecution")) == 1
    assert sleeps == []


def test_deadline_exceeded_is_retried_for_reads_only(admin: ScriptedAdmin, sleeps: RecordedSleeps) -> None:
    admin.fail("GetExecution", grpc.StatusCode.DEADLINE_EXCEEDED, times=2)
    admin.fail("CreateTask", grpc.StatusCode.DEADLINE_EXCEEDED)
    config = admin.config()
    with RawSynchronousFlyteClient(config, retry_policy=sleeps.policy(config)) as raw:
        raw.admin_service.GetExecution(GET)
        with pytest.raises(FlyteTimeout):
            raw.admin_service.CreateTask(task_pb2.TaskCreateRequest())
    assert len(admin.calls_to("GetExecution")) == 3
    assert len(admin.calls_to("CreateTask")) == 1


def test_idempotent_writes_retry_transient_codes(admin: ScriptedAdmin, sleeps: RecordedSleeps) -> None:
    admin.fail("CreateTask", grpc.StatusCode.RESOURCE_EXHAUSTED)
    admin.fail("CreateTask", grpc.StatusCode.UNAVAILABLE)
    config = admin.config()
    with RawSynchronousFlyteClient(config, retry_policy=sleeps.policy(config)) as raw:
        raw.admin_service.CreateTask(task_pb2.TaskCreateRequest())
    assert len(admin.calls_to("CreateTask")) == 3


def test_resource_exhausted_maps_to_its_own_exception(admin: ScriptedAdmin, sleeps: RecordedSleeps) -> None:
    admin.fail("ListExecutions", grpc.StatusCode.RESOURCE_EXHAUSTED, times=5)
    config = admin.config(rpc_retries=1)
    with (
        RawSynchronousFlyteClient(config, retry_policy=sleeps.policy(config)) as raw,
        pytest.raises(FlyteResourceExhaustedException),
    ):
        raw.admin_service.ListExecutions(common_pb2.ResourceListRequest())


def test_named_create_execution_retry_recovers_already_exists(
    admin: ScriptedAdmin, sleeps: RecordedSleeps, caplog: pytest.LogCaptureFixture
) -> None:
    # The first attempt creates the execution but its reply is lost; the retry then meets our own execution.
    admin.fail("CreateExecution", grpc.StatusCode.UNAVAILABLE, applied=True)
    config = admin.config()
    with caplog.at_level(logging.INFO), RawSynchronousFlyteClient(config, retry_policy=sleeps.policy(config)) as raw:
        response = raw.admin_service.CreateExecution(create_request("airflow-run-1"))
    assert (response.id.project, response.id.domain, response.id.name) == (
        "flytesnacks",
        "development",
        "airflow-run-1",
    )
    assert len(admin.calls_to("CreateExecution")) == 2
    assert list(admin.executions) == [("flytesnacks", "development", "airflow-run-1")]
    assert any("created by an earlier attempt" in r.getMessage() for r in caplog.records)


def test_already_exists_on_the_first_attempt_is_not_ours(admin: ScriptedAdmin, sleeps: RecordedSleeps) -> None:
    config = admin.config()
    with RawSynchronousFlyteClient(config, retry_policy=sleeps.policy(config)) as raw:
        raw.admin_service.CreateExecution(create_request("taken"))
        with pytest.raises(FlyteEntityAlreadyExistsException):
            raw.admin_service.CreateExecution(create_request("taken"))


def test_unnamed_create_execution_is_not_retried(admin: ScriptedAdmin, sleeps: RecordedSleeps) -> None:
    admin.fail("CreateExecution", grpc.StatusCode.UNAVAILABLE, applied=True)
    config = admin.config()
    with (
        RawSynchronousFlyteClient(config, retry_policy=sleeps.policy(config)) as raw,
        pytest.raises(FlyteSystemUnavailableException),
    ):
        raw.admin_service.CreateExecution(create_request(""))
    assert len(admin.calls_to("CreateExecution")) == 1
    assert len(admin.executions) == 1  # applied once, never twice
    assert sleeps == []


def test_per_call_deadline_is_honoured(
    admin: ScriptedAdmin, sleeps: RecordedSleeps, caplog: pytest.LogCaptureFixture
) -> None:
    admin.latency = 1.0
    config = admin.config(rpc_retries=2)
    with caplog.at_level(logging.INFO), RawSynchronousFlyteClient(config, retry_policy=sleeps.policy(config)) as raw:
        with pytest.raises(FlyteTimeout) as raised:
            raw.admin_service.CreateTask(task_pb2.TaskCreateRequest(), timeout=0.05)
        assert raised.value.code == "DEADLINE_EXCEEDED"
        assert retry_logs(caplog) == []  # a write that timed out may have been applied: not retried
        with pytest.raises(FlyteTimeout):
            raw.admin_service.GetExecution(GET, timeout=0.05)
    assert len(retry_logs(caplog)) == 2  # a read is retried rpc_retries times


def test_config_rpc_timeout_is_the_default_deadline(admin: ScriptedAdmin, sleeps: RecordedSleeps) -> None:
    admin.latency = 1.0
    config = admin.config(rpc_timeout=0.05, rpc_retries=0)
    with RawSynchronousFlyteClient(config, retry_policy=sleeps.policy(config)) as raw, pytest.raises(FlyteTimeout):
        raw.admin_service.CreateTask(task_pb2.TaskCreateRequest())


def test_policy_repr_and_no_retries_configured(admin: ScriptedAdmin, sleeps: RecordedSleeps) -> None:
    admin.fail("GetExecution", grpc.StatusCode.UNAVAILABLE)
    config = admin.config(rpc_retries=0)
    policy = sleeps.policy(config)
    assert "max_attempts=1" in repr(policy)
    with RawSynchronousFlyteClient(config, retry_policy=policy) as raw, pytest.raises(FlyteSystemUnavailableException):
        raw.admin_service.GetExecution(GET)
    assert isinstance(RetryPolicy.from_config(config), RetryPolicy)


# --- grpc.aio --------------------------------------------------------------------------------------------------


async def test_async_unavailable_is_retried_with_growing_backoff(
    admin: ScriptedAdmin, sleeps: RecordedSleeps, caplog: pytest.LogCaptureFixture
) -> None:
    admin.fail("GetExecution", grpc.StatusCode.UNAVAILABLE, times=3)
    config = admin.config(rpc_retries=3, retry_initial_backoff=0.01, retry_max_backoff=1.0)
    with caplog.at_level(logging.INFO):
        async with RawAsyncFlyteClient(config, retry_policy=sleeps.policy(config)) as raw:
            execution = await raw.admin_service.GetExecution(GET)
    assert execution.id.name == "abc"
    assert len(admin.calls_to("GetExecution")) == 4
    assert sleeps == [0.01, 0.02, 0.04]
    assert len(retry_logs(caplog)) == 3


async def test_async_user_errors_are_not_retried(admin: ScriptedAdmin, sleeps: RecordedSleeps) -> None:
    admin.fail("GetExecution", grpc.StatusCode.NOT_FOUND, message="no such execution")
    admin.fail("CreateTask", grpc.StatusCode.INVALID_ARGUMENT, message="bad spec")
    config = admin.config()
    async with RawAsyncFlyteClient(config, retry_policy=sleeps.policy(config)) as raw:
        with pytest.raises(FlyteEntityNotExistException, match="no such execution") as raised:
            await raw.admin_service.GetExecution(GET)
        with pytest.raises(FlyteInvalidInputException):
            await raw.admin_service.CreateTask(task_pb2.TaskCreateRequest())
    assert raised.value.rpc == "flyteidl.service.AdminService/GetExecution"
    assert len(admin.calls_to("GetExecution")) == 1
    assert sleeps == []


async def test_async_bounded_retries(admin: ScriptedAdmin, sleeps: RecordedSleeps) -> None:
    admin.fail("GetExecution", grpc.StatusCode.UNAVAILABLE, times=10)
    config = admin.config(rpc_retries=2)
    async with RawAsyncFlyteClient(config, retry_policy=sleeps.policy(config)) as raw:
        with pytest.raises(FlyteSystemUnavailableException):
            await raw.admin_service.GetExecution(GET)
    assert len(admin.calls_to("GetExecution")) == 3


async def test_async_deadline_exceeded_reads_only(
    admin: ScriptedAdmin, sleeps: RecordedSleeps, caplog: pytest.LogCaptureFixture
) -> None:
    admin.latency = 1.0
    config = admin.config(rpc_retries=1)
    with caplog.at_level(logging.INFO):
        async with RawAsyncFlyteClient(config, retry_policy=sleeps.policy(config)) as raw:
            with pytest.raises(FlyteTimeout):
                await raw.admin_service.CreateTask(task_pb2.TaskCreateRequest(), timeout=0.05)
            assert retry_logs(caplog) == []
            with pytest.raises(FlyteTimeout):
                await raw.admin_service.GetExecution(GET, timeout=0.05)
    assert len(retry_logs(caplog)) == 1


async def test_async_named_create_execution_recovers_and_unnamed_does_not_retry(
    admin: ScriptedAdmin, sleeps: RecordedSleeps
) -> None:
    admin.fail("CreateExecution", grpc.StatusCode.UNAVAILABLE, applied=True)
    config = admin.config()
    async with RawAsyncFlyteClient(config, retry_policy=sleeps.policy(config)) as raw:
        response = await raw.admin_service.CreateExecution(create_request("airflow-run-2"))
        assert response.id.name == "airflow-run-2"
        assert len(admin.calls_to("CreateExecution")) == 2
        admin.fail("CreateExecution", grpc.StatusCode.UNAVAILABLE)
        with pytest.raises(FlyteSystemUnavailableException):
            await raw.admin_service.CreateExecution(create_request(""))
    assert len(admin.calls_to("CreateExecution")) == 3


def test_async_client_needs_a_running_loop(admin: ScriptedAdmin) -> None:
    with pytest.raises(RuntimeError):
        RawAsyncFlyteClient(admin.config())


# --- the same interceptors on gRPC's own interception machinery --------------------------------------------------


def test_interceptors_work_with_grpc_intercept_channel(admin: ScriptedAdmin, sleeps: RecordedSleeps) -> None:
    from flyteidl.service import admin_pb2_grpc

    from airflow_provider_flyte.clients.interceptors import DefaultMetadataInterceptor, RetryInterceptor

    admin.fail("GetExecution", grpc.StatusCode.UNAVAILABLE)
    admin.fail("CreateTask", grpc.StatusCode.INVALID_ARGUMENT)
    config = admin.config()
    with grpc.insecure_channel(admin.endpoint) as channel:
        intercepted = grpc.intercept_channel(
            channel, RetryInterceptor(sleeps.policy(config)), DefaultMetadataInterceptor()
        )
        stub = admin_pb2_grpc.AdminServiceStub(intercepted)
        assert stub.GetExecution(GET).id.name == "abc"
        with pytest.raises(FlyteInvalidInputException):
            stub.CreateTask(task_pb2.TaskCreateRequest())
    assert len(admin.calls_to("GetExecution")) == 2
    assert admin.calls_to("GetExecution")[1].metadata["accept"] == "application/grpc"


async def test_aio_interceptors_work_as_grpc_aio_channel_interceptors(
    admin: ScriptedAdmin, sleeps: RecordedSleeps
) -> None:
    from flyteidl.service import admin_pb2_grpc

    from airflow_provider_flyte.clients.aio_interceptors import (
        AsyncDefaultMetadataInterceptor,
        AsyncRetryInterceptor,
    )

    admin.fail("GetExecution", grpc.StatusCode.UNAVAILABLE)
    admin.fail("CreateTask", grpc.StatusCode.INVALID_ARGUMENT)
    config = admin.config()
    interceptors = [AsyncRetryInterceptor(sleeps.policy(config)), AsyncDefaultMetadataInterceptor()]
    async with grpc.aio.insecure_channel(admin.endpoint, interceptors=interceptors) as channel:
        stub = admin_pb2_grpc.AdminServiceStub(channel)
        assert (await stub.GetExecution(GET)).id.name == "abc"
        with pytest.raises(FlyteInvalidInputException):
            await stub.CreateTask(task_pb2.TaskCreateRequest())
    assert len(admin.calls_to("GetExecution")) == 2
    assert admin.calls_to("GetExecution")[1].metadata["accept"] == "application/grpc"
