"""Request building and response parsing shared by the sync and asyncio friendly clients.

Every friendly method is split in two halves. The transport-free half lives here: a builder checks and converts the
arguments, builds the request message and returns a :class:`Call` naming the stub (``admin_service``...), the RPC and
how to turn the response into the method's result. The transport half is one line in each client: run the call on
the raw client's stub, synchronously or with ``await``. That keeps
:class:`~airflow_provider_flyte.clients.friendly.SynchronousFlyteClient` and
:class:`~airflow_provider_flyte.clients.aio.AsyncFlyteClient` identical in behaviour without a copy-pasted twin (the
way httpx's ``Client`` and ``AsyncClient`` share ``build_request``). Retries, deadlines, auth and error mapping belong
to the raw client's interceptors and are not repeated here.

Arguments are accepted in the forms a flytekit user has at hand: ``flyteidl`` messages, this package's identifier
dataclasses (:mod:`airflow_provider_flyte.identifiers`), flytekit models (anything with ``to_flyte_idl()``), and
identifier strings (``tsk:project:domain:name:version``, ``ex:project:domain:name``, ``te:...``). A wrong type, an
empty project or a non-positive limit fails here, before any RPC, with a
:class:`~airflow_provider_flyte.exceptions.FlyteInvalidInputException` naming the argument.

The package re-exports every public name of its modules, so callers write ``_calls.get_execution(...)``:

* :mod:`.core`: :class:`Call`, :class:`EntityCache`, the stub names and type variables;
* :mod:`.pagination`: page sizes and order, :data:`Page`, :func:`next_page_token`;
* :mod:`.checks`: the accepted argument forms (``IdentifierLike``...) and their conversions (``to_execution_id``...);
* :mod:`.config`: :func:`resolve_config`;
* the builders, one module per area: :mod:`.entities` (tasks, workflows, launch plans, named entities, description
  entities), :mod:`.executions` (executions, node and task executions), :mod:`.events` (the data plane's execution
  events), :mod:`.projects` (projects, domains, attributes, version), :mod:`.data_proxy` and :mod:`.signals`.
"""

from __future__ import annotations

from airflow_provider_flyte.clients._calls.checks import (
    ExecutionIdentifierLike,
    IdentifierLike,
    NamedEntityIdentifierLike,
    NodeExecutionIdentifierLike,
    SortLike,
    TaskExecutionIdentifierLike,
    to_entity_id,
    to_execution_id,
    to_named_entity_id,
    to_node_execution_id,
    to_sort,
    to_task_execution_id,
)
from airflow_provider_flyte.clients._calls.config import resolve_config
from airflow_provider_flyte.clients._calls.core import (
    ADMIN,
    DATA_PROXY,
    DEFAULT_ENTITY_CACHE_SIZE,
    MISSING,
    SIGNAL,
    Call,
    EntityCache,
    ItemT,
    MessageT,
    Missing,
    ResultT,
    Service,
)
from airflow_provider_flyte.clients._calls.data_proxy import (
    get_data,
    get_download_artifact_signed_url,
    get_download_signed_url,
    get_upload_signed_url,
)
from airflow_provider_flyte.clients._calls.entities import (
    create_launch_plan,
    create_task,
    create_workflow,
    get_active_launch_plan,
    get_description_entity,
    get_launch_plan,
    get_named_entity,
    get_task,
    get_workflow,
    list_active_launch_plans_paginated,
    list_description_entities_paginated,
    list_launch_plan_ids_paginated,
    list_launch_plans_paginated,
    list_named_entities_paginated,
    list_task_ids_paginated,
    list_tasks_paginated,
    list_workflow_ids_paginated,
    list_workflows_paginated,
    update_launch_plan,
    update_named_entity,
)
from airflow_provider_flyte.clients._calls.events import create_node_event, create_task_event, create_workflow_event
from airflow_provider_flyte.clients._calls.executions import (
    create_execution,
    get_dynamic_node_workflow,
    get_execution,
    get_execution_data,
    get_execution_metrics,
    get_node_execution,
    get_node_execution_data,
    get_task_execution,
    get_task_execution_data,
    list_executions_paginated,
    list_node_executions,
    list_node_executions_for_task_paginated,
    list_task_executions_paginated,
    recover_execution,
    relaunch_execution,
    terminate_execution,
    update_execution,
)
from airflow_provider_flyte.clients._calls.pagination import (
    DEFAULT_ITERATION_SORT,
    DEFAULT_PAGE_SIZE,
    AsyncListPage,
    ListPage,
    Page,
    next_page_token,
)
from airflow_provider_flyte.clients._calls.projects import (
    delete_project_attributes,
    delete_project_domain_attributes,
    delete_workflow_attributes,
    get_control_plane_version,
    get_domains,
    get_project,
    get_project_attributes,
    get_project_domain_attributes,
    get_version,
    get_workflow_attributes,
    list_matchable_attributes,
    list_projects_paginated,
    register_project,
    update_project,
    update_project_attributes,
    update_project_domain_attributes,
    update_workflow_attributes,
)
from airflow_provider_flyte.clients._calls.signals import (
    get_or_create_signal,
    list_signals,
    list_signals_paginated,
    set_signal,
)

