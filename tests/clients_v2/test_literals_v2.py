"""Flyte 2 literals through the v1 codec: the IDLs are wire-compatible, and the bytes equal the ``flyte`` SDK's."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from flyteidl.core import interface_pb2, literals_pb2, types_pb2
from flyteidl2.core import interface_pb2 as interface2_pb2
from flyteidl2.core import literals_pb2 as literals2_pb2
from flyteidl2.core import types_pb2 as types2_pb2
from flyteidl2.task import common_pb2, task_definition_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from airflow_provider_flyte.clients.v2.literals import convert, decode_outputs, encode_inputs, to_v2_literal
from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.literals import to_literal

flyte_types = pytest.importorskip("flyte.types")
TypeEngine = flyte_types.TypeEngine


@dataclasses.dataclass
class Point:
    x: int
    y: float
    label: str


def _kind(field: FieldDescriptor) -> str:
    if field.message_type is not None:
        return field.message_type.full_name.split(".", 1)[1]
    if field.enum_type is not None:
        return field.enum_type.full_name.split(".", 1)[1]
    return str(field.type)


def _differences(v1: Descriptor, v2: Descriptor, seen: set[str]) -> list[str]:
    """Fields both IDLs have with different numbers, names, types or cardinality (recursively)."""
    if v2.full_name in seen:
        return []
    seen.add(v2.full_name)
    old = {field.number: field for field in v1.fields}
    found = []
    for field in v2.fields:
        match = old.get(field.number)
        if match is None:
            continue  # a field flyteidl2 added: unknown to v1, ignored by the codec
        if (match.name, _kind(match), match.is_repeated) != (field.name, _kind(field), field.is_repeated):
            found.append(f"{v2.full_name}.{field.name}")
        if field.message_type is not None and match.message_type is not None:
            found += _differences(match.message_type, field.message_type, seen)
    return found


def test_literal_and_type_messages_are_wire_compatible() -> None:
    seen: set[str] = set()
    problems = _differences(literals_pb2.Literal.DESCRIPTOR, literals2_pb2.Literal.DESCRIPTOR, seen)
    problems += _differences(types_pb2.LiteralType.DESCRIPTOR, types2_pb2.LiteralType.DESCRIPTOR, seen)
    problems += _differences(interface_pb2.TypedInterface.DESCRIPTOR, interface2_pb2.TypedInterface.DESCRIPTOR, seen)
    # The one declared difference: v2's ordered VariableEntry list is v1's map<string, Variable> on the wire.
    assert problems == ["flyteidl2.core.VariableMap.variables"]
    entry = interface2_pb2.VariableEntry.DESCRIPTOR
    assert [(f.number, f.name) for f in entry.fields] == [(1, "key"), (2, "value")]
    assert len(seen) > 30


SAMPLES: list[tuple[Any, Any]] = [
    (3, int),
    (2.5, float),
    ("hello", str),
    ([1, 2, 3], list[int]),
    ({"a": 1.5, "b": -2.0}, dict[str, float]),
    ({"free": [1, "x"]}, dict),
    (Point(1, 2.0, "p"), Point),
]


@pytest.mark.parametrize(("value", "python_type"), SAMPLES, ids=[str(t) for _, t in SAMPLES])
def test_literal_bytes_equal_the_sdk(value: Any, python_type: Any) -> None:
    literal_type = TypeEngine.to_literal_type(python_type)
    sdk = asyncio.run(TypeEngine.to_literal(value, python_type, literal_type))
    ours = to_v2_literal(to_literal(value, convert(literal_type, types_pb2.LiteralType), python_type=python_type))
    assert ours.SerializeToString(deterministic=True) == sdk.SerializeToString(deterministic=True)


def _square(
    x: int, scale: float = 2.0, label: str = "n", points: list[int] | None = None, p: Point | None = None
) -> float:
    return x * scale


def _deployed(function: Any) -> task_definition_pb2.TaskDetails:
    """The TaskDetails the SDK would deploy for ``function``: its typed interface and default inputs."""
    from flyte._internal.runtime.convert import convert_upload_default_inputs
    from flyte._internal.runtime.types_serde import transform_native_to_typed_interface
    from flyte.models import NativeInterface

    native = NativeInterface.from_callable(function)
    details = task_definition_pb2.TaskDetails()
    details.spec.task_template.interface.CopyFrom(transform_native_to_typed_interface(native))
    details.spec.default_inputs.extend(asyncio.run(convert_upload_default_inputs(native)))
    return details


def _sdk_inputs(details: task_definition_pb2.TaskDetails, values: dict[str, Any]) -> common_pb2.Inputs:
    """What the SDK sends to run the deployed (remote) task with ``values``."""
    from flyte._internal.runtime.convert import convert_from_native_to_inputs
    from flyte.remote._task import TaskDetails

    interface = TaskDetails(details).interface
    return asyncio.run(convert_from_native_to_inputs(interface, **values)).proto_inputs


@pytest.mark.parametrize(
    "values",
    [
        {"x": 3},
        {"x": 3, "scale": 0.5, "label": "big", "points": [4, 5]},
    ],
)
def test_run_inputs_equal_the_sdk(values: dict[str, Any]) -> None:
    details = _deployed(_square)
    ours = encode_inputs(values, details, type_hints={"p": Point})
    sdk = _sdk_inputs(details, values)
    assert [entry.name for entry in ours.literals] == [entry.name for entry in sdk.literals]
    assert ours.SerializeToString(deterministic=True) == sdk.SerializeToString(deterministic=True)


def test_inputs_are_checked_against_the_interface() -> None:
    details = _deployed(_square)
    with pytest.raises(FlyteInvalidInputException, match=r"missing required input\(s\) 'x' \(int\)"):
        encode_inputs({}, details)
    with pytest.raises(FlyteInvalidInputException, match="unknown input"):
        encode_inputs({"x": 1, "nope": 2}, details)
    with pytest.raises(FlyteInvalidInputException, match="'x'"):
        encode_inputs({"x": "three"}, details)


def _noted(x: int, note: str | None, p: Point | None) -> int:
    return x


def test_an_optional_input_without_a_default_is_required_as_the_sdk_requires_it() -> None:
    """``note: str | None`` with no default: neither side fills in None; an explicit None is the same union literal."""
    details = _deployed(_noted)
    assert [entry.name for entry in details.spec.default_inputs] == []  # the SDK deploys no default for it
    with pytest.raises(ValueError, match="Missing required inputs: note, p"):
        _sdk_inputs(details, {"x": 1})
    with pytest.raises(FlyteInvalidInputException, match=r"'note' \(Optional\[str\]\), 'p' \(Optional\[Point\]\)"):
        encode_inputs({"x": 1}, details, type_hints={"p": Point})
    values = {"x": 1, "note": None, "p": None}
    ours = encode_inputs(values, details, type_hints={"p": Point})
    sdk = _sdk_inputs(details, values)
    assert ours.SerializeToString(deterministic=True) == sdk.SerializeToString(deterministic=True)
    assert ours.literals[1].value.scalar.union.type.simple == types2_pb2.NONE


def test_outputs_decode_with_the_v1_codec() -> None:
    details = _deployed(_square)
    outputs = common_pb2.Outputs()
    sdk_literal = asyncio.run(TypeEngine.to_literal(6.0, float, TypeEngine.to_literal_type(float)))
    outputs.literals.append(common_pb2.NamedLiteral(name="o0", value=sdk_literal))
    variables = details.spec.task_template.interface.outputs
    assert decode_outputs(outputs, variables) == {"o0": 6.0}
    assert decode_outputs(outputs) == {"o0": 6.0}
