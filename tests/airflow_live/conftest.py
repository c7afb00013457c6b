"""Fixtures of the live tests: one Flyte sandbox, one Flyte 2 sandbox and one real Airflow deployment for the folder.

Starting the deployment (API server, scheduler, DAG processor, triggerer) takes about a minute on two cores, so every
test module of this folder uses the same one (package scope). ``test_airflow_flyte_demo_ui.py`` starts its own through
``airflow-flyte demo --ui``; its name sorts first, so it runs before the shared deployment starts and the two never
compete for the CPU. Shared helpers and constants live in ``tests/support/live.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox.airflow_deployment import AirflowDeployment
from flyte_admin_sandbox.v2 import Flyte2Sandbox
from flyte_admin_sandbox.v2.demo import deploy_demo_task

from tests.support.live import LIVE_DAG_IDS, live_deployment
from tests.support.sandboxes import new_sandbox


@pytest.fixture(scope="package")
def sandbox() -> Iterator[FlyteSandbox]:
    with new_sandbox() as running:
        yield running


@pytest.fixture(scope="package")
def sandbox2() -> Iterator[Flyte2Sandbox]:
    """The Flyte 2 sandbox behind ``flyte2_default``, with ``demo.summarize`` (what ``example_flyte2`` runs)."""
    with Flyte2Sandbox() as running:
        deploy_demo_task(running)
        yield running


@pytest.fixture(scope="package")
def deployment(sandbox: FlyteSandbox, sandbox2: Flyte2Sandbox) -> Iterator[AirflowDeployment]:
    with live_deployment(sandbox, sandbox2) as running:
        running.wait_until_ready(dag_ids=LIVE_DAG_IDS)
        yield running
