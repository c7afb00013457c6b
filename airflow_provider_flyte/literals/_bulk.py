"""Reading many item literals at once, in C: lists and maps of plain primitives and of ``Optional`` primitives.

Every access to a protobuf sub-message from Python creates a wrapper object, and a Python function call per item
costs as much again. For the commonest containers the readers here chain ``operator.attrgetter`` and built-in
methods through ``map``, so no Python frame runs per item, and check the items' kinds in bulk too. They return
``None`` as soon as something is not the usual case (an item of another kind, a variant type the declaration does
not list, a non-deterministic wire form...): the caller then reads item by item as before, which gives the same
values and raises the usual errors. They never return anything else than what the item-by-item readers return.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Sequence
from typing import Any

from flyteidl.core import literals_pb2, types_pb2

from airflow_provider_flyte.literals.types import is_none_type, tagged_variant

BulkReader = Callable[[Sequence[literals_pb2.Literal]], "list[Any] | None"]

# The Primitive field each simple type is read from as it is.
PLAIN_FIELDS: dict[int, str] = {
    types_pb2.INTEGER: "integer",
    types_pb2.FLOAT: "float_value",
    types_pb2.STRING: "string_value",
    types_pb2.BOOLEAN: "boolean",
}
_SCALAR_PRIMITIVE = operator.attrgetter("scalar.primitive")
_SCALAR_UNION = operator.attrgetter("scalar.union")
_UNION_TYPE = operator.attrgetter("type")
_UNION_VALUE = operator.attrgetter("value")
_SCALAR = operator.attrgetter("scalar")
_VALUE_SCALAR = operator.attrgetter("value.scalar")
_PRIMITIVE = operator.attrgetter("primitive")
_PRIMITIVE_KIND = literals_pb2.Primitive.WhichOneof
_SCALAR_KIND = literals_pb2.Scalar.WhichOneof
_WIRE_FORM = types_pb2.LiteralType.SerializeToString


def plain_field(literal_type: types_pb2.LiteralType) -> str | None:
    """The ``Primitive`` field a value of ``literal_type`` is read from as it is (``integer`` for ints...), if any."""
    if literal_type.WhichOneof("type") != "simple":
        return None
    return PLAIN_FIELDS.get(literal_type.simple)


def bulk_reader(item_type: types_pb2.LiteralType) -> BulkReader | None:
    """A reader of many literals of ``item_type`` at once, for the types that have one."""
    field = plain_field(item_type)
    if field is not None:
        return lambda literals: read_plain(list(map(_SCALAR_PRIMITIVE, literals)), field)
    if item_type.WhichOneof("type") == "union_type":
        variants = _plain_variants(item_type)
        if variants is not None:
            optional = _optional_variant(variants)
            if optional is not None:
                return lambda literals: _read_plain_optionals(literals, *optional)
            return lambda literals: _read_plain_unions(literals, variants)
    return None


def read_plain(primitives: list[literals_pb2.Primitive], field: str) -> list[Any] | None:
    """Every primitive's ``field``, or ``None`` when one of them holds another kind (or is not a primitive at all).

    A primitive holding another kind reads as the zero value of ``field`` (``0``, ``0.0``, ``""``, ``False``), so only
    the falsy values need their kind checked.
    """
    values = list(map(operator.attrgetter(field), primitives))
    unsure = list(itertools.compress(primitives, map(operator.not_, values)))
    if unsure and not {field}.issuperset(map(_PRIMITIVE_KIND, unsure, itertools.repeat("value"))):
        return None
    return values


def _plain_variants(union_type: types_pb2.LiteralType) -> dict[bytes, str | None] | None:
    """For a union of plain primitives and ``None``: each variant's stored wire form -> its field (``None``: NONE)."""
    variants: dict[bytes, str | None] = {}
    for variant in union_type.union_type.variants:
        field = None if is_none_type(variant) else plain_field(variant)
        if field is None and not is_none_type(variant):
            return None
        variants[_WIRE_FORM(tagged_variant(variant))] = field
    return variants


def _optional_variant(variants: dict[bytes, str | None]) -> tuple[bytes, bytes, str] | None:
    """For ``Optional[X]`` (one plain variant and ``None``): the two variants' wire forms and ``X``'s field."""
    if len(variants) != 2 or None not in variants.values():
        return None
    (none_form,) = [form for form, field in variants.items() if field is None]
    ((value_form, field),) = [(form, field) for form, field in variants.items() if field is not None]
    return value_form, none_form, field


def _read_plain_optionals(
    literals: Sequence[literals_pb2.Literal], value_form: bytes, none_form: bytes, field: str
) -> list[Any] | None:
    """``Optional[X]`` union literals, as :func:`_read_plain_unions` reads them, with fewer passes.

    Every wrapper protobuf makes for a sub-message costs about as much as a short Python statement, so each item's
    ``scalar.union`` and ``value.scalar`` are fetched once, and the values are put back in place by index arithmetic
    instead of a Python loop.
    """
    unions = list(map(_SCALAR_UNION, literals))
    stored = list(map(_WIRE_FORM, map(_UNION_TYPE, unions)))
    present = stored.count(value_form)
    if present + stored.count(none_form) != len(stored):
        return None  # a variant the declaration does not list
    scalars = list(map(_VALUE_SCALAR, unions))
    if present == len(stored):
        return read_plain(list(map(_PRIMITIVE, scalars)), field)
    is_value = list(map(value_form.__eq__, stored))
    nones = itertools.compress(scalars, map(operator.not_, is_value))
    if not {"none_type"}.issuperset(map(_SCALAR_KIND, nones, itertools.repeat("value"))):
        return None
    values = read_plain(list(map(_PRIMITIVE, itertools.compress(scalars, is_value))), field)
    if values is None:
        return None
    # Item i takes values[k - 1] when it is the k-th present one, else None (index 0 of `padded`).
    padded = [None, *values]
    return list(map(padded.__getitem__, map(operator.mul, itertools.accumulate(is_value), is_value)))


def _read_plain_unions(literals: Sequence[literals_pb2.Literal], variants: dict[bytes, str | None]) -> list[Any] | None:
    """Union literals whose stored types are the declared variants (same wire form), read variant by variant."""
    unions = list(map(_SCALAR_UNION, literals))
    stored = list(map(_WIRE_FORM, map(_UNION_TYPE, unions)))
    values = list(map(_UNION_VALUE, unions))
    result: list[Any] = [None] * len(values)
    for wire_form in set(stored):
        if wire_form not in variants:
            return None
        positions = list(itertools.compress(range(len(stored)), map(wire_form.__eq__, stored)))
        chosen = list(map(values.__getitem__, positions))
        field = variants[wire_form]
        if field is None:
            if not {"none_type"}.issuperset(map(_SCALAR_KIND, map(_SCALAR, chosen), itertools.repeat("value"))):
                return None
            continue
        read = read_plain(list(map(_SCALAR_PRIMITIVE, chosen)), field)
        if read is None:
            return None
        for position, value in zip(positions, read, strict=True):
            result[position] = value
    return result
