"""Fixtures for the literal codec tests: flytekit as an independent peer, imported once per session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.flytekit_peer import utc_time_zone


class FlytekitPeer:
    """flytekit's TypeEngine, reduced to the two calls the differential tests need."""

    def __init__(self) -> None:
        from flytekit.core.context_manager import FlyteContextManager
        from flytekit.core.type_engine import TypeEngine

        self._engine = TypeEngine
        self._context = FlyteContextManager.current_context()

    def literal_type(self, python_type: Any) -> Any:
        """The ``flyteidl`` LiteralType flytekit declares for ``python_type``."""
        return self._engine.to_literal_type(python_type).to_flyte_idl()

    def to_literal(self, value: Any, python_type: Any, declared_pb: Any = None) -> Any:
        """The ``flyteidl`` Literal flytekit writes for ``value`` of ``python_type`` (declared by flytekit or given)."""
        from flytekit.models.types import LiteralType

        if declared_pb is None:
            declared = self._engine.to_literal_type(python_type)
        else:
            declared = LiteralType.from_flyte_idl(declared_pb)
        return self._engine.to_literal(self._context, value, python_type, declared).to_flyte_idl()

    def to_python(self, literal: Any, python_type: Any) -> Any:
        """What flytekit reads back from a ``flyteidl`` Literal as ``python_type``."""
        from flytekit.models.literals import Literal

        return self._engine.to_python_value(self._context, Literal.from_flyte_idl(literal), python_type)


@pytest.fixture(scope="session")
def flytekit_peer() -> Iterator[FlytekitPeer]:
    pytest.importorskip("flytekit")
    # flytekit turns naive datetimes (and dates) into UTC with the machine's local zone; pin it so `date` compares.
    with utc_time_zone():
        yield FlytekitPeer()
