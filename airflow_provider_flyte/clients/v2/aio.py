# Generated from airflow_provider_flyte/clients/v2/friendly.py by scripts/generate_async_client.py.
# Do not edit: change the synchronous source, then run `python scripts/generate_async_client.py`.
"""The asyncio twin of the friendly Flyte 2 client, for triggers and other code running in an event loop.

:class:`AsyncFlyte2Client` has the methods of :class:`~airflow_provider_flyte.clients.v2.friendly.Flyte2Client` with
the same arguments, defaults, results and descriptions, as coroutines; ``watch_run_details``, ``watch_runs``,
``iter_runs`` and :meth:`~AsyncFlyte2Client.paginate` return async iterators. Both build their requests with
:mod:`airflow_provider_flyte.clients.v2._calls` and get retries, deadlines, auth, error mapping and stream
reconnects from the raw layer, here :class:`~airflow_provider_flyte.clients.v2.raw.RawAsyncFlyte2Client` on a
grpc.aio channel.

This module and ``_aio_base`` are generated from ``friendly`` and ``_friendly_base`` by
``scripts/generate_async_client.py``. Create the client inside the event loop that uses it.

Example:
    >>> async with AsyncFlyte2Client(PlatformConfig.from_api_key()) as client:  # doctest: +SKIP
    ...     async for details in client.watch_run_details("flytesnacks:development:nightly-1"):
    ...         print(RunPhase.of(details.action.status.phase).name)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from airflow_provider_flyte.clients.v2 import _calls
from airflow_provider_flyte.clients.v2._aio_base import _AsyncFlyte2ClientBase
from airflow_provider_flyte.clients.v2._calls import (
    DEFAULT_PAGE_SIZE,
    ROOT_ACTION,
    FilterLike,
    InputsLike,
    Page,
    RunIdLike,
    TaskIdLike,
    TriggerLike,
)
from airflow_provider_flyte.clients.v2.phases import run_url

if TYPE_CHECKING:
    from flyteidl2.common import run_pb2 as common_run_pb2
    from flyteidl2.dataproxy import dataproxy_service_pb2
    from flyteidl2.task import common_pb2, run_pb2, task_definition_pb2
    from flyteidl2.trigger import trigger_definition_pb2
    from flyteidl2.workflow import run_definition_pb2


class AsyncFlyte2Client(_AsyncFlyte2ClientBase):
    """Asyncio access to Flyte 2's TaskService, RunService, DataProxyService and TriggerService.

    Args:
        config: A :class:`~airflow_provider_flyte.configuration.PlatformConfig`, an endpoint ``"host:port"``, or
            ``None`` for :meth:`PlatformConfig.auto() <airflow_provider_flyte.configuration.PlatformConfig.auto>`.
        insecure: Plain-text gRPC. For an endpoint string it defaults to ``False``; for a config it overrides
            ``config.insecure`` when given.
        raw: Use this raw client (and its channel) instead of creating one; :meth:`close` then leaves it open.
        org: The organization requests name; the API key's with ``auth_mode="api_key"``, else ``""``.
        entity_cache_size: How many task versions to keep (``0`` disables the cache).
        **raw_options: Passed to :class:`RawAsyncFlyte2Client` (``credentials``, ``token_source``, ``retry_policy``...).

    Raises:
        FlyteInvalidInputException: when ``config`` is neither a PlatformConfig nor an endpoint string.
        RuntimeError: when created outside a running event loop (and no ``raw`` client is given).
    """

    # ------------------------------------------------------------------------------------------------ tasks

    async def get_task_details(
        self, project: str, domain: str, name: str, version: str
    ) -> task_definition_pb2.TaskDetails:
        """A deployed task version: its interface, default inputs and spec (cached: versions never change)."""
        return await self._run(_calls.get_task_details(project, domain, name, version, self.org))

    async def latest_task_version(self, project: str, domain: str, name: str) -> str:
        """The most recently deployed version of a task (``ListTasks``, newest first, as the ``flyte`` SDK does).

        Raises:
            FlyteEntityNotExistException: naming the task when it has no version.
        """
        return await self._run(_calls.latest_task_version(project, domain, name, self.org))

    async def list_task_versions(
        self, project: str, domain: str, name: str, limit: int = DEFAULT_PAGE_SIZE, token: str | None = None
    ) -> Page[str]:
        """One page of a task's versions (``ListVersions``): ``(versions, next_token)``."""
        return await self._run(_calls.list_task_versions(project, domain, name, limit, token, self.org))

    # ------------------------------------------------------------------------------------------------ runs

    async def create_run(
        self,
        project: str,
        domain: str,
        run_name: str | None,
        *,
        task_id: TaskIdLike | None = None,
        trigger_name: TriggerLike | None = None,
        inputs: InputsLike = None,
        run_spec: run_pb2.RunSpec | None = None,
    ) -> run_definition_pb2.Run:
        """Start a run of a deployed task or of a trigger.

        Args:
            project: The run's project.
            domain: The run's domain.
            run_name: At most 30 lowercase letters, digits and ``-`` (checked before any RPC); a named run is
                retried safely and a second create of the same name raises FlyteEntityAlreadyExistsException.
                ``None`` lets the server pick a name (then the call is never retried).
            task_id: The task: a ``TaskIdentifier``, its ``TaskDetails`` or ``(name, version)``.
            trigger_name: Or a trigger: a ``TriggerName`` or ``(task_name, trigger_name)``.
            inputs: ``flyteidl2.task.Inputs`` (see :func:`~.literals.encode_inputs`), or what
                :meth:`upload_inputs` returned; no inputs when ``None``.
            run_spec: Labels, environment, ``recover``/``relation`` for re-runs...

        Returns:
            The run as created (``run.action.id.run`` is its id).
        """
        call = _calls.create_run(
            project,
            domain,
            run_name,
            task=task_id,
            trigger=trigger_name,
            inputs=inputs,
            run_spec=run_spec,
            org=self.org,
        )
        return await self._run(call)

    async def upload_inputs(
        self,
        project: str,
        domain: str,
        run_name: str | None,
        inputs: common_pb2.Inputs,
        *,
        task_id: TaskIdLike | None = None,
        trigger_name: TriggerLike | None = None,
    ) -> common_run_pb2.OffloadedInputData:
        """Offload a run's inputs (``DataProxyService.UploadInputs``, as the SDK does before every run)."""
        call = _calls.upload_inputs(project, domain, run_name, inputs, task=task_id, trigger=trigger_name, org=self.org)
        return await self._run(call)

    async def abort_run(self, run_id: RunIdLike, reason: str = "") -> None:
        """Abort a run (and its actions); ``reason`` is recorded on it."""
        await self._run(_calls.abort_run(run_id, reason, self.org))

    async def get_run_details(self, run_id: RunIdLike) -> run_definition_pb2.RunDetails:
        """A run's spec and root action: phase, error or abort info, attempts."""
        return await self._run(_calls.get_run_details(run_id, self.org))

    def watch_run_details(self, run_id: RunIdLike) -> AsyncIterator[run_definition_pb2.RunDetails]:
        """Each new state of a run until it is terminal (``WatchRunDetails``, re-opened after a proxy cuts it)."""
        return self._raw.follow(_calls.watch_run_details(run_id, self.org))

    async def list_runs(
        self,
        project: str,
        domain: str,
        filters: FilterLike = None,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        sort_by: str | None = None,
    ) -> Page[run_definition_pb2.Run]:
        """One page of runs: ``(runs, next_token)``; ``sort_by`` is a field, ``-field`` for descending."""
        return await self._run(_calls.list_runs(project, domain, filters, limit, token, sort_by, self.org))

    def iter_runs(
        self, project: str, domain: str, filters: FilterLike = None, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[run_definition_pb2.Run]:
        """Every run of a project and domain matching ``filters``, page by page."""
        return self.paginate(self.list_runs, project, domain, filters, limit=page_size)

    def watch_runs(self, project: str, domain: str) -> AsyncIterator[run_definition_pb2.Run]:
        """Each new state of every run of a project and domain (``WatchRuns``), until the caller stops reading."""
        return self._raw.follow(_calls.watch_runs(project, domain, self.org))

    async def get_action_data(
        self, run_id: RunIdLike, action: str = ROOT_ACTION
    ) -> dataproxy_service_pb2.GetActionDataResponse:
        """An action's ``inputs`` and ``outputs`` (the run's for the root action ``a0``); see :mod:`.literals`."""
        return await self._run(_calls.get_action_data(run_id, action, self.org))

    def run_url(self, project: str, domain: str, run_name: str) -> str:
        """The console page of a run (the ``flyte`` SDK's ``Console.run_url`` form)."""
        return run_url(self.config, project, domain, run_name)

    # ------------------------------------------------------------------------------------------------ triggers

    async def get_trigger(
        self, project: str, domain: str, task_name: str, name: str
    ) -> trigger_definition_pb2.TriggerDetails:
        """A task's trigger (the Flyte 2 successor of a scheduled launch plan)."""
        return await self._run(_calls.get_trigger(project, domain, task_name, name, self.org))

    async def list_triggers(
        self,
        project: str,
        domain: str,
        task_name: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
    ) -> Page[trigger_definition_pb2.Trigger]:
        """One page of the triggers of a project and domain, or of one task: ``(triggers, next_token)``."""
        return await self._run(_calls.list_triggers(project, domain, task_name, limit, token, self.org))
