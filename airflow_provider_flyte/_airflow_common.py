"""Glue shared by the provider's operators, sensors and triggers: argument checks, trigger events, wait clocks.

* Arguments checked when the DAG is parsed: durations (:func:`duration_argument`), string maps
  (:func:`string_map`), and the execution a task is pointed at (:func:`execution_id_argument`).
* Triggers: :func:`trigger_timing` checks their poll interval and deadline. Every trigger of the provider fires
  flat JSON dicts whose ``status`` is one of :data:`EVENT_STATUSES`; :func:`validate_event`,
  :func:`validate_signal_event` and :func:`validate_backfill_event` refuse a missing or malformed one before a task
  acts on it.
* Deferrals: :data:`DEFER_TIMEOUT_GRACE`; waits on a worker: :func:`task_wait_clock`.

Importing this module loads no grpc, protobuf or flyteidl code.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException

# The checks that run when a DAG is parsed live in a module of their own that loads nothing else.
from airflow_provider_flyte._task_arguments import duration_argument as duration_argument
from airflow_provider_flyte._task_arguments import string_map as string_map
from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.waiting import WaitClock, check_seconds, seconds_until

log = logging.getLogger(__name__)

__all__ = [
    "DEFER_TIMEOUT_GRACE",
    "EVENT_STATUSES",
    "duration_argument",
    "execution_id_argument",
    "log_resume",
    "string_map",
    "task_wait_clock",
    "trigger_timing",
    "validate_backfill_event",
    "validate_event",
    "validate_signal_event",
    "validate_trigger_event",
]

DEFER_TIMEOUT_GRACE = timedelta(minutes=2)
"""A deferral's Airflow-side timeout fires this much after the trigger's own deadline, so the trigger's richer
timeout event (phase, console URL) normally wins and Airflow's timeout only covers a triggerer that is down."""

EVENT_STATUSES = frozenset({"success", "failed", "timeout", "error"})
"""Every ``status`` an event of the provider's triggers can carry."""


# ---------------------------------------------------------------------- arguments


def execution_id_argument(value: Any, task_id: str) -> str:
    """The execution ``value`` points at: an id or name string, or a FlyteOperator/FlyteExecutionSensor result dict.

    Args:
        value: The rendered ``execution_id`` argument.
        task_id: The task, for the message.

    Returns:
        ``ex:project:domain:name`` or a bare name (resolve it with ``FlyteHook.execution_id``).

    Raises:
        FlyteInvalidInputException: naming the task, the argument and the value.
    """
    found = value
    if isinstance(value, Mapping):
        found = value.get("execution_id") or value.get("name")
    if not isinstance(found, str) or not found:
        raise FlyteInvalidInputException(
            f"{task_id}: execution_id={value!r} must be 'ex:project:domain:name', a name, or a FlyteOperator result"
        )
    return found


# ---------------------------------------------------------------------- triggers


def trigger_timing(poll_interval: Any, deadline: Any) -> tuple[float, float | None]:
    """A trigger's ``poll_interval`` and ``deadline`` arguments, checked.

    Args:
        poll_interval: Seconds between polls: a positive, finite number.
        deadline: Seconds since the epoch, or ``None``.

    Returns:
        ``(poll_interval, deadline)`` as floats (``deadline`` stays ``None``).

    Raises:
        FlyteInvalidInputException: naming the argument and the value.
    """
    interval = check_seconds(poll_interval, "poll_interval")
    if deadline is not None and (isinstance(deadline, bool) or not isinstance(deadline, (int, float))):
        raise FlyteInvalidInputException(f"deadline={deadline!r} must be seconds since the epoch or None")
    return interval, None if deadline is None else float(deadline)


