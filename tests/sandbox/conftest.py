from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from flyte_admin_sandbox import FlyteSandbox
from flyteidl.service import admin_pb2_grpc, dataproxy_pb2_grpc, signal_pb2_grpc

from tests.support.sandboxes import new_sandbox

# The `flyte_sandbox` fixture comes from the package's pytest plugin (entry point `pytest11`), as it does for users.


@pytest.fixture
def sandbox() -> Iterator[FlyteSandbox]:
    with new_sandbox() as running:
        yield running


@pytest.fixture
def channel(sandbox: FlyteSandbox) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(sandbox.endpoint) as opened:
        yield opened


@pytest.fixture
def admin(channel: grpc.Channel) -> admin_pb2_grpc.AdminServiceStub:
    return admin_pb2_grpc.AdminServiceStub(channel)


@pytest.fixture
def signals(channel: grpc.Channel) -> signal_pb2_grpc.SignalServiceStub:
    return signal_pb2_grpc.SignalServiceStub(channel)


@pytest.fixture
def dataproxy(channel: grpc.Channel) -> dataproxy_pb2_grpc.DataProxyServiceStub:
    return dataproxy_pb2_grpc.DataProxyServiceStub(channel)
