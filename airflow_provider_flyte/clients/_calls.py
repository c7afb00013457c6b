"""Request building and response parsing shared by the sync and asyncio friendly clients.

Every friendly method is split in two halves. The transport-free half lives here: a builder checks and converts the
arguments, builds the request message and returns a :class:`Call` naming the stub (``admin_service``...), the RPC and
how to turn the response into the method's result. The transport half is one line in each client: run the call on
the raw client's stub, synchronously or with ``await``. That keeps :class:`~.friendly.SynchronousFlyteClient` and
:class:`~.aio.AsyncFlyteClient` identical in behaviour without a copy-pasted twin (the way httpx's ``Client`` and
``AsyncClient`` share ``build_request``). Retries, deadlines, auth and error mapping belong to the raw client's
interceptors and are not repeated here.

Arguments are accepted in the forms a flytekit user has at hand: ``flyteidl`` messages, this package's identifier
dataclasses (:mod:`airflow_provider_flyte.identifiers`), flytekit models (anything with ``to_flyte_idl()``), and
identifier strings (``tsk:project:domain:name:version``, ``ex:project:domain:name``, ``te:...``). A wrong type, an
empty project or a non-positive limit fails here, before any RPC, with a
:class:`~airflow_provider_flyte.exceptions.FlyteInvalidInputException` naming the argument.
"""

from __future__ import annotations

import collections
import datetime
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Generic, Literal, TypeAlias, TypeVar

from flyteidl.admin import (
    common_pb2,
    execution_pb2,
    launch_plan_pb2,
    matchable_resource_pb2,
    node_execution_pb2,
    project_attributes_pb2,
    project_domain_attributes_pb2,
    project_pb2,
    signal_pb2,
    task_execution_pb2,
    task_pb2,
    version_pb2,
    workflow_attributes_pb2,
    workflow_pb2,
)
from flyteidl.core import identifier_pb2, literals_pb2, metrics_pb2
from flyteidl.service import dataproxy_pb2
from google.protobuf import duration_pb2
from google.protobuf.message import Message

from airflow_provider_flyte import identifiers
from airflow_provider_flyte.clients.filters import FilterSpec, Sort, SortDirection, format_filters
from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.exceptions import FlyteInvalidInputException, FlyteSystemException

ResultT = TypeVar("ResultT")
ItemT = TypeVar("ItemT")
MessageT = TypeVar("MessageT", bound=Message)

Service = Literal["admin_service", "signal_service", "data_proxy_service"]
"""Attribute of the raw client holding the stub a call goes through."""

ADMIN: Final = "admin_service"
SIGNAL: Final = "signal_service"
DATA_PROXY: Final = "data_proxy_service"

DEFAULT_PAGE_SIZE = 100
"""flytekit's default ``limit`` for every paginated method."""

DEFAULT_ITERATION_SORT: Final = Sort("created_at", SortDirection.ASCENDING)
"""Order of the ``iter_*`` helpers: offset pagination needs a stable order, and oldest first is flytekit's choice."""

DEFAULT_ENTITY_CACHE_SIZE = 256
"""Versioned tasks, workflows and launch plans each client keeps (they never change once registered)."""

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
"""A sort order: our :class:`~.filters.Sort`, a ``flyteidl.admin.Sort``, ``"desc(created_at)"`` or flytekit's Sort."""
Page = tuple[list[ItemT], str]
"""One page of a List RPC: the items and the token of the next page (``""`` after the last one)."""


