"""How every wait of this package polls Flyte Admin: fast at first, and patient through control-plane outages.

A wait (for an execution, a signal, a backfill) is a series of polls. Two things shape it, both measured in time
rather than in attempts:

* **The poll schedule.** The first poll comes :data:`FIRST_POLL_DELAY` after the start and each delay doubles up to
  the wait's ``interval``, so a run that ends after half a second is seen within about a second while a long wait
  still costs at most one poll per interval.
* **The outage budget.** A poll that fails with a transient error (Admin unreachable or restarting, overloaded, slow:
  see :func:`is_transient`) does not end the wait. The wait keeps polling, at least every
  :data:`OUTAGE_POLL_DELAY` so that a recovery is noticed quickly, until Admin has been failing for
  ``outage_tolerance`` seconds of wall time; only then it fails with
  :class:`~airflow_provider_flyte.exceptions.FlyteAdminUnreachableException`. The outage is logged when it starts,
  about once a minute while it lasts, and once when Admin answers again. Any other error ends the wait at once.

:class:`WaitClock` holds those decisions without doing any I/O; :func:`poll` and :func:`apoll` are the sync and
asyncio loops that run a check with it. Nothing here imports grpc or Airflow.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

# check_seconds lives with the parse-time argument checks; waits import it from here too.
from airflow_provider_flyte._task_arguments import check_seconds as check_seconds
from airflow_provider_flyte.exceptions import (
    FlyteAdminUnreachableException,
    FlyteException,
    FlyteResourceExhaustedException,
    FlyteSystemUnavailableException,
    FlyteTimeout,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_OUTAGE_TOLERANCE = 600.0
"""Seconds a wait rides out Flyte Admin being unreachable, unless told otherwise."""
FIRST_POLL_DELAY = 0.25
"""Seconds between the start of a wait and its first poll; later delays double up to the wait's interval."""
OUTAGE_POLL_DELAY = 5.0
"""Longest delay between polls while Admin is unreachable, so a recovery is seen within seconds."""
OUTAGE_REPORT_EVERY = 60.0
"""Seconds between two "still unreachable" warnings of one outage."""


