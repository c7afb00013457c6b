"""Helpers for the client <-> sandbox integration tests: one test body for both clients, server-side call counts,
deterministic backoff, and polling with a deadline (never timed assertions)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox import builders as b
from flyte_admin_sandbox.faults import Fault
from flyteidl.admin import execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2, literals_pb2

from airflow_provider_flyte.clients.aio import AsyncFlyteClient
from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient
from airflow_provider_flyte.configuration import PlatformConfig
from tests.support import clients
from tests.support.polling import wait_until_async

PROJECT, DOMAIN = "flytesnacks", "development"
Phase = core_execution_pb2.WorkflowExecution
TERMINAL = frozenset({Phase.SUCCEEDED, Phase.FAILED, Phase.ABORTED, Phase.TIMED_OUT})
NUMBERS = {"numbers": b.list_of(b.INTEGER)}
PIPELINE = b.identifier(b.RT.LAUNCH_PLAN, "demo.pipeline")
ALWAYS_FAILS = b.identifier(b.RT.LAUNCH_PLAN, "demo.always_fails")
GATED = b.identifier(b.RT.LAUNCH_PLAN, "demo.gated_publish")

WAIT_LIMIT = 20.0
"""Seconds a poll may take before the test fails: a guard against hangs, never a speed expectation."""


class Driver(clients.Driver):
    """The shared :class:`tests.support.clients.Driver`, able to wait for an execution too."""

    async def wait_for(
        self,
        execution_id: identifier_pb2.WorkflowExecutionIdentifier,
        phases: frozenset[int] = TERMINAL,
    ) -> execution_pb2.Execution:
        """Poll ``get_execution`` until the execution reaches one of ``phases``."""
        deadline = time.monotonic() + WAIT_LIMIT
        while True:
            execution = await self.call("get_execution", execution_id)
            if execution.closure.phase in phases:
                return execution  # type: ignore[no-any-return]
            if time.monotonic() > deadline:
                phase = Phase.Phase.Name(execution.closure.phase)
                raise AssertionError(f"{execution_id.name} still {phase} after {WAIT_LIMIT}s")
            await asyncio.sleep(0.02)


@asynccontextmanager
async def connect(kind: str, config: PlatformConfig, **raw_options: Any) -> AsyncIterator[Driver]:
    """Open the ``"sync"`` or ``"async"`` friendly client on ``config`` and close it afterwards."""
    if kind == "sync":
        sync_client = SynchronousFlyteClient(config, **raw_options)
        try:
            yield Driver(sync_client)
        finally:
            sync_client.close()
    else:
        async_client = AsyncFlyteClient(config, **raw_options)
        try:
            yield Driver(async_client)
        finally:
            await async_client.close()


def count_calls(sandbox: FlyteSandbox, rpc: str | None) -> Fault:
    """A fault rule that changes nothing but counts, in ``hits``, every call of ``rpc`` the sandbox receives.

    The sandbox counts a call against every rule it matches, so this counts the attempts other rules fail too.
    """
    return sandbox.faults.delay(rpc, 0.0)


async def eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait until ``condition()`` holds (for server-side effects that land shortly after the client returns)."""
    await wait_until_async(condition, WAIT_LIMIT, what)


def pipeline_inputs(numbers: list[int]) -> literals_pb2.LiteralMap:
    """Inputs of the seeded ``demo.pipeline`` (its other inputs have defaults)."""
    return b.literal_map({"numbers": numbers}, NUMBERS)


def launch_spec(launch_plan: identifier_pb2.Identifier = PIPELINE) -> execution_pb2.ExecutionSpec:
    """An execution spec for a launch plan."""
    return execution_pb2.ExecutionSpec(launch_plan=launch_plan)


def execution_id(name: str) -> identifier_pb2.WorkflowExecutionIdentifier:
    """The id of execution ``name`` in the seeded project and domain."""
    return identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name=name)
