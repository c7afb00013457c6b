"""Resources shared per event loop and key: one async client per connection, one watcher per connection.

Processes that watch on behalf of many independent callers (Airflow's triggerer runs every trigger on one event loop)
share them per event loop and per string key (a connection id). Flyte 1 and Flyte 2 each have their own family of
caches (a :class:`_Family`): :func:`shared_async_client`, :func:`leased_async_client` and :func:`watcher_for` for
Flyte 1, :func:`shared_flyte2_client`, :func:`leased_flyte2_client` and :func:`run_watcher_for` for Flyte 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from airflow_provider_flyte.watch._backends import FLYTE1, FLYTE2, WatchBackend
from airflow_provider_flyte.watch._watcher import ExecutionWatcher

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.aio import AsyncFlyteClient
    from airflow_provider_flyte.clients.v2 import AsyncFlyte2Client
    from airflow_provider_flyte.configuration import PlatformConfig


ClientT = TypeVar("ClientT", bound="AsyncFlyteClient | AsyncFlyte2Client")


@dataclass
class _Family(Generic[ClientT]):
    """The caches of one backend's shared clients, leases and watchers, per event loop."""

    make_client: Callable[[PlatformConfig], ClientT]
    backend: WatchBackend
    clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, PlatformConfig], ClientT]] = field(
        default_factory=weakref.WeakKeyDictionary
    )
    leases: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, PlatformConfig], int]] = field(
        default_factory=weakref.WeakKeyDictionary
    )
    watchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, ExecutionWatcher]] = field(
        default_factory=weakref.WeakKeyDictionary
    )

    def shared(self, key: str, config: PlatformConfig) -> ClientT:
        """The running loop's client for ``(key, config)``, created on first use."""
        clients = self.clients.setdefault(asyncio.get_running_loop(), {})
        client = clients.get((key, config))
        if client is None:
            client = clients[(key, config)] = self.make_client(config)
        return client

    async def release(self, key: str, config: PlatformConfig) -> None:
        """Close and forget the running loop's client for ``(key, config)``, unless a lease still holds it."""
        loop = asyncio.get_running_loop()
        if self.leases.get(loop, {}).get((key, config)):
            return
        client = self.clients.get(loop, {}).pop((key, config), None)
        if client is not None:
            await client.close()

    @contextlib.asynccontextmanager
    async def leased(self, key: str, config: PlatformConfig) -> AsyncIterator[ClientT]:
        """The shared client of ``(key, config)``, kept open while the context lasts."""
        leases = self.leases.setdefault(asyncio.get_running_loop(), {})
        leases[(key, config)] = leases.get((key, config), 0) + 1
        try:
            yield self.shared(key, config)
        finally:
            leases[(key, config)] -= 1
            if not leases[(key, config)]:
                del leases[(key, config)]
                if not self.has_watcher(key):
                    await self.release(key, config)

    def has_watcher(self, key: str) -> bool:
        """Whether the running loop has a watcher (and so a shared client in use) for ``key``."""
        return key in self.watchers.get(asyncio.get_running_loop(), {})

    def watcher(self, key: str, config: PlatformConfig) -> ExecutionWatcher:
        """The running loop's watcher for ``key``, created (on the shared client) on first use."""
        watchers = self.watchers.setdefault(asyncio.get_running_loop(), {})
        watcher = watchers.get(key)
        if watcher is None:

            async def on_idle() -> None:
                if watchers.get(key) is watcher:
                    del watchers[key]
                await self.release(key, config)

            watcher = ExecutionWatcher(self.shared(key, config), on_idle, backend=self.backend)
            watchers[key] = watcher
        return watcher


def _flyte1_client(config: PlatformConfig) -> AsyncFlyteClient:
    from airflow_provider_flyte.clients.aio import AsyncFlyteClient

    return AsyncFlyteClient(config)


def _flyte2_client(config: PlatformConfig) -> AsyncFlyte2Client:
    from airflow_provider_flyte.clients.v2.aio import AsyncFlyte2Client

    return AsyncFlyte2Client(config)