class Missing:
    """Type of :data:`MISSING`, the result of a cache lookup that found nothing."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = Missing()


@dataclass(frozen=True)
class Call(Generic[ResultT]):
    """One unary RPC ready to run: where it goes, what it sends, how its response becomes the result.

    Attributes:
        service: The raw client's stub attribute.
        method: The RPC name on that stub (``"GetExecution"``).
        request: The request message.
        parse: Turns the response message into what the friendly method returns.
        cache_key: Set for reads of immutable entities (versioned tasks, workflows, launch plans): the result is
            kept in the client's :class:`EntityCache` under this key.
        evicts: Set for writes that change cached entities: once the call succeeds, every cache entry whose key
            starts with this prefix is dropped.
    """

    service: Service
    method: str
    request: Message
    parse: Callable[[Any], ResultT]
    cache_key: tuple[str, ...] | None = None
    evicts: tuple[str, ...] | None = None

    def lookup(self, cache: EntityCache) -> ResultT | Missing:
        """Return the cached result for this call, or :data:`MISSING` when it is not cacheable or not cached."""
        if self.cache_key is None:
            return MISSING
        return cache.get(self.cache_key)  # type: ignore[return-value]  # keyed per RPC, so the type is the call's

    def finish(self, response: Any, cache: EntityCache) -> ResultT:
        """Parse ``response`` into the result, remembering it when the call is cacheable."""
        result = self.parse(response)
        if self.cache_key is not None and isinstance(result, Message):
            cache.put(self.cache_key, result)
        if self.evicts is not None:
            cache.discard(self.evicts)
        return result


class EntityCache:
    """A bounded, thread-safe LRU of immutable entity messages, one per client instance.

    Values are copied in and out, so a caller editing a returned message cannot change what later callers get.
    """

    def __init__(self, maxsize: int = DEFAULT_ENTITY_CACHE_SIZE) -> None:
        """Create an empty cache.

        Args:
            maxsize: Entries kept; the least recently used goes first. ``0`` disables caching.

        Raises:
            FlyteInvalidInputException: when ``maxsize`` is negative or not an integer.
        """
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 0:
            raise FlyteInvalidInputException(f"entity_cache_size={maxsize!r} must be a non-negative integer")
        self.maxsize = maxsize
        self._entries: collections.OrderedDict[tuple[str, ...], Message] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> Message | Missing:
        """Return a copy of the entry under ``key``, or :data:`MISSING`."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return MISSING
            self._entries.move_to_end(key)
        return _copy(entry)

    def put(self, key: tuple[str, ...], value: Message) -> None:
        """Store a copy of ``value`` under ``key``, evicting the least recently used entry when full."""
        if self.maxsize == 0:
            return
        stored = _copy(value)
        with self._lock:
            self._entries[key] = stored
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def discard(self, prefix: tuple[str, ...]) -> None:
        """Forget every entry whose key starts with ``prefix``."""
        size = len(prefix)
        with self._lock:
            for key in [key for key in self._entries if key[:size] == prefix]:
                del self._entries[key]

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _copy(message: MessageT) -> MessageT:
    duplicate = type(message)()
    duplicate.CopyFrom(message)
    return duplicate


def resolve_config(config: PlatformConfig | str | None, insecure: bool | None) -> PlatformConfig:
    """The configuration a friendly client connects with.

    Args:
        config: A PlatformConfig, an endpoint ``"host:port"``, or ``None`` for :meth:`PlatformConfig.auto`.
        insecure: Overrides ``insecure`` when not ``None`` (an endpoint string defaults to TLS).

    Raises:
        FlyteInvalidInputException: when ``config`` has another type.
    """
    if config is None:
        resolved = PlatformConfig.auto()
    elif isinstance(config, PlatformConfig):
        resolved = config
    elif isinstance(config, str):
        return PlatformConfig.for_endpoint(config, insecure=False if insecure is None else insecure)
    else:
        raise FlyteInvalidInputException(
            f"config must be a PlatformConfig or an endpoint string like 'localhost:30080', got {_describe(config)}"
        )
    if insecure is not None and insecure != resolved.insecure:
        resolved = resolved.with_overrides(insecure=insecure)
    return resolved


def next_page_token(method: str, sent: str, received: str) -> str:
    """Check the token a List RPC returned before following it.

    Args:
        method: The friendly list method, named in the error.
        sent: The token of the page just read.
        received: The token the server returned for the next page.

    Returns:
        ``received`` (``""`` when there are no more pages).

    Raises:
        FlyteSystemException: when the server returned the token it was sent, which would loop forever.
    """
    if received and received == sent:
        raise FlyteSystemException(f"{method} returned the same page token {received!r} again; stopping pagination")
    return received


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


# ---------------------------------------------------------------------------------------------------- parsers


def _nothing(_response: Any) -> None:
    return None


def _same(response: Any) -> Any:
    return response


def _page(field: str, resource_type: identifiers.ResourceType | None = None) -> Callable[[Any], Page[Any]]:
    """Parse a list response into ``(items, next_token)``.

    With ``resource_type``, items whose ``id.resource_type`` the server left unset get it filled in, so the ids can
    be passed straight back to Get and Create RPCs (older Admin versions leave it unset in List responses).
    """

    def parse(response: Any) -> Page[Any]:
        items = list(getattr(response, field))
        if resource_type is not None:
            for item in items:
                if item.id.resource_type == identifiers.ResourceType.UNSPECIFIED:
                    item.id.resource_type = int(resource_type)
        return items, str(response.token)

    return parse


def _execution_id_of(response: Any) -> identifier_pb2.WorkflowExecutionIdentifier:
    return response.id  # type: ignore[no-any-return]


def _entity_cache_key(method: str, pb: identifier_pb2.Identifier) -> tuple[str, ...] | None:
    # Without a version Admin may answer with any version (GetTask picks an arbitrary row), so only fully versioned
    # ids name something immutable.
    if not pb.version:
        return None
    return (method, pb.project, pb.domain, pb.name, pb.version)


# ---------------------------------------------------------------------------------------------------- tasks, workflows


def create_task(task_identifier: IdentifierLike, task_spec: Any) -> Call[None]:
    """``CreateTask``; see :meth:`SynchronousFlyteClient.create_task`."""
    request = task_pb2.TaskCreateRequest(
        id=to_entity_id(task_identifier, "task_identifier", identifiers.ResourceType.TASK),
        spec=_message(task_spec, task_pb2.TaskSpec, "task_spec"),
    )
    return Call(ADMIN, "CreateTask", request, _nothing)


