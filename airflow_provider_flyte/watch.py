"""Watch many Flyte executions from asyncio with one poller: coalesced ``ListExecutions`` instead of a call per run.

Polling each execution with its own ``GetExecution`` costs one RPC per watcher per tick. An
:class:`ExecutionWatcher` fetches every execution it is asked about together: one ``ListExecutions`` per
project/domain per tick, filtered with ``value_in(execution_name,a;b;...)`` (in chunks of
:data:`MAX_NAMES_PER_LIST`, so the filter stays a reasonable size). An execution the listing does not return
(archived executions are hidden from listings) is fetched with ``GetExecution``. Transient failures (Admin
unreachable, restarting, overloaded) are retried on the next ticks, for as long as each subscription's
``outage_tolerance`` allows, measured in wall time from the first failed tick (see
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

Nothing here imports Airflow; importing this module loads no grpc, protobuf or flyteidl code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.exceptions import (
    FlyteAdminUnreachableException,
    FlyteEntityNotExistException,
    FlyteException,
)
from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
from airflow_provider_flyte.remote.executions import WORKFLOW_PHASES, WORKFLOW_TERMINAL_PHASES, phase_name
from airflow_provider_flyte.waiting import DEFAULT_OUTAGE_TOLERANCE, WaitClock, WaitLogger, is_transient

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.aio import AsyncFlyteClient
    from airflow_provider_flyte.configuration import PlatformConfig

log = logging.getLogger(__name__)

__all__ = [
    "MAX_NAMES_PER_LIST",
    "TERMINAL_PHASES",
    "ExecutionSnapshot",
    "ExecutionWatcher",
    "Subscription",
    "WatchError",
    "WatcherStats",
    "has_watcher",
    "release_async_client",
    "shared_async_client",
    "watcher_for",
]

MAX_NAMES_PER_LIST = 200
"""Names per ``value_in`` filter: keeps one request's filter string a few kilobytes long."""

TERMINAL_PHASES = frozenset(WORKFLOW_PHASES[phase] for phase in WORKFLOW_TERMINAL_PHASES)
"""Names of the phases in which an execution is finished (``SUCCEEDED``, ``FAILED``, ``ABORTED``, ``TIMED_OUT``)."""


@dataclass(frozen=True)
class ExecutionSnapshot:
    """What a tick learned about one execution.

    Attributes:
        execution_id: The execution.
        phase: Its phase name (``"RUNNING"``, ``"SUCCEEDED"``...).
        message: Flyte's error message of a failed run, or the abort cause of an aborted one; else empty.
    """

    execution_id: WorkflowExecutionIdentifier
    phase: str
    message: str = ""
    phase_number: int = field(default=-1, compare=False)
    """The ``WorkflowExecution.Phase`` value (``-1`` when built from a name only); a cheap change check."""

    @property
    def is_terminal(self) -> bool:
        """Whether the execution is finished."""
        return self.phase in TERMINAL_PHASES

    @classmethod
    def from_execution(
        cls, execution: Any, execution_id: WorkflowExecutionIdentifier | None = None
    ) -> ExecutionSnapshot:
        """Build from an ``admin.Execution`` message.

        Args:
            execution: The execution as Admin returns it.
            execution_id: Its identifier, when the caller has it already (saves building it again).
        """
        closure = execution.closure
        phase = int(closure.phase)
        message = ""
        if closure.HasField("error"):
            message = closure.error.message
        elif closure.HasField("abort_metadata"):
            message = closure.abort_metadata.cause
        return cls(
            execution_id or WorkflowExecutionIdentifier.from_flyte_idl(execution.id),
            phase_name(WORKFLOW_PHASES, phase),
            message,
            phase,
        )


class WatchError(Exception):
    """Watching an execution failed (not found, persistent errors, bad credentials, the watcher closed)."""


