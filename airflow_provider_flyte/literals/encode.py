"""Python value -> ``flyteidl.core.Literal``, guided by the declared ``LiteralType``.

Each literal type is compiled once into a *writer*: a closure that checks a value and fills a ``Literal`` in place.
Writers for containers hold their element writer, so converting a 100k-element list is one tight loop appending
into the repeated field, with no per-element type dispatch. Compiled writers are cached by the literal type's
wire form.

Two flavours are compiled per type. The *strict* one accepts what flytekit accepts (plus naive datetimes, see below);
the *lenient* one also takes the conveniences this codec adds: an ``int`` for a ``float`` when the conversion is
exact, ``tuple`` for ``list``, any ``Mapping`` for a map, subclasses of ``int``/``float``/``str``, a plain URI string
for a structured dataset, a dataclass or model for an untyped dict. Top-level values use the lenient writer; union
variants are tried strictly first, so the lenient rules never make a union ambiguous where flytekit's would not be.

Deliberate differences from flytekit (documented in the package docstring): a naive ``datetime`` is taken as UTC
(flytekit uses the machine's local time), an ``int`` is accepted for a ``float`` input when exact, and a ``date``
becomes midnight UTC.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import os
import pathlib
from collections.abc import Callable, Mapping
from typing import Any

from flyteidl.core import literals_pb2, types_pb2

from airflow_provider_flyte.literals import structured
from airflow_provider_flyte.literals._errors import Mismatch
from airflow_provider_flyte.literals.types import (
    is_dataclass_struct,
    is_none_type,
    literal_type_to_str,
    literal_values,
    tagged_variant,
    type_key,
)
from airflow_provider_flyte.literals.values import StructuredDataset, is_remote_uri, local_path_of, location_of

Uploader = Callable[[pathlib.Path, bool], str]
"""Uploads a local file (``is_directory=False``) or directory and returns the remote URI to put in the literal."""


@dataclasses.dataclass(frozen=True)
class WriteContext:
    """Per-call state the compiled writers need: how to upload local files."""

    uploader: Uploader | None = None


Writer = Callable[[Any, literals_pb2.Literal, WriteContext], None]

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_UTC = datetime.timezone.utc
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
_MSGPACK = structured.MSGPACK_TAG
_cache: dict[tuple[bytes, bool], Writer] = {}
_CACHE_LIMIT = 2048


def writer_for(literal_type: types_pb2.LiteralType, lenient: bool = True) -> Writer:
    """The compiled writer for ``literal_type`` (cached)."""
    key = (type_key(literal_type), lenient)
    writer = _cache.get(key)
    if writer is None:
        writer = _compile(literal_type, lenient)
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[key] = writer
    return writer


def clear_caches() -> None:
    """Forget every compiled writer."""
    _cache.clear()


def _compile(literal_type: types_pb2.LiteralType, lenient: bool) -> Writer:
    kind = literal_type.WhichOneof("type")
    expected = literal_type_to_str(literal_type)
    if kind == "simple":
        writer = _compile_simple(literal_type, lenient, expected)
        allowed = literal_values(literal_type)
        return writer if allowed is None else _restrict_to(writer, allowed, expected)
    if kind == "collection_type":
        return _compile_list(literal_type.collection_type, lenient, expected)
    if kind == "map_value_type":
        return _compile_map(literal_type.map_value_type, lenient, expected)
    if kind == "union_type":
        return _compile_union(literal_type, expected)
    if kind == "enum_type":
        return _compile_enum(list(literal_type.enum_type.values), expected)
    if kind == "blob":
        return _compile_blob(literal_type.blob, expected)
    if kind == "structured_dataset_type":
        return _compile_structured_dataset(literal_type.structured_dataset_type, lenient, expected)
    return _unsupported(expected, "this codec cannot write values of this literal type")


def _unsupported(expected: str, reason: str) -> Writer:
    def write(value: Any, out: literals_pb2.Literal, ctx: WriteContext) -> None:
        raise Mismatch(expected, value, reason)

    return write


# --- scalars ---------------------------------------------------------------------------------------------------


def _as_int(value: Any, lenient: bool) -> int:
    if type(value) is not int and not (lenient and isinstance(value, int) and not isinstance(value, bool)):
        raise Mismatch("int", value)
    number = int(value)
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise Mismatch("int", value, "outside the signed 64-bit range")
    return number


def _as_float(value: Any, lenient: bool) -> float:
    if type(value) is float:
        return value
    if lenient and not isinstance(value, bool):
        if isinstance(value, float):
            return float(value)
        if isinstance(value, int):
            try:
                converted = float(value)
            except OverflowError:
                raise Mismatch("float", value, "too large for a float") from None
            if int(converted) != value:
                raise Mismatch("float", value, "this int has no exact float representation")
            return converted
    raise Mismatch("float", value)


def _as_str(value: Any, lenient: bool) -> str:
    if type(value) is str:
        return value
    if lenient and isinstance(value, str):
        # str.__str__ gives the underlying text, also for `class Color(str, Enum)` members.
        return str.__str__(value)
    raise Mismatch("str", value)


def _as_bool(value: Any, lenient: bool) -> bool:
    if type(value) is bool:
        return value
    raise Mismatch("bool", value)


def _to_utc(value: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        # A naive datetime is taken as UTC (flytekit would use the machine's local time zone).
        if value.tzinfo is None:
            return value.replace(tzinfo=_UTC)
        try:
            return value.astimezone(_UTC)
        except OverflowError:
            # e.g. 0001-01-01T00:00+05:00, whose UTC time is before year 1.
            raise Mismatch("datetime", value, "its UTC time is outside years 1..9999") from None
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day, tzinfo=_UTC)
    raise Mismatch("datetime", value)


def _write_datetime(value: Any, out: literals_pb2.Literal, ctx: WriteContext) -> None:
    moment = _to_utc(value)
    delta = moment - _EPOCH
    stamp = out.scalar.primitive.datetime
    stamp.SetInParent()
    stamp.seconds = delta.days * 86400 + delta.seconds
    stamp.nanos = delta.microseconds * 1000


def _write_duration(value: Any, out: literals_pb2.Literal, ctx: WriteContext) -> None:
    if not isinstance(value, datetime.timedelta):
        raise Mismatch("timedelta", value)
    seconds = value.days * 86400 + value.seconds
    nanos = value.microseconds * 1000
    if seconds < 0 < nanos:
        # google.protobuf.Duration keeps seconds and nanos on the same side of zero.
        seconds += 1
        nanos -= 1_000_000_000
    duration = out.scalar.primitive.duration
    duration.SetInParent()
    duration.seconds = seconds
    duration.nanos = nanos


def _write_none(value: Any, out: literals_pb2.Literal, ctx: WriteContext) -> None:
    if value is not None:
        raise Mismatch("None", value)
    out.scalar.none_type.SetInParent()


def _compile_simple(literal_type: types_pb2.LiteralType, lenient: bool, expected: str) -> Writer:
    simple = literal_type.simple
    if simple == types_pb2.INTEGER:

        def write_int(value: Any, out: literals_pb2.Literal, ctx: WriteContext) -> None:
            # `value >> 63` is 0 exactly for ints in [0, 2**63): the common case skips the range check.
            out.scalar.primitive.integer = value if type(value) is int and not value >> 63 else _as_int(value, lenient)

        return write_int
    if simple == types_pb2.FLOAT:

        def write_float(value: Any, out: literals_pb2.Literal, ctx: WriteContext) -> None:
            out.scalar.primitive.float_value = value if type(value) is float else _as_float(value, lenient)

        return write_float
    if simple == types_pb2.STRING:

        def write_str(value: Any, out: literals_pb2.Literal, ctx: WriteContext) -> None:
            out.scalar.primitive.string_value = value if type(value) is str else _as_str(value, lenient)

        return write_str
    if simple == types_pb2.BOOLEAN:

        def write_bool(value: Any, out: literals_pb2.Literal, ctx: WriteContext) -> None:
            out.scalar.primitive.boolean = value if type(value) is bool else _as_bool(value, lenient)

        return write_bool
    if simple == types_pb2.DATETIME:
        return _compile_datetime(literal_type, lenient, expected)
    if simple == types_pb2.DURATION:
        return _write_duration
    if simple == types_pb2.NONE:
        return _write_none
    if simple == types_pb2.STRUCT:
        return _compile_struct(literal_type, lenient, expected)
    return _unsupported(expected, "this codec cannot write values of this simple type")


def _compile_datetime(literal_type: types_pb2.LiteralType, lenient: bool, expected: str) -> Writer:
    if lenient:
        return _write_datetime
    # Strictly (union trials), flytekit's `date` variant takes only dates and its `datetime` variant only
    # datetimes, so `Union[datetime, date]` is not ambiguous.
    accepted = datetime.date if literal_type.structure.tag == "date" else datetime.datetime

    def write_exact_datetime(value: Any, out: literals_pb2.Literal, ctx: WriteContext) -> None:
        if type(value) is not accepted and not (accepted is datetime.datetime and isinstance(value, datetime.datetime)):
            raise Mismatch(expected, value)
        _write_datetime(value, out, ctx)

    return write_exact_datetime


def _restrict_to(writer: Writer, allowed: list[Any], expected: str) -> Writer:
    """A ``typing.Literal[...]`` type: the base type's writer, for the listed values only."""

    def write_literal_value(value: Any, out: literals_pb2.Literal, ctx: WriteContext) -> None:
        if value not in allowed or isinstance(value, bool) != any(isinstance(a, bool) for a in allowed):
            raise Mismatch(expected, value, "not one of the allowed values")
        writer(value, out, ctx)

    return write_literal_value


