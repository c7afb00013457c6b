"""Seed data: the ``flytesnacks`` project and a few demo entities to run, approve, backfill and watch fail.

* ``demo.pipeline`` (launch plan of the same name, active): ``numbers: list[int]``, ``scale: float = 2.0``,
  ``label: str = "demo"`` -> ``total: int``, ``mean: float``, ``report: str``, through three Python tasks.
* ``demo.gated_publish``: the pipeline's report waits for an approval (signal ``approve-report``) and a title typed
  in by a person (``wait_for_input`` signal ``title``, a string) before it is published.
* ``demo.nightly`` (launch plan ``demo.nightly``, active, cron ``0 2 * * *``): ``kickoff_time: datetime`` and
  ``region: str = "eu"``, for backfills.
* ``demo.always_fails``: fails with ``ValueError: demo failure: <reason>``.
"""

from __future__ import annotations

import grpc
from flyteidl.admin import launch_plan_pb2, project_pb2, task_pb2, workflow_pb2
from flyteidl.core import identifier_pb2, tasks_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from flyte_admin_sandbox import builders as b
from flyte_admin_sandbox.errors import AdminError

PROJECT = "flytesnacks"
VERSION = "v1"
_TASKS = "flyte_admin_sandbox.demo_tasks"


def _ignore_existing(error: AdminError) -> None:
    if error.code != grpc.StatusCode.ALREADY_EXISTS:
        raise error


def demo_tasks() -> list[tasks_pb2.TaskTemplate]:
    """The demo task templates."""
    return [
        b.python_task(
            "demo.summarize",
            f"{_TASKS}:summarize",
            inputs={"numbers": b.list_of(b.INTEGER)},
            outputs={"total": b.INTEGER, "count": b.INTEGER},
        ),
        b.python_task(
            "demo.scaled_mean",
            f"{_TASKS}:scaled_mean",
            inputs={"total": b.INTEGER, "count": b.INTEGER, "scale": b.FLOAT},
            outputs={"mean": b.FLOAT},
        ),
        b.python_task(
            "demo.report",
            f"{_TASKS}:report",
            inputs={"label": b.STRING, "mean": b.FLOAT, "count": b.INTEGER},
            outputs={"text": b.STRING},
        ),
        b.python_task(
            "demo.describe_run",
            f"{_TASKS}:describe_run",
            inputs={"kickoff_time": b.DATETIME, "region": b.STRING},
            outputs={"o0": b.STRING},
        ),
        b.python_task(
            "demo.publish",
            f"{_TASKS}:publish",
            inputs={"summary": b.STRING, "approved": b.BOOLEAN, "title": b.STRING},
            outputs={"o0": b.STRING},
        ),
        b.python_task("demo.explode", f"{_TASKS}:explode", inputs={"reason": b.STRING}, outputs={"o0": b.STRING}),
    ]


def _pipeline_nodes(scale: object) -> list[core_workflow_pb2.Node]:
    t = {name: b.identifier(b.RT.TASK, name) for name in ("demo.summarize", "demo.scaled_mean", "demo.report")}
    return [
        b.task_node("summarize", t["demo.summarize"], {"numbers": b.workflow_input("numbers")}),
        b.task_node(
            "mean",
            t["demo.scaled_mean"],
            {"total": b.promise("summarize", "total"), "count": b.promise("summarize", "count"), "scale": scale},  # type: ignore[dict-item]
        ),
        b.task_node(
            "report",
            t["demo.report"],
            {
                "label": b.workflow_input("label"),
                "mean": b.promise("mean", "mean"),
                "count": b.promise("summarize", "count"),
            },
        ),
    ]


