"""Answer the gates of a Flyte workflow from Airflow: wait for an approval gate, approve it, then type in a value.

``demo.gated_publish`` stops twice before publishing its report: at an approval gate (signal ``approve-report``) and
at a ``wait_for_input`` gate for a string ``title``. The sensor waits until the approval is asked for and pushes the
signal's id and declared type to XCom; the operators answer. ``set_title`` starts before its gate is reached and
waits (in the triggerer) until Flyte asks, then sends the value typed as the gate declares it.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_flyte.hooks.flyte import FlyteHook
from airflow_provider_flyte.operators.signal import FlyteSignalOperator
from airflow_provider_flyte.sensors.flyte import FlyteExecutionSensor
from airflow_provider_flyte.sensors.signal import FlyteSignalSensor

with DAG(
    dag_id="example_flyte_signals",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["flyte", "example"],
):

    @task
    def start_gated_publish() -> str:
        remote = FlyteHook().get_remote()
        launch_plan = remote.fetch_launch_plan(name="demo.gated_publish")
        return str(remote.execute(launch_plan, inputs={"numbers": [3, 5, 8]}).id)

    execution = start_gated_publish()
    asked = FlyteSignalSensor(
        task_id="wait_for_approval_gate",
        execution_id=execution,
        signal_id="approve-report",
        deferrable=True,
        poke_interval=0.5,
        timeout=300,
    )
    approve = FlyteSignalOperator(
        task_id="approve_report",
        execution_id=execution,
        signal_id="{{ ti.xcom_pull('wait_for_approval_gate')['signal_id'] }}",
        action="approve",
    )
    set_title = FlyteSignalOperator(
        task_id="set_title",
        execution_id=execution,
        signal_id="title",
        value="Weekly numbers ({{ dag_run.run_after | ds }})",  # manual runs have no logical date
        deferrable=True,
        poll_interval=0.5,
        timeout=300,
    )
    published = FlyteExecutionSensor(
        task_id="wait_for_publish",
        execution_id=execution,
        deferrable=True,
        poke_interval=0.5,
        timeout=300,
    )
    asked >> approve >> set_title >> published
