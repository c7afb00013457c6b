# ruff: noqa: I001  (the imports keep the order of the 0.0.5 file)
# Test copy of flyte_provider/example_dags/example_flyte.py of airflow-provider-flyte 0.0.5 (flyteorg/airflow-provider-
# flyte at tag v0.0.5, Apache-2.0), run by tests/airflow/test_legacy_example_dags.py. Changed only where the file could
# not run with 0.0.5 either, or where Airflow 3 requires it; each change is marked "0.0.5 example:". The original
# imports name `flyte_providers.flyte.*`, a module no release shipped (0.0.5 shipped `flyte_provider`).
from datetime import datetime, timedelta

from airflow import DAG
from flyte_provider.operators.flyte import FlyteOperator  # 0.0.5 example: flyte_providers.flyte.operators.flyte
from flytekit.models.core import execution as _execution_model

_workflow_execution_succeeded = _execution_model.WorkflowExecutionPhase.SUCCEEDED

with DAG(
    dag_id="example_flyte_operator",
    schedule=None,  # 0.0.5 example: schedule_interval=None (removed in Airflow 3)
    start_date=datetime(2021, 1, 1),
    dagrun_timeout=timedelta(minutes=60),
    tags=["example"],
    catchup=False,
) as dag:
    # do not wait for the execution to complete
    flyte_execution = FlyteOperator(
        task_id="flyte_task",
        flyte_conn_id="flyte_conn_example",
        project="flytesnacks",
        domain="development",
        launchplan_name="core.basic.lp.my_wf",
        assumable_iam_role="default",
        kubernetes_service_account="demo",
        version="v1",
        inputs={"val": 19},
        notifications=[
            {
                "phases": [_workflow_execution_succeeded],
                "email": {"recipients_email": ["abc@flyte.org"]},
            }
        ],
        # 0.0.5 example: "client_secret": "456"; Flyte takes a reference to a Flyte secret, and 0.0.5 failed every
        # launch given a text (flytekit put it into a Secret message field).
        oauth2_client={"client_id": "123", "client_secret": {"group": "oauth2", "key": "456"}},
        secrets=[{"group": "secrets", "key": "123"}],
    )
