"""DAGs for the Flyte 2 DAG-level tests (``test_airflow_flyte2_dags.py``), on connection ``flyte2_test``.

The connection (backend ``flyte2``) points at the test's Flyte 2 sandbox, which has ``env.double`` (x -> 2x),
``env.stuck`` (hangs until aborted) and the ``flyte`` SDK's ``sbx.add`` deployed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_flyte.operators.flyte import FlyteOperator
from airflow_provider_flyte.sensors.flyte import FlyteExecutionSensor

CONN = "flyte2_test"


class CrashOnFirstTry(FlyteOperator):
    """On try 1, launch and then die mid-wait the way a killed worker does (no on_kill, nothing cleaned up)."""

    def execute(self, context: Any) -> dict[str, Any]:
        if context["ti"].try_number == 1:
            self.wait_for_completion = False
            super().execute(context)
            raise RuntimeError("worker lost while waiting for the Flyte 2 run")
        self.wait_for_completion = True
        return super().execute(context)


with DAG("flyte2_test_pipeline", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    double = FlyteOperator(
        task_id="double",
        flyte_conn_id=CONN,
        task_name="env.double",
        inputs={"x": 21},
        deferrable=True,
        poll_interval=0.1,
    )

    @task
    def plus_one(result: Any) -> int:
        return int(result["outputs"]["o0"]) + 1

    plus_one(double.output)
    FlyteExecutionSensor(
        task_id="watch_double", flyte_conn_id=CONN, execution_id=double.output, poke_interval=0.1, timeout=30
    )
    FlyteOperator(task_id="sdk_add", flyte_conn_id=CONN, task_name="sbx.add", inputs={"x": 40}, poll_interval=0.1)

with DAG("flyte2_test_reattach", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    CrashOnFirstTry(
        task_id="crashes_once",
        flyte_conn_id=CONN,
        task_name="env.double",
        inputs={"x": 5},
        poll_interval=0.1,
        retries=1,
        retry_delay=timedelta(seconds=0),
    )

with DAG("flyte2_test_timeout", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    FlyteOperator(
        task_id="times_out",
        flyte_conn_id=CONN,
        task_name="env.stuck",
        inputs={"x": 1},
        deferrable=True,
        poll_interval=0.1,
        timeout=2,
    )
