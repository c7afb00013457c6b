"""One test body for both friendly clients, and retry backoff recorded instead of slept."""

from __future__ import annotations

import inspect
from typing import Any

from airflow_provider_flyte.clients.aio import AsyncFlyteClient
from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient
from airflow_provider_flyte.clients.policy import RetryPolicy
from airflow_provider_flyte.configuration import PlatformConfig


class Driver:
    """Runs a friendly client method the same way on either client: ``await driver.call("get_task", id)``."""

    def __init__(self, client: SynchronousFlyteClient | AsyncFlyteClient) -> None:
        self.client = client
        self.is_async = isinstance(client, AsyncFlyteClient)

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, method)(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def collect(self, method: str, *args: Any, **kwargs: Any) -> list[Any]:
        """Every item of an ``iter_*`` helper (or ``paginate``)."""
        iterator = getattr(self.client, method)(*args, **kwargs)
        if self.is_async:
            return [item async for item in iterator]
        return list(iterator)


class UpperBoundJitter:
    """Makes full jitter deterministic: every draw is its upper bound, so the recorded sleeps must double."""

    def uniform(self, a: float, b: float) -> float:
        return b


class RecordedSleeps(list[float]):
    """Backoff sleeps of a retry policy, recorded instead of slept (sync and async)."""

    def sleep(self, seconds: float) -> None:
        self.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.append(seconds)

    def policy(self, config: PlatformConfig, **overrides: Any) -> RetryPolicy:
        """The policy ``config`` describes (with ``overrides``), sleeping into this list."""
        return RetryPolicy.from_config(
            config, sleep=self.sleep, async_sleep=self.async_sleep, jitter=UpperBoundJitter(), **overrides
        )
