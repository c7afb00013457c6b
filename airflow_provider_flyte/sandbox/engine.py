"""The execution engine: it walks compiled workflows and reports progress as propeller would.

The engine is driven by *ticks*. A tick reads one execution's rows from the store, decides what can happen next
(start nodes whose upstream nodes are done, finish delayed tasks, fail or finish the run, complete an abort) and
records it through :class:`~airflow_provider_flyte.sandbox.records.Records`. All progress lives in the store, so a
restarted sandbox resumes running executions where they were. Built-in Python tasks run on a thread pool and tick
their execution when they return.

Task behaviour:

* a task template whose ``custom`` has ``python_callable: "module:function"`` calls that function with the node's
  inputs as Python values (through the literal codec); its return value becomes the outputs (for several outputs
  a dict by name, or a tuple when they are named ``o0``, ``o1``...); an exception fails the node with its message;
* any other task succeeds after ``task_delay`` seconds with outputs derived from its interface
  (:func:`placeholder_literal`).

Node kinds other than task nodes (gates, branches, sub-workflows, launch plans, arrays) fail the node with a clear
"not supported" error in this first engine.
"""

from __future__ import annotations

import datetime
import heapq
import importlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flyteidl.admin import workflow_pb2
from flyteidl.core import compiler_pb2, execution_pb2, identifier_pb2, literals_pb2, tasks_pb2, types_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from airflow_provider_flyte.sandbox.compiler import END_NODE, START_NODE
from airflow_provider_flyte.sandbox.errors import AdminError
from airflow_provider_flyte.sandbox.records import (
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
from airflow_provider_flyte.sandbox.store import now

log = logging.getLogger(__name__)

PYTHON_CALLABLE_KEY = "python_callable"
_DONE = frozenset({NodePhase.SUCCEEDED, NodePhase.RECOVERED, NodePhase.SKIPPED})
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def python_callable_of(template: tasks_pb2.TaskTemplate) -> str | None:
    """The ``module:function`` a built-in Python task names in its ``custom`` config, if any."""
    if not template.HasField("custom"):
        return None
    field = template.custom.fields.get(PYTHON_CALLABLE_KEY)
    return field.string_value if field is not None and field.string_value else None


def placeholder_literal(literal_type: types_pb2.LiteralType, name: str, location: str) -> literals_pb2.Literal:
    """A deterministic value of a type, standing in for what a real task would produce.

    Integers are the length of ``name``, strings are ``name``, booleans true, floats ``1.0``, times the epoch,
    containers empty, blobs and datasets point under ``location``.
    """
    literal = literals_pb2.Literal()
    kind = literal_type.WhichOneof("type")
    if kind == "simple":
        primitive = literal.scalar.primitive
        simple = literal_type.simple
        if simple == types_pb2.SimpleType.INTEGER:
            primitive.integer = len(name)
        elif simple == types_pb2.SimpleType.FLOAT:
            primitive.float_value = 1.0
        elif simple == types_pb2.SimpleType.STRING:
            primitive.string_value = name
        elif simple == types_pb2.SimpleType.BOOLEAN:
            primitive.boolean = True
        elif simple == types_pb2.SimpleType.DATETIME:
            primitive.datetime.FromDatetime(_EPOCH.replace(tzinfo=None))
        elif simple == types_pb2.SimpleType.DURATION:
            primitive.duration.FromSeconds(0)
        elif simple in (types_pb2.SimpleType.STRUCT, types_pb2.SimpleType.BINARY):
            literal.scalar.generic.SetInParent()
        else:
            literal.scalar.none_type.SetInParent()
    elif kind == "collection_type":
        literal.collection.SetInParent()
    elif kind == "map_value_type":
        literal.map.SetInParent()
    elif kind == "union_type" and literal_type.union_type.variants:
        variant = literal_type.union_type.variants[0]
        literal.scalar.union.value.CopyFrom(placeholder_literal(variant, name, location))
        literal.scalar.union.type.CopyFrom(variant)
    elif kind == "blob":
        literal.scalar.blob.metadata.type.CopyFrom(literal_type.blob)
        literal.scalar.blob.uri = f"{location}/{name}"
    elif kind == "structured_dataset_type":
        literal.scalar.structured_dataset.uri = f"{location}/{name}"
        literal.scalar.structured_dataset.metadata.structured_dataset_type.CopyFrom(literal_type.structured_dataset_type)
    elif kind == "enum_type" and literal_type.enum_type.values:
        literal.scalar.primitive.string_value = literal_type.enum_type.values[0]
    else:
        literal.scalar.none_type.SetInParent()
    return literal


def _user_error(message: str, code: str = "USER:Unknown") -> execution_pb2.ExecutionError:
    return execution_pb2.ExecutionError(code=code, message=message, kind=execution_pb2.ExecutionError.USER)


class BindingError(Exception):
    """A binding refers to an output that is not there."""


def resolve_binding(data: literals_pb2.BindingData, outputs_of: Callable[[str], literals_pb2.LiteralMap]) -> literals_pb2.Literal:
    """The literal a binding evaluates to, reading promises from upstream outputs."""
    kind = data.WhichOneof("value")
    literal = literals_pb2.Literal()
    if kind == "scalar":
        literal.scalar.CopyFrom(data.scalar)
    elif kind == "collection":
        for item in data.collection.bindings:
            literal.collection.literals.append(resolve_binding(item, outputs_of))
    elif kind == "map":
        for key, item in data.map.bindings.items():
            literal.map.literals[key].CopyFrom(resolve_binding(item, outputs_of))
    elif kind == "promise":
        outputs = outputs_of(data.promise.node_id)
        if data.promise.var not in outputs.literals:
            raise BindingError(f"output {data.promise.var!r} of node {data.promise.node_id!r} is missing")
        literal.CopyFrom(outputs.literals[data.promise.var])
    elif kind == "offloaded_metadata":
        literal.offloaded_metadata.CopyFrom(data.offloaded_metadata)
    return literal


class LocalEngine:
    """Runs executions inside the sandbox process.

    Args:
        records: Where progress is read and written.
        task_delay: Seconds a non-Python task takes before succeeding.
        max_workers: Threads for built-in Python tasks.
    """

    def __init__(self, records: Records, *, task_delay: float = 0.0, max_workers: int = 4) -> None:
        self.records = records
        self.task_delay = task_delay
        self.max_workers = max_workers
        self._queue: list[tuple[float, int, ExecutionKey]] = []
        self._sequence = 0
        self._condition = threading.Condition()
        self._running_tasks: set[tuple[ExecutionKey, str]] = set()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._stopping = False

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
        """Stop ticking; Python tasks still running finish in the background and their results are dropped."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self._running_tasks.clear()

    # The Engine protocol -----------------------------------------------------------------------------------------

    def launch(self, key: ExecutionKey) -> None:
        """Start a new execution on the next tick."""
        self.schedule(key)

    def abort(self, key: ExecutionKey, cause: str) -> None:
        """Finish an abort on the next tick (the execution is already ABORTING)."""
        self.schedule(key)

    def schedule(self, key: ExecutionKey, delay: float = 0.0) -> None:
        """Tick an execution after ``delay`` seconds."""
        with self._condition:
            self._sequence += 1
            due = _monotonic() + max(delay, 0.0)
            heapq.heappush(self._queue, (due, self._sequence, key))
            self._condition.notify()

    def _loop(self) -> None:
        while True:
            with self._condition:
                while not self._stopping and (not self._queue or self._queue[0][0] > _monotonic()):
                    timeout = self._queue[0][0] - _monotonic() if self._queue else None
                    self._condition.wait(timeout)
                if self._stopping:
                    return
                _, _, key = heapq.heappop(self._queue)
            try:
                self.tick(key)
            except Exception:
                log.exception("engine tick failed for execution %s", key)

    # Ticks -------------------------------------------------------------------------------------------------------

    def _compiled(self, workflow_row_id: int) -> compiler_pb2.CompiledWorkflowClosure:
        row = self.records.store.one("SELECT closure FROM workflows WHERE id = ?", (workflow_row_id,))
        assert row is not None
        return workflow_pb2.WorkflowClosure.FromString(row["closure"]).compiled_workflow

    def tick(self, key: ExecutionKey) -> None:
        """Advance one execution as far as it can go now."""
        row = self.records.execution_row(key)
        phase = WorkflowPhase.Value(row["phase"])
        if phase in WORKFLOW_TERMINAL:
            return
        if phase == WorkflowPhase.ABORTING:
            self._finish_abort(key)
            return
        closure = self._compiled(row["workflow_id"])
        inputs = literal_map(row["inputs"])
        if phase == WorkflowPhase.UNDEFINED:
            self.records.workflow_event(key, WorkflowPhase.RUNNING)
            self.records.node_event(key, START_NODE, NodePhase.SUCCEEDED, inputs=inputs, outputs=inputs)
        reference = self._recovery_source(row)
        self._advance(key, closure, inputs, reference)

    def _recovery_source(self, row: Any) -> ExecutionKey | None:
        from flyteidl.admin import execution_pb2 as admin_execution_pb2

        spec = admin_execution_pb2.ExecutionSpec.FromString(row["spec"])
        if spec.metadata.mode != admin_execution_pb2.ExecutionMetadata.RECOVERED:
            return None
        return ExecutionKey.of(spec.metadata.reference_execution)

    def _advance(
        self,
        key: ExecutionKey,
        closure: compiler_pb2.CompiledWorkflowClosure,
        inputs: literals_pb2.LiteralMap,
        reference: ExecutionKey | None,
    ) -> None:
        primary = closure.primary
        tasks = {_task_key(task.template.id): task.template for task in closure.tasks}
        nodes = self.records.node_rows(key)
        phases = {node_id: NodePhase.Value(node["phase"]) for node_id, node in nodes.items()}

        def outputs_of(node_id: str) -> literals_pb2.LiteralMap:
            if node_id == START_NODE:
                return inputs
            return literal_map(nodes[node_id]["outputs"])

        next_due: float | None = None
        failed = [node_id for node_id, node_phase in phases.items() if node_phase in (NodePhase.FAILED, NodePhase.TIMED_OUT)]
        if failed:
            self._fail(key, nodes, failed[0])
            return
        for node in primary.template.nodes:
            if node.id in (START_NODE, END_NODE):
                continue
            if node.id in phases:
                if phases[node.id] not in NODE_TERMINAL:
                    due = self._check_running(key, node, tasks, nodes[node.id])
                    if due is not None:
                        next_due = due if next_due is None else min(next_due, due)
                continue
            parents = primary.connections.upstream[node.id].ids if node.id in primary.connections.upstream else []
            if all(parent == START_NODE or phases.get(parent) in _DONE for parent in parents):
                due = self._start_node(key, node, tasks, outputs_of, reference)
                if due is not None:
                    next_due = due if next_due is None else min(next_due, due)
        nodes = self.records.node_rows(key)
        phases = {node_id: NodePhase.Value(node["phase"]) for node_id, node in nodes.items()}
        if any(node_phase in (NodePhase.FAILED, NodePhase.TIMED_OUT) for node_phase in phases.values()):
            self.schedule(key)
            return
        user_nodes = [node.id for node in primary.template.nodes if node.id not in (START_NODE, END_NODE)]
        if all(phases.get(node_id) in _DONE for node_id in user_nodes):
            self._succeed(key, primary, outputs_of_rows(nodes, inputs))
        elif next_due is not None:
            self.schedule(key, next_due)

    def _start_node(
        self,
        key: ExecutionKey,
        node: core_workflow_pb2.Node,
        tasks: Mapping[tuple[str, ...], tasks_pb2.TaskTemplate],
        outputs_of: Callable[[str], literals_pb2.LiteralMap],
        reference: ExecutionKey | None,
    ) -> float | None:
        try:
            node_inputs = literals_pb2.LiteralMap()
            for binding in node.inputs:
                node_inputs.literals[binding.var].CopyFrom(resolve_binding(binding.binding, outputs_of))
        except BindingError as error:
            self.records.node_event(key, node.id, NodePhase.FAILED, error=_user_error(str(error), "BindingError"))
            self.schedule(key)
            return None
        if reference is not None:
            source = self.records.node_row(reference, node.id)
            if source is not None and source["phase"] in ("SUCCEEDED", "RECOVERED"):
                self.records.node_event(
                    key, node.id, NodePhase.RECOVERED, inputs=node_inputs, outputs=literal_map(source["outputs"])
                )
                self.schedule(key)
                return None
        if node.WhichOneof("target") != "task_node":
            kind = node.WhichOneof("target") or "empty"
            self.records.node_event(key, node.id, NodePhase.RUNNING, inputs=node_inputs)
            self.records.node_event(
                key,
                node.id,
                NodePhase.FAILED,
                error=_user_error(f"node {node.id!r}: {kind} nodes are not supported by this engine", "Unsupported"),
            )
            self.schedule(key)
            return None
        template = tasks[_task_key(node.task_node.reference_id)]
        self.records.node_event(key, node.id, NodePhase.RUNNING, inputs=node_inputs)
        self.records.task_event(
            key,
            node.id,
            node.task_node.reference_id,
            0,
            TaskPhase.RUNNING,
            inputs=node_inputs,
            task_type=template.type,
        )
        if python_callable_of(template) is not None:
            self._submit(key, node, template, node_inputs)
            return None
        return self.task_delay

    def _check_running(
        self,
        key: ExecutionKey,
        node: core_workflow_pb2.Node,
        tasks: Mapping[tuple[str, ...], tasks_pb2.TaskTemplate],
        node_row: Any,
    ) -> float | None:
        if node.WhichOneof("target") != "task_node":
            return None
        template = tasks[_task_key(node.task_node.reference_id)]
        if python_callable_of(template) is not None:
            if (key, node.id) not in self._running_tasks:
                # Resumed after a restart: the call that was running is gone, so run it again.
                self._submit(key, node, template, literal_map(node_row["inputs"]))
            return None
        started = parse_stored(node_row["started_at"]) or now()
        remaining = self.task_delay - (now() - started).total_seconds()
        if remaining > 0:
            return remaining
        location = self.records.blobs.uri(f"data/{key.project}/{key.domain}/{key.name}/{node.id}")
        outputs = literals_pb2.LiteralMap()
        for name, variable in template.interface.outputs.variables.items():
            outputs.literals[name].CopyFrom(placeholder_literal(variable.type, name, location))
        self._complete(key, node, outputs=outputs)
        return 0.0

    def _complete(
        self,
        key: ExecutionKey,
        node: core_workflow_pb2.Node,
        *,
        outputs: literals_pb2.LiteralMap | None = None,
        error: execution_pb2.ExecutionError | None = None,
    ) -> None:
        task_id = node.task_node.reference_id
        if error is None:
            self.records.task_event(key, node.id, task_id, 0, TaskPhase.SUCCEEDED, outputs=outputs)
            self.records.node_event(key, node.id, NodePhase.SUCCEEDED, outputs=outputs)
        else:
            self.records.task_event(key, node.id, task_id, 0, TaskPhase.FAILED, error=error)
            self.records.node_event(key, node.id, NodePhase.FAILED, error=error)

    def _submit(
        self, key: ExecutionKey, node: core_workflow_pb2.Node, template: tasks_pb2.TaskTemplate, inputs: literals_pb2.LiteralMap
    ) -> None:
        if self._pool is None:
            return
        self._running_tasks.add((key, node.id))
        self._pool.submit(self._run_python_task, key, node, template, inputs)

    def _run_python_task(
        self, key: ExecutionKey, node: core_workflow_pb2.Node, template: tasks_pb2.TaskTemplate, inputs: literals_pb2.LiteralMap
    ) -> None:
        try:
            outputs = call_python_task(template, inputs)
            result: dict[str, Any] = {"outputs": outputs}
        except Exception as error:
            message = f"{type(error).__name__}: {error}"
            result = {"error": _user_error(message, f"USER:{type(error).__name__}")}
        if self._stopping:
            return
        try:
            self._complete(key, node, **result)
        except AdminError:
            log.exception("could not record the result of node %s of %s", node.id, key)
        finally:
            self._running_tasks.discard((key, node.id))
        self.schedule(key)

    def _fail(self, key: ExecutionKey, nodes: Mapping[str, Any], failed_node: str) -> None:
        from flyteidl.admin import node_execution_pb2

        closure = node_execution_pb2.NodeExecutionClosure.FromString(nodes[failed_node]["closure"])
        error = execution_pb2.ExecutionError()
        error.CopyFrom(closure.error)
        error.message = f"[{failed_node}]: {error.message}" if error.message else f"node {failed_node} failed"
        for node_id, node in nodes.items():
            if NodePhase.Value(node["phase"]) not in NODE_TERMINAL:
                self.records.node_event(key, node_id, NodePhase.ABORTED)
        self.records.workflow_event(key, WorkflowPhase.FAILING)
        self.records.workflow_event(key, WorkflowPhase.FAILED, error=error)

    def _succeed(
        self, key: ExecutionKey, primary: compiler_pb2.CompiledWorkflow, outputs_of: Callable[[str], literals_pb2.LiteralMap]
    ) -> None:
        try:
            outputs = literals_pb2.LiteralMap()
            for binding in primary.template.outputs:
                outputs.literals[binding.var].CopyFrom(resolve_binding(binding.binding, outputs_of))
        except BindingError as error:
            self.records.workflow_event(key, WorkflowPhase.FAILING)
            self.records.workflow_event(key, WorkflowPhase.FAILED, error=_user_error(str(error), "BindingError"))
            return
        self.records.node_event(key, END_NODE, NodePhase.SUCCEEDED, inputs=outputs, outputs=outputs)
        self.records.workflow_event(key, WorkflowPhase.SUCCEEDING)
        self.records.workflow_event(key, WorkflowPhase.SUCCEEDED, outputs=outputs)

    def _finish_abort(self, key: ExecutionKey) -> None:
        for node_id, node in self.records.node_rows(key).items():
            if NodePhase.Value(node["phase"]) not in NODE_TERMINAL:
                self.records.node_event(key, node_id, NodePhase.ABORTED)
        for task in self.records.store.all(
            "SELECT * FROM task_executions WHERE execution_project = ? AND execution_domain = ? AND execution_name = ?",
            key.params,
        ):
            if TaskPhase.Value(task["phase"]) not in TASK_TERMINAL:
                task_id = identifier_pb2.Identifier(
                    resource_type=identifier_pb2.ResourceType.TASK,
                    project=task["project"],
                    domain=task["domain"],
                    name=task["name"],
                    version=task["version"],
                )
                self.records.task_event(key, task["node_id"], task_id, task["retry_attempt"], TaskPhase.ABORTED)
        self.records.workflow_event(key, WorkflowPhase.ABORTED)


def outputs_of_rows(nodes: Mapping[str, Any], inputs: literals_pb2.LiteralMap) -> Callable[[str], literals_pb2.LiteralMap]:
    """A promise resolver over node rows (``start-node`` resolves to the execution inputs)."""

    def outputs_of(node_id: str) -> literals_pb2.LiteralMap:
        if node_id == START_NODE:
            return inputs
        if node_id not in nodes:
            raise BindingError(f"node {node_id!r} has not run")
        return literal_map(nodes[node_id]["outputs"])

    return outputs_of


def call_python_task(template: tasks_pb2.TaskTemplate, inputs: literals_pb2.LiteralMap) -> literals_pb2.LiteralMap:
    """Call a built-in Python task's function with native inputs and convert what it returns.

    Raises:
        Exception: whatever the function raises, or a conversion error naming the output.
    """
    from airflow_provider_flyte.literals import literal_map_to_python, to_literal

    target = python_callable_of(template)
    assert target is not None
    module_name, _, function_name = target.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    values = literal_map_to_python(inputs, template.interface.inputs)
    result = function(**values)
    declared = list(template.interface.outputs.variables.items())
    if not declared:
        return literals_pb2.LiteralMap()
    if isinstance(result, Mapping) and set(result) == {name for name, _ in declared}:
        produced = dict(result)
    elif len(declared) == 1:
        produced = {declared[0][0]: result}
    else:
        # Interface maps do not keep declaration order, so a tuple maps positionally only onto o0, o1, ...
        positional = [f"o{index}" for index in range(len(declared))]
        names = sorted(name for name, _ in declared)
        if names != sorted(positional) or not isinstance(result, (tuple, list)) or len(result) != len(declared):
            raise TypeError(
                f"expected a dict with keys {', '.join(names)}"
                + (f" or a {len(declared)}-tuple" if names == sorted(positional) else "")
                + f", got {result!r}"
            )
        produced = dict(zip(positional, result))
    outputs = literals_pb2.LiteralMap()
    for name, variable in declared:
        outputs.literals[name].CopyFrom(to_literal(produced[name], variable.type, name=f"output {name!r}"))
    return outputs


def _task_key(identifier: identifier_pb2.Identifier) -> tuple[str, ...]:
    return (identifier.project, identifier.domain, identifier.name, identifier.version)


def _monotonic() -> float:
    return time.monotonic()


__all__ = [
    "PYTHON_CALLABLE_KEY",
    "LocalEngine",
    "call_python_task",
    "placeholder_literal",
    "python_callable_of",
    "resolve_binding",
]
