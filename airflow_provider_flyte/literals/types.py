"""Reading ``LiteralType`` messages: readable names for errors, flytekit's union tags, and small predicates."""

from __future__ import annotations

from typing import Any

from flyteidl.core import types_pb2
from google.protobuf import json_format

SIMPLE_NAMES: dict[int, str] = {
    types_pb2.NONE: "None",
    types_pb2.INTEGER: "int",
    types_pb2.FLOAT: "float",
    types_pb2.STRING: "str",
    types_pb2.BOOLEAN: "bool",
    types_pb2.DATETIME: "datetime",
    types_pb2.DURATION: "timedelta",
    types_pb2.BINARY: "bytes",
    types_pb2.ERROR: "error",
    types_pb2.STRUCT: "dict",
}

# The transformer names flytekit writes into a union variant's ``structure.tag`` and matches on when reading.
_SIMPLE_TAGS: dict[int, str] = {
    types_pb2.NONE: "none",
    types_pb2.INTEGER: "int",
    types_pb2.FLOAT: "float",
    types_pb2.STRING: "str",
    types_pb2.BOOLEAN: "bool",
    types_pb2.DATETIME: "datetime",
    types_pb2.DURATION: "timedelta",
}
DATACLASS_TAG = "Object-Dataclass-Transformer"
LIST_TAG = "Typed List"
DICT_TAG = "Typed Dict"
UNION_TAG = "Typed Union"
ENUM_TAG = "DefaultEnumTransformer"
FILE_TAG = "FlyteFilePath"
DIRECTORY_TAG = "FlyteDirectory"
STRUCTURED_DATASET_TAG = "StructuredDataset Transformer"
LITERAL_TAG = "LiteralTypeTransformer"


def type_key(literal_type: types_pb2.LiteralType) -> bytes:
    """A hashable identity for a literal type (its wire form), used to cache converters.

    Equal bytes always mean equal types. The plain (not ``deterministic``) form is enough and a good deal cheaper for
    types carrying a JSON schema: two equal types whose maps were filled in another order may get two cache entries,
    never a wrong one.
    """
    return literal_type.SerializeToString()


def literal_values(literal_type: types_pb2.LiteralType) -> list[Any] | None:
    """The allowed values of a ``typing.Literal[...]`` annotation, or ``None`` when the type has none."""
    if not literal_type.HasField("annotation"):
        return None
    fields = literal_type.annotation.annotations.fields
    if "literal_values" not in fields:
        return None
    values = json_format.MessageToDict(literal_type.annotation.annotations).get("literal_values")
    if not isinstance(values, list):
        return None
    if literal_type.simple == types_pb2.INTEGER:
        # Struct numbers are doubles; the values of an int Literal[...] are ints.
        return [int(v) if isinstance(v, float) and v.is_integer() else v for v in values]
    return values


def is_dataclass_struct(literal_type: types_pb2.LiteralType) -> bool:
    """Whether a ``STRUCT`` type describes a dataclass / model (field types or a JSON schema), not a plain dict."""
    return bool(literal_type.structure.dataclass_type) or bool(literal_type.metadata.fields)


def struct_title(literal_type: types_pb2.LiteralType) -> str | None:
    """The class name a ``STRUCT`` type's JSON schema carries (``title`` or a ``$ref`` target), if any."""
    fields = literal_type.metadata.fields
    if "title" in fields and fields["title"].HasField("string_value"):
        return fields["title"].string_value
    if "$ref" in fields and fields["$ref"].HasField("string_value"):
        return fields["$ref"].string_value.rsplit("/", 1)[-1].removesuffix("Schema") or None
    return None


def is_none_type(literal_type: types_pb2.LiteralType) -> bool:
    """Whether ``literal_type`` is the ``NONE`` simple type."""
    return literal_type.WhichOneof("type") == "simple" and literal_type.simple == types_pb2.NONE


def default_union_tag(variant: types_pb2.LiteralType) -> str:
    """The ``structure.tag`` flytekit would give ``variant`` inside a union (its transformer's name)."""
    kind = variant.WhichOneof("type")
    if kind == "simple":
        if literal_values(variant) is not None:
            return LITERAL_TAG
        if variant.simple == types_pb2.STRUCT:
            return DATACLASS_TAG if is_dataclass_struct(variant) else DICT_TAG
        return _SIMPLE_TAGS.get(variant.simple, SIMPLE_NAMES.get(variant.simple, "unknown"))
    return {
        "collection_type": LIST_TAG,
        "map_value_type": DICT_TAG,
        "union_type": UNION_TAG,
        "enum_type": ENUM_TAG,
        "structured_dataset_type": STRUCTURED_DATASET_TAG,
        "schema": "FlyteSchema",
    }.get(kind or "", FILE_TAG if variant.blob.dimensionality == types_pb2.BlobType.SINGLE else DIRECTORY_TAG)


def tagged_variant(variant: types_pb2.LiteralType) -> types_pb2.LiteralType:
    """``variant`` as a union literal stores it: the declared type, with flytekit's tag added if it has none."""
    if variant.structure.tag:
        return variant
    stored = types_pb2.LiteralType()
    stored.CopyFrom(variant)
    stored.structure.tag = default_union_tag(variant)
    return stored


def literal_type_to_str(literal_type: types_pb2.LiteralType | None) -> str:
    """A readable, Python-like name of a literal type, as errors show it.

    Examples: ``int``, ``list[int]``, ``dict[str, float]``, ``Optional[str]``, ``Union[int, str]``,
    ``Enum['red', 'green']``, ``Literal['a', 'b']``, ``FlyteFile[csv]``, ``FlyteDirectory``,
    ``StructuredDataset[parquet]``, ``dict`` (an untyped dict) or the dataclass name for a dataclass ``STRUCT``.

    Args:
        literal_type: The type to name; ``None`` reads as ``Any``.

    Returns:
        The readable name.
    """
    if literal_type is None:
        return "Any"
    kind = literal_type.WhichOneof("type")
    if kind == "simple":
        values = literal_values(literal_type)
        if values is not None:
            return f"Literal[{', '.join(repr(v) for v in values)}]"
        if literal_type.simple == types_pb2.STRUCT and is_dataclass_struct(literal_type):
            return struct_title(literal_type) or "dataclass"
        return SIMPLE_NAMES.get(literal_type.simple, f"simple type {literal_type.simple}")
    if kind == "collection_type":
        return f"list[{literal_type_to_str(literal_type.collection_type)}]"
    if kind == "map_value_type":
        return f"dict[str, {literal_type_to_str(literal_type.map_value_type)}]"
    if kind == "union_type":
        variants = list(literal_type.union_type.variants)
        others = [literal_type_to_str(v) for v in variants if not is_none_type(v)]
        if len(others) == len(variants):
            return f"Union[{', '.join(others)}]"
        inner = others[0] if len(others) == 1 else f"Union[{', '.join(others)}]"
        return f"Optional[{inner}]"
    if kind == "enum_type":
        return f"Enum[{', '.join(repr(v) for v in literal_type.enum_type.values)}]"
    if kind == "blob":
        name = "FlyteFile" if literal_type.blob.dimensionality == types_pb2.BlobType.SINGLE else "FlyteDirectory"
        return f"{name}[{literal_type.blob.format}]" if literal_type.blob.format else name
    if kind == "structured_dataset_type":
        fmt = literal_type.structured_dataset_type.format
        return f"StructuredDataset[{fmt}]" if fmt else "StructuredDataset"
    if kind == "schema":
        return "FlyteSchema"
    return "untyped"
