"""Following Flyte 2's watch streams across cuts: what to follow (:class:`Stream`), when to reconnect (:class:`Resume`).

Proxies and load balancers cut long server streams (idle timeouts, restarts, HTTP/2 ``RST_STREAM``), and the
backend restarts. A followed stream is re-opened after such a cut and resumes from the last state: a watch sends the
current state first when it opens, so the reader skips what it already yielded (items equal to the last one seen for
the same key) and goes on with what changed. Decisions live here, free of I/O, for the sync and the asyncio raw
clients (:meth:`~airflow_provider_flyte.clients.v2.raw.RawFlyte2Client.follow`).

Reconnects back off exponentially with full jitter (the config's ``retry_initial_backoff`` / ``retry_max_backoff``)
and stop when nothing arrived for ``outage_tolerance`` seconds: then the last error is raised.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from airflow_provider_flyte.exceptions import FlyteException, FlyteSystemUnavailableException

ItemT = TypeVar("ItemT")

RECONNECT_CODES = frozenset({"UNAVAILABLE", "INTERNAL", "CANCELLED", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED"})
"""Status codes of a cut stream: a proxy's reset (INTERNAL, UNAVAILABLE), a restart (CANCELLED), a deadline."""


@dataclass(frozen=True)
class Stream(Generic[ItemT]):
    """A server stream to follow.

    Attributes:
        service: The raw client's stub attribute (``run_service``).
        method: The RPC name (``WatchRunDetails``).
        request: The request message (sent again on each reconnect).
        items: The items one response carries.
        key: Which item an item is a newer state of (resuming skips an item equal to the last one of its key).
        done: Whether following ends after this item (a run reached a terminal phase).
    """

    service: str
    method: str
    request: Any
    items: Callable[[Any], Iterable[ItemT]]
    key: Callable[[ItemT], Hashable]
    done: Callable[[ItemT], bool]


class Resume:
    """The state of one followed stream: items already seen, and the reconnect budget and backoff.

    Args:
        budget: Seconds without any response after which a cut is final.
        initial_backoff: Upper bound of the first jittered sleep.
        max_backoff: Cap on one sleep.
        clock: Monotonic clock (injectable for tests).
        jitter: Draws the sleep in ``[0, bound]``.
    """

    def __init__(
        self,
        budget: float,
        initial_backoff: float,
        max_backoff: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self._budget = budget
        self._initial = initial_backoff
        self._max = max_backoff
        self._clock = clock
        self._jitter = jitter
        self._seen: dict[Hashable, bytes] = {}
        self._since = clock()
        self._attempts = 0
        self._refreshed_token = False
        self.reconnects = 0
        """How many times the stream was re-opened (for logs and tests)."""

    def fresh(self, key: Hashable, item: Any) -> bool:
        """Whether ``item`` differs from the last item seen under ``key``; remembers it."""
        wire = item.SerializeToString(deterministic=True) if hasattr(item, "SerializeToString") else repr(item).encode()
        if self._seen.get(key) == wire:
            return False
        self._seen[key] = wire
        return True

    def received(self) -> None:
        """A response arrived: the budget and the backoff start over."""
        self._since = self._clock()
        self._attempts = 0
        self._refreshed_token = False

    def wants_token_refresh(self, error: FlyteException | None) -> bool:
        """Whether to drop the cached token and reconnect once (the server refused it mid-watch)."""
        if error is None or error.code != "UNAUTHENTICATED" or self._refreshed_token:
            return False
        self._refreshed_token = True
        return True

    def reconnect_delay(self, error: FlyteException | None, what: str) -> float:
        """The sleep before re-opening a stream that ended (``error`` is ``None``) or failed with ``error``.

        Raises:
            FlyteException: ``error`` itself when it is not a cut (NOT_FOUND, PERMISSION_DENIED...) or the budget is
                spent; :class:`FlyteSystemUnavailableException` naming ``what`` when a stream kept ending cleanly
                without news for the whole budget.
        """
        if error is not None and error.code not in RECONNECT_CODES:
            raise error
        if self._clock() - self._since >= self._budget:
            if error is not None:
                raise error
            raise FlyteSystemUnavailableException(
                f"{what} kept closing without news for {self._budget:g} s (outage_tolerance); the server or a proxy "
                "in front of it ends the stream early: check the proxy's stream timeouts"
            )
        self._attempts += 1
        self.reconnects += 1
        bound = min(self._max, self._initial * 2 ** (self._attempts - 1))
        return max(0.0, min(self._jitter(0.0, bound), self._budget))


def never_done(_item: Any) -> bool:
    """For streams that are followed until the reader stops (``WatchRuns``)."""
    return False
