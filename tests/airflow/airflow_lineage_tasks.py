"""A sandbox launch plan whose inputs and outputs carry dataset URIs, for the OpenLineage tests.

``lineage.summarize`` takes a file (``raw``), a list of files (``extra``) and a plain string (``note``) and returns a
structured dataset at :data:`OUTPUT_URI`. The sandbox engine runs :func:`summarize` in its own process.
"""

from __future__ import annotations

from typing import Any

LAUNCH_PLAN = "lineage.summarize"
OUTPUT_URI = "s3://lineage-out/tables/summary"
INPUTS = {
    "raw": "s3://lineage-in/raw/data.csv",
    "extra": ["gs://lineage-in/extra/a.csv", "gs://lineage-in/extra/b.csv"],
    "note": "a value lineage must not report",
}
"""Inputs to launch it with: the URIs are datasets, ``note`` is a value that must stay out of lineage."""


def summarize(raw: Any, extra: Any, note: str) -> Any:
    """The task: a structured dataset at a fixed place (the inputs are only read)."""
    from airflow_provider_flyte.literals import StructuredDataset

    assert raw.path
    assert len(extra) == 2
    assert note
    return StructuredDataset(OUTPUT_URI, "parquet")


def register_lineage_workflow(sandbox: Any, project: str = "flytesnacks", domain: str = "development") -> None:
    """Register the task, its workflow and the ``lineage.summarize`` launch plan in ``sandbox``."""
    from flyte_admin_sandbox import builders as b
    from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
    from flyteidl.core import types_pb2

    csv = types_pb2.LiteralType(blob=types_pb2.BlobType(format="csv", dimensionality=types_pb2.BlobType.SINGLE))
    table = types_pb2.LiteralType(structured_dataset_type=types_pb2.StructuredDatasetType(format="parquet"))
    inputs = {"raw": csv, "extra": b.list_of(csv), "note": b.STRING}
    task = b.python_task(
        "lineage.summarize_task",
        f"{__name__}:summarize",
        inputs=inputs,
        outputs={"table": table},
        project=project,
        domain=domain,
    )
    workflow = b.workflow(
        "lineage.summarize_wf",
        inputs=inputs,
        outputs={"table": table},
        nodes=[b.task_node("summarize", task.id, {name: b.workflow_input(name) for name in inputs})],
        output_bindings={"table": b.promise("summarize", "table")},
        project=project,
        domain=domain,
    )
    plan_id = b.identifier(b.RT.LAUNCH_PLAN, LAUNCH_PLAN, project=project, domain=domain)
    registry = sandbox.registry
    registry.CreateTask(task_pb2.TaskCreateRequest(id=task.id, spec=task_pb2.TaskSpec(template=task)))
    registry.CreateWorkflow(
        workflow_pb2.WorkflowCreateRequest(id=workflow.id, spec=workflow_pb2.WorkflowSpec(template=workflow))
    )
    registry.CreateLaunchPlan(launch_plan_pb2.LaunchPlanCreateRequest(id=plan_id, spec=b.launch_plan_spec(workflow.id)))
