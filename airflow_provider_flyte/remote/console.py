"""Flyte Console URLs for entities and executions.

The routes are flyteconsole's (``/console/projects/{p}/domains/{d}/...``). The host is the configured
``console_endpoint``, else the Admin endpoint with ``http`` when the channel is insecure and ``https`` otherwise,
as flytekit derives it. Unlike flytekit, node and task executions get working links: a node execution points at its
workflow execution's page, a task execution at its attempt's logs view.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.identifiers import (
    Identifier,
    NodeExecutionIdentifier,
    ResourceType,
    TaskExecutionIdentifier,
    WorkflowExecutionIdentifier,
)

_ENTITY_ROUTE = {
    ResourceType.TASK: "task",
    ResourceType.WORKFLOW: "workflow",
    ResourceType.LAUNCH_PLAN: "launch_plan",
}

ConsoleTarget = Any
"""Anything with a console page: identifiers (ours or flyteidl's), or objects whose ``id`` is one."""


def console_http_domain(config: PlatformConfig) -> str:
    """Return the console's base URL (scheme and host, no trailing slash) for ``config``."""
    if config.console_endpoint:
        endpoint = config.console_endpoint.rstrip("/")
        if "://" not in endpoint:
            endpoint = ("http://" if config.insecure else "https://") + endpoint
        return endpoint
    return ("http://" if config.insecure else "https://") + config.endpoint


def generate_console_url(config: PlatformConfig, entity: ConsoleTarget) -> str:
    """Return the Flyte Console URL showing ``entity``.

    Args:
        config: Where Flyte Admin (and by default the console) lives.
        entity: A task, workflow or launch plan (or its :class:`Identifier`), a workflow, node or task execution
            (or its identifier). flyteidl identifier messages are accepted too.

    Raises:
        FlyteInvalidInputException: when ``entity`` is none of these.
    """
    target = as_console_identifier(entity)
    base = console_http_domain(config)
    if isinstance(target, Identifier):
        route = _ENTITY_ROUTE.get(target.resource_type)
        if route is None:
            raise FlyteInvalidInputException(
                f"entity {target} has resource type {target.resource_type.name}, which has no console page"
            )
        return (
            f"{base}/console/projects/{_seg(target.project)}/domains/{_seg(target.domain)}"
            f"/{route}/{_seg(target.name)}/version/{_seg(target.version)}"
        )
    if isinstance(target, TaskExecutionIdentifier):
        node = target.node_execution_id
        return (
            f"{_execution_url(base, node.execution_id)}/nodeId/{_seg(node.node_id)}"
            f"/taskId/{_seg(target.task_id.name)}/attempt/{target.retry_attempt}/view/logs"
        )
    if isinstance(target, NodeExecutionIdentifier):
        return _execution_url(base, target.execution_id)
    return _execution_url(base, target)


def as_console_identifier(
    entity: ConsoleTarget,
) -> Identifier | WorkflowExecutionIdentifier | NodeExecutionIdentifier | TaskExecutionIdentifier:
    """Normalise ``entity`` to one of our identifier dataclasses.

    Raises:
        FlyteInvalidInputException: when ``entity`` carries no identifier with a console page.
    """
    ours = (Identifier, WorkflowExecutionIdentifier, NodeExecutionIdentifier, TaskExecutionIdentifier)
    if isinstance(entity, ours):
        return entity
    descriptor = getattr(entity, "DESCRIPTOR", None)
    full_name = getattr(descriptor, "full_name", None)
    if full_name == "flyteidl.core.Identifier":
        return Identifier.from_flyte_idl(entity)
    if full_name == "flyteidl.core.WorkflowExecutionIdentifier":
        return WorkflowExecutionIdentifier.from_flyte_idl(entity)
    if full_name == "flyteidl.core.NodeExecutionIdentifier":
        return NodeExecutionIdentifier.from_flyte_idl(entity)
    if full_name == "flyteidl.core.TaskExecutionIdentifier":
        return TaskExecutionIdentifier.from_flyte_idl(entity)
    inner = getattr(entity, "id", None)
    if inner is not None and inner is not entity and descriptor is None:
        return as_console_identifier(inner)
    raise FlyteInvalidInputException(
        f"entity={entity!r} ({type(entity).__name__}) has no console page; pass a task, workflow, launch plan, "
        "execution or one of their identifiers"
    )


def _execution_url(base: str, execution_id: WorkflowExecutionIdentifier) -> str:
    return (
        f"{base}/console/projects/{_seg(execution_id.project)}/domains/{_seg(execution_id.domain)}"
        f"/executions/{_seg(execution_id.name)}"
    )


def _seg(value: str) -> str:
    """Percent-encode one path segment (versions may hold ``/`` or ``+``)."""
    return quote(value, safe="-._~=")