@dataclass(eq=False)
class Subscription:
    """One caller's interest in one execution; :meth:`next` returns each new snapshot.

    Its ``outage`` clock follows Flyte Admin's failures for this caller: it logs them to the caller's logger (a
    trigger's, so they show in the task's log) and fails the subscription past its ``outage_tolerance``.

    Attributes:
        execution_id: The watched execution.
        poll_interval: Longest time between two looks at it, in seconds.
        outage: The clock that decides how long this caller rides out Admin being unreachable.
        latest: The last snapshot published, if any.
        error: Why the watch failed, once it has.
    """

    execution_id: WorkflowExecutionIdentifier
    poll_interval: float
    outage: WaitClock
    latest: ExecutionSnapshot | None = None
    error: WatchError | None = None
    _updated: asyncio.Event = field(default_factory=asyncio.Event)

    def publish(self, snapshot: ExecutionSnapshot) -> None:
        """Record a snapshot (and wake the caller)."""
        self.latest = snapshot
        self._updated.set()

    def fail(self, error: WatchError) -> None:
        """Record a failure (and wake the caller)."""
        self.error = error
        self._updated.set()

    async def next(self, timeout: float | None = None) -> ExecutionSnapshot:
        """Wait for the next snapshot.

        Args:
            timeout: Seconds to wait at most; ``None`` waits as long as it takes.

        Raises:
            WatchError: when the watch failed.
            TimeoutError: when ``timeout`` seconds pass first (``asyncio.TimeoutError`` before Python 3.11).
        """
        await asyncio.wait_for(self._updated.wait(), timeout)
        self._updated.clear()
        if self.error is not None:
            raise self.error
        assert self.latest is not None  # set before the event
        return self.latest


@dataclass
class WatcherStats:
    """RPC counters of a watcher (read by tests and the coalescing benchmark).

    Attributes:
        ticks: Polling rounds done (each looks at every watched execution).
        first_looks: Rounds that looked only at newly watched executions.
        list_calls: ``ListExecutions`` calls made.
        get_calls: ``GetExecution`` calls made (for executions the listings did not return).
        wakeups: Snapshots handed to subscriptions (only when an execution changed, or to a new subscription).
    """

    ticks: int = 0
    first_looks: int = 0
    list_calls: int = 0
    get_calls: int = 0
    wakeups: int = 0


MAX_CONCURRENT_CALLS = 8
"""Listing pages (and ``GetExecution`` fallbacks) one tick has in flight at once."""


