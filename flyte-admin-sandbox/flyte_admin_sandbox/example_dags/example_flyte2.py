"""Launch a Flyte 2 task by name (its latest version) with inputs, wait for it in the triggerer, use its outputs.

Needs a ``flyte2_default`` connection whose ``backend`` extra is ``flyte2`` and whose extras name the project and
domain (the demo points it at an embedded Flyte 2 sandbox with the ``demo.summarize`` task deployed:
``numbers: list[int], label: str`` -> ``o0: int`` (the total), ``o1: str`` (a report)).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_flyte.operators.flyte import FlyteOperator

with DAG(
    dag_id="example_flyte2",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["flyte", "flyte2", "example"],
):
    run_task = FlyteOperator(
        task_id="run_flyte2_task",
        flyte_conn_id="flyte2_default",  # backend: flyte2
        task_name="demo.summarize",  # no version: the latest deployed one
        inputs={"numbers": [3, 1, 4, 1, 5, 9], "label": "{{ dag.dag_id }}"},
        deferrable=True,  # wait in the triggerer, not in a worker slot
        poll_interval=1,
        timeout=600,  # the run is aborted when it passes
    )

    @task
    def publish(result: dict) -> str:
        """Use the Flyte 2 outputs (``o0``, ``o1``...): a plain JSON dict in XCom."""
        outputs = result["outputs"]
        print(f"{result['run_id']} finished {result['phase']}: {outputs['o1']} (see {result['console_url']})")
        return f"total={outputs['o0']}"

    publish(run_task.output)
