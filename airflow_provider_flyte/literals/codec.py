"""The single-value entry points: :func:`to_literal` and :func:`to_python`, and :class:`Codec` for many values.

The functions find the compiled writer or reader of the declared type on every call, by the type's wire form: one
``SerializeToString`` of the ``LiteralType``, about 0.5 µs for ``int`` but 10 µs for a dataclass whose type carries
its JSON schema, as much as converting the value itself (:func:`to_python` skips it for a msgpack value of a
``STRUCT`` type, read the same way whatever the type: :func:`~airflow_provider_flyte.literals.decode.msgpack_tree`).
A :class:`Codec` pays that once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from flyteidl.core import literals_pb2, types_pb2

from airflow_provider_flyte.literals import decode, encode, rebuild, structured
from airflow_provider_flyte.literals._errors import Mismatch
from airflow_provider_flyte.literals.decode import NOT_MSGPACK, Reader, describe_literal, msgpack_tree, reader_for
from airflow_provider_flyte.literals.encode import Uploader, WriteContext, Writer, writer_for
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
    return _write(value, literal_type, writer_for(literal_type), name, uploader, python_type)


_NO_UPLOADER = WriteContext()  # shared: most calls upload nothing, and the context is immutable


def _write(
    value: Any,
    literal_type: types_pb2.LiteralType,
    write: Writer,
    name: str | None,
    uploader: Uploader | None,
    python_type: Any,
) -> literals_pb2.Literal:
    """:func:`to_literal` with the writer already found."""
    if isinstance(value, literals_pb2.Literal):
        return value
    try:
        if python_type is not None and isinstance(value, Mapping) and _is_record_type(python_type):
            value = rebuild.from_tree(value, python_type)
        literal = literals_pb2.Literal()
        write(value, literal, _NO_UPLOADER if uploader is None else WriteContext(uploader))
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
        tree = msgpack_tree(literal, literal_type)
    except Mismatch as error:
        raise _read_error(error, literal, literal_type, name) from None
    if tree is not NOT_MSGPACK:
        return _rebuild(tree, rebuild.compile_type(python_type), python_type, name)
    read = reader_for(literal_type)
    return _read(literal, literal_type, read, rebuild.compile_type(python_type), python_type, name)


def _read(
    literal: literals_pb2.Literal,
    literal_type: types_pb2.LiteralType | None,
    read: Reader,
    convert: rebuild.Converter,
    python_type: Any,
    name: str | None,
) -> Any:
    """:func:`to_python` with the reader and the converter to ``python_type`` already found."""
    try:
        value = read(literal)
    except Mismatch as error:
        raise _read_error(error, literal, literal_type, name) from None
    return value if convert is None else _rebuild(value, convert, python_type, name)


def _read_error(
    error: Mismatch, literal: literals_pb2.Literal, literal_type: types_pb2.LiteralType | None, name: str | None
) -> Exception:
    expected = literal_type_to_str(literal_type) if literal_type is not None else "its own type"
    return error.to_exception(_subject(name), expected, describe_literal(literal))


def _rebuild(value: Any, convert: rebuild.Converter, python_type: Any, name: str | None) -> Any:
    """``value`` as read, converted to ``python_type`` (``convert`` ``None``: as it is)."""
    if convert is None:
        return value
    try:
        return convert(value)
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


class Codec:
    """One declared type compiled once, to convert many values of it.

    :func:`to_literal` and :func:`to_python` find the compiled converters by the declared type's wire form on every
    call; a ``Codec`` finds them when it is made and keeps them, so each call costs the conversion alone. The type is
    copied, so changing the message given afterwards changes nothing here. Values, bytes and errors are those of the
    functions; :func:`clear_caches` does not affect a codec already made.

    Example:
        >>> codec = Codec(declared, python_type=MyRecord)  # doctest: +SKIP
        >>> literals = [codec.to_literal(record) for record in records]  # doctest: +SKIP
        >>> codec.to_python(literals[0]) == records[0]  # doctest: +SKIP
        True

    Args:
        literal_type: The declared type; ``None`` reads each literal by its own shape (and cannot write).
        python_type: As for :func:`to_literal` and :func:`to_python`: a dataclass or model class a dict value is
            turned into before writing, and the type read values are rebuilt as (``None``: the decoded forms).
    """

    __slots__ = ("_convert", "_literal_type", "_python_type", "_read", "_record", "_write")

    def __init__(self, literal_type: types_pb2.LiteralType | None, *, python_type: Any = None) -> None:
        copied: types_pb2.LiteralType | None = None
        if literal_type is not None:
            copied = types_pb2.LiteralType()
            copied.CopyFrom(literal_type)
        self._literal_type = copied
        self._python_type = python_type
        self._write: Writer | None = writer_for(copied) if copied is not None else None
        self._read = reader_for(copied)
        self._convert = rebuild.compile_type(python_type)
        # A record type only matters for dict values; with any other type, values are written as given.
        self._record = python_type if _is_record_type(python_type) else None

    @property
    def literal_type(self) -> types_pb2.LiteralType | None:
        """The declared type (a copy of the one given: do not change it)."""
        return self._literal_type

    @property
    def python_type(self) -> Any:
        """The Python type given, or ``None``."""
        return self._python_type

    def to_literal(
        self, value: Any, *, name: str | None = None, uploader: Uploader | None = None
    ) -> literals_pb2.Literal:
        """:func:`to_literal` of ``value`` with this codec's types.

        Args:
            value: The Python value (a ``Literal`` is returned unchanged).
            name: What to call the value in errors, e.g. ``"input 'x'"``; ``"value"`` when omitted.
            uploader: ``(local_path, is_directory) -> remote URI``, for local files, directories and datasets.

        Returns:
            The literal.

        Raises:
            FlyteInvalidInputException: when the value does not fit the type (see :func:`to_literal`).
            TypeError: when the codec was made without a literal type.
        """
        if self._write is None or self._literal_type is None:
            raise TypeError("a Codec made without a literal type can only read")
        return _write(value, self._literal_type, self._write, name, uploader, self._record)

    def to_python(self, literal: literals_pb2.Literal, *, name: str | None = None) -> Any:
        """:func:`to_python` of ``literal`` with this codec's types.

        Args:
            literal: The literal to read.
            name: What to call the value in errors, e.g. ``"output 'o0'"``.

        Returns:
            The Python value, rebuilt as the codec's ``python_type`` when it has one.

        Raises:
            FlyteInvalidInputException: when the literal does not match the type or cannot become ``python_type``.
        """
        return _read(literal, self._literal_type, self._read, self._convert, self._python_type, name)

    def __repr__(self) -> str:
        python_type = "" if self._python_type is None else f", python_type={rebuild.type_name(self._python_type)}"
        return f"Codec({literal_type_to_str(self._literal_type)}{python_type})"
