"""The provider under a real Airflow deployment: API server, scheduler, DAG processor and triggerer as processes.

``dag.test()`` (``tests/airflow``) runs triggers inline in one process; here a DAG run goes the way it goes in
production: the scheduler queues the task, the LocalExecutor runs it through the execution API, the operator defers,
its trigger is serialized to the metadata database and picked up by the separate triggerer process, which watches the
Flyte execution and resumes the task on a worker. The Flyte side is a sandbox in this test process.

The deployment (four Airflow processes, about a minute to start on two cores) is
:class:`~flyte_admin_sandbox.airflow_deployment.AirflowDeployment`, shared by every module of this folder
(``conftest.py``); these tests run in the main test leg only, not against the minimum Airflow as well. The test
process itself never imports Airflow: it talks to the deployment through the REST API, as users and other systems do.
"""

from __future__ import annotations

from typing import Any

import pytest
from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox.airflow_deployment import AirflowDeployment

from airflow_provider_flyte.remote import FlyteRemote
from tests.support.live import DOMAIN, PROJECT, RUN_SECONDS

pytestmark = [pytest.mark.live, pytest.mark.timeout(600)]


def test_a_deferred_launch_is_watched_by_the_triggerer_and_resumes_on_a_worker(
    deployment: AirflowDeployment, sandbox: FlyteSandbox
) -> None:
    # Long enough for the API to show the task deferred while the triggerer watches the execution.
    sandbox.script("demo.summarize", duration=8)
    try:
        run_id = deployment.trigger("flyte_live", {"label": "live"})
        states_seen: set[str] = set()

        def finished() -> dict[str, str] | None:
            states = deployment.task_states("flyte_live", run_id)
            states_seen.update(f"{task}:{state}" for task, state in states.items())
            run_state = deployment.get(f"/dags/flyte_live/dagRuns/{run_id}")["state"]
            return states if run_state in ("success", "failed") else None

        states = deployment.wait_for("the DAG run to finish", finished, RUN_SECONDS)
    finally:
        sandbox.unscript("demo.summarize")
    assert states == {"launch_pipeline": "success", "read_report": "success"}, deployment.logs()
    assert "launch_pipeline:deferred" in states_seen, states_seen

    result = deployment.get(f"/dags/flyte_live/dagRuns/{run_id}/taskInstances/launch_pipeline/xcomEntries/return_value")
    launched = result["value"]
    assert launched["phase"] == "SUCCEEDED"
    assert launched["outputs"]["total"] == 10
    report = deployment.get(f"/dags/flyte_live/dagRuns/{run_id}/taskInstances/read_report/xcomEntries/return_value")
    assert report["value"] == f"SUCCEEDED: {launched['outputs']['report']} / total=10"
    assert "live" in launched["outputs"]["report"]  # the templated input reached Flyte

    with FlyteRemote(sandbox.config, PROJECT, DOMAIN) as remote:
        execution = remote.fetch_execution(name=launched["execution_id"].rsplit(":", 1)[1])
        assert execution.phase_name == "SUCCEEDED"
        assert execution.inputs["label"] == "live"
    # The triggerer process wrote the wait's progress (phase changes with the console URL) to the task's trigger log.
    trigger_log = deployment.trigger_log("flyte_live", run_id, "launch_pipeline")
    assert f"Flyte execution {launched['execution_id']} is RUNNING ({launched['console_url']})" in trigger_log
    assert f"Flyte execution {launched['execution_id']} is SUCCEEDED" in trigger_log


