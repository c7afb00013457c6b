"""The friendly synchronous Flyte Admin client, with flytekit's method names and argument names.

:class:`SynchronousFlyteClient` mirrors ``flytekit.clients.friendly.SynchronousFlyteClient``: the same methods,
arguments and defaults (``limit=100``...), paginated methods returning ``(items, next_token)`` with ``""`` after the
last page. It differs on purpose in three ways:

* it takes and returns ``flyteidl`` messages (no flytekit models), and accepts this package's identifier dataclasses,
  flytekit models and identifier strings wherever an id is expected;
* it adds iterators that follow page tokens (:meth:`~SynchronousFlyteClient.iter_executions`,
  :meth:`~SynchronousFlyteClient.paginate`...) and a few RPCs flytekit's friendly client lacks (``get_project``,
  ``get_named_entity``, ``update_execution``, signals by execution...);
* ``get_task``, ``get_workflow`` and ``get_launch_plan`` keep a bounded per-client cache of fully versioned entities
  instead of flytekit's unbounded ``lru_cache`` on methods, which also kept every client alive.

Requests are built and responses parsed in :mod:`airflow_provider_flyte.clients._calls`, shared with the asyncio
twin :class:`~airflow_provider_flyte.clients.aio.AsyncFlyteClient`; retries, deadlines, auth and error mapping come
from the raw client :class:`~airflow_provider_flyte.clients.raw.RawSynchronousFlyteClient`. Failed RPCs raise the
:mod:`airflow_provider_flyte.exceptions` family (``FlyteEntityNotExistException`` for NOT_FOUND...).

Example:
    >>> with SynchronousFlyteClient("localhost:30080", insecure=True) as client:  # doctest: +SKIP
    ...     for execution in client.iter_executions("flytesnacks", "development", filters=Equal("phase", "FAILED")):
    ...         print(execution.id.name)
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
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
from airflow_provider_flyte.clients.raw import RawSynchronousFlyteClient

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


class SynchronousFlyteClient:
    """Pythonic access to Flyte Admin's AdminService, SignalService and DataProxyService.

    Args:
        config: A :class:`~airflow_provider_flyte.configuration.PlatformConfig`, an endpoint ``"host:port"``, or
            ``None`` for :meth:`PlatformConfig.auto() <airflow_provider_flyte.configuration.PlatformConfig.auto>`.
        insecure: Plain-text gRPC. For an endpoint string it defaults to ``False``; for a config it overrides
            ``config.insecure`` when given.
        raw: Use this raw client (and its channel) instead of creating one; :meth:`close` then leaves it open.
        entity_cache_size: How many versioned tasks, workflows and launch plans to keep (``0`` disables the cache).
        **raw_options: Passed to :class:`RawSynchronousFlyteClient` (``credentials``, ``options``,
            ``token_source``, ``retry_policy``...).

    Raises:
        FlyteInvalidInputException: when ``config`` is neither a PlatformConfig nor an endpoint string.
    """

    def __init__(
        self,
        config: PlatformConfig | str | None = None,
        insecure: bool | None = None,
        *,
        raw: RawSynchronousFlyteClient | None = None,
        entity_cache_size: int = DEFAULT_ENTITY_CACHE_SIZE,
        **raw_options: Any,
    ) -> None:
        self._cache = EntityCache(entity_cache_size)
        self._owns_raw = raw is None
        if raw is None:
            raw = RawSynchronousFlyteClient(resolve_config(config, insecure), **raw_options)
        self._raw = raw

    @property
    def raw(self) -> RawSynchronousFlyteClient:
        """The raw client: the intercepted stubs (``admin_service``...) this client calls."""
        return self._raw

    @property
    def config(self) -> PlatformConfig:
        """The configuration of the raw client."""
        return self._raw.config

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self._raw.config.endpoint!r})"

    def close(self) -> None:
        """Close the channel (unless the raw client was passed in) and drop the entity cache."""
        self._cache.clear()
        if self._owns_raw:
            self._raw.close()

    def __enter__(self) -> SynchronousFlyteClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def clear_entity_cache(self) -> None:
        """Forget the cached tasks, workflows and launch plans."""
        self._cache.clear()

    def _run(self, call: Call[ResultT]) -> ResultT:
        cached = call.lookup(self._cache)
        if not isinstance(cached, Missing):
            return cached
        rpc = getattr(getattr(self._raw, call.service), call.method)
        return call.finish(rpc(call.request), self._cache)

    # ------------------------------------------------------------------------------------------------ pagination

    def paginate(self, list_page: Callable[..., Page[ItemT]], /, *args: Any, **kwargs: Any) -> Iterator[ItemT]:
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
            items, next_token = list_page(*args, token=token, **kwargs)
            yield from items
            token = _calls.next_page_token(name, token, next_token)
            if not token:
                return

    def iter_tasks(
        self,
        identifier: NamedEntityIdentifierLike,
        page_size: int = DEFAULT_PAGE_SIZE,
        filters: FilterSpec = None,
        sort_by: SortLike = DEFAULT_ITERATION_SORT,
    ) -> Iterator[task_pb2.Task]:
        """Every task version matching ``identifier`` (an empty name means every task), oldest first by default."""
        return self.paginate(self.list_tasks_paginated, identifier, limit=page_size, filters=filters, sort_by=sort_by)

    def iter_workflows(
        self,
        identifier: NamedEntityIdentifierLike,
        page_size: int = DEFAULT_PAGE_SIZE,
        filters: FilterSpec = None,
        sort_by: SortLike = DEFAULT_ITERATION_SORT,
    ) -> Iterator[workflow_pb2.Workflow]:
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
    ) -> Iterator[launch_plan_pb2.LaunchPlan]:
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
    ) -> Iterator[execution_pb2.Execution]:
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
    ) -> Iterator[node_execution_pb2.NodeExecution]:
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
    ) -> Iterator[node_execution_pb2.NodeExecution]:
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
    ) -> Iterator[task_execution_pb2.TaskExecution]:
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
    ) -> Iterator[project_pb2.Project]:
        """Every project (Admin sorts by id unless ``sort_by`` says otherwise; archived ones need a filter)."""
        return self.paginate(self.list_projects_paginated, limit=page_size, filters=filters, sort_by=sort_by)

    def iter_signals(
        self,
        workflow_execution_identifier: ExecutionIdentifierLike,
        page_size: int = DEFAULT_PAGE_SIZE,
        filters: FilterSpec = None,
        sort_by: SortLike = DEFAULT_ITERATION_SORT,
    ) -> Iterator[signal_pb2.Signal]:
        """Every signal of an execution."""
        return self.paginate(
            self.list_signals_paginated,
            workflow_execution_identifier,
            limit=page_size,
            filters=filters,
            sort_by=sort_by,
        )

    # ------------------------------------------------------------------------------------------------ tasks

    def create_task(self, task_identifier: IdentifierLike, task_spec: Any) -> None:
        """Register a task version. Registering an identical task again raises FlyteEntityAlreadyExistsException.

        Args:
            task_identifier: The task id; an unset ``resource_type`` is filled in as TASK.
            task_spec: A ``flyteidl.admin.TaskSpec`` (or a model converting to one).
        """
        self._run(_calls.create_task(task_identifier, task_spec))

    def list_task_ids_paginated(
        self,
        project: str,
        domain: str,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        sort_by: SortLike = None,
    ) -> Page[common_pb2.NamedEntityIdentifier]:
        """One page of task names (project, domain, name) in a project and domain."""
        return self._run(_calls.list_task_ids_paginated(project, domain, limit, token, sort_by))

    def list_tasks_paginated(
        self,
        identifier: NamedEntityIdentifierLike,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[task_pb2.Task]:
        """One page of task versions of ``identifier`` (every task of the project/domain when its name is empty).

        Args:
            identifier: A named entity id (project, domain, optional name).
            limit: Page size, at least 1.
            token: The token of the page to read (``None`` or ``""`` for the first).
            filters: Admin filters (see :mod:`~airflow_provider_flyte.clients.filters`).
            sort_by: Sort order; unsorted when ``None``.

        Returns:
            ``(tasks, next_token)``, ``next_token`` being ``""`` after the last page.
        """
        return self._run(_calls.list_tasks_paginated(identifier, limit, token, filters, sort_by))

    def get_task(self, id: IdentifierLike) -> task_pb2.Task:
        """The task ``id``; versioned ids are served from the client's cache after the first call."""
        return self._run(_calls.get_task(id))

    # ------------------------------------------------------------------------------------------------ workflows

    def create_workflow(self, workflow_identifier: IdentifierLike, workflow_spec: Any) -> None:
        """Register a workflow version (Admin compiles it against the registered tasks).

        Args:
            workflow_identifier: The workflow id; an unset ``resource_type`` is filled in as WORKFLOW.
            workflow_spec: A ``flyteidl.admin.WorkflowSpec``.
        """
        self._run(_calls.create_workflow(workflow_identifier, workflow_spec))

    def list_workflow_ids_paginated(
        self,
        project: str,
        domain: str,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        sort_by: SortLike = None,
    ) -> Page[common_pb2.NamedEntityIdentifier]:
        """One page of workflow names in a project and domain."""
        return self._run(_calls.list_workflow_ids_paginated(project, domain, limit, token, sort_by))

    def list_workflows_paginated(
        self,
        identifier: NamedEntityIdentifierLike,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[workflow_pb2.Workflow]:
        """One page of workflow versions (Admin returns only each closure's interface in lists)."""
        return self._run(_calls.list_workflows_paginated(identifier, limit, token, filters, sort_by))

    def get_workflow(self, id: IdentifierLike) -> workflow_pb2.Workflow:
        """The workflow ``id`` with its compiled closure; versioned ids are cached."""
        return self._run(_calls.get_workflow(id))

    # ------------------------------------------------------------------------------------------------ launch plans

    def create_launch_plan(self, launch_plan_identifier: IdentifierLike, launch_plan_spec: Any) -> None:
        """Register a launch plan version (stored INACTIVE).

        Args:
            launch_plan_identifier: The launch plan id; an unset ``resource_type`` is filled in as LAUNCH_PLAN.
            launch_plan_spec: A ``flyteidl.admin.LaunchPlanSpec``.
        """
        self._run(_calls.create_launch_plan(launch_plan_identifier, launch_plan_spec))

    def get_launch_plan(self, id: IdentifierLike) -> launch_plan_pb2.LaunchPlan:
        """The launch plan ``id``; versioned ids are cached (activation through this client refreshes them)."""
        return self._run(_calls.get_launch_plan(id))

    def get_active_launch_plan(self, identifier: NamedEntityIdentifierLike) -> launch_plan_pb2.LaunchPlan:
        """The ACTIVE version of a named launch plan (never cached)."""
        return self._run(_calls.get_active_launch_plan(identifier))

    def list_launch_plan_ids_paginated(
        self,
        project: str,
        domain: str,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        sort_by: SortLike = None,
    ) -> Page[common_pb2.NamedEntityIdentifier]:
        """One page of launch plan names in a project and domain."""
        return self._run(_calls.list_launch_plan_ids_paginated(project, domain, limit, token, sort_by))

    def list_launch_plans_paginated(
        self,
        identifier: NamedEntityIdentifierLike,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[launch_plan_pb2.LaunchPlan]:
        """One page of launch plan versions."""
        return self._run(_calls.list_launch_plans_paginated(identifier, limit, token, filters, sort_by))

    def list_active_launch_plans_paginated(
        self,
        project: str,
        domain: str,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        sort_by: SortLike = None,
    ) -> Page[launch_plan_pb2.LaunchPlan]:
        """One page of the ACTIVE launch plans of a project and domain."""
        return self._run(_calls.list_active_launch_plans_paginated(project, domain, limit, token, sort_by))

    def update_launch_plan(self, id: IdentifierLike, state: int | str) -> None:
        """Set a launch plan version ACTIVE (deactivating the previously active one) or INACTIVE.

        Args:
            id: The launch plan version.
            state: ``launch_plan_pb2.ACTIVE`` / ``INACTIVE`` or their names.
        """
        self._run(_calls.update_launch_plan(id, state))

    # ------------------------------------------------------------------------------------------------ named entities

    def update_named_entity(self, resource_type: int, id: NamedEntityIdentifierLike, metadata: Any) -> None:
        """Set the description and state shared by every version of a task, workflow or launch plan.

        Args:
            resource_type: ``ResourceType`` number or name (``"WORKFLOW"``).
            id: The named entity.
            metadata: A ``flyteidl.admin.NamedEntityMetadata``.
        """
        self._run(_calls.update_named_entity(resource_type, id, metadata))

    def get_named_entity(self, resource_type: int, id: NamedEntityIdentifierLike) -> common_pb2.NamedEntity:
        """A named entity with its metadata."""
        return self._run(_calls.get_named_entity(resource_type, id))

    def list_named_entities_paginated(
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
        return self._run(
            _calls.list_named_entities_paginated(resource_type, project, domain, limit, token, filters, sort_by)
        )

    # ------------------------------------------------------------------------------------------------ executions

    def create_execution(
        self, project: str, domain: str, name: str | None, execution_spec: Any, inputs: Any
    ) -> identifier_pb2.WorkflowExecutionIdentifier:
        """Start an execution.

        Args:
            project: Project of the execution.
            domain: Domain of the execution.
            name: The execution name; ``None`` lets Admin generate one. A name makes retries safe: ALREADY_EXISTS
                after a retried attempt means the execution is this call's own.
            execution_spec: A ``flyteidl.admin.ExecutionSpec``.
            inputs: A ``flyteidl.core.LiteralMap`` (``None`` for no inputs).

        Returns:
            The id of the new execution.
        """
        return self._run(_calls.create_execution(project, domain, name, execution_spec, inputs))

    def recover_execution(
        self, id: ExecutionIdentifierLike, name: str | None = None
    ) -> identifier_pb2.WorkflowExecutionIdentifier:
        """Start a new execution that reuses the successful nodes of ``id`` and reruns the others."""
        return self._run(_calls.recover_execution(id, name))

    def get_execution(self, id: ExecutionIdentifierLike) -> execution_pb2.Execution:
        """An execution with its closure (phase, timings, outputs or error)."""
        return self._run(_calls.get_execution(id))

    def get_execution_data(self, id: ExecutionIdentifierLike) -> execution_pb2.WorkflowExecutionGetDataResponse:
        """Inputs and outputs of an execution (inline ``full_*`` maps and/or signed URLs)."""
        return self._run(_calls.get_execution_data(id))

    def list_executions_paginated(
        self,
        project: str,
        domain: str,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[execution_pb2.Execution]:
        """One page of the executions of a project and domain (archived ones only with a ``state`` filter)."""
        return self._run(_calls.list_executions_paginated(project, domain, limit, token, filters, sort_by))

    def terminate_execution(self, id: ExecutionIdentifierLike, cause: str) -> None:
        """Abort a running execution, recording ``cause``.

        Raises:
            FlyteFailedPreconditionException: when the execution already finished.
        """
        self._run(_calls.terminate_execution(id, cause))

    def relaunch_execution(
        self, id: ExecutionIdentifierLike, name: str | None = None, overwrite_cache: bool = False
    ) -> identifier_pb2.WorkflowExecutionIdentifier:
        """Start a new execution with the spec and inputs of ``id``, named ``name`` (generated when ``None``)."""
        return self._run(_calls.relaunch_execution(id, name, overwrite_cache))

    def update_execution(self, id: ExecutionIdentifierLike, state: int | str) -> None:
        """Archive (``EXECUTION_ARCHIVED``) or restore (``EXECUTION_ACTIVE``) an execution."""
        self._run(_calls.update_execution(id, state))

    def get_execution_metrics(self, id: ExecutionIdentifierLike, depth: int = 10) -> metrics_pb2.Span:
        """The timing span tree of an execution, ``depth`` levels deep."""
        return self._run(_calls.get_execution_metrics(id, depth))

    # ------------------------------------------------------------------------------------------------ node executions

    def get_node_execution(
        self, node_execution_identifier: NodeExecutionIdentifierLike
    ) -> node_execution_pb2.NodeExecution:
        """One node execution."""
        return self._run(_calls.get_node_execution(node_execution_identifier))

    def get_node_execution_data(
        self, node_execution_identifier: NodeExecutionIdentifierLike
    ) -> node_execution_pb2.NodeExecutionGetDataResponse:
        """Inputs, outputs and flyte:// URLs of a node execution (and its dynamic workflow, if any)."""
        return self._run(_calls.get_node_execution_data(node_execution_identifier))

    def get_dynamic_node_workflow(
        self, node_execution_identifier: NodeExecutionIdentifierLike
    ) -> node_execution_pb2.DynamicNodeWorkflowResponse:
        """The workflow a dynamic node compiled at run time."""
        return self._run(_calls.get_dynamic_node_workflow(node_execution_identifier))

    def list_node_executions(
        self,
        workflow_execution_identifier: ExecutionIdentifierLike,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
        unique_parent_id: str | None = None,
    ) -> Page[node_execution_pb2.NodeExecution]:
        """One page of node executions of an execution.

        Args:
            workflow_execution_identifier: The execution.
            limit: Page size, at least 1.
            token: The token of the page to read.
            filters: Admin filters.
            sort_by: Sort order; unsorted when ``None``.
            unique_parent_id: List the children of this node (a sub-workflow, dynamic or branch node) instead of
                the top-level nodes.
        """
        return self._run(
            _calls.list_node_executions(workflow_execution_identifier, limit, token, filters, sort_by, unique_parent_id)
        )

    def list_node_executions_for_task_paginated(
        self,
        task_execution_identifier: TaskExecutionIdentifierLike,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[node_execution_pb2.NodeExecution]:
        """One page of the node executions a (dynamic) task attempt launched."""
        return self._run(
            _calls.list_node_executions_for_task_paginated(task_execution_identifier, limit, token, filters, sort_by)
        )

    # ------------------------------------------------------------------------------------------------ task executions

    def get_task_execution(self, id: TaskExecutionIdentifierLike) -> task_execution_pb2.TaskExecution:
        """One task execution (attempt)."""
        return self._run(_calls.get_task_execution(id))

    def get_task_execution_data(
        self, task_execution_identifier: TaskExecutionIdentifierLike
    ) -> task_execution_pb2.TaskExecutionGetDataResponse:
        """Inputs, outputs and flyte:// URLs of a task execution."""
        return self._run(_calls.get_task_execution_data(task_execution_identifier))

    def list_task_executions_paginated(
        self,
        node_execution_identifier: NodeExecutionIdentifierLike,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[task_execution_pb2.TaskExecution]:
        """One page of the task executions (attempts) of a node execution."""
        return self._run(
            _calls.list_task_executions_paginated(node_execution_identifier, limit, token, filters, sort_by)
        )

    # ------------------------------------------------------------------------------------------------ projects

    def register_project(self, project: Any) -> None:
        """Register a ``flyteidl.admin.Project`` (its ``id`` and ``name`` are required by Admin)."""
        self._run(_calls.register_project(project))

    def update_project(self, project: Any) -> None:
        """Update a registered project's name, description, labels or state."""
        self._run(_calls.update_project(project))

    def get_project(self, id: str) -> project_pb2.Project:
        """The project ``id``, with the deployment's domains."""
        return self._run(_calls.get_project(id))

    def list_projects_paginated(
        self,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[project_pb2.Project]:
        """One page of projects (archived ones are hidden unless a filter is given)."""
        return self._run(_calls.list_projects_paginated(limit, token, filters, sort_by))

    def get_domains(self) -> list[project_pb2.Domain]:
        """The deployment's domains, in configuration order."""
        return self._run(_calls.get_domains())

    # ------------------------------------------------------------------------------------------------ attributes

    def update_project_domain_attributes(self, project: str, domain: str, matching_attributes: Any) -> None:
        """Set matchable attributes (a ``flyteidl.admin.MatchingAttributes``) for a project and domain."""
        self._run(_calls.update_project_domain_attributes(project, domain, matching_attributes))

    def update_workflow_attributes(self, project: str, domain: str, workflow: str, matching_attributes: Any) -> None:
        """Set matchable attributes for one workflow of a project and domain."""
        self._run(_calls.update_workflow_attributes(project, domain, workflow, matching_attributes))

    def update_project_attributes(self, project: str, matching_attributes: Any) -> None:
        """Set matchable attributes for every domain of a project."""
        self._run(_calls.update_project_attributes(project, matching_attributes))

    def get_project_domain_attributes(
        self, project: str, domain: str, resource_type: int
    ) -> project_domain_attributes_pb2.ProjectDomainAttributesGetResponse:
        """The most specific attributes of ``resource_type`` (a ``MatchableResource``) for a project and domain."""
        return self._run(_calls.get_project_domain_attributes(project, domain, resource_type))

    def get_workflow_attributes(
        self, project: str, domain: str, workflow: str, resource_type: int
    ) -> workflow_attributes_pb2.WorkflowAttributesGetResponse:
        """The most specific attributes of ``resource_type`` for a workflow."""
        return self._run(_calls.get_workflow_attributes(project, domain, workflow, resource_type))

    def get_project_attributes(
        self, project: str, resource_type: int
    ) -> project_attributes_pb2.ProjectAttributesGetResponse:
        """The project-level attributes of ``resource_type``."""
        return self._run(_calls.get_project_attributes(project, resource_type))

    def list_matchable_attributes(self, resource_type: int) -> matchable_resource_pb2.ListMatchableAttributesResponse:
        """Every configuration of ``resource_type`` at every level, most specific first."""
        return self._run(_calls.list_matchable_attributes(resource_type))

    # ------------------------------------------------------------------------------------------------ data proxy

    def get_upload_signed_url(
        self,
        project: str,
        domain: str,
        content_md5: bytes | None = None,
        filename: str | None = None,
        expires_in: datetime.timedelta | None = None,
        filename_root: str | None = None,
        add_content_md5_metadata: bool = True,
    ) -> dataproxy_pb2.CreateUploadLocationResponse:
        """A signed URL to PUT a file into the project's storage.

        Args:
            project: Project owning the upload.
            domain: Domain owning the upload.
            content_md5: The raw md5 digest of the content; the URL only accepts that content.
            filename: Name of the file at the location (random when ``None``).
            expires_in: Lifetime of the URL (Admin's maximum when ``None``).
            filename_root: Folder grouping several uploads (otherwise derived from ``content_md5``).
            add_content_md5_metadata: Ask the store to record the md5 as object metadata.

        Raises:
            FlyteInvalidInputException: when neither ``content_md5`` nor ``filename_root`` is given.
        """
        return self._run(
            _calls.get_upload_signed_url(
                project, domain, content_md5, filename, expires_in, filename_root, add_content_md5_metadata
            )
        )

    def get_download_signed_url(
        self, native_url: str, expires_in: datetime.timedelta | None = None
    ) -> dataproxy_pb2.CreateDownloadLocationResponse:
        """A signed URL to GET the object at a storage URL (``s3://...``)."""
        return self._run(_calls.get_download_signed_url(native_url, expires_in))

    def get_data(self, flyte_uri: str) -> dataproxy_pb2.GetDataResponse:
        """Resolve a ``flyte://v1/...`` URL to a literal map, a literal or pre-signed URLs."""
        return self._run(_calls.get_data(flyte_uri))

    def get_download_artifact_signed_url(
        self,
        node_id: str,
        project: str,
        domain: str,
        name: str,
        artifact_type: int = _ARTIFACT_TYPE_DECK,
        expires_in: datetime.timedelta | None = None,
    ) -> dataproxy_pb2.CreateDownloadLinkResponse:
        """Signed URLs for an artifact (the deck) of node ``node_id`` of execution ``project:domain:name``."""
        return self._run(
            _calls.get_download_artifact_signed_url(node_id, project, domain, name, artifact_type, expires_in)
        )

    # ------------------------------------------------------------------------------------------------ version

    def get_control_plane_version(self) -> str:
        """Flyte Admin's version string."""
        return self._run(_calls.get_control_plane_version())

    def get_version(self) -> version_pb2.GetVersionResponse:
        """Flyte Admin's full version response (version, build, build time)."""
        return self._run(_calls.get_version())

    # ------------------------------------------------------------------------------------------------ signals

    def list_signals(self, signal_list_request: Any) -> signal_pb2.SignalList:
        """One page of signals for a ready ``flyteidl.admin.SignalListRequest`` (flytekit's form)."""
        return self._run(_calls.list_signals(signal_list_request))

    def list_signals_paginated(
        self,
        workflow_execution_identifier: ExecutionIdentifierLike,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[signal_pb2.Signal]:
        """One page of the signals of an execution."""
        return self._run(_calls.list_signals_paginated(workflow_execution_identifier, limit, token, filters, sort_by))

    def set_signal(self, signal_set_request: Any) -> signal_pb2.SignalSetResponse:
        """Set a signal's value with a ``flyteidl.admin.SignalSetRequest`` (a later set overwrites)."""
        return self._run(_calls.set_signal(signal_set_request))

    def get_or_create_signal(self, signal_get_or_create_request: Any) -> signal_pb2.Signal:
        """Get a signal, creating it unset with the request's type if it does not exist."""
        return self._run(_calls.get_or_create_signal(signal_get_or_create_request))