# --- containers ------------------------------------------------------------------------------------------------


def _is_instance(value: Any, accepted: tuple[type, ...]) -> bool:
    # A function boundary keeps mypy from narrowing `value` to `object` for a runtime tuple of types.
    return isinstance(value, accepted)


# Primitive element types get a dedicated loop: the value goes straight into the new element's primitive field,
# without a writer call per element. Each entry: (exact Python type, Primitive field, coercion for other types).
_PRIMITIVE_ITEMS: dict[int, tuple[type, str, Callable[[Any, bool], Any]]] = {
    types_pb2.INTEGER: (int, "integer", _as_int),
    types_pb2.FLOAT: (float, "float_value", _as_float),
    types_pb2.STRING: (str, "string_value", _as_str),
    types_pb2.BOOLEAN: (bool, "boolean", _as_bool),
}


def _compile_list(item_type: types_pb2.LiteralType, lenient: bool, expected: str) -> Writer:
    write_item = writer_for(item_type, lenient)
    sequence_types: tuple[type, ...] = (list, tuple) if lenient else (list,)
    primitive = None
    if item_type.WhichOneof("type") == "simple" and literal_values(item_type) is None:
        primitive = _PRIMITIVE_ITEMS.get(item_type.simple)
    if primitive is not None:
        return _compile_primitive_list(*primitive, lenient, sequence_types, expected)

    def write_list(value: Any, out: literals_pb2.Literal, ctx: WriteContext) -> None:
        if type(value) is not list and not _is_instance(value, sequence_types):
            raise Mismatch(expected, value)
        collection = out.collection
        collection.SetInParent()
        add = collection.literals.add
        index = -1
        try:
            for index, item in enumerate(value):  # noqa: B007 -- index names the failing element
                write_item(item, add(), ctx)
        except Mismatch as error:
            raise error.at(f"[{index}]") from None

    return write_list


