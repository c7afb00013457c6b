"""Set-up of the fault matrix: an isolated Airflow home (the operator paths import Airflow) and a sandbox."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Airflow reads its configuration when first imported: keep it away from a real AIRFLOW_HOME. The operator paths run
# outside Airflow's task runner and read their connection from the environment, so no metadata database is needed.
if "airflow.configuration" not in sys.modules and "AIRFLOW_HOME" not in os.environ:
    os.environ["AIRFLOW_HOME"] = str(Path(tempfile.mkdtemp(prefix="flyte-reliability-airflow-")))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"

from fault_matrix import connection_json, matrix_sandbox
from flyte_admin_sandbox import FlyteSandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[FlyteSandbox]:
    """A sandbox with ``reliability.nap``, shared by a test module (rounds judge their own executions by name)."""
    with matrix_sandbox() as running:
        yield running


@pytest.fixture
def flyte_default(sandbox: FlyteSandbox, monkeypatch: pytest.MonkeyPatch) -> FlyteSandbox:
    """``flyte_default`` pointing at the sandbox with the matrix's client settings."""
    monkeypatch.setenv("AIRFLOW_CONN_FLYTE_DEFAULT", connection_json(sandbox))
    return sandbox