class WaitLogger(Protocol):
    """The part of a logger a wait uses: stdlib loggers, adapters and Airflow's task loggers all fit."""

    def info(self, msg: str, /, *args: Any) -> Any:
        """Log at INFO."""

    def warning(self, msg: str, /, *args: Any) -> Any:
        """Log at WARNING."""


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` says Admin is (for now) unable to answer, rather than that the request is wrong.

    Transient: UNAVAILABLE (connection refused or reset, Admin restarting), RESOURCE_EXHAUSTED (rate limits),
    DEADLINE_EXCEEDED (a slow control plane) and CANCELLED (what a stopping server answers the calls in flight). A
    wait that already gave up is final.
    """
    if isinstance(error, FlyteAdminUnreachableException):
        return False
    if isinstance(error, (FlyteSystemUnavailableException, FlyteResourceExhaustedException)):
        return True
    if isinstance(error, FlyteException) and error.code == "CANCELLED":
        return True
    return isinstance(error, FlyteTimeout) and error.code == "DEADLINE_EXCEEDED"


def seconds_until(deadline: float | None) -> float | None:
    """Seconds from now to ``deadline`` (seconds since the epoch, as triggers carry it), never negative."""
    return None if deadline is None else max(0.0, deadline - time.time())


class WaitClock:
    """The timing decisions of one wait: when to poll next, when the deadline passed, how long to ride out an outage.

    It does no I/O; :func:`poll` and :func:`apoll` drive it.

    Args:
        subject: What is waited for, for messages (``"execution ex:p:d:name"``).
        interval: Longest delay between two polls while Admin answers, in seconds.
        timeout: The caller's own limit on the whole wait, in seconds; ``None`` for none.
        outage_tolerance: Seconds Admin may keep failing before the wait gives up.
        first_delay: The delay after the first poll (which comes at once); ``None`` for :data:`FIRST_POLL_DELAY`,
            capped by ``interval``.
        logger: Where outage warnings go.
        clock: A monotonic clock (injectable for tests).
    """

    def __init__(
        self,
        subject: str,
        *,
        interval: float,
        timeout: float | None = None,
        outage_tolerance: float = DEFAULT_OUTAGE_TOLERANCE,
        first_delay: float | None = None,
        logger: WaitLogger | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.subject = subject
        self.interval = interval
        self.timeout = timeout
        self.outage_tolerance = outage_tolerance
        self._log: WaitLogger = logger if logger is not None else log
        self._clock = clock
        self._deadline = None if timeout is None else clock() + timeout
        self._delay = min(interval, FIRST_POLL_DELAY if first_delay is None else first_delay)
        self._outage_started: float | None = None
        self._last_report = 0.0

    @property
    def remaining(self) -> float | None:
        """Seconds left before the caller's deadline, or ``None`` without one."""
        return None if self._deadline is None else self._deadline - self._clock()

    @property
    def unreachable_for(self) -> float:
        """Seconds Admin has been failing without a success in between (0 when it answers)."""
        return 0.0 if self._outage_started is None else self._clock() - self._outage_started

    def answered(self) -> float | None:
        """Record a poll Admin answered; return the delay before the next one, or ``None`` past the deadline."""
        if self._outage_started is not None:
            self._log.info(
                "Flyte Admin answered again after %.0f s; still waiting for %s", self.unreachable_for, self.subject
            )
            self._outage_started = None
        delay = self._delay
        self._delay = min(self.interval, self._delay * 2)
        return self._bounded(delay)

    def now(self) -> float:
        """The clock's current time (a poll loop notes when each poll starts)."""
        return self._clock()

    def failed(self, error: BaseException, since: float | None = None) -> float | None:
        """Record a poll that failed with ``error``; return the delay before the next poll (``None``: deadline).

        Args:
            error: What the poll raised.
            since: When that poll started (from :meth:`now`); the outage is counted from there.

        Raises:
            BaseException: ``error`` itself when it is not transient.
            FlyteAdminUnreachableException: when Admin has now been failing for longer than ``outage_tolerance``.
        """
        if not is_transient(error):
            raise error
        now = self._clock()
        if self._outage_started is None:
            # The outage began no later than the failed poll did (its own retries may have taken seconds).
            self._outage_started = self._last_report = now if since is None else min(since, now)
            self._log.warning(
                "Flyte Admin is unreachable while waiting for %s (%s); waiting up to %.0f s for it to come back",
                self.subject,
                error,
                self.outage_tolerance,
            )
        elif now - self._last_report >= OUTAGE_REPORT_EVERY:
            self._last_report = now
            self._log.warning(
                "Flyte Admin unreachable for %.0f s; waiting up to %.0f s (%s)",
                now - self._outage_started,
                self.outage_tolerance,
                self.subject,
            )
        if now - self._outage_started > self.outage_tolerance:
            raise self.unreachable_error(error)
        return self._bounded(min(self._delay, OUTAGE_POLL_DELAY))

    def attempt(self, call: Callable[[], T]) -> T | None:
        """Make one poll outside a loop (a sensor's poke): its result, or ``None`` when it failed transiently.

        Raises:
            BaseException: what ``call`` raised when it is not transient.
            FlyteAdminUnreachableException: when Admin has now been failing for longer than ``outage_tolerance``.
        """
        started = self._clock()
        try:
            result = call()
        except Exception as error:
            self.failed(error, since=started)
            return None
        self.answered()
        return result

    def unreachable_error(self, last_error: BaseException) -> FlyteAdminUnreachableException:
        """The error a wait ends with when the outage outlasted ``outage_tolerance``."""
        unreachable_for = self.unreachable_for
        return FlyteAdminUnreachableException(
            f"Flyte Admin was unreachable for {unreachable_for:.0f} s while waiting for {self.subject}, longer than "
            f"outage_tolerance={self.outage_tolerance:g} s; last error: {last_error}",
            unreachable_for=unreachable_for,
            tolerance=self.outage_tolerance,
        )

    def _bounded(self, delay: float) -> float | None:
        remaining = self.remaining
        if remaining is None:
            return delay
        return None if remaining <= 0 else min(delay, remaining)


def poll(check: Callable[[], T | None], clock: WaitClock, sleep: Callable[[float], None] = time.sleep) -> T | None:
    """Call ``check`` until it returns something other than ``None``, riding out transient errors.

    Returns:
        What ``check`` returned, or ``None`` when the caller's deadline passed first.

    Raises:
        BaseException: what ``check`` raised when it is not transient.
        FlyteAdminUnreachableException: when an outage outlasted ``clock.outage_tolerance``.
    """
    while True:
        started = clock.now()
        try:
            result = check()
        except Exception as error:
            delay = clock.failed(error, since=started)
        else:
            delay = clock.answered()  # also logs the end of an outage
            if result is not None:
                return result
        if delay is None:
            return None
        sleep(delay)


async def apoll(check: Callable[[], Awaitable[T | None]], clock: WaitClock) -> T | None:
    """The asyncio twin of :func:`poll` (same decisions, from the same :class:`WaitClock`)."""
    while True:
        started = clock.now()
        try:
            result = await check()
        except Exception as error:
            delay = clock.failed(error, since=started)
        else:
            delay = clock.answered()  # also logs the end of an outage
            if result is not None:
                return result
        if delay is None:
            return None
        await asyncio.sleep(delay)
