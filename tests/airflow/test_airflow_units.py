"""Names, options, events and trigger serialization: pure logic, no database, no network."""

from __future__ import annotations

import importlib
import json
import re

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.operators._options import build_options
from airflow_provider_flyte.operators.flyte import (
    FlyteExecutionFailedError,
    FlyteOperator,
    execution_name_for,
    retry_name,
    validate_event,
    validate_execution_name,
)
from airflow_provider_flyte.sensors.flyte import FlyteExecutionSensor
from airflow_provider_flyte.triggers.flyte import FlyteExecutionTrigger

pytestmark = pytest.mark.airflow

FLYTE_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


@pytest.mark.parametrize(
    ("dag_id", "run_id", "task_id", "map_index"),
    [
        ("etl", "manual__2026-01-01T00:00:00+00:00", "train_model", -1),
        ("ETL", "scheduled__x", "Group.UPPER_case.Task" * 6, 3),
        ("d", "r", "_-_", -1),
        ("d", "r", "9starts_with_digit", 0),
    ],
)
def test_execution_names_follow_admin_rules(dag_id: str, run_id: str, task_id: str, map_index: int) -> None:
    for generation in (1, 2, 10, 1000):
        name = execution_name_for(dag_id, run_id, task_id, map_index, generation)
        assert FLYTE_NAME.match(name), name
        assert len(name) <= 63
        assert validate_execution_name(name) == name


def test_execution_names_are_deterministic_and_distinct() -> None:
    name = execution_name_for("dag", "run", "task", -1)
    assert name == execution_name_for("dag", "run", "task", -1)
    others = {
        execution_name_for("dag", "run", "task", 0),
        execution_name_for("dag", "run", "task", 1),
        execution_name_for("dag", "run2", "task", -1),
        execution_name_for("dag2", "run", "task", -1),
        retry_name(name, 2),
    }
    assert name not in others
    assert len(others) == 5
    assert retry_name(name, 1) == name
    assert retry_name(name, 3) == f"{name}-r3"


@pytest.mark.parametrize("bad", ["Upper", "1abc", "a_b", "a" * 64, ""])
def test_invalid_execution_names_are_rejected(bad: str) -> None:
    with pytest.raises(FlyteInvalidInputException, match="execution_name"):
        validate_execution_name(bad)


