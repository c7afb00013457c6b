"""DAG-level tests: the example DAGs and the failure paths through ``dag.test()``, on SQLite and the sandbox.

One metadata database is migrated per test session (``airflow db migrate``, a dozen seconds); the DAGs run in this
process, deferrable tasks included (``dag.test()`` runs their triggers inline).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any

import pytest

from airflow_provider_flyte.remote import FlyteRemote
from tests.support.airflow_env import AIRFLOW_HOME, AIRFLOW_ISOLATED, EXAMPLE_DAGS, TEST_DAGS, flyte_conn_json

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not AIRFLOW_ISOLATED, reason="Airflow was imported before its test home could be set up"),
]

PROJECT, DOMAIN = "flytesnacks", "development"
LINK = "_link_FlyteConsoleLink"


@pytest.fixture(scope="session")
def airflow_db() -> None:
    dags_folder = os.environ["AIRFLOW__CORE__DAGS_FOLDER"]
    os.makedirs(dags_folder, exist_ok=True)
    for source in (EXAMPLE_DAGS, TEST_DAGS):
        for path in source.glob("*.py"):
            shutil.copy(path, dags_folder)
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True, cwd=str(AIRFLOW_HOME)
    )


@pytest.fixture(scope="module")
def dags(airflow_db: None, sandbox: Any) -> Any:
    os.environ["AIRFLOW_CONN_FLYTE_DEFAULT"] = flyte_conn_json(sandbox.endpoint, project=PROJECT, domain=DOMAIN)
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    assert not bag.import_errors, bag.import_errors
    yield bag.dags
    del os.environ["AIRFLOW_CONN_FLYTE_DEFAULT"]


@pytest.fixture
def remote(sandbox: Any) -> Any:
    with FlyteRemote(sandbox.config, PROJECT, DOMAIN) as flyte:
        yield flyte


def task_instances(run: Any) -> dict[tuple[str, int], Any]:
    return {(ti.task_id, ti.map_index): ti for ti in run.get_task_instances()}


def xcom(run: Any, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel.value)
            .filter_by(dag_id=run.dag_id, run_id=run.run_id, task_id=task_id, map_index=map_index, key=key)
            .first()
        )
    value = None if row is None else row[0]
    return json.loads(value) if isinstance(value, str) and value[:1] and value[:1] in '{["' else value


def state(ti: Any) -> str:
    return str(getattr(ti.state, "value", ti.state))


def test_example_pipeline_passes_typed_outputs_downstream(dags: dict[str, Any]) -> None:
    run = dags["example_flyte_pipeline"].test()
    assert {key: state(ti) for key, ti in task_instances(run).items()} == {
        ("run_pipeline", -1): "success",
        ("publish", -1): "success",
    }
    result = xcom(run, "run_pipeline")
    assert result["phase"] == "SUCCEEDED"
    assert result["outputs"] == {
        "total": 23,
        "mean": 5.75,
        "report": "example_flyte_pipeline: mean 5.750 over 6 value(s)",
    }
    assert xcom(run, "publish") == "total=23 mean=5.75"
    assert xcom(run, "run_pipeline", key=LINK) == result["console_url"]


def test_example_sensor_waits_for_a_run_started_elsewhere(dags: dict[str, Any]) -> None:
    run = dags["example_flyte_sensor"].test()
    assert {state(ti) for ti in task_instances(run).values()} == {"success"}
    started = xcom(run, "start_elsewhere")
    assert xcom(run, "wait_for_pipeline")["execution_id"] == started
    assert xcom(run, "wait_for_pipeline", key=LINK).endswith(started.rsplit(":", 1)[1])


def test_example_mapped_launches_get_distinct_executions(
    dags: dict[str, Any], remote: FlyteRemote, capfd: pytest.CaptureFixture[str]
) -> None:
    run = dags["example_flyte_mapped"].test()
    output = "".join(capfd.readouterr())
    assert "XCom not found" not in output
    assert "[error" not in output
    assert "[warning" not in output
    instances = task_instances(run)
    assert {state(ti) for ti in instances.values()} == {"success"}
    results = [xcom(run, "score_batch", map_index=index) for index in range(3)]
    names = {result["name"] for result in results}
    assert len(names) == 3
    assert [result["outputs"]["mean"] for result in results] == [3.0, 4.0, 20.0]
    assert xcom(run, "combine") == {result["name"]: result["outputs"]["mean"] for result in results}
    assert [xcom(run, "score_batch", key=LINK, map_index=index) for index in range(3)] == [
        result["console_url"] for result in results
    ]
    for name in names:
        assert remote.fetch_execution(name=name).phase_name == "SUCCEEDED"


def test_failure_and_timeout_fail_the_tasks_with_flytes_message(
    dags: dict[str, Any], remote: FlyteRemote, capfd: pytest.CaptureFixture[str]
) -> None:
    run = dags["flyte_test_failures"].test()
    instances = task_instances(run)
    assert {key[0]: state(ti) for key, ti in instances.items()} == {
        "fails": "failed",
        "bad_inputs": "failed",
        "times_out": "failed",
        "exceeds_execution_timeout": "failed",
    }
    output = "".join(capfd.readouterr())
    assert "numbers" in output
    assert "Launched lp:flytesnacks:development:demo.pipeline" not in output
    assert "XCom not found" not in output  # the Console link of a task that launched nothing is simply empty
    assert xcom(run, "bad_inputs", key=LINK) in ("", None)
    assert "ended FAILED" in output
    assert "ValueError: demo failure: this run was meant to fail" in output
    assert "at its deadline (the task's timeout of 2s); it was aborted" in output
    assert "(the task's execution_timeout of 3s); it was aborted" in output
    for task_id in ("times_out", "exceeds_execution_timeout"):
        name = str(xcom(run, task_id, key=LINK)).rsplit("/", 1)[1]
        assert remote.wait(remote.fetch_execution(name=name), timeout=30, poll_interval=0.1).phase_name == "ABORTED"
    assert str(xcom(run, "fails", key=LINK)).startswith("http://")


def test_retry_after_a_crash_mid_wait_reattaches_to_the_same_execution(
    dags: dict[str, Any], remote: FlyteRemote
) -> None:
    run = dags["flyte_test_reattach"].test()
    ti = task_instances(run)[("crashes_once", -1)]
    assert (state(ti), ti.try_number) == ("success", 2)
    result = xcom(run, "crashes_once")
    assert result["outputs"] == {"o0": "released dag-reattach"}
    mine = [e.id.name for e in remote.list_executions() if e.id.name.startswith("af-crashes-once-")]
    assert mine == [result["name"]]  # the retry reattached: exactly one execution exists
