"""FlyteExecutionSensor on Flyte 2: wait for a run (started elsewhere) to reach a phase.

The run is ``project:domain:name``, a bare run name (with the sensor's or the connection's project and domain), or the
dict a :class:`~airflow_provider_flyte.operators.flyte.FlyteOperator` returned. Phases use the Flyte 1 names of
``target_phases`` (see :func:`~airflow_provider_flyte.triggers.flyte2.v1_phase_name`: ``RECOVERED`` counts as
``SUCCEEDED``). Imports ``flyteidl2`` only inside the functions.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import PokeReturnValue

from airflow_provider_flyte._airflow_common import DEFER_TIMEOUT_GRACE, execution_id_argument
from airflow_provider_flyte._phases import TERMINAL_PHASE_NAMES
from airflow_provider_flyte.links.flyte import push_console_link
from airflow_provider_flyte.triggers.flyte2 import Flyte2RunTrigger, split_run_id, v1_phase_name

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_flyte.sensors.flyte import FlyteExecutionSensor


def run_id_of(sensor: FlyteExecutionSensor) -> str:
    """``project:domain:name`` of the run the sensor watches (an ``ex:`` prefix is dropped)."""
    text = execution_id_argument(sensor.execution_id, sensor.task_id).removeprefix("ex:")
    if text.count(":") == 2:
        return text
    resolved = sensor.hook.execution_id(text)
    return f"{resolved.project}:{resolved.domain}:{resolved.name}"


def poke(sensor: FlyteExecutionSensor, context: Context) -> PokeReturnValue:
    """One ``GetRunDetails``: done when the phase is a target; fail when the run finished otherwise."""
    from airflow_provider_flyte.clients.v2.phases import RunPhase

    run_id = run_id_of(sensor)
    client = sensor.hook.get_flyte2_client()
    url = client.run_url(*split_run_id(run_id))
    if not sensor._url_pushed:
        push_console_link(context, url)
        sensor._url_pushed = True
    details = sensor.ride_out(f"Flyte 2 run {run_id}", lambda: client.get_run_details(run_id))
    if details is None:
        return PokeReturnValue(False)  # the backend is unreachable for now
    flyte_phase = RunPhase.of(details.action.status.phase).name
    phase = v1_phase_name(flyte_phase)
    sensor.log.info("Flyte 2 run %s is %s (%s)", run_id, flyte_phase, url)
    if phase in sensor.target_phases:
        return PokeReturnValue(True, result(run_id, phase, url))
    if phase in TERMINAL_PHASE_NAMES:
        message = details.action.error_info.message or details.action.abort_info.reason
        detail = f": {message}" if message else ""
        raise AirflowFailException(f"Flyte 2 run {run_id} ended {flyte_phase}{detail} (see {url})")
    return PokeReturnValue(False)


def defer(sensor: FlyteExecutionSensor) -> None:
    """Hand the wait to :class:`~airflow_provider_flyte.triggers.flyte2.Flyte2RunTrigger` (raises TaskDeferred)."""
    sensor.defer(
        trigger=Flyte2RunTrigger(
            run_id=run_id_of(sensor),
            flyte_conn_id=sensor.flyte_conn_id,
            poll_interval=float(sensor.poke_interval),
            deadline=time.time() + float(sensor.timeout),
            target_phases=list(sensor.target_phases),
            terminate_on_kill=False,  # the sensor does not own the run
            outage_tolerance=sensor.outage_tolerance,
        ),
        method_name="execute_complete",
        timeout=timedelta(seconds=float(sensor.timeout)) + DEFER_TIMEOUT_GRACE,
    )


def result(run_id: str, phase: str | None, url: str | None) -> dict[str, Any]:
    """The sensor's XCom value for a run."""
    project, domain, name = split_run_id(run_id)
    return {
        "execution_id": run_id,
        "run_id": run_id,
        "project": project,
        "domain": domain,
        "name": name,
        "phase": phase,
        "console_url": url,
    }
