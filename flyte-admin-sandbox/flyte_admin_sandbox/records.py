"""Reading and writing execution records: workflow, node and task executions and their events.

This is the seam between the Admin services and the engine. The engine reports progress only through
:class:`Records` (as propeller reports through CreateWorkflowEvent / CreateNodeEvent / CreateTaskEvent), and the
services read the same rows back, so phases, timestamps, inputs and outputs look as Flyte Admin shows them.
"""

from __future__ import annotations

import datetime
import sqlite3
from dataclasses import dataclass

from flyteidl.admin import execution_pb2 as admin_execution_pb2
from flyteidl.admin import node_execution_pb2, task_execution_pb2
from flyteidl.core import compiler_pb2, execution_pb2, identifier_pb2, literals_pb2
from google.protobuf import duration_pb2, timestamp_pb2

from flyte_admin_sandbox.blobs import BlobStore
from flyte_admin_sandbox.errors import already_exists, entity_not_found, failed_precondition
from flyte_admin_sandbox.filters import format_timestamp
from flyte_admin_sandbox.store import Store, now

WorkflowPhase = execution_pb2.WorkflowExecution.Phase
NodePhase = execution_pb2.NodeExecution.Phase
TaskPhase = execution_pb2.TaskExecution.Phase

WORKFLOW_TERMINAL = frozenset(
    {WorkflowPhase.SUCCEEDED, WorkflowPhase.FAILED, WorkflowPhase.TIMED_OUT, WorkflowPhase.ABORTED}
)
NODE_TERMINAL = frozenset(
    {
        NodePhase.SUCCEEDED,
        NodePhase.FAILED,
        NodePhase.TIMED_OUT,
        NodePhase.ABORTED,
        NodePhase.SKIPPED,
        NodePhase.RECOVERED,
    }
)
TASK_TERMINAL = frozenset({TaskPhase.SUCCEEDED, TaskPhase.FAILED, TaskPhase.ABORTED})


def timestamp(moment: datetime.datetime) -> timestamp_pb2.Timestamp:
    """A protobuf timestamp of an aware datetime."""
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment.astimezone(datetime.timezone.utc).replace(tzinfo=None))
    return stamp


def parse_stored(text: str | None) -> datetime.datetime | None:
    """A stored timestamp column back as an aware datetime."""
    if not text:
        return None
    return datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)


def _duration(nanoseconds: int) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=nanoseconds // 10**9, nanos=nanoseconds % 10**9)


def _nanoseconds_between(start: datetime.datetime, end: datetime.datetime) -> int:
    delta = end - start
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def literal_map(data: bytes | None) -> literals_pb2.LiteralMap:
    """A stored literal map column (an empty map when nothing is stored)."""
    return literals_pb2.LiteralMap.FromString(data) if data else literals_pb2.LiteralMap()


@dataclass(frozen=True)
class ExecutionKey:
    """The (project, domain, name) of a workflow execution, the key every execution row carries."""

    project: str
    domain: str
    name: str

    @classmethod
    def of(cls, identifier: identifier_pb2.WorkflowExecutionIdentifier) -> ExecutionKey:
        """From a protobuf execution id."""
        return cls(identifier.project, identifier.domain, identifier.name)

    def to_proto(self) -> identifier_pb2.WorkflowExecutionIdentifier:
        """The protobuf execution id."""
        return identifier_pb2.WorkflowExecutionIdentifier(project=self.project, domain=self.domain, name=self.name)

    @property
    def params(self) -> tuple[str, str, str]:
        """The three key columns as query parameters."""
        return (self.project, self.domain, self.name)


_KEY_WHERE = "execution_project = ? AND execution_domain = ? AND execution_name = ?"


