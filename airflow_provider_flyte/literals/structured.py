"""Dicts, dataclasses and pydantic models as msgpack bytes (flytekit's ``Binary(tag="msgpack")``), and back.

Writing follows what flytekit 1.16 produces:

* a dataclass is serialized field by field in declaration order the way mashumaro does it (``datetime``/``date``/
  ``time`` as ISO strings, ``timedelta`` as seconds, enums as their value, ``UUID``/``Decimal``/paths as strings,
  tuples and sets as lists, nested dataclasses as maps), then packed with ``msgpack.packb``;
* a pydantic model goes through its JSON form (``model_dump_json``) first, as flytekit's pydantic transformer does;
* a plain dict is packed as given (values that msgpack cannot hold are turned into the same simple forms first).

pydantic is detected by duck typing (``model_dump_json`` / ``model_validate``) and never imported.

Reading unpacks with ``strict_map_key=False`` and, when a Python type is given, rebuilds it (dataclasses, models,
enums, dates, containers) from the unpacked tree.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import os
import types
import typing
import uuid
from collections.abc import Mapping
from typing import Any

import msgpack

from airflow_provider_flyte.literals._errors import Mismatch

MSGPACK_TAG = "msgpack"
_NoneType = type(None)
_UNION_ORIGINS: tuple[Any, ...] = (typing.Union, types.UnionType)


def is_model_instance(value: Any) -> bool:
    """Whether ``value`` is a pydantic (v2) model instance, judged by its methods (pydantic is never imported)."""
    return callable(getattr(value, "model_dump_json", None)) and not isinstance(value, type)


def is_model_type(python_type: Any) -> bool:
    """Whether ``python_type`` is a pydantic (v2) model class, judged by its methods."""
    return isinstance(python_type, type) and callable(getattr(python_type, "model_validate", None))


def is_dataclass_instance(value: Any) -> bool:
    """Whether ``value`` is a dataclass instance (not a dataclass class)."""
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _type_hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except (NameError, TypeError):
        # Unresolvable forward references: fall back to value-driven serialization for those fields.
        return {}


def to_tree(value: Any, hint: Any = None) -> Any:
    """``value`` as msgpack-able data (dicts, lists, str, int, float, bool, bytes, None), mashumaro style.

    Args:
        value: The value to convert.
        hint: The declared Python type of ``value`` when known (a dataclass field's annotation), else ``None``.

    Returns:
        The converted value.

    Raises:
        Mismatch: for a value with no msgpack form.
    """
    if value is None or type(value) in (str, int, float, bool, bytes):
        return value
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        return to_tree(value, typing.get_args(hint)[0])
    if origin in _UNION_ORIGINS:
        hint = next((arg for arg in typing.get_args(hint) if _matches_hint(value, arg)), None)
        origin = typing.get_origin(hint)
    if is_dataclass_instance(value):
        hints = _type_hints(type(value))
        return {
            field.name: to_tree(getattr(value, field.name), hints.get(field.name))
            for field in dataclasses.fields(value)
        }
    if is_model_instance(value):
        return json.loads(value.model_dump_json())
    if isinstance(value, Mapping):
        key_hint, value_hint = _dict_args(hint)
        return {to_tree(k, key_hint): to_tree(v, value_hint) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        item_hint = _sequence_arg(hint)
        return [to_tree(item, item_hint) for item in value]
    if isinstance(value, enum.Enum):
        return to_tree(value.value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (str, int, float, bytes)):  # subclasses of the simple types (bool is final)
        return value
    if isinstance(value, bytearray):
        return bytes(value)
    raise Mismatch("a value msgpack can hold", value, f"no msgpack form for {type(value).__name__}")


def _matches_hint(value: Any, hint: Any) -> bool:
    if hint is _NoneType:
        return value is None
    target = typing.get_origin(hint) or hint
    return isinstance(target, type) and isinstance(value, target)


def _dict_args(hint: Any) -> tuple[Any, Any]:
    args = typing.get_args(hint)
    return (args[0], args[1]) if len(args) == 2 else (None, None)


def _sequence_arg(hint: Any) -> Any:
    args = typing.get_args(hint)
    return args[0] if len(args) == 1 or (len(args) == 2 and args[1] is Ellipsis) else None


def pack(value: Any, hint: Any = None) -> bytes:
    """The msgpack bytes of ``value`` exactly as flytekit writes them for a dict, dataclass or pydantic model."""
    return msgpack.packb(to_tree(value, hint), use_bin_type=True)  # type: ignore[no-any-return]


def unpack(data: bytes) -> Any:
    """The data tree of msgpack bytes (map keys of any type allowed, as flytekit reads them)."""
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


def from_tree(data: Any, python_type: Any) -> Any:
    """Rebuild ``python_type`` from a decoded tree (``data`` from msgpack, JSON or another literal).

    Dataclasses and pydantic models are constructed from maps, enums from their values, dates and times from ISO
    strings, ``timedelta`` from seconds, containers element by element, ``float`` from ``int``. A value that already
    has the requested type, or a type the function does not know, is returned unchanged.

    Raises:
        Mismatch: when ``data`` cannot become ``python_type``.
    """
    if python_type is None or python_type is Any or python_type is object:
        return data
    origin = typing.get_origin(python_type)
    if origin is typing.Annotated:
        return from_tree(data, typing.get_args(python_type)[0])
    if origin is typing.Literal:
        return data
    if origin in _UNION_ORIGINS:
        return _from_union(data, python_type)
    if origin in (list, tuple, set, frozenset) or python_type in (list, tuple, set, frozenset):
        return _from_sequence(data, python_type, origin or python_type)
    if origin is dict or python_type is dict:
        return _from_mapping(data, python_type)
    if not isinstance(python_type, type):
        return data
    # bool is an int and datetime a date, but neither should pass for the other unchanged.
    narrower = (python_type is int and isinstance(data, bool)) or (
        python_type is datetime.date and isinstance(data, datetime.datetime)
    )
    if isinstance(data, python_type) and not narrower:
        return data
    return _from_scalar_or_object(data, python_type)


def _from_union(data: Any, python_type: Any) -> Any:
    args = typing.get_args(python_type)
    if data is None and _NoneType in args:
        return None
    last: Mismatch | None = None
    for arg in args:
        if arg is _NoneType:
            continue
        try:
            return from_tree(data, arg)
        except (Mismatch, TypeError, ValueError) as error:
            last = error if isinstance(error, Mismatch) else Mismatch(type_name(arg), data, str(error))
    raise last or Mismatch(type_name(python_type), data)


def _from_sequence(data: Any, python_type: Any, container: type) -> Any:
    if not isinstance(data, (list, tuple, set, frozenset)):
        raise Mismatch(type_name(python_type), data)
    item_type = _sequence_arg(python_type)
    items = []
    for index, item in enumerate(data):
        try:
            items.append(from_tree(item, item_type))
        except Mismatch as error:
            raise error.at(f"[{index}]") from None
    return items if container is list else container(items)


def _from_mapping(data: Any, python_type: Any) -> dict[Any, Any]:
    if not isinstance(data, Mapping):
        raise Mismatch(type_name(python_type), data)
    key_type, value_type = _dict_args(python_type)
    result = {}
    for key, item in data.items():
        try:
            result[from_tree(key, key_type)] = from_tree(item, value_type)
        except Mismatch as error:
            raise error.at(f"[{key!r}]") from None
    return result


def _from_scalar_or_object(data: Any, python_type: type) -> Any:
    try:
        if dataclasses.is_dataclass(python_type):
            return _build_dataclass(data, python_type)
        if is_model_type(python_type):
            return python_type.model_validate(data)  # type: ignore[attr-defined]
        if issubclass(python_type, enum.Enum):
            return python_type(data)
        if python_type is float and type(data) is int:
            return float(data)
        if python_type is datetime.date and isinstance(data, datetime.datetime):
            return data.date()
        if python_type in (datetime.datetime, datetime.date, datetime.time) and isinstance(data, str):
            return python_type.fromisoformat(data)
        if python_type is datetime.timedelta and isinstance(data, (int, float)) and not isinstance(data, bool):
            return datetime.timedelta(seconds=data)
        if python_type in (uuid.UUID, decimal.Decimal) and isinstance(data, str):
            return python_type(data)
        if issubclass(python_type, os.PathLike) and isinstance(data, str):
            return python_type(data)  # type: ignore[call-arg]
    except Mismatch:
        raise
    except (TypeError, ValueError, KeyError) as error:
        raise Mismatch(type_name(python_type), data, str(error)) from None
    raise Mismatch(type_name(python_type), data)


def _build_dataclass(data: Any, cls: type) -> Any:
    if not isinstance(data, Mapping):
        raise Mismatch(cls.__name__, data)
    hints = _type_hints(cls)
    kwargs = {}
    names = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(str(key) for key in data if key not in names)
    if unknown:
        raise Mismatch(cls.__name__, data, f"unknown field(s) {', '.join(unknown)}")
    for field in dataclasses.fields(cls):
        if field.name not in data:
            continue
        try:
            value = from_tree(data[field.name], hints.get(field.name))
        except Mismatch as error:
            raise error.at(f".{field.name}") from None
        if field.init:
            kwargs[field.name] = value
    return cls(**kwargs)


def type_name(python_type: Any) -> str:
    """A readable name of a Python type annotation (``int``, ``list[int]``, ``MyDataclass``)."""
    if isinstance(python_type, type) and typing.get_origin(python_type) is None:
        return python_type.__name__
    return str(python_type).replace("typing.", "")
