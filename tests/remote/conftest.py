"""Fixtures of the remote tests: a FlyteRemote on a fresh, seeded sandbox, and the log of the RPCs it makes.

``flyte_sandbox`` (a new in-memory sandbox on a free port per test) comes from the package's pytest plugin.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flyte_admin_sandbox import FlyteSandbox
from remote_helpers import D, P, RpcLog, spy_on

from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient
from airflow_provider_flyte.remote import FlyteRemote


@pytest.fixture
def rpcs() -> RpcLog:
    """The RPCs the ``remote`` fixture's client sent."""
    return RpcLog()


@pytest.fixture
def remote(flyte_sandbox: FlyteSandbox, rpcs: RpcLog) -> Iterator[FlyteRemote]:
    """A remote on the sandbox with flytesnacks/development defaults, its client's RPCs logged in ``rpcs``."""
    client = spy_on(SynchronousFlyteClient(flyte_sandbox.config), rpcs)
    with FlyteRemote(flyte_sandbox.config, default_project=P, default_domain=D, client=client) as flyte:
        yield flyte
    client.close()
