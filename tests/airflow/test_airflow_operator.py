"""FlyteOperator and FlyteExecutionSensor against the sandbox, called directly (no metadata database)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from datetime import timedelta
from typing import Any

import grpc
import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, AirflowTaskTimeout, TaskDeferred
from airflow_hold_tasks import LAUNCH_PLAN as HOLD
from airflow_hold_tasks import release

from airflow_provider_flyte.exceptions import FlyteAdminUnreachableException, FlyteInvalidInputException
from airflow_provider_flyte.hooks.flyte import FlyteHook
from airflow_provider_flyte.operators.flyte import STATE_STORE_KEY, FlyteExecutionFailedError, FlyteOperator
from airflow_provider_flyte.remote import FlyteRemote
from airflow_provider_flyte.sensors.flyte import FlyteExecutionSensor
from airflow_provider_flyte.triggers.flyte import FlyteExecutionTrigger
from tests.support.airflow_fakes import FakeStateStore, FakeTaskInstance

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(90), pytest.mark.usefixtures("sandbox_connection")]

PROJECT, DOMAIN = "flytesnacks", "development"
LINK = "_link_FlyteConsoleLink"


@pytest.fixture
def remote(sandbox) -> FlyteRemote:  # type: ignore[no-untyped-def]
    with FlyteRemote(sandbox.config, PROJECT, DOMAIN) as flyte:
        yield flyte


def run(operator: FlyteOperator, ti: FakeTaskInstance, **context: Any) -> dict[str, Any]:
    return operator.execute({"ti": ti, **context})  # type: ignore[arg-type]


def names(remote: FlyteRemote, prefix: str) -> list[str]:
    return sorted(e.id.name for e in remote.list_executions() if e.id.name.startswith(prefix))


def test_launch_and_wait_returns_json_outputs_and_pushes_the_link(remote: FlyteRemote) -> None:
    ti = FakeTaskInstance("pipeline_sync")
    operator = FlyteOperator(
        task_id="pipeline_sync", launchplan_name="demo.pipeline", inputs={"numbers": [1, 2, 3]}, poll_interval=0.1
    )
    result = run(operator, ti)
    assert result["phase"] == "SUCCEEDED"
    assert result["outputs"] == {"total": 6, "mean": 4.0, "report": "demo: mean 4.000 over 3 value(s)"}
    assert result["execution_id"] == f"ex:{PROJECT}:{DOMAIN}:{result['name']}"
    assert ti.xcoms[LINK] == result["console_url"]
    assert result["console_url"].endswith(f"/console/projects/{PROJECT}/domains/{DOMAIN}/executions/{result['name']}")


def test_workflow_and_task_by_identifier_string(remote: FlyteRemote) -> None:
    version = remote.fetch_task(name="demo.summarize").id.version
    by_task = FlyteOperator(
        task_id="summarize_task",
        task_name=f"tsk:{PROJECT}:{DOMAIN}:demo.summarize:{version}",
        inputs={"numbers": [5, 5]},
        poll_interval=0.1,
    )
    assert run(by_task, FakeTaskInstance("summarize_task"))["outputs"] == {"total": 10, "count": 2}
    by_workflow = FlyteOperator(
        task_id="pipeline_wf",
        workflow_name="demo.pipeline",
        inputs={"numbers": [2], "scale": 1.0, "label": "wf"},
        poll_interval=0.1,
    )
    assert run(by_workflow, FakeTaskInstance("pipeline_wf"))["outputs"]["report"] == "wf: mean 2.000 over 1 value(s)"


def test_inputs_are_checked_before_anything_is_launched(remote: FlyteRemote, caplog: pytest.LogCaptureFixture) -> None:
    operator = FlyteOperator(task_id="bad_inputs", launchplan_name="demo.pipeline", inputs={"numbers": "1,2"})
    with caplog.at_level(logging.INFO), pytest.raises(FlyteInvalidInputException, match="numbers"):
        run(operator, FakeTaskInstance("bad_inputs"))
    assert names(remote, "af-bad-inputs") == []
    assert "Launch" not in caplog.text  # no line claims a launch that never happened


def test_failure_raises_with_phase_flyte_message_and_url() -> None:
    ti = FakeTaskInstance("fails")
    operator = FlyteOperator(task_id="fails", launchplan_name="demo.always_fails", poll_interval=0.1)
    with pytest.raises(FlyteExecutionFailedError) as error:
        run(operator, ti)
    assert error.value.phase == "FAILED"
    assert "ValueError: demo failure: this run was meant to fail" in str(error.value)
    assert error.value.console_url == ti.xcoms[LINK]
    assert str(error.value.console_url) in str(error.value)


def test_deferrable_launch_defers_with_the_right_trigger_and_completes(
    remote: FlyteRemote, caplog: pytest.LogCaptureFixture
) -> None:
    ti = FakeTaskInstance("hold_deferred")
    operator = FlyteOperator(
        task_id="hold_deferred",
        launchplan_name=HOLD,
        inputs={"key": "deferred"},
        deferrable=True,
        poll_interval=0.1,
        timeout=600,
    )
    with pytest.raises(TaskDeferred) as deferred:
        run(operator, ti)
    trigger = deferred.value.trigger
    assert isinstance(trigger, FlyteExecutionTrigger)
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout is not None
    assert deferred.value.timeout.total_seconds() > 600
    _, kwargs = trigger.serialize()
    name = kwargs["execution_id"].rsplit(":", 1)[1]
    assert kwargs["terminate_on_kill"] is True
    assert kwargs["deadline"] is not None
    assert ti.xcoms[LINK].endswith(name)

    release("deferred")
    event = asyncio.run(_first_event(trigger)).payload
    assert (event["status"], event["phase"]) == ("success", "SUCCEEDED")
    with caplog.at_level(logging.INFO):
        result = operator.execute_complete({"ti": ti}, event)  # type: ignore[arg-type]
    assert result["outputs"] == {"o0": "released deferred"}
    # One line marks the task back on a worker, with the outcome and where to look.
    resumed = [record.getMessage() for record in caplog.records if record.getMessage().startswith("Resumed")]
    assert resumed == [
        f"Resumed after FlyteExecutionTrigger: Flyte execution {kwargs['execution_id']} is SUCCEEDED ({ti.xcoms[LINK]})"
    ]


async def _first_event(trigger: FlyteExecutionTrigger) -> Any:
    async for event in trigger.run():
        return event
    raise AssertionError("no event")


def test_retry_reattaches_to_the_running_execution_then_reuses_its_success(remote: FlyteRemote) -> None:
    def operator() -> FlyteOperator:
        return FlyteOperator(
            task_id="reattach",
            launchplan_name=HOLD,
            inputs={"key": "reattach"},
            wait_for_completion=False,
            poll_interval=0.1,
        )

    first = run(operator(), FakeTaskInstance("reattach", run_id="r1"))
    assert first["phase"] in ("QUEUED", "RUNNING")
    second = run(operator(), FakeTaskInstance("reattach", run_id="r1", try_number=2))
    assert second["name"] == first["name"]
    release("reattach")
    remote.wait(remote.fetch_execution(name=first["name"]), poll_interval=0.1)
    third = run(operator(), FakeTaskInstance("reattach", run_id="r1", try_number=3))
    assert (third["name"], third["phase"]) == (first["name"], "SUCCEEDED")
    assert third["outputs"] == {"o0": "released reattach"}
    assert names(remote, "af-reattach-") == [first["name"]]  # exactly one execution for three tries


@pytest.mark.parametrize("on_retry", ["recover", "relaunch", "new"])
def test_failed_earlier_execution_follows_on_retry(remote: FlyteRemote, on_retry: str) -> None:
    task_id = f"retry-{on_retry}"
    operator = FlyteOperator(task_id=task_id, launchplan_name="demo.always_fails", on_retry=on_retry, poll_interval=0.1)
    store = FakeStateStore()
    with pytest.raises(FlyteExecutionFailedError):
        run(operator, FakeTaskInstance(task_id, run_id="r"), task_state_store=store)
    base = str(store.values[STATE_STORE_KEY])
    with pytest.raises(FlyteExecutionFailedError) as error:
        run(operator, FakeTaskInstance(task_id, run_id="r", try_number=2), task_state_store=store)
    assert error.value.execution_id.endswith(f"{base}-r2")
    assert store.values[STATE_STORE_KEY] == f"{base}-r2"
    assert names(remote, base) == [base, f"{base}-r2"]
    from flyteidl.admin import execution_pb2

    mode = remote.fetch_execution(name=f"{base}-r2").spec.metadata.mode
    expected = {"recover": "RECOVERED", "relaunch": "RELAUNCH", "new": "MANUAL"}[on_retry]
    assert execution_pb2.ExecutionMetadata.ExecutionMode.Name(mode) == expected


def test_sync_timeout_aborts_the_execution(remote: FlyteRemote) -> None:
    ti = FakeTaskInstance("sync_timeout")
    operator = FlyteOperator(
        task_id="sync_timeout",
        launchplan_name=HOLD,
        inputs={"key": "sync-timeout"},
        timeout=0.5,
        poll_interval=0.1,
    )
    with pytest.raises(AirflowException, match="timeout"):
        run(operator, ti)
    name = str(ti.xcoms[LINK]).rsplit("/", 1)[1]
    execution = remote.wait(remote.fetch_execution(name=name), poll_interval=0.1, timeout=30)
    assert execution.phase_name == "ABORTED"


def test_on_kill_terminates_the_execution_a_sync_task_waits_for(remote: FlyteRemote) -> None:
    ti = FakeTaskInstance("killed")
    operator = FlyteOperator(task_id="killed", launchplan_name=HOLD, inputs={"key": "killed"}, poll_interval=0.1)
    outcome: dict[str, BaseException] = {}

    def execute() -> None:
        try:
            run(operator, ti)
        except BaseException as error:
            outcome["error"] = error

    worker = threading.Thread(target=execute)
    worker.start()
    while LINK not in ti.xcoms and worker.is_alive():
        worker.join(0.05)
    operator.on_kill()  # what Airflow calls when the task is stopped
    worker.join(30)
    error = outcome["error"]
    assert isinstance(error, FlyteExecutionFailedError)
    assert error.phase == "ABORTED"
    assert "Killed by Airflow" in error.flyte_message


def test_sensor_pokes_with_one_client_and_fails_on_other_terminal_phases(remote: FlyteRemote) -> None:
    done = remote.execute(
        "lp:flytesnacks:development:demo.pipeline:" + remote.fetch_launch_plan(name="demo.pipeline").id.version,
        inputs={"numbers": [1]},
        wait=True,
        poll_interval=0.1,
    )
    ti = FakeTaskInstance("sense")
    sensor = FlyteExecutionSensor(task_id="sense", execution_id=done.id.name, poke_interval=0.1)
    result = sensor.poke({"ti": ti})  # type: ignore[arg-type]
    assert result.is_done
    assert result.xcom_value["phase"] == "SUCCEEDED"
    assert ti.xcoms[LINK] == result.xcom_value["console_url"]
    client = sensor.hook.get_client()
    sensor.poke({"ti": ti})  # type: ignore[arg-type]
    assert sensor.hook.get_client() is client

    failed = remote.execute(remote.fetch_launch_plan(name="demo.always_fails"), wait=True, poll_interval=0.1)
    failing = FlyteExecutionSensor(task_id="sense_failed", execution_id={"execution_id": str(failed.id)})
    with pytest.raises(AirflowFailException, match=r"ended FAILED: .*ValueError: demo failure"):
        failing.poke({"ti": FakeTaskInstance("sense_failed")})  # type: ignore[arg-type]


def test_deferrable_sensor_never_terminates_what_it_watches(remote: FlyteRemote) -> None:
    running = remote.execute(remote.fetch_launch_plan(name=HOLD), inputs={"key": "sensed"})
    sensor = FlyteExecutionSensor(task_id="sense_deferred", execution_id=str(running.id), deferrable=True, timeout=60)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({"ti": FakeTaskInstance("sense_deferred")})  # type: ignore[arg-type]
    _, kwargs = deferred.value.trigger.serialize()
    assert kwargs["terminate_on_kill"] is False
    assert kwargs["target_phases"] == ["SUCCEEDED"]
    remote.terminate(running, "test cleanup")


def test_hook_test_connection_against_the_sandbox() -> None:
    ok, message = FlyteHook().test_connection()
    assert ok, message
    assert "project 'flytesnacks'" in message


def test_secrets_stay_out_of_xcom_trigger_kwargs_and_reprs(sandbox: Any, flyte_connection: Any) -> None:
    secret = "tok-very-secret-123"
    flyte_connection(sandbox.endpoint, conn_id="flyte_secret", project=PROJECT, domain=DOMAIN, static_token=secret)
    operator = FlyteOperator(
        task_id="secretive",
        flyte_conn_id="flyte_secret",
        launchplan_name=HOLD,
        inputs={"key": "secretive"},
        deferrable=True,
        poll_interval=0.1,
    )
    ti = FakeTaskInstance("secretive")
    with pytest.raises(TaskDeferred) as deferred:
        run(operator, ti)
    release("secretive")
    assert operator.hook.platform_config.static_token == secret  # it was really configured and used
    assert secret not in json.dumps(deferred.value.trigger.serialize())
    assert secret not in json.dumps(ti.xcoms)
    assert secret not in repr(operator.hook.settings)


def test_a_try_that_finds_nothing_launches_the_base_name_not_a_retry_name(remote: FlyteRemote) -> None:
    # Tries 1 and 2 died before launching anything: try 3 must launch <base>, where a late create of theirs would land.
    operator = FlyteOperator(task_id="late_first_launch", launchplan_name="demo.pipeline", inputs={"numbers": [2]})
    result = run(operator, FakeTaskInstance("late_first_launch", run_id="r", try_number=3))
    assert result["phase"] == "SUCCEEDED"
    assert not result["name"].endswith(("-r2", "-r3"))
    assert names(remote, result["name"]) == [result["name"]]


def test_tries_racing_a_slow_create_share_one_execution(remote: FlyteRemote, sandbox: Any) -> None:
    # Try 1 is still alive and stuck in a slow CreateExecution when try 2 starts: both follow the same execution.
    sandbox.faults.commit_late("CreateExecution", seconds=1.5, times=1)
    outcome: dict[str, Any] = {}

    def first_try() -> None:
        operator = FlyteOperator(task_id="racing", launchplan_name="demo.pipeline", inputs={"numbers": [5]})
        outcome["first"] = run(operator, FakeTaskInstance("racing", run_id="r", try_number=1))

    worker = threading.Thread(target=first_try)
    worker.start()
    time.sleep(0.5)
    second = run(
        FlyteOperator(task_id="racing", launchplan_name="demo.pipeline", inputs={"numbers": [5]}),
        FakeTaskInstance("racing", run_id="r", try_number=2),
    )
    worker.join(30)
    assert outcome["first"]["name"] == second["name"]
    assert second["phase"] == "SUCCEEDED"
    assert names(remote, second["name"]) == [second["name"]]


def test_sync_retry_reconnects_through_the_state_store(remote: FlyteRemote) -> None:
    # Try 1's worker died mid-wait; try 2 (Airflow 3.3's durable execution, or the names on older Airflow) follows it.
    store = FakeStateStore()
    first = FlyteOperator(task_id="durable", launchplan_name=HOLD, inputs={"key": "durable"}, wait_for_completion=False)
    launched = run(first, FakeTaskInstance("durable", run_id="r"), task_state_store=store)
    assert store.values[STATE_STORE_KEY] == launched["name"]
    second = FlyteOperator(task_id="durable", launchplan_name=HOLD, inputs={"key": "durable"}, poll_interval=0.1)
    threading.Timer(0.5, release, args=("durable",)).start()
    result = run(second, FakeTaskInstance("durable", run_id="r", try_number=2), task_state_store=store)
    assert (result["name"], result["phase"]) == (launched["name"], "SUCCEEDED")
    assert result["outputs"] == {"o0": "released durable"}
    assert names(remote, launched["name"]) == [launched["name"]]


def test_durable_false_still_never_launches_twice(remote: FlyteRemote) -> None:
    def operator() -> FlyteOperator:
        return FlyteOperator(
            task_id="not_durable", launchplan_name="demo.pipeline", inputs={"numbers": [1]}, durable=False
        )

    first = run(operator(), FakeTaskInstance("not_durable", run_id="r"))
    second = run(operator(), FakeTaskInstance("not_durable", run_id="r", try_number=2))
    assert first["name"] == second["name"]
    assert names(remote, first["name"]) == [first["name"]]


def test_deferred_execution_timeout_aborts_the_execution(remote: FlyteRemote) -> None:
    # Airflow does not enforce execution_timeout while a task is deferred; the trigger's deadline does.
    ti = FakeTaskInstance("deferred_execution_timeout")
    operator = FlyteOperator(
        task_id="deferred_execution_timeout",
        launchplan_name=HOLD,
        inputs={"key": "deferred-execution-timeout"},
        deferrable=True,
        poll_interval=0.1,
        execution_timeout=timedelta(seconds=1),
    )
    with pytest.raises(TaskDeferred) as deferred:
        run(operator, ti)
    _, kwargs = deferred.value.trigger.serialize()
    assert kwargs["deadline"] == pytest.approx(time.time() + 1, abs=1)
    event = asyncio.run(_first_event(deferred.value.trigger)).payload
    assert event["status"] == "timeout"
    with pytest.raises(AirflowTaskTimeout, match="execution_timeout of 1s"):
        operator.execute_complete({"ti": ti}, event)  # type: ignore[arg-type]
    name = event["execution_id"].rsplit(":", 1)[1]
    assert remote.wait(remote.fetch_execution(name=name), timeout=30, poll_interval=0.1).phase_name == "ABORTED"
    release("deferred-execution-timeout")  # frees the sandbox engine thread the aborted task held


def test_airflows_own_deferral_timeout_aborts_the_execution(remote: FlyteRemote) -> None:
    # Airflow's deferral timeout (the backstop when the triggerer is down) fails the task without calling
    # execute_complete: the operator aborts the execution before failing.
    ti = FakeTaskInstance("deferral_backstop")
    operator = FlyteOperator(
        task_id="deferral_backstop", launchplan_name=HOLD, inputs={"key": "deferral-backstop"}, deferrable=True
    )
    with pytest.raises(TaskDeferred):
        run(operator, ti)
    name = str(ti.xcoms[LINK]).rsplit("/", 1)[1]
    fresh = FlyteOperator(
        task_id="deferral_backstop", launchplan_name=HOLD, inputs={"key": "deferral-backstop"}, deferrable=True
    )
    with pytest.raises(AirflowException, match="Trigger timeout"):
        fresh.resume_execution("__fail__", {"error": "Trigger timeout"}, {"ti": ti})  # type: ignore[arg-type]
    assert remote.wait(remote.fetch_execution(name=name), timeout=30, poll_interval=0.1).phase_name == "ABORTED"
    release("deferral-backstop")


def poke_until_done(sensor: FlyteExecutionSensor, ti: FakeTaskInstance, pokes: list[int]) -> None:
    """Poke as Airflow's poke mode does, counting the pokes."""
    while not sensor.poke({"ti": ti}).is_done:  # type: ignore[arg-type]
        pokes.append(1)
        time.sleep(0.2)


