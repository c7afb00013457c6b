"""Why our triggers never fire within seconds of their task deferring: Airflow's resume-after-defer race.

When a task defers, its worker exits and the executor reports that exit as a success. If the trigger fires before the
scheduler has processed that report, Airflow 3 (3.3.2 included; apache/airflow#66374, #67287, #72716) can read the
stale success as "the task instance changed state externally" and fail the resumed task. Flyte executions that end
within a second or two of the deferral (short tasks, a reattach to a finished execution, a busy scheduler) hit it:
one of three mapped launches failed this way in a live deployment.

So, in a real triggerer, an event is held until :data:`MIN_SECONDS_AFTER_DEFERRAL` after the trigger started (which
is after the deferral): long enough for the scheduler to drain the stale report, negligible next to a Flyte
execution's run time. ``dag.test()`` runs the trigger in the task's own process, where there is no race, and so does
a test that drives a trigger directly: there the event is not held.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TypeVar

T = TypeVar("T")

MIN_SECONDS_AFTER_DEFERRAL = 5.0
"""How long after a trigger starts in a triggerer its first event may fire, in seconds."""


class ResumeGuard:
    """Holds a trigger's event until it is safe to resume the task (see the module docstring)."""

    def __init__(self) -> None:
        self._started = time.monotonic()
        self._needed = _in_a_triggerer()

    async def hold(self) -> None:
        """Sleep until :data:`MIN_SECONDS_AFTER_DEFERRAL` after the trigger started, if in a triggerer."""
        if not self._needed:
            return
        remaining = MIN_SECONDS_AFTER_DEFERRAL - (time.monotonic() - self._started)
        if remaining > 0:
            await asyncio.sleep(remaining)


def _in_a_triggerer() -> bool:
    """Whether the trigger runs under an Airflow supervisor other than ``dag.test()``'s in-process one.

    A triggerer (or any future runner) installs its comms channel in the task runner module; ``dag.test()`` installs
    an in-process one, and a trigger driven directly by a test has none.
    """
    try:
        from airflow.sdk.execution_time import task_runner
    except ImportError:  # pragma: no cover - Airflow 3 always has it
        return True
    comms = getattr(task_runner, "SUPERVISOR_COMMS", None)
    return comms is not None and type(comms).__name__ != "InProcessSupervisorComms"


async def guarded(events: AsyncGenerator[T, None]) -> AsyncIterator[T]:
    """Yield ``events``, each held by a :class:`ResumeGuard` started when iteration begins."""
    guard = ResumeGuard()
    async with contextlib.aclosing(events):
        async for event in events:
            await guard.hold()
            yield event