__all__ = [
    "ADMIN",
    "DATA_PROXY",
    "DEFAULT_ENTITY_CACHE_SIZE",
    "DEFAULT_ITERATION_SORT",
    "DEFAULT_PAGE_SIZE",
    "MISSING",
    "SIGNAL",
    "AsyncListPage",
    "Call",
    "EntityCache",
    "ExecutionIdentifierLike",
    "IdentifierLike",
    "ItemT",
    "ListPage",
    "MessageT",
    "Missing",
    "NamedEntityIdentifierLike",
    "NodeExecutionIdentifierLike",
    "Page",
    "ResultT",
    "Service",
    "SortLike",
    "TaskExecutionIdentifierLike",
    "create_execution",
    "create_launch_plan",
    "create_node_event",
    "create_task",
    "create_task_event",
    "create_workflow",
    "create_workflow_event",
    "delete_project_attributes",
    "delete_project_domain_attributes",
    "delete_workflow_attributes",
    "get_active_launch_plan",
    "get_control_plane_version",
    "get_data",
    "get_description_entity",
    "get_domains",
    "get_download_artifact_signed_url",
    "get_download_signed_url",
    "get_dynamic_node_workflow",
    "get_execution",
    "get_execution_data",
    "get_execution_metrics",
    "get_launch_plan",
    "get_named_entity",
    "get_node_execution",
    "get_node_execution_data",
    "get_or_create_signal",
    "get_project",
    "get_project_attributes",
    "get_project_domain_attributes",
    "get_task",
    "get_task_execution",
    "get_task_execution_data",
    "get_upload_signed_url",
    "get_version",
    "get_workflow",
    "get_workflow_attributes",
    "list_active_launch_plans_paginated",
    "list_description_entities_paginated",
    "list_executions_paginated",
    "list_launch_plan_ids_paginated",
    "list_launch_plans_paginated",
    "list_matchable_attributes",
    "list_named_entities_paginated",
    "list_node_executions",
    "list_node_executions_for_task_paginated",
    "list_projects_paginated",
    "list_signals",
    "list_signals_paginated",
    "list_task_executions_paginated",
    "list_task_ids_paginated",
    "list_tasks_paginated",
    "list_workflow_ids_paginated",
    "list_workflows_paginated",
    "next_page_token",
    "recover_execution",
    "register_project",
    "relaunch_execution",
    "resolve_config",
    "set_signal",
    "terminate_execution",
    "to_entity_id",
    "to_execution_id",
    "to_named_entity_id",
    "to_node_execution_id",
    "to_sort",
    "to_task_execution_id",
    "update_execution",
    "update_launch_plan",
    "update_named_entity",
    "update_project",
    "update_project_attributes",
    "update_project_domain_attributes",
    "update_workflow_attributes",
]
