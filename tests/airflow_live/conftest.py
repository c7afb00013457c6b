"""Fixtures of the live tests: one Flyte sandbox, one Flyte 2 sandbox and one real Airflow deployment for the folder.

Starting the deployment (API server, scheduler, DAG processor, triggerer) takes about a minute on two cores, so every
test module of this folder uses the same one (package scope). ``test_airflow_flyte_demo_ui.py`` starts its own through
``airflow-flyte demo --ui``; its name sorts first, so it runs before the shared deployment starts and the two never
compete for the CPU. Shared helpers and constants live in ``tests/support/live.py``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest
from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox.airflow_deployment import AirflowDeployment
from flyte_admin_sandbox.v2 import Flyte2Sandbox
from flyte_admin_sandbox.v2.demo import DEMO_FUNCTION, DEMO_TASK, DEMO_VERSION, deploy_demo_task

from tests.support.flyte2_sdk import deploy_with_the_sdk
from tests.support.live import DOMAIN, LIVE_DAG_IDS, PROJECT, live_deployment
from tests.support.sandboxes import new_sandbox


@pytest.fixture(scope="package")
def sandbox() -> Iterator[FlyteSandbox]:
    with new_sandbox() as running:
        yield running


@pytest.fixture(scope="package")
def sandbox2() -> Iterator[Flyte2Sandbox]:
    """The Flyte 2 sandbox behind ``flyte2_default``, with ``demo.summarize`` (what ``example_flyte2`` runs).

    The ``flyte`` SDK deploys it (``sdk_demo_task.py``), so ``flyte2_live`` runs a task the SDK deployed; the sandbox
    runs it with the demo's behaviour. Without the SDK (a peer), our client deploys the same task, so the other live
    tests still run; ``test_flyte2_live.py`` then skips (or fails under ``CI=true``).
    """
    with Flyte2Sandbox() as running:
        if importlib.util.find_spec("flyte") is None:
            deploy_demo_task(running)
        else:
            from tests.airflow_live import sdk_demo_task

            deploy_with_the_sdk(running, sdk_demo_task.env, version=DEMO_VERSION, project=PROJECT, domain=DOMAIN)
            running.behave(DEMO_TASK, function=DEMO_FUNCTION)
        yield running


@pytest.fixture(scope="package")
def deployment(sandbox: FlyteSandbox, sandbox2: Flyte2Sandbox) -> Iterator[AirflowDeployment]:
    with live_deployment(sandbox, sandbox2) as running:
        running.wait_until_ready(dag_ids=LIVE_DAG_IDS)
        yield running
