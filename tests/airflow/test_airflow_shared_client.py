"""Triggers of one connection share one client per event loop; none closes it while another still uses it.

A deferred FlyteOperator's trigger watches through the shared watcher, which releases the connection's client when its
last subscription ends. A signal trigger of the same connection, polling on the same loop, must keep working: it
leases the client. (Seen in a real triggerer: an approval gate failed with "the client is closed" when a launch of the
same connection finished while it waited.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_flyte.remote import FlyteRemote
from airflow_provider_flyte.triggers.flyte import FlyteExecutionTrigger
from airflow_provider_flyte.triggers.signal import FlyteSignalTrigger
from airflow_provider_flyte.watch import has_watcher

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(120), pytest.mark.usefixtures("sandbox_connection")]


async def only_event(trigger: Any) -> dict[str, Any]:
    events = [event.payload async for event in trigger.run()]
    assert len(events) == 1
    return events[0]


def test_a_signal_wait_outlives_the_watcher_of_the_same_connection(sandbox: Any) -> None:
    with FlyteRemote(sandbox.config, "flytesnacks", "development") as remote:
        sandbox.script("demo.summarize", duration=3)  # the gate comes after the pipeline's slow step
        try:
            gated = remote.execute(remote.fetch_launch_plan(name="demo.gated_publish"), inputs={"numbers": [1, 2]})
            failing = remote.execute(remote.fetch_launch_plan(name="demo.always_fails"), inputs={})

            async def both() -> tuple[dict[str, Any], dict[str, Any], bool]:
                gate = asyncio.create_task(
                    only_event(FlyteSignalTrigger(str(gated.id), "approve-report", poll_interval=0.2))
                )
                ended = await only_event(FlyteExecutionTrigger(str(failing.id), poll_interval=0.1))
                await asyncio.sleep(0)  # the watcher, now idle, released the connection's client
                watcher_gone = not has_watcher("flyte_default")
                return ended, await gate, watcher_gone

            ended, gate, watcher_gone = asyncio.run(both())
        finally:
            sandbox.unscript("demo.summarize")
    assert ended["status"] == "failed"
    assert watcher_gone
    assert gate["status"] == "success", gate  # not an error event: "the client is closed"
    assert gate["signal"]["signal_id"] == "approve-report"
