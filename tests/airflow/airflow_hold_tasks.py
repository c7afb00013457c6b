"""A sandbox task that runs until the test releases it: a Flyte execution that stays RUNNING on demand.

The sandbox engine runs built-in Python tasks in its own process, so the test and the task share these events.
``register_hold_workflow`` adds the ``hold.workflow`` launch plan (input ``key: str``) to a sandbox.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

_RELEASES: defaultdict[str, threading.Event] = defaultdict(threading.Event)
_LOCK = threading.Lock()
_MAX_HOLD_SECONDS = 120.0  # a forgotten release must not keep an engine thread forever

LAUNCH_PLAN = "hold.workflow"


def hold(key: str) -> str:
    """Block until :func:`release` is called with ``key``."""
    with _LOCK:
        event = _RELEASES[key]
    event.wait(_MAX_HOLD_SECONDS)
    return f"released {key}"


def release(key: str) -> None:
    with _LOCK:
        _RELEASES[key].set()


def release_all() -> None:
    with _LOCK:
        for event in _RELEASES.values():
            event.set()


def register_hold_workflow(sandbox: Any, project: str = "flytesnacks", domain: str = "development") -> None:
    from flyte_admin_sandbox import builders as b
    from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2

    task = b.python_task(
        "hold.wait",
        f"{__name__}:hold",
        inputs={"key": b.STRING},
        outputs={"o0": b.STRING},
        project=project,
        domain=domain,
    )
    workflow = b.workflow(
        "hold.workflow",
        inputs={"key": b.STRING},
        outputs={"o0": b.STRING},
        nodes=[b.task_node("wait", task.id, {"key": b.workflow_input("key")})],
        output_bindings={"o0": b.promise("wait", "o0")},
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
