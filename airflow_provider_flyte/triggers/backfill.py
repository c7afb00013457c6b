"""FlyteBackfillTrigger: follow a backfill execution run by run in the triggerer, logging progress.

Events are flat JSON dicts::

    {"status": "success" | "failed" | "timeout" | "error", "execution_id": "ex:project:domain:name",
     "phase": "SUCCEEDED" | ... | None, "children": [{"node_id", "scheduled_time", "execution_id", "phase"}, ...],
     "message": "...", "console_url": "https://..." | None}

Importing this module loads no grpc, protobuf or flyteidl code.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_flyte._airflow_common import EVENT_STATUSES, trigger_timing
from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.hooks.flyte import DEFAULT_CONN_ID
from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
from airflow_provider_flyte.waiting import WaitClock, apoll, check_seconds, seconds_until

if TYPE_CHECKING:
    from flyteidl.admin import execution_pb2

__all__ = ["BACKFILL_EVENT_STATUSES", "FlyteBackfillTrigger"]

BACKFILL_EVENT_STATUSES = EVENT_STATUSES
"""Every ``status`` a :class:`FlyteBackfillTrigger` event can carry."""


class FlyteBackfillTrigger(BaseTrigger):
    """Fire when a backfill execution finishes or ``deadline`` passes; log each change of its runs' progress.

    Args:
        execution_id: The backfill execution, as ``ex:project:domain:name``.
        scheduled_times: ISO scheduled time by backfill node id (``{"n0": "...", ...}``).
        flyte_conn_id: The ``flyte`` connection.
        poll_interval: Seconds between polls (one ``GetExecution`` and one ``ListNodeExecutions`` page each).
        deadline: Absolute time (seconds since the epoch) of a ``timeout`` event, or ``None``.
        outage_tolerance: Seconds Flyte Admin may stay unreachable before an ``error`` event (``None``: the
            connection's ``outage_tolerance``, else 600 s).
    """

    def __init__(
        self,
        execution_id: str,
        scheduled_times: dict[str, str],
        flyte_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = 10.0,
        deadline: float | None = None,
        outage_tolerance: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.execution_id = str(WorkflowExecutionIdentifier.from_python_std(execution_id))
        if not isinstance(scheduled_times, dict) or not scheduled_times:
            raise FlyteInvalidInputException(f"scheduled_times={scheduled_times!r} must be a non-empty dict")
        self.scheduled_times = {str(key): str(value) for key, value in scheduled_times.items()}
        self.flyte_conn_id = flyte_conn_id
        self.poll_interval, self.deadline = trigger_timing(poll_interval, deadline)
        self.outage_tolerance = check_seconds(outage_tolerance, "outage_tolerance", allow_none=True)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and JSON-able keyword arguments (no secrets: the connection is looked up by id)."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "execution_id": self.execution_id,
                "scheduled_times": dict(self.scheduled_times),
                "flyte_conn_id": self.flyte_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "outage_tolerance": self.outage_tolerance,
            },
        )

    def _event(
        self, status: str, phase: str | None, children: list[dict[str, Any]], message: str, url: str | None
    ) -> TriggerEvent:
        return TriggerEvent(  # type: ignore[no-untyped-call]
            {
                "status": status,
                "execution_id": self.execution_id,
                "phase": phase,
                "children": children,
                "message": message,
                "console_url": url,
            }
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll the backfill and its runs until it finishes or the deadline passes; yield one event."""
        from airflow_provider_flyte.triggers._resume_guard import guarded

        async for event in guarded(self._watch()):
            yield event

    async def _watch(self) -> AsyncGenerator[TriggerEvent, None]:
        from airflow_provider_flyte.hooks.flyte import FlyteAsyncHook, execution_console_url
        from airflow_provider_flyte.progress import ProgressReport
        from airflow_provider_flyte.remote.backfill import alist_backfill_nodes, backfill_children, progress_line
        from airflow_provider_flyte.remote.executions import (
            WORKFLOW_PHASES,
            WORKFLOW_SUCCESS_PHASES,
            WORKFLOW_TERMINAL_PHASES,
        )

        execution_id = WorkflowExecutionIdentifier.from_python_std(self.execution_id)
        url: str | None = None
        phase: str | None = None
        children: list[dict[str, Any]] = []
        leases = contextlib.AsyncExitStack()
        try:
            hook = FlyteAsyncHook(self.flyte_conn_id)
            config = (await hook.get_settings()).config
            url = execution_console_url(config, execution_id)
            # Leased: a watcher of the same connection going idle must not close the client under this loop.
            client = await leases.enter_async_context(hook.leased_client())
            report = ProgressReport(f"Backfill {self.execution_id}", url)

            async def finished() -> execution_pb2.Execution | None:
                nonlocal phase, children
                execution = await client.get_execution(execution_id)
                phase = WORKFLOW_PHASES[execution.closure.phase]
                children = backfill_children(await alist_backfill_nodes(client, execution_id), self.scheduled_times)
                progress = progress_line(children)
                if report.changed(progress):
                    self.log.info("Backfill %s: %s", self.execution_id, progress)
                elif report.due():
                    self.log.info("%s", report.line(phase, progress))
                return execution if execution.closure.phase in WORKFLOW_TERMINAL_PHASES else None

            clock = WaitClock(
                f"backfill {self.execution_id}",
                interval=self.poll_interval,
                timeout=seconds_until(self.deadline),
                outage_tolerance=self.outage_tolerance or config.outage_tolerance,
                logger=self.log,
            )
            done = await apoll(finished, clock)
            if done is None:
                message = f"backfill {self.execution_id} is still {phase} at its deadline ({progress_line(children)})"
                yield self._event("timeout", phase, children, message, url)
                return
            status = "success" if done.closure.phase in WORKFLOW_SUCCESS_PHASES else "failed"
            message = done.closure.error.message or done.closure.abort_metadata.cause
            yield self._event(status, phase, children, message or f"backfill ended {phase}", url)
        except Exception as error:
            self.log.exception("Following backfill %s failed", self.execution_id)
            yield self._event("error", phase, children, f"{type(error).__name__}: {error}", url)
        finally:
            await leases.aclose()
