"""DAGs for the DAG-level tests: failure, timeout, and a retry after a worker died mid-wait."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG
from airflow_hold_tasks import LAUNCH_PLAN as HOLD
from airflow_hold_tasks import release

from airflow_provider_flyte.operators.flyte import FlyteOperator


class CrashOnFirstTry(FlyteOperator):
    """On try 1, launch and then die mid-wait the way a killed worker does (no on_kill, nothing cleaned up)."""

    def execute(self, context: Any) -> dict[str, Any]:
        if context["ti"].try_number == 1:
            self.wait_for_completion = False
            super().execute(context)
            raise RuntimeError("worker lost while waiting for the Flyte execution")
        self.wait_for_completion = True
        release("dag-reattach")  # let the held execution finish once the retry is waiting for it
        return super().execute(context)


with DAG("flyte_test_failures", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    FlyteOperator(task_id="fails", launchplan_name="demo.always_fails", deferrable=True, poll_interval=0.2)
    # Fails its input checks: nothing is launched, so there is no console link to show.
    FlyteOperator(task_id="bad_inputs", launchplan_name="demo.pipeline", inputs={"numbers": "1,2"})
    FlyteOperator(
        task_id="times_out",
        launchplan_name=HOLD,
        inputs={"key": "dag-timeout"},
        deferrable=True,
        poll_interval=0.2,
        timeout=2,
    )
    # Airflow itself does not apply execution_timeout to a deferred task: the trigger does.
    FlyteOperator(
        task_id="exceeds_execution_timeout",
        launchplan_name=HOLD,
        inputs={"key": "dag-execution-timeout"},
        deferrable=True,
        poll_interval=0.2,
        execution_timeout=timedelta(seconds=3),
    )

with DAG("flyte_test_reattach", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    CrashOnFirstTry(
        task_id="crashes_once",
        launchplan_name=HOLD,
        inputs={"key": "dag-reattach"},
        poll_interval=0.2,
        retries=1,
        retry_delay=timedelta(seconds=0),
    )
