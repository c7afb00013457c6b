"""A pytest plugin offering a running Flyte sandbox to tests: the ``flyte_sandbox`` fixture.

Each test gets a fresh, seeded, in-memory sandbox on a free port::

    def test_my_dag(flyte_sandbox):
        remote = FlyteRemote(flyte_sandbox.config, default_project="flytesnacks", default_domain="development")
        ...

Mark a test with ``@pytest.mark.flyte_sandbox(seed=False, task_delay=0.5, auth=True)`` to pass
:class:`~flyte_admin_sandbox.FlyteSandbox` options.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    # The plugin loads in every pytest run of an environment that has the sandbox installed: keep that free of
    # grpc and the sandbox until a test asks for the fixture.
    from flyte_admin_sandbox.server import FlyteSandbox


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``flyte_sandbox`` marker."""
    config.addinivalue_line("markers", "flyte_sandbox(**options): options for the flyte_sandbox fixture")


@pytest.fixture
def flyte_sandbox(request: pytest.FixtureRequest) -> Iterator[FlyteSandbox]:
    """A running sandbox on a free loopback port, closed after the test."""
    from flyte_admin_sandbox.server import FlyteSandbox

    marker = request.node.get_closest_marker("flyte_sandbox")
    options = dict(marker.kwargs) if marker is not None else {}
    options.setdefault("port", 0)
    with FlyteSandbox(**options) as sandbox:
        yield sandbox
