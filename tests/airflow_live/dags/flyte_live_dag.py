"""Run by a real scheduler, triggerer and API server: a deferrable launch, then a task that reads its outputs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_flyte.operators.flyte import FlyteOperator

with DAG("flyte_live", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    launch = FlyteOperator(
        task_id="launch_pipeline",
        launchplan_name="demo.pipeline",
        inputs={"numbers": [1, 2, 3, 4], "scale": 0.5, "label": "{{ dag_run.conf['label'] }}"},
        deferrable=True,
        poll_interval=0.5,
        timeout=600,
    )

    @task
    def read_report(result: dict[str, Any]) -> str:
        return f"{result['phase']}: {result['outputs']['report']} / total={result['outputs']['total']}"

    read_report(launch.output)
