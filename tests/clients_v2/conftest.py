"""Fixtures: a scripted Flyte 2 backend, and one test body driving either the sync or the asyncio Flyte 2 client."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from v2_fake_services import ScriptedFlyte2, serve_flyte2

from airflow_provider_flyte.clients.v2.aio import AsyncFlyte2Client
from airflow_provider_flyte.clients.v2.friendly import Flyte2Client


class Driver2:
    """Runs a Flyte 2 client method the same way on either client: ``await driver.call("get_run_details", id)``."""

    def __init__(self, client: Flyte2Client | AsyncFlyte2Client) -> None:
        self.client = client
        self.is_async = isinstance(client, AsyncFlyte2Client)

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, method)(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def collect(self, method: str, *args: Any, limit: int | None = None, **kwargs: Any) -> list[Any]:
        """The items of an iterator method (a watch or ``iter_*``), at most ``limit`` of them."""
        iterator = getattr(self.client, method)(*args, **kwargs)
        items: list[Any] = []
        if self.is_async:
            async for item in iterator:
                items.append(item)
                if limit is not None and len(items) >= limit:
                    await iterator.aclose()
                    break
            return items
        for item in iterator:
            items.append(item)
            if limit is not None and len(items) >= limit:
                iterator.close()
                break
        return items


@pytest.fixture
def backend() -> Iterator[ScriptedFlyte2]:
    with serve_flyte2() as state:
        yield state


@pytest.fixture(params=["sync", "async"])
async def driver(request: pytest.FixtureRequest, backend: ScriptedFlyte2) -> AsyncIterator[Driver2]:
    config = backend.config()
    if request.param == "sync":
        sync_client = Flyte2Client(config)
        yield Driver2(sync_client)
        sync_client.close()
    else:
        async_client = AsyncFlyte2Client(config)
        yield Driver2(async_client)
        await async_client.close()
