"""The 0.0.5 import package ``flyte_provider``: deprecation warnings, 0.0.5's behaviour, typed argument errors.

The classes are called directly against the sandbox (no metadata database); ``test_legacy_example_dags`` runs the
0.0.5 DAGs with ``dag.test()``.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import re
import subprocess
import sys
import warnings
from typing import Any

import pytest
from airflow.exceptions import AirflowProviderDeprecationWarning
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException
from airflow_hold_tasks import LAUNCH_PLAN as HOLD
from airflow_hold_tasks import release

from airflow_provider_flyte.exceptions import FlyteConfigurationException, FlyteInvalidInputException
from airflow_provider_flyte.get_provider_info import get_provider_info as new_provider_info
from airflow_provider_flyte.remote import FlyteRemote
from flyte_provider import LegacyParameterError, get_provider_info
from flyte_provider.hooks.flyte import FlyteHook
from flyte_provider.operators.flyte import FlyteOperator
from flyte_provider.sensors.flyte import FlyteSensor
from tests.support.airflow_fakes import FakeTaskInstance

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(90)]

PROJECT, DOMAIN = "flytesnacks", "development"
LINK = "_link_FlyteConsoleLink"
NEW_OPERATOR = "from airflow_provider_flyte.operators.flyte import FlyteOperator"
NEW_SENSOR = "from airflow_provider_flyte.sensors.flyte import FlyteExecutionSensor"
NEW_HOOK = "from airflow_provider_flyte.hooks.flyte import FlyteHook"


def quietly(factory: Any, /, **kwargs: Any) -> Any:
    """``factory(**kwargs)`` without its deprecation warning (checked once, in its own test)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AirflowProviderDeprecationWarning)
        return factory(**kwargs)


@pytest.fixture
def remote(sandbox: Any) -> Any:
    with FlyteRemote(sandbox.config, PROJECT, DOMAIN) as flyte:
        yield flyte


# ---------------------------------------------------------------------- deprecation warnings


@pytest.mark.parametrize(
    ("make", "old", "new"),
    [
        (
            lambda: FlyteOperator(task_id="w", launchplan_name="lp"),
            "flyte_provider.operators.flyte.FlyteOperator",
            NEW_OPERATOR,
        ),
        (lambda: FlyteSensor(task_id="w", execution_name="a1"), "flyte_provider.sensors.flyte.FlyteSensor", NEW_SENSOR),
        (lambda: FlyteHook("flyte_default"), "flyte_provider.hooks.flyte.FlyteHook", NEW_HOOK),
        (get_provider_info, "flyte_provider.get_provider_info", "from airflow_provider_flyte.get_provider_info import"),
    ],
    ids=["operator", "sensor", "hook", "get_provider_info"],
)
def test_each_old_name_warns_naming_its_new_import(make: Any, old: str, new: str) -> None:
    with pytest.warns(AirflowProviderDeprecationWarning) as caught:
        make()
    (warning,) = [w for w in caught if issubclass(w.category, AirflowProviderDeprecationWarning)]
    assert old in str(warning.message)
    assert new in str(warning.message)
    assert "docs/migration.md" in str(warning.message)
    assert warning.filename == __file__  # attributed to the line that used the old name (the DAG file)


def test_provider_info_is_the_new_providers_and_only_it_is_registered() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AirflowProviderDeprecationWarning)
        assert get_provider_info() == new_provider_info()
    entry_points = importlib.metadata.entry_points(group="apache_airflow_provider")
    assert not [entry for entry in entry_points if entry.value.startswith("flyte_provider")]


_PROBE = """
import json, sys
for name in sys.argv[1:]:
    __import__(name)
heavy = {m.split(".")[0] for m in sys.modules if m.startswith(("grpc", "flyteidl", "google.protobuf"))}
print(json.dumps(sorted(heavy)))
"""


