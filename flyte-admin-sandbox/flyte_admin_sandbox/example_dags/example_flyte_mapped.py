"""Mapped launches: one Flyte execution per input set, with ``.expand(inputs=...)``.

Each mapped task instance gets its own deterministic execution name (the map index is part of it), so retries of
one instance never touch the executions of the others.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_flyte.operators.flyte import FlyteOperator

with DAG(
    dag_id="example_flyte_mapped",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["flyte", "example"],
):
    batches = FlyteOperator.partial(
        task_id="score_batch", launchplan_name="demo.pipeline", deferrable=True, poll_interval=1, timeout=600
    ).expand(inputs=[{"numbers": [1, 2]}, {"numbers": [3, 4, 5], "scale": 1.0}, {"numbers": [10], "label": "single"}])

    @task
    def combine(results: list[dict]) -> dict:
        # results[:] fetches every result in one call; iterating over the lazy sequence would ask for one past the
        # end, which Airflow logs as an error ("XCom not found").
        return {result["name"]: result["outputs"]["mean"] for result in results[:]}

    combine(batches.output)