def get_task(id: IdentifierLike) -> Call[task_pb2.Task]:
    """``GetTask``, cached for versioned ids."""
    pb = to_entity_id(id, "id", identifiers.ResourceType.TASK)
    return Call(ADMIN, "GetTask", common_pb2.ObjectGetRequest(id=pb), _same, _entity_cache_key("GetTask", pb))


def _list_ids(method: str, project: str, domain: str, limit: int, token: str | None, sort_by: SortLike) -> Call[Any]:
    request = common_pb2.NamedEntityIdentifierListRequest(
        project=_text(project, "project"),
        domain=_text(domain, "domain"),
        limit=_limit(limit),
        token=_token(token),
        sort_by=to_sort(sort_by),
    )
    return Call(ADMIN, method, request, _page("entities"))


def _list_entities(
    method: str,
    field: str,
    resource_type: identifiers.ResourceType,
    identifier: NamedEntityIdentifierLike,
    limit: int,
    token: str | None,
    filters: FilterSpec,
    sort_by: SortLike,
) -> Call[Any]:
    request = common_pb2.ResourceListRequest(
        id=to_named_entity_id(identifier, "identifier", require_name=False),
        limit=_limit(limit),
        token=_token(token),
        filters=_filters(filters),
        sort_by=to_sort(sort_by),
    )
    return Call(ADMIN, method, request, _page(field, resource_type))


def list_task_ids_paginated(
    project: str, domain: str, limit: int, token: str | None, sort_by: SortLike
) -> Call[Page[common_pb2.NamedEntityIdentifier]]:
    """``ListTaskIds``."""
    return _list_ids("ListTaskIds", project, domain, limit, token, sort_by)


def list_tasks_paginated(
    identifier: NamedEntityIdentifierLike, limit: int, token: str | None, filters: FilterSpec, sort_by: SortLike
) -> Call[Page[task_pb2.Task]]:
    """``ListTasks``."""
    return _list_entities(
        "ListTasks", "tasks", identifiers.ResourceType.TASK, identifier, limit, token, filters, sort_by
    )


def create_workflow(workflow_identifier: IdentifierLike, workflow_spec: Any) -> Call[None]:
    """``CreateWorkflow``."""
    request = workflow_pb2.WorkflowCreateRequest(
        id=to_entity_id(workflow_identifier, "workflow_identifier", identifiers.ResourceType.WORKFLOW),
        spec=_message(workflow_spec, workflow_pb2.WorkflowSpec, "workflow_spec"),
    )
    return Call(ADMIN, "CreateWorkflow", request, _nothing)


def get_workflow(id: IdentifierLike) -> Call[workflow_pb2.Workflow]:
    """``GetWorkflow``, cached for versioned ids."""
    pb = to_entity_id(id, "id", identifiers.ResourceType.WORKFLOW)
    return Call(ADMIN, "GetWorkflow", common_pb2.ObjectGetRequest(id=pb), _same, _entity_cache_key("GetWorkflow", pb))


def list_workflow_ids_paginated(
    project: str, domain: str, limit: int, token: str | None, sort_by: SortLike
) -> Call[Page[common_pb2.NamedEntityIdentifier]]:
    """``ListWorkflowIds``."""
    return _list_ids("ListWorkflowIds", project, domain, limit, token, sort_by)


def list_workflows_paginated(
    identifier: NamedEntityIdentifierLike, limit: int, token: str | None, filters: FilterSpec, sort_by: SortLike
) -> Call[Page[workflow_pb2.Workflow]]:
    """``ListWorkflows``."""
    return _list_entities(
        "ListWorkflows", "workflows", identifiers.ResourceType.WORKFLOW, identifier, limit, token, filters, sort_by
    )


# ---------------------------------------------------------------------------------------------------- launch plans


def create_launch_plan(launch_plan_identifier: IdentifierLike, launch_plan_spec: Any) -> Call[None]:
    """``CreateLaunchPlan``."""
    request = launch_plan_pb2.LaunchPlanCreateRequest(
        id=to_entity_id(launch_plan_identifier, "launch_plan_identifier", identifiers.ResourceType.LAUNCH_PLAN),
        spec=_message(launch_plan_spec, launch_plan_pb2.LaunchPlanSpec, "launch_plan_spec"),
    )
    return Call(ADMIN, "CreateLaunchPlan", request, _nothing)


def get_launch_plan(id: IdentifierLike) -> Call[launch_plan_pb2.LaunchPlan]:
    """``GetLaunchPlan``, cached for versioned ids.

    The cached message includes ``closure.state``; this client's :func:`update_launch_plan` drops the cached versions
    it affects, but a change made by another client shows only after the client's ``clear_entity_cache()``.
    """
    pb = to_entity_id(id, "id", identifiers.ResourceType.LAUNCH_PLAN)
    request = common_pb2.ObjectGetRequest(id=pb)
    return Call(ADMIN, "GetLaunchPlan", request, _same, _entity_cache_key("GetLaunchPlan", pb))