def test_old_modules_keep_dag_parsing_light() -> None:
    modules = ["flyte_provider", *(f"flyte_provider.{kind}.flyte" for kind in ("hooks", "operators", "sensors"))]
    out = subprocess.run([sys.executable, "-c", _PROBE, *modules], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []


# ---------------------------------------------------------------------- 0.0.5's behaviour


@pytest.mark.usefixtures("sandbox_connection")
def test_operator_returns_the_execution_name_without_waiting(remote: FlyteRemote) -> None:
    ti = FakeTaskInstance("legacy_hold")
    operator = quietly(FlyteOperator, task_id="legacy_hold", launchplan_name=HOLD, inputs={"key": "legacy-hold"})
    try:
        name = operator.execute({"ti": ti})
        assert isinstance(name, str)
        execution = remote.fetch_execution(name=name)
        assert not execution.is_done  # returned while the execution still runs
        assert ti.xcoms[LINK].endswith(f"/executions/{name}")
        # A retry of the task finds the execution its first try launched, instead of launching another.
        assert operator.execute({"ti": FakeTaskInstance("legacy_hold", try_number=2)}) == name
        sensor = quietly(FlyteSensor, task_id="legacy_wait", execution_name=name, project=PROJECT, domain=DOMAIN)
        assert not sensor.poke({"ti": FakeTaskInstance("legacy_wait")}).is_done
    finally:
        release("legacy-hold")
    assert remote.wait(execution, timeout=30, poll_interval=0.1).phase_name == "SUCCEEDED"
    assert sensor.poke({"ti": FakeTaskInstance("legacy_wait")}).is_done
    assert [e.id.name for e in remote.list_executions() if e.id.name.startswith("af-legacy-hold-")] == [name]


@pytest.mark.usefixtures("sandbox_connection")
def test_sensor_fails_when_the_execution_fails(remote: FlyteRemote) -> None:
    operator = quietly(FlyteOperator, task_id="legacy_fails", launchplan_name="demo.always_fails")
    # Like 0.0.5, the operator succeeds even when the execution failed before its launch was answered.
    name = operator.execute({"ti": FakeTaskInstance("legacy_fails")})
    assert isinstance(name, str)
    remote.wait(remote.fetch_execution(name=name), timeout=30, poll_interval=0.1)
    sensor = quietly(FlyteSensor, task_id="legacy_sense", execution_name=name)
    with pytest.raises(AirflowFailException, match=f"{name} ended FAILED"):
        sensor.poke({"ti": FakeTaskInstance("legacy_sense")})


def test_old_notifications_become_one_per_channel_with_phase_names() -> None:
    operator = quietly(
        FlyteOperator,
        task_id="notify",
        launchplan_name="lp",
        notifications=[{"phases": [4, "FAILED"], "email": {"recipients_email": ["a@x"]}, "slack": ["b@x"]}],
        raw_data_prefix="s3://bucket/raw",
    )
    assert operator.notifications == [
        {"phases": ["SUCCEEDED", "FAILED"], "email": {"recipients_email": ["a@x"]}},
        {"phases": ["SUCCEEDED", "FAILED"], "slack": ["b@x"]},
    ]
    assert operator.raw_output_data_config == "s3://bucket/raw"
    assert (operator.wait_for_completion, operator.deferrable, operator.on_retry) == (False, False, "new")


# ---------------------------------------------------------------------- the old hook


def test_hook_triggers_checks_and_terminates_like_0_0_5(
    sandbox: Any, flyte_connection: Any, remote: FlyteRemote, caplog: pytest.LogCaptureFixture
) -> None:
    # The extras 0.0.5's hook read that configured flytekit's storage and stats are accepted and ignored.
    conn_id = flyte_connection(
        sandbox.endpoint, conn_id="flyte_legacy", project=PROJECT, domain=DOMAIN, statsd_disabled=True, s3_retries=3
    )
    hook = quietly(FlyteHook, flyte_conn_id=conn_id)
    assert hook.flyte_conn.conn_type == "flyte"
    with caplog.at_level(logging.WARNING):
        hook.trigger_execution("a0legacyhook", launchplan_name=HOLD, inputs={"key": "legacy-hook"})
    assert "s3_retries, statsd_disabled" in caplog.text
    try:
        assert hook.execution_status("a0legacyhook", hook.create_flyte_remote()) is False
        hook.terminate("a0legacyhook", cause="Killed by Airflow")
        remote.wait(remote.fetch_execution(name="a0legacyhook"), timeout=30, poll_interval=0.1)
        with pytest.raises(AirflowException, match="Execution a0legacyhook aborted"):
            hook.execution_status("a0legacyhook", None)
    finally:
        release("legacy-hook")
    with pytest.raises(AirflowException, match="Failed to fetch entity") as raised:
        hook.trigger_execution("a0legacymissing", task_name="no.such.task")
    assert raised.value.__cause__ is not None
    assert (hook.SUCCEEDED, hook.FAILED, hook.ABORTED, hook.TIMED_OUT) == (4, 6, 7, 8)


def test_hook_names_an_unknown_connection_extra(sandbox: Any, flyte_connection: Any) -> None:
    conn_id = flyte_connection(sandbox.endpoint, conn_id="flyte_typo", projet=PROJECT)
    with pytest.raises(FlyteConfigurationException, match=r"unknown extra key.*projet"):
        _ = quietly(FlyteHook, flyte_conn_id=conn_id).platform_config


# ---------------------------------------------------------------------- typed errors


@pytest.mark.parametrize(
    ("arguments", "argument", "message"),
    [
        ({"launch_plan_name": "lp"}, "launch_plan_name", "did you mean 'launchplan_name'?"),
        ({"launchplan_name": "lp", "retrys": 2}, "retrys", "did you mean 'retries'?"),
        ({"launchplan_name": "lp", "flavour": 1}, "flavour", "is not an argument of the 0.0.5 class; remove it"),
        ({"launchplan_name": "lp", "wait_for_completion": True}, "wait_for_completion", re.escape(NEW_OPERATOR)),
        ({"launchplan_name": "lp", "deferrable": True}, "deferrable", re.escape(NEW_OPERATOR)),
        ({"workflow_name": "wf"}, "workflow_name", re.escape(NEW_OPERATOR)),
        ({"launchplan_name": "lp", "execution_name": "a1"}, "execution_name", re.escape(NEW_OPERATOR)),
        ({"launchplan_name": "lp", "task_name": "t"}, "task_name", "given together with launchplan_name='lp'"),
        ({}, "launchplan_name", "and task_name are both missing"),
        (
            {"launchplan_name": "lp", "oauth2_client": {"client_id": "1", "client_secret": "s3cr3t"}},
            "oauth2_client.client_secret",
            r"'\*\*\*' is a text.*\{'group'",
        ),
        (
            {"launchplan_name": "lp", "notifications": [{"phases": [12], "email": ["a@x"]}]},
            r"notifications\[0\].phases",
            "no workflow phase",
        ),
        (
            {"launchplan_name": "lp", "raw_data_prefix": "s3://a", "raw_output_data_config": "s3://b"},
            "raw_data_prefix",
            "keep one of them",
        ),
    ],
)
def test_operator_refuses_bad_arguments_naming_them(arguments: dict[str, Any], argument: str, message: str) -> None:
    with pytest.raises(
        LegacyParameterError, match=rf"FlyteOperator\(task_id='bad'\): {argument}=.*{message}"
    ) as raised:
        quietly(FlyteOperator, task_id="bad", **arguments)
    assert isinstance(raised.value, FlyteInvalidInputException)
    assert isinstance(raised.value, TypeError)
    assert raised.value.argument == argument.replace("\\", "")
    assert "s3cr3t" not in str(raised.value)


@pytest.mark.parametrize(
    ("arguments", "argument", "message"),
    [
        ({"execution_id": "a1"}, "execution_id", re.escape(NEW_SENSOR)),
        ({"target_phases": ["FAILED"]}, "target_phases", re.escape(NEW_SENSOR)),
        ({"deferrable": True}, "deferrable", re.escape(NEW_SENSOR)),
        ({"poke_intervall": 5}, "poke_intervall", "did you mean 'poke_interval'?"),
    ],
)
def test_sensor_refuses_bad_arguments_naming_them(arguments: dict[str, Any], argument: str, message: str) -> None:
    with pytest.raises(LegacyParameterError, match=rf"FlyteSensor\(task_id='bad'\): {argument}=.*{message}"):
        quietly(FlyteSensor, task_id="bad", execution_name="a1", **arguments)


@pytest.mark.usefixtures("sandbox_connection")
def test_bad_old_values_checked_at_launch_name_the_argument() -> None:
    operator = quietly(FlyteOperator, task_id="bad_secret", launchplan_name=HOLD, secrets=[{"key": "no-group"}])
    with pytest.raises(FlyteInvalidInputException, match=r"bad_secret: secrets\[0\]"):
        operator.execute({"ti": FakeTaskInstance("bad_secret")})
