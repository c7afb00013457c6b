"""Watch many Flyte executions from asyncio with one poller: coalesced ``ListExecutions`` instead of a call per run.

Polling each execution with its own ``GetExecution`` costs one RPC per watcher per tick. An
:class:`ExecutionWatcher` fetches every execution it is asked about together: one ``ListExecutions`` per
project/domain per tick, filtered with ``value_in(execution_name,a;b;...)`` (in pages of
:data:`MAX_NAMES_PER_LIST` names, so the filter stays a reasonable size; the pages are kept from one tick to the
next). An execution the listing does not return (archived executions are hidden from listings) is fetched with
``GetExecution``. Transient failures (Admin unreachable, restarting, overloaded) are retried on the next ticks, for
as long as each subscription's ``outage_tolerance`` allows, measured in wall time from the first failed tick (see
:mod:`airflow_provider_flyte.waiting`); a non-transient error fails the watches at once.

Used on its own, with any :class:`~airflow_provider_flyte.clients.aio.AsyncFlyteClient`::

    async with AsyncFlyteClient(config) as client, ExecutionWatcher(client) as watcher:
        async with watcher.subscribe("ex:flytesnacks:development:abc", poll_interval=5) as subscription:
            while not (snapshot := await subscription.next()).is_terminal:
                print(snapshot.phase)

The poller starts with the first subscription and stops when the last one closes.

Processes that watch on behalf of many independent callers (Airflow's triggerer runs every trigger on one event
loop) share resources per event loop and per string key (a connection id): :func:`shared_async_client` hands out one
client (one ``grpc.aio`` channel) per ``(key, config)`` and loop, and :func:`watcher_for` one watcher per key and
loop, which releases its shared client when its last subscription closes.

Flyte 2 runs are watched by the same poller with the Flyte 2 backend: one ``ListRuns`` filtered with ``VALUE_IN`` on
the run names per project/domain per tick (:func:`run_watcher_for` on the :func:`shared_flyte2_client`, or
``ExecutionWatcher(async_flyte2_client, backend=FLYTE2)``); its snapshots are :class:`RunSnapshot` (Flyte 2 phase
names).

The package's modules: ``_snapshots`` (what callers get), ``_pages`` (the watched executions per project/domain and
the listing pages kept between ticks), ``_backends`` (what a tick fetches from Flyte 1 or Flyte 2, and how it reads
the answers), ``_watcher`` (the poller), ``_shared`` (the per-loop resources).

Nothing here imports Airflow; importing this package loads no grpc, protobuf or flyteidl code.
"""

from __future__ import annotations

from airflow_provider_flyte._phases import TERMINAL_PHASE_NAMES as TERMINAL_PHASES
from airflow_provider_flyte.watch._backends import FLYTE1, FLYTE2, RunSnapshot, WatchBackend
from airflow_provider_flyte.watch._pages import MAX_NAMES_PER_LIST
from airflow_provider_flyte.watch._shared import _ASYNC_CLIENTS as _ASYNC_CLIENTS
from airflow_provider_flyte.watch._shared import _WATCHERS as _WATCHERS
from airflow_provider_flyte.watch._shared import (
    has_watcher,
    leased_async_client,
    leased_flyte2_client,
    release_async_client,
    run_watcher_for,
    shared_async_client,
    shared_flyte2_client,
    watcher_for,
)
from airflow_provider_flyte.watch._snapshots import ExecutionSnapshot, Subscription, WatchError
from airflow_provider_flyte.watch._watcher import MAX_CONCURRENT_CALLS, ExecutionWatcher, WatcherStats

__all__ = [
    "FLYTE1",
    "FLYTE2",
    "MAX_CONCURRENT_CALLS",
    "MAX_NAMES_PER_LIST",
    "TERMINAL_PHASES",
    "ExecutionSnapshot",
    "ExecutionWatcher",
    "RunSnapshot",
    "Subscription",
    "WatchBackend",
    "WatchError",
    "WatcherStats",
    "has_watcher",
    "leased_async_client",
    "leased_flyte2_client",
    "release_async_client",
    "run_watcher_for",
    "shared_async_client",
    "shared_flyte2_client",
    "watcher_for",
]
