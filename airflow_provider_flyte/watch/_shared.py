"""Resources shared per event loop and key: one async client per connection, one watcher per connection.

Processes that watch on behalf of many independent callers (Airflow's triggerer runs every trigger on one event loop)
share them per event loop and per string key (a connection id).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from airflow_provider_flyte.watch._watcher import ExecutionWatcher

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.aio import AsyncFlyteClient
    from airflow_provider_flyte.configuration import PlatformConfig

# One AsyncFlyteClient (one grpc.aio channel) per (key, config) and event loop. grpc.aio channels belong to the loop
# they were created on, so the caches are per loop and forget a loop once it is garbage collected.
_LoopClients = dict[tuple[str, "PlatformConfig"], "AsyncFlyteClient"]
_ASYNC_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClients] = weakref.WeakKeyDictionary()
_LEASES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, PlatformConfig], int]] = (
    weakref.WeakKeyDictionary()
)
"""How many :func:`leased_async_client` contexts hold each shared client, per loop."""
_WATCHERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, ExecutionWatcher]] = (
    weakref.WeakKeyDictionary()
)


def shared_async_client(key: str, config: PlatformConfig) -> AsyncFlyteClient:
    """The running loop's client for ``(key, config)``, created on first use.

    Args:
        key: Who shares the client (an Airflow connection id, for instance).
        config: How to reach Flyte Admin; a changed config gets a new client.
    """
    loop = asyncio.get_running_loop()
    clients = _ASYNC_CLIENTS.setdefault(loop, {})
    client = clients.get((key, config))
    if client is None:
        from airflow_provider_flyte.clients.aio import AsyncFlyteClient

        client = AsyncFlyteClient(config)
        clients[(key, config)] = client
    return client


async def release_async_client(key: str, config: PlatformConfig) -> None:
    """Close and forget the running loop's client for ``(key, config)``, unless a lease still holds it.

    A watcher going idle releases its client while other callers may be using it (a signal trigger polling with the
    same connection); their :func:`leased_async_client` keeps it open, and the last lease to end closes it.

    Args:
        key: The key the client was shared under.
        config: Its config.
    """
    loop = asyncio.get_running_loop()
    if _LEASES.get(loop, {}).get((key, config)):
        return
    client = _ASYNC_CLIENTS.get(loop, {}).pop((key, config), None)
    if client is not None:
        await client.close()


@contextlib.asynccontextmanager
async def leased_async_client(key: str, config: PlatformConfig) -> AsyncIterator[AsyncFlyteClient]:
    """The shared client of ``(key, config)``, kept open for as long as the context lasts.

    On leaving, the client is closed when nothing uses it any more (no other lease and no watcher of ``key``).

    Args:
        key: Who shares the client (an Airflow connection id, for instance).
        config: How to reach Flyte Admin.
    """
    loop = asyncio.get_running_loop()
    leases = _LEASES.setdefault(loop, {})
    leases[(key, config)] = leases.get((key, config), 0) + 1
    try:
        yield shared_async_client(key, config)
    finally:
        leases[(key, config)] -= 1
        if not leases[(key, config)]:
            del leases[(key, config)]
            if not has_watcher(key):
                await release_async_client(key, config)


def has_watcher(key: str) -> bool:
    """Whether the running loop has a watcher (and so a shared client in use) for ``key``."""
    return key in _WATCHERS.get(asyncio.get_running_loop(), {})


def watcher_for(key: str, config: PlatformConfig) -> ExecutionWatcher:
    """The running loop's watcher for ``key``, created (on the :func:`shared_async_client`) on first use.

    The watcher forgets itself and releases its shared client once its last subscription closed.

    Args:
        key: Who shares the watcher (an Airflow connection id, for instance); watchers, like clients, are shared per
            key and event loop.
        config: How to reach Flyte Admin, already resolved by the caller.
    """
    watchers = _WATCHERS.setdefault(asyncio.get_running_loop(), {})
    watcher = watchers.get(key)
    if watcher is None:

        async def on_idle() -> None:
            if watchers.get(key) is watcher:
                del watchers[key]
            await release_async_client(key, config)

        watcher = ExecutionWatcher(shared_async_client(key, config), on_idle)
        watchers[key] = watcher
    return watcher


__all__ = ["has_watcher", "leased_async_client", "release_async_client", "shared_async_client", "watcher_for"]
