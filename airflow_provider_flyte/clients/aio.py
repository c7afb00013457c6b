# Generated from airflow_provider_flyte/clients/friendly.py by scripts/generate_async_client.py.
# Do not edit: change the synchronous source, then run `python scripts/generate_async_client.py`.
"""The asyncio twin of the friendly client, for triggers and other code running in an event loop.

:class:`AsyncFlyteClient` has the methods of :class:`~airflow_provider_flyte.clients.friendly.SynchronousFlyteClient`
with the same arguments, defaults, results and descriptions, as coroutines; the ``iter_*`` helpers and
:meth:`~AsyncFlyteClient.paginate` return async iterators. Both build their requests and parse their responses with
the same functions (:mod:`airflow_provider_flyte.clients._calls`), and both get retries, deadlines, auth and error
mapping from the raw layer, here :class:`~airflow_provider_flyte.clients.raw.RawAsyncFlyteClient` on a grpc.aio
channel.

This module, ``_aio_base`` and ``_aio_definitions`` are generated from the synchronous client's modules
(``friendly``, ``_friendly_base``, ``_friendly_definitions``) by ``scripts/generate_async_client.py``.

grpc.aio channels belong to the event loop they were created in, so create the client inside the loop that uses it.

Example:
    >>> async with AsyncFlyteClient("localhost:30080", insecure=True) as client:  # doctest: +SKIP
    ...     async for execution in client.iter_executions("flytesnacks", "development"):
    ...         print(execution.id.name, execution.closure.phase)
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.clients import _calls
from airflow_provider_flyte.clients._aio_definitions import _AsyncFlyteClientDefinitions
from airflow_provider_flyte.clients._calls import (
    DEFAULT_ITERATION_SORT,
    DEFAULT_PAGE_SIZE,
    ExecutionIdentifierLike,
    NodeExecutionIdentifierLike,
    Page,
    SortLike,
    TaskExecutionIdentifierLike,
)
from airflow_provider_flyte.clients.filters import FilterSpec

if TYPE_CHECKING:
    from flyteidl.admin import execution_pb2, node_execution_pb2, signal_pb2, task_execution_pb2
    from flyteidl.core import identifier_pb2, metrics_pb2
    from flyteidl.service import dataproxy_pb2

_ARTIFACT_TYPE_DECK = 1  # flyteidl.service.ArtifactType.ARTIFACT_TYPE_DECK


class AsyncFlyteClient(_AsyncFlyteClientDefinitions):
    """Asyncio access to Flyte Admin's AdminService, SignalService and DataProxyService.

    Args:
        config: A :class:`~airflow_provider_flyte.configuration.PlatformConfig`, an endpoint ``"host:port"``, or
            ``None`` for :meth:`PlatformConfig.auto() <airflow_provider_flyte.configuration.PlatformConfig.auto>`.
        insecure: Plain-text gRPC. For an endpoint string it defaults to ``False``; for a config it overrides
            ``config.insecure`` when given.
        raw: Use this raw client (and its channel) instead of creating one; :meth:`close` then leaves it open.
        entity_cache_size: How many versioned tasks, workflows and launch plans to keep (``0`` disables the cache).
        **raw_options: Passed to :class:`RawAsyncFlyteClient` (``credentials``, ``options``,
            ``token_source``, ``retry_policy``...).

    Raises:
        FlyteInvalidInputException: when ``config`` is neither a PlatformConfig nor an endpoint string.
        RuntimeError: when created outside a running event loop (and no ``raw`` client is given).
    """

    # ------------------------------------------------------------------------------------------------ iterators

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

    # ------------------------------------------------------------------------------------------------ executions

    async def create_execution(
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
        """Abort a running execution, recording ``cause``.

        Raises:
            FlyteFailedPreconditionException: when the execution already finished.
        """
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

    # ------------------------------------------------------------------------------------------------ events

    async def create_workflow_event(self, event: Any, request_id: str | None = None) -> None:
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
        await self._run(_calls.create_workflow_event(event, request_id))

    async def create_node_event(self, event: Any, request_id: str | None = None) -> None:
        """Report a node execution phase change (a ``flyteidl.event.NodeExecutionEvent``), as the data plane does."""
        await self._run(_calls.create_node_event(event, request_id))

    async def create_task_event(self, event: Any, request_id: str | None = None) -> None:
        """Report a task execution phase change (a ``flyteidl.event.TaskExecutionEvent``), as the data plane does."""
        await self._run(_calls.create_task_event(event, request_id))

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
