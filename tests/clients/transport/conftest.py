"""Fixtures for the transport tests: a scripted Admin on loopback, a fake identity provider, a recorded backoff."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from transport_fake_admin import ScriptedAdmin, serve_admin
from transport_fake_idp import FakeIdentityProvider, serve_idp

from tests.support.clients import RecordedSleeps


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
