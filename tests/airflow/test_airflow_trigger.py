"""FlyteExecutionTrigger and its coalescing watcher, over real gRPC against a scripted Admin (no database)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import pytest
from airflow_fake_admin import FakeAdminServer

from airflow_provider_flyte import watch
from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
from airflow_provider_flyte.triggers.flyte import FlyteExecutionTrigger

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(60)]

EX = "ex:flytesnacks:development:"


@pytest.fixture
def admin(flyte_connection) -> Iterator[FakeAdminServer]:  # type: ignore[no-untyped-def]
    with FakeAdminServer() as server:
        flyte_connection(server.endpoint, console_endpoint="http://console.test")
        yield server


async def first_event(trigger: FlyteExecutionTrigger) -> dict[str, object]:
    events = [event.payload async for event in trigger.run()]
    assert len(events) == 1
    return events[0]


def url(name: str) -> str:
    return f"http://console.test/console/projects/flytesnacks/domains/development/executions/{name}"


async def test_success_event_is_flat_json(admin: FakeAdminServer) -> None:
    admin.admin.set_phase(EX + "ok", "SUCCEEDED")
    event = await first_event(FlyteExecutionTrigger(EX + "ok", poll_interval=0.05))
    assert event == {
        "status": "success",
        "phase": "SUCCEEDED",
        "execution_id": EX + "ok",
        "message": "",
        "console_url": url("ok"),
    }


async def test_failed_event_carries_flytes_error_message(admin: FakeAdminServer) -> None:
    admin.admin.set_phase(EX + "bad", "FAILED", "ValueError: negative input")
    event = await first_event(FlyteExecutionTrigger(EX + "bad", poll_interval=0.05))
    assert (event["status"], event["phase"], event["message"]) == ("failed", "FAILED", "ValueError: negative input")


async def test_waits_through_running_until_the_target_phase(admin: FakeAdminServer) -> None:
    admin.admin.set_phase(EX + "slow", "RUNNING")
    trigger = FlyteExecutionTrigger(EX + "slow", poll_interval=0.02)
    task = asyncio.create_task(first_event(trigger))
    await asyncio.to_thread(admin.admin.wait_for_calls, "ListExecutions", 3)  # it keeps polling while RUNNING
    assert not task.done()
    admin.admin.set_phase(EX + "slow", "SUCCEEDED")
    assert (await task)["status"] == "success"


async def test_sensor_style_target_phase(admin: FakeAdminServer) -> None:
    admin.admin.set_phase(EX + "gate", "RUNNING")
    event = await first_event(FlyteExecutionTrigger(EX + "gate", poll_interval=0.05, target_phases=["RUNNING"]))
    assert (event["status"], event["phase"]) == ("success", "RUNNING")


async def test_deadline_yields_a_timeout_event(admin: FakeAdminServer) -> None:
    admin.admin.set_phase(EX + "late", "RUNNING")
    event = await first_event(FlyteExecutionTrigger(EX + "late", poll_interval=0.05, deadline=time.time() + 0.5))
    assert event["status"] == "timeout"
    assert event["phase"] in (None, "RUNNING")
    assert "at its deadline" in str(event["message"])
    assert event["console_url"] == url("late")


async def test_missing_execution_is_an_error_event(admin: FakeAdminServer) -> None:
    event = await first_event(FlyteExecutionTrigger(EX + "ghost", poll_interval=0.05))
    assert event["status"] == "error"
    assert "does not exist" in str(event["message"])
    assert admin.admin.calls["GetExecution"] == 1  # the listing missed it, so it was fetched before giving up


async def test_transient_unavailable_is_retried(admin: FakeAdminServer) -> None:
    admin.admin.set_phase(EX + "flaky", "SUCCEEDED")
    admin.admin.unavailable_left = 3
    event = await first_event(FlyteExecutionTrigger(EX + "flaky", poll_interval=0.02))
    assert event["status"] == "success"
    assert admin.admin.calls["ListExecutions"] >= 4


async def test_an_outage_of_many_ticks_is_ridden_out_and_the_true_phase_reported(
    admin: FakeAdminServer,
    flyte_connection,  # type: ignore[no-untyped-def]
) -> None:
    # Far more failed ticks than the old limit of 8: the budget is wall time, not ticks (no per-call retries here).
    flyte_connection(admin.endpoint, console_endpoint="http://console.test", rpc_retries=0)
    admin.admin.set_phase(EX + "ended-in-outage", "FAILED", "ValueError: failed while Admin was down")
    admin.admin.unavailable_left = 60
    trigger = FlyteExecutionTrigger(EX + "ended-in-outage", poll_interval=0.01, outage_tolerance=60)
    event = await first_event(trigger)
    assert admin.admin.unavailable_left == 0
    assert (event["status"], event["phase"], event["message"]) == (
        "failed",
        "FAILED",
        "ValueError: failed while Admin was down",
    )


async def test_an_outage_past_the_tolerance_is_an_error_event_saying_how_long(
    admin: FakeAdminServer,
    flyte_connection,  # type: ignore[no-untyped-def]
) -> None:
    flyte_connection(admin.endpoint, console_endpoint="http://console.test", rpc_retries=0)
    admin.admin.set_phase(EX + "never-back", "RUNNING")
    admin.admin.unavailable_left = 10**6
    started = time.monotonic()
    event = await first_event(FlyteExecutionTrigger(EX + "never-back", poll_interval=0.05, outage_tolerance=1.5))
    assert time.monotonic() - started >= 1.5
    assert event["status"] == "error"
    assert "Flyte Admin was unreachable for" in str(event["message"])
    assert "outage_tolerance=1.5 s" in str(event["message"])
    admin.admin.unavailable_left = 0


async def test_bad_connection_is_an_error_event(flyte_connection) -> None:  # type: ignore[no-untyped-def]
    flyte_connection("127.0.0.1:1", conn_id="flyte_broken", nonsense=1)
    event = await first_event(FlyteExecutionTrigger(EX + "x", flyte_conn_id="flyte_broken"))
    assert event["status"] == "error"
    assert "nonsense" in str(event["message"])


async def test_many_triggers_are_served_by_a_few_list_calls(admin: FakeAdminServer) -> None:
    names = [f"run-{index}" for index in range(300)]
    for name in names:
        admin.admin.set_phase(EX + name, "SUCCEEDED")
    triggers = [FlyteExecutionTrigger(EX + name, poll_interval=0.05) for name in names]
    events = await asyncio.gather(*(first_event(trigger) for trigger in triggers))
    assert {event["status"] for event in events} == {"success"}
    assert admin.admin.calls["GetExecution"] == 0
    # Triggers join the shared watcher as their connection lookups finish, so a few ticks may be needed;
    # one GetExecution per trigger would be 300 calls.
    assert admin.admin.calls["ListExecutions"] <= 20


async def test_one_round_lists_each_project_domain_once_in_chunks(admin: FakeAdminServer) -> None:
    from airflow_provider_flyte.clients.aio import AsyncFlyteClient

    ids = [WorkflowExecutionIdentifier("flytesnacks", "development", f"run-{index}") for index in range(450)]
    ids.append(WorkflowExecutionIdentifier("other", "production", "solo"))
    for execution_id in ids:
        admin.admin.set_phase(str(execution_id), "RUNNING")
    client = AsyncFlyteClient(admin.config)
    watcher = watch.ExecutionWatcher(client)
    async with contextlib.AsyncExitStack() as stack:
        subscriptions = [await stack.enter_async_context(watcher.subscribe(i, 60.0)) for i in ids]
        snapshots = [await subscription.next() for subscription in subscriptions]
        assert {snapshot.phase for snapshot in snapshots} == {"RUNNING"}
        # Subscribed in one go: one first look served them all, no tick.
        assert (watcher.stats.first_looks, watcher.stats.ticks) == (1, 0)
    # 450 names in chunks of 200 -> 3 calls, plus 1 for the other project/domain; no GetExecution.
    assert (watcher.stats.list_calls, watcher.stats.get_calls) == (4, 0)
    assert admin.admin.calls["ListExecutions"] == 4
    assert all(len(f.split(";")) <= watch.MAX_NAMES_PER_LIST for f in admin.admin.filters)
    await client.close()


async def test_archived_execution_falls_back_to_get(admin: FakeAdminServer) -> None:
    client = _FilteringClient(admin, hidden={"archived"})
    watcher = watch.ExecutionWatcher(client)  # type: ignore[arg-type]
    admin.admin.set_phase(EX + "archived", "SUCCEEDED")
    admin.admin.set_phase(EX + "listed", "RUNNING")
    ids = [WorkflowExecutionIdentifier.from_python_std(EX + name) for name in ("archived", "listed")]
    async with watcher.subscribe(ids[0], 1.0) as first, watcher.subscribe(ids[1], 1.0) as second:
        assert (await first.next()).phase == "SUCCEEDED"
        assert (await second.next()).phase == "RUNNING"
    assert (watcher.stats.list_calls, watcher.stats.get_calls) == (1, 1)
    await client.close()


class _FilteringClient:
    """An AsyncFlyteClient whose listings hide some names, as Admin hides archived executions."""

    def __init__(self, admin: FakeAdminServer, hidden: set[str]) -> None:
        from airflow_provider_flyte.clients.aio import AsyncFlyteClient

        self._client = AsyncFlyteClient(admin.config)
        self._hidden = hidden

    async def list_executions_paginated(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        items, token = await self._client.list_executions_paginated(*args, **kwargs)  # type: ignore[arg-type]
        return [item for item in items if item.id.name not in self._hidden], token

    async def get_execution(self, execution_id: WorkflowExecutionIdentifier):  # type: ignore[no-untyped-def]
        return await self._client.get_execution(execution_id)

    async def close(self) -> None:
        await self._client.close()


async def test_on_kill_terminates_only_when_the_trigger_owns_the_run(admin: FakeAdminServer) -> None:
    admin.admin.set_phase(EX + "mine", "RUNNING")
    admin.admin.set_phase(EX + "watched", "RUNNING")
    await FlyteExecutionTrigger(EX + "watched", terminate_on_kill=False).on_kill()
    assert admin.admin.calls["TerminateExecution"] == 0
    await FlyteExecutionTrigger(EX + "mine").on_kill()
    aborted = admin.admin.executions[("flytesnacks", "development", "mine")]
    assert aborted.closure.abort_metadata.cause.startswith("Killed by Airflow")
    await FlyteExecutionTrigger(EX + "mine").on_kill()  # already aborted: logged, not raised
    assert not watch._ASYNC_CLIENTS.get(asyncio.get_running_loop())  # no channel left open behind


async def test_cleanup_never_terminates(admin: FakeAdminServer) -> None:
    admin.admin.set_phase(EX + "kept", "RUNNING")
    trigger = FlyteExecutionTrigger(EX + "kept", poll_interval=0.02)
    task = asyncio.create_task(first_event(trigger))
    await asyncio.to_thread(admin.admin.wait_for_calls, "ListExecutions", 1)
    task.cancel()  # what a triggerer restart does to a running trigger
    with pytest.raises(asyncio.CancelledError):
        await task
    await trigger.cleanup()
    assert admin.admin.calls["TerminateExecution"] == 0
    assert not watch._WATCHERS.get(asyncio.get_running_loop())  # the watcher stopped with its last trigger


async def test_an_unexpected_polling_error_fails_the_watch_instead_of_hanging() -> None:
    class BrokenClient:
        async def list_executions_paginated(self, *args: object, **kwargs: object) -> object:
            raise RuntimeError("decoder exploded")

    watcher = watch.ExecutionWatcher(BrokenClient())  # type: ignore[arg-type]
    async with watcher.subscribe(WorkflowExecutionIdentifier("p", "d", "n"), 1.0) as subscription:
        with pytest.raises(watch.WatchError, match="RuntimeError: decoder exploded"):
            await subscription.next(timeout=30)
