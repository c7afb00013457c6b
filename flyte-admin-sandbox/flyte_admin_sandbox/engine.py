"""The execution engine: it walks compiled workflows and reports progress as propeller would.

The engine is driven by *ticks*. A tick reads one execution's rows from the store, decides what can happen next and
records it through :class:`~flyte_admin_sandbox.records.Records` (as propeller reports through
CreateWorkflowEvent / CreateNodeEvent / CreateTaskEvent). All progress lives in the store, so a sandbox restarted on
the same SQLite file resumes running executions where they were; the only in-memory state is the work of Python
functions currently running on the thread pool, which is simply started again after a restart.

Node kinds (:mod:`flyte_admin_sandbox.engine_nodes` holds the pure helpers):

* task nodes: one task execution per attempt (``retry_attempt`` 0..N, N from the node's or the task's retry
  strategy); what an attempt does comes from :mod:`flyte_admin_sandbox.behaviours`; the task's
  ``metadata.timeout`` bounds each attempt and the last attempt to time out leaves the node TIMED_OUT, as does the
  node's own ``metadata.timeout`` (all attempts together);
* branch nodes: the first ``if``/``elif`` whose condition holds on the branch's inputs (else the ``else`` node or
  its error) runs as a child node execution; the branch takes its outputs;
* sub-workflow nodes: the sub-workflow's nodes run as children of the node (``is_parent_node``), listed through
  ``unique_parent_id``;
* launch-plan nodes: a child execution (mode CHILD_WORKFLOW, ``parent_node_execution`` set) whose outputs become the
  node's once it succeeds;
* gate nodes: ``approve`` waits for a BOOLEAN signal named after the gate (true passes the inputs through, false fails
  the node), ``signal`` waits for a typed signal whose value becomes the output, ``sleep`` waits its duration; a node
  ``metadata.timeout`` leaves a gate TIMED_OUT;
* array nodes over a task: the task runs once per element of the mapped inputs, outputs are collected;
* dynamic task nodes: an attempt that produces a ``DynamicJobSpec`` (a Python task returning one, or a flytekit
  ``@dynamic`` container writing ``futures.pb``) ends SUCCEEDED; the spec is compiled into a workflow stored with the
  node (GetDynamicNodeWorkflow), the node goes DYNAMIC_RUNNING (``is_dynamic``, ``is_parent_node``) and the
  workflow's nodes run as its children (``parent_task_metadata`` naming the attempt); its output bindings give the
  node's outputs.

A failed node fails its workflow at once and the nodes still running are aborted, unless the workflow's failure
policy is FAIL_AFTER_EXECUTABLE_NODES_COMPLETE: then the nodes that do not depend on the failed one run to their end
first (the backfills of ``launch_backfill(failure_policy=...)`` rely on this).

Recovered executions (mode RECOVERED) report every node that SUCCEEDED (or was RECOVERED) in the reference
execution as RECOVERED, with its outputs, instead of running it again; a dynamic node that did not succeed there
reuses the dynamic workflow it compiled, so that only its unfinished children run again. With ``run_containers``
on, flytekit container tasks run as local ``pyflyte-execute`` processes
(:mod:`flyte_admin_sandbox.containers`).

Child nodes get propeller's unique ids, ``<parent id>-<parent attempt>-<node id>``, with ``spec_node_id`` set to
the node id in the workflow template.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
from flyteidl.admin import execution_pb2 as admin_execution_pb2
from flyteidl.admin import launch_plan_pb2, node_execution_pb2, signal_pb2, task_pb2, workflow_pb2
from flyteidl.core import (
    compiler_pb2,
    dynamic_job_pb2,
    execution_pb2,
    identifier_pb2,
    literals_pb2,
    tasks_pb2,
    types_pb2,
)
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from flyte_admin_sandbox.behaviours import (
    PYTHON_CALLABLE_KEY,
    Behaviours,
    TaskFailure,
    TaskResult,
    TaskScript,
    call_python_task,
    placeholder_literal,
    placeholder_outputs,
    python_callable_of,
    scripted_outputs,
)
from flyte_admin_sandbox.compiler import (
    END_NODE,
    START_NODE,
    CompileError,
    compile_workflow,
    get_requirements,
    launch_plan_interface,
)
from flyte_admin_sandbox.containers import ContainerRunner, runs_flytekit_command
from flyte_admin_sandbox.engine_nodes import (
    BindingError,
    BranchError,
    array_element_inputs,
    choose_branch,
    collect_array_outputs,
    duration_seconds,
    element_interface,
    resolve_binding,
    resolve_bindings,
)
from flyte_admin_sandbox.errors import AdminError
from flyte_admin_sandbox.records import (
    NODE_TERMINAL,
    TASK_TERMINAL,
    WORKFLOW_TERMINAL,
    ExecutionKey,
    NodePhase,
    Records,
    TaskPhase,
    WorkflowPhase,
    literal_map,
    parse_stored,
)
from flyte_admin_sandbox.store import now

if TYPE_CHECKING:
    import sqlite3

    from flyte_admin_sandbox.executions import Executions

log = logging.getLogger(__name__)

Mode = admin_execution_pb2.ExecutionMetadata.ExecutionMode
_DONE = frozenset({NodePhase.SUCCEEDED, NodePhase.RECOVERED, NodePhase.SKIPPED})
_FAILED = frozenset({NodePhase.FAILED, NodePhase.TIMED_OUT, NodePhase.ABORTED})
_BOOLEAN = types_pb2.LiteralType(simple=types_pb2.SimpleType.BOOLEAN)
_CHILD_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_REJECTED = "received a reject signal to disapprove the node input values"
_CACHE_LIMIT = 256
_FAIL_AFTER_EXECUTABLE_NODES = core_workflow_pb2.WorkflowMetadata.OnFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE

AttemptKey = tuple[ExecutionKey, str, int]
"""(execution, unique node id, retry attempt): one task attempt."""


def _user_error(message: str, code: str) -> execution_pb2.ExecutionError:
    return execution_pb2.ExecutionError(code=code, message=message, kind=execution_pb2.ExecutionError.USER)


def _system_error(message: str, code: str) -> execution_pb2.ExecutionError:
    return execution_pb2.ExecutionError(code=code, message=message, kind=execution_pb2.ExecutionError.SYSTEM)


def _key_of(identifier: identifier_pb2.Identifier) -> tuple[str, str, str, str]:
    return (identifier.project, identifier.domain, identifier.name, identifier.version)


def child_execution_name(parent: ExecutionKey, unique_node_id: str, attempt: int = 0) -> str:
    """The deterministic name of the execution a launch-plan node starts (20 characters, like generated names).

    Deterministic so that a tick repeated after a crash finds the child it already created.
    """
    digest = hashlib.sha256(f"{parent.name}/{unique_node_id}/{attempt}".encode()).digest()
    return "f" + "".join(_CHILD_NAME_ALPHABET[byte % len(_CHILD_NAME_ALPHABET)] for byte in digest[:19])


@dataclass(frozen=True)
class _State:
    """Where a node (or a whole scope) stands after a step."""

    phase: str  # "running", "done" or "failed"
    outputs: literals_pb2.LiteralMap | None = None
    error: execution_pb2.ExecutionError | None = None
    failed_node: str = ""

    @property
    def running(self) -> bool:
        return self.phase == "running"

    @property
    def done(self) -> bool:
        return self.phase == "done"

    @property
    def failed(self) -> bool:
        return self.phase == "failed"


_RUNNING = _State("running")


def _done(outputs: literals_pb2.LiteralMap) -> _State:
    return _State("done", outputs=outputs)


def _failed(error: execution_pb2.ExecutionError, node: str) -> _State:
    return _State("failed", error=error, failed_node=node)


@dataclass
class _Outcome:
    """How a task attempt ended: outputs, a failure, or the dynamic workflow it produced."""

    outputs: literals_pb2.LiteralMap | None = None
    failure: TaskFailure | None = None
    dynamic: dynamic_job_pb2.DynamicJobSpec | None = None

    @classmethod
    def of(cls, result: TaskResult) -> _Outcome:
        if isinstance(result, dynamic_job_pb2.DynamicJobSpec):
            return cls(dynamic=result)
        return cls(outputs=result)


@dataclass
class _Compiled:
    """A compiled workflow closure, indexed for the engine (cached per workflow row: closures never change).

    ``min_successes`` is only used for a dynamic workflow: how many of its nodes must succeed (0: all).
    """

    closure: compiler_pb2.CompiledWorkflowClosure
    tasks: dict[tuple[str, str, str, str], tasks_pb2.TaskTemplate]
    sub_workflows: dict[tuple[str, str, str, str], compiler_pb2.CompiledWorkflow]
    min_successes: int = 0

    @classmethod
    def of(cls, closure: compiler_pb2.CompiledWorkflowClosure) -> _Compiled:
        return cls(
            closure=closure,
            tasks={_key_of(task.template.id): task.template for task in closure.tasks},
            sub_workflows={_key_of(sub.template.id): sub for sub in closure.sub_workflows},
        )


@dataclass
class _Scope:
    """Where a workflow's nodes live: their unique-id prefix, parent node row and inputs.

    The children of a dynamic node also name the task attempt that produced them (``parent_task_row_id``) and
    carry that attempt's number as their ``retry_group``.
    """

    prefix: str | None
    parent_row_id: int | None
    inputs: literals_pb2.LiteralMap
    parent_task_row_id: int | None = None
    retry_group: str = "0"

    def unique_id(self, node_id: str) -> str:
        return node_id if self.prefix is None else f"{self.prefix}-{node_id}"


@dataclass
class _Run:
    """One tick's view of an execution."""

    key: ExecutionKey
    spec: admin_execution_pb2.ExecutionSpec
    compiled: _Compiled
    nodes: dict[str, sqlite3.Row]
    attempts: dict[str, list[sqlite3.Row]]
    reference: ExecutionKey | None
    wake: float | None = None
    changed: bool = False
    reference_aliases: dict[str, str] = field(default_factory=dict)

    def wake_in(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)
        self.wake = seconds if self.wake is None else min(self.wake, seconds)

    def reference_uid(self, uid: str) -> str:
        """The id the node has in the reference execution of a recovery.

        The same id, except under a dynamic node that reuses a workflow the reference compiled at another attempt:
        its children's ids carry that attempt's number there.
        """
        matches = [prefix for prefix in self.reference_aliases if uid.startswith(prefix)]
        if not matches:
            return uid
        longest = max(matches, key=len)
        return self.reference_aliases[longest] + uid[len(longest) :]

    @contextlib.contextmanager
    def within(self, compiled: _Compiled) -> Iterator[None]:
        """Resolve tasks and sub-workflows through ``compiled`` for a while (a dynamic workflow's nodes)."""
        outer = self.compiled
        self.compiled = compiled
        try:
            yield
        finally:
            self.compiled = outer


