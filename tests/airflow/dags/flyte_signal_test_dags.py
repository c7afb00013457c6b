"""DAGs for the signal tests: rejection, an explicit python type, and answers that must set nothing."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_flyte.hooks.flyte import FlyteHook
from airflow_provider_flyte.operators.signal import FlyteSignalOperator
from airflow_provider_flyte.sensors.signal import FlyteSignalSensor


@task
def start_gated() -> str:
    remote = FlyteHook().get_remote()
    return str(remote.execute(remote.fetch_launch_plan(name="demo.gated_publish"), inputs={"numbers": [1, 2]}).id)


with DAG("flyte_test_signal_reject", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    FlyteSignalOperator(
        task_id="reject",
        execution_id=start_gated(),
        signal_id="approve-report",
        action="reject",
        deferrable=True,
        poll_interval=0.2,
        timeout=120,
    )

with DAG("flyte_test_signal_typed", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    execution = start_gated()
    approve = FlyteSignalOperator(
        task_id="approve", execution_id=execution, signal_id="approve-report", action="approve", poll_interval=0.2
    )
    pending = FlyteSignalSensor(
        task_id="title_pending", execution_id=execution, signal_id="title", poke_interval=0.2, timeout=120
    )
    title = FlyteSignalOperator(
        task_id="title", execution_id=execution, signal_id="title", value="typed", python_type=str
    )
    approve >> pending >> title

with DAG("flyte_test_signal_bad", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    execution = start_gated()
    FlyteSignalOperator(task_id="unknown_signal", execution_id=execution, signal_id="approve-typo", action="approve")
    FlyteSignalOperator(task_id="bad_value", execution_id=execution, signal_id="title", value=["not", "a", "string"])
    FlyteSignalOperator(task_id="approve_an_input", execution_id=execution, signal_id="title", action="approve")
    FlyteSignalOperator(
        task_id="gate_never_reached",
        execution_id=execution,
        signal_id="title",
        value="late",
        poll_interval=0.2,
        timeout=1,
    )

with DAG("flyte_test_signal_sensor_ends", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):

    @task
    def start_plain() -> str:
        remote = FlyteHook().get_remote()
        return str(remote.execute(remote.fetch_launch_plan(name="demo.pipeline"), inputs={"numbers": [1]}).id)

    FlyteSignalSensor(task_id="no_gate", execution_id=start_plain(), deferrable=True, poke_interval=0.2, timeout=120)
