# Test copy of demo/dags/sensor.py of airflow-provider-flyte 0.0.5 (flyteorg/airflow-provider-flyte at tag v0.0.5,
# Apache-2.0): the one DAG of that repository written against the package 0.0.5 shipped. Run by
# tests/airflow/test_legacy_example_dags.py; changed only where Airflow 3 requires it (marked "0.0.5 example:").
from datetime import datetime, timedelta

from airflow import DAG

from flyte_provider.operators.flyte import FlyteOperator
from flyte_provider.sensors.flyte import FlyteSensor

with DAG(
    dag_id="example_flyte",
    schedule=None,  # 0.0.5 example: schedule_interval=None (removed in Airflow 3)
    start_date=datetime(2021, 1, 1),
    dagrun_timeout=timedelta(minutes=60),
    catchup=False,
) as dag:
    task = FlyteOperator(
        task_id="diabetes_predictions",
        flyte_conn_id="flyte_conn",
        project="flytesnacks",
        domain="development",
        launchplan_name="ml_training.pima_diabetes.diabetes.diabetes_xgboost_model",
        inputs={"test_split_ratio": 0.66, "seed": 5},
    )

    sensor = FlyteSensor(
        task_id="sensor",
        execution_name=task.output,
        project="flytesnacks",
        domain="development",
        flyte_conn_id="flyte_conn",
    )

    task >> sensor