def validate_trigger_event(event: Any, trigger: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Check a trigger's event payload before acting on it: a bad event must fail the task, never succeed.

    Args:
        event: What Airflow handed to the resume method.
        trigger: The trigger's class name, for messages.
        defaults: Values of the optional keys the event may lack.

    Returns:
        The event as a new dict, with ``defaults`` filled in.

    Raises:
        AirflowException: naming what is wrong with the event (not a mapping, unknown status, malformed id).
    """
    if not isinstance(event, Mapping):
        raise AirflowException(f"{trigger} sent no usable event (got {event!r}); cannot tell the outcome")
    status = event.get("status")
    if status not in EVENT_STATUSES:
        raise AirflowException(
            f"{trigger} event has status={status!r}; expected one of {', '.join(sorted(EVENT_STATUSES))}"
        )
    execution_id = event.get("execution_id")
    if not isinstance(execution_id, str) or not execution_id.startswith("ex:"):
        raise AirflowException(f"{trigger} event has execution_id={execution_id!r}; expected 'ex:p:d:name'")
    checked = {**defaults, **dict(event)}
    log_resume(trigger, f"Flyte execution {execution_id}", checked)
    return checked


def log_resume(trigger: str, subject: str, event: Mapping[str, Any]) -> None:
    """Log the one line that marks a deferred task back on a worker, in the task's own log.

    Args:
        trigger: The trigger's class name.
        subject: What was waited for, e.g. ``"Flyte execution ex:p:d:name"``.
        event: The checked event (its ``status``, ``phase`` and ``console_url`` make the outcome).
    """
    log.info(
        "Resumed after %s: %s %s (%s)", trigger, subject, _outcome(event), event.get("console_url") or "no console URL"
    )


def _outcome(event: Mapping[str, Any]) -> str:
    status, phase = event["status"], event.get("phase")
    if status == "timeout":
        return "was still waiting at the deadline"
    if status == "error":
        return "could not be watched"
    return f"is {phase}" if phase else f"reported {status}"


def validate_event(event: Any) -> dict[str, Any]:
    """Check a ``FlyteExecutionTrigger`` event (see :func:`validate_trigger_event`).

    Raises:
        AirflowException: naming what is wrong with the event.
    """
    return validate_trigger_event(event, "FlyteExecutionTrigger", {"phase": None, "message": "", "console_url": None})


def validate_signal_event(event: Any) -> dict[str, Any]:
    """Check a ``FlyteSignalTrigger`` event (see :func:`validate_trigger_event`).

    Raises:
        AirflowException: naming what is wrong with the event.
    """
    defaults = {"signal": None, "phase": None, "message": "", "console_url": None}
    return validate_trigger_event(event, "FlyteSignalTrigger", defaults)


def validate_backfill_event(event: Any) -> dict[str, Any]:
    """Check a ``FlyteBackfillTrigger`` event (see :func:`validate_trigger_event`).

    Raises:
        AirflowException: naming what is wrong with the event.
    """
    defaults: dict[str, Any] = {"phase": None, "children": [], "message": "", "console_url": None}
    return validate_trigger_event(event, "FlyteBackfillTrigger", defaults)


# ---------------------------------------------------------------------- waits on a worker


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


def require_flyte1(task: Any, hook: Any, feature: str) -> None:
    """Fail a Flyte-1-only task before it sends anything when its connection talks to Flyte 2.

    Args:
        task: The operator or sensor (its ``task_id`` and ``flyte_conn_id`` name the problem).
        hook: Its :class:`~airflow_provider_flyte.hooks.flyte.FlyteHook` (``auto`` backends are probed once).
        feature: What has no Flyte 2 counterpart yet, e.g. ``"signals"``.

    Raises:
        AirflowFailException: naming the feature, the connection and its backend.
    """
    from airflow.providers.common.compat.sdk import AirflowFailException

    backend = hook.backend.value
    if backend == "flyte2":
        raise AirflowFailException(
            f"{task.task_id}: {type(task).__name__} uses Flyte 1 {feature}, which Flyte 2 does not have yet, but "
            f"connection {task.flyte_conn_id!r} has backend {backend!r}; use a Flyte 1 connection "
            "(nothing was sent)"
        )
