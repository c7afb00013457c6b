"""Literal-type inference and castability, as Flyte Admin and propeller check inputs, defaults and signals."""

from __future__ import annotations

from flyteidl.core import literals_pb2, types_pb2

_SIMPLE_OF_PRIMITIVE = {
    "integer": types_pb2.SimpleType.INTEGER,
    "float_value": types_pb2.SimpleType.FLOAT,
    "string_value": types_pb2.SimpleType.STRING,
    "boolean": types_pb2.SimpleType.BOOLEAN,
    "datetime": types_pb2.SimpleType.DATETIME,
    "duration": types_pb2.SimpleType.DURATION,
}
_RECORD_SIMPLES = {types_pb2.SimpleType.STRUCT, types_pb2.SimpleType.BINARY}


def _simple(simple: types_pb2.SimpleType) -> types_pb2.LiteralType:
    return types_pb2.LiteralType(simple=simple)


def literal_type_of(literal: literals_pb2.Literal) -> types_pb2.LiteralType:
    """The literal type a literal carries, as Flyte infers it (union literals bring their declared union)."""
    kind = literal.WhichOneof("value")
    if kind == "collection":
        items = literal.collection.literals
        item_type = literal_type_of(items[0]) if items else _simple(types_pb2.SimpleType.NONE)
        return types_pb2.LiteralType(collection_type=item_type)
    if kind == "map":
        values = list(literal.map.literals.values())
        value_type = literal_type_of(values[0]) if values else _simple(types_pb2.SimpleType.NONE)
        return types_pb2.LiteralType(map_value_type=value_type)
    if kind == "offloaded_metadata":
        return literal.offloaded_metadata.inferred_type
    if kind != "scalar":
        return _simple(types_pb2.SimpleType.NONE)
    scalar = literal.scalar
    scalar_kind = scalar.WhichOneof("value")
    if scalar_kind == "primitive":
        return _simple(_SIMPLE_OF_PRIMITIVE[scalar.primitive.WhichOneof("value") or "integer"])
    if scalar_kind == "union":
        return scalar.union.type
    if scalar_kind == "generic":
        return _simple(types_pb2.SimpleType.STRUCT)
    if scalar_kind == "binary":
        return _simple(types_pb2.SimpleType.BINARY)
    if scalar_kind == "blob":
        return types_pb2.LiteralType(blob=scalar.blob.metadata.type)
    if scalar_kind == "structured_dataset":
        return types_pb2.LiteralType(structured_dataset_type=scalar.structured_dataset.metadata.structured_dataset_type)
    if scalar_kind == "schema":
        return types_pb2.LiteralType(schema=scalar.schema.type)
    if scalar_kind == "error":
        return _simple(types_pb2.SimpleType.ERROR)
    return _simple(types_pb2.SimpleType.NONE)


def _is_none(literal_type: types_pb2.LiteralType) -> bool:
    return literal_type.WhichOneof("type") == "simple" and literal_type.simple == types_pb2.SimpleType.NONE


def is_castable(upstream: types_pb2.LiteralType, downstream: types_pb2.LiteralType) -> bool:
    """Whether a value of type ``upstream`` may flow where ``downstream`` is declared."""
    up_kind = upstream.WhichOneof("type")
    down_kind = downstream.WhichOneof("type")
    if up_kind == "union_type" and down_kind == "union_type":
        return all(
            any(is_castable(variant, target) for target in downstream.union_type.variants)
            for variant in upstream.union_type.variants
        )
    if down_kind == "union_type":
        return any(is_castable(upstream, variant) for variant in downstream.union_type.variants)
    if up_kind == "union_type":
        return len(upstream.union_type.variants) == 1 and is_castable(upstream.union_type.variants[0], downstream)
    if up_kind == "simple" and down_kind == "simple":
        if upstream.simple == downstream.simple:
            return True
        return upstream.simple in _RECORD_SIMPLES and downstream.simple in _RECORD_SIMPLES
    if up_kind == "collection_type" and down_kind == "collection_type":
        return _is_none(upstream.collection_type) or is_castable(upstream.collection_type, downstream.collection_type)
    if up_kind == "map_value_type" and down_kind == "map_value_type":
        return _is_none(upstream.map_value_type) or is_castable(upstream.map_value_type, downstream.map_value_type)
    if up_kind == "blob" and down_kind == "blob":
        formats_match = not upstream.blob.format or not downstream.blob.format
        formats_match = formats_match or upstream.blob.format == downstream.blob.format
        return formats_match and upstream.blob.dimensionality == downstream.blob.dimensionality
    if down_kind == "enum_type":
        if up_kind == "enum_type":
            return set(upstream.enum_type.values) <= set(downstream.enum_type.values)
        return up_kind == "simple" and upstream.simple == types_pb2.SimpleType.STRING
    if up_kind == "enum_type":
        return down_kind == "simple" and downstream.simple == types_pb2.SimpleType.STRING
    if up_kind == "structured_dataset_type" and down_kind == "structured_dataset_type":
        up_format = upstream.structured_dataset_type.format
        down_format = downstream.structured_dataset_type.format
        return not up_format or not down_format or up_format == down_format
    return bool(up_kind == "schema" and down_kind in ("schema", "structured_dataset_type"))


def literal_fits(literal: literals_pb2.Literal, declared: types_pb2.LiteralType) -> bool:
    """Whether a literal may be passed where ``declared`` is expected (checks every element of collections)."""
    kind = literal.WhichOneof("value")
    down_kind = declared.WhichOneof("type")
    if kind == "collection" and down_kind == "collection_type":
        return all(literal_fits(item, declared.collection_type) for item in literal.collection.literals)
    if kind == "map" and down_kind == "map_value_type":
        return all(literal_fits(value, declared.map_value_type) for value in literal.map.literals.values())
    if down_kind == "union_type" and kind == "scalar" and literal.scalar.WhichOneof("value") != "union":
        return any(literal_fits(literal, variant) for variant in declared.union_type.variants)
    return is_castable(literal_type_of(literal), declared)