def _compile_primitive_list(
    exact: Any,
    field: str,
    coerce: Callable[[Any, bool], Any],
    lenient: bool,
    sequence_types: tuple[type, ...],
    expected: str,
) -> Writer:
    check_range = exact is int

    def write_primitive_list(value: Any, out: literals_pb2.Literal, ctx: WriteContext) -> None:
        if type(value) is not list and not _is_instance(value, sequence_types):
            raise Mismatch(expected, value)
        collection = out.collection
        collection.SetInParent()
        add = collection.literals.add
        index = -1
        try:
            for index, item in enumerate(value):  # noqa: B007 -- index names the failing element
                # `item >> 63` is 0 exactly for ints in [0, 2**63): the common case skips the range check.
                if type(item) is not exact or (check_range and item >> 63):
                    item = coerce(item, lenient)
                setattr(add().scalar.primitive, field, item)
        except Mismatch as error:
            raise error.at(f"[{index}]") from None

    return write_primitive_list


def _compile_map(value_type: types_pb2.LiteralType, lenient: bool, expected: str) -> Writer:
    write_item = writer_for(value_type, lenient)
    mapping_types: tuple[type, ...] = (Mapping,) if lenient else (dict,)

    def write_map(value: Any, out: literals_pb2.Literal, ctx: WriteContext) -> None:
        if not _is_instance(value, mapping_types):
            raise Mismatch(expected, value)
        literal_map = out.map
        literal_map.SetInParent()
        entries = literal_map.literals
        key: Any = None
        try:
            for key, item in value.items():
                if type(key) is not str:
                    raise Mismatch("str key", key, "map keys must be strings")
                write_item(item, entries[key], ctx)
        except Mismatch as error:
            raise error.at(f"[{key!r}]") from None

    return write_map


