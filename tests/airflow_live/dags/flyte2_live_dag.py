"""Run by a real scheduler, triggerer and API server: a deferrable Flyte 2 launch, then a task reading its outputs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_flyte.operators.flyte import FlyteOperator

with DAG("flyte2_live", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    launch = FlyteOperator(
        task_id="launch_task",
        flyte_conn_id="flyte2_default",  # backend: flyte2
        task_name="demo.summarize",
        inputs={"numbers": [1, 2, 3, 4], "label": "{{ dag_run.conf['label'] }}"},
        deferrable=True,
        poll_interval=0.5,
        timeout=600,
    )

    @task
    def read_report(result: Any) -> str:
        return f"{result['phase']}: {result['outputs']['o1']}"

    read_report(launch.output)
