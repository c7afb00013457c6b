# ruff: noqa: F811  (the shared DAG-test fixtures are imported from test_airflow_dags and used as parameters)
"""Signals from Airflow through ``dag.test()`` against the sandbox's ``demo.gated_publish`` gates."""

from __future__ import annotations

from typing import Any

import pytest
from test_airflow_dags import airflow_db, dags, remote, state, task_instances, xcom  # noqa: F401 (fixtures)

from airflow_provider_flyte.remote import FlyteRemote
from tests.support.airflow_env import AIRFLOW_ISOLATED

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not AIRFLOW_ISOLATED, reason="Airflow was imported before its test home could be set up"),
]


def signal_values(remote: FlyteRemote, execution_id: str) -> dict[str, Any]:
    """Signal id -> whether it has a value, as Admin lists them."""
    return {s.id.signal_id: s.HasField("value") for s in remote.list_signals(execution_id)}


def test_example_approves_and_types_in_the_title(dags: dict[str, Any], remote: FlyteRemote) -> None:
    run = dags["example_flyte_signals"].test()
    assert {key[0]: state(ti) for key, ti in task_instances(run).items()} == {
        "start_gated_publish": "success",
        "wait_for_approval_gate": "success",
        "approve_report": "success",
        "set_title": "success",
        "wait_for_publish": "success",
    }
    execution_id = xcom(run, "start_gated_publish")
    asked = xcom(run, "wait_for_approval_gate")
    assert asked["signal_id"] == "approve-report"
    assert (asked["kind"], asked["type"], asked["literal_type"], asked["is_set"]) == (
        "approval",
        "bool",
        {"simple": "BOOLEAN"},
        False,
    )
    assert xcom(run, "set_title")["kind"] == "input"
    execution = remote.fetch_execution(name=execution_id.rsplit(":", 1)[1])
    assert execution.phase_name == "SUCCEEDED"
    assert execution.outputs["o0"].startswith("Weekly numbers (")
    assert signal_values(remote, execution_id) == {"approve-report": True, "title": True}


def test_rejection_fails_the_gate(dags: dict[str, Any], remote: FlyteRemote) -> None:
    run = dags["flyte_test_signal_reject"].test()
    assert {key[0]: state(ti) for key, ti in task_instances(run).items()} == {
        "start_gated": "success",
        "reject": "success",
    }
    name = xcom(run, "start_gated").rsplit(":", 1)[1]
    execution = remote.wait(remote.fetch_execution(name=name), timeout=60, poll_interval=0.1)
    assert execution.phase_name == "FAILED"
    approval = remote.list_signals(name, filters="eq(signal_id,approve-report)")[0]
    assert approval.value.scalar.primitive.boolean is False


def test_input_signal_with_an_explicit_python_type(dags: dict[str, Any], remote: FlyteRemote) -> None:
    run = dags["flyte_test_signal_typed"].test()
    assert {state(ti) for ti in task_instances(run).values()} == {"success"}
    pending = xcom(run, "title_pending")
    assert (pending["signal_id"], pending["kind"], pending["type"]) == ("title", "input", "str")
    name = xcom(run, "start_gated").rsplit(":", 1)[1]
    execution = remote.wait(remote.fetch_execution(name=name), timeout=60, poll_interval=0.1)
    assert execution.outputs["o0"].startswith("typed: ")


def test_unknown_signal_and_bad_values_fail_and_set_nothing(
    dags: dict[str, Any], remote: FlyteRemote, capfd: pytest.CaptureFixture[str]
) -> None:
    run = dags["flyte_test_signal_bad"].test()
    assert {key[0]: state(ti) for key, ti in task_instances(run).items()} == {
        "start_gated": "success",
        "unknown_signal": "failed",
        "bad_value": "failed",
        "approve_an_input": "failed",
        "gate_never_reached": "failed",
    }
    output = "".join(capfd.readouterr())
    assert "has no signal 'approve-typo' (its gates wait for: 'approve-report', 'title')" in output
    assert "value of signal 'title'" in output
    assert "signal 'title' is an input gate, not an approval; use action='set'" in output
    assert "did not reach the gate of signal 'title' within 1s; nothing was set" in output
    execution_id = xcom(run, "start_gated")
    assert signal_values(remote, execution_id) == {"approve-report": False}
    remote.terminate(execution_id, "test done")


def test_signal_sensor_fails_when_the_execution_ends_without_a_gate(
    dags: dict[str, Any], capfd: pytest.CaptureFixture[str]
) -> None:
    run = dags["flyte_test_signal_sensor_ends"].test()
    assert {key[0]: state(ti) for key, ti in task_instances(run).items()} == {
        "start_plain": "success",
        "no_gate": "failed",
    }
    assert "ended SUCCEEDED before a pending signal appeared" in "".join(capfd.readouterr())
