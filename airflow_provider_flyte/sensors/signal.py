"""FlyteSignalSensor: wait until a Flyte execution has a gate waiting for an answer.

Importing this module loads no grpc, protobuf or flyteidl code.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSensorTimeout, conf
from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_flyte._lazy import LazyModule
from airflow_provider_flyte._task_arguments import duration_argument
from airflow_provider_flyte.hooks._connection_form import DEFAULT_CONN_ID
from airflow_provider_flyte.links.flyte import FlyteConsoleLink, push_console_link
from airflow_provider_flyte.sensors._pokes import OutageTolerantPokes

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_flyte import _airflow_common, identifiers
    from airflow_provider_flyte.hooks.flyte import FlyteHook
    from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
else:
    # What only a running task needs loads when it runs: a DAG processor imports this module with every parse.
    _airflow_common = LazyModule("airflow_provider_flyte._airflow_common")
    identifiers = LazyModule("airflow_provider_flyte.identifiers")


class FlyteSignalSensor(OutageTolerantPokes, BaseSensorOperator):
    """Succeed when an execution has a pending (unanswered) signal -- ``signal_id``, or any when omitted.

    Fails at once when the execution finishes before such a signal appears. Returns (XCom), plain JSON::

        {"signal_id": "title", "execution_id": "ex:p:d:name", "kind": "input", "is_set": false,
         "type": "str", "literal_type": {"simple": "STRING"}, "console_url": "https://..."}

    Args:
        execution_id: ``ex:project:domain:name``, a bare name, or a FlyteOperator result dict (templated).
        signal_id: The signal to wait for (templated); any pending signal when omitted.
        project: Project of a bare execution name.
        domain: Domain of a bare execution name.
        flyte_conn_id: The ``flyte`` connection.
        deferrable: Wait in the triggerer (default: ``[operators] default_deferrable``).
        outage_tolerance: Seconds (or a timedelta) Flyte Admin may stay unreachable before the sensor fails
            (default: the connection's ``outage_tolerance`` extra, else 600 s).
        **kwargs: Passed to ``BaseSensorOperator`` (``poke_interval``, ``timeout``, ``mode``, ``soft_fail``...).
    """

    template_fields: Sequence[str] = ("execution_id", "signal_id", "project", "domain", "flyte_conn_id")
    operator_extra_links = (FlyteConsoleLink(),)
    ui_color = "#f7ecc4"

    def __init__(
        self,
        *,
        execution_id: Any,
        signal_id: str | None = None,
        project: str | None = None,
        domain: str | None = None,
        flyte_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        outage_tolerance: timedelta | float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.outage_tolerance = duration_argument(outage_tolerance, "outage_tolerance", self.task_id)
        self.execution_id = execution_id
        self.signal_id = signal_id
        self.project = project
        self.domain = domain
        self.flyte_conn_id = flyte_conn_id
        self.deferrable = deferrable
        self._url_pushed = False

    @cached_property
    def hook(self) -> FlyteHook:
        """The hook of ``flyte_conn_id``; its client serves every poke."""
        from airflow_provider_flyte.hooks.flyte import FlyteHook

        return FlyteHook(self.flyte_conn_id, project=self.project, domain=self.domain)

    def _resolved_id(self) -> WorkflowExecutionIdentifier:
        return self.hook.execution_id(_airflow_common.execution_id_argument(self.execution_id, self.task_id))

    def execute(self, context: Context) -> Any:
        """Poke once; if nothing waits yet and deferrable, defer to :class:`FlyteSignalTrigger`."""
        _airflow_common.require_flyte1(self, self.hook, "signals (gates)")
        if not self.deferrable:
            return super().execute(context)
        result = self.poke(context)
        if result.is_done:
            return result.xcom_value
        from airflow_provider_flyte.triggers.signal import FlyteSignalTrigger

        self.defer(
            trigger=FlyteSignalTrigger(
                execution_id=str(self._resolved_id()),
                signal_id=self.signal_id or None,
                flyte_conn_id=self.flyte_conn_id,
                poll_interval=float(self.poke_interval),
                deadline=time.time() + float(self.timeout),
                pending_only=True,
                outage_tolerance=self.outage_tolerance,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(self.timeout)) + _airflow_common.DEFER_TIMEOUT_GRACE,
        )

    def poke(self, context: Context) -> PokeReturnValue:
        """One ``ListSignals`` (and a ``GetExecution`` while nothing waits)."""
        from airflow_provider_flyte.remote.executions import WORKFLOW_PHASES, WORKFLOW_TERMINAL_PHASES
        from airflow_provider_flyte.remote.signals import list_signals, pick_signal, signal_summary

        execution_id = self._resolved_id()
        url = self.hook.console_url(execution_id)
        if not self._url_pushed:
            push_console_link(context, url)
            self._url_pushed = True
        client = self.hook.get_client()

        def look() -> tuple[Any, int]:
            found = pick_signal(list_signals(client, execution_id), self.signal_id or None, pending_only=True)
            if found is not None:
                return found, 0
            return None, client.get_execution(execution_id).closure.phase

        state = self.ride_out(f"a signal of execution {execution_id}", look)
        if state is None:
            return PokeReturnValue(False)  # Admin is unreachable for now
        found, phase = state
        if found is not None:
            return PokeReturnValue(True, self._with_kind(signal_summary(found, console_url=url)))
        if phase in WORKFLOW_TERMINAL_PHASES:
            wanted = repr(self.signal_id) if self.signal_id else "a pending signal"
            raise AirflowFailException(
                f"Flyte execution {execution_id} ended {WORKFLOW_PHASES[phase]} before {wanted} appeared (see {url})"
            )
        self.log.info("Flyte execution %s has no pending signal %s yet", execution_id, self.signal_id or "")
        return PokeReturnValue(False)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired.

        Raises:
            AirflowSensorTimeout: the deadline passed with nothing pending.
            AirflowFailException: the execution finished first, or the watch failed.
        """
        event = _airflow_common.validate_signal_event(event)
        if event["status"] == "success" and isinstance(event["signal"], dict):
            return self._with_kind(dict(event["signal"]))
        if event["status"] == "timeout":
            raise AirflowSensorTimeout(event["message"])
        raise AirflowFailException(f"{event['message']} (see {event['console_url']})")

    def _with_kind(self, summary: dict[str, Any]) -> dict[str, Any]:
        """Add whether the gate is an approval or an input, read from the execution's compiled workflow."""
        from airflow_provider_flyte.remote.signals import declared_signals

        client = self.hook.get_client()
        execution_id = identifiers.WorkflowExecutionIdentifier.from_python_std(summary["execution_id"])
        declared = declared_signals(client.get_workflow(client.get_execution(execution_id).closure.workflow_id))
        gate = declared.get(summary["signal_id"])
        summary["kind"] = gate.kind if gate is not None else None
        return summary
