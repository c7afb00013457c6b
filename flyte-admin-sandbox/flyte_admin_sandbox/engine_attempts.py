"""Task attempts: start, wait, time out, record the outcome and retry.

What an attempt does comes from :mod:`flyte_admin_sandbox.behaviours` (a script, a Python function, a local
``pyflyte-execute`` process, or placeholder outputs after ``task_delay``); work that may take a while runs on the
engine's thread pool and its outcome is picked up by a later tick. Task nodes, dynamic task nodes and array nodes
all drive their attempts through :class:`TaskAttempts`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from flyteidl.core import dynamic_job_pb2, execution_pb2, identifier_pb2, literals_pb2, tasks_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from flyte_admin_sandbox.behaviours import (
    TaskFailure,
    TaskResult,
    TaskScript,
    call_python_task,
    placeholder_outputs,
    python_callable_of,
    scripted_outputs,
)
from flyte_admin_sandbox.containers import runs_flytekit_command
from flyte_admin_sandbox.engine_core import EngineCore
from flyte_admin_sandbox.engine_nodes import duration_seconds
from flyte_admin_sandbox.engine_state import (
    RUNNING,
    AttemptKey,
    Outcome,
    Run,
    State,
    done,
    failed,
    key_of,
    system_error,
)
from flyte_admin_sandbox.records import TASK_TERMINAL, ExecutionKey, TaskPhase, literal_map, parse_stored
from flyte_admin_sandbox.store import now

if TYPE_CHECKING:
    import sqlite3


class TaskAttempts(EngineCore):
    """The attempts of a node's task, for every node kind that runs a task."""

    @staticmethod
    def _template(run: Run, task_id: identifier_pb2.Identifier) -> tasks_pb2.TaskTemplate | None:
        return run.compiled.tasks.get(key_of(task_id))

    @staticmethod
    def _task_not_found(task_id: identifier_pb2.Identifier, uid: str) -> State:
        return failed(
            system_error(f"task {task_id.name}:{task_id.version} is not in the workflow closure", "TaskNotFound"), uid
        )

    @staticmethod
    def _retries(node: core_workflow_pb2.Node, template: tasks_pb2.TaskTemplate) -> int:
        if node.metadata.HasField("retries") and node.metadata.retries.retries:
            return node.metadata.retries.retries
        return template.metadata.retries.retries

    def _start_attempt(
        self,
        run: Run,
        uid: str,
        task_id: identifier_pb2.Identifier,
        attempt: int,
        inputs: literals_pb2.LiteralMap,
        task_type: str,
    ) -> None:
        others = [row for row in run.attempts.get(uid, []) if row["retry_attempt"] != attempt]
        known = next((row for row in run.attempts.get(uid, []) if row["retry_attempt"] == attempt), None)
        row = self.records.task_event(
            run.key, uid, task_id, attempt, TaskPhase.RUNNING, inputs=inputs, task_type=task_type, current=known
        )
        run.attempts[uid] = [*others, row]
        run.changed = True

    def _run_attempts(
        self,
        run: Run,
        uid: str,
        task_id: identifier_pb2.Identifier,
        template: tasks_pb2.TaskTemplate,
        inputs: literals_pb2.LiteralMap,
        retries: int,
        compute: Callable[[int], TaskResult],
        pooled: bool,
        script: TaskScript | None,
        on_dynamic: Callable[[int, dynamic_job_pb2.DynamicJobSpec], State] | None = None,
    ) -> State:
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
            return done(literal_map(current["outputs"]))
        if phase in TASK_TERMINAL:
            # A failure already recorded (the tick that recorded it did not get to retry).
            outcome: Outcome | None = Outcome(failure=TaskFailure("attempt failed"))
            recorded = True
        else:
            outcome = self._attempt_outcome(run, uid, template, current, compute, pooled, script)
            recorded = False
        if outcome is None:
            return RUNNING
        if outcome.dynamic is not None:
            if on_dynamic is not None:
                return on_dynamic(number, outcome.dynamic)
            outcome = Outcome(
                failure=TaskFailure(
                    f"task {template.id.name} returned a dynamic workflow where only outputs can be used",
                    "USER:Unsupported",
                )
            )
        if outcome.failure is None:
            outputs = outcome.outputs if outcome.outputs is not None else literals_pb2.LiteralMap()
            attempts[-1] = self.records.task_event(
                run.key, uid, task_id, number, TaskPhase.SUCCEEDED, outputs=outputs, current=current
            )
            run.changed = True
            return done(outputs)
        error = outcome.failure.to_proto()
        if not recorded:
            attempts[-1] = self.records.task_event(
                run.key, uid, task_id, number, TaskPhase.FAILED, error=error, current=current
            )
            run.changed = True
        else:
            closure_error = self._attempt_error(current)
            if closure_error is not None:
                error = closure_error
        if number < retries:
            self._start_attempt(run, uid, task_id, number + 1, inputs, template.type)
            return RUNNING
        return failed(error, uid)

    @staticmethod
    def _attempt_error(row: sqlite3.Row) -> execution_pb2.ExecutionError | None:
        from flyteidl.admin import task_execution_pb2

        closure = task_execution_pb2.TaskExecutionClosure.FromString(row["closure"])
        return closure.error if closure.HasField("error") else None

    def _attempt_outcome(
        self,
        run: Run,
        uid: str,
        template: tasks_pb2.TaskTemplate,
        attempt_row: sqlite3.Row,
        compute: Callable[[int], TaskResult],
        pooled: bool,
        script: TaskScript | None,
    ) -> Outcome | None:
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
                return Outcome(
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
                return Outcome(failure=failure)
        if not pooled:
            try:
                return Outcome.of(compute(number))
            except TaskFailure as failure:
                return Outcome(failure=failure)
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
            outcome = Outcome.of(compute(number))
        except TaskFailure as failure:
            outcome = Outcome(failure=failure)
        except Exception as error:
            outcome = Outcome(failure=TaskFailure.of(error))
        with self._results_lock:
            if attempt not in self._pending or self._stopping:
                return
            self._pending.discard(attempt)
            self._results[attempt] = outcome
        self.schedule(attempt[0])

    def _task_behaviour(
        self, run: Run, uid: str, template: tasks_pb2.TaskTemplate, script: TaskScript | None
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

    def _stop_attempts(self, run: Run, uid: str, task_id: identifier_pb2.Identifier, state: State) -> None:
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
            stopped = self.records.task_event(
                run.key, uid, task_id, number, TaskPhase.FAILED, error=state.error, current=attempt_row
            )
            run.attempts[uid] = [stopped if row is attempt_row else row for row in run.attempts[uid]]
            run.changed = True
