"""Request building and response parsing shared by the sync and asyncio Flyte 2 clients (no I/O here).

As in the v1 client (:mod:`airflow_provider_flyte.clients._calls`), each friendly method is a builder here that
checks its arguments and returns a :class:`Call` (or a :class:`~._streams.Stream` for watches), and one line in each
client that runs it. Bad arguments fail here, before any RPC, with a
:class:`~airflow_provider_flyte.exceptions.FlyteInvalidInputException` naming the argument, the value and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from flyteidl2.common import identifier_pb2, list_pb2
from flyteidl2.common import run_pb2 as common_run_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2
from flyteidl2.task import common_pb2, run_pb2, task_definition_pb2, task_service_pb2
from flyteidl2.trigger import trigger_definition_pb2, trigger_service_pb2
from flyteidl2.workflow import run_definition_pb2, run_service_pb2
from google.protobuf.message import Message

from airflow_provider_flyte.clients._calls import MISSING, EntityCache, Missing
from airflow_provider_flyte.clients.v2._streams import Stream, never_done
from airflow_provider_flyte.clients.v2.phases import is_terminal
from airflow_provider_flyte.configuration import AuthMode, PlatformConfig
from airflow_provider_flyte.exceptions import FlyteEntityNotExistException, FlyteInvalidInputException

ResultT = TypeVar("ResultT")
Service = Literal["run_service", "task_service", "data_proxy_service", "trigger_service"]

MAX_RUN_NAME_LENGTH = 30
"""``flyteidl2.common.RunIdentifier.name`` holds at most 30 characters."""
RUN_NAME_PATTERN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
"""Lowercase letters, digits and ``-``, starting and ending with a letter or digit (the name becomes part of
Kubernetes object names, which allow no more)."""
DEFAULT_PAGE_SIZE = 100
ROOT_ACTION = "a0"

RunIdLike = identifier_pb2.RunIdentifier | str
"""A ``RunIdentifier``, or ``"project:domain:name"``."""
TaskIdLike = task_definition_pb2.TaskIdentifier | task_definition_pb2.TaskDetails | tuple[str, str]
"""A ``TaskIdentifier``, the ``TaskDetails`` of the task, or ``(name, version)`` in the run's project and domain."""
TriggerLike = identifier_pb2.TriggerName | tuple[str, str]
"""A ``TriggerName``, or ``(task_name, trigger_name)`` in the run's project and domain."""
InputsLike = common_pb2.Inputs | common_run_pb2.OffloadedInputData | None
FilterLike = Sequence[list_pb2.Filter] | Mapping[str, str | Sequence[str]] | None
"""``flyteidl2.common.Filter`` messages, or ``{field: value}`` (EQUAL) / ``{field: [values]}`` (VALUE_IN)."""
Page = tuple[list[ResultT], str]


@dataclass(frozen=True)
class Call(Generic[ResultT]):
    """One unary RPC ready to run (see :class:`airflow_provider_flyte.clients._calls.Call`).

    Attributes:
        service: The raw client's stub attribute.
        method: The RPC name.
        request: The request message.
        parse: Turns the response into the method's result.
        cache_key: Set for reads of immutable entities (a task version): the result is kept in the client's cache.
    """

    service: Service
    method: str
    request: Message
    parse: Callable[[Any], ResultT]
    cache_key: tuple[str, ...] | None = None

    def lookup(self, cache: EntityCache) -> ResultT | Missing:
        """The cached result, or :data:`MISSING`."""
        if self.cache_key is None:
            return MISSING
        return cache.get(self.cache_key)  # type: ignore[return-value]  # keyed per RPC

    def finish(self, response: Any, cache: EntityCache) -> ResultT:
        """Parse ``response``, remembering the result when the call is cacheable."""
        result = self.parse(response)
        if self.cache_key is not None and isinstance(result, Message):
            cache.put(self.cache_key, result)
        return result


