"""Checks of task arguments that run when a DAG file is parsed: durations, string maps, the Flyte backend.

A DAG processor parses DAG files over and over, and every operator built there runs these checks, so this module
imports nothing beyond the standard library: the exception classes load only when an argument is wrong. The checks
that need Flyte (inputs against an interface, names of entities) run when the task runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, overload

from airflow_provider_flyte._lazy import LazyModule

if TYPE_CHECKING:
    from airflow_provider_flyte import exceptions
else:
    exceptions = LazyModule("airflow_provider_flyte.exceptions")

__all__ = [
    "FLYTE2",
    "KNOWN_BACKENDS",
    "V1_ONLY",
    "backend_argument",
    "check_backend_arguments",
    "check_seconds",
    "duration_argument",
    "string_map",
]


@overload
def check_seconds(
    value: object, argument: str, *, allow_none: Literal[False] = False, allow_zero: bool = False
) -> float: ...


@overload
def check_seconds(value: object, argument: str, *, allow_none: bool, allow_zero: bool = False) -> float | None: ...


def check_seconds(value: object, argument: str, *, allow_none: bool = False, allow_zero: bool = False) -> float | None:
    """``value`` (a number or a timedelta) as a positive (or, with ``allow_zero``, non-negative) finite duration.

    Raises:
        FlyteInvalidInputException: naming ``argument`` and the value.
    """
    if value is None and allow_none:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if (
        not isinstance(seconds, (int, float))
        or isinstance(seconds, bool)
        or not math.isfinite(seconds)
        or seconds < 0
        or (seconds == 0 and not allow_zero)
    ):
        kind = "non-negative" if allow_zero else "positive"
        raise exceptions.FlyteInvalidInputException(f"{argument}={value!r} must be a {kind}, finite number of seconds")
    return float(seconds)


@overload
def duration_argument(value: timedelta | float, argument: str, task_id: str) -> float: ...


@overload
def duration_argument(value: timedelta | float | None, argument: str, task_id: str) -> float | None: ...


def duration_argument(value: timedelta | float | None, argument: str, task_id: str) -> float | None:
    """``value`` (seconds or a timedelta; ``None`` passes through) as positive, finite seconds.

    Args:
        value: A poll interval, timeout or outage tolerance as given to the task.
        argument: Its name, for the message.
        task_id: The task, for the message.

    Raises:
        FlyteInvalidInputException: naming the task, the argument and the value.
    """
    try:
        return check_seconds(value, argument, allow_none=True)
    except exceptions.FlyteInvalidInputException as error:
        raise exceptions.FlyteInvalidInputException(f"{task_id}: {error}") from None


def string_map(value: Any, argument: str, task_id: str) -> dict[str, str] | None:
    """A mapping argument (``envs``...) as ``str -> str``.

    Args:
        value: The rendered argument; ``None`` passes through.
        argument: Its name, for the message.
        task_id: The task, for the message.

    Raises:
        FlyteInvalidInputException: naming the task, the argument and the value when it is not a mapping.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise exceptions.FlyteInvalidInputException(
            f"{task_id}: {argument}={value!r} must be a mapping of strings to strings"
        )
    return {str(key): str(item) for key, item in value.items()}


# ---------------------------------------------------------------------- the backend a FlyteOperator targets

FLYTE2 = "flyte2"
KNOWN_BACKENDS = ("flyte1", FLYTE2)
"""Backends an operator can be checked against when the DAG is parsed (``auto`` is resolved at run time)."""

V1_ONLY = (
    "launchplan_name",
    "workflow_name",
    "notifications",
    "disable_notifications",
    "oauth2_client",
    "secrets",
    "kubernetes_service_account",
    "iam_role",
    "tags",
)
"""FlyteOperator arguments with no Flyte 2 counterpart here (launch plans became triggers: use ``trigger_name``)."""


def backend_argument(backend: str | None, task_id: str) -> str | None:
    """The operator's ``backend=`` argument, normalized (``flyte1``, ``flyte2``, ``auto``) or ``None``.

    Raises:
        FlyteInvalidInputException: naming the task and the value when it is none of them.
    """
    if backend is None:
        return None
    normalized = str(backend).strip().lower()
    if normalized not in (*KNOWN_BACKENDS, "auto"):
        raise exceptions.FlyteInvalidInputException(
            f"{task_id}: backend={backend!r} must be 'flyte1', 'flyte2' or 'auto' (or omitted: the connection's)"
        )
    return normalized


def check_backend_arguments(operator: Any, backend: str) -> None:
    """Refuse FlyteOperator arguments the ``backend`` cannot honour.

    Called when the operator is built for an explicit ``backend=``, else when the task starts.

    Raises:
        FlyteInvalidInputException: naming the argument, the backend and the fix.
    """
    if backend == FLYTE2:
        for name in V1_ONLY:
            if getattr(operator, name, None) not in (None, [], {}):
                hint = (
                    "; deploy the entity as a Flyte 2 task and pass task_name= (or trigger_name=)"
                    if (name in ("launchplan_name", "workflow_name"))
                    else ""
                )
                raise exceptions.FlyteInvalidInputException(
                    f"{operator.task_id}: {name}= is a Flyte 1 feature with no counterpart on backend "
                    f"{FLYTE2!r} (connection {operator.flyte_conn_id!r}); remove it{hint}"
                )
        if not operator.task_name:
            raise exceptions.FlyteInvalidInputException(
                f"{operator.task_id}: on backend {FLYTE2!r} pass task_name= (and trigger_name= for a trigger)"
            )
    elif operator.trigger_name:
        raise exceptions.FlyteInvalidInputException(
            f"{operator.task_id}: trigger_name={operator.trigger_name!r} is a Flyte 2 feature, but backend is "
            f"{backend!r} (connection {operator.flyte_conn_id!r}); use launchplan_name= or backend 'flyte2'"
        )
