"""FlyteExecutionSensor: wait for an existing Flyte execution (started elsewhere) to reach a phase.

Importing this module loads no grpc, protobuf or flyteidl code.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, AirflowSensorTimeout, conf
from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_flyte._lazy import LazyModule
from airflow_provider_flyte._phases import TERMINAL_PHASE_NAMES, normalize_phases
from airflow_provider_flyte._task_arguments import duration_argument
from airflow_provider_flyte.hooks._connection_form import DEFAULT_CONN_ID
from airflow_provider_flyte.links.flyte import FlyteConsoleLink, push_console_link
from airflow_provider_flyte.sensors._pokes import OutageTolerantPokes

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_flyte import _airflow_common
    from airflow_provider_flyte.hooks.flyte import FlyteHook
    from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
else:
    _airflow_common = LazyModule("airflow_provider_flyte._airflow_common")  # for running tasks, not DAG files


class FlyteExecutionSensor(OutageTolerantPokes, BaseSensorOperator):
    """Succeed when a Flyte execution reaches one of ``target_phases``; fail if it finishes in another phase.

    On a Flyte 2 connection (``backend`` extra) ``execution_id`` names a run (``project:domain:name`` or a bare
    name) and Flyte 2's phases map onto the Flyte 1 names (see :mod:`~airflow_provider_flyte.sensors._flyte2`).

    The execution is ``execution_id``: an ``ex:project:domain:name`` string, a bare name (with ``project`` and
    ``domain`` or the connection's defaults), or the dict a :class:`FlyteOperator` returns (so
    ``execution_id=launch.output`` works). Poke mode keeps one client for all pokes; deferrable mode waits in the
    triggerer. ``timeout`` and ``soft_fail`` behave as for any sensor, in both modes.

    A poke that finds Flyte Admin unreachable (restarting, overloaded, a network blip) counts as "not yet" for up to
    ``outage_tolerance`` seconds of wall time in poke and deferrable modes; in reschedule mode each poke starts
    afresh, so there only the sensor's ``timeout`` bounds an outage.

    Returns (XCom): ``{"execution_id", "project", "domain", "name", "phase", "console_url"}``.

    Args:
        execution_id: The execution to watch (templated).
        project: Project of a bare execution name.
        domain: Domain of a bare execution name.
        target_phases: Phases that satisfy the sensor (default ``["SUCCEEDED"]``).
        flyte_conn_id: The ``flyte`` connection.
        deferrable: Wait in the triggerer (default: ``[operators] default_deferrable``).
        outage_tolerance: Seconds (or a timedelta) Flyte Admin may stay unreachable before the sensor fails
            (default: the connection's ``outage_tolerance`` extra, else 600 s).
        **kwargs: Passed to ``BaseSensorOperator`` (``poke_interval``, ``timeout``, ``mode``, ``soft_fail``...).
    """

    template_fields: Sequence[str] = ("execution_id", "project", "domain", "flyte_conn_id")
    operator_extra_links = (FlyteConsoleLink(),)
    ui_color = "#cfe0f7"

    def __init__(
        self,
        *,
        execution_id: Any,
        project: str | None = None,
        domain: str | None = None,
        target_phases: list[str] | None = None,
        flyte_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        outage_tolerance: timedelta | float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.outage_tolerance = duration_argument(outage_tolerance, "outage_tolerance", self.task_id)
        self.execution_id = execution_id
        self.project = project
        self.domain = domain
        self.target_phases = normalize_phases(target_phases, f"{self.task_id}: target_phases")
        self.flyte_conn_id = flyte_conn_id
        self.deferrable = deferrable
        self._url_pushed = False

    @cached_property
    def hook(self) -> FlyteHook:
        """The hook of ``flyte_conn_id``; its client serves every poke."""
        from airflow_provider_flyte.hooks.flyte import FlyteHook

        return FlyteHook(self.flyte_conn_id, project=self.project, domain=self.domain)

    def _on_flyte2(self) -> bool:
        """Whether the connection's backend is Flyte 2 (then ``execution_id`` names a run)."""
        return self.hook.backend.value == "flyte2"

    def _resolved_id(self) -> WorkflowExecutionIdentifier:
        return self.hook.execution_id(_airflow_common.execution_id_argument(self.execution_id, self.task_id))

    def execute(self, context: Context) -> Any:
        """Poke once; if not done and deferrable, defer to :class:`FlyteExecutionTrigger`."""
        if not self.deferrable:
            return super().execute(context)
        result = self.poke(context)
        if result.is_done:
            return result.xcom_value
        if self._on_flyte2():
            from airflow_provider_flyte.sensors import _flyte2

            return _flyte2.defer(self)
        from airflow_provider_flyte.triggers.flyte import FlyteExecutionTrigger

        self.defer(
            trigger=FlyteExecutionTrigger(
                execution_id=str(self._resolved_id()),
                flyte_conn_id=self.flyte_conn_id,
                poll_interval=float(self.poke_interval),
                deadline=time.time() + float(self.timeout),
                target_phases=list(self.target_phases),
                terminate_on_kill=False,  # the sensor does not own the execution
                outage_tolerance=self.outage_tolerance,
            ),
            method_name="execute_complete",
            # The trigger's own deadline reports the phase it last saw; Airflow's timeout is the backstop.
            timeout=timedelta(seconds=float(self.timeout)) + _airflow_common.DEFER_TIMEOUT_GRACE,
        )

    def poke(self, context: Context) -> PokeReturnValue:
        """One ``GetExecution``: done when the phase is a target; fail when it finished otherwise."""
        if self._on_flyte2():
            from airflow_provider_flyte.sensors import _flyte2

            return _flyte2.poke(self, context)
        execution_id = self._resolved_id()
        url = self.hook.console_url(execution_id)
        if not self._url_pushed:
            push_console_link(context, url)
            self._url_pushed = True
        from airflow_provider_flyte.watch import ExecutionSnapshot

        execution = self.ride_out(
            f"execution {execution_id}", lambda: self.hook.get_client().get_execution(execution_id)
        )
        if execution is None:
            return PokeReturnValue(False)  # Admin is unreachable for now
        snapshot = ExecutionSnapshot.from_execution(execution)
        self.log.info("Flyte execution %s is %s (%s)", execution_id, snapshot.phase, url)
        if snapshot.phase in self.target_phases:
            return PokeReturnValue(True, self._result(execution_id, snapshot.phase, url))
        if snapshot.phase in TERMINAL_PHASE_NAMES:
            detail = f": {snapshot.message}" if snapshot.message else ""
            raise AirflowFailException(f"Flyte execution {execution_id} ended {snapshot.phase}{detail} (see {url})")
        return PokeReturnValue(False)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired.

        Raises:
            AirflowSensorTimeout: the deferral reached the sensor's timeout.
            AirflowException: the execution finished outside ``target_phases``, or the watch failed.
        """
        if isinstance(event, dict) and "run_id" in event:  # a Flyte2RunTrigger's event
            from airflow_provider_flyte.sensors import _flyte2
            from airflow_provider_flyte.triggers.flyte2 import validate_run_event

            event = validate_run_event(event)
            if event["status"] == "success":
                return _flyte2.result(event["run_id"], event["phase"], event["console_url"])
            if event["status"] == "timeout":
                raise AirflowSensorTimeout(event["message"])
            what = f"Flyte 2 run {event['run_id']} ended {event.get('flyte_phase')}"
            raise AirflowException(f"{what}: {event['message']} (see {event['console_url']})")
        event = _airflow_common.validate_event(event)
        from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier

        execution_id = WorkflowExecutionIdentifier.from_python_std(event["execution_id"])
        if event["status"] == "success":
            return self._result(execution_id, event["phase"], event["console_url"])
        if event["status"] == "timeout":
            raise AirflowSensorTimeout(event["message"])
        raise AirflowException(
            f"Flyte execution {execution_id} ended {event['phase']}: {event['message']} (see {event['console_url']})"
        )

    @staticmethod
    def _result(execution_id: WorkflowExecutionIdentifier, phase: str | None, url: str | None) -> dict[str, Any]:
        return {
            "execution_id": str(execution_id),
            "project": execution_id.project,
            "domain": execution_id.domain,
            "name": execution_id.name,
            "phase": phase,
            "console_url": url,
        }