# ---------------------------------------------------------------------------------------------------- arguments


def default_org(config: PlatformConfig) -> str:
    """The organization requests name by default: the API key's (``auth_mode="api_key"``), else none."""
    if config.auth_mode is not AuthMode.API_KEY:
        return ""
    from airflow_provider_flyte.clients.auth.api_key import decode_api_key, resolve_api_key

    return decode_api_key(resolve_api_key(config.api_key)).org or ""


def _text(value: Any, argument: str, example: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FlyteInvalidInputException(f"{argument}={value!r} must be a non-empty string, e.g. {example!r}")
    return value


def check_run_name(name: Any) -> str:
    """Return ``name`` when it is a valid Flyte 2 run name.

    Raises:
        FlyteInvalidInputException: naming the value and the rule (at most 30 lowercase letters, digits and ``-``,
            starting and ending with a letter or digit).
    """
    rule = (
        f"use at most {MAX_RUN_NAME_LENGTH} lowercase letters, digits and '-', starting and ending with a letter or "
        "digit, e.g. 'nightly-20260101'"
    )
    if not isinstance(name, str) or not name:
        raise FlyteInvalidInputException(f"run_name={name!r} is not a Flyte 2 run name: {rule}")
    if len(name) > MAX_RUN_NAME_LENGTH:
        raise FlyteInvalidInputException(f"run_name={name!r} has {len(name)} characters, more than allowed: {rule}")
    if not RUN_NAME_PATTERN.match(name):
        raise FlyteInvalidInputException(f"run_name={name!r} holds characters Flyte 2 does not allow: {rule}")
    return name


def project_id(project: str, domain: str, org: str = "") -> identifier_pb2.ProjectIdentifier:
    """The ``ProjectIdentifier`` of a project and domain (checked non-empty)."""
    return identifier_pb2.ProjectIdentifier(
        organization=org, name=_text(project, "project", "flytesnacks"), domain=_text(domain, "domain", "development")
    )


def to_run_id(run_id: RunIdLike, org: str = "") -> identifier_pb2.RunIdentifier:
    """A ``RunIdentifier`` from a message or ``"project:domain:name"``."""
    if isinstance(run_id, identifier_pb2.RunIdentifier):
        if not (run_id.project and run_id.domain and run_id.name):
            raise FlyteInvalidInputException(f"run_id={run_id} needs a project, a domain and a name")
        return run_id
    parts = run_id.split(":") if isinstance(run_id, str) else []
    if len(parts) != 3 or not all(parts):
        raise FlyteInvalidInputException(
            f"run_id={run_id!r} is not a run id: pass a flyteidl2 RunIdentifier or 'project:domain:name'"
        )
    project, domain, name = parts
    return identifier_pb2.RunIdentifier(org=org, project=project, domain=domain, name=name)


def task_id(project: str, domain: str, name: str, version: str, org: str = "") -> task_definition_pb2.TaskIdentifier:
    """A checked ``TaskIdentifier``."""
    project_id(project, domain, org)
    return task_definition_pb2.TaskIdentifier(
        org=org,
        project=project,
        domain=domain,
        name=_text(name, "name", "my_env.my_task"),
        version=_text(version, "version", "abc123"),
    )


def _to_task_id(task: TaskIdLike, project: str, domain: str, org: str) -> task_definition_pb2.TaskIdentifier:
    if isinstance(task, task_definition_pb2.TaskIdentifier):
        return task
    if isinstance(task, task_definition_pb2.TaskDetails):
        return task.task_id
    if isinstance(task, tuple) and len(task) == 2:
        return task_id(project, domain, task[0], task[1], org)
    raise FlyteInvalidInputException(
        f"task_id={task!r} is not a task: pass a flyteidl2 TaskIdentifier, the task's TaskDetails or (name, version)"
    )


def _to_trigger(trigger: TriggerLike, project: str, domain: str, org: str) -> identifier_pb2.TriggerName:
    if isinstance(trigger, identifier_pb2.TriggerName):
        return trigger
    if isinstance(trigger, tuple) and len(trigger) == 2:
        task_name, name = trigger
        return identifier_pb2.TriggerName(
            org=org,
            project=project,
            domain=domain,
            task_name=_text(task_name, "trigger_name[0] (the task name)", "my_env.my_task"),
            name=_text(name, "trigger_name[1]", "nightly"),
        )
    raise FlyteInvalidInputException(
        f"trigger_name={trigger!r} is not a trigger: pass a flyteidl2 TriggerName or (task_name, trigger_name)"
    )


def to_filters(filters: FilterLike) -> list[list_pb2.Filter]:
    """``Filter`` messages from messages or a ``{field: value or [values]}`` mapping."""
    if filters is None:
        return []
    if isinstance(filters, Mapping):
        built = []
        for field, value in filters.items():
            if isinstance(value, str):
                built.append(list_pb2.Filter(function=list_pb2.Filter.EQUAL, field=field, values=[value]))
            else:
                built.append(list_pb2.Filter(function=list_pb2.Filter.VALUE_IN, field=field, values=list(value)))
        return built
    if all(isinstance(item, list_pb2.Filter) for item in filters):
        return list(filters)
    raise FlyteInvalidInputException(
        f"filters={filters!r} must be flyteidl2 Filter messages or a mapping of field names to values"
    )


def list_request(limit: int, token: str | None, filters: FilterLike = None, sort_by: str | None = None) -> Any:
    """A ``ListRequest`` page; ``sort_by`` is a field name, ``-field`` for descending."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise FlyteInvalidInputException(f"limit={limit!r} must be a positive integer (the page size), e.g. 100")
    request = list_pb2.ListRequest(limit=limit, token=token or "", filters=to_filters(filters))
    if sort_by:
        descending = sort_by.startswith("-")
        direction = list_pb2.Sort.DESCENDING if descending else list_pb2.Sort.ASCENDING
        request.sort_by.CopyFrom(list_pb2.Sort(key=sort_by.lstrip("-"), direction=direction))
    return request


# ---------------------------------------------------------------------------------------------------- tasks


def _details(response: Any) -> Any:
    return response.details


def get_task_details(
    project: str, domain: str, name: str, version: str, org: str = ""
) -> Call[task_definition_pb2.TaskDetails]:
    """``TaskService.GetTaskDetails``; a task version never changes, so the result is cached."""
    identifier = task_id(project, domain, name, version, org)
    request = task_service_pb2.GetTaskDetailsRequest(task_id=identifier)
    return Call("task_service", "GetTaskDetails", request, _details, ("task", org, project, domain, name, version))


def latest_task_version(project: str, domain: str, name: str, org: str = "") -> Call[str]:
    """The most recently deployed version of a task, as the ``flyte`` SDK finds it.

    ``ListTasks`` in the project filtered on the name, newest ``created_at`` first, one item.
    """
    _text(name, "name", "my_env.my_task")
    request = task_service_pb2.ListTasksRequest(
        project_id=project_id(project, domain, org),
        request=list_request(1, None, [list_pb2.Filter(function=list_pb2.Filter.EQUAL, field="name", values=[name])]),
    )
    request.request.sort_by.CopyFrom(list_pb2.Sort(key="created_at", direction=list_pb2.Sort.DESCENDING))

    def parse(response: task_service_pb2.ListTasksResponse) -> str:
        for task in response.tasks:
            if task.task_id.name == name:
                return task.task_id.version
        raise FlyteEntityNotExistException(
            f"task {name!r} has no deployed version in project {project!r}, domain {domain!r}: deploy it first "
            "(flyte deploy) or check the name"
        )

    return Call("task_service", "ListTasks", request, parse)


def list_task_versions(
    project: str, domain: str, name: str, limit: int = DEFAULT_PAGE_SIZE, token: str | None = None, org: str = ""
) -> Call[Page[str]]:
    """One page of a task's versions (``TaskService.ListVersions``), newest first."""
    name_message = task_definition_pb2.TaskName(org=org, project=project, domain=domain, name=name)
    project_id(project, domain, org)
    request = task_service_pb2.ListVersionsRequest(request=list_request(limit, token), task_name=name_message)

    def parse(response: task_service_pb2.ListVersionsResponse) -> Page[str]:
        return [version.version for version in response.versions], response.token

    return Call("task_service", "ListVersions", request, parse)


# ---------------------------------------------------------------------------------------------------- runs


def create_run(
    project: str,
    domain: str,
    run_name: str | None,
    *,
    task: TaskIdLike | None = None,
    trigger: TriggerLike | None = None,
    inputs: InputsLike = None,
    run_spec: run_pb2.RunSpec | None = None,
    org: str = "",
) -> Call[run_definition_pb2.Run]:
    """``RunService.CreateRun`` of a deployed task or of a trigger; a ``None`` run name lets the server pick one."""
    request = run_service_pb2.CreateRunRequest(run_spec=run_spec or run_pb2.RunSpec())
    if run_name is None:
        request.project_id.CopyFrom(project_id(project, domain, org))
    else:
        project_id(project, domain, org)
        request.run_id.CopyFrom(
            identifier_pb2.RunIdentifier(org=org, project=project, domain=domain, name=check_run_name(run_name))
        )
    if (task is None) == (trigger is None):
        raise FlyteInvalidInputException(
            f"create_run got task_id={task!r} and trigger_name={trigger!r}: pass exactly one of them"
        )
    if task is not None:
        request.task_id.CopyFrom(_to_task_id(task, project, domain, org))
    else:
        assert trigger is not None
        request.trigger_name.CopyFrom(_to_trigger(trigger, project, domain, org))
    if isinstance(inputs, common_run_pb2.OffloadedInputData):
        request.offloaded_input_data.CopyFrom(inputs)
    elif isinstance(inputs, common_pb2.Inputs) or inputs is None:
        request.inputs.CopyFrom(inputs or common_pb2.Inputs())
    else:
        raise FlyteInvalidInputException(
            f"inputs is a {type(inputs).__name__}: pass flyteidl2 Inputs (see clients.v2.literals.encode_inputs) or "
            "the OffloadedInputData upload_inputs returned"
        )
    return Call("run_service", "CreateRun", request, lambda response: response.run)


def upload_inputs(
    project: str,
    domain: str,
    run_name: str | None,
    inputs: common_pb2.Inputs,
    *,
    task: TaskIdLike | None = None,
    trigger: TriggerLike | None = None,
    org: str = "",
) -> Call[common_run_pb2.OffloadedInputData]:
    """``DataProxyService.UploadInputs``: store ``inputs`` for a later ``create_run(inputs=<the result>)``."""
    run = create_run(project, domain, run_name, task=task, trigger=trigger, inputs=inputs, org=org).request
    assert isinstance(run, run_service_pb2.CreateRunRequest)
    request = dataproxy_service_pb2.UploadInputsRequest(inputs=inputs)
    for field in ("run_id", "project_id", "task_id", "trigger_name"):
        if run.HasField(field):
            getattr(request, field).CopyFrom(getattr(run, field))
    return Call("data_proxy_service", "UploadInputs", request, lambda response: response.offloaded_input_data)


def abort_run(run_id: RunIdLike, reason: str = "", org: str = "") -> Call[None]:
    """``RunService.AbortRun``."""
    request = run_service_pb2.AbortRunRequest(run_id=to_run_id(run_id, org))
    if reason:
        request.reason = reason
    return Call("run_service", "AbortRun", request, lambda _response: None)


def get_run_details(run_id: RunIdLike, org: str = "") -> Call[run_definition_pb2.RunDetails]:
    """``RunService.GetRunDetails``."""
    request = run_service_pb2.GetRunDetailsRequest(run_id=to_run_id(run_id, org))
    return Call("run_service", "GetRunDetails", request, _details)


def _one_details(response: Any) -> list[Any]:
    return [response.details]


def _same_run(_details: Any) -> str:
    return "run"


def _terminal_details(details: run_definition_pb2.RunDetails) -> bool:
    return is_terminal(details.action.status.phase)


def watch_run_details(run_id: RunIdLike, org: str = "") -> Stream[run_definition_pb2.RunDetails]:
    """``RunService.WatchRunDetails``, followed until the run is terminal."""
    request = run_service_pb2.WatchRunDetailsRequest(run_id=to_run_id(run_id, org))
    return Stream("run_service", "WatchRunDetails", request, _one_details, _same_run, _terminal_details)


def list_runs(
    project: str,
    domain: str,
    filters: FilterLike = None,
    limit: int = DEFAULT_PAGE_SIZE,
    token: str | None = None,
    sort_by: str | None = None,
    org: str = "",
) -> Call[Page[run_definition_pb2.Run]]:
    """One page of runs in a project and domain (``RunService.ListRuns``)."""
    request = run_service_pb2.ListRunsRequest(
        project_id=project_id(project, domain, org), request=list_request(limit, token, filters, sort_by)
    )
    return Call("run_service", "ListRuns", request, lambda response: (list(response.runs), response.token))


def _runs(response: Any) -> list[Any]:
    return list(response.runs)


def _run_name_of(run: run_definition_pb2.Run) -> str:
    return run.action.id.run.name


def watch_runs(project: str, domain: str, org: str = "") -> Stream[run_definition_pb2.Run]:
    """``RunService.WatchRuns`` of a project and domain: each run's states, followed until the reader stops."""
    request = run_service_pb2.WatchRunsRequest(project_id=project_id(project, domain, org))
    return Stream("run_service", "WatchRuns", request, _runs, _run_name_of, never_done)


def get_action_data(
    run_id: RunIdLike, action: str = ROOT_ACTION, org: str = ""
) -> Call[dataproxy_service_pb2.GetActionDataResponse]:
    """``DataProxyService.GetActionData``: an action's inputs and outputs (the run's, for the root action ``a0``)."""
    action_id = identifier_pb2.ActionIdentifier(run=to_run_id(run_id, org), name=_text(action, "action", "a0"))
    request = dataproxy_service_pb2.GetActionDataRequest(action_id=action_id)
    return Call("data_proxy_service", "GetActionData", request, lambda response: response)


# ---------------------------------------------------------------------------------------------------- triggers


def get_trigger(
    project: str, domain: str, task_name: str, name: str, org: str = ""
) -> Call[trigger_definition_pb2.TriggerDetails]:
    """``TriggerService.GetTriggerDetails`` of a task's trigger."""
    trigger = _to_trigger((task_name, name), project, domain, org)
    project_id(project, domain, org)
    request = trigger_service_pb2.GetTriggerDetailsRequest(name=trigger)
    return Call("trigger_service", "GetTriggerDetails", request, lambda response: response.trigger)


def list_triggers(
    project: str,
    domain: str,
    task_name: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    token: str | None = None,
    org: str = "",
) -> Call[Page[trigger_definition_pb2.Trigger]]:
    """One page of the triggers of a project and domain, or of one task (``TriggerService.ListTriggers``)."""
    request = trigger_service_pb2.ListTriggersRequest(request=list_request(limit, token))
    scope = project_id(project, domain, org)
    if task_name is None:
        request.project_id.CopyFrom(scope)
    else:
        name = _text(task_name, "task_name", "my_env.my_task")
        request.task_name.CopyFrom(task_definition_pb2.TaskName(org=org, project=project, domain=domain, name=name))
    return Call("trigger_service", "ListTriggers", request, lambda response: (list(response.triggers), response.token))