def get_active_launch_plan(identifier: NamedEntityIdentifierLike) -> Call[launch_plan_pb2.LaunchPlan]:
    """``GetActiveLaunchPlan`` (never cached: activation moves between versions)."""
    pb = to_named_entity_id(identifier, "identifier", require_name=True)
    return Call(ADMIN, "GetActiveLaunchPlan", launch_plan_pb2.ActiveLaunchPlanRequest(id=pb), _same)


def list_launch_plan_ids_paginated(
    project: str, domain: str, limit: int, token: str | None, sort_by: SortLike
) -> Call[Page[common_pb2.NamedEntityIdentifier]]:
    """``ListLaunchPlanIds``."""
    return _list_ids("ListLaunchPlanIds", project, domain, limit, token, sort_by)


def list_launch_plans_paginated(
    identifier: NamedEntityIdentifierLike, limit: int, token: str | None, filters: FilterSpec, sort_by: SortLike
) -> Call[Page[launch_plan_pb2.LaunchPlan]]:
    """``ListLaunchPlans``."""
    return _list_entities(
        "ListLaunchPlans",
        "launch_plans",
        identifiers.ResourceType.LAUNCH_PLAN,
        identifier,
        limit,
        token,
        filters,
        sort_by,
    )


def list_active_launch_plans_paginated(
    project: str, domain: str, limit: int, token: str | None, sort_by: SortLike
) -> Call[Page[launch_plan_pb2.LaunchPlan]]:
    """``ListActiveLaunchPlans``."""
    request = launch_plan_pb2.ActiveLaunchPlanListRequest(
        project=_text(project, "project"),
        domain=_text(domain, "domain"),
        limit=_limit(limit),
        token=_token(token),
        sort_by=to_sort(sort_by),
    )
    return Call(ADMIN, "ListActiveLaunchPlans", request, _page("launch_plans", identifiers.ResourceType.LAUNCH_PLAN))


def update_launch_plan(id: IdentifierLike, state: int | str) -> Call[None]:
    """``UpdateLaunchPlan``: set a version ``ACTIVE`` or ``INACTIVE``.

    Activating one version deactivates the previously active one, so every cached version of that launch plan is
    dropped once the update succeeds: a later ``get_launch_plan`` then sees the new ``closure.state``.
    """
    pb = to_entity_id(id, "id", identifiers.ResourceType.LAUNCH_PLAN)
    request = launch_plan_pb2.LaunchPlanUpdateRequest(
        id=pb,
        state=_enum(state, "state", launch_plan_pb2.LaunchPlanState),  # type: ignore[arg-type]
    )
    return Call(ADMIN, "UpdateLaunchPlan", request, _nothing, evicts=("GetLaunchPlan", pb.project, pb.domain, pb.name))


# ---------------------------------------------------------------------------------------------------- named entities


def _resource_type(value: Any) -> int:
    return _enum(value, "resource_type", identifier_pb2.ResourceType)


def update_named_entity(resource_type: int, id: NamedEntityIdentifierLike, metadata: Any) -> Call[None]:
    """``UpdateNamedEntity``."""
    request = common_pb2.NamedEntityUpdateRequest(
        resource_type=_resource_type(resource_type),  # type: ignore[arg-type]
        id=to_named_entity_id(id, "id", require_name=True),
        metadata=_message(metadata, common_pb2.NamedEntityMetadata, "metadata"),
    )
    return Call(ADMIN, "UpdateNamedEntity", request, _nothing)


def get_named_entity(resource_type: int, id: NamedEntityIdentifierLike) -> Call[common_pb2.NamedEntity]:
    """``GetNamedEntity``."""
    request = common_pb2.NamedEntityGetRequest(
        resource_type=_resource_type(resource_type),  # type: ignore[arg-type]
        id=to_named_entity_id(id, "id", require_name=True),
    )
    return Call(ADMIN, "GetNamedEntity", request, _same)


def list_named_entities_paginated(
    resource_type: int,
    project: str,
    domain: str,
    limit: int,
    token: str | None,
    filters: FilterSpec,
    sort_by: SortLike,
) -> Call[Page[common_pb2.NamedEntity]]:
    """``ListNamedEntities``."""
    request = common_pb2.NamedEntityListRequest(
        resource_type=_resource_type(resource_type),  # type: ignore[arg-type]
        project=_text(project, "project"),
        domain=_text(domain, "domain"),
        limit=_limit(limit),
        token=_token(token),
        filters=_filters(filters),
        sort_by=to_sort(sort_by),
    )
    return Call(ADMIN, "ListNamedEntities", request, _page("entities"))


# ---------------------------------------------------------------------------------------------------- executions


def create_execution(
    project: str, domain: str, name: str | None, execution_spec: Any, inputs: Any
) -> Call[identifier_pb2.WorkflowExecutionIdentifier]:
    """``CreateExecution``; an empty ``name`` lets Admin generate one."""
    request = execution_pb2.ExecutionCreateRequest(
        project=_text(project, "project"),
        domain=_text(domain, "domain"),
        name=_optional_text(name, "name"),
        spec=_message(execution_spec, execution_pb2.ExecutionSpec, "execution_spec"),
        inputs=_optional_message(inputs, literals_pb2.LiteralMap, "inputs"),
    )
    return Call(ADMIN, "CreateExecution", request, _execution_id_of)


