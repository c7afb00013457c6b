"""flytekit tasks the deck tests run as real containers (``run_containers=True``): one writes a deck, one does not.

The sandbox runs them with flytekit's ``pyflyte-execute``, importing this module as ``remote_deck_tasks`` (the
tests' folder is on the path it hands to the process).
"""

from __future__ import annotations

import flytekit
from flytekit import task, workflow

DECK_MARKER = "sandbox-deck-7f3a"
"""Text the deck of :func:`report` holds, so a test knows the HTML it fetched is that task's deck."""


@task(enable_deck=True)
def report(x: int) -> int:
    """``x * x``, with a deck saying so."""
    flytekit.Deck("summary", f"<p class='{DECK_MARKER}'>{x} squared is {x * x}</p>")
    return x * x


@task
def no_deck(x: int) -> int:
    """``x + 1``, without a deck."""
    return x + 1


@workflow
def decked(x: int) -> tuple[int, int]:
    """Both tasks side by side: node ``n0`` has a deck, node ``n1`` has none."""
    return report(x=x), no_deck(x=x)
