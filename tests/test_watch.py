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

from airflow_provider_flyte.clients.filters import ValueIn
from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.exceptions import FlyteEntityNotExistException
from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
from airflow_provider_flyte.watch import (
    MAX_CONCURRENT_CALLS,
    MAX_NAMES_PER_LIST,
    ExecutionWatcher,
    WatchError,
    has_watcher,
    release_async_client,
    shared_async_client,
    watcher_for,
)
from airflow_provider_flyte.watch._pages import Group, Watched, list_request

pytestmark = pytest.mark.timeout(30)

PHASE = core_execution_pb2.WorkflowExecution.Phase


class ScriptedClient:
    """The two coroutines the watcher uses, answering from a dict of phases by execution name."""

    def __init__(self, phases: dict[str, int], latency: float = 0.0, hidden: frozenset[str] = frozenset()) -> None:
        self.phases = phases
        self.hidden = hidden  # listings leave these out, as Admin's leave out archived executions
        self.filters: list[str] = []
        self.list_calls = 0
        self.get_calls = 0
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
        self.filters.append(filters)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(self.latency)
        self.in_flight -= 1
        names = filters[len("value_in(execution_name,") : -1].split(";")
        listed = [name for name in names if name in self.phases and name not in self.hidden]
        return [self._execution(project, domain, name) for name in listed[:limit]], ""

    async def get_execution(self, execution_id: WorkflowExecutionIdentifier) -> Any:
        self.get_calls += 1
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
    async with watcher.subscribe("ex:p:d:steady", 60) as steady, watcher.subscribe("ex:p:d:moving", 60) as moving:
        await steady.next(timeout=5)
        await moving.next(timeout=5)
        for _ in range(5):  # several ticks without a change wake nobody
            await watcher.poll_once()
        with pytest.raises(asyncio.TimeoutError):
            await steady.next(timeout=0.1)
        client.phases["moving"] = PHASE.SUCCEEDED
        await watcher.poll_once()
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


def names_of(filters: str) -> list[str]:
    return filters[len("value_in(execution_name,") : -1].split(";")


async def test_ticks_reuse_their_pages_and_only_a_changed_page_is_formatted_again() -> None:
    """A tick of 100,000 watched must not group, sort and format 100,000 names again: pages live between ticks."""
    names = [f"run-{index}" for index in range(450)]
    client = ScriptedClient(dict.fromkeys([*names, "late"], PHASE.RUNNING))
    watcher = ExecutionWatcher(client)  # type: ignore[arg-type]
    async with contextlib.AsyncExitStack() as stack:
        leaving = watcher.subscribe("ex:p:d:run-0", 60.0)
        watched = [await leaving.__aenter__()]
        watched += [await stack.enter_async_context(watcher.subscribe(f"ex:p:d:{name}", 60.0)) for name in names[1:]]
        await asyncio.gather(*(subscription.next(timeout=5) for subscription in watched))
        assert watcher.pages == 3
        client.filters.clear()
        await watcher.poll_once()
        first = list(client.filters)
        assert sorted(name for filters in first for name in names_of(filters)) == sorted(names)
        assert all(len(names_of(filters)) <= MAX_NAMES_PER_LIST for filters in first)
        client.filters.clear()
        await watcher.poll_once()
        assert client.filters == first  # nothing came or went: the very same requests
        # One execution leaves, another comes (it takes the free place): one page changes, the others stay as they were.
        await leaving.__aexit__(None, None, None)
        late = await stack.enter_async_context(watcher.subscribe("ex:p:d:late", 60.0))
        await late.next(timeout=5)  # its own first look
        client.filters.clear()
        await watcher.poll_once()
        changed = [filters for filters in client.filters if filters not in first]
        assert len(changed) == 1
        assert "late" in names_of(changed[0])
        assert "run-0" not in names_of(changed[0])
        assert len(client.filters) == 3
    assert watcher.watched == 0
    assert watcher.pages == 0


def test_a_group_places_names_in_pages_with_room_and_packs_pages_left_mostly_empty() -> None:
    group = Group("p", "d", page_size=4)
    entries = [Watched(WorkflowExecutionIdentifier("p", "d", f"run-{index}")) for index in range(12)]
    for entry in entries:
        group.add(entry)
    assert group.pages == 3
    requests = group.requests()
    assert [len(request.names) for request in requests] == [4, 4, 4]
    assert group.requests() == requests
    assert all(again is before for again, before in zip(group.requests(), requests, strict=True))  # kept, not rebuilt
    group.remove("run-5")
    after = group.requests()
    assert [again is before for again, before in zip(after, requests, strict=True)] == [True, False, True]
    assert "run-5" not in after[1].names
    group.add(Watched(WorkflowExecutionIdentifier("p", "d", "run-new")))  # takes the free place
    assert group.pages == 3
    assert "run-new" in group.requests()[1].names
    assert group.remove("run-never-watched") is None
    # Executions going away leave pages mostly empty: the next tick's requests are packed again.
    for index in (0, 1, 2, 4, 6, 7, 8, 9, 10):
        group.remove(f"run-{index}")
    assert sorted(group.watched) == ["run-11", "run-3", "run-new"]
    packed = group.requests()
    assert group.pages == 1
    assert sorted(packed[0].names) == ["run-11", "run-3", "run-new"]
    for name in list(group.watched):
        group.remove(name)
    assert (group.pages, group.requests()) == (0, [])


