"""Builders for tasks, workflows, launch plans and named entities (registration, reads, lists, activation)."""

from __future__ import annotations

from typing import Any

from flyteidl.admin import common_pb2, description_entity_pb2, launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl.core import identifier_pb2

from airflow_provider_flyte import identifiers
from airflow_provider_flyte.clients._calls.checks import (
    IdentifierLike,
    NamedEntityIdentifierLike,
    SortLike,
    _describe,
    _enum,
    _filters,
    _limit,
    _message,
    _require_fields,
    _text,
    _token,
    to_entity_id,
    to_named_entity_id,
    to_sort,
)
from airflow_provider_flyte.clients._calls.core import ADMIN, Call, _nothing, _same
from airflow_provider_flyte.clients._calls.pagination import Page, _page
from airflow_provider_flyte.clients.filters import FilterSpec
from airflow_provider_flyte.exceptions import FlyteInvalidInputException


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


# ------------------------------------------------------------------------------------------------ description entities


def get_description_entity(id: IdentifierLike) -> Call[description_entity_pb2.DescriptionEntity]:
    """``GetDescriptionEntity``: the descriptions registered with a task or workflow version.

    Raises:
        FlyteInvalidInputException: when ``id`` does not say whether it is a task or a workflow (Admin needs its
            ``resource_type``), or misses a part.
    """
    if isinstance(id, str):
        id = identifiers.Identifier.from_python_std(id)
    pb = _message(id, identifier_pb2.Identifier, "id")
    _require_fields(pb, ("project", "domain", "name", "version"), "id")
    if int(pb.resource_type) == identifiers.ResourceType.UNSPECIFIED:
        raise FlyteInvalidInputException(
            f"id must set resource_type (TASK or WORKFLOW), e.g. 'tsk:project:domain:name:version'; got {_describe(pb)}"
        )
    return Call(ADMIN, "GetDescriptionEntity", common_pb2.ObjectGetRequest(id=pb), _same)


def list_description_entities_paginated(
    resource_type: int,
    identifier: NamedEntityIdentifierLike,
    limit: int,
    token: str | None,
    filters: FilterSpec,
    sort_by: SortLike,
) -> Call[Page[description_entity_pb2.DescriptionEntity]]:
    """``ListDescriptionEntities`` of every version of one task or workflow name."""
    request = description_entity_pb2.DescriptionEntityListRequest(
        resource_type=_resource_type(resource_type),  # type: ignore[arg-type]
        id=to_named_entity_id(identifier, "identifier", require_name=True),
        limit=_limit(limit),
        token=_token(token),
        filters=_filters(filters),
        sort_by=to_sort(sort_by),
    )
    return Call(ADMIN, "ListDescriptionEntities", request, _page("descriptionEntities"))
