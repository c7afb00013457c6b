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

DAGS_FOLDER = Path(__file__).parent / "dags"
REPO_ROOT = Path(__file__).resolve().parents[2]

if "airflow.configuration" not in sys.modules:
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="flyte-airflow-home-")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)
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