def recover_execution(
    id: ExecutionIdentifierLike, name: str | None
) -> Call[identifier_pb2.WorkflowExecutionIdentifier]:
    """``RecoverExecution``."""
    request = execution_pb2.ExecutionRecoverRequest(id=to_execution_id(id, "id"), name=_optional_text(name, "name"))
    return Call(ADMIN, "RecoverExecution", request, _execution_id_of)


def relaunch_execution(
    id: ExecutionIdentifierLike, name: str | None, overwrite_cache: bool
) -> Call[identifier_pb2.WorkflowExecutionIdentifier]:
    """``RelaunchExecution``."""
    request = execution_pb2.ExecutionRelaunchRequest(
        id=to_execution_id(id, "id"), name=_optional_text(name, "name"), overwrite_cache=bool(overwrite_cache)
    )
    return Call(ADMIN, "RelaunchExecution", request, _execution_id_of)


def get_execution(id: ExecutionIdentifierLike) -> Call[execution_pb2.Execution]:
    """``GetExecution``."""
    request = execution_pb2.WorkflowExecutionGetRequest(id=to_execution_id(id, "id"))
    return Call(ADMIN, "GetExecution", request, _same)


def get_execution_data(id: ExecutionIdentifierLike) -> Call[execution_pb2.WorkflowExecutionGetDataResponse]:
    """``GetExecutionData``."""
    request = execution_pb2.WorkflowExecutionGetDataRequest(id=to_execution_id(id, "id"))
    return Call(ADMIN, "GetExecutionData", request, _same)


def list_executions_paginated(
    project: str, domain: str, limit: int, token: str | None, filters: FilterSpec, sort_by: SortLike
) -> Call[Page[execution_pb2.Execution]]:
    """``ListExecutions`` of a project and domain."""
    request = common_pb2.ResourceListRequest(
        id=common_pb2.NamedEntityIdentifier(project=_text(project, "project"), domain=_text(domain, "domain")),
        limit=_limit(limit),
        token=_token(token),
        filters=_filters(filters),
        sort_by=to_sort(sort_by),
    )
    return Call(ADMIN, "ListExecutions", request, _page("executions"))


def terminate_execution(id: ExecutionIdentifierLike, cause: str) -> Call[None]:
    """``TerminateExecution``."""
    request = execution_pb2.ExecutionTerminateRequest(id=to_execution_id(id, "id"), cause=_text(cause, "cause"))
    return Call(ADMIN, "TerminateExecution", request, _nothing)


def update_execution(id: ExecutionIdentifierLike, state: int | str) -> Call[None]:
    """``UpdateExecution``: archive (``EXECUTION_ARCHIVED``) or restore (``EXECUTION_ACTIVE``) an execution."""
    request = execution_pb2.ExecutionUpdateRequest(
        id=to_execution_id(id, "id"),
        state=_enum(state, "state", execution_pb2.ExecutionState),  # type: ignore[arg-type]
    )
    return Call(ADMIN, "UpdateExecution", request, _nothing)


def _span(response: Any) -> metrics_pb2.Span:
    return response.span  # type: ignore[no-any-return]


