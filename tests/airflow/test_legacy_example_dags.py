"""The DAGs of airflow-provider-flyte 0.0.5 parse and run with ``dag.test()`` against the sandbox, after upgrading.

``legacy_dags/`` holds copies of the three example DAGs of 0.0.5 (``flyte_provider/example_dags/``) and of its demo
DAG (``demo/dags/sensor.py``), changed only where they could not run under 0.0.5 either or where Airflow 3 requires
it (each change is marked in the file). Their connections are written as a 0.0.5 user wrote them, flytekit-only
extras included. The launch plans they run are registered in the sandbox by ``airflow_legacy_entities``.

Three of the copies share one DAG id (as in 0.0.5), so each is put into the DAGs folder only while its test runs.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from airflow_legacy_entities import DIABETES, MY_WF, register_legacy_entities
from test_airflow_dags import airflow_db, state, task_instances, xcom  # noqa: F401 (fixtures)

from airflow_provider_flyte.remote import FlyteRemote
from tests.support.airflow_env import AIRFLOW_ISOLATED, flyte_conn_json

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not AIRFLOW_ISOLATED, reason="Airflow was imported before its test home could be set up"),
]

LEGACY_DAGS = Path(__file__).resolve().parent / "legacy_dags"
PROJECT, DOMAIN = "flytesnacks", "development"
# Extras the 0.0.5 hook read that configured flytekit's storage and stats: still accepted (and ignored).
FLYTEKIT_EXTRAS = {
    "statsd_disabled": True,
    "s3_endpoint": "http://localhost:30002",
    "s3_access_key_id": "minio",
    "s3_secret_access_key": "miniostorage",
    "env_prefix": "_FSEC_",
}
NEW_IMPORTS = {
    "flyte_provider.operators.flyte.FlyteOperator": "from airflow_provider_flyte.operators.flyte import FlyteOperator",
    "flyte_provider.sensors.flyte.FlyteSensor": "from airflow_provider_flyte.sensors.flyte import FlyteExecutionSensor",
}
needs_flytekit = pytest.mark.skipif(
    importlib.util.find_spec("flytekit") is None, reason="the 0.0.5 example imports flytekit, not installed here"
)


@pytest.fixture(scope="module")
def legacy_sandbox(sandbox: Any) -> Any:
    register_legacy_entities(sandbox)
    return sandbox


@pytest.fixture
def legacy_connections(legacy_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The connections the 0.0.5 DAGs name, as 0.0.5 users had them: host, port and the extras 0.0.5 read."""
    for conn_id in ("flyte_conn_example", "flyte_conn"):
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{conn_id.upper()}", flyte_conn_json(legacy_sandbox.endpoint, **FLYTEKIT_EXTRAS)
        )


@pytest.fixture
def remote(legacy_sandbox: Any) -> Iterator[FlyteRemote]:
    with FlyteRemote(legacy_sandbox.config, PROJECT, DOMAIN) as flyte:
        yield flyte


