"""Every example DAG runs from every trigger path a person or a system uses, and logs no warning or error doing so.

* REST: ``POST /api/v2/dags/{dag_id}/dagRuns`` without a logical date (so without a data interval), as other
  systems trigger DAGs;
* CLI: ``airflow dags trigger`` on the deployment, also without a logical date;
* schedule: the scheduler's own run of the scheduled example (``example_flyte_backfill``, ``@daily``), started when
  the unpaused DAG was first parsed;
* UI: the Trigger dialog, in ``test_browser.py`` (the pipeline, approval and backfill examples: a dialog's run has a
  logical date and a data interval, as a scheduled run has).

The approval example waits for a person; ``test_browser.py`` answers it in the UI. Every task log of these runs is
read back: a successful run logs nothing at WARNING or above.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from flyte_admin_sandbox.airflow_deployment import AirflowDeployment

from tests.support.live import EXAMPLE_DAG_IDS, RUN_SECONDS

pytestmark = [pytest.mark.live, pytest.mark.timeout(900)]

NEEDS_A_PERSON = {"example_flyte_approval"}
SCHEDULED = "example_flyte_backfill"


def noisy_lines(deployment: AirflowDeployment, dag_id: str, run_id: str) -> list[str]:
    """Lines at WARNING or above in the task logs of one DAG run (Airflow 3 writes JSON lines with a level)."""
    folder = deployment.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
    found: list[str] = []
    for path in sorted(folder.rglob("*.log")) if folder.exists() else []:
        for line in path.read_text(errors="replace").splitlines():
            if _is_noisy(line):
                found.append(f"{path.relative_to(folder)}: {line[:300]}")
    return found


def _is_noisy(line: str) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return any(marker in line for marker in (" WARNING ", " ERROR ", "[warning", "[error", "Traceback"))
    return isinstance(record, dict) and str(record.get("level", "")).lower() in ("warning", "error", "critical")


def expect_quiet_successes(deployment: AirflowDeployment, runs: dict[str, str]) -> None:
    """Every run (DAG id -> run id) succeeds, and none logs a line at WARNING or above; else the logs are shown."""
    states = {dag_id: deployment.wait_for_run(dag_id, run_id, RUN_SECONDS * 2) for dag_id, run_id in runs.items()}
    failed = {
        dag_id: deployment.task_states(dag_id, runs[dag_id]) for dag_id, state in states.items() if state != "success"
    }
    task_logs = "\n".join(deployment.task_logs(dag_id, runs[dag_id]) for dag_id in failed)
    assert not failed, f"{failed}\n{task_logs}\n{deployment.logs()}"
    for dag_id, run_id in runs.items():
        assert noisy_lines(deployment, dag_id, run_id) == [], dag_id


def test_every_example_runs_from_the_rest_api_without_a_logical_date(deployment: AirflowDeployment) -> None:
    runs = {dag_id: deployment.trigger(dag_id) for dag_id in EXAMPLE_DAG_IDS if dag_id not in NEEDS_A_PERSON}
    expect_quiet_successes(deployment, runs)
    # The backfill example without a data interval replays the days before the run's run_after.
    replay = deployment.xcom(SCHEDULED, runs[SCHEDULED], "replay_three_days")
    assert replay["phase"] == "SUCCEEDED"
    assert len(replay["children"]) == 3


def test_every_example_runs_from_the_cli(deployment: AirflowDeployment) -> None:
    dag_ids = [dag_id for dag_id in EXAMPLE_DAG_IDS if dag_id not in NEEDS_A_PERSON]

    def trigger(dag_id: str) -> str:
        return _run_id_of(deployment.airflow("dags", "trigger", dag_id, "--output", "json").stdout)

    # Each `airflow dags trigger` is a fresh Airflow process: a few at a time, and the runs then go on together.
    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = dict(zip(dag_ids, pool.map(trigger, dag_ids), strict=True))
    expect_quiet_successes(deployment, runs)


def test_the_scheduler_runs_the_scheduled_example(deployment: AirflowDeployment) -> None:
    def scheduled_run() -> str | None:
        runs = deployment.get(f"/dags/{SCHEDULED}/dagRuns?run_type=scheduled")["dag_runs"]
        return str(runs[0]["dag_run_id"]) if runs else None

    run_id = deployment.wait_for("the scheduler to start a run of the backfill example", scheduled_run, RUN_SECONDS)
    assert deployment.wait_for_run(SCHEDULED, run_id, RUN_SECONDS * 2) == "success", deployment.logs()
    assert noisy_lines(deployment, SCHEDULED, run_id) == []


def _run_id_of(output: str) -> str:
    """The run id in ``airflow dags trigger --output json`` (a JSON list with one run, after any log lines)."""
    start = output.index('[{"')
    runs = json.loads(output[start:])
    return str(runs[0]["dag_run_id"])
