"""The execution watcher as a plain asyncio API of the client layer: no Airflow, a scripted client, no network."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from typing import Any

import pytest
from flyteidl.admin import execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2

from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.exceptions import FlyteEntityNotExistException
from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
from airflow_provider_flyte.watch import (
    MAX_CONCURRENT_CALLS,
    ExecutionWatcher,
    WatchError,
    has_watcher,
    release_async_client,
    shared_async_client,
    watcher_for,
)

pytestmark = pytest.mark.timeout(30)

PHASE = core_execution_pb2.WorkflowExecution.Phase


class ScriptedClient:
    """The two coroutines the watcher uses, answering from a dict of phases by execution name."""

    def __init__(self, phases: dict[str, int], latency: float = 0.0) -> None:
        self.phases = phases
        self.list_calls = 0
        self.latency = latency
        self.in_flight = 0
        self.most_in_flight = 0

    def _execution(self, project: str, domain: str, name: str) -> execution_pb2.Execution:
        execution = execution_pb2.Execution()
        execution.id.project, execution.id.domain, execution.id.name = project, domain, name
        execution.closure.phase = self.phases[name]  # type: ignore[assignment]
        return execution

    async def list_executions_paginated(
        self, project: str, domain: str, *, limit: int, token: str, filters: str
    ) -> tuple[list[Any], str]:
        self.list_calls += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(self.latency)
        self.in_flight -= 1
        names = filters[len("value_in(execution_name,") : -1].split(";")
        return [self._execution(project, domain, name) for name in names if name in self.phases], ""

    async def get_execution(self, execution_id: WorkflowExecutionIdentifier) -> Any:
        if execution_id.name not in self.phases:
            raise FlyteEntityNotExistException(f"execution {execution_id} not found")
        return self._execution(execution_id.project, execution_id.domain, execution_id.name)


async def test_watcher_is_an_async_context_manager_following_phases() -> None:
    client = ScriptedClient({"a": PHASE.RUNNING, "b": PHASE.RUNNING})
    async with ExecutionWatcher(client) as watcher:  # type: ignore[arg-type]
        async with (
            watcher.subscribe("ex:p:d:a", poll_interval=0.05) as first,
            watcher.subscribe(WorkflowExecutionIdentifier("p", "d", "b"), poll_interval=0.05) as second,
        ):
            assert (await first.next()).phase == "RUNNING"
            assert (await second.next()).phase == "RUNNING"
            assert watcher.watched == 2
            client.phases["a"] = PHASE.SUCCEEDED
            while not (snapshot := await first.next(timeout=5)).is_terminal:
                pass
            assert snapshot.phase == "SUCCEEDED"
            assert snapshot.execution_id == WorkflowExecutionIdentifier("p", "d", "a")
        assert watcher.watched == 0
    # Both executions shared each round's single listing.
    assert watcher.stats.get_calls == 0
    assert watcher.stats.list_calls == watcher.stats.ticks + watcher.stats.first_looks


async def test_closing_the_watcher_fails_the_subscriptions_left_open() -> None:
    client = ScriptedClient({"a": PHASE.RUNNING})
    watcher = ExecutionWatcher(client)  # type: ignore[arg-type]
    async with watcher.subscribe("ex:p:d:a", poll_interval=0.05) as subscription:
        await subscription.next()
        await watcher.aclose()
        with pytest.raises(WatchError, match="was closed"):
            await subscription.next(timeout=5)


async def test_shared_clients_and_watchers_are_per_key_and_config() -> None:
    config = PlatformConfig(endpoint="localhost:1", insecure=True)
    client = shared_async_client("conn", config)
    assert shared_async_client("conn", config) is client
    assert shared_async_client("other", config) is not client
    assert not has_watcher("conn")
    watcher = watcher_for("conn", config)
    assert has_watcher("conn")
    assert watcher_for("conn", config) is watcher
    await release_async_client("conn", config)
    await release_async_client("other", config)
    assert shared_async_client("conn", config) is not client  # a released client is replaced
    await release_async_client("conn", config)


def test_the_watch_module_needs_no_airflow() -> None:
    probe = "import sys, airflow_provider_flyte.watch; print(any(m.split('.')[0] == 'airflow' for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


async def test_a_missing_execution_fails_its_watch() -> None:
    watcher = ExecutionWatcher(ScriptedClient({}))  # type: ignore[arg-type]
    async with watcher.subscribe("ex:p:d:missing", poll_interval=60) as subscription:
        with pytest.raises(WatchError, match="does not exist"):
            await subscription.next(timeout=5)
    assert (watcher.stats.list_calls, watcher.stats.get_calls) == (1, 1)


async def test_new_subscriptions_get_a_first_look_not_a_tick_of_everything() -> None:
    """In a triggerer tasks defer all the time: each newcomer must cost a look at itself, not a re-poll of all."""
    client = ScriptedClient({f"run-{index}": PHASE.RUNNING for index in range(300)})
    watcher = ExecutionWatcher(client)  # type: ignore[arg-type]
    async with contextlib.AsyncExitStack() as stack:
        watched = [await stack.enter_async_context(watcher.subscribe(f"ex:p:d:run-{i}", 60.0)) for i in range(200)]
        await asyncio.gather(*(subscription.next(timeout=5) for subscription in watched))
        before = client.list_calls
        for index in range(200, 220):  # newcomers one at a time, each waiting for its first snapshot
            newcomer = await stack.enter_async_context(watcher.subscribe(f"ex:p:d:run-{index}", 60.0))
            assert (await newcomer.next(timeout=5)).phase == "RUNNING"
        assert watcher.stats.ticks == 0  # the 60 s tick never came: nothing re-polled the 200 watched before
        assert client.list_calls - before == 20  # one small listing per newcomer, of its own name only
        # A second subscription to an execution already watched gets its snapshot without any call.
        again = await stack.enter_async_context(watcher.subscribe("ex:p:d:run-0", 60.0))
        assert (await again.next(timeout=5)).phase == "RUNNING"
        assert client.list_calls - before == 20


async def test_only_subscriptions_whose_execution_changed_are_woken() -> None:
    client = ScriptedClient({"steady": PHASE.RUNNING, "moving": PHASE.RUNNING})
    watcher = ExecutionWatcher(client)  # type: ignore[arg-type]
    async with watcher.subscribe("ex:p:d:steady", 0.02) as steady, watcher.subscribe("ex:p:d:moving", 0.02) as moving:
        await steady.next(timeout=5)
        await moving.next(timeout=5)
        ticks = watcher.stats.ticks
        while watcher.stats.ticks < ticks + 5:  # several ticks without a change wake nobody
            await asyncio.sleep(0.02)
        with pytest.raises(asyncio.TimeoutError):
            await steady.next(timeout=0.1)
        client.phases["moving"] = PHASE.SUCCEEDED
        assert (await moving.next(timeout=5)).phase == "SUCCEEDED"
        with pytest.raises(asyncio.TimeoutError):
            await steady.next(timeout=0.1)
    assert watcher.stats.wakeups == 3  # two first snapshots and one change


async def test_the_pages_of_one_round_are_fetched_concurrently_within_a_bound() -> None:
    names = [f"run-{index}" for index in range(2_000)]  # 10 pages of 200
    client = ScriptedClient(dict.fromkeys(names, PHASE.RUNNING), latency=0.05)
    watcher = ExecutionWatcher(client)  # type: ignore[arg-type]
    async with contextlib.AsyncExitStack() as stack:
        watched = [await stack.enter_async_context(watcher.subscribe(f"ex:p:d:{name}", 60.0)) for name in names]
        await asyncio.gather(*(subscription.next(timeout=10) for subscription in watched))
    assert client.list_calls == 10
    assert client.most_in_flight == MAX_CONCURRENT_CALLS
