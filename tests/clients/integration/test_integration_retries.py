"""Retries, deadlines and typed errors of both friendly clients against the real sandbox and its injected faults.

Attempt counts are the calls the sandbox received (``count_calls``); backoff sleeps are recorded, not slept.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time

import grpc
import pytest
from flyte_admin_sandbox import FlyteSandbox
from integration_support import (
    DOMAIN,
    PROJECT,
    Phase,
    connect,
    count_calls,
    eventually,
    execution_id,
    launch_spec,
    pipeline_inputs,
)

from airflow_provider_flyte.exceptions import (
    FlyteEntityNotExistException,
    FlyteInvalidInputException,
    FlyteResourceExhaustedException,
    FlyteSystemUnavailableException,
    FlyteTimeout,
)
from tests.support.clients import RecordedSleeps


def retry_logs(caplog: pytest.LogCaptureFixture, rpc: str) -> list[tuple[str, int]]:
    """``(status, attempt)`` of each "Retrying <rpc>" warning the retry policy logged."""
    return [
        (record.args[1], record.args[2])  # type: ignore[index]
        for record in caplog.records
        if record.levelno == logging.INFO and record.getMessage().startswith(f"Retrying {rpc} ")
    ]


async def test_unavailable_is_retried_with_doubling_backoff(
    sandbox: FlyteSandbox, kind: str, sleeps: RecordedSleeps, caplog: pytest.LogCaptureFixture
) -> None:
    config = sandbox.config.with_overrides(rpc_retries=3, retry_initial_backoff=0.01, retry_max_backoff=1.0)
    calls = count_calls(sandbox, "GetProject")
    sandbox.faults.fail("GetProject", grpc.StatusCode.UNAVAILABLE, times=3)
    with caplog.at_level(logging.INFO):
        async with connect(kind, config, retry_policy=sleeps.policy(config)) as driver:
            project = await driver.call("get_project", PROJECT)
    assert project.id == PROJECT
    assert calls.hits == 4
    assert sleeps == [0.01, 0.02, 0.04]
    assert retry_logs(caplog, "GetProject") == [("UNAVAILABLE", 1), ("UNAVAILABLE", 2), ("UNAVAILABLE", 3)]


async def test_retries_are_bounded_and_the_error_is_typed(
    sandbox: FlyteSandbox, kind: str, sleeps: RecordedSleeps
) -> None:
    config = sandbox.config.with_overrides(rpc_retries=2)
    calls = count_calls(sandbox, "GetDomains")
    sandbox.faults.fail("GetDomains", grpc.StatusCode.UNAVAILABLE, times=10, message="admin is restarting")
    async with connect(kind, config, retry_policy=sleeps.policy(config)) as driver:
        with pytest.raises(FlyteSystemUnavailableException) as raised:
            await driver.call("get_domains")
    assert calls.hits == 3
    assert len(sleeps) == 2
    assert raised.value.code == "UNAVAILABLE"
    assert raised.value.rpc == "flyteidl.service.AdminService/GetDomains"
    assert raised.value.server_message == "admin is restarting"


async def test_policy_from_config_really_sleeps_between_attempts(sandbox: FlyteSandbox, kind: str) -> None:
    # No injected sleep: the tenacity loop built from the config alone gets through a short outage.
    config = sandbox.config.with_overrides(rpc_retries=2, retry_initial_backoff=0.001, retry_max_backoff=0.002)
    calls = count_calls(sandbox, "GetVersion")
    sandbox.faults.fail("GetVersion", grpc.StatusCode.UNAVAILABLE, times=2)
    async with connect(kind, config) as driver:
        assert await driver.call("get_control_plane_version") == sandbox.registry.version
    assert calls.hits == 3


async def test_real_bad_requests_are_not_retried(sandbox: FlyteSandbox, kind: str, sleeps: RecordedSleeps) -> None:
    config = sandbox.config.with_overrides(rpc_retries=3)
    creates = count_calls(sandbox, "CreateExecution")
    gets = count_calls(sandbox, "GetExecution")
    async with connect(kind, config, retry_policy=sleeps.policy(config)) as driver:
        with pytest.raises(FlyteInvalidInputException) as invalid:
            await driver.call("create_execution", PROJECT, "qa", "never-runs", launch_spec(), pipeline_inputs([1]))
        with pytest.raises(FlyteEntityNotExistException) as missing:
            await driver.call("get_execution", execution_id("nobody-started-this"))
    assert invalid.value.code == "INVALID_ARGUMENT"
    assert invalid.value.server_message == "domain [qa] is unrecognized by system"
    assert missing.value.code == "NOT_FOUND"
    assert (creates.hits, gets.hits) == (1, 1)
    assert sleeps == []


async def test_resource_exhausted_is_retried_then_typed(
    sandbox: FlyteSandbox, kind: str, sleeps: RecordedSleeps
) -> None:
    config = sandbox.config.with_overrides(rpc_retries=2, retry_initial_backoff=0.01)
    calls = count_calls(sandbox, "ListExecutions")
    sandbox.faults.fail("ListExecutions", grpc.StatusCode.RESOURCE_EXHAUSTED, times=2)
    async with connect(kind, config, retry_policy=sleeps.policy(config)) as driver:
        executions, token = await driver.call("list_executions_paginated", PROJECT, DOMAIN)
        assert (executions, token) == ([], "")
        assert calls.hits == 3
        assert sleeps == [0.01, 0.02]

        sandbox.faults.fail("ListExecutions", grpc.StatusCode.RESOURCE_EXHAUSTED, times=10, message="quota")
        with pytest.raises(FlyteResourceExhaustedException, match="quota"):
            await driver.call("list_executions_paginated", PROJECT, DOMAIN)
    assert calls.hits == 6


async def test_deadline_is_honoured_and_only_reads_retry_it(
    sandbox: FlyteSandbox, kind: str, sleeps: RecordedSleeps, caplog: pytest.LogCaptureFixture
) -> None:
    # The sandbox answers only after 1 s, so DEADLINE_EXCEEDED can only come from the client's own deadline.
    config = sandbox.config.with_overrides(rpc_timeout=0.2, rpc_retries=1)
    slow_read = sandbox.faults.delay("GetVersion", 1.0, times=2)
    slow_write = sandbox.faults.delay("CreateUploadLocation", 1.0, times=2)
    with caplog.at_level(logging.INFO):
        async with connect(kind, config, retry_policy=sleeps.policy(config)) as driver:
            with pytest.raises(FlyteTimeout) as read_timeout:
                await driver.call("get_control_plane_version")
            with pytest.raises(FlyteTimeout) as write_timeout:
                await driver.call(
                    "get_upload_signed_url", PROJECT, DOMAIN, content_md5=hashlib.md5(b"x").digest(), filename="x"
                )
    assert read_timeout.value.code == write_timeout.value.code == "DEADLINE_EXCEEDED"
    assert retry_logs(caplog, "GetVersion") == [("DEADLINE_EXCEEDED", 1)]
    # A write that timed out may have been applied: it is not sent again.
    assert retry_logs(caplog, "CreateUploadLocation") == []
    await eventually(lambda: slow_read.hits == 2, "the retried read to reach the sandbox")
    await eventually(lambda: slow_write.hits >= 1, "the write to reach the sandbox")
    assert slow_write.hits == 1


async def test_named_create_retried_after_a_lost_reply_returns_the_one_execution(
    sandbox: FlyteSandbox, kind: str, sleeps: RecordedSleeps, caplog: pytest.LogCaptureFixture
) -> None:
    config = sandbox.config
    calls = count_calls(sandbox, "CreateExecution")
    # The first attempt stores the execution, then the client sees UNAVAILABLE; the retry meets ALREADY_EXISTS.
    sandbox.faults.fail_after_commit("CreateExecution")
    with caplog.at_level(logging.INFO):
        async with connect(kind, config, retry_policy=sleeps.policy(config)) as driver:
            created = await driver.call(
                "create_execution", PROJECT, DOMAIN, "airflow-run-1", launch_spec(), pipeline_inputs([1, 2])
            )
            executions = await driver.collect("iter_executions", PROJECT, DOMAIN)
            finished = await driver.wait_for(created)
    assert (created.project, created.domain, created.name) == (PROJECT, DOMAIN, "airflow-run-1")
    assert calls.hits == 2
    assert retry_logs(caplog, "CreateExecution") == [("UNAVAILABLE", 1)]
    assert [execution.id.name for execution in executions] == ["airflow-run-1"]
    assert finished.closure.phase == Phase.SUCCEEDED


async def test_unnamed_create_is_not_retried(sandbox: FlyteSandbox, kind: str, sleeps: RecordedSleeps) -> None:
    config = sandbox.config
    calls = count_calls(sandbox, "CreateExecution")
    sandbox.faults.fail_after_commit("CreateExecution")
    async with connect(kind, config, retry_policy=sleeps.policy(config)) as driver:
        with pytest.raises(FlyteSystemUnavailableException):
            await driver.call("create_execution", PROJECT, DOMAIN, None, launch_spec(), pipeline_inputs([1]))
        executions = await driver.collect("iter_executions", PROJECT, DOMAIN)
    # Without a name a retry would have started a second run; the one the server applied is all there is.
    assert calls.hits == 1
    assert sleeps == []
    assert len(executions) == 1


@pytest.mark.parametrize("method", ["relaunch_execution", "recover_execution"])
async def test_named_relaunch_and_recover_survive_a_lost_reply(
    sandbox: FlyteSandbox, kind: str, sleeps: RecordedSleeps, method: str
) -> None:
    rpc = {"relaunch_execution": "RelaunchExecution", "recover_execution": "RecoverExecution"}[method]
    config = sandbox.config
    async with connect(kind, config, retry_policy=sleeps.policy(config)) as driver:
        original = await driver.call(
            "create_execution", PROJECT, DOMAIN, "original", launch_spec(), pipeline_inputs([3])
        )
        await driver.wait_for(original)
        calls = count_calls(sandbox, rpc)
        sandbox.faults.fail_after_commit(rpc)
        again = await driver.call(method, original, name="second-try")
        names = sorted(execution.id.name for execution in await driver.collect("iter_executions", PROJECT, DOMAIN))
    assert (again.project, again.domain, again.name) == (PROJECT, DOMAIN, "second-try")
    assert calls.hits == 2
    assert names == ["original", "second-try"]


class RestartDuringBackoff(RecordedSleeps):
    """Backoff that brings the stopped sandbox back during the first sleep, then really sleeps."""

    def __init__(self, sandbox: FlyteSandbox) -> None:
        super().__init__()
        self._sandbox = sandbox

    def sleep(self, seconds: float) -> None:
        if not self:
            self._sandbox.start()
        super().sleep(seconds)
        time.sleep(seconds)

    async def async_sleep(self, seconds: float) -> None:
        if not self:
            self._sandbox.start()
        await super().async_sleep(seconds)
        await asyncio.sleep(seconds)


async def test_a_real_outage_is_retried_until_admin_is_back(sandbox: FlyteSandbox, kind: str) -> None:
    # Not an injected status: the port is closed, so the channel itself fails with UNAVAILABLE.
    config = sandbox.config.with_overrides(rpc_retries=8, retry_initial_backoff=0.05, retry_max_backoff=0.5)
    backoff = RestartDuringBackoff(sandbox)
    fast_reconnect = [("grpc.initial_reconnect_backoff_ms", 20), ("grpc.min_reconnect_backoff_ms", 20)]
    async with connect(kind, config, retry_policy=backoff.policy(config), options=fast_reconnect) as driver:
        assert await driver.call("get_project", PROJECT)
        sandbox.stop()
        project = await driver.call("get_project", PROJECT)
    assert project.id == PROJECT
    assert len(backoff) >= 1
