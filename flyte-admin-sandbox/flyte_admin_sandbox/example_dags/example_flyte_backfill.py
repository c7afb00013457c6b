"""Backfill a cron-scheduled Flyte launch plan from Airflow: plan first (dry run), then replay three days at once.

``demo.nightly`` runs at 02:00 every day with its ``kickoff_time`` input set to the scheduled time. The dry run
plans the runs of the week before the DAG run's ``run_after`` and launches nothing; the second task replays the three
days before it in parallel and returns each run with its phase.

``run_after`` is the end of the data interval for a scheduled run and the trigger time for a manual one, so the DAG
works from every trigger path: the schedule, the UI, the REST API and ``airflow dags trigger`` (which may start a run
without a logical date, and then without a data interval). Without ``from_date``/``to_date`` the operator replays the
DAG run's data interval instead.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_flyte.operators.backfill import FlyteBackfillOperator

with DAG(
    dag_id="example_flyte_backfill",
    start_date=datetime(2026, 1, 1),
    schedule="@daily",
    catchup=False,
    tags=["flyte", "example"],
):
    plan = FlyteBackfillOperator(
        task_id="plan_last_week",
        launchplan_name="demo.nightly",
        from_date="{{ (dag_run.run_after - macros.timedelta(days=7)).isoformat() }}",
        to_date="{{ dag_run.run_after.isoformat() }}",
        dry_run=True,
    )
    replay = FlyteBackfillOperator(
        task_id="replay_three_days",
        launchplan_name="demo.nightly",
        from_date="{{ (dag_run.run_after - macros.timedelta(days=3)).isoformat() }}",
        to_date="{{ dag_run.run_after.isoformat() }}",
        parallel=True,
        deferrable=True,
        poll_interval=0.5,
        timeout=600,
    )
    plan >> replay
