"""``literal_type_of``: the literal type flytekit's type engine gives a Python annotation, byte for byte."""

# typing.Optional / typing.Union / typing.Dict are spelled out on purpose: they are what flytekit users write.
# ruff: noqa: UP006, UP007, UP045
from __future__ import annotations

import dataclasses
import datetime
import enum
import typing
from typing import Any

import pytest

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.literals.python_types import RecordTypeError, literal_type_of


class Mood(enum.Enum):
    CALM = "calm"
    BUSY = "busy"


@dataclasses.dataclass
class Point:
    x: int


SAME_AS_FLYTEKIT: list[Any] = [
    int,
    float,
    str,
    bool,
    datetime.datetime,
    datetime.timedelta,
    list[int],
    typing.List[typing.Optional[str]],
    dict[str, float],
    typing.Dict[str, typing.Union[str, int]],
    typing.Optional[int],
    int | None,
    typing.Union[int, str, None],
    Mood,
    typing.Optional[Mood],
    list[dict[str, list[bool]]],
]


@pytest.mark.parametrize("python_type", SAME_AS_FLYTEKIT, ids=str)
def test_the_literal_type_is_flytekits(python_type: Any, flytekit_peer: Any) -> None:
    assert literal_type_of(python_type) == flytekit_peer.literal_type(python_type)


@pytest.mark.parametrize("python_type", [Point, dict, typing.Dict[int, str], list[Point], typing.Optional[Point]])
def test_records_are_told_apart_so_the_declared_type_is_used(python_type: Any) -> None:
    with pytest.raises(RecordTypeError, match="schema-derived literal type; pass literal_type"):
        literal_type_of(python_type)


@pytest.mark.parametrize("python_type", [set[int], bytes, tuple[int, str], typing.Callable[[], int]])
def test_unsupported_types_are_named(python_type: Any) -> None:
    with pytest.raises(FlyteInvalidInputException, match=r"python_type=.* is not supported here; use int, float"):
        literal_type_of(python_type)
