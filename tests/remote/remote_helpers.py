"""Helpers of the remote tests: a log of the RPCs a client makes, entities built for the sandbox, polling guards."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flyte_admin_sandbox import builders as b
from flyteidl.admin import task_pb2, workflow_pb2
from flyteidl.core import types_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient
from airflow_provider_flyte.remote import FlyteRemote, FlyteTask, FlyteWorkflow, FlyteWorkflowExecution
from tests.support.polling import wait_until

P, D = "flytesnacks", "development"
# Generous upper bound on how long an execution of these small workflows may take: a hang guard, never asserted on.
HANG_GUARD = 60.0
POLL = 0.02

T = TypeVar("T")


class RpcLog:
    """Every RPC a spied-on client sent, in order, as ``(method name, request)``."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, Any]] = []

    def calls(self, method: str) -> list[Any]:
        """Requests of ``method`` (short name, e.g. ``"GetExecution"``)."""
        return [request for name, request in self.entries if name == method]

    def names(self, since: int = 0) -> list[str]:
        """Method names from position ``since`` on."""
        return [name for name, _ in self.entries[since:]]

    def mark(self) -> int:
        """The current position, for :meth:`names`."""
        return len(self.entries)


class _RecordingStub:
    """Wraps a flyteidl stub: each RPC is logged, then sent unchanged."""

    def __init__(self, stub: Any, log: RpcLog) -> None:
        self._stub = stub
        self._log = log

    def __getattr__(self, method: str) -> Callable[..., Any]:
        rpc = getattr(self._stub, method)

        def call(request: Any, *args: Any, **kwargs: Any) -> Any:
            self._log.entries.append((method, request))
            return rpc(request, *args, **kwargs)

        return call


def spy_on(client: SynchronousFlyteClient, log: RpcLog) -> SynchronousFlyteClient:
    """Log every Admin, Signal and DataProxy RPC ``client`` makes (through its real, intercepted stubs)."""
    raw = client.raw
    for service in ("admin_service", "signal_service", "data_proxy_service"):
        setattr(raw, service, _RecordingStub(getattr(raw, service), log))
    return client


def eventually(probe: Callable[[], T | None], what: str, limit: float = HANG_GUARD) -> T:
    """Poll ``probe`` until it returns something truthy; fail (naming ``what``) only if it never does."""
    return wait_until(probe, limit, what, interval=POLL)  # type: ignore[return-value]


def finish(execution: FlyteWorkflowExecution, sync_nodes: bool = False) -> FlyteWorkflowExecution:
    """Wait for a sandbox execution to end (the timeout only guards against a hang)."""
    return execution.wait(timeout=HANG_GUARD, poll_interval=POLL, sync_nodes=sync_nodes)


def add_one_task(version: str = "v1", name: str = "remote.add_one", retries: int = 0) -> task_pb2.TaskSpec:
    """A Python task ``x: int -> o0: int`` computing ``x + 1`` in the sandbox engine."""
    template = b.python_task(
        name,
        "remote_tasks:add_one",
        inputs={"x": b.INTEGER},
        outputs={"o0": b.INTEGER},
        version=version,
        retries=retries,
    )
    return task_pb2.TaskSpec(template=template)


def container_task(name: str = "remote.container", version: str = "v1", **inputs: types_pb2.LiteralType) -> Any:
    """A container task (the sandbox succeeds it with placeholder outputs) with the given inputs and output ``o0``."""
    template = b.container_task(name, inputs=inputs or {"x": b.INTEGER}, outputs={"o0": b.INTEGER}, version=version)
    return task_pb2.TaskSpec(template=template)


def add_one_workflow(
    name: str = "remote.wf", version: str = "v1", task_version: str = "v1", task_name: str = "remote.add_one"
) -> workflow_pb2.WorkflowSpec:
    """A workflow ``x: int -> o0: int`` running the add-one task twice (``x + 2``)."""
    task_id = b.identifier(b.RT.TASK, task_name, task_version)
    template = b.workflow(
        name,
        inputs={"x": b.INTEGER},
        outputs={"o0": b.INTEGER},
        nodes=[
            b.task_node("first", task_id, {"x": b.workflow_input("x")}),
            b.task_node("second", task_id, {"x": b.promise("first", "o0")}),
        ],
        output_bindings={"o0": b.promise("second", "o0")},
        version=version,
    )
    return workflow_pb2.WorkflowSpec(template=template)


def workflow_spec(
    template: core_workflow_pb2.WorkflowTemplate, sub_workflows: Iterable[core_workflow_pb2.WorkflowTemplate] = ()
) -> workflow_pb2.WorkflowSpec:
    """An ``admin.WorkflowSpec`` for registration."""
    return workflow_pb2.WorkflowSpec(template=template, sub_workflows=list(sub_workflows))


def register_basics(remote: FlyteRemote) -> tuple[FlyteTask, FlyteWorkflow]:
    """Register the add-one task (v1 and v2) and the add-one workflow (v1, on task v1) with its default launch plan."""
    task = remote.register_task(add_one_task("v1"))
    remote.register_task(add_one_task("v2"))
    workflow = remote.register_workflow(add_one_workflow())
    return task, workflow