def get_execution_metrics(id: ExecutionIdentifierLike, depth: int) -> Call[metrics_pb2.Span]:
    """``GetExecutionMetrics``, returning the root span as flytekit does."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise FlyteInvalidInputException(f"depth must be a non-negative integer, got {_describe(depth)}")
    request = execution_pb2.WorkflowExecutionGetMetricsRequest(id=to_execution_id(id, "id"), depth=depth)
    return Call(ADMIN, "GetExecutionMetrics", request, _span)


# ---------------------------------------------------------------------------------------------------- node executions


def get_node_execution(
    node_execution_identifier: NodeExecutionIdentifierLike,
) -> Call[node_execution_pb2.NodeExecution]:
    """``GetNodeExecution``."""
    request = node_execution_pb2.NodeExecutionGetRequest(
        id=to_node_execution_id(node_execution_identifier, "node_execution_identifier")
    )
    return Call(ADMIN, "GetNodeExecution", request, _same)


def get_node_execution_data(
    node_execution_identifier: NodeExecutionIdentifierLike,
) -> Call[node_execution_pb2.NodeExecutionGetDataResponse]:
    """``GetNodeExecutionData``."""
    request = node_execution_pb2.NodeExecutionGetDataRequest(
        id=to_node_execution_id(node_execution_identifier, "node_execution_identifier")
    )
    return Call(ADMIN, "GetNodeExecutionData", request, _same)


def get_dynamic_node_workflow(
    node_execution_identifier: NodeExecutionIdentifierLike,
) -> Call[node_execution_pb2.DynamicNodeWorkflowResponse]:
    """``GetDynamicNodeWorkflow``."""
    request = node_execution_pb2.GetDynamicNodeWorkflowRequest(
        id=to_node_execution_id(node_execution_identifier, "node_execution_identifier")
    )
    return Call(ADMIN, "GetDynamicNodeWorkflow", request, _same)


def list_node_executions(
    workflow_execution_identifier: ExecutionIdentifierLike,
    limit: int,
    token: str | None,
    filters: FilterSpec,
    sort_by: SortLike,
    unique_parent_id: str | None,
) -> Call[Page[node_execution_pb2.NodeExecution]]:
    """``ListNodeExecutions``: top-level nodes, or the children of ``unique_parent_id``."""
    request = node_execution_pb2.NodeExecutionListRequest(
        workflow_execution_id=to_execution_id(workflow_execution_identifier, "workflow_execution_identifier"),
        limit=_limit(limit),
        token=_token(token),
        filters=_filters(filters),
        sort_by=to_sort(sort_by),
        unique_parent_id=_optional_text(unique_parent_id, "unique_parent_id"),
    )
    return Call(ADMIN, "ListNodeExecutions", request, _page("node_executions"))


def list_node_executions_for_task_paginated(
    task_execution_identifier: TaskExecutionIdentifierLike,
    limit: int,
    token: str | None,
    filters: FilterSpec,
    sort_by: SortLike,
) -> Call[Page[node_execution_pb2.NodeExecution]]:
    """``ListNodeExecutionsForTask``: nodes a (dynamic) task attempt launched."""
    request = node_execution_pb2.NodeExecutionForTaskListRequest(
        task_execution_id=to_task_execution_id(task_execution_identifier, "task_execution_identifier"),
        limit=_limit(limit),
        token=_token(token),
        filters=_filters(filters),
        sort_by=to_sort(sort_by),
    )
    return Call(ADMIN, "ListNodeExecutionsForTask", request, _page("node_executions"))


# ---------------------------------------------------------------------------------------------------- task executions


def get_task_execution(id: TaskExecutionIdentifierLike) -> Call[task_execution_pb2.TaskExecution]:
    """``GetTaskExecution``."""
    request = task_execution_pb2.TaskExecutionGetRequest(id=to_task_execution_id(id, "id"))
    return Call(ADMIN, "GetTaskExecution", request, _same)


def get_task_execution_data(
    task_execution_identifier: TaskExecutionIdentifierLike,
) -> Call[task_execution_pb2.TaskExecutionGetDataResponse]:
    """``GetTaskExecutionData``."""
    request = task_execution_pb2.TaskExecutionGetDataRequest(
        id=to_task_execution_id(task_execution_identifier, "task_execution_identifier")
    )
    return Call(ADMIN, "GetTaskExecutionData", request, _same)


def list_task_executions_paginated(
    node_execution_identifier: NodeExecutionIdentifierLike,
    limit: int,
    token: str | None,
    filters: FilterSpec,
    sort_by: SortLike,
) -> Call[Page[task_execution_pb2.TaskExecution]]:
    """``ListTaskExecutions`` of a node execution (one per attempt)."""
    request = task_execution_pb2.TaskExecutionListRequest(
        node_execution_id=to_node_execution_id(node_execution_identifier, "node_execution_identifier"),
        limit=_limit(limit),
        token=_token(token),
        filters=_filters(filters),
        sort_by=to_sort(sort_by),
    )
    return Call(ADMIN, "ListTaskExecutions", request, _page("task_executions"))


# ---------------------------------------------------------------------------------------------------- projects, domains


def register_project(project: Any) -> Call[None]:
    """``RegisterProject``."""
    pb = _message(project, project_pb2.Project, "project")
    _require_fields(pb, ("id",), "project")
    return Call(ADMIN, "RegisterProject", project_pb2.ProjectRegisterRequest(project=pb), _nothing)


def update_project(project: Any) -> Call[None]:
    """``UpdateProject`` (the RPC takes the project itself)."""
    pb = _message(project, project_pb2.Project, "project")
    _require_fields(pb, ("id",), "project")
    return Call(ADMIN, "UpdateProject", pb, _nothing)


def get_project(id: str) -> Call[project_pb2.Project]:
    """``GetProject``."""
    return Call(ADMIN, "GetProject", project_pb2.ProjectGetRequest(id=_text(id, "id")), _same)


def list_projects_paginated(
    limit: int, token: str | None, filters: FilterSpec, sort_by: SortLike
) -> Call[Page[project_pb2.Project]]:
    """``ListProjects``."""
    request = project_pb2.ProjectListRequest(
        limit=_limit(limit), token=_token(token), filters=_filters(filters), sort_by=to_sort(sort_by)
    )
    return Call(ADMIN, "ListProjects", request, _page("projects"))


def _domains(response: Any) -> list[project_pb2.Domain]:
    return list(response.domains)


def get_domains() -> Call[list[project_pb2.Domain]]:
    """``GetDomains``, returning the list of domains as flytekit does."""
    return Call(ADMIN, "GetDomains", project_pb2.GetDomainRequest(), _domains)


# ---------------------------------------------------------------------------------------------------- attributes


def _matchable_resource(value: Any) -> int:
    return _enum(value, "resource_type", matchable_resource_pb2.MatchableResource)


def update_project_domain_attributes(project: str, domain: str, matching_attributes: Any) -> Call[None]:
    """``UpdateProjectDomainAttributes``."""
    attributes = project_domain_attributes_pb2.ProjectDomainAttributes(
        project=_text(project, "project"),
        domain=_text(domain, "domain"),
        matching_attributes=_message(
            matching_attributes, matchable_resource_pb2.MatchingAttributes, "matching_attributes"
        ),
    )
    request = project_domain_attributes_pb2.ProjectDomainAttributesUpdateRequest(attributes=attributes)
    return Call(ADMIN, "UpdateProjectDomainAttributes", request, _nothing)


def get_project_domain_attributes(
    project: str, domain: str, resource_type: int
) -> Call[project_domain_attributes_pb2.ProjectDomainAttributesGetResponse]:
    """``GetProjectDomainAttributes``."""
    request = project_domain_attributes_pb2.ProjectDomainAttributesGetRequest(
        project=_text(project, "project"),
        domain=_text(domain, "domain"),
        resource_type=_matchable_resource(resource_type),  # type: ignore[arg-type]
    )
    return Call(ADMIN, "GetProjectDomainAttributes", request, _same)


def update_workflow_attributes(project: str, domain: str, workflow: str, matching_attributes: Any) -> Call[None]:
    """``UpdateWorkflowAttributes``."""
    attributes = workflow_attributes_pb2.WorkflowAttributes(
        project=_text(project, "project"),
        domain=_text(domain, "domain"),
        workflow=_text(workflow, "workflow"),
        matching_attributes=_message(
            matching_attributes, matchable_resource_pb2.MatchingAttributes, "matching_attributes"
        ),
    )
    request = workflow_attributes_pb2.WorkflowAttributesUpdateRequest(attributes=attributes)
    return Call(ADMIN, "UpdateWorkflowAttributes", request, _nothing)


def get_workflow_attributes(
    project: str, domain: str, workflow: str, resource_type: int
) -> Call[workflow_attributes_pb2.WorkflowAttributesGetResponse]:
    """``GetWorkflowAttributes``."""
    request = workflow_attributes_pb2.WorkflowAttributesGetRequest(
        project=_text(project, "project"),
        domain=_text(domain, "domain"),
        workflow=_text(workflow, "workflow"),
        resource_type=_matchable_resource(resource_type),  # type: ignore[arg-type]
    )
    return Call(ADMIN, "GetWorkflowAttributes", request, _same)


def update_project_attributes(project: str, matching_attributes: Any) -> Call[None]:
    """``UpdateProjectAttributes``."""
    attributes = project_attributes_pb2.ProjectAttributes(
        project=_text(project, "project"),
        matching_attributes=_message(
            matching_attributes, matchable_resource_pb2.MatchingAttributes, "matching_attributes"
        ),
    )
    request = project_attributes_pb2.ProjectAttributesUpdateRequest(attributes=attributes)
    return Call(ADMIN, "UpdateProjectAttributes", request, _nothing)


def get_project_attributes(
    project: str, resource_type: int
) -> Call[project_attributes_pb2.ProjectAttributesGetResponse]:
    """``GetProjectAttributes``."""
    request = project_attributes_pb2.ProjectAttributesGetRequest(
        project=_text(project, "project"),
        resource_type=_matchable_resource(resource_type),  # type: ignore[arg-type]
    )
    return Call(ADMIN, "GetProjectAttributes", request, _same)


def list_matchable_attributes(resource_type: int) -> Call[matchable_resource_pb2.ListMatchableAttributesResponse]:
    """``ListMatchableAttributes``."""
    request = matchable_resource_pb2.ListMatchableAttributesRequest(
        resource_type=_matchable_resource(resource_type),  # type: ignore[arg-type]
    )
    return Call(ADMIN, "ListMatchableAttributes", request, _same)


# ---------------------------------------------------------------------------------------------------- data proxy


def get_upload_signed_url(
    project: str,
    domain: str,
    content_md5: bytes | None,
    filename: str | None,
    expires_in: datetime.timedelta | None,
    filename_root: str | None,
    add_content_md5_metadata: bool,
) -> Call[dataproxy_pb2.CreateUploadLocationResponse]:
    """``CreateUploadLocation``."""
    if content_md5 is not None and not isinstance(content_md5, bytes):
        raise FlyteInvalidInputException(f"content_md5 must be the raw md5 digest bytes, got {_describe(content_md5)}")
    if not content_md5 and not filename_root:
        # Admin's own rule, checked here to fail before the round trip with the argument names a caller knows.
        raise FlyteInvalidInputException("get_upload_signed_url needs content_md5 or filename_root")
    request = dataproxy_pb2.CreateUploadLocationRequest(
        project=_text(project, "project"),
        domain=_text(domain, "domain"),
        content_md5=content_md5 or b"",
        filename=_optional_text(filename, "filename"),
        expires_in=_duration(expires_in, "expires_in"),
        filename_root=_optional_text(filename_root, "filename_root"),
        add_content_md5_metadata=bool(add_content_md5_metadata),
    )
    return Call(DATA_PROXY, "CreateUploadLocation", request, _same)


def get_download_signed_url(
    native_url: str, expires_in: datetime.timedelta | None
) -> Call[dataproxy_pb2.CreateDownloadLocationResponse]:
    """``CreateDownloadLocation``."""
    request = dataproxy_pb2.CreateDownloadLocationRequest(
        native_url=_text(native_url, "native_url"), expires_in=_duration(expires_in, "expires_in")
    )
    return Call(DATA_PROXY, "CreateDownloadLocation", request, _same)


def get_data(flyte_uri: str) -> Call[dataproxy_pb2.GetDataResponse]:
    """``GetData`` for a ``flyte://v1/...`` URL."""
    if not isinstance(flyte_uri, str) or not flyte_uri.startswith("flyte://"):
        raise FlyteInvalidInputException(f"flyte_uri must start with 'flyte://', got {_describe(flyte_uri)}")
    return Call(DATA_PROXY, "GetData", dataproxy_pb2.GetDataRequest(flyte_url=flyte_uri), _same)


