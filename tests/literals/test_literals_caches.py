"""The codec's per-type caches are correct: keyed by the type object, bounded, safe for recursive and redefined types.

No timing here (the benchmark measures speed): these tests check that what is cached per type never leaks from one
value, one class or one union order to another.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import threading
import typing
from typing import Any, Optional

import pytest
from literals_types import FLOAT, INT, STR, STRUCT, dataclass_type, dict_of, list_of, optional

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.literals import decode, encode, rebuild, structured, to_literal, to_python
from airflow_provider_flyte.literals._errors import Mismatch
from airflow_provider_flyte.literals.codec import clear_caches

UTC = datetime.timezone.utc


class Level(enum.Enum):
    LOW = "low"
    HIGH = "high"


@dataclasses.dataclass
class Point:
    x: int
    y: int


@dataclasses.dataclass
class Size:  # the same field names as Point, other types
    x: float
    y: str


@dataclasses.dataclass
class Event:
    name: str
    at: datetime.datetime
    level: Level
    where: Point
    tags: list[str]
    extra: Optional[Point] = None  # noqa: UP045 -- what flytekit users write


@dataclasses.dataclass
class Node:
    value: int
    next: Optional[Node] = None  # noqa: UP045


@dataclasses.dataclass
class Tree:
    label: str
    children: list[Forest]


@dataclasses.dataclass
class Forest:
    trees: dict[str, Tree]


POINT = dataclass_type("Point", x=INT, y=INT)


@pytest.fixture(autouse=True)
def _cold_caches() -> None:
    clear_caches()


def _event(i: int) -> Event:
    return Event(
        name=f"e{i}",
        at=datetime.datetime(2024, 1, 1, tzinfo=UTC) + datetime.timedelta(minutes=i),
        level=Level.HIGH if i % 2 else Level.LOW,
        where=Point(i, -i),
        tags=[f"t{i}"] * (i % 3),
        extra=Point(0, i) if i % 4 == 0 else None,
    )


def test_one_type_many_values_each_converted_as_itself() -> None:
    events = [_event(i) for i in range(50)]
    for event in events:
        literal = to_literal(event, STRUCT)
        assert to_python(literal, STRUCT, python_type=Event) == event
    literal = to_literal(events, list_of(STRUCT))
    assert to_python(literal, list_of(STRUCT), python_type=list[Event]) == events


def test_dataclasses_with_the_same_field_names_keep_their_own_plans() -> None:
    point, size = Point(1, 2), Size(1.5, "big")
    assert to_python(to_literal(point, STRUCT), STRUCT) == {"x": 1, "y": 2}
    assert to_python(to_literal(size, STRUCT), STRUCT) == {"x": 1.5, "y": "big"}
    assert to_python(to_literal(point, STRUCT), STRUCT, python_type=Point) == point
    assert to_python(to_literal(size, STRUCT), STRUCT, python_type=Size) == size
    # Size's plan makes a float of an int `x` and refuses an int `y`; Point's takes ints as they are.
    assert type(rebuild.from_tree({"x": 3, "y": "4"}, Size).x) is float
    assert rebuild.from_tree({"x": 3, "y": 4}, Point) == Point(3, 4)
    with pytest.raises(Mismatch):
        rebuild.from_tree({"x": 3, "y": 4}, Size)
    with pytest.raises(FlyteInvalidInputException, match=r"at \.x: expected int, got float 1\.5"):
        to_python(to_literal(size, STRUCT), STRUCT, python_type=Point)


def _define_record(*, with_extra: bool) -> type:
    if with_extra:

        @dataclasses.dataclass
        class Record:
            name: str
            extra: int = 0

    else:

        @dataclasses.dataclass
        class Record:  # type: ignore[no-redef]
            name: str

    return Record


def test_a_redefined_dataclass_gets_its_own_plan() -> None:
    old, new = _define_record(with_extra=False), _define_record(with_extra=True)
    assert old.__name__ == new.__name__
    assert old is not new
    assert to_python(to_literal(old("a"), STRUCT), STRUCT) == {"name": "a"}
    assert to_python(to_literal(new("a", 5), STRUCT), STRUCT) == {"name": "a", "extra": 5}
    assert type(rebuild.from_tree({"name": "a"}, old)) is old
    assert rebuild.from_tree({"name": "a", "extra": 5}, new) == new("a", 5)
    with pytest.raises(FlyteInvalidInputException, match=r"unknown field\(s\) extra"):
        to_python(to_literal(new("a", 5), STRUCT), STRUCT, python_type=old)
    assert type(to_python(to_literal(new("b"), STRUCT), STRUCT, python_type=list[new] | new)) is new


def test_self_referential_dataclasses_encode_and_rebuild() -> None:
    chain = Node(1, Node(2, Node(3)))
    literal = to_literal(chain, STRUCT)
    assert to_python(literal, STRUCT) == {"value": 1, "next": {"value": 2, "next": {"value": 3, "next": None}}}
    assert to_python(literal, STRUCT, python_type=Node) == chain
    forest = Forest({"a": Tree("a", [Forest({"b": Tree("b", [])})])})
    assert to_python(to_literal(forest, STRUCT), STRUCT, python_type=Forest) == forest
    with pytest.raises(FlyteInvalidInputException, match=r"at \.next\.next\.value: expected int"):
        to_python(
            to_literal({"value": 1, "next": {"value": 2, "next": {"value": "x"}}}, STRUCT), STRUCT, python_type=Node
        )


def _round_trips(events: list[Event]) -> None:
    literal = to_literal(events, list_of(STRUCT))
    assert to_python(literal, list_of(STRUCT), python_type=list[Event]) == events
    by_name = {event.name: event for event in events}
    assert to_python(to_literal(by_name, dict_of(STRUCT)), dict_of(STRUCT), python_type=dict[str, Event]) == by_name


def test_caches_hold_types_not_values() -> None:
    _round_trips([_event(0)])
    sizes = (len(structured._encoders), len(rebuild._plans), len(encode._cache), len(decode._cache))
    for count in (10, 1_000):
        _round_trips([_event(i) for i in range(count)])
        assert (len(structured._encoders), len(rebuild._plans), len(encode._cache), len(decode._cache)) == sizes
    assert {Event, Point, Level} <= set(rebuild._plans)
    assert all(isinstance(key, type) for key in [*rebuild._plans, *structured._encoders])


def test_caches_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(structured, "CACHE_LIMIT", 8)
    classes = [dataclasses.make_dataclass(f"D{i}", [("v", int)]) for i in range(30)]
    for i, cls in enumerate(classes):
        assert to_python(to_literal(cls(i), STRUCT), STRUCT, python_type=cls) == cls(i)
        assert len(structured._encoders) <= 8
        assert len(rebuild._plans) <= 8


def test_union_order_is_never_shared_between_equal_unions() -> None:
    # typing finds these equal, yet the first variant that fits wins.
    assert typing.Union[int, float] == typing.Union[float, int]  # noqa: UP007
    assert rebuild.from_tree(1, typing.Union[int, float]) == 1  # noqa: UP007
    assert type(rebuild.from_tree(1, typing.Union[float, int])) is float  # noqa: UP007
    assert type(rebuild.from_tree([1], list[typing.Union[int, float]])[0]) is int  # noqa: UP007
    assert type(rebuild.from_tree([1], list[typing.Union[float, int]])[0]) is float  # noqa: UP007


def test_errors_name_the_field_on_the_fast_and_the_slow_path() -> None:
    complete = {"name": "e", "at": "not a date", "level": "low", "where": {"x": 1, "y": 2}, "tags": [], "extra": None}
    partial = {key: value for key, value in complete.items() if key != "extra"}  # `extra` takes its default
    messages = []
    for tree in (complete, partial):
        with pytest.raises(FlyteInvalidInputException, match=r"at \.at: expected datetime, got str 'not a date'") as e:
            to_python(to_literal(tree, STRUCT), STRUCT, python_type=Event, name="output 'o0'")
        messages.append(str(e.value).split("; ")[1])
    assert messages[0] == messages[1]
    with pytest.raises(FlyteInvalidInputException, match=r"at \.where\.y: expected int, got str 'b'"):
        to_python(
            to_literal({**complete, "at": "2024-01-01", "where": {"x": 1, "y": "b"}}, STRUCT), STRUCT, python_type=Event
        )
    with pytest.raises(FlyteInvalidInputException, match=r"at \.tags\[1\]: expected str, got int 2"):
        to_python(to_literal({**complete, "at": "2024-01-01", "tags": ["a", 2]}, STRUCT), STRUCT, python_type=Event)


def test_writing_errors_inside_a_cached_dataclass_name_the_input() -> None:
    @dataclasses.dataclass
    class Holder:
        item: Any

    assert to_python(to_literal(Holder(1), STRUCT), STRUCT) == {"item": 1}
    with pytest.raises(FlyteInvalidInputException, match=r"^input 'h': .*no msgpack form for object"):
        to_literal(Holder(object()), STRUCT, name="input 'h'")
    with pytest.raises(FlyteInvalidInputException, match=r"field\(s\) y are not in the declared type"):
        to_literal(Point(1, 2), dataclass_type("Point", x=INT), name="input 'p'")
    assert to_literal(Point(1, 2), POINT) == to_literal({"x": 1, "y": 2}, POINT)


def test_fields_init_kw_only_and_defaults_follow_the_dataclass() -> None:
    @dataclasses.dataclass
    class Shaped:
        a: int
        b: list[float] = dataclasses.field(default_factory=list)
        computed: int = dataclasses.field(init=False, default=0)

    @dataclasses.dataclass(kw_only=True)
    class Keywords:
        a: int
        b: str = "b"

    assert rebuild.from_tree({"a": 1, "b": [1], "computed": 5}, Shaped) == Shaped(1, [1.0])
    assert rebuild.from_tree({"a": 1}, Shaped) == Shaped(1)
    assert rebuild.from_tree({"b": "x", "a": 2}, Keywords) == Keywords(a=2, b="x")
    with pytest.raises(Mismatch, match="missing 1 required"):
        rebuild.from_tree({"b": "x"}, Keywords)


def test_first_use_from_many_threads_gives_complete_plans() -> None:
    events = [_event(i) for i in range(200)]
    literal = to_literal(events, list_of(STRUCT))
    barrier = threading.Barrier(8)
    results: list[Any] = []

    def read() -> None:
        barrier.wait()
        results.append(to_python(literal, list_of(STRUCT), python_type=list[Event]))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [events] * 8


def test_primitive_lists_and_maps_read_in_bulk_check_every_kind() -> None:
    literal = to_literal([1, 0, 2], list_of(INT))
    assert to_python(literal, list_of(INT)) == [1, 0, 2]
    literal.collection.literals[1].scalar.primitive.string_value = ""  # a zero of another kind
    with pytest.raises(FlyteInvalidInputException, match=r"cannot read a string_value primitive as int at \[1\]"):
        to_python(literal, list_of(INT))
    floats = to_literal({"a": 0.0, "b": 1}, dict_of(FLOAT))
    floats.map.literals["a"].scalar.primitive.integer = 0  # the console sends whole numbers as ints
    assert to_python(floats, dict_of(FLOAT)) == {"a": 0.0, "b": 1.0}
    assert type(to_python(floats, dict_of(FLOAT))["a"]) is float
    strings = to_literal(["", "x"], list_of(STR))
    strings.collection.literals[0].scalar.none_type.SetInParent()
    with pytest.raises(FlyteInvalidInputException, match=r"cannot read a none_type scalar as str at \[0\]"):
        to_python(strings, list_of(STR))


def test_union_readers_follow_the_stored_variant() -> None:
    declared = list_of(optional(STR))
    literal = to_literal(["a", None, "b"], declared)
    assert to_python(literal, declared) == ["a", None, "b"]
    # A stored variant type the declaration does not list (no tag) is still read by its own type.
    literal.collection.literals[0].scalar.union.type.ClearField("structure")
    assert to_python(literal, declared) == ["a", None, "b"]


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclasses.dataclass
class Reordered:
    a: int
    b: str

    def __init__(self, b: str, a: int) -> None:  # the fields in another order than declared
        self.a = a
        self.b = b


@dataclasses.dataclass
class Scheduled:
    level: Level
    priority: Priority
    at: Optional[datetime.datetime]  # noqa: UP045
    every: datetime.timedelta
    ratio: float


def test_the_generated_plans_convert_like_the_general_path() -> None:
    assert rebuild.from_tree({"a": 1, "b": "x"}, Reordered) == Reordered(b="x", a=1)
    tree = {"level": "high", "priority": 2, "at": "2024-01-02T03:04:05+00:00", "every": 1.5, "ratio": 2}
    expected = Scheduled(
        Level.HIGH,
        Priority.HIGH,
        datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime.timedelta(seconds=1.5),
        2.0,
    )
    built = rebuild.from_tree(tree, Scheduled)
    assert built == expected
    assert type(built.ratio) is float
    assert built.priority is Priority.HIGH
    assert rebuild.from_tree({**tree, "at": None, "every": 3}, Scheduled).at is None
    assert rebuild.from_tree({**tree, "at": None, "every": 3}, Scheduled).every == datetime.timedelta(seconds=3)
    with pytest.raises(Mismatch) as caught:
        rebuild.from_tree({**tree, "level": "medium"}, Scheduled)
    assert (caught.value.location(), caught.value.expected, caught.value.value) == (".level", "Level", "medium")
    with pytest.raises(Mismatch) as caught:
        rebuild.from_tree({**tree, "every": "soon"}, Scheduled)
    assert (caught.value.location(), caught.value.expected) == (".every", "timedelta")