def test_operator_needs_exactly_one_entity() -> None:
    with pytest.raises(FlyteInvalidInputException, match=r"exactly one of .* \(got none\)"):
        FlyteOperator(task_id="t")
    with pytest.raises(FlyteInvalidInputException, match="got launchplan_name, task_name"):
        FlyteOperator(task_id="t", launchplan_name="lp", task_name="tk")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"on_retry": "again"}, "on_retry='again' must be one of recover, relaunch, new"),
        ({"poll_interval": 0}, "poll_interval=0 must be a positive, finite number of seconds"),
        ({"poll_interval": float("nan")}, "poll_interval=nan must be a positive"),
        ({"timeout": -5}, "timeout=-5 must be a positive, finite number of seconds"),
        ({"outage_tolerance": "long"}, "outage_tolerance='long' must be a positive"),
    ],
)
def test_operator_rejects_bad_settings(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(FlyteInvalidInputException, match=re.escape(message)):
        FlyteOperator(task_id="t", launchplan_name="lp", **kwargs)  # type: ignore[arg-type]


def test_operator_templates_the_launch_arguments() -> None:
    for field in ("inputs", "launchplan_name", "task_name", "workflow_name", "version", "labels", "execution_name"):
        assert field in FlyteOperator.template_fields
    assert "execution_id" in FlyteExecutionSensor.template_fields


def test_build_options_converts_the_old_provider_arguments() -> None:
    options = build_options(
        task_id="t",
        labels={"team": "ml"},
        raw_output_data_config="s3://bucket/prefix",
        kubernetes_service_account="runner",
        iam_role="arn:aws:iam::123456789012:role/flyte",
        oauth2_client={"client_id": "svc", "client_secret": {"group": "oauth", "key": "secret"}},
        secrets=[{"group": "db", "key": "password", "mount_requirement": "env_var"}],
        notifications=[
            {"phases": ["failed"], "email": {"recipients_email": ["a@example.com"]}},
            {"phases": ["SUCCEEDED"], "pagerduty": {"recipients_email": ["p@example.com"]}},
        ],
    )
    security = options.security_context
    assert security is not None
    assert security.run_as.k8s_service_account == "runner"
    assert security.run_as.iam_role == "arn:aws:iam::123456789012:role/flyte"
    assert security.run_as.oauth2_client.client_secret.group == "oauth"
    assert security.secrets[0].key == "password"
    assert security.secrets[0].mount_requirement == 1
    first, second = options.notifications or []
    assert first.WhichOneof("type") == "email"  # exactly one channel per notification (0.0.5 set all three)
    assert second.WhichOneof("type") == "pager_duty"
    assert options.raw_output_data_config == "s3://bucket/prefix"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"labels": ["x"]}, "t: labels=['x'] must be a mapping"),
        ({"secrets": [{"key": "k"}]}, "t: secrets[0]="),
        ({"notifications": [{"phases": ["FAILED"], "email": {}, "slack": {}}]}, "exactly one of"),
        ({"notifications": [{"phases": ["DONE"], "email": ["a@b.c"]}]}, "notifications[0].phases"),
        ({"oauth2_client": {"client_id": "c", "client_secret": "plain"}}, "oauth2_client.client_secret"),
        ({"max_parallelism": -1}, "max_parallelism=-1"),
    ],
)
def test_build_options_names_the_bad_argument(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(FlyteInvalidInputException, match=re.escape(message)):
        build_options(task_id="t", **kwargs)


def test_trigger_serializes_to_plain_json_and_round_trips() -> None:
    trigger = FlyteExecutionTrigger(
        execution_id="ex:flytesnacks:development:abc",
        flyte_conn_id="my_flyte",
        poll_interval=3,
        deadline=1_900_000_000.5,
        target_phases=["succeeded", "RUNNING"],
        terminate_on_kill=False,
        outage_tolerance=45,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_flyte.triggers.flyte.FlyteExecutionTrigger"
    assert kwargs == {
        "execution_id": "ex:flytesnacks:development:abc",
        "flyte_conn_id": "my_flyte",
        "poll_interval": 3.0,
        "deadline": 1_900_000_000.5,
        "target_phases": ["SUCCEEDED", "RUNNING"],
        "terminate_on_kill": False,
        "outage_tolerance": 45.0,
    }
    assert json.loads(json.dumps(kwargs)) == kwargs
    module, _, name = classpath.rpartition(".")
    again = getattr(importlib.import_module(module), name)(**kwargs)  # as the triggerer re-creates it
    assert again.serialize() == (classpath, kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"execution_id": "flytesnacks:development:abc"}, "parts"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"deadline": "soon"}, "deadline"),
        ({"target_phases": ["DONE"]}, "unknown phase 'DONE'"),
        ({"outage_tolerance": float("inf")}, "outage_tolerance=inf must be a positive, finite number"),
    ],
)
def test_trigger_rejects_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"execution_id": "ex:p:d:n", **kwargs}
    with pytest.raises(FlyteInvalidInputException, match=message):
        FlyteExecutionTrigger(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (None, "no usable event"),
        ({"status": "done", "execution_id": "ex:p:d:n"}, "status='done'"),
        ({"status": "success"}, "execution_id=None"),
        ({"status": "success", "execution_id": "p:d:n"}, "execution_id='p:d:n'"),
    ],
)
def test_malformed_events_fail_loudly(event: object, message: str) -> None:
    with pytest.raises(AirflowException, match=re.escape(message)):
        validate_event(event)


def test_execute_complete_raises_with_phase_message_and_url_for_failed_events() -> None:
    operator = FlyteOperator(task_id="t", launchplan_name="lp")
    event = {
        "status": "failed",
        "phase": "FAILED",
        "execution_id": "ex:p:d:n",
        "message": "ValueError: boom",
        "console_url": "http://console/x",
    }
    with pytest.raises(FlyteExecutionFailedError) as error:
        operator.execute_complete({}, event)  # type: ignore[arg-type]
    assert str(error.value) == "Flyte execution ex:p:d:n ended FAILED: ValueError: boom (see http://console/x)"
    assert (error.value.phase, error.value.console_url) == ("FAILED", "http://console/x")
    with pytest.raises(AirflowException, match="Watching Flyte execution ex:p:d:n failed: lost"):
        operator.execute_complete({}, {"status": "error", "execution_id": "ex:p:d:n", "message": "lost"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ("numbers=1", "inputs='numbers=1' must be a mapping of input names to values, not str; a template renders"),
        ([1, 2], "inputs=[1, 2] must be a mapping of input names to values, not list"),
    ],
)
def test_inputs_that_rendered_to_something_else_fail_before_any_call(inputs: object, message: str) -> None:
    # The connection does not exist: reaching it would fail differently, so the check comes first.
    operator = FlyteOperator(task_id="t", launchplan_name="lp", inputs=inputs, flyte_conn_id="no_such_connection")  # type: ignore[arg-type]
    with pytest.raises(FlyteInvalidInputException, match=re.escape(f"t: {message}")):
        operator.execute({"ti": None})  # type: ignore[arg-type]
