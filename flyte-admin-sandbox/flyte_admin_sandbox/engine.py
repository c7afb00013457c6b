"""The execution engine: it walks compiled workflows and reports progress as propeller would.

The engine is driven by *ticks*. A tick reads one execution's rows from the store, decides what can happen next and
records it through :class:`~flyte_admin_sandbox.records.Records` (as propeller reports through
CreateWorkflowEvent / CreateNodeEvent / CreateTaskEvent). All progress lives in the store, so a sandbox restarted on
the same SQLite file resumes running executions where they were; the only in-memory state is the work of Python
functions currently running on the thread pool, which is simply started again after a restart.

One thread runs the ticks, one at a time, the ticks due together in one transaction and each in a savepoint of its
own (a tick that fails leaves nothing behind). A tick takes an execution as far as it can go; the next one comes
when something it waits for is due (a task's time, a timeout, a look at signals or child executions) or when it is
woken (a result from the thread pool, a child that finished, an abort). Admin calls waiting for the store end a
batch and go first.

:class:`LocalEngine` is composed of one part per node kind, each in its own module over the shared state and the
walk of :mod:`~flyte_admin_sandbox.engine_core`: task attempts (:mod:`~flyte_admin_sandbox.engine_attempts`), task
nodes (:mod:`~flyte_admin_sandbox.engine_tasks`), dynamic tasks (:mod:`~flyte_admin_sandbox.engine_dynamic`), array
nodes (:mod:`~flyte_admin_sandbox.engine_arrays`), gates (:mod:`~flyte_admin_sandbox.engine_gates`), branch,
sub-workflow and launch-plan nodes (:mod:`~flyte_admin_sandbox.engine_children`) and aborts
(:mod:`~flyte_admin_sandbox.engine_aborts`); :mod:`~flyte_admin_sandbox.engine_nodes` holds the pure helpers.

Node kinds:

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

import heapq
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import grpc
from flyteidl.admin import execution_pb2 as admin_execution_pb2
from flyteidl.admin import workflow_pb2
from flyteidl.core import execution_pb2, identifier_pb2, literals_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from flyte_admin_sandbox.behaviours import (
    PYTHON_CALLABLE_KEY,
    TaskScript,
    call_python_task,
    placeholder_literal,
    python_callable_of,
)
from flyte_admin_sandbox.compiler import END_NODE, START_NODE
from flyte_admin_sandbox.engine_aborts import Aborts
from flyte_admin_sandbox.engine_arrays import ArrayNodes
from flyte_admin_sandbox.engine_children import ChildNodes
from flyte_admin_sandbox.engine_gates import GateNodes
from flyte_admin_sandbox.engine_nodes import resolve_binding
from flyte_admin_sandbox.engine_state import (
    CACHE_LIMIT,
    Compiled,
    Mode,
    Run,
    Scope,
    State,
    child_execution_name,
    failed,
    system_error,
)
from flyte_admin_sandbox.engine_tasks import TaskNodes
from flyte_admin_sandbox.errors import AdminError
from flyte_admin_sandbox.records import WORKFLOW_TERMINAL, ExecutionKey, NodePhase, WorkflowPhase, literal_map

if TYPE_CHECKING:
    import sqlite3

    from flyte_admin_sandbox.executions import Executions

log = logging.getLogger(__name__)

GIVE_WAY_SECONDS = 0.002
"""How long the engine pauses at most after a batch of ticks while Admin calls wait for the store."""
API_BUSY_SECONDS = 0.002
"""The API counts as busy while a call began or ended this recently."""
API_BUSY_SHARE = 0.1
"""The share of the time the engine takes at most while the API stays busy (it pauses after each batch of ticks)."""
MAX_PAUSE_SECONDS = 0.05
"""The longest pause after one batch of ticks."""
PAUSE_STEP_SECONDS = 0.0005
"""How often a pausing engine looks whether it may go on."""
BATCH_TICKS = 64
"""Ticks recorded in one transaction at most."""
BATCH_SECONDS = 0.005
"""How long one batch of ticks may hold the store when no Admin call waits for it (it may run over by one tick)."""


class LocalEngine(TaskNodes, ArrayNodes, GateNodes, ChildNodes, Aborts):
    """Runs executions inside the sandbox process.

    Args:
        records: Where progress is read and written.
        task_delay: Seconds a task without a script or a Python function takes before succeeding.
        max_workers: Threads for Python task functions and scripted output functions.
        poll_interval: Seconds between looks at what the engine cannot be told about (signals being set, child
            executions of another engine).
        run_containers: Run flytekit container tasks (``pyflyte-execute``) as local processes instead of giving
            them placeholder outputs (needs flytekit installed; see :mod:`flyte_admin_sandbox.containers`).
        api_calls: When the gRPC API last served a call: the engine gives way while it is busy.
    """

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

    def _loop(self) -> None:
        while True:
            key = self._next_due()
            if key is None:
                return
            started = time.monotonic()
            self._tick_batch(key)
            self._give_way(time.monotonic() - started)

    def _give_way(self, spent: float) -> None:
        """Let Admin calls go first after a batch of ticks that took ``spent`` seconds.

        Clients wait on those calls; executions can wait a little. The interpreter lock is shared, and a call spends
        most of its time in gRPC's code, outside the store: so while the API stays busy (see
        :data:`API_BUSY_SECONDS`) the engine pauses, up to long enough to take :data:`API_BUSY_SHARE` of the time.
        It also pauses while calls wait for the store, for :data:`GIVE_WAY_SECONDS` at most. Every pause is bounded,
        so that the engine goes on even when calls never stop coming.
        """
        store = self.records.store
        started = time.monotonic()
        api_until = started + min(spent * (1 / API_BUSY_SHARE - 1), MAX_PAUSE_SECONDS)
        store_until = started + GIVE_WAY_SECONDS
        while not self._stopping:
            moment = time.monotonic()
            if not (moment < api_until and self._api_busy()) and not (moment < store_until and store.waiting):
                return
            time.sleep(PAUSE_STEP_SECONDS)

    def _api_busy(self) -> bool:
        """Whether the gRPC API began or ended a call within :data:`API_BUSY_SECONDS`."""
        calls = self.api_calls
        return calls is not None and calls.idle_for() < API_BUSY_SECONDS

    def _next_due(self, wait: bool = True) -> ExecutionKey | None:
        """Take the next execution whose tick is due off the queue (waiting for one unless ``wait`` is false).

        ``None`` once stopping, or when nothing is due and ``wait`` is false.
        """
        with self._condition:
            while True:
                while wait and not self._stopping and (not self._queue or self._queue[0][0] > time.monotonic()):
                    timeout = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._condition.wait(timeout)
                if self._stopping or not self._queue or self._queue[0][0] > time.monotonic():
                    return None
                due, _, key = heapq.heappop(self._queue)
                if self._due.get(key) == due:  # else superseded by an earlier tick of the same execution
                    del self._due[key]
                    return key

    def _tick_batch(self, first: ExecutionKey) -> None:
        """Tick ``first`` and the executions due after it in one transaction, each tick in a savepoint of its own.

        A tick that fails undoes its own writes only. The batch ends as soon as an Admin call waits for the store
        or the API is busy (its calls need the store soon), or after :data:`BATCH_TICKS` ticks or
        :data:`BATCH_SECONDS`. One commit for many ticks: fewer writes of a
        database file, and less for a ``:memory:`` store, whose commits cost more as it grows.
        """
        deadline = time.monotonic() + BATCH_SECONDS
        ticked: list[ExecutionKey] = []
        store = self.records.store
        key: ExecutionKey | None = first
        try:
            with store.transaction():
                while key is not None:
                    ticked.append(key)
                    self._tick_in_savepoint(key)
                    if store.waiting or self._api_busy() or len(ticked) >= BATCH_TICKS or time.monotonic() > deadline:
                        break
                    key = self._next_due(wait=False)
        except Exception:  # the commit itself failed (a database file locked by another process): tick again
            log.exception("engine could not record a batch of %d ticks", len(ticked))
            for again in ticked:
                self.schedule(again, max(self.poll_interval, 1.0))

    def _tick_in_savepoint(self, key: ExecutionKey) -> None:
        """One tick, all its writes in one savepoint: a tick that fails leaves nothing of it behind."""
        try:
            with self.records.store.savepoint():
                self.tick(key)
        except AdminError as error:
            if error.code == grpc.StatusCode.NOT_FOUND:
                log.warning("engine dropped %s: %s", key, error.message)
                return
            # A concurrent TerminateExecution may have moved the run on; look again shortly.
            log.debug("engine tick of %s raced with an update (%s); retrying", key, error.message)
            self.schedule(key, self.poll_interval)
        except Exception:
            log.exception("engine tick failed for execution %s", key)
            self.schedule(key, max(self.poll_interval, 1.0))

    # Ticks -------------------------------------------------------------------------------------------------------

    def _compiled_of(self, workflow_row_id: int) -> Compiled:
        compiled = self._compiled.get(workflow_row_id)
        if compiled is None:
            row = self.records.store.one("SELECT closure FROM workflows WHERE id = ?", (workflow_row_id,))
            if row is None:
                raise LookupError(f"workflow row {workflow_row_id} is gone")
            compiled = Compiled.of(workflow_pb2.WorkflowClosure.FromString(row["closure"]).compiled_workflow)
            if len(self._compiled) >= CACHE_LIMIT:
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

    def _load_run(
        self, key: ExecutionKey, row: sqlite3.Row, spec: admin_execution_pb2.ExecutionSpec, first: bool
    ) -> Run:
        """What a tick works on: the execution's nodes and attempts (the ``first`` tick records the start node)."""
        reference = None
        if spec.metadata.mode == Mode.RECOVERED and spec.metadata.HasField("reference_execution"):
            reference = ExecutionKey.of(spec.metadata.reference_execution)
        inputs = literal_map(row["inputs"])
        run = Run(
            key=key,
            spec=spec,
            compiled=self._compiled_of(row["workflow_id"]),
            inputs=inputs,
            nodes={},
            attempts={},
            reference=reference,
        )
        if first:
            # Nothing of the run is stored yet: a tick's writes are one transaction, so none of a first tick's stay.
            run.nodes[START_NODE] = self.records.node_event(
                key, START_NODE, NodePhase.SUCCEEDED, inputs=inputs, outputs=inputs, current=None
            )
        else:
            run.nodes = self.records.node_rows(key)
            run.attempts = self._attempt_rows(key)
        return run

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
        first = phase == WorkflowPhase.UNDEFINED
        if first:
            row = self.records.workflow_event(key, WorkflowPhase.RUNNING, current=row)
        run = self._load_run(key, row, spec, first)
        state = self._walk(run, run.compiled.closure.primary, Scope(None, None, run.inputs))
        if state.failed:
            assert state.error is not None
            self._abort_running(run.key)
            error = execution_pb2.ExecutionError()
            error.CopyFrom(state.error)
            error.message = (
                f"[{state.failed_node}]: {error.message}" if error.message else f"node {state.failed_node} failed"
            )
            self.records.workflow_event(key, WorkflowPhase.FAILED, via=WorkflowPhase.FAILING, error=error, current=row)
            self._finished(key, spec)
        elif state.done:
            assert state.outputs is not None
            self.records.node_event(key, END_NODE, NodePhase.SUCCEEDED, inputs=state.outputs, outputs=state.outputs)
            self.records.workflow_event(
                key, WorkflowPhase.SUCCEEDED, via=WorkflowPhase.SUCCEEDING, outputs=state.outputs, current=row
            )
            self._finished(key, spec)
        elif run.wake is not None:
            # Every node went as far as it could (the walk repeats until nothing moves): next, what it waits for.
            self.schedule(key, run.wake)
        elif run.changed:
            self.schedule(key)

    # Node kinds --------------------------------------------------------------------------------------------------

    def _advance(
        self,
        run: Run,
        node: core_workflow_pb2.Node,
        uid: str,
        row: sqlite3.Row,
        outputs_of: Callable[[str], literals_pb2.LiteralMap],
    ) -> State:
        """Hand a started node to the part of the engine that runs its kind."""
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
        return failed(system_error(f"node {node.id!r} has no target", "BadNodeSpecification"), uid)


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
