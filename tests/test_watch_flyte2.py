"""The coalescing watcher with the Flyte 2 backend, against the Flyte 2 sandbox over real gRPC.

RPCs are counted with a spy on the client's ``list_runs`` and ``get_run_details`` (each is one RPC: the sandbox's
answers fit one page, and the tests turn client retries off where faults are injected).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import grpc
import pytest

from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.watch import FLYTE2, ExecutionWatcher, RunSnapshot, Subscription, WatchError

sandbox_v2 = pytest.importorskip("flyte_admin_sandbox.v2")
from flyteidl2.task import task_service_pb2  # noqa: E402

from airflow_provider_flyte.clients.v2 import AsyncFlyte2Client, Flyte2Client  # noqa: E402
from tests.sandbox_v2.v2_helpers import inputs, spec, task_id  # noqa: E402

pytestmark = pytest.mark.timeout(60)

PROJECT, DOMAIN = "flytesnacks", "development"
HANG, DONE, FAIL = "env.hang", "env.done", "env.fail"
RUNNING, SUCCEEDED, FAILED, ABORTED = 4, 5, 6, 7  # flyteidl2.common.ActionPhase
NEVER = 3600.0  # a poll interval no test waits for: ticks are driven with poll_once()


@pytest.fixture
def v2(flyte2_sandbox: Any) -> Any:
    """The sandbox with a task that hangs until aborted, one that succeeds and one that fails."""
    flyte2_sandbox.behave(HANG, hang=True)
    flyte2_sandbox.behave(DONE, function=lambda x: x)
    flyte2_sandbox.behave(FAIL, fail="boom")
    with Flyte2Client(flyte2_sandbox.grpc_endpoint, insecure=True) as client:
        for name in (HANG, DONE, FAIL):
            request = task_service_pb2.DeployTaskRequest(task_id=task_id(name, "v1"), spec=spec(name, "v1"))
            client.raw.task_service.DeployTask(request)
    return flyte2_sandbox


def start_runs(sandbox: Any, task: str, names: list[str], *, phase: int = RUNNING) -> None:
    """Create runs of ``task`` and wait until each reached ``phase`` (or is terminal)."""
    with Flyte2Client(sandbox.grpc_endpoint, insecure=True) as client:
        for name in names:
            client.create_run(PROJECT, DOMAIN, name, task_id=(task, "v1"), inputs=inputs(x=1))
    deadline = time.monotonic() + 20
    for name in names:
        while (record := sandbox.run(PROJECT, DOMAIN, name)) is None or (record.phase != phase and not record.terminal):
            assert time.monotonic() < deadline, f"run {name} did not reach phase {phase}"
            time.sleep(0.02)


def abort(sandbox: Any, name: str) -> None:
    """Abort a run and wait until it is ABORTED."""
    from flyteidl2.common import identifier_pb2

    with Flyte2Client(sandbox.grpc_endpoint, insecure=True) as client:
        client.abort_run(f"{PROJECT}:{DOMAIN}:{name}", "stopped by the test")
    sandbox.wait(identifier_pb2.RunIdentifier(project=PROJECT, domain=DOMAIN, name=name))


def spied_client(sandbox: Any, **config: Any) -> tuple[AsyncFlyte2Client, Counter[str]]:
    """A client whose ``list_runs`` and ``get_run_details`` count their calls."""
    client = AsyncFlyte2Client(PlatformConfig(endpoint=sandbox.grpc_endpoint, insecure=True, **config))
    calls: Counter[str] = Counter()
    for method in ("list_runs", "get_run_details"):
        real = getattr(client, method)

        async def spy(*args: Any, _real: Any = real, _method: str = method, **kwargs: Any) -> Any:
            calls[_method] += 1
            return await _real(*args, **kwargs)

        setattr(client, method, spy)
    return client, calls


def has_news(subscription: Subscription) -> bool:
    """Whether a snapshot (or a failure) waits for the subscriber."""
    return subscription._ready


async def test_fifty_runs_cost_one_list_runs_per_tick_and_wake_only_the_changed(v2: Any) -> None:
    names = [f"hang-{i:02d}" for i in range(50)]
    start_runs(v2, HANG, names)
    client, calls = spied_client(v2)
    async with client, ExecutionWatcher(client, backend=FLYTE2) as watcher:
        subscriptions = []
        for name in names:
            subscriptions.append(await watcher.subscribe(f"{PROJECT}:{DOMAIN}:{name}", NEVER).__aenter__())
        firsts = [await subscription.next(timeout=10) for subscription in subscriptions]
        assert {snapshot.phase for snapshot in firsts} == {"RUNNING"}
        assert calls == {"list_runs": 1}  # the 50 new subscriptions' first look: one ListRuns, no GetRunDetails

        calls.clear()
        await watcher.poll_once()
        assert calls == {"list_runs": 1}
        assert not any(has_news(subscription) for subscription in subscriptions)  # nothing changed: nobody woken

        abort(v2, names[7])
        calls.clear()
        wakeups = watcher.stats.wakeups
        await watcher.poll_once()
        # One ListRuns, and the details of the run that finished (a listed Run carries no abort reason).
        assert calls == {"list_runs": 1, "get_run_details": 1}
        assert watcher.stats.wakeups == wakeups + 1
        assert [i for i, subscription in enumerate(subscriptions) if has_news(subscription)] == [7]
        snapshot = await subscriptions[7].next(timeout=1)
        assert isinstance(snapshot, RunSnapshot)
        assert (snapshot.phase, snapshot.is_terminal, snapshot.message) == ("ABORTED", True, "stopped by the test")
        for name in names:
            if name != names[7]:
                abort(v2, name)  # leave no hanging run behind


async def test_a_new_subscription_is_served_by_its_first_look(v2: Any) -> None:
    start_runs(v2, HANG, ["lone"])
    start_runs(v2, FAIL, ["broke"], phase=FAILED)
    client, calls = spied_client(v2)
    async with client, ExecutionWatcher(client, backend=FLYTE2) as watcher:
        async with watcher.subscribe(f"{PROJECT}:{DOMAIN}:lone", NEVER) as subscription:
            assert (await subscription.next(timeout=10)).phase == "RUNNING"
            assert calls == {"get_run_details": 1}  # a lone new run: its details, no ListRuns and no tick
            assert watcher.stats.ticks == 0
            async with watcher.subscribe(f"{PROJECT}:{DOMAIN}:lone", NEVER) as second:
                assert (await second.next(timeout=1)).phase == "RUNNING"  # already watched: no call at all
            assert calls == {"get_run_details": 1}
        async with watcher.subscribe(f"{PROJECT}:{DOMAIN}:broke", NEVER) as failed:
            snapshot = await failed.next(timeout=10)
            assert (snapshot.phase, snapshot.is_terminal) == ("FAILED", True)
            assert "boom" in snapshot.message
        async with watcher.subscribe(f"{PROJECT}:{DOMAIN}:no-such-run", NEVER) as missing:
            with pytest.raises(WatchError, match="Flyte 2 run flytesnacks:development:no-such-run does not exist"):
                await missing.next(timeout=10)
    abort(v2, "lone")


async def test_an_outage_is_ridden_out_then_reported_past_its_tolerance(v2: Any) -> None:
    start_runs(v2, HANG, ["through", "fragile"])
    client, calls = spied_client(v2, rpc_retries=0)  # each injected fault is one failed tick
    async with (
        client,
        ExecutionWatcher(client, backend=FLYTE2) as watcher,
        watcher.subscribe(f"{PROJECT}:{DOMAIN}:through", NEVER, outage_tolerance=60) as through,
        watcher.subscribe(f"{PROJECT}:{DOMAIN}:fragile", NEVER, outage_tolerance=0.2) as fragile,
    ):
        assert (await through.next(timeout=10)).phase == (await fragile.next(timeout=10)).phase == "RUNNING"
        v2.faults.fail("ListRuns", grpc.StatusCode.UNAVAILABLE, times=None, seconds=30)
        await watcher.poll_once()
        assert not has_news(through)  # the first failed tick is ridden out
        assert not has_news(fragile)
        await asyncio.sleep(0.3)
        await watcher.poll_once()
        with pytest.raises(WatchError, match="fragile"):
            await fragile.next(timeout=1)  # past its 0.2 s of tolerance
        assert not has_news(through)
        v2.faults.clear()
        abort(v2, "through")
        await watcher.poll_once()
        assert (await through.next(timeout=1)).phase == "ABORTED"  # the backend answered again
    assert calls["list_runs"] == 4  # the first look at both, and three ticks
    abort(v2, "fragile")


async def test_subscriptions_take_run_ids_and_refuse_malformed_ones(v2: Any) -> None:
    client = AsyncFlyte2Client(v2.grpc_endpoint, insecure=True)
    async with client, ExecutionWatcher(client, backend=FLYTE2) as watcher:
        with pytest.raises(ValueError, match="project:domain:name"):
            watcher.subscribe("ex:flytesnacks:development:name")
