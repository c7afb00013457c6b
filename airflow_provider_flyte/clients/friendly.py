"""The friendly synchronous Flyte Admin client, with flytekit's method names and argument names.

:class:`SynchronousFlyteClient` mirrors ``flytekit.clients.friendly.SynchronousFlyteClient``: the same methods,
arguments and defaults (``limit=100``...), paginated methods returning ``(items, next_token)`` with ``""`` after the
last page. It differs on purpose in three ways:

* it takes and returns ``flyteidl`` messages (no flytekit models), and accepts this package's identifier dataclasses,
  flytekit models and identifier strings wherever an id is expected;
* it adds iterators that follow page tokens (:meth:`~SynchronousFlyteClient.iter_executions`,
  :meth:`~SynchronousFlyteClient.paginate`...) and a method for every AdminService, SignalService and
  DataProxyService RPC flytekit's friendly client lacks (``get_project``, ``get_named_entity``, ``update_execution``,
  ``delete_*_attributes``, description entities, the data plane's ``create_*_event``, signals by execution...);
* ``get_task``, ``get_workflow`` and ``get_launch_plan`` keep a bounded per-client cache of fully versioned entities
  instead of flytekit's unbounded ``lru_cache`` on methods, which also kept every client alive.

Requests are built and responses parsed in :mod:`airflow_provider_flyte.clients._calls`, shared with the asyncio
twin :class:`~airflow_provider_flyte.clients.aio.AsyncFlyteClient`; retries, deadlines, auth and error mapping come
from the raw client :class:`~airflow_provider_flyte.clients.raw.RawSynchronousFlyteClient`. Failed RPCs raise the
:mod:`airflow_provider_flyte.exceptions` family (``FlyteEntityNotExistException`` for NOT_FOUND...).

The class is built in three layers: ``_friendly_base`` (construction, lifecycle, ``_run``, :meth:`paginate
<SynchronousFlyteClient.paginate>`), ``_friendly_definitions`` (tasks, workflows, launch plans, named and description
entities, projects, attributes, version) and this module (executions, events, node and task executions, data proxy,
signals). The
asyncio twin's modules (``aio``, ``_aio_base``, ``_aio_definitions``) are generated from these three by
``scripts/generate_async_client.py``: edit these, then run ``python scripts/generate_async_client.py``.

Example:
    >>> with SynchronousFlyteClient("localhost:30080", insecure=True) as client:  # doctest: +SKIP
    ...     for execution in client.iter_executions("flytesnacks", "development", filters=Equal("phase", "FAILED")):
    ...         print(execution.id.name)
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.clients import _calls
from airflow_provider_flyte.clients._calls import (
    DEFAULT_ITERATION_SORT,
    DEFAULT_PAGE_SIZE,
    ExecutionIdentifierLike,
    NodeExecutionIdentifierLike,
    Page,
    SortLike,
    TaskExecutionIdentifierLike,
)
from airflow_provider_flyte.clients._friendly_definitions import _SynchronousFlyteClientDefinitions
from airflow_provider_flyte.clients.filters import FilterSpec

if TYPE_CHECKING:
    from flyteidl.admin import execution_pb2, node_execution_pb2, signal_pb2, task_execution_pb2
    from flyteidl.core import identifier_pb2, metrics_pb2
    from flyteidl.service import dataproxy_pb2

_ARTIFACT_TYPE_DECK = 1  # flyteidl.service.ArtifactType.ARTIFACT_TYPE_DECK


class SynchronousFlyteClient(_SynchronousFlyteClientDefinitions):
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

    # ------------------------------------------------------------------------------------------------ iterators

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

    # ------------------------------------------------------------------------------------------------ events

    def create_workflow_event(self, event: Any, request_id: str | None = None) -> None:
        """Report a workflow execution phase change, as Flyte's data plane (propeller) does.

        Admin learns of an execution's progress only through these events; a client has no reason to send them
        except to stand in for a data plane. Admin refuses events that contradict the recorded phases.

        Args:
            event: A ``flyteidl.event.WorkflowExecutionEvent``.
            request_id: An id for the request, for Admin's logs.

        Raises:
            FlyteEntityAlreadyExistsException: when the phase was already recorded.
            FlyteFailedPreconditionException: when the execution cannot move to that phase (it already ended...).
        """
        self._run(_calls.create_workflow_event(event, request_id))

    def create_node_event(self, event: Any, request_id: str | None = None) -> None:
        """Report a node execution phase change (a ``flyteidl.event.NodeExecutionEvent``), as the data plane does."""
        self._run(_calls.create_node_event(event, request_id))

    def create_task_event(self, event: Any, request_id: str | None = None) -> None:
        """Report a task execution phase change (a ``flyteidl.event.TaskExecutionEvent``), as the data plane does."""
        self._run(_calls.create_task_event(event, request_id))

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
