"""Python functions behind the remote tests' tasks: the sandbox engine calls them as ``remote_tasks:<name>``."""

from __future__ import annotations

from typing import Any


def add_one(x: int) -> int:
    """``x + 1``."""
    return x + 1


def same_file(f: Any) -> Any:
    """Return the file it was given (a ``FlyteFile`` whose remote URI the output keeps)."""
    return f


def count_chars(text: str) -> int:
    """How many characters ``text`` has."""
    return len(text)
