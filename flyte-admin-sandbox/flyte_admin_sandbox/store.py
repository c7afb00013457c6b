"""The sandbox's state: one SQLite database, in memory or in a file, shared by every service and the engine.

Each row keeps its protobuf messages as bytes (``BLOB`` columns) next to the plain columns Flyte Admin's models have,
so the filter grammar (:mod:`flyte_admin_sandbox.filters`) can name them. In-memory and file databases go
through the same code; a file database survives restarts. Every access takes one re-entrant lock, so the store is
safe to share between gRPC worker threads and the engine.
"""

from __future__ import annotations

import contextlib
import datetime
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from flyte_admin_sandbox.filters import Query, format_timestamp

_BASE = "id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT, updated_at TEXT, deleted_at TEXT"
_EXECUTION_KEY = "execution_project TEXT, execution_domain TEXT, execution_name TEXT"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS projects (
    {_BASE}, identifier TEXT NOT NULL, name TEXT, description TEXT, labels BLOB, state INTEGER, body BLOB,
    CONSTRAINT projects_pkey UNIQUE (identifier));
CREATE TABLE IF NOT EXISTS tasks (
    {_BASE}, project TEXT, domain TEXT, name TEXT, version TEXT, closure BLOB, digest TEXT, type TEXT,
    short_description TEXT, UNIQUE (project, domain, name, version));
CREATE TABLE IF NOT EXISTS workflows (
    {_BASE}, project TEXT, domain TEXT, name TEXT, version TEXT, typed_interface BLOB,
    remote_closure_identifier TEXT, digest TEXT, short_description TEXT, closure BLOB,
    UNIQUE (project, domain, name, version));
CREATE TABLE IF NOT EXISTS launch_plans (
    {_BASE}, project TEXT, domain TEXT, name TEXT, version TEXT, spec BLOB, workflow_id INTEGER, closure BLOB,
    state INTEGER, digest TEXT, schedule_type TEXT, launch_condition_type TEXT,
    UNIQUE (project, domain, name, version));
CREATE TABLE IF NOT EXISTS named_entity_metadata (
    {_BASE}, resource_type INTEGER, project TEXT, domain TEXT, name TEXT, description TEXT, state INTEGER,
    UNIQUE (resource_type, project, domain, name));
CREATE TABLE IF NOT EXISTS description_entities (
    {_BASE}, resource_type INTEGER, project TEXT, domain TEXT, name TEXT, version TEXT, short_description TEXT,
    long_description BLOB, link TEXT, body BLOB, UNIQUE (resource_type, project, domain, name, version));
CREATE TABLE IF NOT EXISTS executions (
    {_BASE}, {_EXECUTION_KEY}, launch_plan_id INTEGER, workflow_id INTEGER, task_id INTEGER, phase TEXT,
    closure BLOB, spec BLOB, started_at TEXT, execution_created_at TEXT, execution_updated_at TEXT,
    duration INTEGER, abort_cause TEXT, mode INTEGER, source_execution_id INTEGER, parent_node_execution_id INTEGER,
    cluster TEXT, inputs_uri TEXT, user_inputs_uri TEXT, error_kind TEXT, error_code TEXT, "user" TEXT,
    state INTEGER, launch_entity TEXT, inputs BLOB, user_inputs BLOB, outputs BLOB,
    CONSTRAINT executions_pkey UNIQUE (execution_project, execution_domain, execution_name));
CREATE INDEX IF NOT EXISTS executions_phase ON executions (phase);
CREATE TABLE IF NOT EXISTS node_executions (
    {_BASE}, {_EXECUTION_KEY}, node_id TEXT, phase TEXT, input_uri TEXT, closure BLOB, started_at TEXT,
    node_execution_created_at TEXT, node_execution_updated_at TEXT, duration INTEGER,
    node_execution_metadata BLOB, parent_id INTEGER, parent_task_execution_id INTEGER, error_kind TEXT,
    error_code TEXT, cache_status TEXT, dynamic_workflow_remote_closure_reference TEXT, internal_data BLOB,
    inputs BLOB, outputs BLOB,
    UNIQUE (execution_project, execution_domain, execution_name, node_id));
CREATE TABLE IF NOT EXISTS task_executions (
    {_BASE}, project TEXT, domain TEXT, name TEXT, version TEXT, {_EXECUTION_KEY}, node_id TEXT,
    retry_attempt INTEGER, phase TEXT, phase_version INTEGER, input_uri TEXT, closure BLOB, started_at TEXT,
    task_execution_created_at TEXT, task_execution_updated_at TEXT, duration INTEGER, inputs BLOB, outputs BLOB,
    UNIQUE (execution_project, execution_domain, execution_name, node_id, retry_attempt));
