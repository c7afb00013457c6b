"""Reading and writing execution records: workflow, node and task executions and their events.

This is the seam between the Admin services and the engine. The engine reports progress only through
:class:`Records` (as propeller reports through CreateWorkflowEvent / CreateNodeEvent / CreateTaskEvent), and the
services read the same rows back, so phases, timestamps, inputs and outputs look as Flyte Admin shows them.

Each event is one write (``INSERT`` or ``UPDATE ... RETURNING *``) that returns the row as stored, after reading
the row unless the caller hands over the one it holds (``current``): the engine never reads back what it wrote.
Inputs and outputs live in the rows only: the URIs in closures (``outputs.uri``, ``output_uri``, ``input_uri``)
resolve through :meth:`Records.stored_object`, the blob store's resolver, instead of a file written per node.
"""

from __future__ import annotations

import datetime
import enum
import sqlite3
from dataclasses import dataclass

from flyteidl.admin import execution_pb2 as admin_execution_pb2
from flyteidl.admin import node_execution_pb2, task_execution_pb2
from flyteidl.core import compiler_pb2, execution_pb2, identifier_pb2, literals_pb2
from google.protobuf import duration_pb2, timestamp_pb2

from flyte_admin_sandbox.blobs import BlobStore
from flyte_admin_sandbox.errors import already_exists, entity_not_found, failed_precondition
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
_NODE_PHASES = {value: name for name, value in NodePhase.items()}
_TASK_PHASES = {value: name for name, value in TaskPhase.items()}


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def timestamp(moment: datetime.datetime) -> timestamp_pb2.Timestamp:
    """A protobuf timestamp of an aware datetime (a naive one is taken as local time)."""
    delta = moment.astimezone(datetime.timezone.utc) - _EPOCH
    return timestamp_pb2.Timestamp(seconds=delta.days * 86400 + delta.seconds, nanos=delta.microseconds * 1000)


def stored_text(moment: datetime.datetime) -> str:
    """The stored form of a timestamp column (UTC, microseconds).

    The text of :func:`~flyte_admin_sandbox.filters.format_timestamp`, without ``strftime`` (several per event).
    """
    if moment.tzinfo is not datetime.timezone.utc:
        moment = moment.astimezone(datetime.timezone.utc)
    return moment.isoformat(" ", "microseconds")[:26]


def parse_stored(text: str | None) -> datetime.datetime | None:
    """A stored timestamp column back as an aware datetime."""
    if not text:
        return None
    return datetime.datetime.fromisoformat(text + "+00:00")


@dataclass(frozen=True)
class _Moment:
    """When an event happened, in the forms it is written: a datetime, the stored text, a protobuf timestamp."""

    when: datetime.datetime
    text: str
    proto: timestamp_pb2.Timestamp

    @classmethod
    def of(cls, moment: datetime.datetime | None) -> _Moment:
        when = moment or now()
        return cls(when, stored_text(when), timestamp(when))


def _duration(nanoseconds: int) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=nanoseconds // 10**9, nanos=nanoseconds % 10**9)


def _nanoseconds_between(start: datetime.datetime, end: datetime.datetime) -> int:
    delta = end - start
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def literal_map(data: bytes | None) -> literals_pb2.LiteralMap:
    """A stored literal map column (an empty map when nothing is stored)."""
    return literals_pb2.LiteralMap.FromString(data) if data else literals_pb2.LiteralMap()


def _stamp_phase(
    closure: admin_execution_pb2.ExecutionClosure
    | node_execution_pb2.NodeExecutionClosure
    | task_execution_pb2.TaskExecutionClosure,
    columns: dict[str, object],
    at: _Moment,
    started_text: str | None,
    *,
    running: bool,
    terminal: bool,
) -> None:
    """Stamp a phase change on a closure and its columns: ``updated_at``, ``started_at`` (once), ``duration``."""
    closure.updated_at.CopyFrom(at.proto)
    started = None
    if running and not started_text:
        closure.started_at.CopyFrom(at.proto)
        columns["started_at"] = at.text
        started = at.when
    if terminal and (started is not None or started_text):
        elapsed = _nanoseconds_between(started or parse_stored(started_text) or at.when, at.when)
        closure.duration.CopyFrom(_duration(elapsed))
        columns["duration"] = elapsed


