"""Let a person answer a Flyte workflow's gates from Airflow's "Required actions" page.

``demo.gated_publish`` stops twice before publishing its report: at an approval gate (signal ``approve-report``) and
at a ``wait_for_input`` gate for a string ``title``. Each FlyteApprovalOperator waits until its gate is reached, then
asks in Airflow's human-in-the-loop UI -- Approve / Reject for the approval, a one-field form for the title -- with
a link to the execution in the Flyte Console, and forwards the answer to Flyte. The sensor then waits for the
report to be published.

The DAG waits for a person, so ``airflow-flyte demo`` skips it (tag ``human-in-the-loop``). Needs Airflow 3.1+ with
apache-airflow-providers-standard's HITL operators.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from airflow_provider_flyte.hooks.flyte import FlyteHook
from airflow_provider_flyte.operators.approval import FlyteApprovalOperator
from airflow_provider_flyte.sensors.flyte import FlyteExecutionSensor

with DAG(
    dag_id="example_flyte_approval",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["flyte", "example", "human-in-the-loop"],
):

    @task
    def start_gated_publish() -> str:
        remote = FlyteHook().get_remote()
        launch_plan = remote.fetch_launch_plan(name="demo.gated_publish")
        return str(remote.execute(launch_plan, inputs={"numbers": [3, 5, 8]}).id)

    execution = start_gated_publish()
    approve = FlyteApprovalOperator(
        task_id="approve_report",
        execution_id=execution,
        signal_id="approve-report",
        body="The weekly numbers are computed; approve to publish the report, reject to stop it.",
        deferrable=True,
        poll_interval=0.5,
        timeout=300,
        response_timeout=timedelta(days=1),
    )
    name_report = FlyteApprovalOperator(
        task_id="name_report",
        execution_id=execution,
        signal_id="title",
        subject="Title of the weekly report ({{ dag_run.run_after | ds }})",  # manual runs have no logical date
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
    approve >> name_report >> published
