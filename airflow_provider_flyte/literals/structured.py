"""Dicts, dataclasses and pydantic models as msgpack bytes (flytekit's ``Binary(tag="msgpack")``), and back.

Writing follows what flytekit 1.16 produces:

* a dataclass is serialized field by field in declaration order the way mashumaro does it (``datetime``/``date``/
  ``time`` as ISO strings, ``timedelta`` as seconds, enums as their value, ``UUID``/``Decimal``/paths as strings,
  tuples and sets as lists, nested dataclasses as maps), then packed with ``msgpack.packb``;
* a pydantic model goes through its JSON form (``model_dump_json``) first, as flytekit's pydantic transformer does;
* a plain dict is packed as given (values that msgpack cannot hold are turned into the same simple forms first).

The packing itself runs in msgpack's C extension: plain values, lists and dicts are written natively
(``strict_types=True``, so subclasses are not), and every other object reaches :func:`_msgpack_form`, msgpack's
``default`` hook, which turns it into a plain form one level deep (a dataclass into the dict of its fields, a
``datetime`` into its ISO string...). The form for each Python *type* is chosen once and kept in a cache keyed by
the type (a dataclass's field names are read once, not per instance); it never depends on a value's contents.

pydantic is detected by duck typing (``model_dump_json`` / ``model_validate``) and never imported.

Reading unpacks with ``strict_map_key=False``; :mod:`airflow_provider_flyte.literals.rebuild` turns the unpacked tree
back into a Python type.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import operator
import os
import threading
import typing
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import msgpack

from airflow_provider_flyte.literals._errors import Mismatch

MSGPACK_TAG = "msgpack"

Encoder = Callable[[Any], Any]
"""Turns a value of one Python type into a form msgpack writes natively (plain values, lists and dicts)."""

# Types whose instances msgpack writes natively with ``strict_types=True`` (exact types only; ``None`` too), and
# those plus the containers it walks itself.
_PLAIN: frozenset[type] = frozenset({str, int, float, bool, bytes})
_NATIVE: frozenset[type] = _PLAIN | {type(None), list, dict}

# Forms known up front (exact types); everything else is resolved by `_encoder_of` on first sight.
_PRESET_ENCODERS: dict[type, Encoder] = {
    datetime.datetime: datetime.datetime.isoformat,
    datetime.date: datetime.date.isoformat,
    datetime.time: datetime.time.isoformat,
    datetime.timedelta: datetime.timedelta.total_seconds,
    uuid.UUID: str,
    decimal.Decimal: str,
    tuple: list,
    set: list,
    frozenset: list,
}
_encoders: dict[type, Encoder] = dict(_PRESET_ENCODERS)
CACHE_LIMIT = 1024
"""Most entries a per-type cache keeps; a full cache is emptied and refilled (types only, never values)."""


def is_model_instance(value: Any) -> bool:
    """Whether ``value`` is a pydantic (v2) model instance, judged by its methods (pydantic is never imported)."""
    return callable(getattr(value, "model_dump_json", None)) and not isinstance(value, type)


def is_model_type(python_type: Any) -> bool:
    """Whether ``python_type`` is a pydantic (v2) model class, judged by its methods."""
    return isinstance(python_type, type) and callable(getattr(python_type, "model_validate", None))


def is_dataclass_instance(value: Any) -> bool:
    """Whether ``value`` is a dataclass instance (not a dataclass class)."""
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def type_hints(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints(cls)``, or ``{}`` when an annotation cannot be resolved (fields then pass as given)."""
    try:
        return typing.get_type_hints(cls)
    except (NameError, TypeError):
        return {}


def remember(cache: dict[Any, Any], key: Any, entry: Any) -> None:
    """Store ``entry`` under ``key``, emptying ``cache`` first when it holds :data:`CACHE_LIMIT` entries."""
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    cache[key] = entry


def clear_caches() -> None:
    """Forget every per-type encoder (tests and benchmarks measure the first conversion of a type with it)."""
    _encoders.clear()
    _encoders.update(_PRESET_ENCODERS)


# --- writing ---------------------------------------------------------------------------------------------------


def pack(value: Any) -> bytes:
    """The msgpack bytes of ``value`` exactly as flytekit writes them for a dict, dataclass or pydantic model.

    Raises:
        Mismatch: for a value (anywhere inside) with no msgpack form.
    """
    # `msgpack.packb` makes a Packer (and its buffer) per call, 1-2 µs, as much as packing a small dataclass. Each
    # thread keeps one instead; it is taken out while in use, so a nested call (from a hook) gets its own.
    packer = _packers.__dict__.pop("packer", None) or _new_packer()
    data: bytes = packer.pack(value)
    _packers.packer = packer  # not put back after an error: the next call starts with a clean buffer
    return data


