"""Property tests of the literal codec: generated values of generated types round-trip; misfits get typed errors.

Types are built from ``int``, ``float``, ``str``, ``bool``, ``datetime``, ``timedelta`` and ``None`` with lists,
``dict[str, ...]``, ``Optional[...]`` and unions of distinct simple types, nested. The codec's documented deliberate
differences are respected when comparing: datetimes come back as aware UTC datetimes (the same instant), an exact
``int`` given for a ``float`` comes back as that ``float``, and tuples come back as lists.
"""

from __future__ import annotations

import datetime
import math
import zoneinfo
from typing import Any

import pytest
from flyteidl.core import literals_pb2, types_pb2
from hypothesis import example, given
from hypothesis import strategies as st
from property_helpers import attempt

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.literals import literal_type_to_str, to_literal, to_python

pytestmark = pytest.mark.property

UTC = datetime.timezone.utc
NAME = "input 'x'"
Pair = tuple[types_pb2.LiteralType, st.SearchStrategy[Any]]


def _simple(kind: int) -> types_pb2.LiteralType:
    return types_pb2.LiteralType(simple=kind)  # type: ignore[arg-type]


fixed_offsets = st.timedeltas(
    min_value=-datetime.timedelta(hours=23, minutes=59), max_value=datetime.timedelta(hours=23, minutes=59)
).map(datetime.timezone)
aware_datetimes = st.datetimes(
    min_value=datetime.datetime(1, 1, 2),
    max_value=datetime.datetime(9999, 12, 30),
    timezones=st.one_of(st.just(UTC), fixed_offsets, st.timezones()),
)
SIMPLE: dict[int, st.SearchStrategy[Any]] = {
    types_pb2.INTEGER: st.integers(min_value=-(2**63), max_value=2**63 - 1),
    types_pb2.FLOAT: st.one_of(st.floats(), st.integers(min_value=-(2**53), max_value=2**53)),
    types_pb2.STRING: st.text(),  # any unicode but lone surrogates
    types_pb2.BOOLEAN: st.booleans(),
    types_pb2.DATETIME: aware_datetimes,
    types_pb2.DURATION: st.timedeltas(),
}
simple_pairs: st.SearchStrategy[Pair] = st.sampled_from(
    [(_simple(kind), values) for kind, values in SIMPLE.items()] + [(_simple(types_pb2.NONE), st.none())]
)


def _list_of(pair: Pair) -> Pair:
    return types_pb2.LiteralType(collection_type=pair[0]), st.lists(pair[1], max_size=4)


def _dict_of(pair: Pair) -> Pair:
    return types_pb2.LiteralType(map_value_type=pair[0]), st.dictionaries(st.text(max_size=6), pair[1], max_size=4)


def _optional(pair: Pair) -> Pair:
    variants = [pair[0], _simple(types_pb2.NONE)]
    return types_pb2.LiteralType(union_type=types_pb2.UnionType(variants=variants)), st.none() | pair[1]


@st.composite
def _unions(draw: st.DrawFn) -> Pair:
    """A union of 2 or 3 distinct simple types (a value of one fits that variant only), maybe with None."""
    kinds = draw(st.lists(st.sampled_from(sorted(SIMPLE)), min_size=2, max_size=3, unique=True))
    variants = [_simple(kind) for kind in kinds]
    if draw(st.booleans()):
        variants.append(_simple(types_pb2.NONE))
    union = types_pb2.LiteralType(union_type=types_pb2.UnionType(variants=variants))
    return union, st.one_of(*(SIMPLE[kind] for kind in kinds), *([st.none()] if len(variants) > len(kinds) else []))


def _extend(children: st.SearchStrategy[Pair]) -> st.SearchStrategy[Pair]:
    return st.one_of(children.map(_list_of), children.map(_dict_of), children.map(_optional))


typed_values: st.SearchStrategy[Pair] = st.recursive(simple_pairs | _unions(), _extend, max_leaves=6)


@st.composite
def type_and_value(draw: st.DrawFn) -> tuple[types_pb2.LiteralType, Any]:
    literal_type, values = draw(typed_values)
    return literal_type, draw(values)


def expected_back(value: Any) -> Any:
    """``value`` as the codec reads it back: UTC datetimes, lists for tuples, NaN made comparable."""
    if isinstance(value, datetime.datetime):
        return value.astimezone(UTC)
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, (list, tuple)):
        return [expected_back(item) for item in value]
    if isinstance(value, dict):
        return {key: expected_back(item) for key, item in value.items()}
    return value


def _same(decoded: Any, value: Any, literal_type: types_pb2.LiteralType) -> None:
    assert expected_back(decoded) == expected_back(value), literal_type_to_str(literal_type)
    if isinstance(value, float) and not math.isnan(value):
        assert math.copysign(1.0, decoded) == math.copysign(1.0, value)  # -0.0 stays -0.0


@given(type_and_value())
def test_values_of_the_declared_type_round_trip(case: tuple[types_pb2.LiteralType, Any]) -> None:
    literal_type, value = case
    literal = to_literal(value, literal_type, name=NAME)
    wire = literals_pb2.Literal.FromString(literal.SerializeToString(deterministic=True))
    _same(to_python(wire, literal_type, name=NAME), value, literal_type)
    _same(to_python(wire), value, literal_type)  # the literal alone says what it holds


