"""Flyte2RunTrigger: wait in the triggerer until a Flyte 2 run reaches a phase of interest.

Triggers of one connection are served together, as Flyte 1's are: the connection's run watcher
(:func:`~airflow_provider_flyte.watch.run_watcher_for`, on the Flyte 2 client shared on the triggerer's event loop)
looks at every watched run of a project/domain with one ``RunService.ListRuns`` per tick (filtered with ``VALUE_IN``
on the run names), looks at a new run right away (``GetRunDetails``), and wakes only the triggers whose run changed.
Outages are ridden out for the trigger's ``outage_tolerance`` (:mod:`airflow_provider_flyte.waiting`), and a progress
line is logged every few minutes between phase changes.

Events are the flat JSON dicts of :class:`~airflow_provider_flyte.triggers.flyte.FlyteExecutionTrigger`, with the
run's id (``project:domain:name``) as ``execution_id`` and as ``run_id``, and phases named in Flyte 1's vocabulary
(:func:`v1_phase_name`)::

    {"status": "success" | "failed" | "timeout" | "error", "phase": "SUCCEEDED" | ... | None,
     "execution_id": "p:d:name", "run_id": "p:d:name", "flyte_phase": "RECOVERED" | ... | None,
     "message": "...", "console_url": "http://..." | None}

Importing this module loads no grpc, protobuf or flyteidl2 code.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_flyte._airflow_common import EVENT_STATUSES, log_resume, trigger_timing
from airflow_provider_flyte._phases import normalize_phases
from airflow_provider_flyte.exceptions import FlyteException, FlyteFailedPreconditionException
from airflow_provider_flyte.hooks._connection_form import DEFAULT_CONN_ID
from airflow_provider_flyte.progress import ProgressReport
from airflow_provider_flyte.waiting import check_seconds, seconds_until

if TYPE_CHECKING:
    from airflow_provider_flyte.watch import ExecutionWatcher

__all__ = ["Flyte2RunTrigger", "split_run_id", "v1_phase_name", "validate_run_event"]

_V1_NAMES = {
    "UNSPECIFIED": "UNDEFINED",
    "WAITING_FOR_RESOURCES": "QUEUED",
    "INITIALIZING": "RUNNING",
    "PAUSED": "RUNNING",
    "RECOVERED": "SUCCEEDED",
}


def v1_phase_name(flyte2_phase: str) -> str:
    """A Flyte 2 run phase in the Flyte 1 vocabulary that ``target_phases`` use.

    ``RECOVERED`` (copied from an earlier run) counts as ``SUCCEEDED``; ``WAITING_FOR_RESOURCES`` as ``QUEUED``;
    ``INITIALIZING`` and ``PAUSED`` (waiting for a condition) as ``RUNNING``; the others keep their names.
    """
    return _V1_NAMES.get(flyte2_phase, flyte2_phase)


def split_run_id(run_id: str) -> tuple[str, str, str]:
    """``(project, domain, name)`` of ``project:domain:name``.

    Raises:
        ValueError: when ``run_id`` does not have three non-empty parts.
    """
    parts = run_id.split(":")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"run_id={run_id!r} must be 'project:domain:name'")
    return parts[0], parts[1], parts[2]


def validate_run_event(event: Any) -> dict[str, Any]:
    """Check a :class:`Flyte2RunTrigger` event before acting on it: a bad event must fail the task, never succeed.

    Logs the one line that marks the deferred task back on a worker (see
    :func:`~airflow_provider_flyte._airflow_common.log_resume`).

    Raises:
        AirflowException: naming what is wrong with the event (not a mapping, unknown status, malformed run id).
    """
    from airflow.providers.common.compat.sdk import AirflowException

    if not isinstance(event, Mapping) or event.get("status") not in EVENT_STATUSES:
        raise AirflowException(f"Flyte2RunTrigger sent no usable event (got {event!r}); cannot tell the outcome")
    try:
        split_run_id(str(event.get("run_id")))
    except ValueError as error:
        raise AirflowException(f"Flyte2RunTrigger event: {error}") from None
    checked = {"phase": None, "flyte_phase": None, "message": "", "console_url": None, **dict(event)}
    # Named as the trigger's own lines name it (RECOVERED stays RECOVERED), not in the Flyte 1 vocabulary.
    named = {**checked, "phase": checked["flyte_phase"] or checked["phase"]}
    log_resume("Flyte2RunTrigger", f"Flyte 2 run {checked['run_id']}", named)
    return checked


class Flyte2RunTrigger(BaseTrigger):
    """Fire when a Flyte 2 run reaches one of ``target_phases``, finishes otherwise, or ``deadline`` passes.

    Args:
        run_id: The run, as ``project:domain:name``.
        flyte_conn_id: The ``flyte`` connection (backend Flyte 2).
        poll_interval: Longest time between polls, in seconds.
        deadline: Absolute time (seconds since the epoch) after which a ``timeout`` event fires; ``None``: none.
        target_phases: Flyte 1 phase names that end the wait with ``success`` (default ``["SUCCEEDED"]``); see
            :func:`v1_phase_name`. Any other terminal phase ends it with ``failed``.
        terminate_on_kill: Abort the run when the user kills the deferred task (Airflow 3.3+).
        outage_tolerance: Seconds the backend may stay unreachable before an ``error`` event (``None``: the
            connection's ``outage_tolerance``).
    """

    def __init__(
        self,
        run_id: str,
        flyte_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = 10.0,
        deadline: float | None = None,
        target_phases: list[str] | None = None,
        terminate_on_kill: bool = True,
        outage_tolerance: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        split_run_id(run_id)
        self.run_id = run_id
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
                "run_id": self.run_id,
                "flyte_conn_id": self.flyte_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "target_phases": list(self.target_phases),
                "terminate_on_kill": self.terminate_on_kill,
                "outage_tolerance": self.outage_tolerance,
            },
        )

    def _event(self, status: str, flyte_phase: str | None, message: str, console_url: str | None) -> TriggerEvent:
        return TriggerEvent(  # type: ignore[no-untyped-call]
            {
                "status": status,
                "phase": None if flyte_phase is None else v1_phase_name(flyte_phase),
                "flyte_phase": flyte_phase,
                "execution_id": self.run_id,
                "run_id": self.run_id,
                "message": message,
                "console_url": console_url,
            }
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Watch until the run reaches a phase of interest, finishes or the deadline passes; yield one event.

        The event is held as the Flyte 1 trigger's is (:mod:`airflow_provider_flyte.triggers._resume_guard`).
        """
        from airflow_provider_flyte.triggers._resume_guard import guarded

        async for event in guarded(self._watch()):
            yield event

    async def _watch(self) -> AsyncGenerator[TriggerEvent, None]:
        from airflow_provider_flyte.hooks.flyte import FlyteAsyncHook
        from airflow_provider_flyte.watch import WatchError

        hook = FlyteAsyncHook(self.flyte_conn_id)
        url: str | None = None
        seen: list[str] = []
        try:
            settings = await hook.get_settings()
            watcher = await hook.flyte2_watcher()
        except Exception as error:
            yield self._event("error", None, f"{type(error).__name__}: {error}", None)
            return
        from airflow_provider_flyte.clients.v2.phases import run_url  # loaded with the watcher, off the event loop

        try:
            url = run_url(settings.config, *split_run_id(self.run_id))
            tolerance = self.outage_tolerance or settings.config.outage_tolerance
            event = await self._wait(watcher, tolerance, url, seen)
        except WatchError as error:  # not found, outage tolerance spent, a non-transient error
            event = self._event("error", seen[-1] if seen else None, str(error), url)
        except Exception as error:
            self.log.exception("Watching Flyte 2 run %s failed", self.run_id)
            event = self._event("error", seen[-1] if seen else None, f"{type(error).__name__}: {error}", url)
        yield event

    async def _wait(self, watcher: ExecutionWatcher, tolerance: float, url: str, seen: list[str]) -> TriggerEvent:
        """Follow the run's snapshots from the shared watcher; the event to fire (``seen``: the phases seen, in order).

        Between phase changes, a progress line is logged every few minutes, as the Flyte 1 trigger does.
        """
        progress = ProgressReport(f"Flyte 2 run {self.run_id}", url)
        async with watcher.subscribe(self.run_id, self.poll_interval, tolerance, self.log) as subscription:
            while True:
                remaining = seconds_until(self.deadline)
                if remaining is not None and remaining <= 0:
                    last = seen[-1] if seen else None
                    return self._event("timeout", last, f"run {self.run_id} is still {last} at its deadline", url)
                # Wake for the next snapshot, or when a progress line is due (whichever comes first).
                silence = max(progress.seconds_until_due(), 0.0)
                try:
                    snapshot = await subscription.next(timeout=min(remaining or silence, silence))
                except asyncio.TimeoutError:
                    if not progress.due():
                        continue  # the deadline: checked at the top of the loop
                    self.log.info("%s", progress.line(seen[-1] if seen else None))
                    continue
                if progress.changed(snapshot.phase):
                    seen.append(snapshot.phase)
                    self.log.info("Flyte 2 run %s is %s (%s)", self.run_id, snapshot.phase, url)
                event = self._outcome(snapshot.phase, snapshot.is_terminal, snapshot.message, url)
                if event is not None:
                    return event

    def _outcome(self, phase: str, terminal: bool, message: str, url: str) -> TriggerEvent | None:
        """The event a snapshot ends the wait with, or ``None`` to keep waiting."""
        if v1_phase_name(phase) in self.target_phases:
            return self._event("success", phase, message, url)
        if terminal:
            return self._event("failed", phase, message or f"run ended {phase}", url)
        return None

    async def on_kill(self) -> None:
        """Abort the run when the user kills the deferred task (Airflow 3.3+; never on triggerer restarts)."""
        if not self.terminate_on_kill:
            return
        from airflow_provider_flyte.hooks.flyte import FlyteAsyncHook

        async with FlyteAsyncHook(self.flyte_conn_id).leased_flyte2_client() as client:
            try:
                await client.abort_run(self.run_id, "Killed by Airflow: the deferred task was stopped by a user")
                self.log.info("Aborted Flyte 2 run %s", self.run_id)
            except FlyteFailedPreconditionException:
                self.log.info("Flyte 2 run %s had already finished", self.run_id)
            except FlyteException:
                self.log.exception("Could not abort Flyte 2 run %s", self.run_id)
