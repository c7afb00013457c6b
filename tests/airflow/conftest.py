"""Fixtures of the Airflow-facing tests.

Airflow reads its configuration once, when first imported, so the isolated AIRFLOW_HOME (and the other settings) are
put in place first, at import time, by ``tests.support.airflow_env``, before any test module imports Airflow.
"""

from __future__ import annotations

import pytest

# airflow_env first of the support modules (nothing before it imports Airflow): importing it sets up AIRFLOW_HOME.
from tests.support.airflow_env import flyte_conn_json
from tests.support.sandboxes import new_sandbox


@pytest.fixture
def flyte_connection(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Return a function pointing connection ``conn_id`` (default ``flyte_default``) at an endpoint."""

    def point(endpoint: str, conn_id: str = "flyte_default", **extra: object) -> str:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", flyte_conn_json(endpoint, **extra))
        return conn_id

    return point


@pytest.fixture(scope="module")
def sandbox():  # type: ignore[no-untyped-def]
    """A seeded Flyte sandbox on a free port, for the whole test module, with the ``hold.workflow`` launch plan."""
    from airflow_hold_tasks import register_hold_workflow, release_all

    with new_sandbox() as running:
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
