"""Flyte2RunTrigger: wait in the triggerer until a Flyte 2 run reaches a phase of interest.

Each trigger polls its run with ``RunService.GetRunDetails`` over an asyncio Flyte 2 client, on the schedule and with
the outage tolerance of every wait of this package (:mod:`airflow_provider_flyte.waiting`). Watches of many runs are
not coalesced yet (the v1 trigger's one ``ListExecutions`` per project/domain tick has no Flyte 2 twin here): each
trigger makes its own calls.

Events are the flat JSON dicts of :class:`~airflow_provider_flyte.triggers.flyte.FlyteExecutionTrigger`, with the
run's id (``project:domain:name``) as ``execution_id`` and as ``run_id``, and phases named in Flyte 1's vocabulary
(:func:`v1_phase_name`)::

    {"status": "success" | "failed" | "timeout" | "error", "phase": "SUCCEEDED" | ... | None,
     "execution_id": "p:d:name", "run_id": "p:d:name", "flyte_phase": "RECOVERED" | ... | None,
     "message": "...", "console_url": "http://..." | None}

Importing this module loads no grpc, protobuf or flyteidl2 code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_flyte._airflow_common import EVENT_STATUSES, trigger_timing
from airflow_provider_flyte._phases import normalize_phases
from airflow_provider_flyte.exceptions import FlyteException, FlyteFailedPreconditionException
from airflow_provider_flyte.hooks._connection_form import DEFAULT_CONN_ID
from airflow_provider_flyte.waiting import WaitClock, apoll, check_seconds, seconds_until

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.v2 import AsyncFlyte2Client

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
    return {"phase": None, "flyte_phase": None, "message": "", "console_url": None, **dict(event)}


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
        """Poll until the run reaches a phase of interest, finishes or the deadline passes; yield one event."""
        from airflow_provider_flyte.hooks.flyte import FlyteAsyncHook

        hook = FlyteAsyncHook(self.flyte_conn_id)
        url: str | None = None
        seen: list[str] = []
        try:
            settings = await hook.get_settings()
            client = await hook.get_flyte2_client()
        except Exception as error:
            yield self._event("error", None, f"{type(error).__name__}: {error}", None)
            return
        try:
            url = client.run_url(*split_run_id(self.run_id))
            tolerance = self.outage_tolerance or settings.config.outage_tolerance
            event = await self._wait(client, tolerance, url, seen)
        except Exception as error:
            self.log.exception("Watching Flyte 2 run %s failed", self.run_id)
            event = self._event("error", seen[-1] if seen else None, f"{type(error).__name__}: {error}", url)
        finally:
            await client.close()
        yield event

    async def _wait(self, client: AsyncFlyte2Client, tolerance: float, url: str, seen: list[str]) -> TriggerEvent:
        """Poll the run with the wait clock; the event to fire (``seen`` collects the phases seen, in order)."""
        from airflow_provider_flyte.clients.v2.phases import RunPhase

        clock = WaitClock(
            f"Flyte 2 run {self.run_id}",
            interval=self.poll_interval,
            timeout=seconds_until(self.deadline),
            outage_tolerance=tolerance,
            logger=self.log,
        )

        async def check() -> tuple[str, str] | None:
            details = await client.get_run_details(self.run_id)
            phase = RunPhase.of(details.action.status.phase)
            if not seen or seen[-1] != phase.name:
                seen.append(phase.name)
                self.log.info("Flyte 2 run %s is %s (%s)", self.run_id, phase.name, url)
            name = v1_phase_name(phase.name)
            if name in self.target_phases or phase.is_terminal:
                message = details.action.error_info.message or details.action.abort_info.reason
                return phase.name, message
            return None

        found = await apoll(check, clock)
        if found is None:
            last = seen[-1] if seen else None
            return self._event("timeout", last, f"run {self.run_id} is still {last} at its deadline", url)
        phase, message = found
        if v1_phase_name(phase) in self.target_phases:
            return self._event("success", phase, message, url)
        return self._event("failed", phase, message or f"run ended {phase}", url)

    async def on_kill(self) -> None:
        """Abort the run when the user kills the deferred task (Airflow 3.3+; never on triggerer restarts)."""
        if not self.terminate_on_kill:
            return
        from airflow_provider_flyte.hooks.flyte import FlyteAsyncHook

        client = await FlyteAsyncHook(self.flyte_conn_id).get_flyte2_client()
        try:
            await client.abort_run(self.run_id, "Killed by Airflow: the deferred task was stopped by a user")
            self.log.info("Aborted Flyte 2 run %s", self.run_id)
        except FlyteFailedPreconditionException:
            self.log.info("Flyte 2 run %s had already finished", self.run_id)
        except FlyteException:
            self.log.exception("Could not abort Flyte 2 run %s", self.run_id)
        finally:
            await client.close()
