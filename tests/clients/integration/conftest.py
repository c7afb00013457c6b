"""Fixtures: a fresh seeded sandbox per test, and the client kind (sync or asyncio) a test body runs with."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flyte_admin_sandbox import FlyteSandbox

from tests.support.clients import RecordedSleeps
from tests.support.sandboxes import new_sandbox


@pytest.fixture
def sandbox() -> Iterator[FlyteSandbox]:
    # Small task_delay: container tasks (not used by the seed's Python tasks) finish at once.
    with new_sandbox(task_delay=0.01) as running:
        yield running


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    """Which friendly client a test body drives (see ``integration_support.connect``)."""
    return str(request.param)


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()