def test_marking_the_deferred_task_failed_aborts_the_flyte_execution(
    deployment: AirflowDeployment, sandbox: FlyteSandbox
) -> None:
    version = tuple(int(part) for part in deployment.get("/version")["version"].split(".")[:2])
    if version < (3, 3):
        pytest.skip("triggers are told about a user's kill (on_kill) from Airflow 3.3 on")
    sandbox.script("demo.summarize", hang=True)
    try:
        run_id = deployment.trigger("flyte_live", {"label": "to be killed"})
        # Only a trigger the triggerer runs can be told about the kill: wait until it watches the execution.
        deployment.wait_for(
            "the triggerer to watch the execution",
            lambda: "is RUNNING" in deployment.trigger_log("flyte_live", run_id, "launch_pipeline"),
            RUN_SECONDS,
        )
        assert deployment.task_states("flyte_live", run_id)["launch_pipeline"] == "deferred"
        response = deployment.api.patch(
            f"/api/v2/dags/flyte_live/dagRuns/{run_id}/taskInstances/launch_pipeline", json={"new_state": "failed"}
        )
        assert response.is_success, response.text
        # The operator pushed the Console link of its execution before deferring.
        link = deployment.get(
            f"/dags/flyte_live/dagRuns/{run_id}/taskInstances/launch_pipeline/xcomEntries/_link_FlyteConsoleLink"
        )
        name = link["value"].rstrip("/").rsplit("/", 1)[1]
        with FlyteRemote(sandbox.config, PROJECT, DOMAIN) as remote:

            def aborted() -> Any:
                execution = remote.fetch_execution(name=name)
                return execution if execution.phase_name == "ABORTED" else None

            execution = deployment.wait_for("the triggerer to abort the Flyte execution", aborted, RUN_SECONDS)
        assert "Killed by Airflow" in execution.closure.abort_metadata.cause
        assert deployment.task_states("flyte_live", run_id)["launch_pipeline"] == "failed"
    finally:
        sandbox.unscript("demo.summarize")


def test_a_person_answers_the_flyte_gates_through_the_rest_api(
    deployment: AirflowDeployment, sandbox: FlyteSandbox
) -> None:
    dag_id = "example_flyte_approval"
    run_id = deployment.trigger(dag_id, {})
    answers = {
        "approve_report": {"chosen_options": ["Approve"]},
        "name_report": {"chosen_options": ["OK"], "params_input": {"title": "Live numbers"}},
    }
    answered: set[str] = set()
    states_seen: set[str] = set()

    def answer_and_check() -> dict[str, str | None] | None:
        states = deployment.task_states(dag_id, run_id)
        states_seen.update(f"{task}:{state}" for task, state in states.items())
        for question in deployment.get(f"/dags/{dag_id}/dagRuns/{run_id}/hitlDetails")["hitl_details"]:
            task_id = question["task_instance"]["task_id"]
            if question["response_received"] or task_id in answered:
                continue
            # Answer a parked task only: see AirflowDeployment.parked.
            if question["task_instance"]["state"] not in ("awaiting_input", "deferred"):
                continue
            if not deployment.parked(dag_id, run_id, task_id):
                continue
            response = deployment.api.patch(
                f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/-1/hitlDetails",
                json=answers[task_id],
            )
            assert response.is_success, response.text
            answered.add(task_id)
        finished = deployment.get(f"/dags/{dag_id}/dagRuns/{run_id}")["state"] in ("success", "failed")
        return states if finished else None

    states = deployment.wait_for("the approvals and the publish", answer_and_check, RUN_SECONDS)
    assert set(states.values()) == {"success"}, (states, deployment.logs())
    assert answered == set(answers)
    # Airflow 3.3 parks a waiting HITL task in awaiting_input (earlier versions defer it to a trigger).
    assert {"approve_report:awaiting_input", "approve_report:deferred"} & states_seen, states_seen

    execution_id = deployment.get(
        f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/start_gated_publish/xcomEntries/return_value"
    )["value"]
    named = deployment.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/name_report/xcomEntries/return_value")
    assert (named["value"]["decision"], named["value"]["value"]) == ("set", "Live numbers")
    with FlyteRemote(sandbox.config, PROJECT, DOMAIN) as remote:
        execution = remote.fetch_execution(name=execution_id.rsplit(":", 1)[1])
        assert execution.phase_name == "SUCCEEDED"
        assert execution.outputs["o0"].startswith("Live numbers")
