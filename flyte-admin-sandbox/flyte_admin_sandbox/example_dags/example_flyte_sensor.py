"""Wait for a Flyte execution that something else started, with a deferrable sensor.

Here a Python task plays "something else": it starts ``demo.pipeline`` through the hook's ``FlyteRemote`` without
waiting, and hands the execution id (``ex:project:domain:name``) to the sensor.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_flyte.hooks.flyte import FlyteHook
from airflow_provider_flyte.sensors.flyte import FlyteExecutionSensor

with DAG(
    dag_id="example_flyte_sensor",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["flyte", "example"],
):

    @task
    def start_elsewhere() -> str:
        remote = FlyteHook().get_remote()
        execution = remote.execute(remote.fetch_launch_plan(name="demo.pipeline"), inputs={"numbers": [2, 7, 1, 8]})
        return str(execution.id)

    FlyteExecutionSensor(
        task_id="wait_for_pipeline",
        execution_id=start_elsewhere(),
        target_phases=["SUCCEEDED"],
        deferrable=True,
        poke_interval=1,
        timeout=600,
    )