@contextmanager
def legacy_dag(file_name: str, dag_id: str) -> Iterator[tuple[Any, tuple[str, ...]]]:
    """The DAG ``dag_id`` of ``legacy_dags/<file_name>`` and its parse warnings, with the file in the DAGs folder."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    from airflow.api.common.delete_dag import delete_dag
    from airflow.exceptions import DagNotFound

    # Three copies share a DAG id: forget the one an earlier test ran, which Airflow 3.1's dag.test() would reuse.
    with contextlib.suppress(DagNotFound):
        delete_dag(dag_id)
    path = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]) / f"legacy_{file_name}"
    shutil.copy(LEGACY_DAGS / file_name, path)
    try:
        bag = DagBag(dag_folder=str(path))
        assert not bag.import_errors, bag.import_errors
        yield bag.dags[dag_id], bag.captured_warnings.get(str(path), ())
    finally:
        path.unlink()


def assert_deprecation_warnings(warnings: tuple[str, ...], *old_names: str) -> None:
    for old in old_names:
        found = [w for w in warnings if "AirflowProviderDeprecationWarning" in w and old in w]
        assert found, f"no deprecation warning for {old} in {warnings}"
        assert all(NEW_IMPORTS[old] in w for w in found)


def assert_launched(remote: FlyteRemote, name: Any, plan: str, inputs: dict[str, Any], outputs: dict[str, Any]) -> Any:
    """The execution ``name`` (what a 0.0.5 operator returned: a string) ran ``plan`` with ``inputs``; its spec."""
    assert isinstance(name, str)
    execution = remote.wait(remote.fetch_execution(name=name), timeout=30, poll_interval=0.1)
    assert execution.phase_name == "SUCCEEDED"
    assert execution.spec.launch_plan.name == plan
    assert execution.inputs.to_dict() == inputs
    assert execution.outputs.to_dict() == outputs
    return execution.spec


@needs_flytekit
@pytest.mark.usefixtures("airflow_db", "legacy_connections")
def test_example_flyte_launches_with_every_option_and_returns_the_name(remote: FlyteRemote) -> None:
    with legacy_dag("example_flyte.py", "example_flyte_operator") as (dag, warnings):
        assert_deprecation_warnings(warnings, "flyte_provider.operators.flyte.FlyteOperator")
        run = dag.test()
    assert {key[0]: state(ti) for key, ti in task_instances(run).items()} == {"flyte_task": "success"}
    spec = assert_launched(remote, xcom(run, "flyte_task"), MY_WF, {"val": 19}, {"o0": 361})
    assert spec.launch_plan.version == "v1"
    run_as = spec.security_context.run_as
    assert (run_as.k8s_service_account, run_as.iam_role, run_as.oauth2_client.client_id) == ("demo", "default", "123")
    assert (run_as.oauth2_client.client_secret.group, run_as.oauth2_client.client_secret.key) == ("oauth2", "456")
    assert [(s.group, s.key) for s in spec.security_context.secrets] == [("secrets", "123")]
    (notification,) = spec.notifications.notifications
    assert list(notification.email.recipients_email) == ["abc@flyte.org"]
    assert list(notification.phases) == [4]  # WorkflowExecution.Phase.SUCCEEDED


@pytest.fixture
def launches_settle(remote: FlyteRemote, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 0.0.5 operator returns at once; here its task also waits until the sandbox finished the execution.

    Only test synchronisation: the example's sensors poke every 60 s and reschedule every 5 minutes, so a first poke
    that came before the sandbox's engine (a few milliseconds, longer on a loaded machine) would stall the test for
    minutes. What the operator returns and what the sensors see is unchanged.
    """
    from flyte_provider.operators.flyte import FlyteOperator as LegacyOperator

    launch = LegacyOperator.execute

    def launch_and_settle(self: Any, context: Any) -> Any:
        name = launch(self, context)
        remote.wait(remote.fetch_execution(name=name), timeout=30, poll_interval=0.05)
        return name

    monkeypatch.setattr(LegacyOperator, "execute", launch_and_settle)


@pytest.mark.usefixtures("airflow_db", "legacy_connections", "launches_settle")
def test_example_flyte_wait_senses_the_launched_execution_twice(remote: FlyteRemote) -> None:
    with legacy_dag("example_flyte_wait.py", "example_flyte_operator") as (dag, warnings):
        assert_deprecation_warnings(
            warnings, "flyte_provider.operators.flyte.FlyteOperator", "flyte_provider.sensors.flyte.FlyteSensor"
        )
        run = dag.test()
    assert {key[0]: state(ti) for key, ti in task_instances(run).items()} == {
        "flyte_task": "success",
        "flyte_sensor_one": "success",
        "flyte_sensor_two": "success",
    }
    name = xcom(run, "flyte_task")
    spec = assert_launched(remote, name, MY_WF, {"val": 19}, {"o0": 361})
    assert spec.max_parallelism == 2
    assert spec.raw_output_data_config.output_location_prefix == "s3://flyte-demo/raw_data"
    assert spec.security_context.run_as.k8s_service_account == "demo"
    for sensor in ("flyte_sensor_one", "flyte_sensor_two"):
        assert xcom(run, sensor)["execution_id"] == f"ex:{PROJECT}:{DOMAIN}:{name}"


@pytest.mark.usefixtures("airflow_db", "legacy_connections", "launches_settle")
def test_example_flyte_xcom_chains_launch_sense_launch(remote: FlyteRemote) -> None:
    with legacy_dag("example_flyte_xcom.py", "example_flyte_operator") as (dag, _):
        run = dag.test()
    assert {key[0]: state(ti) for key, ti in task_instances(run).items()} == {
        "flyte_task_one": "success",
        "flyte_sensor": "success",
        "flyte_task_two": "success",
    }
    first, second = xcom(run, "flyte_task_one"), xcom(run, "flyte_task_two")
    assert first != second
    for name in (first, second):
        spec = assert_launched(remote, name, MY_WF, {"val": 19}, {"o0": 361})
        assert spec.security_context.run_as.iam_role == "default"


@pytest.mark.usefixtures("airflow_db", "legacy_connections", "launches_settle")
def test_demo_sensor_dag_runs_the_latest_launch_plan(remote: FlyteRemote) -> None:
    with legacy_dag("demo_sensor.py", "example_flyte") as (dag, _):
        run = dag.test()
    assert {state(ti) for ti in task_instances(run).values()} == {"success"}
    inputs = {"test_split_ratio": 0.66, "seed": 5}
    assert_launched(remote, xcom(run, "diabetes_predictions"), DIABETES, inputs, {"o0": 0.67})
