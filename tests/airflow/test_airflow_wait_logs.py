"""Logs a person can trust: gate waits log phase changes and progress lines; deferred tasks log one line on resume.

Against the sandbox over loopback gRPC, operators and triggers called directly (no metadata database). Progress lines
are made due every few polls (``PROGRESS_EVERY`` patched); a test moves the run on only once it saw one, so nothing
depends on timing. Operators and triggers log through Airflow's structlog loggers, which caplog does not see: the
tests give them stdlib ones.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, TaskDeferred

from airflow_provider_flyte.operators.approval import FlyteApprovalOperator
from airflow_provider_flyte.operators.backfill import FlyteBackfillOperator
from airflow_provider_flyte.operators.signal import FlyteSignalOperator
from airflow_provider_flyte.remote import FlyteRemote
from airflow_provider_flyte.remote.executions import FlyteWorkflowExecution
from tests.support.airflow_fakes import FakeTaskInstance
from tests.support.polling import wait_until

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(90), pytest.mark.usefixtures("sandbox_connection")]

PROJECT, DOMAIN = "flytesnacks", "development"
LINK = "_link_FlyteConsoleLink"
GATED = "demo.gated_publish"
PROGRESS = " is still RUNNING after "
# At the approval gate of demo.gated_publish: summarize, mean and report done, the gate running ("title" comes next).
AT_THE_GATE = "nodes: 3 done, 1 running, 4 total"


@pytest.fixture
def remote(sandbox) -> FlyteRemote:  # type: ignore[no-untyped-def]
    with FlyteRemote(sandbox.config, PROJECT, DOMAIN) as flyte:
        yield flyte


@pytest.fixture(autouse=True)
def frequent_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("airflow_provider_flyte.progress.PROGRESS_EVERY", 0.3)


def at_the_approval_gate(remote: FlyteRemote, label: str) -> FlyteWorkflowExecution:
    """A ``demo.gated_publish`` execution waiting at its approval gate, so its ``title`` gate is not reached yet."""
    execution = remote.execute(remote.fetch_launch_plan(name=GATED), inputs={"numbers": [1, 2, 3], "label": label})
    filters = "eq(signal_id,approve-report)"
    wait_until(lambda: remote.list_signals(execution.id.name, filters=filters), what="the approval gate")
    return execution


def stdlib_logger(task: Any, name: str) -> logging.Logger:
    """Give ``task`` (an operator or a trigger) a stdlib logger, which caplog sees."""
    logger = logging.getLogger(f"tests.wait_logs.{name}")
    task._log = logger  # triggers, and operators before Airflow 3.3
    task._cached_logger = logger  # operators on Airflow 3.3+
    return logger


def after_a_progress_line(logger: logging.Logger, then: Callable[[], None]) -> threading.Thread:
    """Call ``then`` on a thread once ``logger`` logged a progress line (or after a hang guard: the test then fails)."""
    seen = threading.Event()

    def note(record: logging.LogRecord) -> bool:
        if PROGRESS in record.getMessage():
            seen.set()
        return True

    logger.addFilter(note)
    thread = threading.Thread(target=lambda: (seen.wait(20), then()), daemon=True)
    thread.start()
    return thread


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def assert_followed(lines: list[str], execution_id: str, url: str, missing: str) -> None:
    """Phase changes RUNNING then FAILED, and between them a progress line with the phase, nodes and what is missing."""
    assert f"Flyte execution {execution_id} is RUNNING ({url})" in lines, lines
    assert f"Flyte execution {execution_id} is FAILED ({url})" in lines, lines
    progress = [line for line in lines if PROGRESS in line]
    assert progress, lines
    assert progress[0].startswith(f"Flyte execution {execution_id} is still RUNNING after "), progress[0]
    assert progress[0].endswith(f"; {AT_THE_GATE}; {missing} ({url})"), progress[0]


def test_a_signal_operator_waiting_on_the_worker_logs_phases_and_progress(
    remote: FlyteRemote, caplog: pytest.LogCaptureFixture
) -> None:
    execution = at_the_approval_gate(remote, "signal-worker")
    operator = FlyteSignalOperator(
        task_id="set_title", execution_id=str(execution.id), signal_id="title", value="T", poll_interval=0.1
    )
    logger = stdlib_logger(operator, "signal_worker")
    rejecting = after_a_progress_line(logger, lambda: remote.reject("approve-report", execution.id.name))
    ti = FakeTaskInstance("set_title")
    with caplog.at_level(logging.INFO), pytest.raises(AirflowFailException, match="ended FAILED before reaching"):
        operator.execute({"ti": ti})  # type: ignore[arg-type]
    rejecting.join()
    missing = "the gate of signal 'title' not reached yet"
    assert_followed(messages(caplog), str(execution.id), str(ti.xcoms[LINK]), missing)


def test_an_approval_operator_waiting_on_the_worker_logs_phases_and_progress(
    remote: FlyteRemote, caplog: pytest.LogCaptureFixture
) -> None:
    execution = at_the_approval_gate(remote, "approval-worker")
    operator = FlyteApprovalOperator(
        task_id="ask_title", execution_id=str(execution.id), signal_id="title", poll_interval=0.1
    )
    logger = stdlib_logger(operator, "approval_worker")
    rejecting = after_a_progress_line(logger, lambda: remote.reject("approve-report", execution.id.name))
    ti = FakeTaskInstance("ask_title")
    with caplog.at_level(logging.INFO), pytest.raises(AirflowFailException, match="ended FAILED before a gate"):
        operator.execute({"ti": ti})  # type: ignore[arg-type]
    rejecting.join()
    lines = messages(caplog)
    assert f"Waiting for execution {execution.id} to reach a gate asking for 'title'" in lines
    assert_followed(lines, str(execution.id), str(ti.xcoms[LINK]), "no gate asking for 'title' yet")


def test_a_deferred_signal_wait_logs_phases_and_progress_then_one_line_on_resume(
    remote: FlyteRemote, caplog: pytest.LogCaptureFixture
) -> None:
    execution = at_the_approval_gate(remote, "signal-deferred")
    operator = FlyteSignalOperator(
        task_id="set_title_later",
        execution_id=str(execution.id),
        signal_id="title",
        value="T",
        deferrable=True,
        poll_interval=0.1,
    )
    ti = FakeTaskInstance("set_title_later")
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({"ti": ti})  # type: ignore[arg-type]
    trigger = deferred.value.trigger
    logger = stdlib_logger(trigger, "signal_trigger")
    rejecting = after_a_progress_line(logger, lambda: remote.reject("approve-report", execution.id.name))
    with caplog.at_level(logging.INFO):
        event = asyncio.run(asyncio.wait_for(_first_event(trigger), 30))
    rejecting.join()
    url = str(ti.xcoms[LINK])
    assert (event["status"], event["phase"]) == ("failed", "FAILED")
    assert_followed(messages(caplog), str(execution.id), url, "no 'title' yet")

    caplog.clear()
    with caplog.at_level(logging.INFO), pytest.raises(AirflowFailException, match="signal 'title' was not set"):
        operator.execute_complete({"ti": ti}, event)  # type: ignore[arg-type]
    resumed = [line for line in messages(caplog) if line.startswith("Resumed")]
    assert resumed == [f"Resumed after FlyteSignalTrigger: Flyte execution {execution.id} is FAILED ({url})"]


def test_a_deferred_backfill_logs_one_line_on_resume(remote: FlyteRemote, caplog: pytest.LogCaptureFixture) -> None:
    operator = FlyteBackfillOperator(
        task_id="replay_resume",
        launchplan_name="demo.nightly",
        from_date="2026-07-01",
        to_date="2026-07-03",
        deferrable=True,
        poll_interval=0.1,
        timeout=60,
    )
    ti = FakeTaskInstance("replay_resume")
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({"ti": ti})  # type: ignore[arg-type]
    event = asyncio.run(asyncio.wait_for(_first_event(deferred.value.trigger), 30))
    assert (event["status"], event["phase"]) == ("success", "SUCCEEDED")
    with caplog.at_level(logging.INFO):
        operator.execute_complete({"ti": ti}, event)  # type: ignore[arg-type]
    resumed = [line for line in messages(caplog) if line.startswith("Resumed")]
    assert resumed == [
        f"Resumed after FlyteBackfillTrigger: Flyte execution {event['execution_id']} is SUCCEEDED ({ti.xcoms[LINK]})"
    ]


async def _first_event(trigger: Any) -> Any:
    async for event in trigger.run():
        return event.payload
    raise AssertionError("no event")
