"""A small codec between Python values and ``flyteidl2.core`` literals, for behaviours and placeholder outputs.

It covers what scripted and built-in tasks exchange: ``None``, booleans, integers, floats, strings, datetimes,
timedeltas, lists (collections) and string-keyed dicts (maps), guided by the task interface's literal type when there
is one. Anything else (blobs, structured datasets, msgpack-encoded dataclasses) passes through as the literal itself.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from flyteidl2.core import interface_pb2, literals_pb2, types_pb2
from flyteidl2.task import common_pb2

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def to_python(literal: literals_pb2.Literal) -> Any:
    """The Python value of a literal; a literal this codec does not know is returned unchanged."""
    which = literal.WhichOneof("value")
    if which == "collection":
        return [to_python(item) for item in literal.collection.literals]
    if which == "map":
        return {key: to_python(item) for key, item in literal.map.literals.items()}
    if which != "scalar":
        return literal
    scalar = literal.scalar
    kind = scalar.WhichOneof("value")
    if kind == "none_type":
        return None
    if kind != "primitive":
        return literal
    primitive = scalar.primitive
    field = primitive.WhichOneof("value")
    if field == "datetime":
        return primitive.datetime.ToDatetime(tzinfo=datetime.timezone.utc)
    if field == "duration":
        return primitive.duration.ToTimedelta()
    return getattr(primitive, field) if field else None


def _primitive(value: Any, simple: int | None) -> literals_pb2.Literal:
    primitive = literals_pb2.Primitive()
    if isinstance(value, bool):
        primitive.boolean = value
    elif isinstance(value, int) and simple != types_pb2.FLOAT:
        primitive.integer = value
    elif isinstance(value, (int, float)):
        primitive.float_value = float(value)
    elif isinstance(value, str):
        primitive.string_value = value
    elif isinstance(value, datetime.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
        primitive.datetime.FromDatetime(aware.astimezone(datetime.timezone.utc).replace(tzinfo=None))
    elif isinstance(value, datetime.timedelta):
        primitive.duration.FromTimedelta(value)
    else:
        raise TypeError(f"cannot encode a {type(value).__name__} as a Flyte literal")
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=primitive))


def to_literal(value: Any, literal_type: types_pb2.LiteralType | None = None) -> literals_pb2.Literal:
    """The literal of a Python value, guided by ``literal_type`` when given (an ``int`` for a float is a float).

    Raises:
        TypeError: when the value has no literal form here.
    """
    if isinstance(value, literals_pb2.Literal):
        return value
    if value is None:
        return literals_pb2.Literal(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void()))
    if isinstance(value, (list, tuple)):
        item_type = literal_type.collection_type if literal_type and literal_type.HasField("collection_type") else None
        items = [to_literal(item, item_type) for item in value]
        return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=items))
    if isinstance(value, Mapping):
        value_type = literal_type.map_value_type if literal_type and literal_type.HasField("map_value_type") else None
        entries = {str(key): to_literal(item, value_type) for key, item in value.items()}
        return literals_pb2.Literal(map=literals_pb2.LiteralMap(literals=entries))
    simple = literal_type.simple if literal_type is not None and literal_type.HasField("simple") else None
    return _primitive(value, simple)


def placeholder(literal_type: types_pb2.LiteralType, name: str) -> literals_pb2.Literal:
    """A deterministic value of a type: ``0``, ``0.0``, ``"<name>"``, ``False``, the epoch, empty containers."""
    which = literal_type.WhichOneof("type")
    if which == "collection_type":
        return to_literal([])
    if which == "map_value_type":
        return to_literal({})
    if which == "union_type" and literal_type.union_type.variants:
        return placeholder(literal_type.union_type.variants[0], name)
    simple = literal_type.simple if which == "simple" else types_pb2.NONE
    values: dict[int, Any] = {
        types_pb2.INTEGER: 0,
        types_pb2.FLOAT: 0.0,
        types_pb2.STRING: name,
        types_pb2.BOOLEAN: False,
        types_pb2.DATETIME: _EPOCH,
        types_pb2.DURATION: datetime.timedelta(0),
    }
    return to_literal(values.get(simple), literal_type)


def variables(variable_map: interface_pb2.VariableMap) -> dict[str, types_pb2.LiteralType]:
    """The literal types of an interface's inputs or outputs, by name, in declaration order."""
    return {entry.key: entry.value.type for entry in variable_map.variables}


def inputs_to_kwargs(inputs: common_pb2.Inputs) -> dict[str, Any]:
    """The inputs as Python keyword arguments."""
    return {named.name: to_python(named.value) for named in inputs.literals}


def placeholder_outputs(interface: interface_pb2.TypedInterface) -> common_pb2.Outputs:
    """Outputs for every declared output, from :func:`placeholder`."""
    return common_pb2.Outputs(
        literals=[
            common_pb2.NamedLiteral(name=name, value=placeholder(kind, name))
            for name, kind in variables(interface.outputs).items()
        ]
    )


def result_to_outputs(result: Any, interface: interface_pb2.TypedInterface) -> common_pb2.Outputs:
    """The outputs a Python result stands for, the way a Flyte 2 task returns them.

    No declared output: the result is ignored. One output (``o0``): the result itself. Several: a tuple in
    declaration order, or a dict by output name.

    Raises:
        TypeError: when the result does not fit the declared outputs.
    """
    declared = variables(interface.outputs)
    names = list(declared)
    if not names:
        return common_pb2.Outputs()
    if isinstance(result, Mapping) and set(result) == set(names) and len(names) > 1:
        values = [result[name] for name in names]
    elif len(names) == 1:
        values = [result]
    elif isinstance(result, tuple) and len(result) == len(names):
        values = list(result)
    else:
        raise TypeError(f"the task declares outputs {names}, got {type(result).__name__} {result!r}")
    return common_pb2.Outputs(
        literals=[
            common_pb2.NamedLiteral(name=name, value=to_literal(value, declared[name]))
            for name, value in zip(names, values, strict=True)
        ]
    )


def outputs_from_values(values: Mapping[str, Any], interface: interface_pb2.TypedInterface) -> common_pb2.Outputs:
    """Outputs from fixed values by name (names the interface does not declare are kept, untyped)."""
    declared = variables(interface.outputs)
    return common_pb2.Outputs(
        literals=[
            common_pb2.NamedLiteral(name=name, value=to_literal(value, declared.get(name)))
            for name, value in values.items()
        ]
    )
