"""The single-value entry points: :func:`to_literal` and :func:`to_python`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from flyteidl.core import literals_pb2, types_pb2

from airflow_provider_flyte.literals import decode, encode, rebuild, structured
from airflow_provider_flyte.literals._errors import Mismatch
from airflow_provider_flyte.literals.decode import describe_literal, reader_for
from airflow_provider_flyte.literals.encode import Uploader, WriteContext, writer_for
from airflow_provider_flyte.literals.types import literal_type_to_str


def _subject(name: str | None) -> str:
    return name or "value"


def to_literal(
    value: Any,
    literal_type: types_pb2.LiteralType,
    *,
    name: str | None = None,
    uploader: Uploader | None = None,
    python_type: Any = None,
) -> literals_pb2.Literal:
    """Convert a Python value to the ``Literal`` of ``literal_type``, with the bytes flytekit 1.16 writes.

    A ``Literal`` passed in is returned unchanged.

    Args:
        value: The Python value.
        literal_type: The declared type (from a task, workflow or launch plan interface, or a signal).
        name: What to call the value in errors, e.g. ``"input 'x'"``; ``"value"`` when omitted.
        uploader: ``(local_path, is_directory) -> remote URI``, called for local files, directories and datasets.
        python_type: The value's Python type when it matters for the wire form: a dataclass or pydantic model class
            turns a dict value into that class first (so its fields are written the way flytekit writes them).

    Returns:
        The literal.

    Raises:
        FlyteInvalidInputException: when the value does not fit the type, naming ``name``, the expected type
            (``list[int]``, ``Optional[str]``...), what was given and where inside the value the problem is.
    """
    if isinstance(value, literals_pb2.Literal):
        return value
    try:
        if python_type is not None and isinstance(value, Mapping) and _is_record_type(python_type):
            value = rebuild.from_tree(value, python_type)
        literal = literals_pb2.Literal()
        writer_for(literal_type)(value, literal, WriteContext(uploader))
    except Mismatch as error:
        raise error.to_exception(_subject(name), literal_type_to_str(literal_type), value) from None
    except UnicodeEncodeError as error:
        raise _not_utf8(error, literal_type).to_exception(
            _subject(name), literal_type_to_str(literal_type), value
        ) from None
    return literal


def _not_utf8(error: UnicodeEncodeError, literal_type: types_pb2.LiteralType) -> Mismatch:
    """The error for text protobuf cannot hold: string fields (values, map keys, URIs) take UTF-8 only."""
    bad = error.object[error.start : error.end]
    return Mismatch(literal_type_to_str(literal_type), bad, "text with a lone surrogate cannot be sent as UTF-8")


def _is_record_type(python_type: Any) -> bool:
    return isinstance(python_type, type) and (
        dataclasses.is_dataclass(python_type) or structured.is_model_type(python_type)
    )


def to_python(
    literal: literals_pb2.Literal,
    literal_type: types_pb2.LiteralType | None = None,
    *,
    python_type: Any = None,
    name: str | None = None,
) -> Any:
    """Convert a ``Literal`` to a Python value.

    Args:
        literal: The literal to read.
        literal_type: Its declared type; when omitted the literal's own shape decides (union literals carry their
            variant's type, blobs their format).
        python_type: Rebuild this Python type from the value: a dataclass or pydantic model from a msgpack/struct
            dict, an ``Enum`` from its string, ``date`` from a datetime, containers of those...
        name: What to call the value in errors, e.g. ``"output 'o0'"``.

    Returns:
        The Python value (see :mod:`airflow_provider_flyte.literals.decode` for the forms).

    Raises:
        FlyteInvalidInputException: when the literal does not match ``literal_type`` or cannot become
            ``python_type``, or is offloaded (the message names the offloaded URI).
    """
    try:
        value = reader_for(literal_type)(literal)
    except Mismatch as error:
        expected = literal_type_to_str(literal_type) if literal_type is not None else "its own type"
        raise error.to_exception(_subject(name), expected, describe_literal(literal)) from None
    if python_type is None:
        return value
    try:
        return rebuild.from_tree(value, python_type)
    except Mismatch as error:
        raise error.to_exception(_subject(name), rebuild.type_name(python_type), value) from None


def clear_caches() -> None:
    """Forget every compiled writer, reader and per-type plan.

    The codec keeps them for the process's lifetime (bounded, keyed by types only); tests and benchmarks call this
    to measure or check the first conversion of a type.
    """
    encode.clear_caches()
    decode.clear_caches()
    structured.clear_caches()
    rebuild.clear_caches()
