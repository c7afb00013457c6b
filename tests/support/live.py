"""What the live tests (``tests/airflow_live/``) share besides fixtures: the DAGs of the shared deployment and limits.

``tests/airflow_live/conftest.py`` starts one Flyte sandbox and one Airflow deployment for the whole folder
(:func:`live_deployment`); test modules import the constants from here.
"""

from __future__ import annotations

import os
from pathlib import Path

from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox.airflow_deployment import AirflowDeployment, flyte2_sandbox_connection, sandbox_connection
from flyte_admin_sandbox.demo import EXAMPLE_DAGS
from flyte_admin_sandbox.v2 import Flyte2Sandbox

PROJECT, DOMAIN = "flytesnacks", "development"
TEST_DAGS = Path(__file__).resolve().parents[1] / "airflow_live" / "dags"
LIVE_DAG_FILES = [*sorted(TEST_DAGS.glob("*.py")), *sorted(EXAMPLE_DAGS.glob("example_*.py"))]
"""The DAG files of the shared deployment: the test DAGs and every example DAG. The examples are unpaused at creation,
so the scheduler starts a run of each scheduled one (the backfill example) as soon as it is parsed."""
EXAMPLE_DAG_IDS = sorted(path.stem for path in EXAMPLE_DAGS.glob("example_*.py"))
LIVE_DAG_IDS = ["flyte_live", "flyte2_live", *EXAMPLE_DAG_IDS]
FLYTE2_CONNECTION = "flyte2_default"
"""The Flyte 2 connection of the shared deployment (``flyte2_live`` and ``example_flyte2`` use it)."""
RUN_SECONDS = 180.0
"""How long a DAG run of the live tests may take (a hang guard on a loaded two-core machine, not a speed claim)."""
KEEP_HOME_VARIABLE = "FLYTE_LIVE_KEEP_HOME"
"""Set it to keep the deployment's AIRFLOW_HOME (logs, database) after the tests."""


def live_deployment(sandbox: FlyteSandbox, sandbox2: Flyte2Sandbox) -> AirflowDeployment:
    """The shared deployment (not started): :data:`LIVE_DAG_FILES`, ``flyte_default`` to ``sandbox``, console included,
    and :data:`FLYTE2_CONNECTION` (backend ``flyte2``) to the Flyte 2 sandbox ``sandbox2``.

    The connections are ``AIRFLOW_CONN_*`` variables, so the UI's Connections page starts empty.
    """
    return AirflowDeployment(
        dag_files=LIVE_DAG_FILES,
        connections={
            "flyte_default": sandbox_connection(sandbox, project=PROJECT, domain=DOMAIN),
            FLYTE2_CONNECTION: flyte2_sandbox_connection(sandbox2, project=PROJECT, domain=DOMAIN),
        },
        keep_home=bool(os.environ.get(KEEP_HOME_VARIABLE)),
    )