def demo_workflows() -> list[core_workflow_pb2.WorkflowTemplate]:
    """The demo workflow templates."""
    pipeline = b.workflow(
        "demo.pipeline",
        inputs={"numbers": b.list_of(b.INTEGER), "scale": b.FLOAT, "label": b.STRING},
        outputs={"total": b.INTEGER, "mean": b.FLOAT, "report": b.STRING},
        nodes=_pipeline_nodes(b.workflow_input("scale")),
        output_bindings={
            "total": b.promise("summarize", "total"),
            "mean": b.promise("mean", "mean"),
            "report": b.promise("report", "text"),
        },
    )
    gated_nodes = [
        *_pipeline_nodes(b.constant(1.0, b.FLOAT)),
        b.approve_node("approve", "approve-report", {"text": b.promise("report", "text")}),
        b.signal_node("title", "title", b.STRING, upstream=["approve"]),
        b.task_node(
            "publish",
            b.identifier(b.RT.TASK, "demo.publish"),
            {
                "summary": b.promise("approve", "text"),
                "approved": b.constant(True, b.BOOLEAN),
                "title": b.promise("title", "o0"),
            },
        ),
    ]
    gated = b.workflow(
        "demo.gated_publish",
        inputs={"numbers": b.list_of(b.INTEGER), "label": b.STRING},
        outputs={"o0": b.STRING},
        nodes=gated_nodes,
        output_bindings={"o0": b.promise("publish", "o0")},
    )
    nightly = b.workflow(
        "demo.nightly",
        inputs={"kickoff_time": b.DATETIME, "region": b.STRING},
        outputs={"o0": b.STRING},
        nodes=[
            b.task_node(
                "describe",
                b.identifier(b.RT.TASK, "demo.describe_run"),
                {"kickoff_time": b.workflow_input("kickoff_time"), "region": b.workflow_input("region")},
            )
        ],
        output_bindings={"o0": b.promise("describe", "o0")},
    )
    fails = b.workflow(
        "demo.always_fails",
        inputs={"reason": b.STRING},
        outputs={"o0": b.STRING},
        nodes=[b.task_node("explode", b.identifier(b.RT.TASK, "demo.explode"), {"reason": b.workflow_input("reason")})],
        output_bindings={"o0": b.promise("explode", "o0")},
    )
    return [pipeline, gated, nightly, fails]


def demo_launch_plans() -> list[tuple[launch_plan_pb2.LaunchPlanCreateRequest, bool]]:
    """The demo launch plans, with whether each is activated."""

    def wf(name: str) -> identifier_pb2.Identifier:
        return b.identifier(b.RT.WORKFLOW, name)

    plans = [
        (
            "demo.pipeline",
            b.launch_plan_spec(wf("demo.pipeline"), defaults={"scale": (b.FLOAT, 2.0), "label": (b.STRING, "demo")}),
            True,
        ),
        (
            "demo.gated_publish",
            b.launch_plan_spec(wf("demo.gated_publish"), defaults={"label": (b.STRING, "gated")}),
            True,
        ),
        (
            "demo.nightly",
            b.launch_plan_spec(
                wf("demo.nightly"),
                defaults={"region": (b.STRING, "eu")},
                cron="0 2 * * *",
                kickoff_input="kickoff_time",
            ),
            True,
        ),
        (
            "demo.always_fails",
            b.launch_plan_spec(wf("demo.always_fails"), defaults={"reason": (b.STRING, "this run was meant to fail")}),
            True,
        ),
    ]
    return [
        (launch_plan_pb2.LaunchPlanCreateRequest(id=b.identifier(b.RT.LAUNCH_PLAN, name), spec=spec), active)
        for name, spec, active in plans
    ]


def seed(sandbox: object) -> None:
    """Create the project and the demo entities in every domain, skipping what already exists."""
    registry = sandbox.registry  # type: ignore[attr-defined]
    if registry.store.one("SELECT id FROM projects WHERE identifier = ?", (PROJECT,)) is None:
        registry.RegisterProject(
            project_pb2.ProjectRegisterRequest(
                project=project_pb2.Project(id=PROJECT, name=PROJECT, description="Default project setup.")
            )
        )
    for domain in registry.domains:
        for template in demo_tasks():
            template.id.domain = domain
            try:
                registry.CreateTask(
                    task_pb2.TaskCreateRequest(id=template.id, spec=task_pb2.TaskSpec(template=template))
                )
            except AdminError as error:
                _ignore_existing(error)
        for workflow in demo_workflows():
            workflow.id.domain = domain
            for node in workflow.nodes:
                if node.HasField("task_node"):
                    node.task_node.reference_id.domain = domain
            request = workflow_pb2.WorkflowCreateRequest(
                id=workflow.id, spec=workflow_pb2.WorkflowSpec(template=workflow)
            )
            try:
                registry.CreateWorkflow(request)
            except AdminError as error:
                _ignore_existing(error)
        for plan, active in demo_launch_plans():
            plan.id.domain = domain
            plan.spec.workflow_id.domain = domain
            try:
                registry.CreateLaunchPlan(plan)
            except AdminError as error:
                _ignore_existing(error)
                continue
            if active:
                registry.UpdateLaunchPlan(
                    launch_plan_pb2.LaunchPlanUpdateRequest(id=plan.id, state=launch_plan_pb2.ACTIVE)
                )
