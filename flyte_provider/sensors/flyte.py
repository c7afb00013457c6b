"""0.0.5's ``FlyteSensor``: wait for the execution whose name 0.0.5's ``FlyteOperator`` returned.

It is the new :class:`airflow_provider_flyte.sensors.flyte.FlyteExecutionSensor`, pointed at ``execution_name``
(a bare name in ``project``/``domain``, or ``ex:project:domain:name``), in poke or reschedule mode as 0.0.5 was.
It succeeds when the execution succeeds and fails, without retrying, when it fails, times out or is aborted.

Importing this module loads no grpc, protobuf or flyteidl module.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseSensorOperator

from airflow_provider_flyte.hooks._connection_form import DEFAULT_CONN_ID
from airflow_provider_flyte.sensors.flyte import FlyteExecutionSensor
from flyte_provider._migration import check_passthrough_kwargs, warn_deprecated

NEW_IMPORT = "from airflow_provider_flyte.sensors.flyte import FlyteExecutionSensor"
LEGACY_ARGUMENTS = ("execution_name", "project", "domain", "flyte_conn_id")
"""0.0.5's own arguments of the sensor."""


class FlyteSensor(FlyteExecutionSensor):
    """0.0.5's sensor (deprecated): succeed when execution ``execution_name`` succeeds.

    Arguments of the new sensor that 0.0.5 did not have (``execution_id``, ``target_phases``, ``deferrable``,
    ``outage_tolerance``) are refused with a :class:`~flyte_provider.LegacyParameterError`: switch the import to use
    them.

    Args:
        execution_name: The execution to watch (templated), typically ``FlyteOperator(...).output``.
        project: Project of the execution (default: the connection's ``project`` extra).
        domain: Domain of the execution (default: the connection's ``domain`` extra).
        flyte_conn_id: The ``flyte`` connection.
        **kwargs: Passed to ``BaseSensorOperator`` (``poke_interval``, ``timeout``, ``mode``, ``soft_fail``...).
    """

    def __init__(
        self,
        *,
        execution_name: Any,
        project: str | None = None,
        domain: str | None = None,
        flyte_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        warn_deprecated(
            "flyte_provider.sensors.flyte.FlyteSensor",
            NEW_IMPORT,
            ", which takes the execution as execution_id= (a name, an id or the new operator's result)",
            stacklevel=3,  # past Airflow's apply_defaults wrapper, to the DAG file
        )
        check_passthrough_kwargs(
            f"FlyteSensor(task_id={kwargs.get('task_id')!r})",
            kwargs,
            airflow_base=BaseSensorOperator,
            legacy=LEGACY_ARGUMENTS,
            new_class=FlyteExecutionSensor,
            new_import=NEW_IMPORT,
        )
        super().__init__(
            execution_id=execution_name,
            project=project,
            domain=domain,
            flyte_conn_id=flyte_conn_id,
            deferrable=False,  # 0.0.5 poked (or rescheduled) on a worker
            **kwargs,
        )

    @property
    def execution_name(self) -> Any:
        """The execution watched (0.0.5's name of ``execution_id``)."""
        return self.execution_id

    @execution_name.setter
    def execution_name(self, value: Any) -> None:
        self.execution_id = value


__all__ = ["FlyteSensor"]
