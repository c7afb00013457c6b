"""Whole input and output maps against an interface (``VariableMap``, ``ParameterMap`` or a mapping of them)."""

from __future__ import annotations

import pathlib
from collections.abc import Collection, Mapping
from typing import Any

from flyteidl.core import interface_pb2, literals_pb2, types_pb2

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.literals.codec import to_literal, to_python
from airflow_provider_flyte.literals.encode import Uploader
from airflow_provider_flyte.literals.types import literal_type_to_str

_PENDING_UPLOAD = "pending-upload://"

Variables = (
    interface_pb2.VariableMap
    | interface_pb2.ParameterMap
    | Mapping[str, interface_pb2.Variable]
    | Mapping[str, interface_pb2.Parameter]
)
"""Anything that declares named, typed values: a task/workflow interface side or a launch plan's parameters."""


def declared_types(variables: Variables) -> dict[str, tuple[types_pb2.LiteralType, bool]]:
    """Each declared name's literal type and whether a caller must supply it.

    A ``Variable`` (task and workflow interfaces) is always required. A ``Parameter`` (launch plan
    ``expected_inputs``) is required when flagged ``required`` or when it has no default and no artifact binding,
    as Flyte Admin decides it.
    """
    if isinstance(variables, interface_pb2.VariableMap):
        entries: Mapping[str, Any] = variables.variables
    elif isinstance(variables, interface_pb2.ParameterMap):
        entries = variables.parameters
    else:
        entries = variables
    result: dict[str, tuple[types_pb2.LiteralType, bool]] = {}
    for name, entry in entries.items():
        if isinstance(entry, interface_pb2.Parameter):
            required = entry.required or entry.WhichOneof("behavior") is None
            result[name] = (entry.var.type, required)
        elif isinstance(entry, interface_pb2.Variable):
            result[name] = (entry.type, True)
        else:
            raise FlyteInvalidInputException(
                f"interface entry {name!r} is a {type(entry).__name__}, expected a flyteidl Variable or Parameter"
            )
    return result


def inputs_to_literal_map(
    values: Mapping[str, Any],
    variables: Variables,
    *,
    type_hints: Mapping[str, Any] | None = None,
    uploader: Uploader | None = None,
    fixed: Collection[str] = (),
) -> literals_pb2.LiteralMap:
    """Check every input against the interface, then convert them all: nothing is sent if anything is wrong.

    Args:
        values: Input names to Python values (a ``Literal`` value is taken as-is).
        variables: The declared inputs.
        type_hints: Input names to Python types, for dicts that should be written as a dataclass or model.
        uploader: ``(local_path, is_directory) -> remote URI`` for local files and directories.
        fixed: Names a launch plan fixes: they may not be passed and are not required.

    Returns:
        The ``LiteralMap`` of the given inputs (defaults are left to Flyte Admin, as flytekit does).

    Raises:
        FlyteInvalidInputException: for unknown or fixed names, missing required inputs (all listed with their
            expected types) or a value that does not fit its type (naming the input, the expected type and the
            value given).
    """
    declared = declared_types(variables)
    fixed_names = set(fixed)
    problems = []
    overridden = sorted(name for name in values if name in fixed_names)
    if overridden:
        problems.append(f"input(s) {', '.join(map(repr, overridden))} are fixed by the launch plan")
    unknown = sorted(name for name in values if name not in declared and name not in fixed_names)
    if unknown:
        known = ", ".join(repr(name) for name in sorted(declared)) or "none"
        problems.append(f"unknown input(s) {', '.join(map(repr, unknown))} (declared inputs: {known})")
    missing = sorted(
        name for name, (_, required) in declared.items() if required and name not in values and name not in fixed
    )
    if missing:
        listed = ", ".join(f"{name!r} ({literal_type_to_str(declared[name][0])})" for name in missing)
        problems.append(f"missing required input(s) {listed}")
    if problems:
        raise FlyteInvalidInputException("; ".join(problems))
    hints = type_hints or {}
    literal_map = literals_pb2.LiteralMap()
    # First pass: convert everything with a stand-in uploader that only notes which inputs hold local files, so a
    # bad value anywhere fails before any upload happens. Second pass: redo just those inputs, uploading for real.
    needs_upload: set[str] = set()
    for name, value in values.items():

        def note_upload(path: pathlib.Path, is_directory: bool, name: str = name) -> str:
            needs_upload.add(name)
            return _PENDING_UPLOAD

        literal = to_literal(
            value, declared[name][0], name=f"input {name!r}", uploader=note_upload, python_type=hints.get(name)
        )
        literal_map.literals[name].CopyFrom(literal)
    for name in needs_upload:
        # Without an uploader this raises the usual error naming the input.
        literal = to_literal(
            values[name], declared[name][0], name=f"input {name!r}", uploader=uploader, python_type=hints.get(name)
        )
        literal_map.literals[name].CopyFrom(literal)
    return literal_map


def literal_map_to_python(
    literal_map: literals_pb2.LiteralMap,
    variables: Variables | None = None,
    *,
    type_hints: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Convert every literal of a map (execution inputs or outputs) to Python.

    Args:
        literal_map: The literals by name.
        variables: Their declared types, when known; names missing from it are read by their own shape.
        type_hints: Names to Python types to rebuild (dataclasses, models, enums...).

    Returns:
        Names to Python values.

    Raises:
        FlyteInvalidInputException: when a literal does not match its declared type (naming it).
    """
    declared = declared_types(variables) if variables is not None else {}
    hints = type_hints or {}
    result = {}
    for name, literal in literal_map.literals.items():
        literal_type = declared[name][0] if name in declared else None
        result[name] = to_python(literal, literal_type, python_type=hints.get(name), name=f"{name!r}")
    return result