class LocalEngine:
    """Runs executions inside the sandbox process.

    Args:
        records: Where progress is read and written.
        task_delay: Seconds a task without a script or a Python function takes before succeeding.
        max_workers: Threads for Python task functions and scripted output functions.
        poll_interval: Seconds between looks at what the engine cannot be told about (signals being set, child
            executions of another engine).
        run_containers: Run flytekit container tasks (``pyflyte-execute``) as local processes instead of giving
            them placeholder outputs (needs flytekit installed; see :mod:`flyte_admin_sandbox.containers`).
    """

    def __init__(
        self,
        records: Records,
        *,
        task_delay: float = 0.0,
        max_workers: int = 4,
        poll_interval: float = 0.1,
        run_containers: bool = False,
    ) -> None:
        self.records = records
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
        self._results: dict[AttemptKey, _Outcome] = {}
        self._pending: set[AttemptKey] = set()
        self._results_lock = threading.Lock()
        self._compiled: dict[int, _Compiled] = {}
        self._dynamic: dict[tuple[ExecutionKey, str, int], _Compiled] = {}
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._stopping = False

    # Wiring and scripting ----------------------------------------------------------------------------------------

    def attach(self, executions: Executions) -> None:
        """Give the engine the execution service it creates child executions and signals through."""
        self.executions = executions

    def script(
        self,
        task: str | identifier_pb2.Identifier,
        *,
        duration: float | None = None,
        fail: str | None = None,
        fail_attempts: int | None = None,
        outputs: Callable[..., Any] | Mapping[str, Any] | None = None,
        hang: bool = False,
    ) -> TaskScript:
        """Script what a task does from now on (see :class:`~flyte_admin_sandbox.behaviours.TaskScript`).

        Args:
            task: A task name (any version) or an identifier (its non-empty fields must match).
            duration: Seconds each attempt runs.
            fail: Every attempt fails with this message (only the first ``fail_attempts`` when that is set).
            fail_attempts: The first N attempts fail, later ones succeed.
            outputs: Fixed outputs by name, or a function of the inputs (keyword arguments).
            hang: Attempts never finish on their own (abort or a timeout ends them).

        Returns:
            The script now in force.
        """
        script = TaskScript(duration=duration, fail=fail, fail_attempts=fail_attempts, outputs=outputs, hang=hang)
        self.behaviours.script(task, script)
        return script

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

    # Lifecycle ---------------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the scheduler and resume every execution that has not finished."""
        self._stopping = False
        self._pool = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="flyte-sandbox-task")
        self._thread = threading.Thread(target=self._loop, name="flyte-sandbox-engine", daemon=True)
        self._thread.start()
        terminal = [WorkflowPhase.Name(phase) for phase in WORKFLOW_TERMINAL]
        marks = ", ".join("?" for _ in terminal)
        for row in self.records.store.all(
            f"SELECT execution_project, execution_domain, execution_name FROM executions WHERE phase NOT IN ({marks})",
            terminal,
        ):
            self.schedule(ExecutionKey(row[0], row[1], row[2]))

    def stop(self) -> None:
        """Stop ticking; Python functions still running finish in the background and their results are dropped.

        Task processes (flytekit containers run locally) are stopped; a restart runs their attempts again.
        """
        with self._results_lock:
            for cancel in self._cancels.values():
                cancel.set()
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        with self._condition:
            self._queue.clear()
            self._due.clear()
        with self._results_lock:
            self._results.clear()
            self._pending.clear()

    # The Engine protocol -----------------------------------------------------------------------------------------

    def launch(self, key: ExecutionKey) -> None:
        """Start a new execution on the next tick."""
        self.schedule(key)

    def abort(self, key: ExecutionKey, cause: str) -> None:
        """Finish an abort on the next tick (the execution is already ABORTING)."""
        self.schedule(key)

    def schedule(self, key: ExecutionKey, delay: float = 0.0) -> None:
        """Tick an execution after ``delay`` seconds (an earlier tick already planned wins)."""
        due = time.monotonic() + max(delay, 0.0)
        with self._condition:
            planned = self._due.get(key)
            if planned is not None and planned <= due:
                return
            self._due[key] = due
            self._sequence += 1
            heapq.heappush(self._queue, (due, self._sequence, key))
            self._condition.notify()

    def _loop(self) -> None:
        while True:
            with self._condition:
                while not self._stopping and (not self._queue or self._queue[0][0] > time.monotonic()):
                    timeout = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._condition.wait(timeout)
                if self._stopping:
                    return
                due, _, key = heapq.heappop(self._queue)
                if self._due.get(key) != due:
                    continue  # superseded by an earlier tick of the same execution
                del self._due[key]
            try:
                self.tick(key)
            except AdminError as error:
                if error.code == grpc.StatusCode.NOT_FOUND:
                    log.warning("engine dropped %s: %s", key, error.message)
                    continue
                # A concurrent TerminateExecution may have moved the run on; look again shortly.
                log.debug("engine tick of %s raced with an update (%s); retrying", key, error.message)
                self.schedule(key, self.poll_interval)
            except Exception:
                log.exception("engine tick failed for execution %s", key)
                self.schedule(key, max(self.poll_interval, 1.0))

    # Ticks -------------------------------------------------------------------------------------------------------

    def _compiled_of(self, workflow_row_id: int) -> _Compiled:
        compiled = self._compiled.get(workflow_row_id)
        if compiled is None:
            row = self.records.store.one("SELECT closure FROM workflows WHERE id = ?", (workflow_row_id,))
            if row is None:
                raise LookupError(f"workflow row {workflow_row_id} is gone")
            compiled = _Compiled.of(workflow_pb2.WorkflowClosure.FromString(row["closure"]).compiled_workflow)
            if len(self._compiled) >= _CACHE_LIMIT:
                self._compiled.clear()
            self._compiled[workflow_row_id] = compiled
        return compiled

    def _attempt_rows(self, key: ExecutionKey) -> dict[str, list[sqlite3.Row]]:
        attempts: dict[str, list[sqlite3.Row]] = {}
        for row in self.records.store.all(
            "SELECT * FROM task_executions WHERE execution_project = ? AND execution_domain = ? "
            "AND execution_name = ? ORDER BY node_id, retry_attempt",
            key.params,
        ):
            attempts.setdefault(row["node_id"], []).append(row)
        return attempts

    def tick(self, key: ExecutionKey) -> None:
        """Advance one execution as far as it can go now."""
        row = self.records.execution_row(key)
        phase = WorkflowPhase.Value(row["phase"])
        if phase in WORKFLOW_TERMINAL:
            self._forget(key)
            return
        spec = admin_execution_pb2.ExecutionSpec.FromString(row["spec"])
        if phase == WorkflowPhase.ABORTING:
            self._finish_abort(key, spec)
            return
        inputs = literal_map(row["inputs"])
        if phase == WorkflowPhase.UNDEFINED:
            self.records.workflow_event(key, WorkflowPhase.RUNNING)
            self.records.node_event(key, START_NODE, NodePhase.SUCCEEDED, inputs=inputs, outputs=inputs)
        reference = None
        if spec.metadata.mode == Mode.RECOVERED and spec.metadata.HasField("reference_execution"):
            reference = ExecutionKey.of(spec.metadata.reference_execution)
        run = _Run(
            key=key,
            spec=spec,
            compiled=self._compiled_of(row["workflow_id"]),
            nodes=self.records.node_rows(key),
            attempts=self._attempt_rows(key),
            reference=reference,
        )
        state = self._walk(run, run.compiled.closure.primary, _Scope(None, None, inputs))
        if state.failed:
            assert state.error is not None
            self._abort_running(run.key)
            error = execution_pb2.ExecutionError()
            error.CopyFrom(state.error)
            error.message = (
                f"[{state.failed_node}]: {error.message}" if error.message else f"node {state.failed_node} failed"
            )
            self.records.workflow_event(key, WorkflowPhase.FAILING)
            self.records.workflow_event(key, WorkflowPhase.FAILED, error=error)
            self._finished(key, spec)
        elif state.done:
            assert state.outputs is not None
            self.records.node_event(key, END_NODE, NodePhase.SUCCEEDED, inputs=state.outputs, outputs=state.outputs)
            self.records.workflow_event(key, WorkflowPhase.SUCCEEDING)
            self.records.workflow_event(key, WorkflowPhase.SUCCEEDED, outputs=state.outputs)
            self._finished(key, spec)
        elif run.changed:
            self.schedule(key)
        elif run.wake is not None:
            self.schedule(key, run.wake)

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

    def _walk(
        self, run: _Run, workflow: compiler_pb2.CompiledWorkflow, scope: _Scope, min_successes: int = 0
    ) -> _State:
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
        states: dict[str, _State] = {}
        failures: list[_State] = []

        def outputs_of(node_id: str) -> literals_pb2.LiteralMap:
            if node_id in ("", START_NODE):
                return scope.inputs
            state = states.get(node_id)
            if state is None or state.outputs is None:
                raise BindingError(f"node {node_id!r} has not produced outputs")
            return state.outputs

        progressed = True
        while progressed:
            progressed = False
            for node in nodes:
                if node.id in states and not states[node.id].running:
                    continue
                uid = scope.unique_id(node.id)
                if uid not in run.nodes:
                    parents = (
                        [parent for parent in upstream[node.id].ids if parent != START_NODE]
                        if node.id in upstream
                        else []
                    )
                    if not all(parent in states and states[parent].done for parent in parents):
                        continue
                state = self._step(run, node, uid, scope, outputs_of)
                previous = states.get(node.id)
                states[node.id] = state
                if not state.running and (previous is None or previous.running):
                    progressed = True
                if state.failed:
                    if not keep_going:
                        return state
                    failures.append(state)
        if failures:
            # Nodes downstream of a failed one never start; the rest must finish first.
            if any(state.running for state in states.values()):
                return _RUNNING
            succeeded = sum(1 for state in states.values() if state.done)
            if min_successes <= 0 or succeeded < min_successes:
                return failures[0]
            try:
                return _done(resolve_bindings(workflow.template.outputs, outputs_of))
            except BindingError as error:
                return _failed(_user_error(str(error), "BindingError"), scope.unique_id(END_NODE))
        if all(node.id in states and states[node.id].done for node in nodes):
            try:
                return _done(resolve_bindings(workflow.template.outputs, outputs_of))
            except BindingError as error:
                return _failed(_user_error(str(error), "BindingError"), scope.unique_id(END_NODE))
        return _RUNNING

    # Nodes -------------------------------------------------------------------------------------------------------

    def _node_metadata(self, node: core_workflow_pb2.Node, scope: _Scope) -> node_execution_pb2.NodeExecutionMetaData:
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
        run: _Run,
        uid: str,
        phase: execution_pb2.NodeExecution.Phase,
        **fields: Any,
    ) -> sqlite3.Row:
        self.records.node_event(run.key, uid, phase, **fields)
        row = self.records.node_row(run.key, uid)
        assert row is not None
        run.nodes[uid] = row
        run.changed = True
        return row

    def _state_of(self, row: sqlite3.Row, uid: str) -> _State | None:
        phase = NodePhase.Value(row["phase"])
        if phase in _DONE:
            return _done(literal_map(row["outputs"]))
        if phase in _FAILED:
            closure = node_execution_pb2.NodeExecutionClosure.FromString(row["closure"])
            error = closure.error if closure.HasField("error") else _system_error(f"node {uid} was aborted", "Aborted")
            return _failed(error, uid)
        return None

    def _step(
        self,
        run: _Run,
        node: core_workflow_pb2.Node,
        uid: str,
        scope: _Scope,
        outputs_of: Callable[[str], literals_pb2.LiteralMap],
    ) -> _State:
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
                failure = _user_error(str(error), "BindingError")
                self._record_node(run, uid, NodePhase.FAILED, error=failure)
                return _failed(failure, uid)
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
                    return _done(outputs)
            row = self._record_node(run, uid, NodePhase.RUNNING, inputs=inputs, metadata=metadata, **parents)
        else:
            settled = self._state_of(row, uid)
            if settled is not None:
                return settled
        state = self._advance(run, node, uid, row, outputs_of)
        if state.done:
            assert state.outputs is not None
            self._record_node(run, uid, NodePhase.SUCCEEDED, outputs=state.outputs)
        elif state.failed:
            assert state.error is not None
            own_timeout = state.error.code == "TimedOut" and state.failed_node in ("", uid)
            phase = NodePhase.TIMED_OUT if own_timeout else NodePhase.FAILED
            self._record_node(run, uid, phase, error=state.error)
            return _failed(state.error, state.failed_node or uid)
        return state

    def _advance(
        self,
        run: _Run,
        node: core_workflow_pb2.Node,
        uid: str,
        row: sqlite3.Row,
        outputs_of: Callable[[str], literals_pb2.LiteralMap],
    ) -> _State:
        target = node.WhichOneof("target")
        if target == "task_node":
            return self._advance_task(run, node, uid, row)
        if target == "gate_node":
            return self._advance_gate(run, node, uid, row)
        if target == "branch_node":
            return self._advance_branch(run, node, uid, row, outputs_of)
        if target == "workflow_node":
            if node.workflow_node.WhichOneof("reference") == "launchplan_ref":
                return self._advance_launch_plan(run, node, uid, row)
            return self._advance_sub_workflow(run, node, uid, row)
        if target == "array_node":
            return self._advance_array(run, node, uid, row)
        return _failed(_system_error(f"node {node.id!r} has no target", "BadNodeSpecification"), uid)

    # Task nodes --------------------------------------------------------------------------------------------------

    @staticmethod
    def _template(run: _Run, task_id: identifier_pb2.Identifier) -> tasks_pb2.TaskTemplate | None:
        return run.compiled.tasks.get(_key_of(task_id))

    @staticmethod
    def _retries(node: core_workflow_pb2.Node, template: tasks_pb2.TaskTemplate) -> int:
        if node.metadata.HasField("retries") and node.metadata.retries.retries:
            return node.metadata.retries.retries
        return template.metadata.retries.retries

    def _start_attempt(
        self,
        run: _Run,
        uid: str,
        task_id: identifier_pb2.Identifier,
        attempt: int,
        inputs: literals_pb2.LiteralMap,
        task_type: str,
    ) -> None:
        self.records.task_event(run.key, uid, task_id, attempt, TaskPhase.RUNNING, inputs=inputs, task_type=task_type)
        run.attempts[uid] = [
            *[row for row in run.attempts.get(uid, []) if row["retry_attempt"] != attempt],
            *self.records.store.all(
                "SELECT * FROM task_executions WHERE execution_project = ? AND execution_domain = ? "
                "AND execution_name = ? AND node_id = ? AND retry_attempt = ?",
                (*run.key.params, uid, attempt),
            ),
        ]
        run.changed = True

    def _run_attempts(
        self,
        run: _Run,
        uid: str,
        task_id: identifier_pb2.Identifier,
        template: tasks_pb2.TaskTemplate,
        inputs: literals_pb2.LiteralMap,
        retries: int,
        compute: Callable[[int], TaskResult],
        pooled: bool,
        script: TaskScript | None,
        on_dynamic: Callable[[int, dynamic_job_pb2.DynamicJobSpec], _State] | None = None,
    ) -> _State:
        """Drive the attempts of a task: start, wait, time out, record the outcome and retry on failure.

        ``script`` is the task's script as this tick read it once, so that one tick never mixes two scripts. An
        attempt that produced a dynamic workflow is handed to ``on_dynamic`` (with its number), which records it.
        """
        attempts = run.attempts.get(uid, [])
        if not attempts:
            self._start_attempt(run, uid, task_id, 0, inputs, template.type)
            attempts = run.attempts[uid]
        current = attempts[-1]
        number = int(current["retry_attempt"])
        phase = TaskPhase.Value(current["phase"])
        if phase == TaskPhase.SUCCEEDED:
            return _done(literal_map(current["outputs"]))
        if phase in TASK_TERMINAL:
            # A failure already recorded (the tick that recorded it did not get to retry).
            outcome: _Outcome | None = _Outcome(failure=TaskFailure("attempt failed"))
            recorded = True
        else:
            outcome = self._attempt_outcome(run, uid, template, current, compute, pooled, script)
            recorded = False
        if outcome is None:
            return _RUNNING
        if outcome.dynamic is not None:
            if on_dynamic is not None:
                return on_dynamic(number, outcome.dynamic)
            outcome = _Outcome(
                failure=TaskFailure(
                    f"task {template.id.name} returned a dynamic workflow where only outputs can be used",
                    "USER:Unsupported",
                )
            )
        if outcome.failure is None:
            outputs = outcome.outputs if outcome.outputs is not None else literals_pb2.LiteralMap()
            self.records.task_event(run.key, uid, task_id, number, TaskPhase.SUCCEEDED, outputs=outputs)
            run.changed = True
            return _done(outputs)
        error = outcome.failure.to_proto()
        if not recorded:
            self.records.task_event(run.key, uid, task_id, number, TaskPhase.FAILED, error=error)
            run.changed = True
        else:
            closure_error = self._attempt_error(current)
            if closure_error is not None:
                error = closure_error
        if number < retries:
            self._start_attempt(run, uid, task_id, number + 1, inputs, template.type)
            return _RUNNING
        return _failed(error, uid)

    @staticmethod
    def _attempt_error(row: sqlite3.Row) -> execution_pb2.ExecutionError | None:
        from flyteidl.admin import task_execution_pb2

        closure = task_execution_pb2.TaskExecutionClosure.FromString(row["closure"])
        return closure.error if closure.HasField("error") else None

    def _attempt_outcome(
        self,
        run: _Run,
        uid: str,
        template: tasks_pb2.TaskTemplate,
        attempt_row: sqlite3.Row,
        compute: Callable[[int], TaskResult],
        pooled: bool,
        script: TaskScript | None,
    ) -> _Outcome | None:
        """How a running attempt ended, or ``None`` while it still runs (the wake-up time is noted on ``run``)."""
        number = int(attempt_row["retry_attempt"])
        attempt: AttemptKey = (run.key, uid, number)
        with self._results_lock:
            finished = self._results.pop(attempt, None)
        if finished is not None:
            return finished
        moment = now()
        started = parse_stored(attempt_row["started_at"]) or moment
        elapsed = (moment - started).total_seconds()
        timeout = duration_seconds(template.metadata.timeout) if template.metadata.HasField("timeout") else 0.0
        if timeout > 0:
            if elapsed >= timeout:
                with self._results_lock:
                    self._pending.discard(attempt)
                    cancel = self._cancels.get(attempt)
                if cancel is not None:
                    cancel.set()
                return _Outcome(
                    failure=TaskFailure(
                        f"task {template.id.name} timed out after {timeout:g}s (attempt {number})",
                        "TimedOut",
                        execution_pb2.ExecutionError.USER,
                    ),
                )
            run.wake_in(timeout - elapsed)
        if script is not None and script.hang:
            return None
        if script is not None and script.duration is not None:
            duration = script.duration
        else:
            duration = 0.0 if pooled else self.task_delay
        if elapsed < duration:
            run.wake_in(duration - elapsed)
            return None
        if script is not None:
            failure = script.failure_for(number)
            if failure is not None:
                return _Outcome(failure=failure)
        if not pooled:
            try:
                return _Outcome.of(compute(number))
            except TaskFailure as failure:
                return _Outcome(failure=failure)
        with self._results_lock:
            if attempt in self._pending:
                return None
            self._pending.add(attempt)
        if self._pool is None:
            return None
        self._pool.submit(self._compute_in_pool, attempt, compute, number)
        return None

    def _compute_in_pool(self, attempt: AttemptKey, compute: Callable[[int], TaskResult], number: int) -> None:
        try:
            outcome = _Outcome.of(compute(number))
        except TaskFailure as failure:
            outcome = _Outcome(failure=failure)
        except Exception as error:
            outcome = _Outcome(failure=TaskFailure.of(error))
        with self._results_lock:
            if attempt not in self._pending or self._stopping:
                return
            self._pending.discard(attempt)
            self._results[attempt] = outcome
        self.schedule(attempt[0])

    def _task_behaviour(
        self, run: _Run, uid: str, template: tasks_pb2.TaskTemplate, script: TaskScript | None
    ) -> tuple[Callable[[literals_pb2.LiteralMap, int], TaskResult], bool]:
        """What running the task on some inputs (at some attempt) produces, and whether it runs on the thread pool."""
        if script is not None and script.outputs is not None:
            active = script
            return (lambda inputs, _: scripted_outputs(active, template, inputs)), callable(script.outputs)
        if python_callable_of(template) is not None:
            return (lambda inputs, _: call_python_task(template, inputs)), True
        if self.run_containers and runs_flytekit_command(template):
            key = run.key
            return (lambda inputs, attempt: self._run_container(key, uid, attempt, template, inputs)), True
        location = self.records.blobs.uri(f"data/{run.key.project}/{run.key.domain}/{run.key.name}/{uid}")
        return (lambda inputs, _: placeholder_outputs(template.interface, location)), False

    def _run_container(
        self,
        key: ExecutionKey,
        uid: str,
        attempt: int,
        template: tasks_pb2.TaskTemplate,
        inputs: literals_pb2.LiteralMap,
    ) -> TaskResult:
        """Run a flytekit container task as a local process; an abort or a timeout stops it."""
        cancel = threading.Event()
        marker: AttemptKey = (key, uid, attempt)
        with self._results_lock:
            self._cancels[marker] = cancel
        try:
            return self.containers.run(template, inputs, key.params, uid, attempt, cancel)
        finally:
            with self._results_lock:
                self._cancels.pop(marker, None)

    def _stop_attempts(self, run: _Run, uid: str, task_id: identifier_pb2.Identifier, state: _State) -> None:
        for attempt_row in run.attempts.get(uid, []):
            if TaskPhase.Value(attempt_row["phase"]) in TASK_TERMINAL:
                continue
            number = int(attempt_row["retry_attempt"])
            attempt: AttemptKey = (run.key, uid, number)
            with self._results_lock:
                self._pending.discard(attempt)
                self._results.pop(attempt, None)
                cancel = self._cancels.get(attempt)
            if cancel is not None:
                cancel.set()
            self.records.task_event(run.key, uid, task_id, number, TaskPhase.FAILED, error=state.error)
            run.changed = True

    def _advance_task(self, run: _Run, node: core_workflow_pb2.Node, uid: str, row: sqlite3.Row) -> _State:
        task_id = node.task_node.reference_id
        template = self._template(run, task_id)
        if template is None:
            return _failed(
                _system_error(f"task {task_id.name}:{task_id.version} is not in the workflow closure", "TaskNotFound"),
                uid,
            )
        timed_out = self._node_timed_out(node, uid, row, run)
        if timed_out is not None:
            # The node's own deadline (all attempts together) ends the attempt that is running.
            self._stop_attempts(run, uid, task_id, timed_out)
            return timed_out
        if row["internal_data"]:
            return self._advance_dynamic(run, uid, row)
        if run.reference is not None and not run.attempts.get(uid):
            reused = self._reuse_dynamic(run, uid, row, template)
            if reused is not None:
                return reused
        inputs = literal_map(row["inputs"])
        script = self.behaviours.lookup(template.id)
        behaviour, pooled = self._task_behaviour(run, uid, template, script)
        return self._run_attempts(
            run,
            uid,
            task_id,
            template,
            inputs,
            self._retries(node, template),
            lambda number: behaviour(inputs, number),
            pooled,
            script,
            on_dynamic=lambda number, spec: self._start_dynamic(run, uid, template, number, spec),
        )

    # Dynamic task nodes ------------------------------------------------------------------------------------------

    def _start_dynamic(
        self,
        run: _Run,
        uid: str,
        template: tasks_pb2.TaskTemplate,
        attempt: int,
        spec: dynamic_job_pb2.DynamicJobSpec,
    ) -> _State:
        """Record an attempt that produced a dynamic workflow, compile the workflow and start its nodes.

        The attempt's success and the node's compiled workflow (or its build failure) are recorded in one
        transaction: a restart never finds a succeeded attempt whose node does not say what came of it.
        """
        spec_data = spec.SerializeToString(deterministic=True)
        spec_uri = self.records.blobs.put(
            f"metadata/{run.key.project}/{run.key.domain}/{run.key.name}/{uid}/{attempt}/futures.pb", spec_data
        )
        try:
            closure = self._compile_dynamic(run, uid, template, spec, spec_data)
        except CompileError as error:
            failure = _user_error(
                f"failed to build the dynamic workflow: {error}".rstrip(), "DynamicWorkflowBuildFailed"
            )
            with self.records.store.transaction():
                self.records.task_event(run.key, uid, template.id, attempt, TaskPhase.SUCCEEDED)
                self._record_node(run, uid, NodePhase.FAILED, error=failure)
            return _failed(failure, uid)
        with self.records.store.transaction():
            self.records.task_event(run.key, uid, template.id, attempt, TaskPhase.SUCCEEDED)
            row = self._enter_dynamic(run, uid, closure, spec_uri)
        return self._advance_dynamic(run, uid, row)

    def _enter_dynamic(
        self, run: _Run, uid: str, closure: compiler_pb2.CompiledWorkflowClosure, spec_uri: str
    ) -> sqlite3.Row:
        """Move a node to DYNAMIC_RUNNING with its compiled workflow, marked as a dynamic parent."""
        row = run.nodes[uid]
        metadata = node_execution_pb2.NodeExecutionMetaData.FromString(row["node_execution_metadata"] or b"")
        metadata.is_dynamic = True
        metadata.is_parent_node = True
        self._record_node(
            run,
            uid,
            NodePhase.DYNAMIC_RUNNING,
            metadata=metadata,
            dynamic_workflow=closure,
            dynamic_job_spec_uri=spec_uri,
        )
        run.attempts[uid] = self.records.store.all(
            "SELECT * FROM task_executions WHERE execution_project = ? AND execution_domain = ? "
            "AND execution_name = ? AND node_id = ? ORDER BY retry_attempt",
            (*run.key.params, uid),
        )
        return run.nodes[uid]

    def _compile_dynamic(
        self,
        run: _Run,
        uid: str,
        template: tasks_pb2.TaskTemplate,
        spec: dynamic_job_pb2.DynamicJobSpec,
        spec_data: bytes,
    ) -> compiler_pb2.CompiledWorkflowClosure:
        """Compile a dynamic job spec as propeller does: the task's interface, the spec's nodes and outputs.

        Tasks come from the spec, then from the closure being run, then from the registered tasks; launch plans
        from the registered ones.

        Raises:
            CompileError: a task or launch plan is unknown, or the workflow does not compile.
        """
        workflow_id = identifier_pb2.Identifier(
            resource_type=identifier_pb2.ResourceType.WORKFLOW,
            project=run.key.project,
            domain=run.key.domain,
            name=f"dynamic_{uid}",
            version=hashlib.sha256(spec_data).hexdigest()[:10],
        )
        workflow = core_workflow_pb2.WorkflowTemplate(
            id=workflow_id,
            metadata=core_workflow_pb2.WorkflowMetadata(),
            interface=template.interface,
            nodes=spec.nodes,
            outputs=spec.outputs,
        )
        sub_workflows = list(spec.subworkflows)
        needs = get_requirements(workflow, sub_workflows)
        shipped = {_key_of(task.id): task for task in spec.tasks}
        tasks = []
        for task_id in needs.task_ids:
            found = shipped.get(_key_of(task_id)) or run.compiled.tasks.get(_key_of(task_id))
            if found is None:
                found = self._registered_task(task_id)
            if found is None:
                raise CompileError(
                    f"task {task_id.project}:{task_id.domain}:{task_id.name}:{task_id.version} is neither in the "
                    "dynamic job spec nor registered"
                )
            tasks.append(compiler_pb2.CompiledTask(template=found))
        interfaces = {}
        for plan_id in needs.launch_plan_ids:
            plan_row = self.records.store.one(
                "SELECT closure FROM launch_plans WHERE project = ? AND domain = ? AND name = ? AND version = ?",
                _key_of(plan_id),
            )
            if plan_row is None:
                raise CompileError(
                    f"launch plan {plan_id.project}:{plan_id.domain}:{plan_id.name}:{plan_id.version} is not registered"
                )
            plan = launch_plan_pb2.LaunchPlanClosure.FromString(plan_row["closure"])
            interfaces[_key_of(plan_id)] = launch_plan_interface(plan.expected_inputs, plan.expected_outputs)
        return compile_workflow(workflow, sub_workflows, tasks, interfaces)

    def _registered_task(self, task_id: identifier_pb2.Identifier) -> tasks_pb2.TaskTemplate | None:
        row = self.records.store.one(
            "SELECT closure FROM tasks WHERE project = ? AND domain = ? AND name = ? AND version = ?", _key_of(task_id)
        )
        if row is None:
            return None
        return task_pb2.TaskClosure.FromString(row["closure"]).compiled_task.template

    def _dynamic_compiled(self, run: _Run, uid: str, attempt: int, row: sqlite3.Row) -> _Compiled:
        """The node's dynamic workflow, indexed, with the outer closure's tasks and sub-workflows behind its own."""
        cache_key = (run.key, uid, attempt)
        compiled = self._dynamic.get(cache_key)
        if compiled is None:
            own = _Compiled.of(compiler_pb2.CompiledWorkflowClosure.FromString(row["internal_data"]))
            closure = node_execution_pb2.NodeExecutionClosure.FromString(row["closure"])
            min_successes = 0
            key = self.records.blobs.key_of(closure.dynamic_job_spec_uri) if closure.dynamic_job_spec_uri else None
            data = self.records.blobs.get(key) if key is not None else None
            if data is not None:
                spec = dynamic_job_pb2.DynamicJobSpec.FromString(data)
                if 0 < spec.min_successes < len(spec.nodes):
                    min_successes = spec.min_successes
            compiled = _Compiled(
                closure=own.closure,
                tasks={**run.compiled.tasks, **own.tasks},
                sub_workflows={**run.compiled.sub_workflows, **own.sub_workflows},
                min_successes=min_successes,
            )
            if len(self._dynamic) >= _CACHE_LIMIT:
                self._dynamic.clear()
            self._dynamic[cache_key] = compiled
        return compiled

    def _advance_dynamic(self, run: _Run, uid: str, row: sqlite3.Row) -> _State:
        """Walk the children of a dynamic node; their workflow's outputs become the node's."""
        generating = [
            attempt for attempt in run.attempts.get(uid, []) if TaskPhase.Value(attempt["phase"]) == TaskPhase.SUCCEEDED
        ]
        if not generating:
            return _failed(
                _system_error(f"node {uid} has a dynamic workflow but no attempt that produced it", "Unknown"), uid
            )
        attempt_row = generating[-1]
        attempt = int(attempt_row["retry_attempt"])
        compiled = self._dynamic_compiled(run, uid, attempt, row)
        prefix = f"{uid}-{attempt}"
        if run.reference is not None:
            self._alias_reference_children(run, uid, prefix)
        scope = _Scope(
            prefix,
            int(row["id"]),
            literal_map(row["inputs"]),
            parent_task_row_id=int(attempt_row["id"]),
            retry_group=str(attempt),
        )
        with run.within(compiled):
            return self._walk(run, compiled.closure.primary, scope, compiled.min_successes)

    def _alias_reference_children(self, run: _Run, uid: str, prefix: str) -> None:
        """Let the children of a recovered dynamic node find theirs in the reference, whatever its attempt."""
        assert run.reference is not None
        source = run.reference_uid(uid)
        attempt_row = self.records.store.one(
            "SELECT retry_attempt FROM task_executions WHERE execution_project = ? AND execution_domain = ? "
            "AND execution_name = ? AND node_id = ? AND phase = ? ORDER BY retry_attempt DESC LIMIT 1",
            (*run.reference.params, source, TaskPhase.Name(TaskPhase.SUCCEEDED)),
        )
        if attempt_row is not None:
            run.reference_aliases[f"{prefix}-"] = f"{source}-{attempt_row['retry_attempt']}-"

    def _reuse_dynamic(self, run: _Run, uid: str, row: sqlite3.Row, template: tasks_pb2.TaskTemplate) -> _State | None:
        """In a recovery, take over the dynamic workflow the reference's node compiled instead of running the task.

        The reference's node did not succeed (it would have been RECOVERED whole), but its task did produce the
        workflow: only the children that did not succeed there run again.
        """
        assert run.reference is not None
        source = self.records.node_row(run.reference, run.reference_uid(uid))
        if source is None or not source["internal_data"]:
            return None
        closure = compiler_pb2.CompiledWorkflowClosure.FromString(source["internal_data"])
        spec_uri = node_execution_pb2.NodeExecutionClosure.FromString(source["closure"]).dynamic_job_spec_uri
        inputs = literal_map(row["inputs"])
        with self.records.store.transaction():
            self._start_attempt(run, uid, template.id, 0, inputs, template.type)
            self.records.task_event(
                run.key,
                uid,
                template.id,
                0,
                TaskPhase.SUCCEEDED,
                reason=f"recovered the dynamic workflow of execution {run.reference.name}",
            )
            row = self._enter_dynamic(run, uid, closure, spec_uri)
        return self._advance_dynamic(run, uid, row)

    # Array nodes -------------------------------------------------------------------------------------------------

    def _advance_array(self, run: _Run, node: core_workflow_pb2.Node, uid: str, row: sqlite3.Row) -> _State:
        array = node.array_node
        inner = array.node
        if inner.WhichOneof("target") != "task_node":
            kind = inner.WhichOneof("target") or "empty"
            return _failed(
                _system_error(f"array node {node.id!r} maps a {kind}; the sandbox maps tasks only", "Unsupported"), uid
            )
        task_id = inner.task_node.reference_id
        template = self._template(run, task_id)
        if template is None:
            return _failed(
                _system_error(f"task {task_id.name}:{task_id.version} is not in the workflow closure", "TaskNotFound"),
                uid,
            )
        inputs = literal_map(row["inputs"])
        try:
            elements = array_element_inputs(inputs, array.bound_inputs)
        except BindingError as error:
            return _failed(_user_error(str(error), "BindingError"), uid)
        # Each element runs the task as if it were declared with the element's interface.
        element_template = tasks_pb2.TaskTemplate()
        element_template.CopyFrom(template)
        element_template.interface.CopyFrom(element_interface(array, template.interface))
        script = self.behaviours.lookup(template.id)
        behaviour, pooled = self._task_behaviour(run, uid, element_template, script)

        def compute(attempt: int) -> literals_pb2.LiteralMap:
            results: list[literals_pb2.LiteralMap | TaskFailure] = []
            for element in elements:
                failure = script.failure_for(attempt) if script is not None else None
                if failure is not None:
                    results.append(failure)
                    continue
                try:
                    result = behaviour(element, attempt)
                except TaskFailure as problem:
                    results.append(problem)
                    continue
                if isinstance(result, dynamic_job_pb2.DynamicJobSpec):
                    results.append(
                        TaskFailure("an array node element cannot run a dynamic workflow", "USER:Unsupported")
                    )
                else:
                    results.append(result)
            return collect_array_outputs(
                results, element_template.interface, array.min_successes, array.min_success_ratio
            )

        retries = self._retries(inner, template)
        return self._run_attempts(run, uid, task_id, template, inputs, retries, compute, pooled, script)

    # Gate nodes --------------------------------------------------------------------------------------------------

    def _node_timed_out(self, node: core_workflow_pb2.Node, uid: str, row: sqlite3.Row, run: _Run) -> _State | None:
        if not node.metadata.HasField("timeout"):
            return None
        timeout = duration_seconds(node.metadata.timeout)
        if timeout <= 0:
            return None
        started = parse_stored(row["started_at"]) or now()
        elapsed = (now() - started).total_seconds()
        if elapsed >= timeout:
            return _failed(_user_error(f"node {node.id} timed out after {timeout:g}s", "TimedOut"), uid)
        run.wake_in(timeout - elapsed)
        return None

    def _signal(self, run: _Run, signal_id: str, literal_type: types_pb2.LiteralType) -> signal_pb2.Signal:
        if self.executions is None:
            raise AdminError(grpc.StatusCode.FAILED_PRECONDITION, "the engine has no signal service attached")
        request = signal_pb2.SignalGetOrCreateRequest(
            id=identifier_pb2.SignalIdentifier(signal_id=signal_id, execution_id=run.key.to_proto()), type=literal_type
        )
        return self.executions.GetOrCreateSignal(request)

    def _advance_gate(self, run: _Run, node: core_workflow_pb2.Node, uid: str, row: sqlite3.Row) -> _State:
        gate = node.gate_node
        condition = gate.WhichOneof("condition")
        timed_out = self._node_timed_out(node, uid, row, run)
        if condition == "sleep":
            started = parse_stored(row["started_at"]) or now()
            remaining = duration_seconds(gate.sleep.duration) - (now() - started).total_seconds()
            if remaining <= 0:
                return _done(literals_pb2.LiteralMap())
            if timed_out is not None:
                return timed_out
            run.wake_in(remaining)
            return _RUNNING
        if condition not in ("approve", "signal"):
            return _failed(_system_error(f"gate node {node.id!r} has no condition", "BadNodeSpecification"), uid)
        signal_id = gate.approve.signal_id if condition == "approve" else gate.signal.signal_id
        literal_type = _BOOLEAN if condition == "approve" else gate.signal.type
        try:
            signal = self._signal(run, signal_id, literal_type)
        except AdminError as error:
            return _failed(_system_error(f"signal {signal_id!r}: {error.message}", "SignalError"), uid)
        if not signal.HasField("value"):
            if timed_out is not None:
                return timed_out
            run.wake_in(self.poll_interval)
            return _RUNNING
        if condition == "signal":
            outputs = literals_pb2.LiteralMap()
            if gate.signal.output_variable_name:
                outputs.literals[gate.signal.output_variable_name].CopyFrom(signal.value)
            return _done(outputs)
        value = signal.value
        if (
            value.WhichOneof("value") != "scalar"
            or value.scalar.WhichOneof("value") != "primitive"
            or (value.scalar.primitive.WhichOneof("value") != "boolean")
        ):
            return _failed(
                _system_error(f"approval signal {signal_id!r} holds a value that is not a boolean", "UnknownError"), uid
            )
        if value.scalar.primitive.boolean:
            return _done(literal_map(row["inputs"]))
        return _failed(_user_error(_REJECTED, "ReceivedRejectSignal"), uid)

    # Branch nodes ------------------------------------------------------------------------------------------------

    def _advance_branch(
        self,
        run: _Run,
        node: core_workflow_pb2.Node,
        uid: str,
        row: sqlite3.Row,
        outputs_of: Callable[[str], literals_pb2.LiteralMap],
    ) -> _State:
        inputs = literal_map(row["inputs"])
        try:
            chosen = choose_branch(node.branch_node.if_else, inputs, node.id)
        except BranchError as error:
            return _failed(_user_error(str(error), error.code), uid)
        # The chosen node reads its inputs from the nodes around the branch, not from the branch's inputs.
        child_uid = f"{uid}-0-{chosen.id}"
        return self._step(run, chosen, child_uid, _Scope(f"{uid}-0", int(row["id"]), inputs), outputs_of)

    # Sub-workflow and launch-plan nodes --------------------------------------------------------------------------

    def _advance_sub_workflow(self, run: _Run, node: core_workflow_pb2.Node, uid: str, row: sqlite3.Row) -> _State:
        reference = node.workflow_node.sub_workflow_ref
        sub = run.compiled.sub_workflows.get(_key_of(reference))
        if sub is None:
            return _failed(
                _system_error(
                    f"sub-workflow {reference.name}:{reference.version} is not in the closure", "WorkflowNotFound"
                ),
                uid,
            )
        return self._walk(run, sub, _Scope(f"{uid}-0", int(row["id"]), literal_map(row["inputs"])))

    def _advance_launch_plan(self, run: _Run, node: core_workflow_pb2.Node, uid: str, row: sqlite3.Row) -> _State:
        closure = node_execution_pb2.NodeExecutionClosure.FromString(row["closure"])
        if not closure.workflow_node_metadata.HasField("executionId"):
            try:
                child = self._launch_child(run, node, uid, row)
            except AdminError as error:
                return _failed(
                    _user_error(
                        f"could not launch {node.workflow_node.launchplan_ref.name}: {error.message}", error.code.name
                    ),
                    uid,
                )
            self._record_node(run, uid, NodePhase.RUNNING, child_execution=child.to_proto())
            run.wake_in(self.poll_interval)
            return _RUNNING
        child = ExecutionKey.of(closure.workflow_node_metadata.executionId)
        child_row = self.records.execution_row(child)
        phase = WorkflowPhase.Value(child_row["phase"])
        if phase == WorkflowPhase.SUCCEEDED:
            return _done(literal_map(child_row["outputs"]))
        if phase in WORKFLOW_TERMINAL:
            child_closure = admin_execution_pb2.ExecutionClosure.FromString(child_row["closure"])
            if child_closure.HasField("error"):
                child_error = execution_pb2.ExecutionError()
                child_error.CopyFrom(child_closure.error)
            else:
                child_error = _user_error(
                    f"child execution {child.name} ended {WorkflowPhase.Name(phase)}", WorkflowPhase.Name(phase).title()
                )
            return _failed(child_error, uid)
        # The child wakes us when it finishes; looking now and then also covers a child another sandbox runs.
        run.wake_in(max(self.poll_interval, 1.0))
        return _RUNNING

    def _launch_child(self, run: _Run, node: core_workflow_pb2.Node, uid: str, row: sqlite3.Row) -> ExecutionKey:
        if self.executions is None:
            raise AdminError(grpc.StatusCode.FAILED_PRECONDITION, "the engine has no execution service attached")
        metadata = admin_execution_pb2.ExecutionMetadata(
            mode=Mode.CHILD_WORKFLOW,
            principal=run.spec.metadata.principal,
            nesting=run.spec.metadata.nesting + 1,
            parent_node_execution=identifier_pb2.NodeExecutionIdentifier(node_id=uid, execution_id=run.key.to_proto()),
        )
        spec = admin_execution_pb2.ExecutionSpec(launch_plan=node.workflow_node.launchplan_ref, metadata=metadata)
        name = child_execution_name(run.key, uid)
        child = ExecutionKey(run.key.project, run.key.domain, name)
        try:
            self.executions.create(child.project, child.domain, name, spec, literal_map(row["inputs"]))
        except AdminError as error:
            if error.code != grpc.StatusCode.ALREADY_EXISTS:
                raise
            # Created by a tick that stopped before it could record the link.
        self.records.store.execute(
            "UPDATE executions SET parent_node_execution_id = ? WHERE execution_project = ? AND execution_domain = ? "
            "AND execution_name = ?",
            (int(row["id"]), *child.params),
        )
        return child

    # Failure and abort -------------------------------------------------------------------------------------------

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


__all__ = [
    "PYTHON_CALLABLE_KEY",
    "LocalEngine",
    "TaskScript",
    "call_python_task",
    "child_execution_name",
    "placeholder_literal",
    "python_callable_of",
    "resolve_binding",
]
