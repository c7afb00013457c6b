from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from engine_helpers import fast_sandbox
from flyte_admin_sandbox import FlyteSandbox
from flyteidl.service import admin_pb2_grpc, signal_pb2_grpc


@pytest.fixture(scope="module")
def sandbox() -> Iterator[FlyteSandbox]:
    with fast_sandbox() as running:
        yield running


@pytest.fixture(autouse=True)
def _no_scripts_left(sandbox: FlyteSandbox) -> Iterator[None]:
    yield
    sandbox.engine.behaviours.clear()


@pytest.fixture(scope="module")
def channel(sandbox: FlyteSandbox) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(sandbox.endpoint) as opened:
        yield opened


@pytest.fixture(scope="module")
def admin(channel: grpc.Channel) -> admin_pb2_grpc.AdminServiceStub:
    return admin_pb2_grpc.AdminServiceStub(channel)


@pytest.fixture(scope="module")
def signals(channel: grpc.Channel) -> signal_pb2_grpc.SignalServiceStub:
    return signal_pb2_grpc.SignalServiceStub(channel)