def test_a_page_request_is_the_value_in_filter_a_value_in_object_writes() -> None:
    names = ["run-1", "a-b-c", "x"]
    assert list_request(names).filters == str(ValueIn("execution_name", names))
    assert list_request(names).names == tuple(names)


async def test_a_name_the_filter_grammar_cannot_carry_fails_its_watch_alone() -> None:
    client = ScriptedClient({"good": PHASE.RUNNING})
    watcher = ExecutionWatcher(client)  # type: ignore[arg-type]
    bad_id = WorkflowExecutionIdentifier("p", "d", "bad;name")
    async with watcher.subscribe("ex:p:d:good", 60) as good, watcher.subscribe(bad_id, 60) as bad:
        with pytest.raises(WatchError, match="cannot watch execution"):
            await bad.next(timeout=5)
        assert (await good.next(timeout=5)).phase == "RUNNING"
        assert watcher.watched == 1
        await watcher.poll_once()
    assert all("bad" not in filters for filters in client.filters)


async def test_an_execution_the_listing_leaves_out_is_fetched_alone() -> None:
    client = ScriptedClient({"listed": PHASE.RUNNING, "archived": PHASE.SUCCEEDED}, hidden=frozenset({"archived"}))
    watcher = ExecutionWatcher(client)  # type: ignore[arg-type]
    async with watcher.subscribe("ex:p:d:listed", 60) as listed, watcher.subscribe("ex:p:d:archived", 60) as archived:
        assert (await archived.next(timeout=5)).phase == "SUCCEEDED"
        assert (await listed.next(timeout=5)).phase == "RUNNING"
        assert (client.list_calls, client.get_calls) == (1, 1)
        await watcher.poll_once()
        assert (client.list_calls, client.get_calls) == (2, 2)
    assert watcher.stats.wakeups == 2  # the tick found no change


async def test_executions_come_and_go_between_ticks() -> None:
    """Subscriptions opened and closed while ticks run: each execution is listed while watched, and only then."""
    client = ScriptedClient({f"run-{index}": PHASE.RUNNING for index in range(40)})
    watcher = ExecutionWatcher(client, max_concurrent_calls=2)  # type: ignore[arg-type]
    async with contextlib.AsyncExitStack() as outer:
        first = [await outer.enter_async_context(watcher.subscribe(f"ex:p:d:run-{i}", 60)) for i in range(20)]
        await asyncio.gather(*(subscription.next(timeout=5) for subscription in first))
        async with contextlib.AsyncExitStack() as inner:
            more = [await inner.enter_async_context(watcher.subscribe(f"ex:p:d:run-{i}", 60)) for i in range(15, 40)]
            await asyncio.gather(*(subscription.next(timeout=5) for subscription in more))
            assert watcher.watched == 40
            client.filters.clear()
            await watcher.poll_once()
            assert sorted(name for filters in client.filters for name in names_of(filters)) == sorted(
                f"run-{index}" for index in range(40)
            )
            client.phases["run-17"] = PHASE.FAILED  # watched twice: both subscriptions hear of it
            await watcher.poll_once()
            assert (await first[17].next(timeout=5)).phase == "FAILED"
            assert (await more[2].next(timeout=5)).phase == "FAILED"
        assert watcher.watched == 20
        client.filters.clear()
        await watcher.poll_once()
        assert sorted(name for filters in client.filters for name in names_of(filters)) == sorted(
            f"run-{index}" for index in range(20)
        )


async def test_next_wakes_every_waiter_and_times_out_without_losing_the_next_snapshot() -> None:
    client = ScriptedClient({"a": PHASE.RUNNING})
    watcher = ExecutionWatcher(client)  # type: ignore[arg-type]
    async with watcher.subscribe("ex:p:d:a", 60) as subscription:
        assert (await subscription.next(timeout=5)).phase == "RUNNING"
        with pytest.raises(asyncio.TimeoutError):
            await subscription.next(timeout=0.01)
        waiters = [asyncio.create_task(subscription.next(timeout=5)) for _ in range(2)]
        await asyncio.sleep(0)
        client.phases["a"] = PHASE.SUCCEEDED
        await watcher.poll_once()
        assert [(await waiter).phase for waiter in waiters] == ["SUCCEEDED", "SUCCEEDED"]
