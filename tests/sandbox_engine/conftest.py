from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from flyteidl.service import admin_pb2_grpc, signal_pb2_grpc

from airflow_provider_flyte.sandbox import FlyteSandbox

# Fast engine for tests: short default task time, frequent looks at signals.
TASK_DELAY = 0.01
POLL_INTERVAL = 0.02


def fast_sandbox(**options: object) -> FlyteSandbox:
    sandbox = FlyteSandbox(port=0, task_delay=options.pop("task_delay", TASK_DELAY), **options)  # type: ignore[arg-type]
    sandbox.engine.poll_interval = POLL_INTERVAL
    return sandbox


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
