"""The sandbox's state: one SQLite database, in memory or in a file, shared by every service and the engine.

Each row keeps its protobuf messages as bytes (``BLOB`` columns) next to the plain columns Flyte Admin's models have,
so the filter grammar (:mod:`flyte_admin_sandbox.filters`) can name them. In-memory and file databases go
through the same code; a file database survives restarts. Every access takes one re-entrant lock, so the store is
safe to share between gRPC worker threads and the engine.

An in-memory store lives in SQLite's ``memdb`` VFS, whose commits cost the same however large the database is (a
``:memory:`` database's commits grow with it: over ten times slower with 20,000 executions stored). ``memdb`` holds
1 GiB at most, so a store that grows past :data:`MEMDB_LIMIT` moves into a ``:memory:`` database, once; SQLite builds
without ``memdb`` use ``:memory:`` from the start.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import logging
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
CREATE INDEX IF NOT EXISTS executions_scope_phase ON executions (execution_project, execution_domain, phase);
CREATE INDEX IF NOT EXISTS executions_scope_created ON executions (execution_project, execution_domain, created_at);
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


log = logging.getLogger(__name__)

MEMDB_LIMIT = 768 * 2**20
"""Bytes an in-memory store may take in SQLite's ``memdb`` (which stops at 1 GiB) before it moves to ``:memory:``."""
_SIZE_CHECK_EVERY = 512
"""Writes between two looks at the size of an in-memory store."""


def now() -> datetime.datetime:
    """The current time, timezone-aware UTC (every timestamp the sandbox writes comes from here)."""
    return datetime.datetime.now(datetime.timezone.utc)


@functools.lru_cache(maxsize=256)
def _insert_sql(table: str, columns: tuple[str, ...], returning: bool = False) -> str:
    names = ", ".join(f'"{name}"' for name in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)})"
    return f"{sql} RETURNING *" if returning else sql


@functools.lru_cache(maxsize=256)
def _update_returning(table: str, columns: tuple[str, ...]) -> str:
    assignments = ", ".join(f'"{name}" = ?' for name in columns)
    return f"UPDATE {table} SET {assignments} WHERE id = ? RETURNING *"


def _connect(database: str, *, uri: bool = False) -> sqlite3.Connection:
    """A connection as the store uses it: shared between threads, autocommit, rows by column name."""
    db = sqlite3.connect(database, check_same_thread=False, isolation_level=None, uri=uri)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA case_sensitive_like=ON")  # Postgres LIKE is case sensitive; SQLite's is not unless told.
    return db


class _CountedLock:
    """A re-entrant lock that knows how many threads wait for it (so that the engine can give way to them)."""

    __slots__ = ("_count", "_lock", "waiting")

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._count = threading.Lock()
        self.waiting = 0

    def __enter__(self) -> bool:
        if self._lock.acquire(blocking=False):
            return True
        with self._count:
            self.waiting += 1
        try:
            self._lock.acquire()
        finally:
            with self._count:
                self.waiting -= 1
        return True

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()


class _Transaction:
    """One ``with store.transaction():`` block: a class, cheaper than a generator (the engine opens many)."""

    __slots__ = ("_outer", "_store")

    def __init__(self, store: Store) -> None:
        self._store = store
        self._outer = False

    def __enter__(self) -> Store:
        self._outer = self._store._begin()
        return self._store

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        self._store._end(self._outer, failed=exc_type is not None)


