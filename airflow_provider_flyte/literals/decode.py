"""``flyteidl.core.Literal`` -> Python value, guided by the declared ``LiteralType`` when there is one.

As for writing, each literal type compiles once into a cached *reader*. Without a declared type the reader follows
the literal's own shape (a union carries its variant's type, a blob its format and dimensionality).

What comes back: ``int``/``float``/``str``/``bool``; aware UTC ``datetime``; ``timedelta``; ``None``; ``list`` and
``dict``; enum values as ``str``; :class:`~airflow_provider_flyte.literals.values.FlyteFile`,
:class:`~airflow_provider_flyte.literals.values.FlyteDirectory` and
:class:`~airflow_provider_flyte.literals.values.StructuredDataset` references; msgpack binaries and ``Struct``
generics as plain dicts (a ``python_type`` rebuilds dataclasses, models, enums, ...).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import msgpack
from flyteidl.core import literals_pb2, types_pb2
from google.protobuf import json_format

from airflow_provider_flyte.literals import _bulk, structured
from airflow_provider_flyte.literals._errors import ReadMismatch
from airflow_provider_flyte.literals.types import literal_type_to_str, tagged_variant, type_key
from airflow_provider_flyte.literals.values import FlyteDirectory, FlyteErrorValue, FlyteFile, StructuredDataset

Reader = Callable[[literals_pb2.Literal], Any]

_UTC = datetime.timezone.utc
_MSGPACK = structured.MSGPACK_TAG
_STRUCT = types_pb2.STRUCT
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
_cache: dict[bytes | None, Reader] = {}
_CACHE_LIMIT = 2048


def describe_literal(literal: literals_pb2.Literal) -> str:
    """A short description of what a literal holds (``a collection``, ``a string primitive``...), for errors."""
    kind = literal.WhichOneof("value")
    if kind != "scalar":
        return {"collection": "a collection", "map": "a map", "offloaded_metadata": "an offloaded literal"}.get(
            kind or "", "an empty literal"
        )
    scalar_kind = literal.scalar.WhichOneof("value")
    if scalar_kind == "primitive":
        return f"a {literal.scalar.primitive.WhichOneof('value') or 'empty'} primitive"
    if scalar_kind == "binary":
        return f"a binary ({literal.scalar.binary.tag or 'untagged'})"
    return f"a {scalar_kind or 'empty'} scalar"


def reader_for(literal_type: types_pb2.LiteralType | None) -> Reader:
    """The compiled reader for ``literal_type`` (``None``: follow each literal's own shape); cached."""
    key = None if literal_type is None else type_key(literal_type)
    reader = _cache.get(key)
    if reader is None:
        reader = _infer if literal_type is None else _compile(literal_type)
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[key] = reader
    return reader


NOT_MSGPACK: Any = object()
"""What :func:`msgpack_tree` returns for a literal its shortcut does not apply to."""


def msgpack_tree(literal: literals_pb2.Literal, literal_type: types_pb2.LiteralType | None) -> Any:
    """The tree of a msgpack value of a ``STRUCT`` type, read without finding the type's compiled reader.

    Finding it costs one serialization of the type: 10 µs for a dataclass whose type carries its JSON schema, as
    much as the rest of the call. Every ``STRUCT`` type compiles to :func:`_compile_struct`'s reader, whatever else the
    type holds, and that reader unpacks a msgpack binary as this does before looking at anything else: the shortcut
    returns and raises what it would.

    Returns:
        The tree, or :data:`NOT_MSGPACK` when the type is not ``STRUCT`` or the literal holds no msgpack binary (then
        ``reader_for(literal_type)`` reads it).
    """
    # `.simple` of a type whose `type` is another kind is the default, NONE, never STRUCT.
    if literal_type is None or literal_type.simple != _STRUCT:
        return NOT_MSGPACK
    binary = literal.scalar.binary  # fetched once: each sub-message access builds a wrapper
    if binary.tag != _MSGPACK:
        return NOT_MSGPACK
    try:
        return msgpack.unpackb(binary.value, raw=False, strict_map_key=False)
    except _UNPACK_ERRORS as error:
        raise unreadable_msgpack(binary.value, error) from None


_UNPACK_ERRORS = (ValueError, TypeError, msgpack.UnpackException)
"""What ``msgpack.unpackb`` raises for bytes that are not one msgpack value (``TypeError``: an unhashable map key)."""


def unreadable_msgpack(data: bytes, error: Exception) -> ReadMismatch:
    """The mismatch for a binary tagged msgpack whose bytes do not parse."""
    detail = str(error) or type(error).__name__
    return ReadMismatch("a msgpack value", f"a {len(data)}-byte msgpack binary", f"it does not parse: {detail}")


def clear_caches() -> None:
    """Forget every compiled reader."""
    _cache.clear()


def _check_offloaded(literal: literals_pb2.Literal, expected: str) -> None:
    if literal.WhichOneof("value") == "offloaded_metadata":
        raise ReadMismatch(
            expected,
            "an offloaded literal",
            f"stored at {literal.offloaded_metadata.uri}; offloaded literals are not fetched by this codec",
        )


# --- reading by the literal's own shape ------------------------------------------------------------------------


def _read_primitive(primitive: literals_pb2.Primitive) -> Any:
    kind = primitive.WhichOneof("value")
    if kind == "datetime":
        stamp = primitive.datetime
        try:
            return _EPOCH + datetime.timedelta(seconds=stamp.seconds, microseconds=stamp.nanos // 1000)
        except OverflowError:
            raise ReadMismatch(
                "datetime", "a datetime primitive", f"{stamp.seconds}s is outside years 1..9999"
            ) from None
    if kind == "duration":
        duration = primitive.duration
        try:
            return datetime.timedelta(seconds=duration.seconds, microseconds=duration.nanos // 1000)
        except OverflowError:
            raise ReadMismatch("timedelta", "a duration primitive", f"{duration.seconds}s is too long") from None
    if kind is None:
        raise ReadMismatch("a primitive value", "an empty primitive")
    return getattr(primitive, kind)


def _read_binary(binary: literals_pb2.Binary) -> Any:
    if binary.tag == structured.MSGPACK_TAG:
        try:
            return structured.unpack(binary.value)
        except _UNPACK_ERRORS as error:
            raise unreadable_msgpack(binary.value, error) from None
    return binary.value


def _read_blob(blob: literals_pb2.Blob) -> FlyteFile | FlyteDirectory:
    blob_type = blob.metadata.type
    if blob_type.dimensionality == types_pb2.BlobType.MULTIPART:
        return FlyteDirectory(blob.uri, blob_type.format)
    return FlyteFile(blob.uri, blob_type.format)


def _read_dataset(dataset: literals_pb2.StructuredDataset) -> StructuredDataset:
    sd_type = dataset.metadata.structured_dataset_type
    columns = tuple((column.name, literal_type_to_str(column.literal_type)) for column in sd_type.columns)
    return StructuredDataset(dataset.uri, sd_type.format, columns)


def _read_scalar(scalar: literals_pb2.Scalar) -> Any:
    kind = scalar.WhichOneof("value")
    if kind == "primitive":
        return _read_primitive(scalar.primitive)
    if kind == "none_type":
        return None
    if kind == "union":
        stored = scalar.union.type if scalar.union.HasField("type") else None
        return reader_for(stored)(scalar.union.value)
    if kind == "binary":
        return _read_binary(scalar.binary)
    if kind == "generic":
        return json_format.MessageToDict(scalar.generic)
    if kind == "blob":
        return _read_blob(scalar.blob)
    if kind == "structured_dataset":
        return _read_dataset(scalar.structured_dataset)
    if kind == "schema":
        return StructuredDataset(scalar.schema.uri)
    if kind == "error":
        return FlyteErrorValue(scalar.error.message, scalar.error.failed_node_id)
    raise ReadMismatch("a value", "an empty scalar")


def _infer(literal: literals_pb2.Literal) -> Any:
    kind = literal.WhichOneof("value")
    if kind == "scalar":
        return _read_scalar(literal.scalar)
    if kind == "collection":
        return _read_items(literal.collection, _infer)
    if kind == "map":
        return _read_entries(literal.map, _infer)
    _check_offloaded(literal, "a value")
    raise ReadMismatch("a value", "an empty literal")


def _read_items(collection: literals_pb2.LiteralCollection, read_item: Reader) -> list[Any]:
    items: list[Any] = []
    append = items.append
    index = -1
    try:
        for index, item in enumerate(collection.literals):  # noqa: B007 -- index names the failing element
            append(read_item(item))
    except ReadMismatch as error:
        raise error.at(f"[{index}]") from None
    return items


def _read_entries(literal_map: literals_pb2.LiteralMap, read_item: Reader) -> dict[str, Any]:
    result = {}
    key = ""
    try:
        for key, item in literal_map.literals.items():
            result[key] = read_item(item)
    except ReadMismatch as error:
        raise error.at(f"[{key!r}]") from None
    return result


# --- reading against a declared type ---------------------------------------------------------------------------


def _compile(literal_type: types_pb2.LiteralType) -> Reader:
    kind = literal_type.WhichOneof("type")
    expected = literal_type_to_str(literal_type)
    if kind == "collection_type":
        return _compile_list(literal_type.collection_type, expected)
    if kind == "map_value_type":
        return _compile_map(literal_type.map_value_type, expected)
    if kind == "simple":
        return _compile_simple(literal_type, expected)
    if kind == "union_type":
        return _compile_union(literal_type)
    return _compile_scalar_kind(
        {
            "enum_type": ("primitive",),
            "blob": ("blob",),
            "structured_dataset_type": ("structured_dataset", "schema"),
            "schema": ("schema", "structured_dataset"),
        }.get(kind or "", ()),
        expected,
    )


def _mismatch(literal: literals_pb2.Literal, expected: str) -> ReadMismatch:
    _check_offloaded(literal, expected)
    return ReadMismatch(expected, describe_literal(literal))


def _compile_list(item_type: types_pb2.LiteralType, expected: str) -> Reader:
    read_item = reader_for(item_type)
    read_bulk = _bulk.bulk_reader(item_type)

    def read_list(literal: literals_pb2.Literal) -> Any:
        if literal.WhichOneof("value") != "collection":
            return _read_wrapped(literal, expected)
        if read_bulk is not None:
            # The usual items (plain primitives, optional ones) are read in bulk; anything else item by item.
            values = read_bulk(literal.collection.literals)
            if values is not None:
                return values
        return _read_items(literal.collection, read_item)

    return read_list


def _compile_map(value_type: types_pb2.LiteralType, expected: str) -> Reader:
    read_item = reader_for(value_type)
    read_bulk = _bulk.bulk_reader(value_type)

    def read_map(literal: literals_pb2.Literal) -> Any:
        if literal.WhichOneof("value") != "map":
            return _read_wrapped(literal, expected)
        entries = literal.map.literals
        if read_bulk is not None and entries:
            keys, items = zip(*entries.items(), strict=True)
            values = read_bulk(items)
            if values is not None:
                return dict(zip(keys, values, strict=True))
        return _read_entries(literal.map, read_item)

    return read_map


def _compile_union(literal_type: types_pb2.LiteralType) -> Reader:
    """A union literal carries its variant's type: read its value with that type's reader.

    The declared variants' readers are compiled here; a literal whose stored type is one of them (flytekit tags them
    the same way) goes straight to it, anything else is read by its own shape as before.
    """
    variants = [tagged_variant(variant) for variant in literal_type.union_type.variants]
    readers = [(variant, reader_for(variant)) for variant in variants]

    def read_union(literal: literals_pb2.Literal) -> Any:
        union = literal.scalar.union
        stored = union.type
        for variant, read in readers:
            if stored == variant:
                return read(union.value)
        return _infer(literal)

    return read_union


def _read_wrapped(literal: literals_pb2.Literal, expected: str) -> Any:
    """A value in a form other than the declared one that flytekit also reads: a union wrapper or msgpack."""
    if literal.WhichOneof("value") == "scalar" and literal.scalar.WhichOneof("value") in ("union", "binary"):
        return _read_scalar(literal.scalar)
    raise _mismatch(literal, expected)


# The Primitive fields each simple type may be read from (the first one as it is, the others converted).
_PRIMITIVE_FIELDS: dict[int, tuple[str, ...]] = {
    types_pb2.INTEGER: ("integer", "float_value"),
    types_pb2.FLOAT: ("float_value", "integer"),
    types_pb2.STRING: ("string_value",),
    types_pb2.BOOLEAN: ("boolean",),
    types_pb2.DATETIME: ("datetime",),
    types_pb2.DURATION: ("duration",),
}


def _compile_simple(literal_type: types_pb2.LiteralType, expected: str) -> Reader:
    simple = literal_type.simple
    if simple == types_pb2.STRUCT:
        return _compile_struct(literal_type, expected)
    if simple == types_pb2.NONE:
        return _compile_none(expected)
    fields = _PRIMITIVE_FIELDS.get(simple)
    if fields is None:
        return _infer
    plain = _bulk.PLAIN_FIELDS.get(simple, "")  # never a kind: datetimes and durations are converted

    def read_simple(literal: literals_pb2.Literal) -> Any:
        # Not a primitive scalar: `literal.scalar.primitive` is an empty default, whose kind is None.
        primitive = literal.scalar.primitive
        kind = primitive.WhichOneof("value")
        if kind == plain:
            return getattr(primitive, kind)
        if kind in fields:
            return _convert_primitive(_read_primitive(primitive), simple, expected, literal)
        return _read_wrapped(literal, expected)

    return read_simple


def _compile_none(expected: str) -> Reader:
    def read_none(literal: literals_pb2.Literal) -> Any:
        # Not a scalar: `literal.scalar` is an empty default, whose kind is None.
        if literal.scalar.WhichOneof("value") == "none_type":
            return None
        return _read_wrapped(literal, expected)

    return read_none


def _convert_primitive(value: Any, simple: int, expected: str, literal: literals_pb2.Literal) -> Any:
    if simple == types_pb2.FLOAT and type(value) is int:
        return float(value)
    if simple == types_pb2.INTEGER and type(value) is float:
        # The console sends JavaScript numbers: an integral float is an int, anything else would lose data.
        if not value.is_integer():
            raise ReadMismatch(expected, describe_literal(literal), f"{value!r} is not a whole number")
        return int(value)
    return value


def _compile_scalar_kind(kinds: tuple[str, ...], expected: str) -> Reader:
    def read_scalar_kind(literal: literals_pb2.Literal) -> Any:
        if literal.WhichOneof("value") == "scalar" and literal.scalar.WhichOneof("value") in kinds:
            return _read_scalar(literal.scalar)
        return _read_wrapped(literal, expected)

    return read_scalar_kind


def _compile_struct(literal_type: types_pb2.LiteralType, expected: str) -> Reader:
    field_types = dict(literal_type.structure.dataclass_type)

    def read_struct(literal: literals_pb2.Literal) -> Any:
        binary = literal.scalar.binary
        if binary.tag == _MSGPACK:  # an unset binary (another kind of literal or scalar) has no tag
            # `msgpack_tree` relies on reading exactly this way, before anything else.
            try:
                return msgpack.unpackb(binary.value, raw=False, strict_map_key=False)
            except _UNPACK_ERRORS as error:
                raise unreadable_msgpack(binary.value, error) from None
        scalar = literal.scalar
        kind = scalar.WhichOneof("value") if literal.WhichOneof("value") == "scalar" else None
        if kind == "binary":
            return _read_binary(scalar.binary)
        if kind == "generic":
            # Struct numbers are all doubles: give the declared int fields their ints back.
            return _restore_ints(json_format.MessageToDict(scalar.generic), field_types)
        if kind == "union":
            return _read_scalar(scalar)
        raise _mismatch(literal, expected)

    return read_struct


def _restore_ints(tree: Any, field_types: dict[str, types_pb2.LiteralType]) -> Any:
    if not isinstance(tree, dict) or not field_types:
        return tree
    return {key: _restore_value(item, field_types.get(key)) for key, item in tree.items()}


def _restore_value(value: Any, literal_type: types_pb2.LiteralType | None) -> Any:
    if literal_type is None or value is None:
        return value
    kind = literal_type.WhichOneof("type")
    if kind == "simple":
        if literal_type.simple == types_pb2.INTEGER and type(value) is float and value.is_integer():
            return int(value)
        if literal_type.simple == types_pb2.STRUCT:
            return _restore_ints(value, dict(literal_type.structure.dataclass_type))
        return value
    if kind == "collection_type" and isinstance(value, list):
        return [_restore_value(item, literal_type.collection_type) for item in value]
    if kind == "map_value_type" and isinstance(value, dict):
        return {key: _restore_value(item, literal_type.map_value_type) for key, item in value.items()}
    if kind == "union_type":
        non_none = [v for v in literal_type.union_type.variants if v.WhichOneof("type") != "simple" or v.simple]
        return _restore_value(value, non_none[0]) if len(non_none) == 1 else value
    return value