class _Read(enum.Enum):
    ROW = "row"


READ_ROW = _Read.ROW
"""The default ``current`` of events: read the row first. The engine passes the row it holds (or ``None`` for a node
or attempt that has none yet) and saves that read."""


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
_NODE_WHERE = f"{_KEY_WHERE} AND node_id = ?"
_TASK_WHERE = f"{_NODE_WHERE} AND retry_attempt = ?"
_OBJECT_LOOKUPS = {
    (1, "offloaded_outputs"): ("executions", "outputs", _KEY_WHERE),
    (1, "inputs"): ("executions", "inputs", _KEY_WHERE),
    (1, "user_inputs"): ("executions", "user_inputs", _KEY_WHERE),
    (2, "offloaded_outputs"): ("node_executions", "outputs", _NODE_WHERE),
    (2, "inputs.pb"): ("node_executions", "inputs", _NODE_WHERE),
    (3, "outputs.pb"): ("task_executions", "outputs", _TASK_WHERE),
    (3, "inputs.pb"): ("task_executions", "inputs", _TASK_WHERE),
}
"""Where the bytes of an object key live: (parts after the execution, last part) -> (table, column, where)."""


class Records:
    """Execution records over a :class:`Store`, with Flyte Admin's event rules.

    Args:
        store: The database.
        blobs: The blob store whose URIs appear in closures; the records become its resolver, so those URIs read
            the rows' inputs and outputs.
    """

    def __init__(self, store: Store, blobs: BlobStore) -> None:
        self.store = store
        self.blobs = blobs
        blobs.resolver = self.stored_object

    # Objects behind the URIs of closures -------------------------------------------------------------------------

    def stored_object(self, key: str) -> bytes | None:
        """The bytes behind an input or output URI of an execution, node or task attempt, or ``None``.

        Keys (under ``metadata/<project>/<domain>/<execution>/``): ``offloaded_outputs``, ``inputs`` and
        ``user_inputs`` of the execution; ``<node>/offloaded_outputs`` and ``<node>/inputs.pb`` of a node;
        ``<node>/<attempt>/outputs.pb`` and ``<node>/<attempt>/inputs.pb`` of a task attempt.
        """
        parts = key.split("/")
        if len(parts) < 5 or parts[0] != "metadata":
            return None
        execution, rest = tuple(parts[1:4]), parts[4:]
        lookup = _OBJECT_LOOKUPS.get((len(rest), rest[-1]))
        if lookup is None:
            return None
        table, column, where = lookup
        try:
            params = (*execution, *rest[:-1]) if len(rest) < 3 else (*execution, rest[0], int(rest[1]))
        except ValueError:
            return None
        row = self.store.one(f"SELECT {column} FROM {table} WHERE {where}", params)
        if row is None or row[0] is None:
            return None
        return bytes(row[0])

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
        via: execution_pb2.WorkflowExecution.Phase | None = None,
        current: sqlite3.Row | _Read = READ_ROW,
    ) -> sqlite3.Row:
        """Record a workflow phase change as CreateWorkflowEvent does; returns the execution's row as now stored.

        ``via`` is a phase passed through on the way, in the same write (SUCCEEDING before SUCCEEDED, FAILING
        before FAILED): both changes must be allowed. ``current`` is the execution's row as the caller read it in
        this transaction, which spares reading it again.

        Raises:
            AdminError: ``ALREADY_EXISTS`` for a repeated phase, ``FAILED_PRECONDITION`` from a terminal phase or
                from ABORTING to a non-terminal phase.
        """
        at = _Moment.of(occurred_at)
        with self.store.transaction():
            row = self.execution_row(key) if isinstance(current, _Read) else current
            closure = admin_execution_pb2.ExecutionClosure.FromString(row["closure"])
            if via is not None:
                _check_workflow_change(key, closure.phase, via)
                _check_workflow_change(key, via, phase)
            else:
                _check_workflow_change(key, closure.phase, phase)
            columns: dict[str, object] = {
                "phase": WorkflowPhase.Name(phase),
                "execution_updated_at": at.text,
                "updated_at": at.text,
            }
            closure.phase = phase
            _stamp_phase(
                closure,
                columns,
                at,
                row["started_at"],
                running=phase == WorkflowPhase.RUNNING,
                terminal=phase in WORKFLOW_TERMINAL,
            )
            if outputs is not None:
                closure.outputs.uri = self.blobs.uri(f"{_prefix(key)}/offloaded_outputs")
                columns["outputs"] = outputs.SerializeToString(deterministic=True)
            if error is not None:
                _record_error(columns, closure, error)
            columns["closure"] = closure.SerializeToString()
            return self.store.update_row("executions", row["id"], columns)

    # Node executions ---------------------------------------------------------------------------------------------

    def node_row(self, key: ExecutionKey, node_id: str) -> sqlite3.Row | None:
        """A node execution's row, or ``None``."""
        return self.store.one(f"SELECT * FROM node_executions WHERE {_NODE_WHERE}", (*key.params, node_id))

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
        deck_uri: str = "",
        current: sqlite3.Row | _Read | None = READ_ROW,
    ) -> sqlite3.Row:
        """Create or advance a node execution as CreateNodeEvent does; returns its row as now stored.

        The first event creates the row (its ``created_at`` is the event time); RUNNING stamps ``started_at``;
        a terminal phase stamps the duration. Events for a node already in a terminal phase are ignored.

        ``parent_task_execution_id`` (the row id of the task attempt that launched the node, for the children of a
        dynamic node) is kept from the first event, as Admin keeps ``parent_task_metadata``. ``dynamic_workflow`` is
        the workflow a dynamic node compiled: Admin stores it for GetDynamicNodeWorkflow and GetNodeExecutionData,
        and ``dynamic_job_spec_uri`` goes to the closure, as does ``deck_uri`` (the deck a task wrote, which
        propeller reports with the SUCCEEDED event). ``current`` is the node's row as the caller knows it to be
        now (``None``: it has none yet), which spares reading it.
        """
        at = _Moment.of(occurred_at)
        stamp = at.text
        with self.store.transaction():
            row = self.node_row(key, node_id) if isinstance(current, _Read) else current
            if row is None:
                closure = node_execution_pb2.NodeExecutionClosure(created_at=at.proto)
            else:
                closure = node_execution_pb2.NodeExecutionClosure.FromString(row["closure"])
                if closure.phase in NODE_TERMINAL:
                    return row
            columns: dict[str, object] = {"phase": _NODE_PHASES[phase], "node_execution_updated_at": stamp}
            closure.phase = phase
            _stamp_phase(
                closure,
                columns,
                at,
                row["started_at"] if row is not None else None,
                running=phase == NodePhase.RUNNING,
                terminal=phase in NODE_TERMINAL,
            )
            self._node_data(columns, closure, f"{_prefix(key)}/{node_id}", inputs, outputs)
            if error is not None:
                _record_error(columns, closure, error)
            if child_execution is not None:
                closure.workflow_node_metadata.executionId.CopyFrom(child_execution)
            if dynamic_workflow is not None:
                columns["internal_data"] = dynamic_workflow.SerializeToString(deterministic=True)
            if dynamic_job_spec_uri:
                closure.dynamic_job_spec_uri = dynamic_job_spec_uri
            if deck_uri:
                closure.deck_uri = deck_uri
            if metadata is not None or row is None:
                columns["node_execution_metadata"] = (
                    metadata or node_execution_pb2.NodeExecutionMetaData()
                ).SerializeToString()
            columns["closure"] = closure.SerializeToString()
            columns["updated_at"] = stamp
            if row is not None:
                return self.store.update_row("node_executions", row["id"], columns)
            return self.store.insert_row(
                "node_executions",
                {
                    "created_at": stamp,
                    "execution_project": key.project,
                    "execution_domain": key.domain,
                    "execution_name": key.name,
                    "node_id": node_id,
                    "node_execution_created_at": stamp,
                    "parent_id": parent_id,
                    "parent_task_execution_id": parent_task_execution_id,
                    **columns,
                },
            )

    def _node_data(
        self,
        columns: dict[str, object],
        closure: node_execution_pb2.NodeExecutionClosure | task_execution_pb2.TaskExecutionClosure,
        prefix: str,
        inputs: literals_pb2.LiteralMap | None,
        outputs: literals_pb2.LiteralMap | None,
        outputs_name: str = "offloaded_outputs",
    ) -> None:
        """Inputs and outputs into their columns; their URIs (served from the row, see :meth:`stored_object`)."""
        if inputs is not None:
            columns["inputs"] = inputs.SerializeToString(deterministic=True)
            columns["input_uri"] = self.blobs.uri(f"{prefix}/inputs.pb")
        if outputs is not None:
            columns["outputs"] = outputs.SerializeToString(deterministic=True)
            closure.output_uri = self.blobs.uri(f"{prefix}/{outputs_name}")

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
        current: sqlite3.Row | _Read | None = READ_ROW,
    ) -> sqlite3.Row:
        """Create or advance one attempt of a task as CreateTaskEvent does; returns its row as now stored.

        ``current`` is the attempt's row as the caller knows it to be now (``None``: it has none yet).
        """
        at = _Moment.of(occurred_at)
        stamp = at.text
        with self.store.transaction():
            row = (
                self.store.one(
                    f"SELECT * FROM task_executions WHERE {_TASK_WHERE}", (*key.params, node_id, retry_attempt)
                )
                if isinstance(current, _Read)
                else current
            )
            if row is None:
                closure = task_execution_pb2.TaskExecutionClosure(created_at=at.proto, task_type=task_type)
            else:
                closure = task_execution_pb2.TaskExecutionClosure.FromString(row["closure"])
                if closure.phase in TASK_TERMINAL:
                    return row
            columns: dict[str, object] = {"phase": _TASK_PHASES[phase], "task_execution_updated_at": stamp}
            closure.phase = phase
            if reason:
                closure.reason = reason
                closure.reasons.add(occurred_at=at.proto, message=reason)
            _stamp_phase(
                closure,
                columns,
                at,
                row["started_at"] if row is not None else None,
                running=phase == TaskPhase.RUNNING,
                terminal=phase in TASK_TERMINAL,
            )
            self._node_data(
                columns, closure, f"{_prefix(key)}/{node_id}/{retry_attempt}", inputs, outputs, "outputs.pb"
            )
            if error is not None:
                closure.error.CopyFrom(error)
            columns["closure"] = closure.SerializeToString()
            columns["updated_at"] = stamp
            if row is not None:
                return self.store.update_row("task_executions", row["id"], columns)
            return self.store.insert_row(
                "task_executions",
                {
                    "created_at": stamp,
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
                    **columns,
                },
            )