def get_download_artifact_signed_url(
    node_id: str,
    project: str,
    domain: str,
    name: str,
    artifact_type: int,
    expires_in: datetime.timedelta | None,
) -> Call[dataproxy_pb2.CreateDownloadLinkResponse]:
    """``CreateDownloadLink`` for an artifact (a deck) of a node execution."""
    node_execution_id = identifier_pb2.NodeExecutionIdentifier(
        node_id=_text(node_id, "node_id"),
        execution_id=identifier_pb2.WorkflowExecutionIdentifier(
            project=_text(project, "project"), domain=_text(domain, "domain"), name=_text(name, "name")
        ),
    )
    request = dataproxy_pb2.CreateDownloadLinkRequest(
        artifact_type=_enum(artifact_type, "artifact_type", dataproxy_pb2.ArtifactType),  # type: ignore[arg-type]
        node_execution_id=node_execution_id,
        expires_in=_duration(expires_in, "expires_in"),
    )
    return Call(DATA_PROXY, "CreateDownloadLink", request, _same)


# ---------------------------------------------------------------------------------------------------- version, signals


def _version(response: Any) -> str:
    return str(response.control_plane_version.Version)


def get_control_plane_version() -> Call[str]:
    """``GetVersion``, returning the version string."""
    return Call(ADMIN, "GetVersion", version_pb2.GetVersionRequest(), _version)


