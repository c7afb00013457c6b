"""What the parts of the engine share: a tick's view of an execution and where its nodes stand.

Plain data and small helpers, nothing that reads or writes the store: :class:`Run` (one tick's view of an
execution), :class:`Scope` (where a workflow's nodes live), :class:`State` (where a node or a scope stands after a
step), :class:`Outcome` (how a task attempt ended) and :class:`Compiled` (a compiled closure indexed for lookups).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flyteidl.admin import execution_pb2 as admin_execution_pb2
from flyteidl.core import compiler_pb2, dynamic_job_pb2, execution_pb2, identifier_pb2, literals_pb2, tasks_pb2

from flyte_admin_sandbox.behaviours import TaskFailure, TaskResult
from flyte_admin_sandbox.records import ExecutionKey

if TYPE_CHECKING:
    import sqlite3

Mode = admin_execution_pb2.ExecutionMetadata.ExecutionMode
CACHE_LIMIT = 256
"""Entries kept in each of the engine's caches of compiled workflows before they are dropped."""
_CHILD_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

AttemptKey = tuple[ExecutionKey, str, int]
"""(execution, unique node id, retry attempt): one task attempt."""


def user_error(message: str, code: str) -> execution_pb2.ExecutionError:
    """An error of kind USER."""
    return execution_pb2.ExecutionError(code=code, message=message, kind=execution_pb2.ExecutionError.USER)


def system_error(message: str, code: str) -> execution_pb2.ExecutionError:
    """An error of kind SYSTEM."""
    return execution_pb2.ExecutionError(code=code, message=message, kind=execution_pb2.ExecutionError.SYSTEM)


def key_of(identifier: identifier_pb2.Identifier) -> tuple[str, str, str, str]:
    """(project, domain, name, version): how compiled tasks and sub-workflows are looked up."""
    return (identifier.project, identifier.domain, identifier.name, identifier.version)


def child_execution_name(parent: ExecutionKey, unique_node_id: str, attempt: int = 0) -> str:
    """The deterministic name of the execution a launch-plan node starts (20 characters, like generated names).

    Deterministic so that a tick repeated after a crash finds the child it already created.
    """
    digest = hashlib.sha256(f"{parent.name}/{unique_node_id}/{attempt}".encode()).digest()
    return "f" + "".join(_CHILD_NAME_ALPHABET[byte % len(_CHILD_NAME_ALPHABET)] for byte in digest[:19])


@dataclass(frozen=True)
class State:
    """Where a node (or a whole scope) stands after a step.

    ``deck_uri`` is the deck a succeeded task node reports with its outputs (recorded in the node's closure).
    """

    phase: str  # "running", "done" or "failed"
    outputs: literals_pb2.LiteralMap | None = None
    error: execution_pb2.ExecutionError | None = None
    failed_node: str = ""
    deck_uri: str = ""

    @property
    def running(self) -> bool:
        """Still going: look again on a later tick."""
        return self.phase == "running"

    @property
    def done(self) -> bool:
        """Succeeded (or recovered, or skipped), with outputs."""
        return self.phase == "done"

    @property
    def failed(self) -> bool:
        """Failed, with an error and the unique id of the node that failed."""
        return self.phase == "failed"


RUNNING = State("running")


def done(outputs: literals_pb2.LiteralMap) -> State:
    """A finished state with these outputs."""
    return State("done", outputs=outputs)


def failed(error: execution_pb2.ExecutionError, node: str) -> State:
    """A failed state: ``node`` is the unique id of the node the error belongs to."""
    return State("failed", error=error, failed_node=node)


@dataclass
class Outcome:
    """How a task attempt ended: outputs, a failure, or the dynamic workflow it produced."""

    outputs: literals_pb2.LiteralMap | None = None
    failure: TaskFailure | None = None
    dynamic: dynamic_job_pb2.DynamicJobSpec | None = None

    @classmethod
    def of(cls, result: TaskResult) -> Outcome:
        """The outcome of what a task's behaviour returned."""
        if isinstance(result, dynamic_job_pb2.DynamicJobSpec):
            return cls(dynamic=result)
        return cls(outputs=result)


@dataclass
class Compiled:
    """A compiled workflow closure, indexed for the engine (cached per workflow row: closures never change).

    ``min_successes`` is only used for a dynamic workflow: how many of its nodes must succeed (0: all).
    """

    closure: compiler_pb2.CompiledWorkflowClosure
    tasks: dict[tuple[str, str, str, str], tasks_pb2.TaskTemplate]
    sub_workflows: dict[tuple[str, str, str, str], compiler_pb2.CompiledWorkflow]
    min_successes: int = 0

    @classmethod
    def of(cls, closure: compiler_pb2.CompiledWorkflowClosure) -> Compiled:
        """Index a closure's tasks and sub-workflows by id."""
        return cls(
            closure=closure,
            tasks={key_of(task.template.id): task.template for task in closure.tasks},
            sub_workflows={key_of(sub.template.id): sub for sub in closure.sub_workflows},
        )


@dataclass
class Scope:
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
        """The unique id of a node of this scope (propeller's ``<parent id>-<parent attempt>-<node id>``)."""
        return node_id if self.prefix is None else f"{self.prefix}-{node_id}"


@dataclass
class Run:
    """One tick's view of an execution: its spec, inputs, node rows and task attempt rows.

    Every write of the tick updates ``nodes`` and ``attempts``, so the tick never reads back what it wrote.
    """

    key: ExecutionKey
    spec: admin_execution_pb2.ExecutionSpec
    compiled: Compiled
    inputs: literals_pb2.LiteralMap
    nodes: dict[str, sqlite3.Row]
    attempts: dict[str, list[sqlite3.Row]]
    reference: ExecutionKey | None
    wake: float | None = None
    changed: bool = False
    reference_aliases: dict[str, str] = field(default_factory=dict)

    def wake_in(self, seconds: float) -> None:
        """Tick again in ``seconds`` at the latest."""
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
    def within(self, compiled: Compiled) -> Iterator[None]:
        """Resolve tasks and sub-workflows through ``compiled`` for a while (a dynamic workflow's nodes)."""
        outer = self.compiled
        self.compiled = compiled
        try:
            yield
        finally:
            self.compiled = outer
