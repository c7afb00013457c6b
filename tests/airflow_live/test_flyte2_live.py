"""Flyte 2 under the shared real Airflow deployment: a deferred launch resumed on a worker, and a kill that aborts.

The ``flyte2_live`` DAG runs ``demo.summarize`` on connection ``flyte2_default`` (backend ``flyte2``) against the
folder's Flyte 2 sandbox (``conftest.py``), where the ``flyte`` SDK deployed it (``sdk_demo_task.py``); the triggerer
process watches the run with ``Flyte2RunTrigger``.
"""

from __future__ import annotations

from typing import Any

import pytest
from flyte_admin_sandbox.airflow_deployment import AirflowDeployment
from flyte_admin_sandbox.v2 import Flyte2Sandbox
from flyte_admin_sandbox.v2.demo import DEMO_FUNCTION, DEMO_TASK, DEMO_VERSION
from flyteidl2.common import phase_pb2

from airflow_provider_flyte.clients.v2 import Flyte2Client
from tests.sandbox_v2.conftest import require_flyte
from tests.support.live import DOMAIN, PROJECT, RUN_SECONDS

pytestmark = [pytest.mark.live, pytest.mark.timeout(600)]

DAG_ID = "flyte2_live"


@pytest.fixture(scope="module", autouse=True)
def sdk_deployed(sandbox2: Flyte2Sandbox) -> None:
    """Check the task the DAG runs is the one the ``flyte`` SDK deployed (its container image), not our client's."""
    require_flyte()
    from tests.airflow_live.sdk_demo_task import IMAGE

    with Flyte2Client(sandbox2.grpc_endpoint, insecure=True) as client:
        task = client.get_task_details(PROJECT, DOMAIN, DEMO_TASK, DEMO_VERSION)
    assert task.spec.task_template.container.image == IMAGE, task.spec.task_template


def run_name(deployment: AirflowDeployment, run_id: str) -> str:
    """The Flyte 2 run of the DAG run's launch, from the Console link the operator pushed before deferring."""
    link = deployment.xcom(DAG_ID, run_id, "launch_task", key="_link_FlyteConsoleLink")
    return str(link).rstrip("/").rsplit("/", 1)[1]


def test_a_deferred_flyte2_run_is_watched_by_the_triggerer_and_resumes(
    deployment: AirflowDeployment, sandbox2: Flyte2Sandbox
) -> None:
    sandbox2.behave(DEMO_TASK, function=DEMO_FUNCTION, duration=4)  # long enough to be seen deferred
    try:
        run_id = deployment.trigger(DAG_ID, {"label": "live2"})
        states_seen: set[str] = set()

        def finished() -> dict[str, str | None] | None:
            states = deployment.task_states(DAG_ID, run_id)
            states_seen.update(f"{task}:{state}" for task, state in states.items())
            return states if deployment.run_state(DAG_ID, run_id) in ("success", "failed") else None

        states = deployment.wait_for("the DAG run to finish", finished, RUN_SECONDS)
    finally:
        sandbox2.behave(DEMO_TASK, function=DEMO_FUNCTION)
    assert states == {"launch_task": "success", "read_report": "success"}, deployment.logs()
    assert "launch_task:deferred" in states_seen, states_seen
    launched = deployment.xcom(DAG_ID, run_id, "launch_task")
    assert (launched["phase"], launched["backend"]) == ("SUCCEEDED", "flyte2")
    assert launched["outputs"] == {"o0": 10, "o1": "live2: total 10 over 4 value(s)"}
    assert deployment.xcom(DAG_ID, run_id, "read_report") == "SUCCEEDED: live2: total 10 over 4 value(s)"
    record = sandbox2.run(PROJECT, DOMAIN, launched["name"])
    assert record is not None
    assert record.phase == phase_pb2.ACTION_PHASE_SUCCEEDED
    trigger_log = deployment.trigger_log(DAG_ID, run_id, "launch_task")
    assert f"Flyte 2 run {launched['run_id']} is RUNNING ({launched['console_url']})" in trigger_log


def test_marking_the_deferred_task_failed_aborts_the_flyte2_run(
    deployment: AirflowDeployment, sandbox2: Flyte2Sandbox
) -> None:
    version = tuple(int(part) for part in deployment.get("/version")["version"].split(".")[:2])
    if version < (3, 3):
        pytest.skip("triggers are told about a user's kill (on_kill) from Airflow 3.3 on")
    sandbox2.behave(DEMO_TASK, hang=True)
    try:
        run_id = deployment.trigger(DAG_ID, {"label": "to be killed"})
        deployment.wait_for(
            "the triggerer to watch the run",
            lambda: "is RUNNING" in deployment.trigger_log(DAG_ID, run_id, "launch_task"),
            RUN_SECONDS,
        )
        assert deployment.task_states(DAG_ID, run_id)["launch_task"] == "deferred"
        response = deployment.api.patch(
            f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/launch_task", json={"new_state": "failed"}
        )
        assert response.is_success, response.text
        name = run_name(deployment, run_id)

        def aborted() -> Any:
            record = sandbox2.run(PROJECT, DOMAIN, name)
            return record if record is not None and record.phase == phase_pb2.ACTION_PHASE_ABORTED else None

        record = deployment.wait_for("the triggerer to abort the Flyte 2 run", aborted, RUN_SECONDS)
        assert "Killed by Airflow" in str(record.abort_reason)
        assert deployment.task_states(DAG_ID, run_id)["launch_task"] == "failed"
    finally:
        sandbox2.behave(DEMO_TASK, function=DEMO_FUNCTION)
