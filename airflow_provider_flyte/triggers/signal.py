"""FlyteSignalTrigger: wait in the triggerer until an execution's gate has created its signal.

Events are flat JSON dicts::

    {"status": "success" | "failed" | "timeout" | "error",
     "execution_id": "ex:project:domain:name", "signal_id": "approve" | None,
     "signal": {"signal_id", "execution_id", "kind", "is_set", "type", "literal_type", "console_url"} | None,
     "phase": "RUNNING" | ... | None, "message": "...", "console_url": "https://..." | None}

``failed`` means the execution finished before the signal appeared. Importing this module loads no grpc, protobuf or
flyteidl code.
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
from airflow_provider_flyte.remote.signals import pick_signal
from airflow_provider_flyte.waiting import WaitClock, apoll, check_seconds, seconds_until

if TYPE_CHECKING:
    from flyteidl.admin import signal_pb2

__all__ = ["SIGNAL_EVENT_STATUSES", "FlyteSignalTrigger", "pick_signal"]

SIGNAL_EVENT_STATUSES = EVENT_STATUSES
"""Every ``status`` a :class:`FlyteSignalTrigger` event can carry."""


class FlyteSignalTrigger(BaseTrigger):
    """Fire when an execution has the signal ``signal_id`` (or any signal), when it finishes first, or at ``deadline``.

    Args:
        execution_id: The execution, as ``ex:project:domain:name``.
        signal_id: The signal to wait for; ``None`` waits for any.
        flyte_conn_id: The ``flyte`` connection.
        poll_interval: Seconds between polls (one ``ListSignals`` and one ``GetExecution`` each).
        deadline: Absolute time (seconds since the epoch) of a ``timeout`` event; ``None`` waits as long as Airflow
            lets the deferral last.
        pending_only: Only count signals that have no value yet (a sensor waiting for a question to answer);
            ``False`` also accepts an answered one (an operator about to set it).
        outage_tolerance: Seconds Flyte Admin may stay unreachable before an ``error`` event (``None``: the
            connection's ``outage_tolerance``, else 600 s).
    """

    def __init__(
        self,
        execution_id: str,
        signal_id: str | None = None,
        flyte_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = 5.0,
        deadline: float | None = None,
        pending_only: bool = True,
        outage_tolerance: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.execution_id = str(WorkflowExecutionIdentifier.from_python_std(execution_id))
        if signal_id is not None and (not isinstance(signal_id, str) or not signal_id):
            raise FlyteInvalidInputException(f"signal_id={signal_id!r} must be a non-empty string or None")
        self.signal_id = signal_id
        self.flyte_conn_id = flyte_conn_id
        self.poll_interval, self.deadline = trigger_timing(poll_interval, deadline)
        self.pending_only = bool(pending_only)
        self.outage_tolerance = check_seconds(outage_tolerance, "outage_tolerance", allow_none=True)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and JSON-able keyword arguments (no secrets: the connection is looked up by id)."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "execution_id": self.execution_id,
                "signal_id": self.signal_id,
                "flyte_conn_id": self.flyte_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "pending_only": self.pending_only,
                "outage_tolerance": self.outage_tolerance,
            },
        )

    def _event(
        self,
        status: str,
        phase: str | None,
        message: str,
        console_url: str | None,
        signal: dict[str, Any] | None = None,
    ) -> TriggerEvent:
        return TriggerEvent(  # type: ignore[no-untyped-call]
            {
                "status": status,
                "execution_id": self.execution_id,
                "signal_id": self.signal_id,
                "signal": signal,
                "phase": phase,
                "message": message,
                "console_url": console_url,
            }
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the signal exists, the execution finishes, or the deadline passes; yield one event."""
        from airflow_provider_flyte.triggers._resume_guard import guarded

        async for event in guarded(self._watch()):
            yield event

    async def _watch(self) -> AsyncGenerator[TriggerEvent, None]:
        from airflow_provider_flyte.hooks.flyte import FlyteAsyncHook, execution_console_url
        from airflow_provider_flyte.progress import ProgressReport, anode_counts
        from airflow_provider_flyte.remote.executions import WORKFLOW_PHASES, WORKFLOW_TERMINAL_PHASES
        from airflow_provider_flyte.remote.signals import alist_signals, signal_summary

        execution_id = WorkflowExecutionIdentifier.from_python_std(self.execution_id)
        wanted = repr(self.signal_id) if self.signal_id else "a pending signal"
        console_url: str | None = None
        phase: str | None = None
        leases = contextlib.AsyncExitStack()
        try:
            hook = FlyteAsyncHook(self.flyte_conn_id)
            settings = await hook.get_settings()
            console_url = execution_console_url(settings.config, execution_id)
            # Leased: a watcher of the same connection going idle must not close the client under this loop.
            client = await leases.enter_async_context(hook.leased_client())
            report = ProgressReport(f"Flyte execution {self.execution_id}", console_url)
            self.log.info("Waiting for %s of Flyte execution %s (%s)", wanted, self.execution_id, console_url)

            async def look() -> tuple[str, signal_pb2.Signal | None] | None:
                nonlocal phase
                found = pick_signal(await alist_signals(client, execution_id), self.signal_id, self.pending_only)
                if found is not None:
                    return "waiting", found
                execution = await client.get_execution(execution_id)
                phase = WORKFLOW_PHASES[execution.closure.phase]
                done = execution.closure.phase in WORKFLOW_TERMINAL_PHASES
                if report.changed(phase):
                    self.log.info("Flyte execution %s is %s (%s)", self.execution_id, phase, console_url)
                elif report.due() and not done:
                    nodes = await anode_counts(client, execution_id, self.log)
                    self.log.info("%s", report.line(phase, nodes, f"no {wanted} yet"))
                if not done:
                    return None
                # The gate may have been created and answered in the same breath: look once more.
                found = pick_signal(await alist_signals(client, execution_id), self.signal_id, self.pending_only)
                return ("exists", found) if found is not None else ("ended", None)

            clock = WaitClock(
                f"{wanted} of execution {self.execution_id}",
                interval=self.poll_interval,
                timeout=seconds_until(self.deadline),
                outage_tolerance=self.outage_tolerance or settings.config.outage_tolerance,
                logger=self.log,
            )
            outcome = await apoll(look, clock)
            if outcome is None:
                message = f"execution {self.execution_id} is {phase} and has no {wanted} at its deadline"
                yield self._event("timeout", phase, message, console_url)
            elif outcome[1] is not None:
                signal = outcome[1]
                summary = signal_summary(signal, console_url=console_url)
                message = f"signal {signal.id.signal_id!r} is {outcome[0]}"
                yield self._event("success", phase, message, console_url, summary)
            else:
                message = f"execution {self.execution_id} ended {phase} before {wanted} appeared"
                yield self._event("failed", phase, message, console_url)
        except Exception as error:
            self.log.exception("Waiting for a signal of Flyte execution %s failed", self.execution_id)
            yield self._event("error", phase, f"{type(error).__name__}: {error}", console_url)
        finally:
            await leases.aclose()
