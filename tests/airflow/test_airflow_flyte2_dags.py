"""Flyte 2 through ``dag.test()``: FlyteOperator, the deferrable trigger, FlyteExecutionSensor, retries and timeouts.

The DAGs (``dags/flyte2_test_dags.py``) run on connection ``flyte2_test`` (backend ``flyte2``) against a Flyte 2
sandbox per test, in this process: ``dag.test()`` runs the deferrable tasks' triggers inline. The metadata database
is the one ``test_airflow_dags.py`` migrates once per session.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from test_airflow_dags import airflow_db, state, task_instances, xcom  # noqa: F401 (fixtures)

from tests.support.airflow_env import AIRFLOW_ISOLATED, flyte_conn_json

pytest.importorskip("flyte_admin_sandbox.v2")

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.timeout(120),
    pytest.mark.skipif(not AIRFLOW_ISOLATED, reason="Airflow was imported before its test home could be set up"),
]

PROJECT, DOMAIN = "flytesnacks", "development"
CONN = "flyte2_test"
LINK = "_link_FlyteConsoleLink"


@pytest.fixture(scope="module")
def dags(airflow_db: None) -> Any:  # noqa: F811 (the imported fixture)
    """The DAGs of ``flyte2_test_dags.py`` and ``example_flyte2.py``, parsed from the DAGs folder."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    found: dict[str, Any] = {}
    for name in ("flyte2_test_dags.py", "example_flyte2.py"):
        bag = DagBag(dag_folder=os.path.join(os.environ["AIRFLOW__CORE__DAGS_FOLDER"], name))
        assert not bag.import_errors, bag.import_errors
        found.update(bag.dags)
    return found


@pytest.fixture
def v2(flyte2_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The sandbox with ``env.double`` (x -> 2x) and ``env.stuck`` (hangs) deployed, and ``flyte2_test`` on it."""
    from flyteidl2.task import task_service_pb2

    from airflow_provider_flyte.clients.v2 import Flyte2Client
    from tests.sandbox_v2.v2_helpers import spec, task_id

    connection = flyte_conn_json(
        flyte2_sandbox.grpc_endpoint,
        project=PROJECT,
        domain=DOMAIN,
        backend="flyte2",
        console_endpoint=flyte2_sandbox.connect_endpoint,
    )
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", connection)
    flyte2_sandbox.behave("env.double", function=lambda x: x * 2)
    flyte2_sandbox.behave("env.stuck", hang=True)
    with Flyte2Client(flyte2_sandbox.grpc_endpoint, insecure=True) as client:
        for name in ("env.double", "env.stuck"):
            request = task_service_pb2.DeployTaskRequest(task_id=task_id(name, "v1"), spec=spec(name, "v1"))
            client.raw.task_service.DeployTask(request)
    return flyte2_sandbox


def deploy_with_the_sdk(sandbox: Any) -> None:
    """Deploy ``sbx.add`` (x, y=2 -> x + y) with the ``flyte`` SDK, as a Flyte 2 user would."""
    from tests.sandbox_v2.conftest import require_flyte

    require_flyte()
    from tests.sandbox_v2 import sdk_v2_tasks
    from tests.support.flyte2_sdk import deploy_with_the_sdk as deploy

    deploy(sandbox, sdk_v2_tasks.env, version="sdk1", project=PROJECT, domain=DOMAIN)
    sandbox.behave("sbx.add", function="tests.sandbox_v2.sdk_v2_tasks:add")


def run_names(sandbox: Any, prefix: str) -> list[str]:
    """The names of the sandbox's runs starting with ``prefix``."""
    from airflow_provider_flyte.clients.v2 import Flyte2Client

    with Flyte2Client(sandbox.grpc_endpoint, insecure=True) as client:
        runs, _ = client.list_runs(PROJECT, DOMAIN)
    return sorted(r.action.id.run.name for r in runs if r.action.id.run.name.startswith(prefix))


def test_deferred_launch_outputs_downstream_sensor_and_an_sdk_deployed_task(dags: dict[str, Any], v2: Any) -> None:
    from flyteidl2.common import phase_pb2

    deploy_with_the_sdk(v2)
    run = dags["flyte2_test_pipeline"].test()
    assert {key[0]: state(ti) for key, ti in task_instances(run).items()} == {
        "double": "success",
        "plus_one": "success",
        "watch_double": "success",
        "sdk_add": "success",
    }
    result = xcom(run, "double")
    assert (result["phase"], result["outputs"], result["backend"]) == ("SUCCEEDED", {"o0": 42}, "flyte2")
    assert xcom(run, "double", key=LINK) == result["console_url"] == v2.run_url(PROJECT, DOMAIN, result["name"])
    assert xcom(run, "plus_one") == 43
    watched = xcom(run, "watch_double")
    assert (watched["run_id"], watched["phase"]) == (result["run_id"], "SUCCEEDED")
    sdk = xcom(run, "sdk_add")
    assert sdk["outputs"] == {"o0": 42}  # y took the default the SDK deployed
    assert v2.run(PROJECT, DOMAIN, sdk["name"]).phase == phase_pb2.ACTION_PHASE_SUCCEEDED


def test_retry_after_a_crash_mid_wait_reattaches_to_the_same_run(dags: dict[str, Any], v2: Any) -> None:
    v2.behave("env.double", function=lambda x: x * 2, duration=1.0)  # still running when the retry starts
    run = dags["flyte2_test_reattach"].test()
    ti = task_instances(run)[("crashes_once", -1)]
    assert (state(ti), ti.try_number) == ("success", 2)
    result = xcom(run, "crashes_once")
    assert result["outputs"] == {"o0": 10}
    assert run_names(v2, "af-crashes-on") == [result["name"]]  # exactly one run: the retry reattached


def test_timeout_fails_the_task_and_aborts_the_run(
    dags: dict[str, Any], v2: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    from flyteidl2.common import identifier_pb2, phase_pb2

    run = dags["flyte2_test_timeout"].test()
    assert {key[0]: state(ti) for key, ti in task_instances(run).items()} == {"times_out": "failed"}
    assert "it was aborted" in "".join(capfd.readouterr())
    (name,) = run_names(v2, "af-times-out")
    record = v2.wait(identifier_pb2.RunIdentifier(project=PROJECT, domain=DOMAIN, name=name))
    assert record.phase == phase_pb2.ACTION_PHASE_ABORTED


def test_the_flyte2_example_runs_on_the_demo_task(
    dags: dict[str, Any], flyte2_sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flyte_admin_sandbox.airflow_deployment import flyte2_sandbox_connection
    from flyte_admin_sandbox.v2.demo import deploy_demo_task

    deploy_demo_task(flyte2_sandbox)
    connection = flyte2_sandbox_connection(flyte2_sandbox, project=PROJECT, domain=DOMAIN)
    monkeypatch.setenv("AIRFLOW_CONN_FLYTE2_DEFAULT", json.dumps(connection))
    run = dags["example_flyte2"].test()
    assert {key[0]: state(ti) for key, ti in task_instances(run).items()} == {
        "run_flyte2_task": "success",
        "publish": "success",
    }
    result = xcom(run, "run_flyte2_task")
    assert result["outputs"] == {"o0": 23, "o1": "example_flyte2: total 23 over 6 value(s)"}
    assert xcom(run, "publish") == "total=23"
