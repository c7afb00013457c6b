"""The execution watcher: one poller for many subscriptions, coalesced listings per project/domain.

What a tick fetches and how it reads the answers is the watcher's :class:`~._backends.WatchBackend`: Flyte 1's
``ListExecutions`` (the default) or Flyte 2's ``ListRuns``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.exceptions import (
    FlyteAdminUnreachableException,
    FlyteEntityNotExistException,
    FlyteException,
)
from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
from airflow_provider_flyte.waiting import DEFAULT_OUTAGE_TOLERANCE, WaitClock, WaitLogger, is_transient
from airflow_provider_flyte.watch._backends import FLYTE1, WatchBackend
from airflow_provider_flyte.watch._pages import MAX_NAMES_PER_LIST, Group, ListRequest, Watched
from airflow_provider_flyte.watch._snapshots import Subscription, WatchError

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.aio import AsyncFlyteClient
    from airflow_provider_flyte.clients.v2 import AsyncFlyte2Client

log = logging.getLogger("airflow_provider_flyte.watch")

MAX_CONCURRENT_CALLS = 8
"""Listing pages (and ``GetExecution``/``GetRunDetails`` fallbacks) one tick has in flight at once."""


@dataclass
class WatcherStats:
    """RPC counters of a watcher (read by tests and the coalescing benchmark).

    Attributes:
        ticks: Polling rounds done (each looks at every watched execution).
        first_looks: Rounds that looked only at newly watched executions.
        list_calls: Listing calls made (``ListExecutions``, ``ListRuns``).
        get_calls: Single looks made (``GetExecution``, ``GetRunDetails``): for executions the listings did not
            return, Flyte 2 runs that finished, and lone new Flyte 2 subscriptions.
        wakeups: Snapshots handed to subscriptions (only when an execution changed, or to a new subscription).
    """

    ticks: int = 0
    first_looks: int = 0
    list_calls: int = 0
    get_calls: int = 0
    wakeups: int = 0


class ExecutionWatcher:
    """Polls the executions its subscriptions ask for, batching them per project/domain.

    Its costs follow the number of watched executions and the poll interval, not the rate at which callers come and
    go:

    * **ticks** look at every watched execution once per poll interval (the shortest any subscription asked for),
      with one ``ListExecutions`` per :data:`MAX_NAMES_PER_LIST` names, at most :data:`MAX_CONCURRENT_CALLS` at once;
      the pages and their filter strings are kept from one tick to the next (a page is formatted again only when an
      execution joined or left it);
    * a **first look** serves new subscriptions: executions nobody watched yet are looked at right away (batched with
      the others subscribed in the same moment), without a tick; an execution already watched hands its current
      snapshot to the new subscription without any call;
    * **wakeups** go only to the subscriptions of an execution whose phase changed (and to new subscriptions).

    Subscribing and unsubscribing cost O(1), whatever the number of watched executions.

    Usable as an async context manager: leaving it stops the poller and fails the subscriptions still open (the
    client stays open: it belongs to the caller).

    Args:
        client: Async client whose ``list_executions_paginated`` and ``get_execution`` coroutines are used (with
            ``backend=FLYTE2``: an ``AsyncFlyte2Client``, its ``list_runs`` and ``get_run_details``).
        on_idle: Awaited after the last subscription closed and the poller stopped (releases shared resources).
        max_concurrent_calls: Calls of one round in flight at once.
        backend: What a tick fetches and how it reads the answers (:data:`~._backends.FLYTE1` by default).
    """

    def __init__(
        self,
        client: AsyncFlyteClient | AsyncFlyte2Client,
        on_idle: Callable[[], Awaitable[None]] | None = None,
        max_concurrent_calls: int = MAX_CONCURRENT_CALLS,
        backend: WatchBackend = FLYTE1,
    ) -> None:
        self._client = client
        self._backend = backend
        self._on_idle = on_idle
        self._groups: dict[tuple[str, str], Group] = {}
        self._intervals: Counter[float] = Counter()
        self._new: dict[Watched, None] = {}  # waiting for their first look, in subscription order
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
        return sum(len(group) for group in self._groups.values())

    @property
    def pages(self) -> int:
        """Number of ``ListExecutions`` calls a tick makes (one per page of watched executions)."""
        return sum(group.pages for group in self._groups.values())

    async def aclose(self) -> None:
        """Stop polling; subscriptions still open fail with :class:`WatchError` (their ``next`` raises it)."""
        for task in (self._task, self._first_look):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._first_look = None
        for group in list(self._groups.values()):
            for subscription in group.subscriptions():
                described = self._backend.describe(subscription.execution_id)
                subscription.fail(WatchError(f"the watcher of {described} was closed"))

    def subscribe(
        self,
        execution_id: WorkflowExecutionIdentifier | str,
        poll_interval: float = 10.0,
        outage_tolerance: float = DEFAULT_OUTAGE_TOLERANCE,
        logger: WaitLogger | None = None,
    ) -> contextlib.AbstractAsyncContextManager[Subscription]:
        """Watch ``execution_id`` while the context is open; the first snapshot comes from a first look right away.

        Args:
            execution_id: The execution to watch, or its ``ex:project:domain:name`` form (a Flyte 2 run:
                ``project:domain:name``).
            poll_interval: Longest time between two looks at it, in seconds.
            outage_tolerance: Seconds of Flyte Admin failing before this watch fails.
            logger: Where this watch's outage warnings go (default: this module's logger).

        Returns:
            An async context manager (``async with watcher.subscribe(...) as subscription``) whose subscription's
            :meth:`Subscription.next` returns each snapshot (it raises :class:`WatchError` at once for a name Admin's
            filters cannot carry).
        """
        if isinstance(execution_id, str):
            execution_id = self._backend.parse_id(execution_id)
        outage = WaitClock(
            self._backend.describe(execution_id),
            interval=poll_interval,
            outage_tolerance=outage_tolerance,
            logger=logger if logger is not None else log,
        )
        return _Subscribed(self, Subscription(execution_id, poll_interval, outage))

    def _add(self, subscription: Subscription) -> None:
        execution_id = subscription.execution_id
        key = (execution_id.project, execution_id.domain)
        group = self._groups.get(key)
        entry = None if group is None else group.watched.get(execution_id.name)
        if entry is None:
            try:
                self._backend.check_name(execution_id.name)
            except FlyteException as error:
                subscription.fail(WatchError(f"cannot watch {self._backend.describe(execution_id)}: {error}"))
                return
            if group is None:
                group = self._groups[key] = Group(*key, make_request=self._backend.list_request)
            entry = Watched(execution_id)
            group.add(entry)  # joins the next tick
            self._new[entry] = None
            if self._first_look is None or self._first_look.done():
                self._first_look = asyncio.get_running_loop().create_task(self._look_at_new(), name="flyte-first-look")
        shortest = min(self._intervals, default=None)
        entry.subscriptions.append(subscription)
        self._intervals[subscription.poll_interval] += 1
        if entry.latest is not None:
            subscription.publish(entry.latest)  # already watched: its current snapshot, no call
            self.stats.wakeups += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="flyte-execution-watcher")
        elif shortest is not None and subscription.poll_interval < shortest:
            self._wake.set()  # the tick schedule tightens

    async def _unsubscribe(self, subscription: Subscription) -> None:
        execution_id = subscription.execution_id
        key = (execution_id.project, execution_id.domain)
        group = self._groups.get(key)
        entry = None if group is None else group.watched.get(execution_id.name)
        if group is not None and entry is not None and subscription in entry.subscriptions:
            entry.subscriptions.remove(subscription)
            self._intervals[subscription.poll_interval] -= 1
            if not self._intervals[subscription.poll_interval]:
                del self._intervals[subscription.poll_interval]
            if not entry.subscriptions:
                group.remove(execution_id.name)
                self._new.pop(entry, None)
                if not group.watched:
                    del self._groups[key]
        if self._groups or self._task is None:
            return
        task, self._task = self._task, None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if self._groups:
            return  # someone subscribed while the poller stopped, and started a new one
        if self._on_idle is not None:
            await self._on_idle()

    async def _look_at_new(self) -> None:
        """Look once at executions nobody watched before, batching those subscribed in the same moment."""
        await asyncio.sleep(0)  # subscriptions opened in the same loop iteration join this look
        while self._new:
            batch, self._new = self._new, {}
            self.stats.first_looks += 1
            names: dict[Group, list[str]] = {}
            for entry in batch:
                execution_id = entry.execution_id
                group = self._groups.get((execution_id.project, execution_id.domain))
                if group is not None and group.watched.get(execution_id.name) is entry:
                    names.setdefault(group, []).append(execution_id.name)
            await self._poll({group: self._first_look_of(group, asked) for group, asked in names.items()})

    def _first_look_of(self, group: Group, names: list[str]) -> tuple[list[ListRequest], list[str]]:
        """A first look's listing pages and single looks: a few names are cheaper looked at one by one."""
        if len(names) <= self._backend.first_look_gets:
            return [], names
        return group.requests_for(names), []

    async def _run(self) -> None:
        """Tick every poll interval, from the end of the previous tick's start (a tightened interval applies now)."""
        started = time.monotonic()
        while self._groups:
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
        await self._poll({group: (group.requests(), []) for group in list(self._groups.values())})

    async def _poll(self, requests: dict[Group, tuple[list[ListRequest], list[str]]]) -> None:
        """Poll each group's listing pages, then look one by one at its names listed nowhere (or asked for so)."""
        await asyncio.gather(
            *(self._poll_group(group, pages, gets) for group, (pages, gets) in requests.items() if pages or gets)
        )

    async def _poll_group(self, group: Group, pages: list[ListRequest], gets: list[str]) -> None:
        started = time.monotonic()
        missing = list(gets)
        try:
            await asyncio.gather(*(self._list_page(group, page, missing) for page in pages))
            await asyncio.gather(*(self._get(group, name) for name in missing))
        except Exception as error:
            self._poll_failed(group, error, started)
        else:
            if group.unreachable:
                group.unreachable = False
                for subscription in group.subscriptions():
                    subscription.outage.answered()  # logs that Admin is back

    def _poll_failed(self, group: Group, error: Exception, started: float) -> None:
        if is_transient(error):
            self._ride_out(group, error, started)
        elif isinstance(error, FlyteException):
            self._fail(group, str(error))
        else:
            # Anything unexpected fails the watches (the callers report it) instead of leaving them waiting.
            log.exception("Polling Flyte executions in %s/%s failed unexpectedly", group.project, group.domain)
            self._fail(group, f"{type(error).__name__}: {error}")

    async def _list_page(self, group: Group, page: ListRequest, missing: list[str]) -> None:
        backend = self._backend
        async with self._calls:
            self.stats.list_calls += 1
            items = await backend.list_page(self._client, group.project, group.domain, page)
        # The hot loop of a tick (100,000 watched: 100,000 items): a dict lookup and a phase comparison per item.
        watched, name_of, phase_of, complete = group.watched, backend.item_name, backend.item_phase, backend.complete
        found = 0
        for item in items:
            entry = watched.get(name_of(item))
            if entry is None:
                continue  # unsubscribed while the call was in flight
            found += 1
            latest = entry.latest
            phase = phase_of(item)
            if latest is None or latest.phase_number != phase:
                if complete is None or complete(phase):
                    self._publish(entry, item)
                else:
                    missing.append(entry.execution_id.name)  # the listing's summary lacks what the snapshot needs
        if found < len(page.names):
            listed = {name_of(item) for item in items}
            missing.extend(name for name in page.names if name not in listed and name in watched)

    async def _get(self, group: Group, name: str) -> None:
        """Fetch one execution a listing did not return, or did not describe in full.

        Archived executions are hidden from listings; a listed Flyte 2 run that finished lacks its error.
        """
        entry = group.watched.get(name)
        if entry is None:
            return
        async with self._calls:
            self.stats.get_calls += 1
            try:
                execution = await self._backend.get(self._client, entry.execution_id)
            except FlyteEntityNotExistException:
                for subscription in list(entry.subscriptions):
                    subscription.fail(WatchError(f"{self._backend.describe(entry.execution_id)} does not exist"))
                return
        entry = group.watched.get(name)
        phase = self._backend.item_phase(execution)
        if entry is not None and (entry.latest is None or entry.latest.phase_number != phase):
            self._publish(entry, execution)

    def _publish(self, entry: Watched, execution: Any) -> None:
        """Hand the new snapshot of ``entry`` to its subscriptions (its phase changed since the last look)."""
        snapshot = self._backend.snapshot(execution, entry.execution_id)
        entry.latest = snapshot
        for subscription in entry.subscriptions:
            subscription.publish(snapshot)
        self.stats.wakeups += len(entry.subscriptions)

    def _ride_out(self, group: Group, error: BaseException, since: float) -> None:
        """Keep the watches of ``group`` through a transient failure; fail those whose outage tolerance is spent."""
        group.unreachable = True
        for subscription in group.subscriptions():
            try:
                subscription.outage.failed(error, since=since)  # logs the outage's start and about once a minute
            except FlyteAdminUnreachableException as gave_up:
                subscription.fail(WatchError(str(gave_up)))

    def _fail(self, group: Group, message: str) -> None:
        group.unreachable = False
        for subscription in group.subscriptions():
            subscription.fail(WatchError(message))


class _Subscribed(contextlib.AbstractAsyncContextManager[Subscription]):
    """A subscription while its context is open (a plain class: lighter than an async generator per subscription)."""

    __slots__ = ("_subscription", "_watcher")

    def __init__(self, watcher: ExecutionWatcher, subscription: Subscription) -> None:
        self._watcher = watcher
        self._subscription = subscription

    async def __aenter__(self) -> Subscription:
        self._watcher._add(self._subscription)
        return self._subscription

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self._watcher._unsubscribe(self._subscription)


__all__ = ["MAX_CONCURRENT_CALLS", "MAX_NAMES_PER_LIST", "ExecutionWatcher", "WatcherStats"]
