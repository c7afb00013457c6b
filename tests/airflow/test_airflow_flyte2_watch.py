"""Flyte2RunTrigger instances of one connection share one run watcher and one client, released after the last one."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_flyte.triggers.flyte2 import Flyte2RunTrigger
from airflow_provider_flyte.watch import _shared

sandbox_v2 = pytest.importorskip("flyte_admin_sandbox.v2")
from flyteidl2.task import task_service_pb2  # noqa: E402

from tests.sandbox_v2.v2_helpers import inputs, spec, task_id  # noqa: E402

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(60)]

PROJECT, DOMAIN, TASK = "flytesnacks", "development", "env.slow"


async def first_event(trigger: Flyte2RunTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return event.payload  # type: ignore[no-any-return]
    raise AssertionError("no event")


def test_triggers_share_one_watcher_and_one_list_per_tick(flyte2_sandbox: Any, flyte_connection: Any) -> None:
    from airflow_provider_flyte.clients.v2 import Flyte2Client

    flyte_connection(flyte2_sandbox.grpc_endpoint, project=PROJECT, domain=DOMAIN, backend="flyte2")
    flyte2_sandbox.behave(TASK, duration=1.0, outputs={"o0": 1})
    names = [f"slow-{i}" for i in range(5)]
    with Flyte2Client(flyte2_sandbox.grpc_endpoint, insecure=True) as client:
        client.raw.task_service.DeployTask(
            task_service_pb2.DeployTaskRequest(task_id=task_id(TASK, "v1"), spec=spec(TASK, "v1"))
        )
        for name in names:
            client.create_run(PROJECT, DOMAIN, name, task_id=(TASK, "v1"), inputs=inputs(x=1))

    async def watch_all() -> tuple[list[dict[str, Any]], Any]:
        triggers = [Flyte2RunTrigger(f"{PROJECT}:{DOMAIN}:{name}", poll_interval=0.2) for name in names]
        waits = [asyncio.ensure_future(first_event(trigger)) for trigger in triggers]
        await asyncio.sleep(0.5)
        loop = asyncio.get_running_loop()
        (watcher,) = _shared._FLYTE2.watchers[loop].values()  # one watcher for the five triggers
        assert len(_shared._FLYTE2.clients[loop]) == 1  # on one shared client
        events = await asyncio.gather(*waits)
        assert not _shared._FLYTE2.watchers[loop]  # the watcher stopped with its last trigger
        assert not _shared._FLYTE2.clients[loop]  # and released its client
        return events, watcher.stats

    events, stats = asyncio.run(watch_all())
    assert [event["status"] for event in events] == ["success"] * 5
    assert stats.list_calls <= stats.ticks + stats.first_looks  # one ListRuns per tick for the five runs
    assert stats.ticks >= 2
