"""The one poll-until helper of the tests (sync and asyncio): the limit guards against hangs, never a speed claim."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

HANG_GUARD = 30.0
"""Default seconds a poll may take before the test fails."""


def wait_until(
    predicate: Callable[[], T], timeout: float = HANG_GUARD, what: str = "condition", *, interval: float = 0.01
) -> T:
    """Call ``predicate`` until it returns something truthy and return that; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {timeout}s")
        time.sleep(interval)


async def wait_until_async(
    predicate: Callable[[], T], timeout: float = HANG_GUARD, what: str = "condition", *, interval: float = 0.01
) -> T:
    """:func:`wait_until` for asyncio tests: sleeps with ``asyncio.sleep`` so the event loop keeps running."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {timeout}s")
        await asyncio.sleep(interval)