def _compile_union(literal_type: types_pb2.LiteralType, expected: str) -> Writer:
    variants = list(literal_type.union_type.variants)
    stored_types = [tagged_variant(variant) for variant in variants]
    strict = [writer_for(variant, lenient=False) for variant in variants]
    lenient = [writer_for(variant, lenient=True) for variant in variants]
    string_variant = [
        i for i, v in enumerate(variants) if v.WhichOneof("type") == "simple" and v.simple == types_pb2.STRING
    ]
    none_variant = next((i for i, v in enumerate(variants) if is_none_type(v)), None)

    # A non-None value never fits the NONE variant: leave it out of the trials. With a single candidate left (the
    # usual `Optional[X]`) the value is written straight into place, with no trial copy.
    candidates = [i for i in range(len(variants)) if i != none_variant]
    single = candidates[0] if len(candidates) == 1 else None

    def attempt(writers: list[Writer], value: Any, ctx: WriteContext) -> list[tuple[int, literals_pb2.Literal]]:
        matches = []
        for index in candidates:
            write = writers[index]
            trial = literals_pb2.Literal()
            try:
                write(value, trial, ctx)
            except Mismatch:
                continue
            matches.append((index, trial))
        return matches

    def write_single(value: Any, union: literals_pb2.Union, ctx: WriteContext) -> None:
        assert single is not None
        try:
            strict[single](value, union.value, ctx)
        except Mismatch:
            union.ClearField("value")
            # The lenient attempt's error, if any, points inside the value (e.g. the bad list element).
            lenient[single](value, union.value, ctx)
        union.type.CopyFrom(stored_types[single])

    def write_union(value: Any, out: literals_pb2.Literal, ctx: WriteContext) -> None:
        if value is None and none_variant is not None:
            union = out.scalar.union
            union.value.scalar.none_type.SetInParent()
            union.type.CopyFrom(stored_types[none_variant])
            return
        if single is not None:
            write_single(value, out.scalar.union, ctx)
            return
        matches = attempt(strict, value, ctx) or attempt(lenient, value, ctx)
        if len(matches) > 1 and type(value) is str and len(string_variant) == 1:
            # flytekit's rule: a bare string matching both `str` and an enum goes to `str`.
            matches = [match for match in matches if match[0] == string_variant[0]]
        if not matches:
            raise Mismatch(expected, value, "matches none of the union's variants")
        if len(matches) > 1:
            names = ", ".join(literal_type_to_str(variants[index]) for index, _ in matches)
            raise Mismatch(expected, value, f"ambiguous: it fits several variants ({names})")
        index, literal = matches[0]
        union = out.scalar.union
        union.value.CopyFrom(literal)
        union.type.CopyFrom(stored_types[index])

    return write_union


# --- enums, files, datasets, structs ---------------------------------------------------------------------------


def _compile_enum(values: list[str], expected: str) -> Writer:
    allowed = frozenset(values)

    def write_enum(value: Any, out: literals_pb2.Literal, ctx: WriteContext) -> None:
        text = value.value if isinstance(value, enum.Enum) else value
        if type(text) is not str and isinstance(text, str):
            text = str.__str__(text)
        if type(text) is not str or text not in allowed:
            raise Mismatch(expected, value, "not one of the enum's values")
        out.scalar.primitive.string_value = text

    return write_enum


def _upload(location: str, is_directory: bool, value: Any, expected: str, ctx: WriteContext) -> str:
    path = pathlib.Path(local_path_of(location))
    if is_directory and not path.is_dir():
        raise Mismatch(expected, value, "not an existing directory")
    if not is_directory and not path.is_file():
        raise Mismatch(expected, value, "not an existing file")
    if ctx.uploader is None:
        raise Mismatch(expected, value, "a local path must be uploaded, and no uploader was given")
    return ctx.uploader(path, is_directory)


def _compile_blob(blob_type: types_pb2.BlobType, expected: str) -> Writer:
    is_directory = blob_type.dimensionality == types_pb2.BlobType.MULTIPART
    blob_format = blob_type.format
    dimensionality = blob_type.dimensionality

    def write_blob(value: Any, out: literals_pb2.Literal, ctx: WriteContext) -> None:
        location = location_of(value)
        if not location:
            raise Mismatch(expected, value, "give a remote URI or a local path")
        if not is_remote_uri(location):
            location = _upload(location, is_directory, value, expected, ctx)
        blob = out.scalar.blob
        blob.metadata.type.SetInParent()
        blob.metadata.type.format = blob_format
        blob.metadata.type.dimensionality = dimensionality
        blob.uri = location

    return write_blob