def _check_workflow_change(
    key: ExecutionKey, current: execution_pb2.WorkflowExecution.Phase, phase: execution_pb2.WorkflowExecution.Phase
) -> None:
    """Flyte Admin's rules for a workflow phase change.

    Raises:
        AdminError: ``ALREADY_EXISTS`` for a repeated phase, ``FAILED_PRECONDITION`` from a terminal phase or from
            ABORTING to a non-terminal phase.
    """
    name = WorkflowPhase.Name(phase)
    if current == phase:
        raise already_exists(f"This phase {name} was already recorded for workflow execution {key.to_proto()}")
    if current in WORKFLOW_TERMINAL:
        raise failed_precondition(
            f"Invalid phase change from {WorkflowPhase.Name(current)} to {name} for workflow execution {key.to_proto()}"
        )
    if current == WorkflowPhase.ABORTING and phase not in WORKFLOW_TERMINAL:
        raise failed_precondition(
            f"Invalid phase change from aborting to {name} for workflow execution {key.to_proto()}"
        )


def _prefix(key: ExecutionKey) -> str:
    """Where an execution's inputs and outputs are addressed in the blob store."""
    return f"metadata/{key.project}/{key.domain}/{key.name}"


def _record_error(
    columns: dict[str, object],
    closure: admin_execution_pb2.ExecutionClosure | node_execution_pb2.NodeExecutionClosure,
    error: execution_pb2.ExecutionError,
) -> None:
    closure.error.CopyFrom(error)
    columns["error_kind"] = execution_pb2.ExecutionError.ErrorKind.Name(error.kind)
    columns["error_code"] = error.code
