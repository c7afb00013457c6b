"""Triggers hold their event a few seconds after the deferral in a real triggerer (Airflow's resume race).

The race itself (a task failed by the scheduler when its trigger fires within a second or two of the deferral) shows
in a live deployment: ``tests/airflow_live/test_trigger_paths.py`` runs the mapped example, whose three executions end
within a second, and failed one in three runs before the guard. Here: when the guard applies, and that it holds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from airflow.sdk.execution_time import task_runner
from airflow.sdk.execution_time.supervisor import InProcessSupervisorComms
from airflow.triggers.base import BaseTrigger
from airflow_fake_admin import FakeAdminServer

from airflow_provider_flyte.triggers import _resume_guard
from airflow_provider_flyte.triggers.backfill import FlyteBackfillTrigger
from airflow_provider_flyte.triggers.flyte import FlyteExecutionTrigger
from airflow_provider_flyte.triggers.flyte2 import Flyte2RunTrigger
from airflow_provider_flyte.triggers.signal import FlyteSignalTrigger

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(60)]

EX = "ex:flytesnacks:development:"


class TriggererComms:
    """Stands for the triggerer's comms channel: any supervisor channel other than dag.test()'s in-process one."""


@pytest.fixture
def admin(flyte_connection) -> Iterator[FakeAdminServer]:  # type: ignore[no-untyped-def]
    with FakeAdminServer() as server:
        flyte_connection(server.endpoint, console_endpoint="http://console.test")
        yield server


@pytest.fixture
def in_a_triggerer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", TriggererComms(), raising=False)
    monkeypatch.setattr(_resume_guard, "MIN_SECONDS_AFTER_DEFERRAL", 0.5)


def test_the_guard_applies_in_a_triggerer_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(task_runner, "SUPERVISOR_COMMS", raising=False)
    assert not _resume_guard._in_a_triggerer()  # a test driving the trigger directly
    in_process = InProcessSupervisorComms.__new__(InProcessSupervisorComms)
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", in_process, raising=False)
    assert not _resume_guard._in_a_triggerer()  # dag.test()
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", TriggererComms(), raising=False)
    assert _resume_guard._in_a_triggerer()


@pytest.mark.usefixtures("in_a_triggerer")
async def test_an_execution_already_finished_resumes_no_sooner_than_the_floor(admin: FakeAdminServer) -> None:
    admin.admin.set_phase(EX + "quick", "SUCCEEDED")
    started = time.monotonic()
    events = [event.payload async for event in FlyteExecutionTrigger(EX + "quick", poll_interval=0.05).run()]
    assert time.monotonic() - started >= 0.5  # a lower bound: never flaky on a slow machine
    assert [event["status"] for event in events] == ["success"]


@pytest.mark.usefixtures("in_a_triggerer")
@pytest.mark.parametrize(
    "trigger",
    [
        FlyteSignalTrigger(EX + "ended", signal_id="go", poll_interval=0.05),
        FlyteBackfillTrigger(EX + "ended", scheduled_times={"n0": "2026-01-01T00:00:00+00:00"}, poll_interval=0.05),
        Flyte2RunTrigger("flytesnacks:development:ended", poll_interval=0.05),
    ],
    ids=["signal", "backfill", "flyte2"],
)
async def test_every_trigger_holds_its_event(admin: FakeAdminServer, trigger: BaseTrigger) -> None:
    admin.admin.set_phase(EX + "ended", "FAILED", "boom")
    started = time.monotonic()
    events = [event.payload async for event in trigger.run()]
    assert time.monotonic() - started >= 0.5
    assert len(events) == 1