CREATE TABLE IF NOT EXISTS signals (
    {_BASE}, {_EXECUTION_KEY}, signal_id TEXT, type BLOB, value BLOB,
    CONSTRAINT signals_pkey UNIQUE (execution_project, execution_domain, execution_name, signal_id));
CREATE TABLE IF NOT EXISTS execution_tags (
    {_BASE}, {_EXECUTION_KEY}, key TEXT, value TEXT,
    CONSTRAINT execution_tags_pkey UNIQUE (execution_project, execution_domain, execution_name, key));
CREATE VIEW IF NOT EXISTS named_entities AS
    SELECT entity.resource_type, entity.project, entity.domain, entity.name,
           COALESCE(meta.description, '') AS description, COALESCE(meta.state, 0) AS state
    FROM (SELECT DISTINCT 1 AS resource_type, project, domain, name FROM tasks
          UNION SELECT DISTINCT 2, project, domain, name FROM workflows
          UNION SELECT DISTINCT 3, project, domain, name FROM launch_plans) AS entity
    LEFT JOIN named_entity_metadata AS meta
        ON meta.resource_type = entity.resource_type AND meta.project = entity.project
        AND meta.domain = entity.domain AND meta.name = entity.name;
CREATE TABLE IF NOT EXISTS resources (
    {_BASE}, project TEXT, domain TEXT, workflow TEXT, launch_plan TEXT, resource_type INTEGER, priority INTEGER,
    attributes BLOB, UNIQUE (project, domain, workflow, launch_plan, resource_type));
"""


def now() -> datetime.datetime:
    """The current time, timezone-aware UTC (every timestamp the sandbox writes comes from here)."""
    return datetime.datetime.now(datetime.timezone.utc)


class Store:
    """A thread-safe SQLite database holding everything the sandbox serves.

    Args:
        path: A database file (created if missing, reused if present), or ``None`` for a private in-memory database.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = str(path) if path is not None else None
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path or ":memory:", check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._depth = 0
        with self._lock:
            if self.path is not None:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            # Postgres LIKE is case sensitive; SQLite's is not unless told.
            self._db.execute("PRAGMA case_sensitive_like=ON")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the database (the file, if any, keeps everything)."""
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """Run a block atomically; nested blocks join the outer transaction."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; returns the last inserted row id (for INSERT) or the number of changed rows."""
        with self._lock:
            cursor = self._db.execute(sql, tuple(params))
            return (
                cursor.lastrowid if sql.lstrip().upper().startswith("INSERT") and cursor.lastrowid else cursor.rowcount
            )

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        """The first row of a query, or ``None``."""
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(sql, tuple(params)).fetchone()
            return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """All rows of a query."""
        with self._lock:
            return list(self._db.execute(sql, tuple(params)).fetchall())

    def insert(self, table: str, values: dict[str, Any]) -> int:
        """Insert a row, stamping ``created_at``/``updated_at`` when not given; returns its id.

        Raises:
            sqlite3.IntegrityError: on a unique-key collision (callers turn it into Flyte Admin's error).
        """
        stamp = format_timestamp(now())
        row = {"created_at": stamp, "updated_at": stamp, **values}
        columns = ", ".join(f'"{name}"' for name in row)
        marks = ", ".join("?" for _ in row)
        return self.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))

    def update(self, table: str, row_id: int, values: dict[str, Any]) -> None:
        """Change some columns of one row (``updated_at`` is stamped unless given)."""
        row = {"updated_at": format_timestamp(now()), **values}
        assignments = ", ".join(f'"{name}" = ?' for name in row)
        self.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", [*row.values(), row_id])

    def page(self, query: Query, limit: int, offset: int, select: str = "*", tiebreak: str = "id") -> list[sqlite3.Row]:
        """One page of a :class:`Query`, ordered by its sort key (insertion order when none, for stable pages)."""
        table = query.model.table
        order = f"{query.order_by}, {table}.{tiebreak} ASC" if query.order_by else f"{table}.{tiebreak} ASC"
        sql = f"SELECT {select} FROM {table}{query.where_sql()} ORDER BY {order} LIMIT ? OFFSET ?"
        return self.all(sql, [*query.params, limit, offset])
