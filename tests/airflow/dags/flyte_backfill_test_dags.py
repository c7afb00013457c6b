"""DAGs for the backfill tests: parallel and serial runs over three days, a dry run, the data-interval default."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_flyte.operators.backfill import FlyteBackfillOperator

NIGHTLY = "demo.nightly"

with DAG("flyte_test_backfill", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    FlyteBackfillOperator(
        task_id="parallel_days",
        launchplan_name=NIGHTLY,
        from_date="2026-01-01",
        to_date="2026-01-04",
        parallel=True,
        deferrable=True,
        poll_interval=0.2,
        timeout=300,
    )
    # A different range: the backfill workflow's version is derived from the range, not from `parallel`.
    FlyteBackfillOperator(
        task_id="serial_days",
        launchplan_name=NIGHTLY,
        from_date="2026-02-01",
        to_date="2026-02-04",
        poll_interval=0.2,
        timeout=300,
    )

with DAG("flyte_test_backfill_dry_run", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    FlyteBackfillOperator(
        task_id="plan_only", launchplan_name=NIGHTLY, from_date="2026-03-01", to_date="2026-03-04", dry_run=True
    )

with DAG("flyte_test_backfill_interval", start_date=datetime(2026, 1, 1), schedule="@daily", catchup=False):
    FlyteBackfillOperator(task_id="the_interval", launchplan_name=NIGHTLY, poll_interval=0.2, timeout=300)

# The backfill tests script `demo.describe_run` to fail on the 2nd of the month for these two DAGs.
with DAG("flyte_test_backfill_failing_day", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    FlyteBackfillOperator(
        task_id="serial_with_a_bad_day",
        launchplan_name=NIGHTLY,
        from_date="2026-05-01",
        to_date="2026-05-04",
        poll_interval=0.2,
        timeout=300,
    )

with DAG("flyte_test_backfill_keep_going", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    FlyteBackfillOperator(
        task_id="parallel_past_a_bad_day",
        launchplan_name=NIGHTLY,
        from_date="2026-06-01",
        to_date="2026-06-04",
        parallel=True,
        failure_policy="fail_after_executable_nodes_complete",
        poll_interval=0.2,
        timeout=300,
    )