def _new_packer() -> msgpack.Packer:
    return msgpack.Packer(use_bin_type=True, strict_types=True, default=_msgpack_form)


_packers = threading.local()


def unpack(data: bytes) -> Any:
    """The data tree of msgpack bytes (map keys of any type allowed, as flytekit reads them)."""
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


def to_tree(value: Any) -> Any:
    """``value`` as msgpack-able data (dicts, lists, str, int, float, bool, bytes, None), mashumaro style.

    The same forms :func:`pack` writes, built as Python objects.

    Raises:
        Mismatch: for a value with no msgpack form.
    """
    kind = type(value)
    if value is None or kind in _PLAIN:
        return value
    if kind is dict:
        return {to_tree(key): to_tree(item) for key, item in value.items()}
    if kind is list:
        return [to_tree(item) for item in value]
    return to_tree(_msgpack_form(value))


def _msgpack_form(value: Any) -> Any:
    """The ``default`` hook of msgpack: ``value`` one level closer to plain data, by the cached form of its type."""
    encode = _encoders.get(type(value))
    if encode is None:
        encode = _encoder_of(type(value), value)
        remember(_encoders, type(value), encode)
    return encode(value)


def _encoder_of(kind: type, value: Any) -> Encoder:
    """The form of values of type ``kind`` (``value`` is one of them, for the duck-typed model test)."""
    if dataclasses.is_dataclass(kind):
        return _dataclass_encoder(kind)
    if is_model_instance(value):
        return _model_form
    if issubclass(kind, Mapping):
        return _mapping_form
    if issubclass(kind, (list, tuple, set, frozenset)):
        return list
    if issubclass(kind, enum.Enum):
        plain_values = all(type(member.value) in _PLAIN for member in kind)
        return _ENUM_VALUE if plain_values else _enum_form
    if issubclass(kind, (datetime.datetime, datetime.date, datetime.time)):
        return _isoformat
    if issubclass(kind, datetime.timedelta):
        return _total_seconds
    if issubclass(kind, (uuid.UUID, decimal.Decimal)):
        return str
    if issubclass(kind, os.PathLike):
        return _path_form
    # Subclasses of the simple types (bool is final) are written as their plain value.
    for base, plain in ((str, str.__str__), (int, int.__int__), (float, float.__float__), (bytes, bytes)):
        if issubclass(kind, base):
            return plain
    if issubclass(kind, bytearray):
        return bytes
    raise Mismatch("a value msgpack can hold", value, f"no msgpack form for {kind.__name__}")


def _dataclass_encoder(cls: type) -> Encoder:
    """A dataclass as the dict of its fields in declaration order, as straight-line code generated once per class.

    Each field value msgpack does not write natively is given its form right here, by the cached encoder of its type
    (``datetime.isoformat``, a nested dataclass's encoder...), which saves msgpack a round trip through the
    ``default`` hook per value. Lists and dicts are left to msgpack, their items reaching the hook as before. Like
    ``dataclasses``' own ``__init__``, the code is generated; it holds no text from the class (field names and
    helpers are looked up in its namespace).
    """
    names = tuple(field.name for field in dataclasses.fields(cls))
    if not names:
        return lambda value: {}
    variables = ", ".join(f"v{index}" for index in range(len(names)))
    namespace: dict[str, Any] = {f"n{index}": name for index, name in enumerate(names)}
    namespace.update(native=_NATIVE, encoder_of=_encoders.get, form=_msgpack_form)
    namespace["read_all"] = operator.attrgetter(*names) if len(names) > 1 else lambda value: (getattr(value, names[0]),)
    lines = ["def encode_dataclass(value):", f"    {variables}, = read_all(value)"]
    for index in range(len(names)):
        v = f"v{index}"
        lines.append(f"    if type({v}) not in native: {v} = (encoder_of(type({v})) or form)({v})")
    lines.append("    return {" + ", ".join(f"n{index}: v{index}" for index in range(len(names))) + "}")
    exec("\n".join(lines), namespace)
    return namespace["encode_dataclass"]  # type: ignore[no-any-return]


def _model_form(value: Any) -> Any:
    return json.loads(value.model_dump_json())


def _mapping_form(value: Any) -> dict[Any, Any]:
    return dict(value.items())


_ENUM_VALUE = operator.attrgetter("value")


def _enum_form(value: Any) -> Any:
    return to_tree(value.value)


def _isoformat(value: Any) -> Any:
    return value.isoformat()


def _total_seconds(value: Any) -> Any:
    return value.total_seconds()


def _path_form(value: Any) -> Any:
    return to_tree(os.fspath(value))