def test_sensor_pokes_ride_out_an_outage_and_report_the_truth(remote: FlyteRemote, sandbox: Any) -> None:
    failed = remote.execute(remote.fetch_launch_plan(name="demo.always_fails"), inputs={"reason": "during outage"})
    sensor = FlyteExecutionSensor(task_id="sense_outage", execution_id=str(failed.id), outage_tolerance=30)
    ti = FakeTaskInstance("sense_outage")
    # Longer than one call's own retries (about 2 s), so the outage spans several pokes.
    sandbox.faults.fail(None, grpc.StatusCode.UNAVAILABLE, seconds=5)
    pokes: list[int] = []
    with pytest.raises(AirflowFailException, match=r"ended FAILED: .*during outage"):
        poke_until_done(sensor, ti, pokes)
    assert len(pokes) >= 2  # the outage was seen, and ridden out
    short = FlyteExecutionSensor(task_id="sense_short", execution_id=str(failed.id), outage_tolerance=0.5)
    sandbox.faults.fail(None, grpc.StatusCode.UNAVAILABLE, seconds=3)
    with pytest.raises(FlyteAdminUnreachableException, match=r"outage_tolerance=0.5 s"):
        poke_until_done(short, ti, [])
    sandbox.faults.clear()


def test_long_waits_log_progress_with_node_counts_between_phase_changes(
    remote: FlyteRemote, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deferred (the trigger) and on a worker (remote.wait): a line at least every PROGRESS_EVERY seconds."""
    monkeypatch.setattr("airflow_provider_flyte.progress.PROGRESS_EVERY", 0.3)
    held = remote.execute(remote.fetch_launch_plan(name=HOLD), inputs={"key": "progress"})
    trigger = FlyteExecutionTrigger(str(held.id), poll_interval=0.1)
    trigger._log = logging.getLogger("tests.progress")  # a stdlib logger, which caplog sees (Airflow's is structlog)
    progress_logged = threading.Event()

    def note_progress(record: logging.LogRecord) -> bool:
        if "is still RUNNING after" in record.getMessage():
            progress_logged.set()
        return True

    trigger._log.addFilter(note_progress)

    async def watch_then_release() -> Any:
        waiting = asyncio.create_task(_first_event(trigger))
        assert await asyncio.to_thread(progress_logged.wait, 20)
        release("progress")
        return (await waiting).payload

    with caplog.at_level(logging.INFO):
        event = asyncio.run(asyncio.wait_for(watch_then_release(), 30))
    assert event["phase"] == "SUCCEEDED"
    lines = [record.getMessage() for record in caplog.records if "is still RUNNING after" in record.getMessage()]
    assert lines[0].startswith(f"Flyte execution {held.id} is still RUNNING after ")
    assert "; nodes: 0 done, 1 running, 1 total (http" in lines[0], lines[0]

    caplog.clear()
    slow = remote.execute(remote.fetch_launch_plan(name=HOLD), inputs={"key": "progress-sync"})
    threading.Timer(1.5, release, args=("progress-sync",)).start()
    with caplog.at_level(logging.INFO):
        remote.wait(slow, poll_interval=0.1, timeout=30)
    lines = [record.getMessage() for record in caplog.records if "is still RUNNING after" in record.getMessage()]
    assert lines, caplog.text
    assert "nodes: 0 done, 1 running, 1 total" in lines[0]
