"""The ``LiteralType`` flytekit declares for a Python type annotation, for the forms that need no schema.

Scalars, ``None``, ``list[T]``, ``dict[str, T]``, unions (``Optional[T]``, ``Union[A, B]``, ``A | B``) and enums
map to the same literal type flytekit's type engine gives them, union variants tagged as flytekit tags them, so a value
converted with it carries the bytes flytekit would send. Records (dataclasses, pydantic models), untyped ``dict``,
files and data frames have no such fixed form (flytekit derives schemas and formats for them): for those there is
:class:`RecordTypeError`, and the caller uses a declared literal type instead, with the Python type guiding the
conversion.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import types
import typing
from typing import Any

from flyteidl.core import types_pb2

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.literals.types import tagged_variant

__all__ = ["RecordTypeError", "literal_type_of"]

_SIMPLE: dict[Any, int] = {
    int: types_pb2.INTEGER,
    float: types_pb2.FLOAT,
    str: types_pb2.STRING,
    bool: types_pb2.BOOLEAN,
    datetime.datetime: types_pb2.DATETIME,
    datetime.timedelta: types_pb2.DURATION,
    type(None): types_pb2.NONE,
    None: types_pb2.NONE,
}
_UNION_ORIGINS = (typing.Union, types.UnionType)
_SUPPORTED = (
    "int, float, str, bool, datetime, timedelta, None, list[T], dict[str, T], Optional[T], Union[...], A | B or an Enum"
)


class RecordTypeError(FlyteInvalidInputException):
    """A Python type whose literal type flytekit derives from a schema (dataclass, model, untyped dict...)."""


def literal_type_of(python_type: Any, *, name: str = "python_type") -> types_pb2.LiteralType:
    """The literal type flytekit's type engine gives ``python_type``.

    Args:
        python_type: A type annotation.
        name: How errors name the argument.

    Raises:
        RecordTypeError: for a dataclass, pydantic model or untyped ``dict`` anywhere in it.
        FlyteInvalidInputException: for any other type outside the supported forms, naming it.
    """
    if python_type in _SIMPLE:
        return types_pb2.LiteralType(simple=_SIMPLE[python_type])  # type: ignore[arg-type]
    origin = typing.get_origin(python_type)
    args = typing.get_args(python_type)
    if origin is list and len(args) == 1:
        return types_pb2.LiteralType(collection_type=literal_type_of(args[0], name=name))
    if origin is dict and len(args) == 2 and args[0] is str:
        return types_pb2.LiteralType(map_value_type=literal_type_of(args[1], name=name))
    if origin in _UNION_ORIGINS:
        variants = [tagged_variant(literal_type_of(arg, name=name)) for arg in args]
        return types_pb2.LiteralType(union_type=types_pb2.UnionType(variants=variants))
    if isinstance(python_type, type) and issubclass(python_type, enum.Enum):
        values = [str(member.value) for member in python_type]
        return types_pb2.LiteralType(enum_type=types_pb2.EnumType(values=values))
    if _is_record(python_type):
        raise RecordTypeError(
            f"{name}={python_type!r} has a schema-derived literal type; pass literal_type, or leave both out to use "
            "the declared type (the Python type still guides the conversion)"
        )
    raise FlyteInvalidInputException(f"{name}={python_type!r} is not supported here; use {_SUPPORTED}")


def _is_record(python_type: Any) -> bool:
    if python_type is dict or typing.get_origin(python_type) is dict:
        return True
    return isinstance(python_type, type) and (
        dataclasses.is_dataclass(python_type) or hasattr(python_type, "model_fields")
    )
