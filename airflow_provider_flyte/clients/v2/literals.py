"""Flyte 2 inputs and outputs with the v1 literal codec (:mod:`airflow_provider_flyte.literals`).

``flyteidl2.core``'s literal and type messages are wire-compatible with ``flyteidl.core``'s: the same field numbers
and types for every field both have (checked message by message in ``tests/clients_v2/test_literals_v2.py``).
``flyteidl2`` only adds fields (``Literal.artifact_id``, artifact partitions) that the codec neither writes nor
reads, and declares ``VariableMap.variables`` as a repeated ``VariableEntry{key, value}`` where ``flyteidl`` has a
``map<string, Variable>``, which protobuf encodes the same way. So a message converts by serializing it and parsing
the bytes as the other IDL's message, and the codec that writes flytekit's bytes for Flyte 1 writes the ``flyte``
SDK's bytes for Flyte 2 (``tests/clients_v2/test_literals_v2.py`` compares them).

:func:`encode_inputs` builds a run's ``flyteidl2.task.Inputs`` from Python values as the SDK does: every input of
the task's interface in declaration order, the task's default for an input not given, an error naming what is
missing, unknown or mistyped before anything is sent. :func:`decode_outputs` reads ``Outputs`` (or ``Inputs``)
back to Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from flyteidl.core import interface_pb2, literals_pb2
from flyteidl2.core import interface_pb2 as interface2_pb2
from flyteidl2.core import literals_pb2 as literals2_pb2
from flyteidl2.task import common_pb2, task_definition_pb2
from google.protobuf.message import Message

from airflow_provider_flyte.literals import Uploader, inputs_to_literal_map, literal_map_to_python

MessageT = TypeVar("MessageT", bound=Message)


def convert(message: Message, target: type[MessageT]) -> MessageT:
    """``message`` re-read as the other IDL's ``target`` message type (through its wire bytes)."""
    converted = target()
    converted.ParseFromString(message.SerializeToString(deterministic=True))
    return converted


def to_v1_literal(literal: literals2_pb2.Literal) -> literals_pb2.Literal:
    """A ``flyteidl2.core.Literal`` as a ``flyteidl.core.Literal``."""
    return convert(literal, literals_pb2.Literal)


def to_v2_literal(literal: literals_pb2.Literal) -> literals2_pb2.Literal:
    """A ``flyteidl.core.Literal`` as a ``flyteidl2.core.Literal``."""
    return convert(literal, literals2_pb2.Literal)


def to_v1_variables(variables: interface2_pb2.VariableMap) -> interface_pb2.VariableMap:
    """A ``flyteidl2.core.VariableMap`` (ordered entries) as a ``flyteidl.core.VariableMap`` (a map)."""
    return convert(variables, interface_pb2.VariableMap)


def input_parameters(task: task_definition_pb2.TaskDetails) -> dict[str, interface_pb2.Parameter]:
    """The task's inputs in declaration order, as v1 ``Parameter`` s: a default where the task has one."""
    defaults = {entry.name: entry.parameter for entry in task.spec.default_inputs}
    parameters: dict[str, interface_pb2.Parameter] = {}
    for entry in task.spec.task_template.interface.inputs.variables:
        parameter = interface_pb2.Parameter(var=convert(entry.value, interface_pb2.Variable))
        default = defaults.get(entry.key)
        if default is not None and default.HasField("default"):
            parameter.default.CopyFrom(to_v1_literal(default.default))
        else:
            parameter.required = True
        parameters[entry.key] = parameter
    return parameters


def encode_inputs(
    values: Mapping[str, Any],
    task: task_definition_pb2.TaskDetails,
    *,
    type_hints: Mapping[str, Any] | None = None,
    uploader: Uploader | None = None,
) -> common_pb2.Inputs:
    """A run's inputs from Python values, checked against the task's interface first.

    Args:
        values: Input names to Python values (or ``flyteidl.core.Literal`` s, taken as they are).
        task: The deployed task (``get_task_details``): its interface and default inputs.
        type_hints: Input names to Python types (a dataclass to write a dict as).
        uploader: ``(local_path, is_directory) -> remote URI`` for local files and directories.

    Returns:
        ``Inputs`` with every declared input in interface order, defaults filled in, as the ``flyte`` SDK sends.

    Raises:
        FlyteInvalidInputException: for unknown inputs, missing required ones (listed with their types) or a value
            that does not fit its type (naming the input, the expected type and the value).
    """
    parameters = input_parameters(task)
    literal_map = inputs_to_literal_map(values, parameters, type_hints=type_hints, uploader=uploader)
    named = []
    for name, parameter in parameters.items():
        literal = literal_map.literals.get(name, parameter.default)
        named.append(common_pb2.NamedLiteral(name=name, value=to_v2_literal(literal)))
    return common_pb2.Inputs(literals=named)


def decode_outputs(
    outputs: common_pb2.Outputs | common_pb2.Inputs,
    variables: interface2_pb2.VariableMap | None = None,
    *,
    type_hints: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Python values of an action's outputs or inputs (``get_action_data``), by name.

    Args:
        outputs: The ``Outputs`` (or ``Inputs``) message.
        variables: Their declared types (``task.spec.task_template.interface.outputs``), when known.
        type_hints: Names to Python types to rebuild (dataclasses, enums...).

    Raises:
        FlyteInvalidInputException: when a literal does not match its declared type (naming it).
    """
    literal_map = literals_pb2.LiteralMap()
    for entry in outputs.literals:
        literal_map.literals[entry.name].CopyFrom(to_v1_literal(entry.value))
    declared = to_v1_variables(variables) if variables is not None else None
    return literal_map_to_python(literal_map, declared, type_hints=type_hints)