# One client (one grpc.aio channel) per (key, config) and event loop. grpc.aio channels belong to the loop they were
# created on, so the caches are per loop and forget a loop once it is garbage collected.
_FLYTE1: _Family[AsyncFlyteClient] = _Family(_flyte1_client, FLYTE1)
_FLYTE2: _Family[AsyncFlyte2Client] = _Family(_flyte2_client, FLYTE2)
_ASYNC_CLIENTS = _FLYTE1.clients
_LEASES = _FLYTE1.leases
"""How many :func:`leased_async_client` contexts hold each shared client, per loop."""
_WATCHERS = _FLYTE1.watchers


def shared_async_client(key: str, config: PlatformConfig) -> AsyncFlyteClient:
    """The running loop's client for ``(key, config)``, created on first use.

    Args:
        key: Who shares the client (an Airflow connection id, for instance).
        config: How to reach Flyte Admin; a changed config gets a new client.
    """
    return _FLYTE1.shared(key, config)


async def release_async_client(key: str, config: PlatformConfig) -> None:
    """Close and forget the running loop's client for ``(key, config)``, unless a lease still holds it.

    A watcher going idle releases its client while other callers may be using it (a signal trigger polling with the
    same connection); their :func:`leased_async_client` keeps it open, and the last lease to end closes it.

    Args:
        key: The key the client was shared under.
        config: Its config.
    """
    await _FLYTE1.release(key, config)


def leased_async_client(key: str, config: PlatformConfig) -> contextlib.AbstractAsyncContextManager[AsyncFlyteClient]:
    """The shared client of ``(key, config)``, kept open for as long as the context lasts.

    On leaving, the client is closed when nothing uses it any more (no other lease and no watcher of ``key``).

    Args:
        key: Who shares the client (an Airflow connection id, for instance).
        config: How to reach Flyte Admin.
    """
    return _FLYTE1.leased(key, config)


def has_watcher(key: str) -> bool:
    """Whether the running loop has a watcher (and so a shared client in use) for ``key``."""
    return _FLYTE1.has_watcher(key)


def watcher_for(key: str, config: PlatformConfig) -> ExecutionWatcher:
    """The running loop's watcher for ``key``, created (on the :func:`shared_async_client`) on first use.

    The watcher forgets itself and releases its shared client once its last subscription closed.

    Args:
        key: Who shares the watcher (an Airflow connection id, for instance); watchers, like clients, are shared per
            key and event loop.
        config: How to reach Flyte Admin, already resolved by the caller.
    """
    return _FLYTE1.watcher(key, config)


def shared_flyte2_client(key: str, config: PlatformConfig) -> AsyncFlyte2Client:
    """The running loop's Flyte 2 client for ``(key, config)``, created on first use (see :func:`shared_async_client`).

    Args:
        key: Who shares the client (an Airflow connection id, for instance).
        config: How to reach the Flyte 2 backend; a changed config gets a new client.
    """
    return _FLYTE2.shared(key, config)


def leased_flyte2_client(key: str, config: PlatformConfig) -> contextlib.AbstractAsyncContextManager[AsyncFlyte2Client]:
    """The shared Flyte 2 client of ``(key, config)``, kept open while the context lasts (:func:`leased_async_client`).

    Args:
        key: Who shares the client (an Airflow connection id, for instance).
        config: How to reach the Flyte 2 backend.
    """
    return _FLYTE2.leased(key, config)


def run_watcher_for(key: str, config: PlatformConfig) -> ExecutionWatcher:
    """The running loop's Flyte 2 run watcher for ``key`` (one ``ListRuns`` per project/domain and tick).

    Like :func:`watcher_for`, on the :func:`shared_flyte2_client`; its subscriptions take ``project:domain:name``
    run ids and hand out :class:`~._backends.RunSnapshot` snapshots (Flyte 2 phase names).

    Args:
        key: Who shares the watcher (an Airflow connection id, for instance).
        config: How to reach the Flyte 2 backend, already resolved by the caller.
    """
    return _FLYTE2.watcher(key, config)


__all__ = [
    "has_watcher",
    "leased_async_client",
    "leased_flyte2_client",
    "release_async_client",
    "run_watcher_for",
    "shared_async_client",
    "shared_flyte2_client",
    "watcher_for",
]
