"""The asyncio twin of the friendly client, for triggers and other code running in an event loop.

:class:`AsyncFlyteClient` has the methods of :class:`~airflow_provider_flyte.clients.friendly.SynchronousFlyteClient`
with the same arguments, defaults and results, as coroutines; the ``iter_*`` helpers and
:meth:`~AsyncFlyteClient.paginate` return async iterators. See the sync client for the full description of each
method: both build their requests and parse their responses with the same functions
(:mod:`airflow_provider_flyte.clients._calls`), and both get retries, deadlines, auth and error mapping from the raw
layer, here :class:`~airflow_provider_flyte.clients.raw.RawAsyncFlyteClient` on a grpc.aio channel.

grpc.aio channels belong to the event loop they were created in, so create the client inside the loop that uses it.

Example:
    >>> async with AsyncFlyteClient("localhost:30080", insecure=True) as client:  # doctest: +SKIP
    ...     async for execution in client.iter_executions("flytesnacks", "development"):
    ...         print(execution.id.name, execution.closure.phase)
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.clients import _calls
from airflow_provider_flyte.clients._calls import (
    DEFAULT_ENTITY_CACHE_SIZE,
    DEFAULT_ITERATION_SORT,
    DEFAULT_PAGE_SIZE,
    Call,
    EntityCache,
    ExecutionIdentifierLike,
    IdentifierLike,
    ItemT,
    Missing,
    NamedEntityIdentifierLike,
    NodeExecutionIdentifierLike,
    Page,
    ResultT,
    SortLike,
    TaskExecutionIdentifierLike,
    resolve_config,
)
from airflow_provider_flyte.clients.filters import FilterSpec
from airflow_provider_flyte.clients.raw import RawAsyncFlyteClient

if TYPE_CHECKING:
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
    from flyteidl.core import identifier_pb2, metrics_pb2
    from flyteidl.service import dataproxy_pb2

    from airflow_provider_flyte.configuration import PlatformConfig

_ARTIFACT_TYPE_DECK = 1  # flyteidl.service.ArtifactType.ARTIFACT_TYPE_DECK


class AsyncFlyteClient:
    """Asyncio access to Flyte Admin's AdminService, SignalService and DataProxyService.

    Args:
        config: A :class:`~airflow_provider_flyte.configuration.PlatformConfig`, an endpoint ``"host:port"``, or
            ``None`` for :meth:`PlatformConfig.auto() <airflow_provider_flyte.configuration.PlatformConfig.auto>`.
        insecure: Plain-text gRPC. For an endpoint string it defaults to ``False``; for a config it overrides
            ``config.insecure`` when given.
        raw: Use this raw client (and its channel) instead of creating one; :meth:`close` then leaves it open.
        entity_cache_size: How many versioned tasks, workflows and launch plans to keep (``0`` disables the cache).
        **raw_options: Passed to :class:`RawAsyncFlyteClient` (``credentials``, ``options``, ``token_source``,
            ``retry_policy``...).

    Raises:
        FlyteInvalidInputException: when ``config`` is neither a PlatformConfig nor an endpoint string.
        RuntimeError: when created outside a running event loop (and no ``raw`` client is given).
    """

    def __init__(
        self,
        config: PlatformConfig | str | None = None,
        insecure: bool | None = None,
        *,
        raw: RawAsyncFlyteClient | None = None,
        entity_cache_size: int = DEFAULT_ENTITY_CACHE_SIZE,
        **raw_options: Any,
    ) -> None:
        self._cache = EntityCache(entity_cache_size)
        self._owns_raw = raw is None
        if raw is None:
            raw = RawAsyncFlyteClient(resolve_config(config, insecure), **raw_options)
        self._raw = raw

    @property
    def raw(self) -> RawAsyncFlyteClient:
        """The raw client: the intercepted grpc.aio stubs (``admin_service``...) this client awaits."""
        return self._raw

    @property
    def config(self) -> PlatformConfig:
        """The configuration of the raw client."""
        return self._raw.config

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self._raw.config.endpoint!r})"

    async def close(self) -> None:
        """Close the channels (unless the raw client was passed in) and drop the entity cache."""
        self._cache.clear()
        if self._owns_raw:
            await self._raw.close()

    async def __aenter__(self) -> AsyncFlyteClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def clear_entity_cache(self) -> None:
        """Forget the cached tasks, workflows and launch plans."""
        self._cache.clear()

    async def _run(self, call: Call[ResultT]) -> ResultT:
        cached = call.lookup(self._cache)
        if not isinstance(cached, Missing):
            return cached
        rpc = getattr(getattr(self._raw, call.service), call.method)
        return call.finish(await rpc(call.request), self._cache)

    # ------------------------------------------------------------------------------------------------ pagination

    async def paginate(
        self, list_page: Callable[..., Awaitable[Page[ItemT]]], /, *args: Any, **kwargs: Any
    ) -> AsyncIterator[ItemT]:
        """Yield every item of a paginated method, following ``next_token`` until it is ``""``.

        Args:
            list_page: A paginated method of this client, e.g. ``client.list_executions_paginated``.
            *args: Its positional arguments.
            **kwargs: Its keyword arguments; ``limit`` is the page size, ``token`` where to start.

        Raises:
            FlyteSystemException: when the server hands back the token it was sent (it would loop forever).
        """
        token = kwargs.pop("token", None) or ""
        name = getattr(list_page, "__name__", "list")
        while True:
            items, next_token = await list_page(*args, token=token, **kwargs)
            for item in items:
                yield item
            token = _calls.next_page_token(name, token, next_token)
            if not token:
                return

    def iter_tasks(
        self,
        identifier: NamedEntityIdentifierLike,
        page_size: int = DEFAULT_PAGE_SIZE,
        filters: FilterSpec = None,
        sort_by: SortLike = DEFAULT_ITERATION_SORT,
    ) -> AsyncIterator[task_pb2.Task]:
        """Every task version matching ``identifier`` (an empty name means every task), oldest first by default."""
        return self.paginate(self.list_tasks_paginated, identifier, limit=page_size, filters=filters, sort_by=sort_by)

    def iter_workflows(
        self,
        identifier: NamedEntityIdentifierLike,
        page_size: int = DEFAULT_PAGE_SIZE,
        filters: FilterSpec = None,
        sort_by: SortLike = DEFAULT_ITERATION_SORT,
    ) -> AsyncIterator[workflow_pb2.Workflow]:
        """Every workflow version matching ``identifier``, oldest first by default."""
        return self.paginate(
            self.list_workflows_paginated, identifier, limit=page_size, filters=filters, sort_by=sort_by
        )

    def iter_launch_plans(
        self,
        identifier: NamedEntityIdentifierLike,
        page_size: int = DEFAULT_PAGE_SIZE,
        filters: FilterSpec = None,
        sort_by: SortLike = DEFAULT_ITERATION_SORT,
    ) -> AsyncIterator[launch_plan_pb2.LaunchPlan]:
        """Every launch plan version matching ``identifier``, oldest first by default."""
        return self.paginate(
            self.list_launch_plans_paginated, identifier, limit=page_size, filters=filters, sort_by=sort_by
        )

    def iter_executions(
        self,
        project: str,
        domain: str,
        page_size: int = DEFAULT_PAGE_SIZE,
        filters: FilterSpec = None,
        sort_by: SortLike = DEFAULT_ITERATION_SORT,
    ) -> AsyncIterator[execution_pb2.Execution]:
        """Every execution of a project and domain matching ``filters``, oldest first by default."""
        return self.paginate(
            self.list_executions_paginated, project, domain, limit=page_size, filters=filters, sort_by=sort_by
        )

    def iter_node_executions(
        self,
        workflow_execution_identifier: ExecutionIdentifierLike,
        page_size: int = DEFAULT_PAGE_SIZE,
        filters: FilterSpec = None,
        sort_by: SortLike = DEFAULT_ITERATION_SORT,
        unique_parent_id: str | None = None,
    ) -> AsyncIterator[node_execution_pb2.NodeExecution]:
        """Every top-level node execution of an execution, or the children of ``unique_parent_id``."""
        return self.paginate(
            self.list_node_executions,
            workflow_execution_identifier,
            limit=page_size,
            filters=filters,
            sort_by=sort_by,
            unique_parent_id=unique_parent_id,
        )

    def iter_node_executions_for_task(
        self,
        task_execution_identifier: TaskExecutionIdentifierLike,
        page_size: int = DEFAULT_PAGE_SIZE,
        filters: FilterSpec = None,
        sort_by: SortLike = DEFAULT_ITERATION_SORT,
    ) -> AsyncIterator[node_execution_pb2.NodeExecution]:
        """Every node execution a (dynamic) task attempt launched."""
        return self.paginate(
            self.list_node_executions_for_task_paginated,
            task_execution_identifier,
            limit=page_size,
            filters=filters,
            sort_by=sort_by,
        )

    def iter_task_executions(
        self,
        node_execution_identifier: NodeExecutionIdentifierLike,
        page_size: int = DEFAULT_PAGE_SIZE,
        filters: FilterSpec = None,
        sort_by: SortLike = DEFAULT_ITERATION_SORT,
    ) -> AsyncIterator[task_execution_pb2.TaskExecution]:
        """Every task execution (attempt) of a node execution."""
        return self.paginate(
            self.list_task_executions_paginated,
            node_execution_identifier,
            limit=page_size,
            filters=filters,
            sort_by=sort_by,
        )

    def iter_projects(
        self, page_size: int = DEFAULT_PAGE_SIZE, filters: FilterSpec = None, sort_by: SortLike = None
    ) -> AsyncIterator[project_pb2.Project]:
        """Every project (Admin sorts by id unless ``sort_by`` says otherwise; archived ones need a filter)."""
        return self.paginate(self.list_projects_paginated, limit=page_size, filters=filters, sort_by=sort_by)

    def iter_signals(
        self,
        workflow_execution_identifier: ExecutionIdentifierLike,
        page_size: int = DEFAULT_PAGE_SIZE,
        filters: FilterSpec = None,
        sort_by: SortLike = DEFAULT_ITERATION_SORT,
    ) -> AsyncIterator[signal_pb2.Signal]:
        """Every signal of an execution."""
        return self.paginate(
            self.list_signals_paginated,
            workflow_execution_identifier,
            limit=page_size,
            filters=filters,
            sort_by=sort_by,
        )

    # ------------------------------------------------------------------------------------------------ tasks

    async def create_task(self, task_identifier: IdentifierLike, task_spec: Any) -> None:
        """Register a task version. Registering an identical task again raises FlyteEntityAlreadyExistsException."""
        await self._run(_calls.create_task(task_identifier, task_spec))

    async def list_task_ids_paginated(
        self,
        project: str,
        domain: str,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        sort_by: SortLike = None,
    ) -> Page[common_pb2.NamedEntityIdentifier]:
        """One page of task names (project, domain, name) in a project and domain."""
        return await self._run(_calls.list_task_ids_paginated(project, domain, limit, token, sort_by))

    async def list_tasks_paginated(
        self,
        identifier: NamedEntityIdentifierLike,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[task_pb2.Task]:
        """One page of task versions of ``identifier`` (every task of the project/domain when its name is empty)."""
        return await self._run(_calls.list_tasks_paginated(identifier, limit, token, filters, sort_by))

    async def get_task(self, id: IdentifierLike) -> task_pb2.Task:
        """The task ``id``; versioned ids are served from the client's cache after the first call."""
        return await self._run(_calls.get_task(id))

    # ------------------------------------------------------------------------------------------------ workflows

    async def create_workflow(self, workflow_identifier: IdentifierLike, workflow_spec: Any) -> None:
        """Register a workflow version (Admin compiles it against the registered tasks)."""
        await self._run(_calls.create_workflow(workflow_identifier, workflow_spec))

    async def list_workflow_ids_paginated(
        self,
        project: str,
        domain: str,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        sort_by: SortLike = None,
    ) -> Page[common_pb2.NamedEntityIdentifier]:
        """One page of workflow names in a project and domain."""
        return await self._run(_calls.list_workflow_ids_paginated(project, domain, limit, token, sort_by))

    async def list_workflows_paginated(
        self,
        identifier: NamedEntityIdentifierLike,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[workflow_pb2.Workflow]:
        """One page of workflow versions (Admin returns only each closure's interface in lists)."""
        return await self._run(_calls.list_workflows_paginated(identifier, limit, token, filters, sort_by))

    async def get_workflow(self, id: IdentifierLike) -> workflow_pb2.Workflow:
        """The workflow ``id`` with its compiled closure; versioned ids are cached."""
        return await self._run(_calls.get_workflow(id))

    # ------------------------------------------------------------------------------------------------ launch plans

    async def create_launch_plan(self, launch_plan_identifier: IdentifierLike, launch_plan_spec: Any) -> None:
        """Register a launch plan version (stored INACTIVE)."""
        await self._run(_calls.create_launch_plan(launch_plan_identifier, launch_plan_spec))

    async def get_launch_plan(self, id: IdentifierLike) -> launch_plan_pb2.LaunchPlan:
        """The launch plan ``id``; versioned ids are cached (activation through this client refreshes them)."""
        return await self._run(_calls.get_launch_plan(id))

    async def get_active_launch_plan(self, identifier: NamedEntityIdentifierLike) -> launch_plan_pb2.LaunchPlan:
        """The ACTIVE version of a named launch plan (never cached)."""
        return await self._run(_calls.get_active_launch_plan(identifier))

    async def list_launch_plan_ids_paginated(
        self,
        project: str,
        domain: str,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        sort_by: SortLike = None,
    ) -> Page[common_pb2.NamedEntityIdentifier]:
        """One page of launch plan names in a project and domain."""
        return await self._run(_calls.list_launch_plan_ids_paginated(project, domain, limit, token, sort_by))

    async def list_launch_plans_paginated(
        self,
        identifier: NamedEntityIdentifierLike,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[launch_plan_pb2.LaunchPlan]:
        """One page of launch plan versions."""
        return await self._run(_calls.list_launch_plans_paginated(identifier, limit, token, filters, sort_by))

    async def list_active_launch_plans_paginated(
        self,
        project: str,
        domain: str,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        sort_by: SortLike = None,
    ) -> Page[launch_plan_pb2.LaunchPlan]:
        """One page of the ACTIVE launch plans of a project and domain."""
        return await self._run(_calls.list_active_launch_plans_paginated(project, domain, limit, token, sort_by))

    async def update_launch_plan(self, id: IdentifierLike, state: int | str) -> None:
        """Set a launch plan version ACTIVE (deactivating the previously active one) or INACTIVE."""
        await self._run(_calls.update_launch_plan(id, state))

    # ------------------------------------------------------------------------------------------------ named entities

    async def update_named_entity(self, resource_type: int, id: NamedEntityIdentifierLike, metadata: Any) -> None:
        """Set the description and state shared by every version of a task, workflow or launch plan."""
        await self._run(_calls.update_named_entity(resource_type, id, metadata))

    async def get_named_entity(self, resource_type: int, id: NamedEntityIdentifierLike) -> common_pb2.NamedEntity:
        """A named entity with its metadata."""
        return await self._run(_calls.get_named_entity(resource_type, id))

    async def list_named_entities_paginated(
        self,
        resource_type: int,
        project: str,
        domain: str,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[common_pb2.NamedEntity]:
        """One page of the named entities of one resource type in a project and domain."""
        return await self._run(
            _calls.list_named_entities_paginated(resource_type, project, domain, limit, token, filters, sort_by)
        )

    # ------------------------------------------------------------------------------------------------ executions

    async def create_execution(
        self, project: str, domain: str, name: str | None, execution_spec: Any, inputs: Any
    ) -> identifier_pb2.WorkflowExecutionIdentifier:
        """Start an execution."""
        return await self._run(_calls.create_execution(project, domain, name, execution_spec, inputs))

    async def recover_execution(
        self, id: ExecutionIdentifierLike, name: str | None = None
    ) -> identifier_pb2.WorkflowExecutionIdentifier:
        """Start a new execution that reuses the successful nodes of ``id`` and reruns the others."""
        return await self._run(_calls.recover_execution(id, name))

    async def get_execution(self, id: ExecutionIdentifierLike) -> execution_pb2.Execution:
        """An execution with its closure (phase, timings, outputs or error)."""
        return await self._run(_calls.get_execution(id))

    async def get_execution_data(self, id: ExecutionIdentifierLike) -> execution_pb2.WorkflowExecutionGetDataResponse:
        """Inputs and outputs of an execution (inline ``full_*`` maps and/or signed URLs)."""
        return await self._run(_calls.get_execution_data(id))

    async def list_executions_paginated(
        self,
        project: str,
        domain: str,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[execution_pb2.Execution]:
        """One page of the executions of a project and domain (archived ones only with a ``state`` filter)."""
        return await self._run(_calls.list_executions_paginated(project, domain, limit, token, filters, sort_by))

    async def terminate_execution(self, id: ExecutionIdentifierLike, cause: str) -> None:
        """Abort a running execution, recording ``cause``."""
        await self._run(_calls.terminate_execution(id, cause))

    async def relaunch_execution(
        self, id: ExecutionIdentifierLike, name: str | None = None, overwrite_cache: bool = False
    ) -> identifier_pb2.WorkflowExecutionIdentifier:
        """Start a new execution with the spec and inputs of ``id``, named ``name`` (generated when ``None``)."""
        return await self._run(_calls.relaunch_execution(id, name, overwrite_cache))

    async def update_execution(self, id: ExecutionIdentifierLike, state: int | str) -> None:
        """Archive (``EXECUTION_ARCHIVED``) or restore (``EXECUTION_ACTIVE``) an execution."""
        await self._run(_calls.update_execution(id, state))

    async def get_execution_metrics(self, id: ExecutionIdentifierLike, depth: int = 10) -> metrics_pb2.Span:
        """The timing span tree of an execution, ``depth`` levels deep."""
        return await self._run(_calls.get_execution_metrics(id, depth))

    # ------------------------------------------------------------------------------------------------ node executions

    async def get_node_execution(
        self, node_execution_identifier: NodeExecutionIdentifierLike
    ) -> node_execution_pb2.NodeExecution:
        """One node execution."""
        return await self._run(_calls.get_node_execution(node_execution_identifier))

    async def get_node_execution_data(
        self, node_execution_identifier: NodeExecutionIdentifierLike
    ) -> node_execution_pb2.NodeExecutionGetDataResponse:
        """Inputs, outputs and flyte:// URLs of a node execution (and its dynamic workflow, if any)."""
        return await self._run(_calls.get_node_execution_data(node_execution_identifier))

    async def get_dynamic_node_workflow(
        self, node_execution_identifier: NodeExecutionIdentifierLike
    ) -> node_execution_pb2.DynamicNodeWorkflowResponse:
        """The workflow a dynamic node compiled at run time."""
        return await self._run(_calls.get_dynamic_node_workflow(node_execution_identifier))

    async def list_node_executions(
        self,
        workflow_execution_identifier: ExecutionIdentifierLike,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
        unique_parent_id: str | None = None,
    ) -> Page[node_execution_pb2.NodeExecution]:
        """One page of node executions of an execution."""
        return await self._run(
            _calls.list_node_executions(workflow_execution_identifier, limit, token, filters, sort_by, unique_parent_id)
        )

    async def list_node_executions_for_task_paginated(
        self,
        task_execution_identifier: TaskExecutionIdentifierLike,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[node_execution_pb2.NodeExecution]:
        """One page of the node executions a (dynamic) task attempt launched."""
        return await self._run(
            _calls.list_node_executions_for_task_paginated(task_execution_identifier, limit, token, filters, sort_by)
        )

    # ------------------------------------------------------------------------------------------------ task executions

    async def get_task_execution(self, id: TaskExecutionIdentifierLike) -> task_execution_pb2.TaskExecution:
        """One task execution (attempt)."""
        return await self._run(_calls.get_task_execution(id))

    async def get_task_execution_data(
        self, task_execution_identifier: TaskExecutionIdentifierLike
    ) -> task_execution_pb2.TaskExecutionGetDataResponse:
        """Inputs, outputs and flyte:// URLs of a task execution."""
        return await self._run(_calls.get_task_execution_data(task_execution_identifier))

    async def list_task_executions_paginated(
        self,
        node_execution_identifier: NodeExecutionIdentifierLike,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[task_execution_pb2.TaskExecution]:
        """One page of the task executions (attempts) of a node execution."""
        return await self._run(
            _calls.list_task_executions_paginated(node_execution_identifier, limit, token, filters, sort_by)
        )

    # ------------------------------------------------------------------------------------------------ projects

    async def register_project(self, project: Any) -> None:
        """Register a ``flyteidl.admin.Project`` (its ``id`` and ``name`` are required by Admin)."""
        await self._run(_calls.register_project(project))

    async def update_project(self, project: Any) -> None:
        """Update a registered project's name, description, labels or state."""
        await self._run(_calls.update_project(project))

    async def get_project(self, id: str) -> project_pb2.Project:
        """The project ``id``, with the deployment's domains."""
        return await self._run(_calls.get_project(id))

    async def list_projects_paginated(
        self,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[project_pb2.Project]:
        """One page of projects (archived ones are hidden unless a filter is given)."""
        return await self._run(_calls.list_projects_paginated(limit, token, filters, sort_by))

    async def get_domains(self) -> list[project_pb2.Domain]:
        """The deployment's domains, in configuration order."""
        return await self._run(_calls.get_domains())

    # ------------------------------------------------------------------------------------------------ attributes

    async def update_project_domain_attributes(self, project: str, domain: str, matching_attributes: Any) -> None:
        """Set matchable attributes (a ``flyteidl.admin.MatchingAttributes``) for a project and domain."""
        await self._run(_calls.update_project_domain_attributes(project, domain, matching_attributes))

    async def update_workflow_attributes(
        self, project: str, domain: str, workflow: str, matching_attributes: Any
    ) -> None:
        """Set matchable attributes for one workflow of a project and domain."""
        await self._run(_calls.update_workflow_attributes(project, domain, workflow, matching_attributes))

    async def update_project_attributes(self, project: str, matching_attributes: Any) -> None:
        """Set matchable attributes for every domain of a project."""
        await self._run(_calls.update_project_attributes(project, matching_attributes))

    async def get_project_domain_attributes(
        self, project: str, domain: str, resource_type: int
    ) -> project_domain_attributes_pb2.ProjectDomainAttributesGetResponse:
        """The most specific attributes of ``resource_type`` (a ``MatchableResource``) for a project and domain."""
        return await self._run(_calls.get_project_domain_attributes(project, domain, resource_type))

    async def get_workflow_attributes(
        self, project: str, domain: str, workflow: str, resource_type: int
    ) -> workflow_attributes_pb2.WorkflowAttributesGetResponse:
        """The most specific attributes of ``resource_type`` for a workflow."""
        return await self._run(_calls.get_workflow_attributes(project, domain, workflow, resource_type))

    async def get_project_attributes(
        self, project: str, resource_type: int
    ) -> project_attributes_pb2.ProjectAttributesGetResponse:
        """The project-level attributes of ``resource_type``."""
        return await self._run(_calls.get_project_attributes(project, resource_type))

    async def list_matchable_attributes(
        self, resource_type: int
    ) -> matchable_resource_pb2.ListMatchableAttributesResponse:
        """Every configuration of ``resource_type`` at every level, most specific first."""
        return await self._run(_calls.list_matchable_attributes(resource_type))

    # ------------------------------------------------------------------------------------------------ data proxy

    async def get_upload_signed_url(
        self,
        project: str,
        domain: str,
        content_md5: bytes | None = None,
        filename: str | None = None,
        expires_in: datetime.timedelta | None = None,
        filename_root: str | None = None,
        add_content_md5_metadata: bool = True,
    ) -> dataproxy_pb2.CreateUploadLocationResponse:
        """A signed URL to PUT a file into the project's storage."""
        return await self._run(
            _calls.get_upload_signed_url(
                project, domain, content_md5, filename, expires_in, filename_root, add_content_md5_metadata
            )
        )

    async def get_download_signed_url(
        self, native_url: str, expires_in: datetime.timedelta | None = None
    ) -> dataproxy_pb2.CreateDownloadLocationResponse:
        """A signed URL to GET the object at a storage URL (``s3://...``)."""
        return await self._run(_calls.get_download_signed_url(native_url, expires_in))

    async def get_data(self, flyte_uri: str) -> dataproxy_pb2.GetDataResponse:
        """Resolve a ``flyte://v1/...`` URL to a literal map, a literal or pre-signed URLs."""
        return await self._run(_calls.get_data(flyte_uri))

    async def get_download_artifact_signed_url(
        self,
        node_id: str,
        project: str,
        domain: str,
        name: str,
        artifact_type: int = _ARTIFACT_TYPE_DECK,
        expires_in: datetime.timedelta | None = None,
    ) -> dataproxy_pb2.CreateDownloadLinkResponse:
        """Signed URLs for an artifact (the deck) of node ``node_id`` of execution ``project:domain:name``."""
        return await self._run(
            _calls.get_download_artifact_signed_url(node_id, project, domain, name, artifact_type, expires_in)
        )

    # ------------------------------------------------------------------------------------------------ version

    async def get_control_plane_version(self) -> str:
        """Flyte Admin's version string."""
        return await self._run(_calls.get_control_plane_version())

    async def get_version(self) -> version_pb2.GetVersionResponse:
        """Flyte Admin's full version response (version, build, build time)."""
        return await self._run(_calls.get_version())

    # ------------------------------------------------------------------------------------------------ signals

    async def list_signals(self, signal_list_request: Any) -> signal_pb2.SignalList:
        """One page of signals for a ready ``flyteidl.admin.SignalListRequest`` (flytekit's form)."""
        return await self._run(_calls.list_signals(signal_list_request))

    async def list_signals_paginated(
        self,
        workflow_execution_identifier: ExecutionIdentifierLike,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[signal_pb2.Signal]:
        """One page of the signals of an execution."""
        return await self._run(
            _calls.list_signals_paginated(workflow_execution_identifier, limit, token, filters, sort_by)
        )

    async def set_signal(self, signal_set_request: Any) -> signal_pb2.SignalSetResponse:
        """Set a signal's value with a ``flyteidl.admin.SignalSetRequest`` (a later set overwrites)."""
        return await self._run(_calls.set_signal(signal_set_request))

    async def get_or_create_signal(self, signal_get_or_create_request: Any) -> signal_pb2.Signal:
        """Get a signal, creating it unset with the request's type if it does not exist."""
        return await self._run(_calls.get_or_create_signal(signal_get_or_create_request))
