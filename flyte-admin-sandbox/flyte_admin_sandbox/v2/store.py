"""The Flyte 2 sandbox's state: tasks, runs, triggers and projects in one SQLite database.

Protobuf messages live in BLOB columns next to the columns lookups and lists need. The sandbox is single-org: the
org a client sends is recorded and echoed, never part of an identity (the ``flyte`` SDK derives an org from the
endpoint's host name, ``127`` for ``127.0.0.1``, which other clients do not send).

Every change to a run bumps :attr:`Store.revision` and wakes :meth:`Store.wait_for_change` (the watch streams).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flyteidl2.common import phase_pb2
from flyteidl2.task import common_pb2, run_pb2, task_definition_pb2
from flyteidl2.trigger import trigger_definition_pb2
from flyteidl2.workflow import run_definition_pb2

from flyte_admin_sandbox.v2.errors import already_exists

TERMINAL_PHASES = frozenset(
    {
        phase_pb2.ACTION_PHASE_SUCCEEDED,
        phase_pb2.ACTION_PHASE_FAILED,
        phase_pb2.ACTION_PHASE_ABORTED,
        phase_pb2.ACTION_PHASE_TIMED_OUT,
        phase_pb2.ACTION_PHASE_RECOVERED,
    }
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    project TEXT, domain TEXT, name TEXT, version TEXT, org TEXT, spec BLOB, deployed_at REAL,
    PRIMARY KEY (project, domain, name, version));
CREATE TABLE IF NOT EXISTS runs (
    project TEXT, domain TEXT, name TEXT, org TEXT, seq INTEGER, phase INTEGER, task_name TEXT,
    task_version TEXT, trigger_name TEXT, source INTEGER, created_at REAL, started_at REAL, ended_at REAL,
    task_spec BLOB, run_spec BLOB, inputs BLOB, outputs BLOB, error BLOB, abort_reason TEXT,
    PRIMARY KEY (project, domain, name));
CREATE TABLE IF NOT EXISTS triggers (
    project TEXT, domain TEXT, task_name TEXT, name TEXT, org TEXT, revision INTEGER, task_version TEXT,
    spec BLOB, automation BLOB, active INTEGER, deployed_at REAL, updated_at REAL,
    PRIMARY KEY (project, domain, task_name, name));
CREATE TABLE IF NOT EXISTS projects (id TEXT PRIMARY KEY, proto BLOB);
"""


@dataclass
class TaskRecord:
    """A deployed task version."""

    task_id: task_definition_pb2.TaskIdentifier
    spec: task_definition_pb2.TaskSpec
    deployed_at: float


@dataclass
class RunRecord:
    """A run and its root action ``a0``.

    Attributes:
        run_id: The run's identifier (its org as the client sent it).
        task_id: The task it runs (name only, empty version, for a run of an inline task spec).
        task_spec: The task's spec at launch.
        run_spec: The run spec the client sent.
        inputs: The inputs, resolved (inline, uploaded or a trigger's defaults).
        phase: The root action's phase.
        trigger_name: The trigger the run was fired as, if any.
        source: The ``RunSource`` the client named.
        created_at: Unix time of CreateRun.
        started_at: Unix time it started running.
        ended_at: Unix time it reached a terminal phase.
        outputs: The outputs once succeeded.
        error: The error once failed or timed out.
        abort_reason: The reason given to AbortRun.
        seq: Creation order.
    """

    run_id: Any
    task_id: task_definition_pb2.TaskIdentifier
    task_spec: task_definition_pb2.TaskSpec
    run_spec: run_pb2.RunSpec
    inputs: common_pb2.Inputs
    phase: int = phase_pb2.ACTION_PHASE_QUEUED
    trigger_name: str = ""
    source: int = 0
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    ended_at: float | None = None
    outputs: common_pb2.Outputs | None = None
    error: run_definition_pb2.ErrorInfo | None = None
    abort_reason: str | None = None
    seq: int = 0

    @property
    def terminal(self) -> bool:
        """Whether the run reached a terminal phase."""
        return self.phase in TERMINAL_PHASES


