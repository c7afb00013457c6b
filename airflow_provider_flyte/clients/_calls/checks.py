"""Argument checks and conversions: the id, sort, duration and message forms a flytekit user has at hand."""

from __future__ import annotations

import datetime
from typing import Any, TypeAlias

from flyteidl.admin import common_pb2
from flyteidl.core import identifier_pb2
from google.protobuf import duration_pb2
from google.protobuf.message import Message

from airflow_provider_flyte import identifiers
from airflow_provider_flyte.clients._calls.core import MessageT, _copy
from airflow_provider_flyte.clients.filters import FilterSpec, Sort, format_filters
from airflow_provider_flyte.exceptions import FlyteInvalidInputException

IdentifierLike: TypeAlias = identifier_pb2.Identifier | identifiers.Identifier | str | Any
"""A versioned entity id: a ``flyteidl.core.Identifier``, ours, a flytekit model or ``"tsk:p:d:n:v"``."""
NamedEntityIdentifierLike: TypeAlias = common_pb2.NamedEntityIdentifier | identifiers.NamedEntityIdentifier | Any
"""An entity name across versions: ``flyteidl.admin.NamedEntityIdentifier``, ours or a flytekit model."""
ExecutionIdentifierLike: TypeAlias = (
    identifier_pb2.WorkflowExecutionIdentifier | identifiers.WorkflowExecutionIdentifier | str | Any
)
"""A workflow execution id: message, ours, a flytekit model or ``"ex:project:domain:name"``."""
NodeExecutionIdentifierLike: TypeAlias = (
    identifier_pb2.NodeExecutionIdentifier | identifiers.NodeExecutionIdentifier | Any
)
"""A node execution id: message, ours or a flytekit model."""
TaskExecutionIdentifierLike: TypeAlias = (
    identifier_pb2.TaskExecutionIdentifier | identifiers.TaskExecutionIdentifier | str | Any
)
"""A task execution id: message, ours, a flytekit model or the ``te:...`` string."""
SortLike: TypeAlias = Sort | common_pb2.Sort | str | Any | None
"""A sort order: our :class:`~airflow_provider_flyte.clients.filters.Sort`, a ``flyteidl.admin.Sort``,
``"desc(created_at)"`` or flytekit's Sort."""


# ---------------------------------------------------------------------------------------------------- argument checks


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 80 else text[:77] + '...'}"


