"""Registration and polling helpers for the engine tests (flyteidl stubs only)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox import builders as b
from flyteidl.admin import (
    execution_pb2,
    launch_plan_pb2,
    node_execution_pb2,
    task_execution_pb2,
    task_pb2,
    workflow_pb2,
)
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2, literals_pb2, types_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from airflow_provider_flyte.literals import literal_map_to_python
from tests.support.polling import wait_until
from tests.support.sandboxes import new_sandbox

P, D = "flytesnacks", "development"
# Fast engine for tests: short default task time, frequent looks at signals.
TASK_DELAY = 0.01
POLL_INTERVAL = 0.02
WF = core_execution_pb2.WorkflowExecution
NODE = core_execution_pb2.NodeExecution
TASK = core_execution_pb2.TaskExecution
TERMINAL = {WF.SUCCEEDED, WF.FAILED, WF.ABORTED, WF.TIMED_OUT}
_versions = itertools.count()


def fast_sandbox(**options: Any) -> FlyteSandbox:
    """A sandbox on a free port whose engine runs default tasks and polls signals quickly."""
    options.setdefault("task_delay", TASK_DELAY)
    options.setdefault("poll_interval", POLL_INTERVAL)
    return new_sandbox(**options)


def unique(prefix: str) -> str:
    """A name not used before in this test session (tests share one sandbox per module)."""
    return f"{prefix}-{next(_versions)}"


def eventually(check: Callable[[], Any], limit: float = 30.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy; the deadline only guards against hangs."""
    return wait_until(check, limit, what)


def task(
    admin, name: str, inputs=None, outputs=None, *, retries: int = 0, timeout: float | None = None, version: str = "v1"
):
    """Register a container task (its behaviour comes from scripts or the engine's default)."""
    template = b._task_template(
        b.identifier(b.RT.TASK, name, version),
        "python-task",
        inputs or {},
        outputs or {},
        retries=retries,
        timeout=timeout,
    )
    admin.CreateTask(task_pb2.TaskCreateRequest(id=template.id, spec=task_pb2.TaskSpec(template=template)))
    return template.id


def workflow(admin, name: str, *, sub_workflows: Iterable[core_workflow_pb2.WorkflowTemplate] = (), **template: Any):
    """Register a workflow (and the sub-workflows it ships); returns its id."""
    built = b.workflow(name, **template)
    spec = workflow_pb2.WorkflowSpec(template=built, sub_workflows=list(sub_workflows))
    admin.CreateWorkflow(workflow_pb2.WorkflowCreateRequest(id=built.id, spec=spec))
    return built.id


def launch_plan(admin, workflow_id: identifier_pb2.Identifier, name: str | None = None, **spec: Any):
    plan_id = b.identifier(b.RT.LAUNCH_PLAN, name or workflow_id.name, workflow_id.version)
    admin.CreateLaunchPlan(
        launch_plan_pb2.LaunchPlanCreateRequest(id=plan_id, spec=b.launch_plan_spec(workflow_id, **spec))
    )
    return plan_id


def run(
    admin,
    plan_id,
    values: Mapping[str, Any] | None = None,
    types: Mapping[str, types_pb2.LiteralType] | None = None,
    name: str = "",
):
    inputs = b.literal_map(values or {}, types or {})
    request = execution_pb2.ExecutionCreateRequest(
        project=P, domain=D, name=name, spec=execution_pb2.ExecutionSpec(launch_plan=plan_id), inputs=inputs
    )
    return admin.CreateExecution(request).id


def get(admin, execution_id) -> execution_pb2.Execution:
    return admin.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=execution_id))


def wait(admin, execution_id, phases=TERMINAL) -> execution_pb2.Execution:
    return eventually(
        lambda: execution if (execution := get(admin, execution_id)).closure.phase in phases else None,
        what=f"execution {execution_id.name} to reach {sorted(WF.Phase.Name(p) for p in phases)}",
    )


def outputs(admin, execution_id) -> dict[str, Any]:
    data = admin.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=execution_id))
    return literal_map_to_python(data.full_outputs)


def nodes(admin, execution_id, parent: str = "") -> dict[str, node_execution_pb2.NodeExecution]:
    listed = admin.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(
            workflow_execution_id=execution_id, limit=100, unique_parent_id=parent
        )
    )
    return {node.id.node_id: node for node in listed.node_executions}


def node_id(execution_id, node: str) -> identifier_pb2.NodeExecutionIdentifier:
    return identifier_pb2.NodeExecutionIdentifier(node_id=node, execution_id=execution_id)


def attempts(admin, execution_id, node: str) -> list[task_execution_pb2.TaskExecution]:
    listed = admin.ListTaskExecutions(
        task_execution_pb2.TaskExecutionListRequest(node_execution_id=node_id(execution_id, node), limit=100)
    )
    return sorted(listed.task_executions, key=lambda attempt: attempt.id.retry_attempt)


def node_outputs(admin, execution_id, node: str) -> dict[str, Any]:
    data = admin.GetNodeExecutionData(node_execution_pb2.NodeExecutionGetDataRequest(id=node_id(execution_id, node)))
    return literal_map_to_python(data.full_outputs)


def task_node(node: str, task_id, inputs=None, upstream=(), **options: Any) -> core_workflow_pb2.Node:
    return b.task_node(node, task_id, inputs or {}, upstream, **options)


def binding_map(values: Mapping[str, literals_pb2.BindingData]) -> list[literals_pb2.Binding]:
    return [literals_pb2.Binding(var=name, binding=data) for name, data in values.items()]
