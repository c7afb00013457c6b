"""Fixtures: a fresh seeded sandbox per test, and the client kind (sync or asyncio) a test body runs with."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flyte_admin_sandbox import FlyteSandbox
from integration_support import RecordedSleeps


@pytest.fixture
def sandbox() -> Iterator[FlyteSandbox]:
    # Small task_delay: container tasks (not used by the seed's Python tasks) finish at once.
    with FlyteSandbox(port=0, task_delay=0.01) as running:
        yield running


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    """Which friendly client a test body drives (see ``integration_support.connect``)."""
    return str(request.param)


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()
