"""Fixtures: a recording server, and one test body driving either the sync or the asyncio client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from friendly_recording_server import RecordingServer

from airflow_provider_flyte.clients.aio import AsyncFlyteClient
from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient
from airflow_provider_flyte.configuration import PlatformConfig
from tests.support.clients import Driver


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    recording = RecordingServer()
    yield recording
    recording.stop()


@pytest.fixture
def config(server: RecordingServer) -> PlatformConfig:
    # No retries: the tests look at exactly the requests one client call sends.
    return PlatformConfig(endpoint=server.endpoint, insecure=True, rpc_retries=0, rpc_timeout=10.0)


@pytest.fixture(params=["sync", "async"])
async def driver(request: pytest.FixtureRequest, config: PlatformConfig) -> AsyncIterator[Driver]:
    if request.param == "sync":
        sync_client = SynchronousFlyteClient(config)
        yield Driver(sync_client)
        sync_client.close()
    else:
        async_client = AsyncFlyteClient(config)
        yield Driver(async_client)
        await async_client.close()