def get_version() -> Call[version_pb2.GetVersionResponse]:
    """``GetVersion``, returning the whole response."""
    return Call(ADMIN, "GetVersion", version_pb2.GetVersionRequest(), _same)


def list_signals(signal_list_request: Any) -> Call[signal_pb2.SignalList]:
    """``ListSignals`` with a ready request (flytekit's raw-client form)."""
    request = _message(signal_list_request, signal_pb2.SignalListRequest, "signal_list_request")
    _limit(request.limit, "signal_list_request.limit")
    return Call(SIGNAL, "ListSignals", request, _same)


def list_signals_paginated(
    workflow_execution_identifier: ExecutionIdentifierLike,
    limit: int,
    token: str | None,
    filters: FilterSpec,
    sort_by: SortLike,
) -> Call[Page[signal_pb2.Signal]]:
    """``ListSignals`` of an execution, as ``(signals, next_token)``."""
    request = signal_pb2.SignalListRequest(
        workflow_execution_id=to_execution_id(workflow_execution_identifier, "workflow_execution_identifier"),
        limit=_limit(limit),
        token=_token(token),
        filters=_filters(filters),
        sort_by=to_sort(sort_by),
    )
    return Call(SIGNAL, "ListSignals", request, _page("signals"))


def set_signal(signal_set_request: Any) -> Call[signal_pb2.SignalSetResponse]:
    """``SetSignal`` with a ready request."""
    request = _message(signal_set_request, signal_pb2.SignalSetRequest, "signal_set_request")
    if not request.id.signal_id:
        raise FlyteInvalidInputException("signal_set_request.id.signal_id is empty")
    return Call(SIGNAL, "SetSignal", request, _same)


def get_or_create_signal(signal_get_or_create_request: Any) -> Call[signal_pb2.Signal]:
    """``GetOrCreateSignal`` with a ready request."""
    request = _message(
        signal_get_or_create_request, signal_pb2.SignalGetOrCreateRequest, "signal_get_or_create_request"
    )
    if not request.id.signal_id:
        raise FlyteInvalidInputException("signal_get_or_create_request.id.signal_id is empty")
    return Call(SIGNAL, "GetOrCreateSignal", request, _same)
