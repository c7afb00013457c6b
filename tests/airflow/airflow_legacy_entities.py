"""Stand-ins for the Flyte entities the 0.0.5 example DAGs launch, registered in a test's sandbox.

* ``core.basic.lp.my_wf`` version ``v1`` (flytesnacks' ``core/flyte_basics/lp.py``): ``my_wf(val: int) -> int``
  squares ``val``; the 0.0.5 examples in ``flyte_provider/example_dags/`` launch it.
* ``ml_training.pima_diabetes.diabetes.diabetes_xgboost_model`` (flytesnacks' XGBoost example):
  ``(test_split_ratio: float, seed: int) -> float``; the 0.0.5 demo DAG ``demo/dags/sensor.py`` launches it.

The sandbox engine calls the Python functions below in this process.
"""

from __future__ import annotations

from typing import Any

PROJECT, DOMAIN = "flytesnacks", "development"
MY_WF = "core.basic.lp.my_wf"
DIABETES = "ml_training.pima_diabetes.diabetes.diabetes_xgboost_model"


def square(val: int) -> int:
    return val * val


def diabetes_accuracy(test_split_ratio: float, seed: int) -> float:
    return round(0.5 + test_split_ratio / 4 + seed / 1000, 6)


def register_legacy_entities(sandbox: Any) -> None:
    """Register both launch plans (and their workflows and tasks) in ``sandbox``'s flytesnacks/development."""
    from flyte_admin_sandbox import builders as b

    _register(
        sandbox,
        MY_WF,
        task=("core.basic.lp.square", "square"),
        inputs={"val": b.INTEGER},
        output=b.INTEGER,
    )
    _register(
        sandbox,
        DIABETES,
        task=("ml_training.pima_diabetes.diabetes.fit", "diabetes_accuracy"),
        inputs={"test_split_ratio": b.FLOAT, "seed": b.INTEGER},
        output=b.FLOAT,
    )


def _register(sandbox: Any, name: str, *, task: tuple[str, str], inputs: dict[str, Any], output: Any) -> None:
    from flyte_admin_sandbox import builders as b
    from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2

    task_name, function = task
    template = b.python_task(task_name, f"{__name__}:{function}", inputs=inputs, outputs={"o0": output})
    workflow = b.workflow(
        name,
        inputs=inputs,
        outputs={"o0": output},
        nodes=[b.task_node("n0", template.id, {key: b.workflow_input(key) for key in inputs})],
        output_bindings={"o0": b.promise("n0", "o0")},
    )
    registry = sandbox.registry
    registry.CreateTask(task_pb2.TaskCreateRequest(id=template.id, spec=task_pb2.TaskSpec(template=template)))
    registry.CreateWorkflow(
        workflow_pb2.WorkflowCreateRequest(id=workflow.id, spec=workflow_pb2.WorkflowSpec(template=workflow))
    )
    plan_id = b.identifier(b.RT.LAUNCH_PLAN, name)
    registry.CreateLaunchPlan(
        launch_plan_pb2.LaunchPlanCreateRequest(id=plan_id, spec=b.launch_plan_spec(workflow.id, required=inputs))
    )
