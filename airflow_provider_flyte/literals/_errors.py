"""How conversion failures travel inside the codec and how they read once they reach the caller.

Converters raise :class:`Mismatch` with the expected type and the offending value; containers on the way up prepend
their element's position (``[3]``, ``['key']``, ``.field``). Only the public entry points turn it into a
:class:`~airflow_provider_flyte.exceptions.FlyteInvalidInputException`, so the message names the value (the input), the
expected type, what was given and where inside the value the problem sits, without building any of that text on the
fast path.
"""

from __future__ import annotations

import reprlib
from typing import Any

from airflow_provider_flyte.exceptions import FlyteInvalidInputException

_REPR = reprlib.Repr()
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlist = 4
_REPR.maxtuple = 4
_REPR.maxdict = 4
_REPR.maxset = 4
_REPR.maxlevel = 2


def short_repr(value: Any) -> str:
    """A bounded repr of ``value`` for error messages (long strings and containers are elided)."""
    return _REPR.repr(value)


def describe(value: Any) -> str:
    """``"<type name> <short repr>"``, the way errors show what was given."""
    return f"{type(value).__name__} {short_repr(value)}"


class Mismatch(Exception):
    """A value (or a literal, when reading) does not fit the type a converter expects.

    Attributes:
        expected: The readable expected type at the failing position.
        value: The offending value (Python value when writing, a short description of the literal when reading).
        reason: Extra detail, e.g. ``"not a file"`` or ``"does not round-trip exactly"``.
        path: Positions from the outermost container down to the failure, filled in while the error bubbles up.
    """

    def __init__(self, expected: str, value: Any, reason: str = "") -> None:
        super().__init__(expected, value, reason)
        self.expected = expected
        self.value = value
        self.reason = reason
        self.path: list[str] = []

    def at(self, segment: str) -> Mismatch:
        """Record that the failure happened inside ``segment`` of the enclosing container; returns ``self``."""
        self.path.append(segment)
        return self

    def location(self) -> str:
        """The failure's position as ``[2]['k'].field`` (empty for the top level)."""
        return "".join(reversed(self.path))

    def to_exception(self, subject: str, top_expected: str, top_value: Any) -> FlyteInvalidInputException:
        """The user-facing error, naming ``subject`` (e.g. ``input 'x'``), the expected type and what was given."""
        detail = f" ({self.reason})" if self.reason else ""
        if not self.path:
            return FlyteInvalidInputException(f"{subject}: expected {top_expected}, got {describe(top_value)}{detail}")
        return FlyteInvalidInputException(
            f"{subject}: expected {top_expected}, got {describe(top_value)}; "
            f"at {self.location()}: expected {self.expected}, got {describe(self.value)}{detail}"
        )


class ReadMismatch(Mismatch):
    """A literal cannot be read as the expected type; ``value`` is a short description of the literal."""

    def to_exception(self, subject: str, top_expected: str, top_value: Any) -> FlyteInvalidInputException:
        """The user-facing error for a literal that does not match its declared type."""
        detail = f" ({self.reason})" if self.reason else ""
        where = f" at {self.location()}" if self.path else ""
        return FlyteInvalidInputException(
            f"{subject}: cannot read {self.value} as {self.expected}{where}{detail} (declared type {top_expected})"
        )
