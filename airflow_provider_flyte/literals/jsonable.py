"""Decoded values as JSON-able Python, for Airflow XCom and trigger events."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import enum
import json
import math
import os
import uuid
from collections.abc import Mapping
from typing import Any

from airflow_provider_flyte.literals import structured
from airflow_provider_flyte.literals.values import FlyteDirectory, FlyteErrorValue, FlyteFile, StructuredDataset


def to_json_able(value: Any) -> Any:
    """Turn a decoded value into plain JSON types (dict, list, str, int, float, bool, None).

    Conversions:

    * ``datetime`` / ``date`` / ``time`` -> ISO 8601 string (datetimes read from literals are UTC, ``+00:00``);
    * ``timedelta`` -> seconds as a float;
    * :class:`FlyteFile` -> ``{"type": "file", "uri": ..., "format": ...}``, :class:`FlyteDirectory` ->
      ``{"type": "directory", ...}``, :class:`StructuredDataset` ->
      ``{"type": "structured_dataset", "uri": ..., "format": ..., "columns": {name: type}}``;
    * an error value -> ``{"type": "error", "message": ..., "failed_node_id": ...}``;
    * enums -> their value; dataclasses and pydantic models -> dicts of their fields;
    * ``bytes`` -> base64 text; ``UUID`` / ``Decimal`` / paths -> strings; tuples and sets -> lists;
    * map keys -> strings; non-finite floats -> the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.

    Args:
        value: A value as :func:`~airflow_provider_flyte.literals.to_python` returns it (or any nesting of the above).

    Returns:
        The JSON-able equivalent; ``json.dumps`` accepts it as is.

    Raises:
        TypeError: for a value of a kind not listed above.
    """
    if value is None or type(value) in (str, int, bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else json.dumps(value)
    if isinstance(value, (FlyteFile, FlyteDirectory, StructuredDataset, FlyteErrorValue)):
        return _flyte_value(value)
    if isinstance(value, enum.Enum):
        return to_json_able(value.value)
    if isinstance(value, Mapping):
        return {_key(key): to_json_able(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json_able(item) for item in value]
    if structured.is_dataclass_instance(value):
        return {field.name: to_json_able(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if structured.is_model_instance(value):
        return json.loads(value.model_dump_json())
    return _leaf(value)


def _flyte_value(value: FlyteFile | FlyteDirectory | StructuredDataset | FlyteErrorValue) -> dict[str, Any]:
    """Files, directories and datasets by URI; an error value by its message."""
    if isinstance(value, (FlyteFile, FlyteDirectory)):
        kind = "file" if isinstance(value, FlyteFile) else "directory"
        return {"type": kind, "uri": value.path, "format": value.format}
    if isinstance(value, StructuredDataset):
        return {
            "type": "structured_dataset",
            "uri": value.uri,
            "format": value.file_format,
            "columns": dict(value.columns),
        }
    return {"type": "error", "message": value.message, "failed_node_id": value.failed_node_id}


def _leaf(value: Any) -> Any:
    """A value with no parts: times, bytes, ids, paths, and subclasses of str and int."""
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (str, int)):
        return str.__str__(value) if isinstance(value, str) else int(value)
    raise TypeError(f"cannot make a {type(value).__name__} JSON-able: {value!r:.80}")


def _key(key: Any) -> str:
    converted = to_json_able(key)
    return converted if isinstance(converted, str) else json.dumps(converted)
