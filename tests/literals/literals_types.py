"""Hand-built LiteralTypes for the codec's unit tests (no flytekit)."""

from __future__ import annotations

from typing import Any

from flyteidl.core import interface_pb2, types_pb2
from google.protobuf import struct_pb2

INT = types_pb2.LiteralType(simple=types_pb2.INTEGER)
FLOAT = types_pb2.LiteralType(simple=types_pb2.FLOAT)
STR = types_pb2.LiteralType(simple=types_pb2.STRING)
BOOL = types_pb2.LiteralType(simple=types_pb2.BOOLEAN)
DATETIME = types_pb2.LiteralType(simple=types_pb2.DATETIME)
DURATION = types_pb2.LiteralType(simple=types_pb2.DURATION)
NONE = types_pb2.LiteralType(simple=types_pb2.NONE)
STRUCT = types_pb2.LiteralType(simple=types_pb2.STRUCT)


def list_of(item: types_pb2.LiteralType) -> types_pb2.LiteralType:
    return types_pb2.LiteralType(collection_type=item)


def dict_of(value: types_pb2.LiteralType) -> types_pb2.LiteralType:
    return types_pb2.LiteralType(map_value_type=value)


def union_of(*variants: types_pb2.LiteralType) -> types_pb2.LiteralType:
    return types_pb2.LiteralType(union_type=types_pb2.UnionType(variants=list(variants)))


def optional(inner: types_pb2.LiteralType) -> types_pb2.LiteralType:
    return union_of(inner, NONE)


def enum_of(*values: str) -> types_pb2.LiteralType:
    return types_pb2.LiteralType(enum_type=types_pb2.EnumType(values=list(values)))


def file_type(fmt: str = "") -> types_pb2.LiteralType:
    return types_pb2.LiteralType(blob=types_pb2.BlobType(format=fmt, dimensionality=types_pb2.BlobType.SINGLE))


def directory_type(fmt: str = "") -> types_pb2.LiteralType:
    return types_pb2.LiteralType(blob=types_pb2.BlobType(format=fmt, dimensionality=types_pb2.BlobType.MULTIPART))


def dataset_type(fmt: str = "") -> types_pb2.LiteralType:
    return types_pb2.LiteralType(structured_dataset_type=types_pb2.StructuredDatasetType(format=fmt))


def literal_of(base: types_pb2.LiteralType, *values: Any) -> types_pb2.LiteralType:
    annotated = types_pb2.LiteralType()
    annotated.CopyFrom(base)
    annotations = struct_pb2.Struct()
    annotations.update({"literal_values": list(values)})
    annotated.annotation.annotations.CopyFrom(annotations)
    return annotated


def dataclass_type(title: str, **fields: types_pb2.LiteralType) -> types_pb2.LiteralType:
    declared = types_pb2.LiteralType(simple=types_pb2.STRUCT)
    declared.metadata.update({"title": title, "type": "object"})
    for name, field in fields.items():
        declared.structure.dataclass_type[name].CopyFrom(field)
    return declared


def variables(**types: types_pb2.LiteralType) -> interface_pb2.VariableMap:
    return interface_pb2.VariableMap(
        variables={name: interface_pb2.Variable(type=literal_type) for name, literal_type in types.items()}
    )
