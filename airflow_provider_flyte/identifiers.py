"""Flyte identifiers as light, hashable values, with the string forms flytekit writes and reads.

String forms (colon separated, exactly as ``flytekit.interfaces.cli_identifiers`` formats them):

* entities: ``tsk:project:domain:name:version``, ``wf:...``, ``lp:...``
* workflow executions: ``ex:project:domain:name``
* task executions:
  ``te:exec_project:exec_domain:exec_name:node_id:task_project:task_domain:task_name:task_version:retry``

These classes import no protobuf code, so DAG files and operator constructors can use them at parse time;
``to_flyte_idl`` / ``from_flyte_idl`` convert to and from the ``flyteidl`` messages when a task runs.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.exceptions import FlyteInvalidInputException

if TYPE_CHECKING:
    from flyteidl.admin import common_pb2
    from flyteidl.core import identifier_pb2


class ResourceType(enum.IntEnum):
    """Kinds of registered entities; values match ``flyteidl.core.ResourceType``."""

    UNSPECIFIED = 0
    TASK = 1
    WORKFLOW = 2
    LAUNCH_PLAN = 3
    DATASET = 4


_PREFIX_TO_TYPE = {"tsk": ResourceType.TASK, "wf": ResourceType.WORKFLOW, "lp": ResourceType.LAUNCH_PLAN}
_TYPE_TO_PREFIX = {value: key for key, value in _PREFIX_TO_TYPE.items()}

UINT32_MAX = 2**32 - 1
"""The largest retry attempt: ``TaskExecutionIdentifier.retry_attempt`` is a ``uint32`` in flyteidl."""


def _split(text: Any, kind: str, expected_parts: int, form: str) -> list[str]:
    if not isinstance(text, str):
        raise FlyteInvalidInputException(f"{kind} must be a string like {form!r}, got {type(text).__name__} {text!r}")
    parts = text.split(":")
    if len(parts) != expected_parts:
        raise FlyteInvalidInputException(
            f"{kind} {text!r} has {len(parts)} colon-separated parts, expected {expected_parts} ({form})"
        )
    for index, part in enumerate(parts):
        field = form.split(":")[index]
        if not part:
            raise FlyteInvalidInputException(f"{kind} {text!r} has an empty {field}")
        if not _is_utf8(part):
            raise FlyteInvalidInputException(
                f"{kind} {text!r} has a {field} {part!r} with a lone surrogate, which no Flyte message can carry"
            )
    return parts


def _is_utf8(text: str) -> bool:
    """Whether ``text`` encodes to UTF-8 (protobuf string fields refuse lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _resource_type(value: Any, kind: str) -> ResourceType:
    """``value`` as a :class:`ResourceType`.

    Raises:
        FlyteInvalidInputException: naming ``kind`` and the value when it is no known resource type.
    """
    if isinstance(value, ResourceType):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return ResourceType(value)
        except ValueError:
            pass
    known = ", ".join(f"{member.name}={member.value}" for member in ResourceType)
    raise FlyteInvalidInputException(f"{kind} has resource type {value!r}, which is none of {known}")


def _retry_attempt(value: Any, where: str) -> int:
    """``value`` as a retry attempt: an ``int`` in ``0 .. 2**32 - 1`` (flyteidl's ``uint32``).

    Raises:
        FlyteInvalidInputException: naming ``where`` and the value otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise FlyteInvalidInputException(
            f"{where} has retry attempt {value!r} ({type(value).__name__}); it must be an int"
        )
    if not 0 <= value <= UINT32_MAX:
        raise FlyteInvalidInputException(
            f"{where} has retry attempt {value}; it must be between 0 and {UINT32_MAX} (a uint32)"
        )
    return int(value)


@dataclass(frozen=True)
class Identifier:
    """A versioned task, workflow or launch plan id (``tsk:project:domain:name:version``)."""

    resource_type: ResourceType
    project: str
    domain: str
    name: str
    version: str

    def __post_init__(self) -> None:
        if type(self.resource_type) is not ResourceType:
            object.__setattr__(self, "resource_type", _resource_type(self.resource_type, "identifier"))

    @classmethod
    def from_python_std(cls, text: str) -> Identifier:
        """Parse ``tsk|wf|lp:project:domain:name:version``.

        Raises:
            FlyteInvalidInputException: naming the malformed part.
        """
        prefix, project, domain, name, version = _split(text, "identifier", 5, "type:project:domain:name:version")
        if prefix not in _PREFIX_TO_TYPE:
            raise FlyteInvalidInputException(
                f"identifier {text!r} starts with {prefix!r}; the type must be one of 'tsk', 'wf', 'lp'"
            )
        return cls(_PREFIX_TO_TYPE[prefix], project, domain, name, version)

    parse = from_python_std

    def __str__(self) -> str:
        prefix = _TYPE_TO_PREFIX.get(self.resource_type, "<unknown>")
        return f"{prefix}:{self.project}:{self.domain}:{self.name}:{self.version}"

    def to_flyte_idl(self) -> identifier_pb2.Identifier:
        """Return the ``flyteidl.core.Identifier`` message."""
        from flyteidl.core import identifier_pb2

        return identifier_pb2.Identifier(
            resource_type=int(self.resource_type),  # type: ignore[arg-type]
            project=self.project,
            domain=self.domain,
            name=self.name,
            version=self.version,
        )

    @classmethod
    def from_flyte_idl(cls, pb: identifier_pb2.Identifier) -> Identifier:
        """Build from a ``flyteidl.core.Identifier`` message.

        Raises:
            FlyteInvalidInputException: when its resource type is not one flyteidl defines.
        """
        resource_type = _resource_type(pb.resource_type, f"identifier {pb.project}:{pb.domain}:{pb.name}:{pb.version}")
        return cls(resource_type, pb.project, pb.domain, pb.name, pb.version)


@dataclass(frozen=True)
class NamedEntityIdentifier:
    """An entity name across all its versions (project, domain, name)."""

    project: str
    domain: str
    name: str = ""

    def to_flyte_idl(self) -> common_pb2.NamedEntityIdentifier:
        """Return the ``flyteidl.admin.NamedEntityIdentifier`` message."""
        from flyteidl.admin import common_pb2

        return common_pb2.NamedEntityIdentifier(project=self.project, domain=self.domain, name=self.name)

    @classmethod
    def from_flyte_idl(cls, pb: common_pb2.NamedEntityIdentifier) -> NamedEntityIdentifier:
        """Build from a ``flyteidl.admin.NamedEntityIdentifier`` message."""
        return cls(pb.project, pb.domain, pb.name)


@dataclass(frozen=True)
class WorkflowExecutionIdentifier:
    """A workflow execution id (``ex:project:domain:name``)."""

    project: str
    domain: str
    name: str

    @classmethod
    def from_python_std(cls, text: str) -> WorkflowExecutionIdentifier:
        """Parse ``ex:project:domain:name``.

        Raises:
            FlyteInvalidInputException: naming the malformed part.
        """
        prefix, project, domain, name = _split(text, "execution id", 4, "ex:project:domain:name")
        if prefix != "ex":
            raise FlyteInvalidInputException(f"execution id {text!r} must start with 'ex', not {prefix!r}")
        return cls(project, domain, name)

    parse = from_python_std

    def __str__(self) -> str:
        return f"ex:{self.project}:{self.domain}:{self.name}"

    def to_flyte_idl(self) -> identifier_pb2.WorkflowExecutionIdentifier:
        """Return the ``flyteidl.core.WorkflowExecutionIdentifier`` message."""
        from flyteidl.core import identifier_pb2

        return identifier_pb2.WorkflowExecutionIdentifier(project=self.project, domain=self.domain, name=self.name)

    @classmethod
    def from_flyte_idl(cls, pb: identifier_pb2.WorkflowExecutionIdentifier) -> WorkflowExecutionIdentifier:
        """Build from a ``flyteidl.core.WorkflowExecutionIdentifier`` message."""
        return cls(pb.project, pb.domain, pb.name)


EXECUTION_NAME_MAX = 63
"""Longest execution name Flyte Admin accepts (names become Kubernetes object names)."""
EXECUTION_NAME_RULE = re.compile(r"^[a-z][a-z0-9-]*$")
"""Characters Flyte Admin accepts in an execution name: lowercase letters, digits and ``-``, starting with a letter."""


def validate_execution_name(name: str, argument: str = "execution_name") -> str:
    """Return ``name`` if Flyte Admin accepts it as an execution name.

    Args:
        name: The candidate name.
        argument: The argument it came from, for the message.

    Raises:
        FlyteInvalidInputException: naming the argument, the value and the rule.
    """
    if not isinstance(name, str) or len(name) > EXECUTION_NAME_MAX or not EXECUTION_NAME_RULE.match(name):
        raise FlyteInvalidInputException(
            f"{argument}={name!r} is not a valid Flyte execution name: use lowercase letters, digits and '-', "
            f"starting with a letter, at most {EXECUTION_NAME_MAX} characters"
        )
    return name


@dataclass(frozen=True)
class NodeExecutionIdentifier:
    """A node execution id: a node id inside a workflow execution."""

    node_id: str
    execution_id: WorkflowExecutionIdentifier

    def to_flyte_idl(self) -> identifier_pb2.NodeExecutionIdentifier:
        """Return the ``flyteidl.core.NodeExecutionIdentifier`` message."""
        from flyteidl.core import identifier_pb2

        return identifier_pb2.NodeExecutionIdentifier(
            node_id=self.node_id, execution_id=self.execution_id.to_flyte_idl()
        )

    @classmethod
    def from_flyte_idl(cls, pb: identifier_pb2.NodeExecutionIdentifier) -> NodeExecutionIdentifier:
        """Build from a ``flyteidl.core.NodeExecutionIdentifier`` message."""
        return cls(pb.node_id, WorkflowExecutionIdentifier.from_flyte_idl(pb.execution_id))


@dataclass(frozen=True)
class TaskExecutionIdentifier:
    """One attempt of a task in a node execution (``te:...:retry``)."""

    task_id: Identifier
    node_execution_id: NodeExecutionIdentifier
    retry_attempt: int = 0

    def __post_init__(self) -> None:
        if type(self.retry_attempt) is not int or not 0 <= self.retry_attempt <= UINT32_MAX:
            object.__setattr__(self, "retry_attempt", _retry_attempt(self.retry_attempt, "task execution id"))

    @classmethod
    def from_python_std(cls, text: str) -> TaskExecutionIdentifier:
        """Parse the 10-part ``te:`` form.

        Raises:
            FlyteInvalidInputException: naming the malformed part.
        """
        form = "te:exec_project:exec_domain:exec_name:node_id:task_project:task_domain:task_name:task_version:retry"
        parts = _split(text, "task execution id", 10, form)
        if parts[0] != "te":
            raise FlyteInvalidInputException(f"task execution id {text!r} must start with 'te', not {parts[0]!r}")
        retry = _parse_retry(parts[9], text)
        execution = WorkflowExecutionIdentifier(parts[1], parts[2], parts[3])
        task = Identifier(ResourceType.TASK, parts[5], parts[6], parts[7], parts[8])
        return cls(task, NodeExecutionIdentifier(parts[4], execution), retry)

    parse = from_python_std

    def __str__(self) -> str:
        ex = self.node_execution_id.execution_id
        task = self.task_id
        return (
            f"te:{ex.project}:{ex.domain}:{ex.name}:{self.node_execution_id.node_id}:"
            f"{task.project}:{task.domain}:{task.name}:{task.version}:{self.retry_attempt}"
        )

    def to_flyte_idl(self) -> identifier_pb2.TaskExecutionIdentifier:
        """Return the ``flyteidl.core.TaskExecutionIdentifier`` message."""
        from flyteidl.core import identifier_pb2

        return identifier_pb2.TaskExecutionIdentifier(
            task_id=self.task_id.to_flyte_idl(),
            node_execution_id=self.node_execution_id.to_flyte_idl(),
            retry_attempt=self.retry_attempt,
        )

    @classmethod
    def from_flyte_idl(cls, pb: identifier_pb2.TaskExecutionIdentifier) -> TaskExecutionIdentifier:
        """Build from a ``flyteidl.core.TaskExecutionIdentifier`` message."""
        return cls(
            Identifier.from_flyte_idl(pb.task_id),
            NodeExecutionIdentifier.from_flyte_idl(pb.node_execution_id),
            pb.retry_attempt,
        )


def _parse_retry(part: str, text: str) -> int:
    """The retry attempt of a ``te:`` string: plain decimal digits (no sign, no leading zero), a uint32.

    Raises:
        FlyteInvalidInputException: naming the text and the part.
    """
    digits = part.isascii() and part.isdigit()
    if not digits and not (part[:1] == "-" and part[1:].isascii() and part[1:].isdigit()):
        raise FlyteInvalidInputException(f"task execution id {text!r} has retry {part!r}, which is not an integer")
    if not digits:
        raise FlyteInvalidInputException(
            f"task execution id {text!r} has retry {part!r}; it must be a non-negative integer"
        )
    if len(part) > 1 and part[0] == "0":
        raise FlyteInvalidInputException(
            f"task execution id {text!r} has retry {part!r}; write it without leading zeros"
        )
    if len(part) > len(str(UINT32_MAX)) or int(part) > UINT32_MAX:
        raise FlyteInvalidInputException(
            f"task execution id {text!r} has retry {part}; it must be at most {UINT32_MAX} (a uint32)"
        )
    return int(part)


@dataclass(frozen=True)
class SignalIdentifier:
    """A signal of a workflow execution (gate or ``wait_for_input``)."""

    signal_id: str
    execution_id: WorkflowExecutionIdentifier

    def to_flyte_idl(self) -> identifier_pb2.SignalIdentifier:
        """Return the ``flyteidl.core.SignalIdentifier`` message."""
        from flyteidl.core import identifier_pb2

        return identifier_pb2.SignalIdentifier(signal_id=self.signal_id, execution_id=self.execution_id.to_flyte_idl())

    @classmethod
    def from_flyte_idl(cls, pb: identifier_pb2.SignalIdentifier) -> SignalIdentifier:
        """Build from a ``flyteidl.core.SignalIdentifier`` message."""
        return cls(pb.signal_id, WorkflowExecutionIdentifier.from_flyte_idl(pb.execution_id))
