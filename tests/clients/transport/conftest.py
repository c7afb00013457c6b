"""Fixtures for the transport tests: a scripted Admin on loopback, a fake identity provider, a recorded backoff."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from transport_fake_admin import ScriptedAdmin, serve_admin
from transport_fake_idp import FakeIdentityProvider, serve_idp

from airflow_provider_flyte.clients.policy import RetryPolicy
from airflow_provider_flyte.configuration import PlatformConfig


class UpperBoundJitter:
    """Makes full jitter deterministic: every draw is the upper bound, so sleeps must double."""

    def uniform(self, a: float, b: float) -> float:
        return b


class RecordedSleeps(list[float]):
    """Sleep functions for the policy that record instead of sleeping (sync and async)."""

    def sleep(self, seconds: float) -> None:
        self.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.append(seconds)

    def policy(self, config: PlatformConfig, **overrides: Any) -> RetryPolicy:
        return RetryPolicy.from_config(
            config, sleep=self.sleep, async_sleep=self.async_sleep, jitter=UpperBoundJitter(), **overrides
        )


@pytest.fixture
def admin() -> Iterator[ScriptedAdmin]:
    with serve_admin() as state:
        yield state


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture
def idp(admin: ScriptedAdmin) -> Iterator[FakeIdentityProvider]:
    """An identity provider wired to ``admin``: the Admin requires the tokens it issues."""
    admin.valid_tokens = set()
    with serve_idp(on_issue=admin.valid_tokens.add) as provider:
        admin.token_endpoint = provider.token_endpoint
        admin.device_authorization_endpoint = provider.device_endpoint
        admin.authorization_endpoint = provider.authorization_endpoint
        yield provider
