"""Builders for workflow executions, their node executions and task executions."""

from __future__ import annotations

from typing import Any

from flyteidl.admin import common_pb2, execution_pb2, node_execution_pb2, task_execution_pb2
from flyteidl.core import identifier_pb2, literals_pb2, metrics_pb2

from airflow_provider_flyte.clients._calls.checks import (
    ExecutionIdentifierLike,
    NodeExecutionIdentifierLike,
    SortLike,
    TaskExecutionIdentifierLike,
    _describe,
    _enum,
    _filters,
    _limit,
    _message,
    _optional_message,
    _optional_text,
    _text,
    _token,
    to_execution_id,
    to_node_execution_id,
    to_sort,
    to_task_execution_id,
)
from airflow_provider_flyte.clients._calls.core import ADMIN, Call, _nothing, _same
from airflow_provider_flyte.clients._calls.pagination import Page, _page
from airflow_provider_flyte.clients.filters import FilterSpec
from airflow_provider_flyte.exceptions import FlyteInvalidInputException


def _execution_id_of(response: Any) -> identifier_pb2.WorkflowExecutionIdentifier:
    return response.id  # type: ignore[no-any-return]


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