class Store:
    """A thread-safe SQLite database holding everything the sandbox serves.

    Args:
        path: A database file (created if missing, reused if present), or ``None`` for a private in-memory database.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = str(path) if path is not None else None
        self._lock = _CountedLock()
        self.in_memdb = False
        if self.path is not None:
            self._db = _connect(self.path)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        else:
            try:
                self._db = _connect("file:flyte-sandbox?vfs=memdb", uri=True)  # private: no leading "/"
                self.in_memdb = True
            except sqlite3.OperationalError:  # an SQLite built without memdb
                self._db = _connect(":memory:")
        self._depth = 0
        self._savepoints = 0
        self._writes = 0
        self._db.executescript(SCHEMA)

    def _wrote(self) -> None:
        """Count a committed write; now and then, move an in-memory store that outgrows ``memdb``."""
        self._writes += 1
        if not self.in_memdb or self._writes % _SIZE_CHECK_EVERY:
            return
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        page_size = self._db.execute("PRAGMA page_size").fetchone()[0]
        if pages * page_size > MEMDB_LIMIT:
            self._leave_memdb()

    def _leave_memdb(self) -> None:
        """Copy the database into an unbounded ``:memory:`` one and use that from now on (under the lock)."""
        target = _connect(":memory:")
        self._db.backup(target)
        self._db.close()
        self._db = target
        self.in_memdb = False
        log.info("the sandbox's in-memory store outgrew memdb (%d MiB): it moved to :memory:", MEMDB_LIMIT >> 20)

    def close(self) -> None:
        """Close the database (the file, if any, keeps everything)."""
        with self._lock:
            self._db.close()

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (ask while holding the store: it is the holder's transaction then)."""
        return self._depth > 0

    @property
    def waiting(self) -> int:
        """How many threads wait for the store now."""
        return self._lock.waiting

    def locked(self) -> contextlib.AbstractContextManager[bool]:
        """Hold the store for a block of several calls, so that other threads cannot slip in between them.

        Cheaper than taking the lock for each call when threads compete for it: one handoff instead of many.
        """
        return self._lock

    def transaction(self) -> contextlib.AbstractContextManager[Store]:
        """Run a block atomically; nested blocks join the outer transaction."""
        return _Transaction(self)

    def _begin(self) -> bool:
        """Enter a transaction block (holding the store); whether it is the outer one."""
        self._lock.__enter__()
        outer = self._depth == 0
        if outer:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._lock.__exit__()
                raise
        self._depth += 1
        return outer

    def _end(self, outer: bool, failed: bool) -> None:
        """Leave a transaction block: the outer one commits, or rolls back when the block ``failed``."""
        try:
            self._depth -= 1
            if outer and failed:
                self._db.execute("ROLLBACK")
            elif outer:
                self._db.execute("COMMIT")
                self._wrote()
        finally:
            self._lock.__exit__()

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[Store]:
        """Run a block atomically, inside the caller's transaction if there is one, whose failure undoes it alone.

        Outside a transaction this is :meth:`transaction`. Inside one, an exception rolls back what the block wrote
        and propagates; the enclosing transaction keeps what was written before the block.
        """
        with self._lock:
            if self._depth == 0:
                with self.transaction():
                    yield self
                return
            self._savepoints += 1
            name = f"block{self._savepoints}"
            self._db.execute(f"SAVEPOINT {name}")
            try:
                with self.transaction():
                    yield self
            except BaseException:
                self._db.execute(f"ROLLBACK TO {name}")
                raise
            finally:
                self._db.execute(f"RELEASE {name}")
                self._savepoints -= 1

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; returns the last inserted row id (for INSERT) or the number of changed rows."""
        with self._lock:
            cursor = self._db.execute(sql, tuple(params))
            if self._depth == 0:
                self._wrote()
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
        row = values
        if "created_at" not in values or "updated_at" not in values:
            stamp = format_timestamp(now())
            row = {"created_at": stamp, "updated_at": stamp, **values}
        sql = _insert_sql(table, tuple(row))
        with self._lock:
            cursor = self._db.execute(sql, tuple(row.values()))
            if self._depth == 0:
                self._wrote()
            return cursor.lastrowid or cursor.rowcount

    def insert_row(self, table: str, values: dict[str, Any]) -> sqlite3.Row:
        """Insert a row (``created_at``/``updated_at`` must be given) and return it as stored, in one statement.

        Raises:
            sqlite3.IntegrityError: on a unique-key collision.
        """
        sql = _insert_sql(table, tuple(values), returning=True)
        with self._lock:
            row: sqlite3.Row = self._db.execute(sql, tuple(values.values())).fetchone()
            return row

    def update(self, table: str, row_id: int, values: dict[str, Any]) -> None:
        """Change some columns of one row (``updated_at`` is stamped unless given)."""
        row = {"updated_at": format_timestamp(now()), **values}
        assignments = ", ".join(f'"{name}" = ?' for name in row)
        self.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", [*row.values(), row_id])

    def update_row(self, table: str, row_id: int, values: dict[str, Any]) -> sqlite3.Row:
        """Change some columns of one row (``updated_at`` must be given) and return the row as it now is."""
        sql = _update_returning(table, tuple(values))
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(sql, (*values.values(), row_id)).fetchone()
        if row is None:
            raise LookupError(f"row {row_id} of {table} is gone")
        return row

    def page(self, query: Query, limit: int, offset: int, select: str = "*", tiebreak: str = "id") -> list[sqlite3.Row]:
        """One page of a :class:`Query`, ordered by its sort key (insertion order when none, for stable pages)."""
        table = query.model.table
        order = f"{query.order_by}, {table}.{tiebreak} ASC" if query.order_by else f"{table}.{tiebreak} ASC"
        sql = f"SELECT {select} FROM {table}{query.where_sql()} ORDER BY {order} LIMIT ? OFFSET ?"
        return self.all(sql, [*query.params, limit, offset])
