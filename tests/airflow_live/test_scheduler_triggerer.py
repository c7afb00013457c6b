"""The provider under a real Airflow deployment: API server, scheduler, DAG processor and triggerer as processes.

``dag.test()`` (``tests/airflow``) runs triggers inline in one process; here a DAG run goes the way it goes in
production: the scheduler queues the task, the LocalExecutor runs it through the execution API, the operator defers,
its trigger is serialized to the metadata database and picked up by the separate triggerer process, which watches the
Flyte execution and resumes the task on a worker. The Flyte side is a sandbox in this test process.

These tests start four Airflow processes (about a minute on two cores), so they run in the main test leg only, not
against the minimum Airflow as well. The test process itself never imports Airflow: it talks to the deployment
through the REST API, as users and other systems do.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flyte_admin_sandbox import FlyteSandbox

from airflow_provider_flyte.remote import FlyteRemote

pytestmark = [pytest.mark.live, pytest.mark.timeout(600)]

DAGS = Path(__file__).parent / "dags"
APPROVAL_EXAMPLE = (
    Path(__file__).resolve().parents[2]
    / "flyte-admin-sandbox"
    / "flyte_admin_sandbox"
    / "example_dags"
    / "example_flyte_approval.py"
)
PROJECT, DOMAIN = "flytesnacks", "development"
SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
STARTUP_SECONDS = 240.0
RUN_SECONDS = 180.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Deployment:
    """Airflow's services as child processes sharing one AIRFLOW_HOME (SQLite, LocalExecutor)."""

    def __init__(self, home: Path, flyte_endpoint: str) -> None:
        self.home = home
        self.port = free_port()
        self.api = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)
        host, flyte_port = flyte_endpoint.rsplit(":", 1)
        connection = {
            "conn_type": "flyte",
            "host": host,
            "port": int(flyte_port),
            "extra": {"insecure": True, "project": PROJECT, "domain": DOMAIN},
        }
        self.env = {
            **{name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW")},
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW_CONN_FLYTE_DEFAULT": json.dumps(connection),
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def airflow(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "airflow", *args], env=self.env, cwd=self.home, capture_output=True, check=True
        )

    def start(self) -> None:
        (self.home / "dags").mkdir()
        for dag_file in [*DAGS.glob("*.py"), APPROVAL_EXAMPLE]:
            shutil.copy(dag_file, self.home / "dags")
        self.airflow("db", "migrate")
        for service in SERVICES:
            log = (self.home / f"{service}.log").open("wb")
            self.processes[service] = subprocess.Popen(
                [sys.executable, "-m", "airflow", service], env=self.env, cwd=self.home, stdout=log, stderr=log
            )

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.api.close()

    def logs(self) -> str:
        """Every service's log (for assertion messages)."""
        return "\n".join(
            f"----- {service} -----\n{(self.home / f'{service}.log').read_text(errors='replace')[-4000:]}"
            for service in SERVICES
        )

    def check_alive(self) -> None:
        for service, process in self.processes.items():
            if process.poll() is not None:
                pytest.fail(f"airflow {service} exited with code {process.returncode}\n{self.logs()}")

    def wait_for(self, what: str, ready: Any, seconds: float) -> Any:
        """Poll ``ready()`` until it returns something truthy."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                value = ready()
            except httpx.TransportError:
                value = None
            if value:
                return value
            time.sleep(0.5)
        pytest.fail(f"gave up waiting for {what} after {seconds:g}s\n{self.logs()}")

    def get(self, path: str) -> Any:
        response = self.api.get(f"/api/v2{path}")
        response.raise_for_status()
        return response.json()

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        """Start a DAG run through the REST API, as a user or another system would; returns its run id."""
        response = self.api.post(f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})
        assert response.is_success, response.text
        return str(response.json()["dag_run_id"])

    def trigger_log(self, dag_id: str, run_id: str, task_id: str) -> str:
        """What the triggerer logged for a task's triggers (Airflow writes it next to the task's log)."""
        folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        return "".join(path.read_text(errors="replace") for path in sorted(folder.glob("*.trigger.*")))

    def parked(self, dag_id: str, run_id: str, task_id: str) -> bool:
        """Whether the scheduler has seen a HITL task's worker finish with the task parked (``awaiting_input`` on
        Airflow 3.3+, ``deferred`` before).

        An answer that arrives earlier (a machine answers within a second, a person does not) races Airflow 3.3:
        given while the task still runs (the question is written just before the task parks), it is recorded but
        never resumes the task; given after the task parked but before the scheduler processed the worker's end,
        the task is queued again too early and the scheduler fails it ("finished with state success, but the task
        instance's state attribute is queued").
        """
        marker = f"task_id={task_id}, run_id={run_id},"
        log = (self.home / "scheduler.log").read_text(errors="replace")
        parked = ("state=awaiting_input", "state=deferred")
        return any(marker in line and any(state in line for state in parked) for line in log.splitlines())

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        instances = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
        return {ti["task_id"]: ti["state"] for ti in instances}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[FlyteSandbox]:
    with FlyteSandbox(port=0) as running:
        yield running


@pytest.fixture(scope="module")
def deployment(sandbox: FlyteSandbox) -> Iterator[Deployment]:
    home = Path(tempfile.mkdtemp(prefix="flyte-airflow-live-"))
    running = Deployment(home, sandbox.endpoint)
    try:
        running.start()
        running.wait_for(
            "the API server", lambda: running.api.get("/api/v2/monitor/health").is_success, STARTUP_SECONDS
        )
        for dag_id in ("flyte_live", "example_flyte_approval"):
            running.wait_for(
                f"DAG {dag_id} to be parsed",
                lambda dag_id=dag_id: running.api.get(f"/api/v2/dags/{dag_id}").is_success,
                STARTUP_SECONDS,
            )
        yield running
    finally:
        running.stop()
        if not os.environ.get("FLYTE_LIVE_KEEP_HOME"):
            shutil.rmtree(home, ignore_errors=True)


def test_a_deferred_launch_is_watched_by_the_triggerer_and_resumes_on_a_worker(
    deployment: Deployment, sandbox: FlyteSandbox
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
    deployment: Deployment, sandbox: FlyteSandbox
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


def test_a_person_answers_the_flyte_gates_through_the_rest_api(deployment: Deployment, sandbox: FlyteSandbox) -> None:
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
            # Answer a parked task only: see Deployment.parked.
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