class Records:
    """Execution records over a :class:`Store`, with Flyte Admin's event rules.

    Args:
        store: The database.
        blobs: Where offloaded outputs are written (their URIs appear in closures).
    """

    def __init__(self, store: Store, blobs: BlobStore) -> None:
        self.store = store
        self.blobs = blobs

    # Workflow executions ------------------------------------------------------------------------------------------

    def execution_row(self, key: ExecutionKey) -> sqlite3.Row:
        """The execution's row.

        Raises:
            AdminError: ``NOT_FOUND missing entity of type execution ...``.
        """
        row = self.store.one(f"SELECT * FROM executions WHERE {_KEY_WHERE}", key.params)
        if row is None:
            raise entity_not_found("execution", key.to_proto())
        return row

    @staticmethod
    def execution_proto(row: sqlite3.Row) -> admin_execution_pb2.Execution:
        """The ``admin.Execution`` of a row."""
        execution = admin_execution_pb2.Execution(
            id=identifier_pb2.WorkflowExecutionIdentifier(
                project=row["execution_project"], domain=row["execution_domain"], name=row["execution_name"]
            ),
            spec=admin_execution_pb2.ExecutionSpec.FromString(row["spec"]),
            closure=admin_execution_pb2.ExecutionClosure.FromString(row["closure"]),
        )
        system = execution.spec.metadata.system_metadata
        if not system.namespace:
            system.namespace = f"{row['execution_project']}-{row['execution_domain']}"
        return execution

    def workflow_event(
        self,
        key: ExecutionKey,
        phase: execution_pb2.WorkflowExecution.Phase,
        *,
        occurred_at: datetime.datetime | None = None,
        outputs: literals_pb2.LiteralMap | None = None,
        error: execution_pb2.ExecutionError | None = None,
    ) -> None:
        """Record a workflow phase change as CreateWorkflowEvent does.

        Raises:
            AdminError: ``ALREADY_EXISTS`` for a repeated phase, ``FAILED_PRECONDITION`` from a terminal phase or
                from ABORTING to a non-terminal phase.
        """
        moment = occurred_at or now()
        with self.store.transaction():
            row = self.execution_row(key)
            closure = admin_execution_pb2.ExecutionClosure.FromString(row["closure"])
            current = closure.phase
            name = WorkflowPhase.Name(phase)
            if current == phase:
                raise already_exists(f"This phase {name} was already recorded for workflow execution {key.to_proto()}")
            if current in WORKFLOW_TERMINAL:
                raise failed_precondition(
                    f"Invalid phase change from {WorkflowPhase.Name(current)} to {name} for workflow execution "
                    f"{key.to_proto()}"
                )
            if current == WorkflowPhase.ABORTING and phase not in WORKFLOW_TERMINAL:
                raise failed_precondition(
                    f"Invalid phase change from aborting to {name} for workflow execution {key.to_proto()}"
                )
            columns: dict[str, object] = {"phase": name, "execution_updated_at": format_timestamp(moment)}
            closure.phase = phase
            closure.updated_at.CopyFrom(timestamp(moment))
            if phase == WorkflowPhase.RUNNING and not row["started_at"]:
                closure.started_at.CopyFrom(timestamp(moment))
                columns["started_at"] = format_timestamp(moment)
            started = parse_stored(row["started_at"]) or (moment if phase == WorkflowPhase.RUNNING else None)
            if phase in WORKFLOW_TERMINAL and started is not None:
                elapsed = _nanoseconds_between(started, moment)
                closure.duration.CopyFrom(_duration(elapsed))
                columns["duration"] = elapsed
            if outputs is not None:
                key_path = f"metadata/{key.project}/{key.domain}/{key.name}/offloaded_outputs"
                closure.outputs.uri = self.blobs.put(key_path, outputs.SerializeToString(deterministic=True))
                columns["outputs"] = outputs.SerializeToString(deterministic=True)
            if error is not None:
                closure.error.CopyFrom(error)
                columns["error_kind"] = execution_pb2.ExecutionError.ErrorKind.Name(error.kind)
                columns["error_code"] = error.code
            columns["closure"] = closure.SerializeToString()
            self.store.update("executions", row["id"], columns)

    # Node executions ---------------------------------------------------------------------------------------------

    def node_row(self, key: ExecutionKey, node_id: str) -> sqlite3.Row | None:
        """A node execution's row, or ``None``."""
        return self.store.one(
            f"SELECT * FROM node_executions WHERE {_KEY_WHERE} AND node_id = ?", (*key.params, node_id)
        )

    def node_rows(self, key: ExecutionKey) -> dict[str, sqlite3.Row]:
        """Every node execution of an execution, by node id."""
        rows = self.store.all(f"SELECT * FROM node_executions WHERE {_KEY_WHERE}", key.params)
        return {row["node_id"]: row for row in rows}

    @staticmethod
    def node_proto(row: sqlite3.Row) -> node_execution_pb2.NodeExecution:
        """The ``admin.NodeExecution`` of a row."""
        return node_execution_pb2.NodeExecution(
            id=identifier_pb2.NodeExecutionIdentifier(
                node_id=row["node_id"],
                execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                    project=row["execution_project"], domain=row["execution_domain"], name=row["execution_name"]
                ),
            ),
            input_uri=row["input_uri"] or "",
            closure=node_execution_pb2.NodeExecutionClosure.FromString(row["closure"]),
            metadata=node_execution_pb2.NodeExecutionMetaData.FromString(row["node_execution_metadata"] or b""),
        )

    def node_event(
        self,
        key: ExecutionKey,
        node_id: str,
        phase: execution_pb2.NodeExecution.Phase,
        *,
        occurred_at: datetime.datetime | None = None,
        inputs: literals_pb2.LiteralMap | None = None,
        outputs: literals_pb2.LiteralMap | None = None,
        error: execution_pb2.ExecutionError | None = None,
        parent_id: int | None = None,
        metadata: node_execution_pb2.NodeExecutionMetaData | None = None,
        child_execution: identifier_pb2.WorkflowExecutionIdentifier | None = None,
        parent_task_execution_id: int | None = None,
        dynamic_workflow: compiler_pb2.CompiledWorkflowClosure | None = None,
        dynamic_job_spec_uri: str = "",
    ) -> int:
        """Create or advance a node execution as CreateNodeEvent does; returns its row id.

        The first event creates the row (its ``created_at`` is the event time); RUNNING stamps ``started_at``;
        a terminal phase stamps the duration. Events for a node already in a terminal phase are ignored.

        ``parent_task_execution_id`` (the row id of the task attempt that launched the node, for the children of a
        dynamic node) is kept from the first event, as Admin keeps ``parent_task_metadata``. ``dynamic_workflow`` is
        the workflow a dynamic node compiled: Admin stores it for GetDynamicNodeWorkflow and GetNodeExecutionData,
        and ``dynamic_job_spec_uri`` goes to the closure.
        """
        moment = occurred_at or now()
        stamp = format_timestamp(moment)
        with self.store.transaction():
            row = self.node_row(key, node_id)
            if row is None:
                closure = node_execution_pb2.NodeExecutionClosure(created_at=timestamp(moment))
                row_id = self.store.insert(
                    "node_executions",
                    {
                        "execution_project": key.project,
                        "execution_domain": key.domain,
                        "execution_name": key.name,
                        "node_id": node_id,
                        "node_execution_created_at": stamp,
                        "parent_id": parent_id,
                        "parent_task_execution_id": parent_task_execution_id,
                        "closure": closure.SerializeToString(),
                        "node_execution_metadata": (
                            metadata or node_execution_pb2.NodeExecutionMetaData()
                        ).SerializeToString(),
                    },
                )
                row = self.store.one("SELECT * FROM node_executions WHERE id = ?", (row_id,))
                assert row is not None
            closure = node_execution_pb2.NodeExecutionClosure.FromString(row["closure"])
            if closure.phase in NODE_TERMINAL and closure.phase != NodePhase.UNDEFINED:
                return int(row["id"])
            columns: dict[str, object] = {"phase": NodePhase.Name(phase), "node_execution_updated_at": stamp}
            closure.phase = phase
            closure.updated_at.CopyFrom(timestamp(moment))
            if phase in (NodePhase.RUNNING, NodePhase.QUEUED) and not row["started_at"] and phase == NodePhase.RUNNING:
                closure.started_at.CopyFrom(timestamp(moment))
                columns["started_at"] = stamp
            started = parse_stored(row["started_at"]) or (moment if phase == NodePhase.RUNNING else None)
            if phase in NODE_TERMINAL and started is not None:
                elapsed = _nanoseconds_between(started, moment)
                closure.duration.CopyFrom(_duration(elapsed))
                columns["duration"] = elapsed
            prefix = f"metadata/{key.project}/{key.domain}/{key.name}/{node_id}"
            if inputs is not None:
                columns["inputs"] = inputs.SerializeToString(deterministic=True)
                columns["input_uri"] = self.blobs.uri(f"{prefix}/inputs.pb")
            if outputs is not None:
                data = outputs.SerializeToString(deterministic=True)
                columns["outputs"] = data
                closure.output_uri = self.blobs.put(f"{prefix}/offloaded_outputs", data)
            if error is not None:
                closure.error.CopyFrom(error)
                columns["error_kind"] = execution_pb2.ExecutionError.ErrorKind.Name(error.kind)
                columns["error_code"] = error.code
            if child_execution is not None:
                closure.workflow_node_metadata.executionId.CopyFrom(child_execution)
            if dynamic_workflow is not None:
                columns["internal_data"] = dynamic_workflow.SerializeToString(deterministic=True)
            if dynamic_job_spec_uri:
                closure.dynamic_job_spec_uri = dynamic_job_spec_uri
            if metadata is not None:
                columns["node_execution_metadata"] = metadata.SerializeToString()
            columns["closure"] = closure.SerializeToString()
            self.store.update("node_executions", row["id"], columns)
            return int(row["id"])

    # Task executions ---------------------------------------------------------------------------------------------

    @staticmethod
    def task_proto(row: sqlite3.Row, *, is_parent: bool = False) -> task_execution_pb2.TaskExecution:
        """The ``admin.TaskExecution`` of a row (``is_parent``: the attempt launched node executions)."""
        return task_execution_pb2.TaskExecution(
            id=identifier_pb2.TaskExecutionIdentifier(
                task_id=identifier_pb2.Identifier(
                    resource_type=identifier_pb2.ResourceType.TASK,
                    project=row["project"],
                    domain=row["domain"],
                    name=row["name"],
                    version=row["version"],
                ),
                node_execution_id=identifier_pb2.NodeExecutionIdentifier(
                    node_id=row["node_id"],
                    execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                        project=row["execution_project"], domain=row["execution_domain"], name=row["execution_name"]
                    ),
                ),
                retry_attempt=row["retry_attempt"],
            ),
            input_uri=row["input_uri"] or "",
            closure=task_execution_pb2.TaskExecutionClosure.FromString(row["closure"]),
            is_parent=is_parent,
        )

    def task_event(
        self,
        key: ExecutionKey,
        node_id: str,
        task_id: identifier_pb2.Identifier,
        retry_attempt: int,
        phase: execution_pb2.TaskExecution.Phase,
        *,
        occurred_at: datetime.datetime | None = None,
        inputs: literals_pb2.LiteralMap | None = None,
        outputs: literals_pb2.LiteralMap | None = None,
        error: execution_pb2.ExecutionError | None = None,
        task_type: str = "",
        reason: str = "",
    ) -> int:
        """Create or advance one attempt of a task as CreateTaskEvent does; returns its row id."""
        moment = occurred_at or now()
        stamp = format_timestamp(moment)
        where = f"{_KEY_WHERE} AND node_id = ? AND retry_attempt = ?"
        with self.store.transaction():
            row = self.store.one(f"SELECT * FROM task_executions WHERE {where}", (*key.params, node_id, retry_attempt))
            if row is None:
                closure = task_execution_pb2.TaskExecutionClosure(created_at=timestamp(moment), task_type=task_type)
                row_id = self.store.insert(
                    "task_executions",
                    {
                        "project": task_id.project,
                        "domain": task_id.domain,
                        "name": task_id.name,
                        "version": task_id.version,
                        "execution_project": key.project,
                        "execution_domain": key.domain,
                        "execution_name": key.name,
                        "node_id": node_id,
                        "retry_attempt": retry_attempt,
                        "phase_version": 0,
                        "task_execution_created_at": stamp,
                        "closure": closure.SerializeToString(),
                    },
                )
                row = self.store.one("SELECT * FROM task_executions WHERE id = ?", (row_id,))
                assert row is not None
            closure = task_execution_pb2.TaskExecutionClosure.FromString(row["closure"])
            if closure.phase in TASK_TERMINAL:
                return int(row["id"])
            columns: dict[str, object] = {"phase": TaskPhase.Name(phase), "task_execution_updated_at": stamp}
            closure.phase = phase
            closure.updated_at.CopyFrom(timestamp(moment))
            if reason:
                closure.reason = reason
                closure.reasons.add(occurred_at=timestamp(moment), message=reason)
            if phase == TaskPhase.RUNNING and not row["started_at"]:
                closure.started_at.CopyFrom(timestamp(moment))
                columns["started_at"] = stamp
            started = parse_stored(row["started_at"]) or (moment if phase == TaskPhase.RUNNING else None)
            if phase in TASK_TERMINAL and started is not None:
                elapsed = _nanoseconds_between(started, moment)
                closure.duration.CopyFrom(_duration(elapsed))
                columns["duration"] = elapsed
            prefix = f"metadata/{key.project}/{key.domain}/{key.name}/{node_id}/{retry_attempt}"
            if inputs is not None:
                columns["inputs"] = inputs.SerializeToString(deterministic=True)
                columns["input_uri"] = self.blobs.uri(f"{prefix}/inputs.pb")
            if outputs is not None:
                data = outputs.SerializeToString(deterministic=True)
                columns["outputs"] = data
                closure.output_uri = self.blobs.put(f"{prefix}/outputs.pb", data)
            if error is not None:
                closure.error.CopyFrom(error)
            columns["closure"] = closure.SerializeToString()
            self.store.update("task_executions", row["id"], columns)
            return int(row["id"])
