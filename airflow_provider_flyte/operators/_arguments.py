"""Arguments of the operators and sensors, checked when the DAG is parsed: durations and string maps.

Durations are poll intervals, timeouts and outage tolerances. Nothing here imports Airflow, grpc or flyteidl.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, overload

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.waiting import check_seconds


@overload
def duration_argument(value: timedelta | float, argument: str, task_id: str) -> float: ...


@overload
def duration_argument(value: timedelta | float | None, argument: str, task_id: str) -> float | None: ...


def duration_argument(value: timedelta | float | None, argument: str, task_id: str) -> float | None:
    """``value`` (seconds or a timedelta; ``None`` passes through) as positive, finite seconds.

    Raises:
        FlyteInvalidInputException: naming the task, the argument and the value.
    """
    try:
        return check_seconds(value, argument, allow_none=True)
    except FlyteInvalidInputException as error:
        raise FlyteInvalidInputException(f"{task_id}: {error}") from None


def string_map(value: Any, argument: str, task_id: str) -> dict[str, str] | None:
    """A mapping argument (``envs``...) as ``str -> str``.

    Raises:
        FlyteInvalidInputException: naming the task, the argument and the value when it is not a mapping.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise FlyteInvalidInputException(f"{task_id}: {argument}={value!r} must be a mapping of strings to strings")
    return {str(key): str(item) for key, item in value.items()}
