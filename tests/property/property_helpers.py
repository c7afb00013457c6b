"""Helpers of the property tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def attempt(call: Callable[[], T], refused_as: type[BaseException]) -> tuple[T | None, Any]:
    """Run ``call``: ``(result, None)``, or ``(None, error)`` when it raised ``refused_as`` (anything else propagates).

    Property tests accept either outcome and then check it, outside the ``except`` block.
    """
    try:
        return call(), None
    except refused_as as error:
        return None, error
