"""DAGs for the FlyteApprovalOperator tests: a rejection, a wrong typed answer, gates that cannot be asked about."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_flyte.hooks.flyte import FlyteHook
from airflow_provider_flyte.operators.approval import FlyteApprovalOperator
from airflow_provider_flyte.operators.signal import FlyteSignalOperator


@task
def start_gated() -> str:
    remote = FlyteHook().get_remote()
    return str(remote.execute(remote.fetch_launch_plan(name="demo.gated_publish"), inputs={"numbers": [1, 2]}).id)


with DAG("flyte_test_approval_reject", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    # No signal id: the first unanswered signal is asked about; the gate is awaited on the worker (not deferrable).
    execution = start_gated()
    decide = FlyteApprovalOperator(
        task_id="decide", execution_id=execution, deferrable=False, poll_interval=0.2, timeout=120
    )
    # Asked again once Flyte holds the answer: nothing is asked, the result reports Flyte's value.
    again = FlyteApprovalOperator(task_id="again", execution_id=execution, signal_id="approve-report")
    decide >> again

with DAG("flyte_test_approval_bad", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    execution = start_gated()
    approve = FlyteSignalOperator(
        task_id="approve", execution_id=execution, signal_id="approve-report", action="approve", poll_interval=0.2
    )
    wrong_type = FlyteApprovalOperator(
        task_id="wrong_type", execution_id=execution, signal_id="title", deferrable=True, poll_interval=0.2
    )
    no_value = FlyteApprovalOperator(
        task_id="no_value", execution_id=execution, signal_id="title", deferrable=True, poll_interval=0.2
    )
    FlyteApprovalOperator(task_id="unknown_signal", execution_id=execution, signal_id="approve-typo")
    approve >> [wrong_type, no_value]
