# ruff: noqa: I001  (the imports keep the order of the 0.0.5 file)
# Test copy of flyte_provider/example_dags/example_flyte_wait.py of airflow-provider-flyte 0.0.5 (flyteorg/airflow-
# provider-flyte at tag v0.0.5, Apache-2.0), run by tests/airflow/test_legacy_example_dags.py. Changed only where the
# file could not run with 0.0.5 either, or where Airflow 3 requires it; each change is marked "0.0.5 example:". The
# original imports name `flyte_providers.flyte.*`, a module no release shipped (0.0.5 shipped `flyte_provider`).
from datetime import datetime, timedelta

from airflow import DAG
from flyte_provider.operators.flyte import FlyteOperator  # 0.0.5 example: flyte_providers.flyte.operators.flyte
from flyte_provider.sensors.flyte import FlyteSensor  # 0.0.5 example: flyte_providers.flyte.sensors.flyte

with DAG(
    dag_id="example_flyte_operator",
    schedule=None,  # 0.0.5 example: schedule_interval=None (removed in Airflow 3)
    start_date=datetime(2021, 1, 1),
    dagrun_timeout=timedelta(minutes=60),
    tags=["example"],
    catchup=False,
) as dag:
    # wait for the execution to complete
    flyte_execution_start = FlyteOperator(
        task_id="flyte_task",
        flyte_conn_id="flyte_conn_example",
        project="flytesnacks",
        domain="development",
        launchplan_name="core.basic.lp.my_wf",
        max_parallelism=2,
        raw_data_prefix="s3://flyte-demo/raw_data",
        kubernetes_service_account="demo",
        version="v1",
        inputs={"val": 19},
    )

    flyte_execution_wait = FlyteSensor(
        task_id="flyte_sensor_one",
        execution_name=flyte_execution_start.output,
        project="flytesnacks",
        domain="development",
        flyte_conn_id="flyte_conn_example",
    )  # poke every 60 seconds (default)

    flyte_execution_start >> flyte_execution_wait

    # wait for a long-running execution to complete
    flyte_execution_wait_long = FlyteSensor(
        task_id="flyte_sensor_two",
        execution_name=flyte_execution_start.output,
        project="flytesnacks",
        domain="development",
        flyte_conn_id="flyte_conn_example",
        mode="reschedule",
        poke_interval=5 * 60,  # check every 5 minutes
        timeout=86400,  # wait for a day  (0.0.5 example: "86400"; Airflow 2 and 3 refuse a text timeout)
        soft_fail=True,  # task is skipped if the condition is not met by timeout
    )

    flyte_execution_start >> flyte_execution_wait_long