def _blob(message: Any) -> bytes | None:
    return message.SerializeToString(deterministic=True) if message is not None else None


class Store:
    """The SQLite database, guarded by one lock (calls are short).

    Args:
        path: A database file kept across restarts; in memory when ``None``.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._changes = threading.Condition(self._lock)
        self.revision = 0
        self.closed = False

    def close(self) -> None:
        """Wake every waiter for good and close the database."""
        with self._changes:
            self.closed = True
            self._changes.notify_all()
            self._db.close()

    @contextmanager
    def _cursor(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            yield self._db.cursor()

    def wait_for_change(self, seen: int, timeout: float) -> int:
        """Block until :attr:`revision` passes ``seen``, the store closes or ``timeout`` passes; the revision."""
        with self._changes:
            self._changes.wait_for(lambda: self.revision != seen or self.closed, timeout)
            return self.revision

    def _bump(self) -> None:
        with self._changes:
            self.revision += 1
            self._changes.notify_all()

    # Tasks

    def put_task(self, task_id: task_definition_pb2.TaskIdentifier, spec: task_definition_pb2.TaskSpec) -> bool:
        """Store a task version; ``False`` when the same content is already there.

        Raises:
            ServiceError: ``ALREADY_EXISTS`` when the version exists with a different spec.
        """
        data = _blob(spec)
        key = (task_id.project, task_id.domain, task_id.name, task_id.version)
        with self._cursor() as cursor:
            row = cursor.execute(
                "SELECT spec FROM tasks WHERE project=? AND domain=? AND name=? AND version=?", key
            ).fetchone()
            if row is not None:
                if row[0] == data:
                    return False
                raise already_exists("task", "/".join(key), "a different spec is deployed under this version")
            cursor.execute("INSERT INTO tasks VALUES (?,?,?,?,?,?,?)", (*key, task_id.org, data, time.time()))
        return True

    def get_task(self, project: str, domain: str, name: str, version: str = "") -> TaskRecord | None:
        """A task version, or its latest version (by deployment time) when ``version`` is empty."""
        query = "SELECT org, version, spec, deployed_at FROM tasks WHERE project=? AND domain=? AND name=?"
        args: tuple[str, ...] = (project, domain, name)
        if version:
            query += " AND version=?"
            args += (version,)
        with self._cursor() as cursor:
            row = cursor.execute(query + " ORDER BY deployed_at DESC, rowid DESC LIMIT 1", args).fetchone()
        if row is None:
            return None
        task_id = task_definition_pb2.TaskIdentifier(
            org=row[0], project=project, domain=domain, name=name, version=row[1]
        )
        return TaskRecord(task_id, task_definition_pb2.TaskSpec.FromString(row[2]), row[3])

    def list_tasks(self, project: str, domain: str) -> list[TaskRecord]:
        """The latest version of every task in a project and domain (all domains when ``domain`` is empty)."""
        with self._cursor() as cursor:
            rows = cursor.execute(
                "SELECT domain, name FROM tasks WHERE project=? AND (?='' OR domain=?) GROUP BY domain, name "
                "ORDER BY MAX(deployed_at) DESC",
                (project, domain, domain),
            ).fetchall()
        records = [self.get_task(project, row[0], row[1]) for row in rows]
        return [record for record in records if record is not None]

    def list_versions(self, project: str, domain: str, name: str) -> list[TaskRecord]:
        """Every version of a task, newest first."""
        with self._cursor() as cursor:
            rows = cursor.execute(
                "SELECT version FROM tasks WHERE project=? AND domain=? AND name=? ORDER BY deployed_at DESC, "
                "rowid DESC",
                (project, domain, name),
            ).fetchall()
        records = [self.get_task(project, domain, name, row[0]) for row in rows]
        return [record for record in records if record is not None]

    # Runs

    def insert_run(self, record: RunRecord) -> RunRecord:
        """Store a new run (its ``seq`` set).

        Raises:
            ServiceError: ``ALREADY_EXISTS`` when the project and domain have a run of that name.
        """
        run_id = record.run_id
        with self._cursor() as cursor:
            key = (run_id.project, run_id.domain, run_id.name)
            if cursor.execute("SELECT 1 FROM runs WHERE project=? AND domain=? AND name=?", key).fetchone():
                raise already_exists("run", "/".join(key))
            record.seq = cursor.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM runs").fetchone()[0]
            cursor.execute(
                "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    *key,
                    run_id.org,
                    record.seq,
                    record.phase,
                    record.task_id.name,
                    record.task_id.version,
                    record.trigger_name,
                    record.source,
                    record.created_at,
                    record.started_at,
                    record.ended_at,
                    _blob(record.task_spec),
                    _blob(record.run_spec),
                    _blob(record.inputs),
                    _blob(record.outputs),
                    _blob(record.error),
                    record.abort_reason,
                ),
            )
        self._bump()
        return record

    _RUN_COLUMNS = (
        "project, domain, name, org, seq, phase, task_name, task_version, trigger_name, source, created_at, "
        "started_at, ended_at, task_spec, run_spec, inputs, outputs, error, abort_reason"
    )

    @staticmethod
    def _run_of(row: tuple[Any, ...]) -> RunRecord:
        from flyteidl2.common import identifier_pb2

        project, domain, name, org = row[0:4]
        return RunRecord(
            run_id=identifier_pb2.RunIdentifier(org=org, project=project, domain=domain, name=name),
            seq=row[4],
            phase=row[5],
            task_id=task_definition_pb2.TaskIdentifier(
                org=org, project=project, domain=domain, name=row[6], version=row[7]
            ),
            trigger_name=row[8],
            source=row[9],
            created_at=row[10],
            started_at=row[11],
            ended_at=row[12],
            task_spec=task_definition_pb2.TaskSpec.FromString(row[13]),
            run_spec=run_pb2.RunSpec.FromString(row[14]),
            inputs=common_pb2.Inputs.FromString(row[15]),
            outputs=common_pb2.Outputs.FromString(row[16]) if row[16] is not None else None,
            error=run_definition_pb2.ErrorInfo.FromString(row[17]) if row[17] is not None else None,
            abort_reason=row[18],
        )

    def get_run(self, project: str, domain: str, name: str) -> RunRecord | None:
        """A run by project, domain and name."""
        with self._cursor() as cursor:
            row = cursor.execute(
                f"SELECT {self._RUN_COLUMNS} FROM runs WHERE project=? AND domain=? AND name=?",
                (project, domain, name),
            ).fetchone()
        return self._run_of(row) if row is not None else None

    def list_runs(
        self, project: str = "", domain: str = "", task_name: str = "", trigger_name: str = ""
    ) -> list[RunRecord]:
        """Runs matching every non-empty criterion, newest first."""
        clauses, args = [], []
        for column, value in (
            ("project", project),
            ("domain", domain),
            ("task_name", task_name),
            ("trigger_name", trigger_name),
        ):
            if value:
                clauses.append(f"{column}=?")
                args.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._cursor() as cursor:
            rows = cursor.execute(f"SELECT {self._RUN_COLUMNS} FROM runs{where} ORDER BY seq DESC", args).fetchall()
        return [self._run_of(row) for row in rows]

    def update_run(self, record: RunRecord) -> None:
        """Write a run's progress (phase, times, outputs, error, abort reason) and wake the watchers."""
        run_id = record.run_id
        with self._cursor() as cursor:
            cursor.execute(
                "UPDATE runs SET phase=?, started_at=?, ended_at=?, outputs=?, error=?, abort_reason=? "
                "WHERE project=? AND domain=? AND name=?",
                (
                    record.phase,
                    record.started_at,
                    record.ended_at,
                    _blob(record.outputs),
                    _blob(record.error),
                    record.abort_reason,
                    run_id.project,
                    run_id.domain,
                    run_id.name,
                ),
            )
        self._bump()

    # Triggers

    def put_trigger(self, details: trigger_definition_pb2.TriggerDetails) -> None:
        """Store a trigger revision (replacing the previous one of that name)."""
        name = details.id.name
        with self._cursor() as cursor:
            cursor.execute(
                "INSERT OR REPLACE INTO triggers VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    name.project,
                    name.domain,
                    name.task_name,
                    name.name,
                    name.org,
                    details.id.revision,
                    details.spec.task_version,
                    _blob(details.spec),
                    _blob(details.automation_spec),
                    int(details.spec.active),
                    details.status.deployed_at.ToSeconds(),
                    details.status.updated_at.ToSeconds(),
                ),
            )

    def get_trigger(
        self, project: str, domain: str, task_name: str, name: str
    ) -> trigger_definition_pb2.TriggerDetails | None:
        """A trigger's latest revision (any task when ``task_name`` is empty)."""
        rows = self._triggers(
            "project=? AND domain=? AND (?='' OR task_name=?) AND name=?", (project, domain, task_name, task_name, name)
        )
        return rows[0] if rows else None

    def list_triggers(
        self, project: str, domain: str, task_name: str = ""
    ) -> list[trigger_definition_pb2.TriggerDetails]:
        """The triggers of a project and domain (of one task when ``task_name`` is set)."""
        return self._triggers(
            "project=? AND (?='' OR domain=?) AND (?='' OR task_name=?)",
            (project, domain, domain, task_name, task_name),
        )

    def _triggers(self, where: str, args: tuple[str, ...]) -> list[trigger_definition_pb2.TriggerDetails]:
        from flyteidl2.common import identifier_pb2
        from flyteidl2.task import common_pb2 as task_common_pb2

        with self._cursor() as cursor:
            rows = cursor.execute(
                "SELECT project, domain, task_name, name, org, revision, spec, automation, deployed_at, updated_at "
                f"FROM triggers WHERE {where} ORDER BY deployed_at",
                args,
            ).fetchall()
        result = []
        for row in rows:
            details = trigger_definition_pb2.TriggerDetails(
                id=identifier_pb2.TriggerIdentifier(
                    name=identifier_pb2.TriggerName(
                        project=row[0], domain=row[1], task_name=row[2], name=row[3], org=row[4]
                    ),
                    revision=row[5],
                ),
                spec=trigger_definition_pb2.TriggerSpec.FromString(row[6]),
                automation_spec=task_common_pb2.TriggerAutomationSpec.FromString(row[7]),
            )
            details.status.deployed_at.FromSeconds(int(row[8]))
            details.status.updated_at.FromSeconds(int(row[9]))
            result.append(details)
        return result

    # Projects

    def put_project(self, project_id: str, proto: bytes) -> bool:
        """Store a project; ``False`` when one with that id exists."""
        with self._cursor() as cursor:
            if cursor.execute("SELECT 1 FROM projects WHERE id=?", (project_id,)).fetchone():
                return False
            cursor.execute("INSERT INTO projects VALUES (?,?)", (project_id, proto))
        return True

    def replace_project(self, project_id: str, proto: bytes) -> None:
        """Store a project, replacing any."""
        with self._cursor() as cursor:
            cursor.execute("INSERT OR REPLACE INTO projects VALUES (?,?)", (project_id, proto))

    def projects(self) -> list[bytes]:
        """Every project, by id."""
        with self._cursor() as cursor:
            return [row[0] for row in cursor.execute("SELECT proto FROM projects ORDER BY id").fetchall()]
