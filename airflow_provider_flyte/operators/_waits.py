"""The wait clock of a task waiting on a worker: its interval, deadline, outage tolerance and log.

Nothing here imports Airflow, grpc or flyteidl.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_flyte.waiting import WaitClock, seconds_until


def task_wait_clock(task: Any, subject: str, *, interval: float, deadline: float | None = None) -> WaitClock:
    """A :class:`~airflow_provider_flyte.waiting.WaitClock` for ``task``'s wait for ``subject``.

    Args:
        task: An operator or sensor with ``outage_tolerance`` (``None``: its connection's), ``hook`` and ``log``.
        subject: What is waited for, for messages.
        interval: Longest time between two polls, in seconds.
        deadline: When the wait must end (seconds since the epoch), or ``None``.
    """
    tolerance = task.outage_tolerance or task.hook.platform_config.outage_tolerance
    return WaitClock(
        subject, interval=interval, timeout=seconds_until(deadline), outage_tolerance=tolerance, logger=task.log
    )
