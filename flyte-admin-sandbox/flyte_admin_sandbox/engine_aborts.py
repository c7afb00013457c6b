"""Aborting an execution: its running nodes, task attempts, local processes and child executions.

Used when an execution is terminated (ABORTING, then ABORTED) and when a failed node fails its workflow (the nodes
still running are aborted).
"""

from __future__ import annotations

import grpc
from flyteidl.admin import execution_pb2 as admin_execution_pb2
from flyteidl.admin import node_execution_pb2
from flyteidl.core import identifier_pb2

from flyte_admin_sandbox.engine_core import EngineCore
from flyte_admin_sandbox.errors import AdminError
from flyte_admin_sandbox.records import NODE_TERMINAL, TASK_TERMINAL, ExecutionKey, NodePhase, TaskPhase, WorkflowPhase


class Aborts(EngineCore):
    """Stopping what an execution still runs."""

    def _abort_running(self, key: ExecutionKey) -> None:
        """Abort every unfinished node and task attempt of an execution and terminate its child executions."""
        for uid, node in self.records.node_rows(key).items():
            if NodePhase.Value(node["phase"]) in NODE_TERMINAL:
                continue
            closure = node_execution_pb2.NodeExecutionClosure.FromString(node["closure"])
            if closure.workflow_node_metadata.HasField("executionId"):
                self._terminate_child(ExecutionKey.of(closure.workflow_node_metadata.executionId))
            self.records.node_event(key, uid, NodePhase.ABORTED)
        for task in self.records.store.all(
            "SELECT * FROM task_executions WHERE execution_project = ? AND execution_domain = ? AND execution_name = ?",
            key.params,
        ):
            if TaskPhase.Value(task["phase"]) in TASK_TERMINAL:
                continue
            task_id = identifier_pb2.Identifier(
                resource_type=identifier_pb2.ResourceType.TASK,
                project=task["project"],
                domain=task["domain"],
                name=task["name"],
                version=task["version"],
            )
            self.records.task_event(key, task["node_id"], task_id, task["retry_attempt"], TaskPhase.ABORTED)
        with self._results_lock:
            self._pending = {attempt for attempt in self._pending if attempt[0] != key}
            for attempt, cancel in self._cancels.items():
                if attempt[0] == key:
                    cancel.set()

    def _terminate_child(self, child: ExecutionKey) -> None:
        if self.executions is None:
            return
        try:
            self.executions.TerminateExecution(
                admin_execution_pb2.ExecutionTerminateRequest(id=child.to_proto(), cause="parent execution was aborted")
            )
        except AdminError as error:
            if error.code not in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND):
                raise

    def _finish_abort(self, key: ExecutionKey, spec: admin_execution_pb2.ExecutionSpec) -> None:
        self._abort_running(key)
        self.records.workflow_event(key, WorkflowPhase.ABORTED)
        self._finished(key, spec)
