"""Launch a Flyte launch plan with typed inputs, wait for it in the triggerer, and use its outputs downstream.

Needs a ``flyte_default`` connection whose extras name the project and domain (the demo sets it to the embedded
sandbox, whose ``flytesnacks`` project has the ``demo.pipeline`` launch plan:
``numbers: list[int], scale: float = 2.0, label: str`` -> ``total: int, mean: float, report: str``).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_flyte.operators.flyte import FlyteOperator

with DAG(
    dag_id="example_flyte_pipeline",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["flyte", "example"],
):
    run_pipeline = FlyteOperator(
        task_id="run_pipeline",
        launchplan_name="demo.pipeline",
        inputs={"numbers": [3, 1, 4, 1, 5, 9], "scale": 1.5, "label": "{{ dag.dag_id }}"},
        deferrable=True,  # wait in the triggerer, not in a worker slot
        poll_interval=1,
        timeout=600,  # applies to the deferred wait too; the execution is aborted when it passes
    )

    @task
    def publish(result: dict) -> str:
        """Use the Flyte outputs: a plain JSON dict in XCom."""
        outputs = result["outputs"]
        print(f"{result['execution_id']} finished {result['phase']}: {outputs['report']} (see {result['console_url']})")
        return f"total={outputs['total']} mean={outputs['mean']:.2f}"

    publish(run_pipeline.output)
