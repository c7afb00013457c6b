"""FlyteExecutionTrigger: wait in the triggerer until a Flyte execution reaches a phase of interest.

The trigger is fully asynchronous: the connection is resolved with Airflow's async lookup and executions are polled
over a ``grpc.aio`` channel shared by every trigger of the same connection on the triggerer's event loop. Triggers
watching executions of one project/domain are served together by one ``ListExecutions`` per tick (the
:class:`~airflow_provider_flyte.watch.ExecutionWatcher` of the connection, see :mod:`airflow_provider_flyte.watch`).

Events are flat JSON dicts::

    {"status": "success" | "failed" | "timeout" | "error",
     "phase": "SUCCEEDED" | ... | None, "execution_id": "ex:project:domain:name",
     "message": "...", "console_url": "https://..." | None}

Importing this module loads no grpc, protobuf or flyteidl code.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_flyte._airflow_common import EVENT_STATUSES, trigger_timing
from airflow_provider_flyte._phases import TERMINAL_PHASE_NAMES, WORKFLOW_PHASE_NAMES, normalize_phases
from airflow_provider_flyte.exceptions import FlyteFailedPreconditionException
from airflow_provider_flyte.hooks.flyte import DEFAULT_CONN_ID
from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
from airflow_provider_flyte.progress import ProgressReport, anode_counts
from airflow_provider_flyte.waiting import check_seconds

log = logging.getLogger(__name__)

__all__ = [
    "EVENT_STATUSES",
    "TERMINAL_PHASE_NAMES",
    "WORKFLOW_PHASE_NAMES",
    "FlyteExecutionTrigger",
    "normalize_phases",
]


class FlyteExecutionTrigger(BaseTrigger):
    """Fire when a Flyte execution reaches one of ``target_phases``, finishes otherwise, or ``deadline`` passes.

    Args:
        execution_id: The execution, as ``ex:project:domain:name``.
        flyte_conn_id: The ``flyte`` connection to poll through.
        poll_interval: Seconds between polls.
        deadline: Absolute time (seconds since the epoch) after which a ``timeout`` event fires; ``None`` waits
            as long as Airflow lets the deferral last.
        target_phases: Phases that end the wait with ``status="success"`` (default ``["SUCCEEDED"]``). Any other
            terminal phase ends it with ``status="failed"``.
        terminate_on_kill: Abort the execution when the user kills the deferred task (Airflow 3.3+ calls
            :meth:`on_kill`); ``False`` for watchers of executions they did not start, such as sensors.
        outage_tolerance: Seconds Flyte Admin may stay unreachable before the trigger reports an ``error``
            (``None``: the connection's ``outage_tolerance``, else 600 s). A run that ended meanwhile is reported
            with its true phase once Admin answers again.
    """

    def __init__(
        self,
        execution_id: str,
        flyte_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = 10.0,
        deadline: float | None = None,
        target_phases: list[str] | None = None,
        terminate_on_kill: bool = True,
        outage_tolerance: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.execution_id = str(WorkflowExecutionIdentifier.from_python_std(execution_id))
        self.flyte_conn_id = flyte_conn_id
        self.poll_interval, self.deadline = trigger_timing(poll_interval, deadline)
        self.target_phases = normalize_phases(target_phases, "target_phases")
        self.terminate_on_kill = bool(terminate_on_kill)
        self.outage_tolerance = check_seconds(outage_tolerance, "outage_tolerance", allow_none=True)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and JSON-able keyword arguments (no secrets: the connection is looked up by id)."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "execution_id": self.execution_id,
                "flyte_conn_id": self.flyte_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "target_phases": list(self.target_phases),
                "terminate_on_kill": self.terminate_on_kill,
                "outage_tolerance": self.outage_tolerance,
            },
        )

    def _event(self, status: str, phase: str | None, message: str, console_url: str | None) -> TriggerEvent:
        return TriggerEvent(  # type: ignore[no-untyped-call]
            {
                "status": status,
                "phase": phase,
                "execution_id": self.execution_id,
                "message": message,
                "console_url": console_url,
            }
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the execution reaches a phase of interest or the deadline passes; yield one event."""
        from airflow_provider_flyte.triggers._resume_guard import guarded

        async for event in guarded(self._watch()):
            yield event

    async def _watch(self) -> AsyncGenerator[TriggerEvent, None]:
        from airflow_provider_flyte.hooks.flyte import FlyteAsyncHook, execution_console_url
        from airflow_provider_flyte.watch import WatchError, watcher_for

        execution_id = WorkflowExecutionIdentifier.from_python_std(self.execution_id)
        console_url: str | None = None
        phase: str | None = None
        try:
            settings = await FlyteAsyncHook(self.flyte_conn_id).get_settings()
            console_url = execution_console_url(settings.config, execution_id)
            watcher = watcher_for(self.flyte_conn_id, settings.config)
            tolerance = self.outage_tolerance or settings.config.outage_tolerance
            progress = ProgressReport(f"Flyte execution {self.execution_id}", console_url)
            async with watcher.subscribe(execution_id, self.poll_interval, tolerance, self.log) as subscription:
                while True:
                    remaining = None if self.deadline is None else self.deadline - time.time()
                    if remaining is not None and remaining <= 0:
                        raise asyncio.TimeoutError
                    # Wake for the next snapshot, or when a progress line is due (whichever comes first).
                    silence = max(progress.seconds_until_due(), 0.0)
                    try:
                        snapshot = await subscription.next(timeout=min(remaining or silence, silence))
                    except asyncio.TimeoutError:
                        if remaining is not None and remaining <= silence:
                            raise
                        await self._log_progress(progress, phase, settings.config)
                        continue
                    phase = snapshot.phase
                    if progress.changed(phase):
                        self.log.info("Flyte execution %s is %s (%s)", self.execution_id, phase, console_url)
                    if phase in self.target_phases:
                        yield self._event("success", phase, snapshot.message, console_url)
                        return
                    if snapshot.is_terminal:
                        message = snapshot.message or f"execution ended {phase}"
                        yield self._event("failed", phase, message, console_url)
                        return
        except asyncio.TimeoutError:
            waited = f"still {phase}" if phase else "not reached a phase of interest"
            yield self._event(
                "timeout", phase, f"execution {self.execution_id} is {waited} at its deadline", console_url
            )
        except WatchError as error:
            yield self._event("error", phase, str(error), console_url)
        except Exception as error:
            self.log.exception("Watching Flyte execution %s failed", self.execution_id)
            yield self._event("error", phase, f"{type(error).__name__}: {error}", console_url)

    async def _log_progress(self, progress: ProgressReport, phase: str | None, config: Any) -> None:
        """Log how far the execution's nodes got (one paged ``ListNodeExecutions``, at most every five minutes)."""
        from airflow_provider_flyte.watch import leased_async_client

        execution_id = WorkflowExecutionIdentifier.from_python_std(self.execution_id)
        # The watcher holds the shared client: the lease only keeps it open while the nodes are counted.
        async with leased_async_client(self.flyte_conn_id, config) as client:
            nodes = await anode_counts(client, execution_id, self.log)
        self.log.info("%s", progress.line(phase, nodes))

    async def on_kill(self) -> None:
        """Abort the execution when the user kills the deferred task (Airflow 3.3+; never on triggerer restarts)."""
        if not self.terminate_on_kill:
            return
        from airflow_provider_flyte.hooks.flyte import FlyteAsyncHook

        execution_id = WorkflowExecutionIdentifier.from_python_std(self.execution_id)
        async with FlyteAsyncHook(self.flyte_conn_id).leased_client() as client:
            try:
                await client.terminate_execution(
                    execution_id, "Killed by Airflow: the deferred task was stopped by a user"
                )
                self.log.info("Terminated Flyte execution %s", self.execution_id)
            except FlyteFailedPreconditionException:
                self.log.info("Flyte execution %s had already finished", self.execution_id)
