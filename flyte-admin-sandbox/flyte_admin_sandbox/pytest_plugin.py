"""A pytest plugin offering running Flyte sandboxes to tests: the ``flyte_sandbox`` and ``flyte2_sandbox`` fixtures.

Each test gets a fresh, seeded, in-memory sandbox on a free port::

    def test_my_dag(flyte_sandbox):
        remote = FlyteRemote(flyte_sandbox.config, default_project="flytesnacks", default_domain="development")
        ...

Mark a test with ``@pytest.mark.flyte_sandbox(seed=False, task_delay=0.5, auth=True)`` to pass
:class:`~flyte_admin_sandbox.FlyteSandbox` options.

``flyte2_sandbox`` is a fresh Flyte 2 sandbox (:class:`~flyte_admin_sandbox.v2.Flyte2Sandbox`, gRPC and Connect on
free loopback ports; needs the ``flyte2`` extra)::

    def test_my_flyte2_client(flyte2_sandbox):
        channel = grpc.insecure_channel(flyte2_sandbox.grpc_endpoint)
        ...

Mark a test with ``@pytest.mark.flyte2_sandbox(task_delay=0.5)`` to pass its options.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    # The plugin loads in every pytest run of an environment that has the sandbox installed: keep that free of
    # grpc and the sandbox until a test asks for the fixture.
    from flyte_admin_sandbox.server import FlyteSandbox
    from flyte_admin_sandbox.v2.server import Flyte2Sandbox


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``flyte_sandbox`` and ``flyte2_sandbox`` markers."""
    config.addinivalue_line("markers", "flyte_sandbox(**options): options for the flyte_sandbox fixture")
    config.addinivalue_line("markers", "flyte2_sandbox(**options): options for the flyte2_sandbox fixture")


@pytest.fixture
def flyte_sandbox(request: pytest.FixtureRequest) -> Iterator[FlyteSandbox]:
    """A running sandbox on a free loopback port, closed after the test."""
    from flyte_admin_sandbox.server import FlyteSandbox

    marker = request.node.get_closest_marker("flyte_sandbox")
    options = dict(marker.kwargs) if marker is not None else {}
    options.setdefault("port", 0)
    with FlyteSandbox(**options) as sandbox:
        yield sandbox


@pytest.fixture
def flyte2_sandbox(request: pytest.FixtureRequest) -> Iterator[Flyte2Sandbox]:
    """A running Flyte 2 sandbox (gRPC and Connect on free loopback ports), closed after the test."""
    from flyte_admin_sandbox.v2.server import Flyte2Sandbox

    marker = request.node.get_closest_marker("flyte2_sandbox")
    options = dict(marker.kwargs) if marker is not None else {}
    options.setdefault("port", 0)
    options.setdefault("connect_port", 0)
    with Flyte2Sandbox(**options) as sandbox:
        yield sandbox