@given(type_and_value())
@example(
    (_simple(types_pb2.DATETIME), datetime.datetime(2012, 4, 28, 23, tzinfo=zoneinfo.ZoneInfo("Antarctica/Palmer")))
)
def test_datetimes_come_back_as_the_same_instant_in_utc(case: tuple[types_pb2.LiteralType, Any]) -> None:
    literal_type, value = case
    decoded = to_python(to_literal(value, literal_type), literal_type)
    for original, back in _datetimes(value, decoded):
        assert back.tzinfo is UTC
        # The same instant. (Not `back == original`: Python never finds a time in a DST fold or gap equal to a time
        # in another zone, PEP 495.)
        assert back.replace(tzinfo=None) == original.replace(tzinfo=None) - original.utcoffset()


def _datetimes(value: Any, decoded: Any) -> list[tuple[datetime.datetime, datetime.datetime]]:
    if isinstance(value, datetime.datetime):
        return [(value, decoded)]
    if isinstance(value, list):
        return [pair for item, back in zip(value, decoded, strict=True) for pair in _datetimes(item, back)]
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in _datetimes(item, decoded[key])]
    return []


# Values of every kind, half of them edges the declared types cannot hold: out-of-range ints, huge ints for floats,
# lone surrogates, datetimes whose UTC time is outside years 1..9999; plus naive datetimes, bools for ints, wrong
# containers and non-str keys.
EDGES = [
    2**63,
    -(2**63) - 1,
    2**53 + 1,
    10**400,
    float("nan"),
    float("-inf"),
    "\ud800",
    "a\udfffb",
    datetime.datetime(1, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=5))),
    datetime.datetime(9999, 12, 31, 23, 59, tzinfo=datetime.timezone(-datetime.timedelta(hours=5))),
    datetime.timedelta.max,
    datetime.timedelta.min,
]
_edge_scalars = st.one_of(
    st.sampled_from(EDGES),
    st.one_of(
        st.integers(),
        st.floats(),
        st.text(st.characters(codec=None), max_size=4),
        st.booleans(),
        st.none(),
        st.datetimes(timezones=st.none() | fixed_offsets),
        st.timedeltas(),
        st.dates(),
        st.binary(max_size=4),
    ),
)
any_values = st.recursive(
    _edge_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(st.text(st.characters(codec=None), max_size=3), children, max_size=3),
        st.dictionaries(st.integers(), children, max_size=2),
    ),
    max_leaves=6,
)


@given(typed=typed_values, value=any_values)
def test_values_that_do_not_fit_are_refused_naming_the_input(typed: Pair, value: Any) -> None:
    literal_type, _ = typed
    literal, error = attempt(lambda: to_literal(value, literal_type, name=NAME), FlyteInvalidInputException)
    if literal is None:
        assert str(error).startswith(f"{NAME}: expected {literal_type_to_str(literal_type)}, got ")
        return
    decoded = to_python(literal, literal_type, name=NAME)  # what was accepted (leniently) reads back
    assert to_python(to_literal(decoded, literal_type), literal_type) == decoded or _has_nan(decoded)


@pytest.mark.parametrize("edge", EDGES, ids=[repr(edge)[:30] for edge in EDGES])
def test_every_edge_value_under_every_type_shape_is_written_or_refused_naming_the_input(edge: Any) -> None:
    # Exhaustive over the edges (the random test above meets each one only now and then).
    for kind in [*SIMPLE, types_pb2.NONE]:
        item = (_simple(kind), st.nothing())
        for literal_type, _ in (item, _list_of(item), _dict_of(item), _optional(item)):
            for value in (edge, [edge], {"k": edge}):
                literal, error = attempt(lambda: to_literal(value, literal_type, name=NAME), FlyteInvalidInputException)  # noqa: B023
                assert literal is not None or str(error).startswith(f"{NAME}: expected ")


def _has_nan(value: Any) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, list):
        return any(_has_nan(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nan(item) for item in value.values())
    return False


@given(written=type_and_value(), reading=typed_values)
def test_reading_a_literal_as_any_type_gives_a_value_or_a_typed_error(
    written: tuple[types_pb2.LiteralType, Any], reading: Pair
) -> None:
    literal = to_literal(written[1], written[0])
    _, error = attempt(lambda: to_python(literal, reading[0], name="output 'o0'"), FlyteInvalidInputException)
    assert error is None or str(error).startswith("output 'o0': cannot read ")


@given(
    field=st.sampled_from(["datetime", "duration"]),
    seconds=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    declared=st.booleans(),
)
def test_timestamps_and_durations_of_any_size_read_or_are_refused(field: str, seconds: int, declared: bool) -> None:
    literal = literals_pb2.Literal()
    getattr(literal.scalar.primitive, field).seconds = seconds  # what a server may send, valid or not
    literal_type = _simple(types_pb2.DATETIME if field == "datetime" else types_pb2.DURATION) if declared else None
    value, error = attempt(lambda: to_python(literal, literal_type, name="output 'o0'"), FlyteInvalidInputException)
    assert value is not None or f"{seconds}s is" in str(error)
