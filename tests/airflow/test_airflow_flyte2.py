"""FlyteOperator, FlyteExecutionSensor and Flyte2RunTrigger on a Flyte 2 connection, against the Flyte 2 sandbox."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, TaskDeferred

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.operators.flyte import FlyteExecutionFailedError, FlyteOperator
from airflow_provider_flyte.sensors.flyte import FlyteExecutionSensor
from airflow_provider_flyte.triggers.flyte2 import Flyte2RunTrigger
from tests.support.airflow_fakes import FakeTaskInstance

sandbox_v2 = pytest.importorskip("flyte_admin_sandbox.v2")
from flyteidl2.common import identifier_pb2  # noqa: E402
from flyteidl2.task import task_service_pb2  # noqa: E402
from flyteidl2.trigger import trigger_definition_pb2, trigger_service_pb2  # noqa: E402

from tests.sandbox_v2.v2_helpers import inputs, spec, task_id  # noqa: E402

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(90)]

PROJECT, DOMAIN, TASK = "flytesnacks", "development", "env.double"
LINK = "_link_FlyteConsoleLink"


@pytest.fixture
def v2(flyte2_sandbox: Any, flyte_connection: Any) -> Any:
    """The sandbox with ``env.double`` (x -> 2x) deployed at v1 and v2 (v2 adds 1), and ``flyte_default`` on it."""
    from airflow_provider_flyte.clients.v2 import Flyte2Client

    flyte_connection(
        flyte2_sandbox.grpc_endpoint,
        project=PROJECT,
        domain=DOMAIN,
        backend="flyte2",
        console_endpoint=flyte2_sandbox.connect_endpoint,
    )
    flyte2_sandbox.behave(TASK, function=lambda x: x * 2)
    with Flyte2Client(f"{flyte2_sandbox.grpc_endpoint}", insecure=True) as client:
        for version in ("v1", "v2"):
            request = task_service_pb2.DeployTaskRequest(task_id=task_id(TASK, version), spec=spec(TASK, version))
            client.raw.task_service.DeployTask(request)
    return flyte2_sandbox


def run(operator: Any, ti: FakeTaskInstance) -> dict[str, Any]:
    return operator.execute(context(ti))  # type: ignore[no-any-return]


def context(ti: FakeTaskInstance) -> Any:
    """A task context holding only ``ti`` (what the operators read)."""
    return {"ti": ti}


def run_names(sandbox: Any, prefix: str) -> list[str]:
    from airflow_provider_flyte.clients.v2 import Flyte2Client

    with Flyte2Client(sandbox.grpc_endpoint, insecure=True) as client:
        runs, _ = client.list_runs(PROJECT, DOMAIN)
    return sorted(r.action.id.run.name for r in runs if r.action.id.run.name.startswith(prefix))


def test_launch_latest_and_pinned_versions_with_outputs_and_link(v2: Any) -> None:
    ti = FakeTaskInstance("double")
    result = run(FlyteOperator(task_id="double", task_name=TASK, inputs={"x": 21}, poll_interval=0.1), ti)
    assert result["phase"] == "SUCCEEDED"
    assert result["outputs"] == {"o0": 42}
    assert result["run_id"] == f"{PROJECT}:{DOMAIN}:{result['name']}"
    assert len(result["name"]) <= 30
    assert ti.xcoms[LINK] == result["console_url"] == v2.run_url(PROJECT, DOMAIN, result["name"])
    pinned = FlyteOperator(task_id="pinned", task_name=TASK, version="v1", inputs={"x": 2}, poll_interval=0.1)
    assert run(pinned, FakeTaskInstance("pinned"))["outputs"] == {"o0": 4}


def test_retry_reattaches_to_the_same_run(v2: Any) -> None:
    first = run(
        FlyteOperator(task_id="again", task_name=TASK, inputs={"x": 1}, poll_interval=0.1), FakeTaskInstance("again")
    )
    retry = FlyteOperator(task_id="again", task_name=TASK, inputs={"x": 1}, poll_interval=0.1)
    second = run(retry, FakeTaskInstance("again", try_number=2))
    assert second["name"] == first["name"]
    assert run_names(v2, "af-again") == [first["name"]]


def test_failed_run_is_followed_by_the_next_generation(v2: Any) -> None:
    v2.behave(TASK, fail="boom")
    with pytest.raises(FlyteExecutionFailedError, match="FAILED"):
        run(
            FlyteOperator(task_id="flaky", task_name=TASK, inputs={"x": 1}, poll_interval=0.1),
            FakeTaskInstance("flaky"),
        )
    v2.behave(TASK, function=lambda x: x * 2)
    retry = FlyteOperator(task_id="flaky", task_name=TASK, inputs={"x": 1}, poll_interval=0.1, on_retry="relaunch")
    result = run(retry, FakeTaskInstance("flaky", try_number=2))
    assert result["name"].endswith("-r2")
    assert result["outputs"] == {"o0": 2}


def test_bad_input_is_refused_before_any_run(v2: Any) -> None:
    operator = FlyteOperator(task_id="bad", task_name=TASK, inputs={"x": "two"})
    with pytest.raises(FlyteInvalidInputException, match="x"):
        run(operator, FakeTaskInstance("bad"))
    assert run_names(v2, "af-bad") == []


def test_timeout_aborts_the_run(v2: Any) -> None:
    v2.behave(TASK, hang=True)
    operator = FlyteOperator(task_id="slow", task_name=TASK, inputs={"x": 1}, poll_interval=0.1, timeout=1)
    with pytest.raises(AirflowException, match="timeout"):
        run(operator, FakeTaskInstance("slow"))
    (name,) = run_names(v2, "af-slow")
    record = v2.wait(identifier_pb2.RunIdentifier(project=PROJECT, domain=DOMAIN, name=name))
    assert record.phase == 7  # ACTION_PHASE_ABORTED


def test_a_worker_wait_logs_phase_changes_and_progress_lines(
    v2: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("airflow_provider_flyte.progress.PROGRESS_EVERY", 0.3)
    v2.behave(TASK, hang=True)
    operator = FlyteOperator(task_id="held", task_name=TASK, inputs={"x": 5}, poll_interval=0.1)
    # A stdlib logger, which caplog sees (Airflow's is structlog; 3.3+ caches it as _cached_logger, before as _log).
    operator._log = operator._cached_logger = logger = logging.getLogger("tests.flyte2.progress")
    progressed = threading.Event()

    def note_progress(record: logging.LogRecord) -> bool:
        if " is still RUNNING after " in record.getMessage():
            progressed.set()
        return True

    def finish_once_a_progress_line_was_logged() -> None:
        progressed.wait(20)  # a hang guard: without a line, the run finishes anyway and the test fails below
        v2.behave(TASK, function=lambda x: x * 2)

    logger.addFilter(note_progress)
    finishing = threading.Thread(target=finish_once_a_progress_line_was_logged, daemon=True)
    finishing.start()
    ti = FakeTaskInstance("held")
    with caplog.at_level(logging.INFO):
        result = run(operator, ti)
    finishing.join()
    assert result["outputs"] == {"o0": 10}
    run_id, url = result["run_id"], ti.xcoms[LINK]
    lines = [record.getMessage() for record in caplog.records]
    assert f"Flyte 2 run {run_id} is RUNNING ({url})" in lines
    assert f"Flyte 2 run {run_id} is SUCCEEDED ({url})" in lines
    progress = [line for line in lines if " is still RUNNING after " in line]
    assert progress, lines
    assert progress[0].startswith(f"Flyte 2 run {run_id} is still RUNNING after ")
    assert progress[0].endswith(f"s ({url})")  # no node counts: Flyte 2 runs have actions, not counted here


def test_v1_only_features_are_refused_naming_the_backend(v2: Any) -> None:
    with pytest.raises(FlyteInvalidInputException, match=r"launchplan_name.*'flyte2'"):
        FlyteOperator(task_id="lp", launchplan_name="demo.pipeline", backend="flyte2")
    with pytest.raises(FlyteInvalidInputException, match=r"iam_role= is a Flyte 1 feature .*'flyte2'"):
        FlyteOperator(task_id="role", task_name=TASK, iam_role="arn:aws:iam::1:role/r", backend="flyte2")
    with pytest.raises(FlyteInvalidInputException, match=r"trigger_name.*'flyte1'"):
        FlyteOperator(task_id="tr", task_name=TASK, trigger_name="nightly", backend="flyte1")
    late = FlyteOperator(task_id="notify", task_name=TASK, notifications=[{"phases": ["FAILED"], "email": {}}])
    with pytest.raises(FlyteInvalidInputException, match=r"notifications.*'flyte2'"):
        run(late, FakeTaskInstance("notify"))  # the backend comes from the connection: refused before launching
    assert run_names(v2, "af-notify") == []


def test_trigger_by_name_runs_with_its_inputs(v2: Any) -> None:
    from airflow_provider_flyte.clients.v2 import Flyte2Client

    name = identifier_pb2.TriggerName(project=PROJECT, domain=DOMAIN, task_name=TASK, name="nightly")
    with Flyte2Client(v2.grpc_endpoint, insecure=True) as client:
        request = trigger_service_pb2.DeployTriggerRequest(
            name=name, spec=trigger_definition_pb2.TriggerSpec(active=True, inputs=inputs(x=5))
        )
        client.raw.trigger_service.DeployTrigger(request)
    operator = FlyteOperator(task_id="nightly", task_name=TASK, trigger_name="nightly", poll_interval=0.1)
    assert run(operator, FakeTaskInstance("nightly"))["outputs"] == {"o0": 10}


def test_deferrable_launch_and_trigger_and_sensor(v2: Any, caplog: pytest.LogCaptureFixture) -> None:
    ti = FakeTaskInstance("deferred")
    operator = FlyteOperator(task_id="deferred", task_name=TASK, inputs={"x": 3}, deferrable=True, poll_interval=0.1)
    with pytest.raises(TaskDeferred) as deferred:
        run(operator, ti)
    trigger = deferred.value.trigger
    assert isinstance(trigger, Flyte2RunTrigger)
    _, kwargs = trigger.serialize()
    assert kwargs["terminate_on_kill"] is True

    async def first_event() -> dict[str, Any]:
        async for event in trigger.run():
            return event.payload  # type: ignore[no-any-return]
        raise AssertionError("no event")

    event = asyncio.run(first_event())
    assert event["status"] == "success"
    with caplog.at_level(logging.INFO):
        result = operator.execute_complete(context(ti), event)
    assert result["outputs"] == {"o0": 6}
    # One line marks the task back on a worker, with the outcome and where to look.
    resumed = [record.getMessage() for record in caplog.records if record.getMessage().startswith("Resumed")]
    run_id, url = result["run_id"], ti.xcoms[LINK]
    assert resumed == [f"Resumed after Flyte2RunTrigger: Flyte 2 run {run_id} is SUCCEEDED ({url})"]
    sensor = FlyteExecutionSensor(task_id="watch", execution_id=result, poke_interval=0.1, timeout=30)
    assert sensor.execute(context(FakeTaskInstance("watch")))["run_id"] == result["run_id"]
    by_name = FlyteExecutionSensor(task_id="watch2", execution_id=result["name"], poke_interval=0.1, timeout=30)
    assert by_name.execute(context(FakeTaskInstance("watch2")))["phase"] == "SUCCEEDED"


def test_operator_runs_a_task_the_flyte_sdk_deployed(flyte2_sandbox: Any, flyte_connection: Any) -> None:
    from pathlib import Path

    from tests.sandbox_v2.conftest import require_flyte

    require_flyte()
    import flyte

    from tests.sandbox_v2 import sdk_v2_tasks

    flyte.init(
        endpoint=flyte2_sandbox.connect_endpoint,
        insecure=True,
        project=PROJECT,
        domain=DOMAIN,
        root_dir=Path(__file__).resolve().parents[2],
    )
    flyte.deploy(sdk_v2_tasks.env, version="sdk1", copy_style="none")
    flyte2_sandbox.behave("sbx.add", function=lambda x, y=2: x + y)
    flyte_connection(flyte2_sandbox.grpc_endpoint, project=PROJECT, domain=DOMAIN, backend="flyte2")
    operator = FlyteOperator(task_id="sdk_add", task_name="sbx.add", inputs={"x": 40}, poll_interval=0.1)
    result = run(operator, FakeTaskInstance("sdk_add"))
    assert result["outputs"] == {"o0": 42}  # y took the default the SDK deployed


def _flyte1_only_task(kind: str) -> Any:
    from airflow_provider_flyte.operators.approval import FlyteApprovalOperator
    from airflow_provider_flyte.operators.backfill import FlyteBackfillOperator
    from airflow_provider_flyte.operators.signal import FlyteSignalOperator
    from airflow_provider_flyte.sensors.signal import FlyteSignalSensor

    execution = f"ex:{PROJECT}:{DOMAIN}:somerun"
    if kind == "signal":
        return FlyteSignalOperator(task_id="set_gate", execution_id=execution, signal_id="go", action="approve")
    if kind == "approval":
        return FlyteApprovalOperator(task_id="ask", execution_id=execution, signal_id="go")
    if kind == "backfill":
        return FlyteBackfillOperator(
            task_id="replay", launchplan_name="nightly", from_date="2026-01-01", to_date="2026-01-03"
        )
    return FlyteSignalSensor(task_id="wait_gate", execution_id=execution, signal_id="go")


@pytest.mark.parametrize("kind", ["signal", "approval", "backfill", "signal_sensor"])
def test_flyte1_only_tasks_refuse_a_flyte2_connection_before_sending_anything(v2: Any, kind: str) -> None:
    task = _flyte1_only_task(kind)
    with pytest.raises(AirflowException, match=r"Flyte 1 .* but connection 'flyte_default' has backend 'flyte2'"):
        task.execute(context(FakeTaskInstance(task.task_id)))
    assert run_names(v2, "") == []  # nothing launched


def test_recover_retry_is_a_new_run_related_to_the_failed_one(v2: Any) -> None:
    from flyteidl2.common import run_pb2 as common_run_pb2

    from airflow_provider_flyte.clients.v2 import Flyte2Client

    v2.behave(TASK, fail="boom")
    with pytest.raises(FlyteExecutionFailedError, match="FAILED"):
        run(FlyteOperator(task_id="mend", task_name=TASK, inputs={"x": 4}, poll_interval=0.1), FakeTaskInstance("mend"))
    (failed,) = run_names(v2, "af-mend")
    v2.behave(TASK, function=lambda x: x * 2)
    retry = FlyteOperator(task_id="mend", task_name=TASK, inputs={"x": 4}, poll_interval=0.1, on_retry="recover")
    result = run(retry, FakeTaskInstance("mend", try_number=2))
    assert result["name"] == f"{failed}-r2"
    assert result["phase"] == "SUCCEEDED"
    assert result["outputs"] == {"o0": 8}  # the failed run's root action again, with its inputs
    with Flyte2Client(v2.grpc_endpoint, insecure=True) as client:
        details = client.get_run_details(result["run_id"])
    assert details.run_spec.related_to.name == failed
    assert details.run_spec.relation.relation_type == common_run_pb2.RELATION_TYPE_RECOVER  # as the flyte SDK sends
    assert details.action.metadata.relation.related_to.name == failed
    assert details.action.metadata.relation.relation_type == common_run_pb2.RELATION_TYPE_RECOVER
    assert run_names(v2, "af-mend") == [failed, result["name"]]
