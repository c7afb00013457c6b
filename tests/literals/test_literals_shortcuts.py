"""The shortcuts of the decoding path give what the general path gives.

``to_python`` reads a msgpack value of a ``STRUCT`` type without finding the type's compiled reader; a dataclass plan
sets the fields itself when the class's ``__init__`` would do nothing else; a list of converted items is mapped in one
go and only walked item by item to locate a refused one.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import msgpack
import pytest
from flyteidl.core import literals_pb2, types_pb2
from google.protobuf import struct_pb2
from literals_types import STRUCT, list_of

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.literals import rebuild, to_python
from airflow_provider_flyte.literals._errors import Mismatch
from airflow_provider_flyte.literals.decode import NOT_MSGPACK, msgpack_tree, reader_for


def _msgpack_literal(tree: Any) -> literals_pb2.Literal:
    literal = literals_pb2.Literal()
    literal.scalar.binary.value = msgpack.packb(tree)
    literal.scalar.binary.tag = "msgpack"
    return literal


def _schema_struct() -> types_pb2.LiteralType:
    declared = types_pb2.LiteralType(simple=types_pb2.STRUCT)
    declared.metadata.update({"title": "Point", "properties": {"x": {"type": "integer"}}})
    declared.structure.dataclass_type["x"].simple = types_pb2.INTEGER
    return declared


@pytest.mark.parametrize("declared", [STRUCT, _schema_struct()], ids=["plain", "with-schema"])
def test_a_msgpack_struct_skips_the_lookup_and_reads_as_the_compiled_reader(declared: types_pb2.LiteralType) -> None:
    literal = _msgpack_literal({"x": 1, "y": [1.5, None]})
    assert msgpack_tree(literal, declared) == reader_for(declared)(literal) == {"x": 1, "y": [1.5, None]}
    assert to_python(literal, declared) == {"x": 1, "y": [1.5, None]}


def test_other_struct_values_and_types_still_use_the_compiled_reader() -> None:
    generic = literals_pb2.Literal()
    generic.scalar.generic.CopyFrom(struct_pb2.Struct(fields={"x": struct_pb2.Value(number_value=2)}))
    declared = _schema_struct()
    assert msgpack_tree(generic, declared) is NOT_MSGPACK
    assert to_python(generic, declared) == {"x": 2}  # the declared int field gets its int back
    assert type(to_python(generic, declared)["x"]) is int
    msgpack_list = literals_pb2.Literal()
    msgpack_list.collection.literals.add().CopyFrom(_msgpack_literal({"x": 1}))
    assert msgpack_tree(msgpack_list, list_of(STRUCT)) is NOT_MSGPACK
    with pytest.raises(FlyteInvalidInputException, match="a collection"):
        to_python(msgpack_list, STRUCT)


@dataclasses.dataclass
class Plain:
    a: int
    b: list[int]


@dataclasses.dataclass
class Checked:
    a: int
    b: list[int]

    def __post_init__(self) -> None:
        if self.a < 0:
            raise ValueError("a must not be negative")


@dataclasses.dataclass(frozen=True)
class Frozen:
    a: int
    b: list[int]


@dataclasses.dataclass(slots=True)
class Slotted:
    a: int
    b: list[int]


@dataclasses.dataclass(init=False)
class HandInit:
    a: int
    b: list[int]

    def __init__(self, a: int, b: list[int]) -> None:
        self.a = a * 10
        self.b = b


@pytest.mark.parametrize(
    ("cls", "sets_fields"),
    [(Plain, True), (Slotted, True), (Checked, False), (Frozen, False), (HandInit, False)],
)
def test_a_plan_sets_the_fields_itself_only_when_init_would_do_nothing_else(cls: type, sets_fields: bool) -> None:
    assert rebuild._only_sets_fields(cls, ("a", "b")) is sets_fields
    rebuild.clear_caches()
    built: Any = rebuild.from_tree({"a": 1, "b": [2]}, cls)
    assert (built.a, built.b) == ((10, [2]) if cls is HandInit else (1, [2]))
    assert type(built) is cls


def test_a_post_init_still_runs_and_refuses() -> None:
    with pytest.raises(Mismatch, match="a must not be negative"):
        rebuild.from_tree({"a": -1, "b": []}, Checked)


def test_a_refused_item_of_a_mapped_list_is_located() -> None:
    with pytest.raises(Mismatch) as caught:
        rebuild.from_tree([{"a": 1, "b": []}, {"a": 2, "b": ["x"]}, {"a": 3}], list[Plain])
    assert caught.value.location() == "[1].b[0]"
    assert rebuild.from_tree([{"a": 1, "b": []}, Plain(2, [3])], list[Plain]) == [Plain(1, []), Plain(2, [3])]


@pytest.mark.parametrize(
    "data",
    [b"\xc1", b"\x92\x01", b"\x81\x91\x01\x02", b"\x01\x02"],
    ids=["reserved-byte", "truncated-array", "unhashable-key", "extra-data"],
)
def test_msgpack_that_does_not_parse_is_a_typed_error_on_every_path(data: bytes) -> None:
    """Shortcut, compiled struct reader, list items and the literal's own shape all name the value and the cause."""
    literal = literals_pb2.Literal()
    literal.scalar.binary.value = data
    literal.scalar.binary.tag = "msgpack"
    in_a_list = literals_pb2.Literal()
    in_a_list.collection.literals.add().CopyFrom(literal)
    calls = {
        "shortcut": lambda: to_python(literal, STRUCT, name="output 'o0'"),
        "with schema": lambda: to_python(literal, _schema_struct(), name="output 'o0'"),
        "list item": lambda: to_python(in_a_list, list_of(STRUCT), name="output 'o0'"),
        "own shape": lambda: to_python(literal, name="output 'o0'"),
    }
    for path, call in calls.items():
        with pytest.raises(
            FlyteInvalidInputException, match=r"output 'o0': cannot read a \d+-byte msgpack binary"
        ) as e:
            call()
        assert "does not parse" in str(e.value), path