def _text(value: Any, argument: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FlyteInvalidInputException(f"{argument} must be a non-empty string, got {_describe(value)}")
    return value


def _optional_text(value: Any, argument: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FlyteInvalidInputException(f"{argument} must be a string or None, got {_describe(value)}")
    return value


def _limit(value: Any, argument: str = "limit") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise FlyteInvalidInputException(f"{argument} must be a positive integer, got {_describe(value)}")
    return value


def _token(value: Any) -> str:
    return _optional_text(value, "token")


def _enum(value: Any, argument: str, enum_type: Any) -> int:
    """Accept an enum number or its name (``"ACTIVE"``) for a protobuf enum."""
    if isinstance(value, str):
        try:
            return int(enum_type.Value(value.upper()))
        except ValueError:
            pass
    elif isinstance(value, int) and not isinstance(value, bool) and value in enum_type.values():
        return int(value)
    names = ", ".join(enum_type.keys())
    raise FlyteInvalidInputException(f"{argument} must be one of {names}, got {_describe(value)}")


def _message(value: Any, message_type: type[MessageT], argument: str) -> MessageT:
    """Accept a message of ``message_type`` or a model whose ``to_flyte_idl()`` returns one."""
    if isinstance(value, message_type):
        return value
    to_flyte_idl = getattr(value, "to_flyte_idl", None)
    if callable(to_flyte_idl):
        converted = to_flyte_idl()
        if isinstance(converted, message_type):
            return converted
    raise FlyteInvalidInputException(
        f"{argument} must be a {message_type.DESCRIPTOR.full_name} message (or convert to one with to_flyte_idl()), "
        f"got {_describe(value)}"
    )


def _optional_message(value: Any, message_type: type[MessageT], argument: str) -> MessageT | None:
    return None if value is None else _message(value, message_type, argument)


def _require_fields(message: Message, names: tuple[str, ...], argument: str) -> None:
    for name in names:
        if not getattr(message, name):
            raise FlyteInvalidInputException(f"{argument} has an empty {name}: {_describe(message)}")


def to_entity_id(
    value: IdentifierLike, argument: str, resource_type: identifiers.ResourceType
) -> identifier_pb2.Identifier:
    """Convert an entity id, filling in ``resource_type`` when it is unset (Admin's Create RPCs need it).

    Raises:
        FlyteInvalidInputException: naming ``argument`` for another type, an empty project/domain/name, or an id of
            another resource type (a workflow id given to a task method).
    """
    if isinstance(value, str):
        value = identifiers.Identifier.from_python_std(value)
    pb = _message(value, identifier_pb2.Identifier, argument)
    _require_fields(pb, ("project", "domain", "name"), argument)
    if int(pb.resource_type) == resource_type:
        return pb
    if int(pb.resource_type) != identifiers.ResourceType.UNSPECIFIED:
        actual = identifiers.ResourceType(pb.resource_type).name
        raise FlyteInvalidInputException(
            f"{argument} is a {actual} id ({pb.project}:{pb.domain}:{pb.name}:{pb.version}); expected a "
            f"{resource_type.name} id"
        )
    filled = _copy(pb)
    filled.resource_type = int(resource_type)  # type: ignore[assignment]
    return filled


def to_named_entity_id(
    value: NamedEntityIdentifierLike, argument: str, *, require_name: bool
) -> common_pb2.NamedEntityIdentifier:
    """Convert an entity name; ``require_name=False`` allows an empty name (all entities of a project/domain)."""
    pb = _message(value, common_pb2.NamedEntityIdentifier, argument)
    _require_fields(pb, ("project", "domain", "name") if require_name else ("project", "domain"), argument)
    return pb


def to_execution_id(value: ExecutionIdentifierLike, argument: str) -> identifier_pb2.WorkflowExecutionIdentifier:
    """Convert a workflow execution id (message, ours, flytekit's or ``"ex:p:d:name"``)."""
    if isinstance(value, str):
        value = identifiers.WorkflowExecutionIdentifier.from_python_std(value)
    pb = _message(value, identifier_pb2.WorkflowExecutionIdentifier, argument)
    _require_fields(pb, ("project", "domain", "name"), argument)
    return pb


def to_node_execution_id(value: NodeExecutionIdentifierLike, argument: str) -> identifier_pb2.NodeExecutionIdentifier:
    """Convert a node execution id."""
    pb = _message(value, identifier_pb2.NodeExecutionIdentifier, argument)
    _require_fields(pb, ("node_id",), argument)
    _require_fields(pb.execution_id, ("project", "domain", "name"), f"{argument}.execution_id")
    return pb


def to_task_execution_id(value: TaskExecutionIdentifierLike, argument: str) -> identifier_pb2.TaskExecutionIdentifier:
    """Convert a task execution id (message, ours, flytekit's or the ``te:...`` string)."""
    if isinstance(value, str):
        value = identifiers.TaskExecutionIdentifier.from_python_std(value)
    pb = _message(value, identifier_pb2.TaskExecutionIdentifier, argument)
    to_node_execution_id(pb.node_execution_id, f"{argument}.node_execution_id")
    return pb


def to_sort(value: SortLike, argument: str = "sort_by") -> common_pb2.Sort | None:
    """Convert a sort order; ``None`` leaves the request unsorted (Admin then applies no ORDER BY)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = Sort.parse(value)
    return _message(value, common_pb2.Sort, argument)


def _duration(value: Any, argument: str) -> duration_pb2.Duration | None:
    if value is None:
        return None
    if isinstance(value, duration_pb2.Duration):
        return value
    if isinstance(value, datetime.timedelta) and value.total_seconds() > 0:
        duration = duration_pb2.Duration()
        duration.FromTimedelta(value)
        return duration
    raise FlyteInvalidInputException(f"{argument} must be a positive datetime.timedelta, got {_describe(value)}")


def _filters(value: FilterSpec) -> str:
    return format_filters(value, "filters")
