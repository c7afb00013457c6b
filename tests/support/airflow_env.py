"""The isolated Airflow home of the Airflow-facing tests, put in place when this module is first imported.

Airflow reads its configuration once, when first imported, so ``tests/airflow/conftest.py`` imports this module before
anything else: the isolated AIRFLOW_HOME (and the other settings) are then in place before any test module imports
Airflow. Nothing here imports Airflow.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

TEST_DAGS = Path(__file__).resolve().parents[1] / "airflow" / "dags"
EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "flyte-admin-sandbox" / "flyte_admin_sandbox" / "example_dags"
# When something imported Airflow before this module, its configuration is fixed: the tests that need a database then
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
    host, port = endpoint.rsplit(":", 1)
    extras = {"insecure": True, **extra}
    return json.dumps({"conn_type": "flyte", "host": host, "port": int(port), "extra": extras})