class ExecutionWatcher:
    """Polls the executions its subscriptions ask for, batching them per project/domain.

    Its costs follow the number of watched executions and the poll interval, not the rate at which callers come and
    go:

    * **ticks** look at every watched execution once per poll interval (the shortest any subscription asked for),
      with one ``ListExecutions`` per :data:`MAX_NAMES_PER_LIST` names, at most :data:`MAX_CONCURRENT_CALLS` at once;
    * a **first look** serves new subscriptions: executions nobody watched yet are looked at right away (batched with
      the others subscribed in the same moment), without a tick; an execution already watched hands its current
      snapshot to the new subscription without any call;
    * **wakeups** go only to the subscriptions of an execution whose phase changed (and to new subscriptions).

    Usable as an async context manager: leaving it stops the poller and fails the subscriptions still open (the
    client stays open: it belongs to the caller).

    Args:
        client: Async client whose ``list_executions_paginated`` and ``get_execution`` coroutines are used.
        on_idle: Awaited after the last subscription closed and the poller stopped (releases shared resources).
        max_concurrent_calls: Calls of one round in flight at once.
    """

    def __init__(
        self,
        client: AsyncFlyteClient,
        on_idle: Callable[[], Awaitable[None]] | None = None,
        max_concurrent_calls: int = MAX_CONCURRENT_CALLS,
    ) -> None:
        self._client = client
        self._on_idle = on_idle
        self._subscriptions: dict[WorkflowExecutionIdentifier, set[Subscription]] = {}
        self._latest: dict[WorkflowExecutionIdentifier, ExecutionSnapshot] = {}
        self._intervals: Counter[float] = Counter()
        self._unreachable: set[tuple[str, str]] = set()
        self._new: set[WorkflowExecutionIdentifier] = set()
        self._first_look: asyncio.Task[None] | None = None
        self._calls = asyncio.Semaphore(max_concurrent_calls)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.stats = WatcherStats()

    async def __aenter__(self) -> ExecutionWatcher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

    @property
    def watched(self) -> int:
        """Number of distinct executions being watched."""
        return len(self._subscriptions)

    async def aclose(self) -> None:
        """Stop polling; subscriptions still open fail with :class:`WatchError` (their ``next`` raises it)."""
        for task in (self._task, self._first_look):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._first_look = None
        for subscriptions in list(self._subscriptions.values()):
            for subscription in subscriptions:
                subscription.fail(WatchError(f"the watcher of execution {subscription.execution_id} was closed"))

    @contextlib.asynccontextmanager
    async def subscribe(
        self,
        execution_id: WorkflowExecutionIdentifier | str,
        poll_interval: float = 10.0,
        outage_tolerance: float = DEFAULT_OUTAGE_TOLERANCE,
        logger: WaitLogger | None = None,
    ) -> AsyncIterator[Subscription]:
        """Watch ``execution_id`` while the context is open; the first snapshot comes from a first look right away.

        Args:
            execution_id: The execution to watch, or its ``ex:project:domain:name`` form.
            poll_interval: Longest time between two looks at it, in seconds.
            outage_tolerance: Seconds of Flyte Admin failing before this watch fails.
            logger: Where this watch's outage warnings go (default: this module's logger).

        Yields:
            The subscription, whose :meth:`Subscription.next` returns each snapshot.
        """
        if isinstance(execution_id, str):
            execution_id = WorkflowExecutionIdentifier.from_python_std(execution_id)
        outage = WaitClock(
            f"execution {execution_id}", interval=poll_interval, outage_tolerance=outage_tolerance, logger=logger
        )
        subscription = Subscription(execution_id, poll_interval, outage)
        self._add(subscription)
        try:
            yield subscription
        finally:
            await self._unsubscribe(subscription)

    def _add(self, subscription: Subscription) -> None:
        execution_id = subscription.execution_id
        shortest = min(self._intervals, default=None)
        self._subscriptions.setdefault(execution_id, set()).add(subscription)
        self._intervals[subscription.poll_interval] += 1
        known = self._latest.get(execution_id)
        if known is not None:
            subscription.publish(known)  # already watched: its current snapshot, no call
            self.stats.wakeups += 1
        else:
            self._new.add(execution_id)
            if self._first_look is None or self._first_look.done():
                self._first_look = asyncio.get_running_loop().create_task(self._look_at_new(), name="flyte-first-look")
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="flyte-execution-watcher")
        elif shortest is not None and subscription.poll_interval < shortest:
            self._wake.set()  # the tick schedule tightens

    async def _unsubscribe(self, subscription: Subscription) -> None:
        execution_id = subscription.execution_id
        watchers = self._subscriptions.get(execution_id)
        if watchers is not None and subscription in watchers:
            watchers.discard(subscription)
            self._intervals[subscription.poll_interval] -= 1
            if not self._intervals[subscription.poll_interval]:
                del self._intervals[subscription.poll_interval]
            if not watchers:
                del self._subscriptions[execution_id]
                self._latest.pop(execution_id, None)
                self._new.discard(execution_id)
        if self._subscriptions or self._task is None:
            return
        task, self._task = self._task, None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if self._subscriptions:
            return  # someone subscribed while the poller stopped, and started a new one
        if self._on_idle is not None:
            await self._on_idle()

    async def _look_at_new(self) -> None:
        """Look once at executions nobody watched before, batching those subscribed in the same moment."""
        await asyncio.sleep(0)  # subscriptions opened in the same loop iteration join this look
        while self._new:
            batch, self._new = self._new, set()
            self.stats.first_looks += 1
            await self._poll(batch)

    async def _run(self) -> None:
        """Tick every poll interval, from the end of the previous tick's start (a tightened interval applies now)."""
        started = time.monotonic()
        while self._subscriptions:
            delay = started + min(self._intervals, default=0.0) - time.monotonic()
            if delay > 0:
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                continue
            started = time.monotonic()
            await self.poll_once()

    async def poll_once(self) -> None:
        """One tick: refresh every watched execution and wake the subscriptions of those that changed."""
        self.stats.ticks += 1
        await self._poll(list(self._subscriptions))

    async def _poll(self, execution_ids: Iterable[WorkflowExecutionIdentifier]) -> None:
        groups: dict[tuple[str, str], dict[str, WorkflowExecutionIdentifier]] = defaultdict(dict)
        for execution_id in execution_ids:
            groups[(execution_id.project, execution_id.domain)][execution_id.name] = execution_id
        await asyncio.gather(*(self._poll_group(key, by_name) for key, by_name in groups.items()))

    async def _poll_group(self, key: tuple[str, str], by_name: dict[str, WorkflowExecutionIdentifier]) -> None:
        started = time.monotonic()
        missing = set(by_name)
        try:
            pages = _chunks(sorted(by_name), MAX_NAMES_PER_LIST)
            await asyncio.gather(*(self._list_page(key, page, by_name, missing) for page in pages))
            await asyncio.gather(*(self._get(by_name[name]) for name in sorted(missing)))
        except Exception as error:
            self._poll_failed(key, error, started)
        else:
            if key in self._unreachable:
                self._unreachable.discard(key)
                for subscription in self._group(key):
                    subscription.outage.answered()  # logs that Admin is back

    def _poll_failed(self, key: tuple[str, str], error: Exception, started: float) -> None:
        if is_transient(error):
            self._ride_out(key, error, started)
        elif isinstance(error, FlyteException):
            self._fail(key, str(error))
        else:
            # Anything unexpected fails the watches (the callers report it) instead of leaving them waiting.
            log.exception("Polling Flyte executions in %s/%s failed unexpectedly", *key)
            self._fail(key, f"{type(error).__name__}: {error}")

    async def _list_page(
        self, key: tuple[str, str], names: list[str], by_name: dict[str, WorkflowExecutionIdentifier], missing: set[str]
    ) -> None:
        from airflow_provider_flyte.clients.filters import ValueIn

        async with self._calls:
            self.stats.list_calls += 1
            items, _token = await self._client.list_executions_paginated(
                key[0], key[1], limit=len(names), token="", filters=str(ValueIn("execution_name", names))
            )
        for item in items:
            execution_id = by_name.get(item.id.name)
            if execution_id is not None:
                missing.discard(item.id.name)
                self._observe(execution_id, item)

    async def _get(self, execution_id: WorkflowExecutionIdentifier) -> None:
        """Fetch one execution a listing did not return (archived executions are hidden from listings)."""
        async with self._calls:
            self.stats.get_calls += 1
            try:
                execution = await self._client.get_execution(execution_id)
            except FlyteEntityNotExistException:
                for subscription in self._subscriptions.get(execution_id, ()):
                    subscription.fail(WatchError(f"execution {execution_id} does not exist"))
                return
        self._observe(execution_id, execution)

    def _observe(self, execution_id: WorkflowExecutionIdentifier, execution: Any) -> None:
        """Wake the subscriptions of ``execution_id`` if its phase changed since the last look."""
        subscriptions = self._subscriptions.get(execution_id)
        if not subscriptions:
            return  # unsubscribed while the call was in flight
        latest = self._latest.get(execution_id)
        if latest is not None and latest.phase_number == execution.closure.phase:
            return  # cheap check first: most executions did not change since the last tick
        snapshot = ExecutionSnapshot.from_execution(execution, execution_id)
        self._latest[execution_id] = snapshot
        for subscription in subscriptions:
            subscription.publish(snapshot)
        self.stats.wakeups += len(subscriptions)

    def _ride_out(self, key: tuple[str, str], error: BaseException, since: float) -> None:
        """Keep the watches of ``key`` through a transient failure; fail those whose outage tolerance is spent."""
        self._unreachable.add(key)
        for subscription in self._group(key):
            try:
                subscription.outage.failed(error, since=since)  # logs the outage's start and about once a minute
            except FlyteAdminUnreachableException as gave_up:
                subscription.fail(WatchError(str(gave_up)))

    def _group(self, key: tuple[str, str]) -> list[Subscription]:
        return [
            subscription
            for execution_id, subscriptions in self._subscriptions.items()
            if (execution_id.project, execution_id.domain) == key
            for subscription in subscriptions
        ]

    def _fail(self, key: tuple[str, str], message: str) -> None:
        self._unreachable.discard(key)
        for subscription in self._group(key):
            subscription.fail(WatchError(message))


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ---------------------------------------------------------------------- resources shared per event loop

# One AsyncFlyteClient (one grpc.aio channel) per (key, config) and event loop. grpc.aio channels belong to the loop
# they were created on, so the caches are per loop and forget a loop once it is garbage collected.
_LoopClients = dict[tuple[str, "PlatformConfig"], "AsyncFlyteClient"]
_ASYNC_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClients] = weakref.WeakKeyDictionary()
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
    """Close and forget the running loop's client for ``(key, config)``, if any.

    Args:
        key: The key the client was shared under.
        config: Its config.
    """
    clients = _ASYNC_CLIENTS.get(asyncio.get_running_loop(), {})
    client = clients.pop((key, config), None)
    if client is not None:
        await client.close()


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
