"""What every execution manager shares: the store, the engine, and execution, node and task execution rows.

Also :data:`principal_var` (the authenticated user of the current RPC) and the :class:`Engine` protocol the
services drive.
"""

from __future__ import annotations

import contextvars
import sqlite3
from typing import TYPE_CHECKING, Protocol

from flyteidl.core import identifier_pb2

from flyte_admin_sandbox.common import require
from flyte_admin_sandbox.errors import entity_not_found, missing_argument
from flyte_admin_sandbox.records import ExecutionKey, Records

if TYPE_CHECKING:
    from flyte_admin_sandbox.registry import Registry
    from flyte_admin_sandbox.store import Store

principal_var: contextvars.ContextVar[str] = contextvars.ContextVar("principal", default="")
"""The authenticated user of the current RPC (empty with auth off), set by the auth layer."""


class Engine(Protocol):
    """What the Admin services ask of the execution engine."""

    def launch(self, key: ExecutionKey) -> None:
        """Start running a newly created execution (its row exists, phase UNDEFINED)."""

    def abort(self, key: ExecutionKey, cause: str) -> None:
        """Stop a running execution; the engine records ABORTED when done."""


def trim_message(message: str, limit: int = 100) -> str:
    """An error message cut to ``limit`` bytes, as lists return them."""
    data = message.encode()
    if len(data) <= limit:
        return message
    return data[:limit].decode(errors="ignore")


class ExecutionsBase:
    """The services and lookups the execution managers share.

    :class:`~flyte_admin_sandbox.executions.Executions` sets them up.
    """

    registry: Registry
    records: Records
    store: Store
    engine: Engine

    @staticmethod
    def _check_execution_id(identifier: identifier_pb2.WorkflowExecutionIdentifier | None, field: str = "id") -> None:
        if identifier is None:
            raise missing_argument(field)
        for name in ("project", "domain", "name"):
            require(getattr(identifier, name), name)

    def _node_row(self, identifier: identifier_pb2.NodeExecutionIdentifier) -> sqlite3.Row:
        self._check_execution_id(
            identifier.execution_id if identifier.HasField("execution_id") else None, "execution_id"
        )
        require(identifier.node_id, "node_id")
        row = self.records.node_row(ExecutionKey.of(identifier.execution_id), identifier.node_id)
        if row is None:
            raise entity_not_found("node execution", identifier)
        return row

    def _task_row(self, identifier: identifier_pb2.TaskExecutionIdentifier) -> sqlite3.Row:
        if not identifier.HasField("node_execution_id"):
            raise missing_argument("node_execution_id")
        node = identifier.node_execution_id
        self._check_execution_id(node.execution_id, "execution_id")
        require(node.node_id, "node_id")
        if not identifier.HasField("task_id"):
            raise missing_argument("task_id")
        row = self.store.one(
            "SELECT * FROM task_executions WHERE execution_project = ? AND execution_domain = ? AND execution_name = ? "
            "AND node_id = ? AND retry_attempt = ? AND project = ? AND domain = ? AND name = ? AND version = ?",
            (
                node.execution_id.project,
                node.execution_id.domain,
                node.execution_id.name,
                node.node_id,
                identifier.retry_attempt,
                identifier.task_id.project,
                identifier.task_id.domain,
                identifier.task_id.name,
                identifier.task_id.version,
            ),
        )
        if row is None:
            raise entity_not_found("task execution", identifier)
        return row
