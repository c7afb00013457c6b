"""The engine's shared state, its tick queue and the walk through a workflow's nodes.

:class:`EngineCore` is the base of every part of :class:`~flyte_admin_sandbox.engine.LocalEngine`: it holds what
they share (the records, the queue of ticks, the results of work on the thread pool, the caches) and walks a
workflow's nodes, starting each one whose upstream nodes are done and handing it to ``_advance``, which the engine
dispatches to the part that knows the node's kind.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from flyteidl.admin import execution_pb2 as admin_execution_pb2
from flyteidl.admin import node_execution_pb2
from flyteidl.core import compiler_pb2, execution_pb2, literals_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from flyte_admin_sandbox.behaviours import Behaviours
from flyte_admin_sandbox.compiler import END_NODE, START_NODE
from flyte_admin_sandbox.containers import ContainerRunner
from flyte_admin_sandbox.engine_nodes import BindingError, duration_seconds, resolve_bindings
from flyte_admin_sandbox.engine_state import (
    RUNNING,
    AttemptKey,
    Compiled,
    Outcome,
    Run,
    Scope,
    State,
    done,
    failed,
    system_error,
    user_error,
)
from flyte_admin_sandbox.records import (
    TASK_TERMINAL,
    ExecutionKey,
    NodePhase,
    Records,
    TaskPhase,
    literal_map,
    parse_stored,
)
from flyte_admin_sandbox.store import now

if TYPE_CHECKING:
    import sqlite3

    from flyte_admin_sandbox.executions import Executions
    from flyte_admin_sandbox.services import CallActivity

_DONE = frozenset({NodePhase.SUCCEEDED, NodePhase.RECOVERED, NodePhase.SKIPPED})
_FAILED = frozenset({NodePhase.FAILED, NodePhase.TIMED_OUT, NodePhase.ABORTED})
_FAIL_AFTER_EXECUTABLE_NODES = core_workflow_pb2.WorkflowMetadata.OnFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE


def _upstream_done(
    upstream: Mapping[str, compiler_pb2.ConnectionSet.IdList], node_id: str, states: Mapping[str, State]
) -> bool:
    """Whether every node a node depends on (the start node aside) is done."""
    parents = [parent for parent in upstream[node_id].ids if parent != START_NODE] if node_id in upstream else []
    return all(parent in states and states[parent].done for parent in parents)


def _outputs_reader(scope: Scope, states: Mapping[str, State]) -> Callable[[str], literals_pb2.LiteralMap]:
    """How a scope's nodes read their bindings: the scope's inputs, or the outputs of nodes done so far."""

    def outputs_of(node_id: str) -> literals_pb2.LiteralMap:
        if node_id in ("", START_NODE):
            return scope.inputs
        state = states.get(node_id)
        if state is None or state.outputs is None:
            raise BindingError(f"node {node_id!r} has not produced outputs")
        return state.outputs

    return outputs_of


def _after_failures(states: Mapping[str, State], failures: list[State], min_successes: int) -> State | None:
    """Where a scope with failed nodes stands; ``None`` when enough of its nodes succeeded for it to succeed."""
    # Nodes downstream of a failed one never start; the rest must finish first.
    if any(state.running for state in states.values()):
        return RUNNING
    succeeded = sum(1 for state in states.values() if state.done)
    if min_successes <= 0 or succeeded < min_successes:
        return failures[0]
    return None


class EngineCore:
    """The state every part of the engine shares, the tick queue, and the walk of a workflow's nodes.

    The constructor's arguments are :class:`~flyte_admin_sandbox.engine.LocalEngine`'s.
    """

    def __init__(
        self,
        records: Records,
        *,
        task_delay: float = 0.0,
        max_workers: int = 4,
        poll_interval: float = 0.1,
        run_containers: bool = False,
        api_calls: CallActivity | None = None,
    ) -> None:
        self.records = records
        self.api_calls = api_calls
        self.task_delay = task_delay
        self.max_workers = max_workers
        self.poll_interval = poll_interval
        self.run_containers = run_containers
        self.containers = ContainerRunner(records.blobs)
        self._cancels: dict[AttemptKey, threading.Event] = {}
        self.behaviours = Behaviours(on_change=self._script_changed)
        self.executions: Executions | None = None
        self._queue: list[tuple[float, int, ExecutionKey]] = []
        self._due: dict[ExecutionKey, float] = {}
        self._sequence = 0
        self._condition = threading.Condition()
        self._results: dict[AttemptKey, Outcome] = {}
        self._pending: set[AttemptKey] = set()
        self._results_lock = threading.Lock()
        self._compiled: dict[int, Compiled] = {}
        self._dynamic: dict[tuple[ExecutionKey, str, int], Compiled] = {}
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._stopping = False

    def _script_changed(self, task_name: str | None) -> None:
        """Tick every execution with an attempt of the task in flight, so that the new script applies to it now.

        A hanging attempt has no wake-up time of its own: without this, a run whose tick read ``hang`` just before
        the script changed (a restart's first tick racing the caller's next ``script()``) would never move again.
        """
        if self._thread is None:
            return  # not running: start() ticks every unfinished execution
        terminal = [TaskPhase.Name(phase) for phase in TASK_TERMINAL]
        query = (
            "SELECT DISTINCT execution_project, execution_domain, execution_name FROM task_executions "
            f"WHERE phase NOT IN ({', '.join('?' for _ in terminal)})"
        )
        parameters: list[str] = terminal
        if task_name is not None:
            query += " AND name = ?"
            parameters = [*terminal, task_name]
        for row in self.records.store.all(query, parameters):
            self.schedule(ExecutionKey(row[0], row[1], row[2]))

    # Ticks -------------------------------------------------------------------------------------------------------

    def schedule(self, key: ExecutionKey, delay: float = 0.0) -> None:
        """Tick an execution after ``delay`` seconds (an earlier tick already planned wins)."""
        due = time.monotonic() + max(delay, 0.0)
        with self._condition:
            planned = self._due.get(key)
            if planned is not None and planned <= due:
                return
            self._due[key] = due
            self._sequence += 1
            sooner = not self._queue or due < self._queue[0][0]
            heapq.heappush(self._queue, (due, self._sequence, key))
            if sooner:  # the engine waits for the head of the queue only: a later tick need not wake it
                self._condition.notify()

    def _finished(self, key: ExecutionKey, spec: admin_execution_pb2.ExecutionSpec) -> None:
        """Drop what is kept for a finished execution and wake the execution that launched it, if any."""
        self._forget(key)
        if spec.metadata.HasField("parent_node_execution"):
            self.schedule(ExecutionKey.of(spec.metadata.parent_node_execution.execution_id))

    def _forget(self, key: ExecutionKey) -> None:
        with self._results_lock:
            for attempt in [attempt for attempt in self._results if attempt[0] == key]:
                del self._results[attempt]

    # Scopes ------------------------------------------------------------------------------------------------------

    def _walk(self, run: Run, workflow: compiler_pb2.CompiledWorkflow, scope: Scope, min_successes: int = 0) -> State:
        """Advance every node of a workflow whose upstream nodes are done; the scope's state comes back.

        With ``min_successes`` (a dynamic workflow's), a failed node does not fail the scope at once: the nodes that
        do not depend on it go on, and once nothing runs the scope succeeds if enough nodes did (and its outputs
        can be bound), else it fails with the first failure. A workflow whose failure policy is
        FAIL_AFTER_EXECUTABLE_NODES_COMPLETE also lets the nodes that do not depend on a failed one finish, then
        fails with the first failure.
        """
        keep_going = min_successes > 0 or workflow.template.metadata.on_failure == _FAIL_AFTER_EXECUTABLE_NODES
        nodes = [node for node in workflow.template.nodes if node.id not in (START_NODE, END_NODE)]
        upstream = workflow.connections.upstream
        states: dict[str, State] = {}
        failures: list[State] = []
        outputs_of = _outputs_reader(scope, states)
        progressed = True
        while progressed:
            progressed = False
            for node in nodes:
                if node.id in states and not states[node.id].running:
                    continue
                uid = scope.unique_id(node.id)
                if uid not in run.nodes and not _upstream_done(upstream, node.id, states):
                    continue
                state = self._step(run, node, uid, scope, outputs_of)
                states[node.id] = state
                if not state.running:
                    progressed = True  # it was running or not started: nodes downstream may start now
                if state.failed:
                    if not keep_going:
                        return state
                    failures.append(state)
        if failures:
            settled = _after_failures(states, failures, min_successes)
            if settled is not None:
                return settled
        elif not all(node.id in states and states[node.id].done for node in nodes):
            return RUNNING
        try:
            return done(resolve_bindings(workflow.template.outputs, outputs_of))
        except BindingError as error:
            return failed(user_error(str(error), "BindingError"), scope.unique_id(END_NODE))

    # Nodes -------------------------------------------------------------------------------------------------------

    def _node_metadata(self, node: core_workflow_pb2.Node, scope: Scope) -> node_execution_pb2.NodeExecutionMetaData:
        target = node.WhichOneof("target")
        metadata = node_execution_pb2.NodeExecutionMetaData(spec_node_id=node.id)
        if scope.parent_row_id is not None:
            metadata.retry_group = scope.retry_group
        if target == "branch_node" or (
            target == "workflow_node" and node.workflow_node.WhichOneof("reference") == "sub_workflow_ref"
        ):
            metadata.is_parent_node = True
        if target == "array_node":
            metadata.is_array = True
        return metadata

    def _record_node(
        self,
        run: Run,
        uid: str,
        phase: execution_pb2.NodeExecution.Phase,
        **fields: Any,
    ) -> sqlite3.Row:
        row = self.records.node_event(run.key, uid, phase, current=run.nodes.get(uid), **fields)
        run.nodes[uid] = row
        run.changed = True
        return row

    def _state_of(self, row: sqlite3.Row, uid: str) -> State | None:
        phase = NodePhase.Value(row["phase"])
        if phase in _DONE:
            return done(literal_map(row["outputs"]))
        if phase in _FAILED:
            closure = node_execution_pb2.NodeExecutionClosure.FromString(row["closure"])
            error = closure.error if closure.HasField("error") else system_error(f"node {uid} was aborted", "Aborted")
            return failed(error, uid)
        return None

    def _step(
        self,
        run: Run,
        node: core_workflow_pb2.Node,
        uid: str,
        scope: Scope,
        outputs_of: Callable[[str], literals_pb2.LiteralMap],
    ) -> State:
        """Start a node (when it has no row yet) or advance it."""
        row = run.nodes.get(uid)
        if row is None:
            metadata = self._node_metadata(node, scope)
            parents: dict[str, Any] = {
                "parent_id": scope.parent_row_id,
                "parent_task_execution_id": scope.parent_task_row_id,
            }
            try:
                inputs = resolve_bindings(node.inputs, outputs_of)
            except BindingError as error:
                self._record_node(run, uid, NodePhase.RUNNING, metadata=metadata, **parents)
                failure = user_error(str(error), "BindingError")
                self._record_node(run, uid, NodePhase.FAILED, error=failure)
                return failed(failure, uid)
            if run.reference is not None:
                source = self.records.node_row(run.reference, run.reference_uid(uid))
                if source is not None and NodePhase.Value(source["phase"]) in (
                    NodePhase.SUCCEEDED,
                    NodePhase.RECOVERED,
                ):
                    outputs = literal_map(source["outputs"])
                    self._record_node(
                        run, uid, NodePhase.RECOVERED, inputs=inputs, outputs=outputs, metadata=metadata, **parents
                    )
                    return done(outputs)
            row = self._record_node(run, uid, NodePhase.RUNNING, inputs=inputs, metadata=metadata, **parents)
        else:
            settled = self._state_of(row, uid)
            if settled is not None:
                return settled
        state = self._advance(run, node, uid, row, outputs_of)
        if state.done:
            assert state.outputs is not None
            self._record_node(run, uid, NodePhase.SUCCEEDED, outputs=state.outputs, deck_uri=state.deck_uri)
        elif state.failed:
            assert state.error is not None
            own_timeout = state.error.code == "TimedOut" and state.failed_node in ("", uid)
            phase = NodePhase.TIMED_OUT if own_timeout else NodePhase.FAILED
            self._record_node(run, uid, phase, error=state.error)
            return failed(state.error, state.failed_node or uid)
        return state

    def _advance(
        self,
        run: Run,
        node: core_workflow_pb2.Node,
        uid: str,
        row: sqlite3.Row,
        outputs_of: Callable[[str], literals_pb2.LiteralMap],
    ) -> State:
        """Advance a started node as its kind says (the engine dispatches to the part that runs that kind)."""
        raise NotImplementedError

    def _node_timed_out(self, node: core_workflow_pb2.Node, uid: str, row: sqlite3.Row, run: Run) -> State | None:
        if not node.metadata.HasField("timeout"):
            return None
        timeout = duration_seconds(node.metadata.timeout)
        if timeout <= 0:
            return None
        started = parse_stored(row["started_at"]) or now()
        elapsed = (now() - started).total_seconds()
        if elapsed >= timeout:
            return failed(user_error(f"node {node.id} timed out after {timeout:g}s", "TimedOut"), uid)
        run.wake_in(timeout - elapsed)
        return None
