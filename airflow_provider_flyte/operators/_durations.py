"""Duration arguments of the operators and sensors (poll intervals, timeouts, outage tolerances), checked at parse time.

Nothing here imports Airflow, grpc or flyteidl.
"""

from __future__ import annotations

from datetime import timedelta
from typing import overload

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