def _compile_structured_dataset(dataset_type: types_pb2.StructuredDatasetType, lenient: bool, expected: str) -> Writer:
    declared = types_pb2.StructuredDatasetType()
    declared.CopyFrom(dataset_type)

    def write_dataset(value: Any, out: literals_pb2.Literal, ctx: WriteContext) -> None:
        if isinstance(value, StructuredDataset):
            uri, file_format = value.uri, value.file_format
        elif isinstance(getattr(value, "uri", None), str) and getattr(value, "dataframe", None) is None:
            # flytekit's StructuredDataset(uri=..., file_format=...) by duck typing.
            uri, file_format = value.uri, str(getattr(value, "file_format", "") or "")
        elif lenient and isinstance(value, (str, os.PathLike)):
            uri, file_format = os.fspath(value), ""
        else:
            raise Mismatch(expected, value, "give a StructuredDataset(uri=..., file_format=...) or a URI")
        if not uri:
            raise Mismatch(expected, value, "the dataset has no uri")
        if not is_remote_uri(uri):
            uri = _upload(uri, pathlib.Path(local_path_of(uri)).is_dir(), value, expected, ctx)
        dataset = out.scalar.structured_dataset
        dataset.uri = uri
        sd_type = dataset.metadata.structured_dataset_type
        sd_type.CopyFrom(declared)
        if not declared.format and file_format:
            sd_type.format = file_format

    return write_dataset


def _compile_struct(literal_type: types_pb2.LiteralType, lenient: bool, expected: str) -> Writer:
    field_types = dict(literal_type.structure.dataclass_type)
    declared_fields = is_dataclass_struct(literal_type)
    required = {name for name, field in field_types.items() if not _accepts_none(field)}
    field_writers = {name: writer_for(field, lenient=True) for name, field in field_types.items()}
    # Dataclass and model types already checked against the declared fields (the check depends on the type only).
    accepted_types: dict[type, None] = {}

    def check_dict(value: Mapping[Any, Any]) -> None:
        """Validate a dict against the declared fields; the values themselves are then packed as given."""
        unknown = sorted(str(key) for key in value if key not in field_types)
        if unknown:
            raise Mismatch(expected, value, f"unknown field(s) {', '.join(unknown)}")
        missing = sorted(required - set(value))
        if missing:
            raise Mismatch(expected, value, f"missing field(s) {', '.join(missing)}")
        for name, item in value.items():
            try:
                # Written into a throw-away literal only to check the value; nothing is uploaded from here.
                field_writers[name](item, literals_pb2.Literal(), WriteContext())
            except Mismatch as error:
                raise error.at(f"[{name!r}]") from None

    def check_record(value: Any) -> None:
        """A dataclass or model must be declared as one (or be lenient) and have no field the type lacks."""
        if not (declared_fields or lenient):
            raise Mismatch(expected, value, "an untyped dict input takes a dict")
        if field_types:
            unknown = sorted(_field_names(value) - set(field_types))
            if unknown:
                raise Mismatch(expected, value, f"field(s) {', '.join(unknown)} are not in the declared type")
        structured.remember(accepted_types, type(value), None)

    def write_struct(value: Any, out: literals_pb2.Literal, ctx: WriteContext) -> None:
        if type(value) not in accepted_types:
            if isinstance(value, dict) or (lenient and isinstance(value, Mapping)):
                if field_types:
                    check_dict(value)
            elif structured.is_dataclass_instance(value) or structured.is_model_instance(value):
                check_record(value)
            else:
                raise Mismatch(expected, value)
        binary = out.scalar.binary
        binary.value = structured.pack(value)
        binary.tag = _MSGPACK

    return write_struct


def _field_names(value: Any) -> set[str]:
    if structured.is_dataclass_instance(value):
        return {field.name for field in dataclasses.fields(value)}
    return set(getattr(type(value), "model_fields", {}) or {})


def _accepts_none(literal_type: types_pb2.LiteralType) -> bool:
    if is_none_type(literal_type):
        return True
    return literal_type.WhichOneof("type") == "union_type" and any(
        is_none_type(v) for v in literal_type.union_type.variants
    )
