"""Shared setup of the Airflow-facing tests.

Airflow reads its configuration once, when first imported, so the isolated AIRFLOW_HOME (and the other settings) are
put in place here, at import time, before any test module imports Airflow.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

TEST_DAGS = Path(__file__).parent / "dags"
EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "flyte-admin-sandbox" / "flyte_admin_sandbox" / "example_dags"
# When something imported Airflow before this file, its configuration is fixed: the tests that need a database then
# skip rather than touch a real AIRFLOW_HOME.
AIRFLOW_ISOLATED = "airflow.configuration" not in sys.modules
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="flyte-airflow-home-"))

if AIRFLOW_ISOLATED:
    os.environ["AIRFLOW_HOME"] = str(AIRFLOW_HOME)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    # dag.test() only runs DAGs from the DAGs folder: the example DAGs and the test DAGs are copied there.
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(AIRFLOW_HOME / "dags")
    os.environ["AIRFLOW__CORE__ALLOW_NESTED_OPERATORS"] = "True"
    os.environ.pop("AIRFLOW__CORE__SQL_ALCHEMY_CONN", None)
    os.environ.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)


def flyte_conn_json(endpoint: str, **extra: object) -> str:
    """A JSON-form ``AIRFLOW_CONN_*`` value for a plain-text Flyte Admin at ``endpoint``."""
    import json

    host, port = endpoint.rsplit(":", 1)
    extras = {"insecure": True, **extra}
    return json.dumps({"conn_type": "flyte", "host": host, "port": int(port), "extra": extras})


@pytest.fixture
def flyte_connection(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Return a function pointing connection ``conn_id`` (default ``flyte_default``) at an endpoint."""

    def point(endpoint: str, conn_id: str = "flyte_default", **extra: object) -> str:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", flyte_conn_json(endpoint, **extra))
        return conn_id

    return point


class FakeTaskInstance:
    """What FlyteOperator reads from ``context["ti"]`` and the XComs it pushes."""

    def __init__(
        self, task_id: str, dag_id: str = "dag", run_id: str = "run", map_index: int = -1, try_number: int = 1
    ):
        self.task_id = task_id
        self.dag_id = dag_id
        self.run_id = run_id
        self.map_index = map_index
        self.try_number = try_number
        self.stats_tags: dict[str, str] = {}  # read by Airflow 3.3's ResumableJobMixin
        self.xcoms: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.xcoms[key] = value


class FakeStateStore:
    """Airflow 3.3's ``task_state_store``: JSON values kept across tries."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def get(self, key: str, default: object = None) -> object:
        return self.values.get(key, default)

    def set(self, key: str, value: object, retention: object = None) -> None:
        self.values[key] = value


@pytest.fixture(scope="module")
def sandbox():  # type: ignore[no-untyped-def]
    """A seeded Flyte sandbox on a free port, for the whole test module, with the ``hold.workflow`` launch plan."""
    from airflow_hold_tasks import register_hold_workflow, release_all
    from flyte_admin_sandbox import FlyteSandbox

    with FlyteSandbox(port=0) as running:
        register_hold_workflow(running)
        try:
            yield running
        finally:
            release_all()


@pytest.fixture
def sandbox_connection(sandbox, flyte_connection):  # type: ignore[no-untyped-def]
    """``flyte_default`` pointing at the sandbox, defaulting to flytesnacks/development."""
    flyte_connection(sandbox.endpoint, project="flytesnacks", domain="development")
    return sandbox
