"""Fixtures: a recording server, and one test body driving either the sync or the asyncio client."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from friendly_recording_server import RecordingServer

from airflow_provider_flyte.clients.aio import AsyncFlyteClient
from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient
from airflow_provider_flyte.configuration import PlatformConfig


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    recording = RecordingServer()
    yield recording
    recording.stop()


@pytest.fixture
def config(server: RecordingServer) -> PlatformConfig:
    # No retries: the tests look at exactly the requests one client call sends.
    return PlatformConfig(endpoint=server.endpoint, insecure=True, rpc_retries=0, rpc_timeout=10.0)


class Driver:
    """Runs a client method the same way for both clients: ``await driver.call("get_task", id)``."""

    def __init__(self, client: SynchronousFlyteClient | AsyncFlyteClient) -> None:
        self.client = client
        self.is_async = isinstance(client, AsyncFlyteClient)

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, method)(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def collect(self, method: str, *args: Any, **kwargs: Any) -> list[Any]:
        """Every item of an ``iter_*`` helper (or ``paginate``)."""
        iterator = getattr(self.client, method)(*args, **kwargs)
        if self.is_async:
            return [item async for item in iterator]
        return list(iterator)


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
