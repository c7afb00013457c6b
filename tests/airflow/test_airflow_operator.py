"""FlyteOperator and FlyteExecutionSensor against the sandbox, called directly (no metadata database)."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred
from airflow_hold_tasks import LAUNCH_PLAN as HOLD
from airflow_hold_tasks import release
from conftest import FakeStateStore, FakeTaskInstance

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.hooks.flyte import FlyteHook
from airflow_provider_flyte.operators.flyte import STATE_STORE_KEY, FlyteExecutionFailedError, FlyteOperator
from airflow_provider_flyte.remote import FlyteRemote
from airflow_provider_flyte.sensors.flyte import FlyteExecutionSensor
from airflow_provider_flyte.triggers.flyte import FlyteExecutionTrigger

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


def test_inputs_are_checked_before_anything_is_launched(remote: FlyteRemote) -> None:
    operator = FlyteOperator(task_id="bad_inputs", launchplan_name="demo.pipeline", inputs={"numbers": "1,2"})
    with pytest.raises(FlyteInvalidInputException, match="numbers"):
        run(operator, FakeTaskInstance("bad_inputs"))
    assert names(remote, "af-bad-inputs") == []


def test_failure_raises_with_phase_flyte_message_and_url() -> None:
    ti = FakeTaskInstance("fails")
    operator = FlyteOperator(task_id="fails", launchplan_name="demo.always_fails", poll_interval=0.1)
    with pytest.raises(FlyteExecutionFailedError) as error:
        run(operator, ti)
    assert error.value.phase == "FAILED"
    assert "ValueError: demo failure: this run was meant to fail" in str(error.value)
    assert error.value.console_url == ti.xcoms[LINK]
    assert str(error.value.console_url) in str(error.value)


def test_deferrable_launch_defers_with_the_right_trigger_and_completes(remote: FlyteRemote) -> None:
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
    result = operator.execute_complete({"ti": ti}, event)  # type: ignore[arg-type]
    assert result["outputs"] == {"o0": "released deferred"}


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
