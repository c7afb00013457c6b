"""What every registry manager shares: the store, project/domain checks, entity rows and their protos.

Like flyteadmin's repositories and transformers under its managers: looking a task, workflow or launch plan up by
id, turning its row into the Admin message, paging through versions or names, and the label rules.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from flyteidl.admin import common_pb2, launch_plan_pb2, matchable_resource_pb2, project_pb2, task_pb2, workflow_pb2
from flyteidl.core import identifier_pb2, interface_pb2

from flyte_admin_sandbox.common import PROJECT_ACTIVE, list_page, require, sort_of, where_query
from flyte_admin_sandbox.errors import entity_not_found, invalid, missing_argument
from flyte_admin_sandbox.filters import LAUNCH_PLAN, TASK, WORKFLOW, Query, check_limit, next_token, offset_from_token
from flyte_admin_sandbox.records import parse_stored, timestamp
from flyte_admin_sandbox.store import Store

RT = identifier_pb2.ResourceType
SETTINGS_CACHE_LIMIT = 4096
"""Project rows and execution configs kept before the caches are dropped."""
_Key = TypeVar("_Key")
_Value = TypeVar("_Value")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_MESSAGE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)


def validate_labels(labels: dict[str, str] | Any) -> None:
    """Kubernetes label rules: at most 16 entries, qualified-name keys, valid values.

    Raises:
        AdminError: ``labels map cannot exceed 16 entries`` / ``invalid label key [...]`` / ``invalid label value``.
    """
    if len(labels) > 16:
        raise invalid("labels map cannot exceed 16 entries")
    for key, value in labels.items():
        name = key.rpartition("/")[2]
        problems = []
        if len(name) > 63:
            problems.append("name part must be no more than 63 characters")
        if not _LABEL_NAME.fullmatch(name):
            problems.append(_LABEL_MESSAGE)
        if problems:
            raise invalid(f"invalid label key [{key}]: [{' '.join(problems)}]")
        if value and (len(value) > 63 or not _LABEL_NAME.fullmatch(value)):
            raise invalid(f"invalid label value [{value}]: [{_LABEL_MESSAGE.replace('name part', 'a valid label')}]")


def _row_stamp(row: sqlite3.Row, column: str = "created_at") -> Any:
    moment = parse_stored(row[column])
    return timestamp(moment) if moment is not None else None


def entity_id(row: sqlite3.Row, resource_type: identifier_pb2.ResourceType) -> identifier_pb2.Identifier:
    """The identifier of a task, workflow or launch-plan row."""
    return identifier_pb2.Identifier(
        resource_type=resource_type,
        project=row["project"],
        domain=row["domain"],
        name=row["name"],
        version=row["version"],
    )


class RegistryBase:
    """The store and the lookups the registry managers share (see :class:`~flyte_admin_sandbox.registry.Registry`)."""

    store: Store
    domains: tuple[str, ...]
    _projects: dict[str, sqlite3.Row | None]
    _configs: dict[tuple[str, str, str], matchable_resource_pb2.WorkflowExecutionConfig]

    def _cached(self, cache: dict[_Key, _Value], key: _Key, read: Callable[[], _Value]) -> _Value:
        """``read()``, kept in ``cache`` until :meth:`settings_changed` (``None`` is not kept).

        Every create reads the project and its execution config; both change rarely, and only through the
        registry, which calls :meth:`settings_changed` after each such write.
        """
        value = cache.get(key)
        if value is not None:
            return value
        with self.store.locked():  # a write and its settings_changed() cannot slip in between the read and the fill
            value = read()
            # What an open transaction wrote may yet be rolled back: keep only committed state.
            if value is not None and not self.store.in_transaction:
                if len(cache) >= SETTINGS_CACHE_LIMIT:
                    cache.clear()
                cache[key] = value
        return value

    def settings_changed(self) -> None:
        """Forget the cached project rows and execution configs (a project or matchable attributes were written)."""
        self._projects.clear()
        self._configs.clear()

    def check_project_domain(self, project: str, domain: str) -> sqlite3.Row:
        """Flyte Admin's ``ValidateProjectAndDomain``.

        Returns:
            The project's ``state`` and ``labels`` (creating an execution needs them next).

        Raises:
            AdminError: unknown project, inactive project or unknown domain, with Flyte Admin's texts.
        """
        row = self._cached(
            self._projects,
            project,
            lambda: self.store.one("SELECT state, labels FROM projects WHERE identifier = ?", (project,)),
        )
        if row is None:
            raise invalid(
                f"failed to validate that project [{project}] and domain [{domain}] are registered, "
                f"err: [project [{project}] not found]"
            )
        if row["state"] != PROJECT_ACTIVE:
            raise invalid(f"project [{project}] is not active", project_pb2.InactiveProject(id=project))
        if domain not in self.domains:
            raise invalid(f"domain [{domain}] is unrecognized by system")
        return row

    @staticmethod
    def _id_columns(identifier: identifier_pb2.Identifier) -> dict[str, str]:
        return {
            "project": identifier.project,
            "domain": identifier.domain,
            "name": identifier.name,
            "version": identifier.version,
        }

    def _row(self, table: str, identifier: identifier_pb2.Identifier, any_version: bool = False) -> sqlite3.Row | None:
        if any_version and not identifier.version:
            return self.store.one(
                f"SELECT * FROM {table} WHERE project = ? AND domain = ? AND name = ? ORDER BY id DESC",
                (identifier.project, identifier.domain, identifier.name),
            )
        return self.store.one(
            f"SELECT * FROM {table} WHERE project = ? AND domain = ? AND name = ? AND version = ?",
            (identifier.project, identifier.domain, identifier.name, identifier.version),
        )

    @staticmethod
    def task_proto(row: sqlite3.Row) -> task_pb2.Task:
        """The ``admin.Task`` of a row."""
        closure = task_pb2.TaskClosure.FromString(row["closure"])
        return task_pb2.Task(
            id=entity_id(row, RT.TASK), closure=closure, short_description=row["short_description"] or ""
        )

    def task_row(self, identifier: identifier_pb2.Identifier) -> sqlite3.Row:
        """A task row by exact id (an empty version matches any version, as Flyte Admin's query does).

        Raises:
            AdminError: ``NOT_FOUND missing entity of type TASK ...``.
        """
        row = self._row("tasks", identifier, any_version=True)
        if row is None:
            raise entity_not_found("TASK", identifier)
        return row

    @staticmethod
    def workflow_proto(row: sqlite3.Row, skeleton: bool = False) -> workflow_pb2.Workflow:
        """The ``admin.Workflow`` of a row; lists return only the interface (Flyte Admin's skeleton)."""
        if skeleton:
            closure = workflow_pb2.WorkflowClosure(created_at=_row_stamp(row))
            interface = interface_pb2.TypedInterface.FromString(row["typed_interface"])
            closure.compiled_workflow.primary.template.interface.CopyFrom(interface)
        else:
            closure = workflow_pb2.WorkflowClosure.FromString(row["closure"])
        return workflow_pb2.Workflow(
            id=entity_id(row, RT.WORKFLOW), closure=closure, short_description=row["short_description"] or ""
        )

    def workflow_row(self, identifier: identifier_pb2.Identifier) -> sqlite3.Row:
        """A workflow row by exact id.

        Raises:
            AdminError: ``NOT_FOUND missing entity of type WORKFLOW ...``.
        """
        row = self._row("workflows", identifier)
        if row is None:
            raise entity_not_found("WORKFLOW", identifier)
        return row

    @staticmethod
    def launch_plan_proto(row: sqlite3.Row) -> launch_plan_pb2.LaunchPlan:
        """The ``admin.LaunchPlan`` of a row (state and timestamps from the row)."""
        closure = launch_plan_pb2.LaunchPlanClosure.FromString(row["closure"])
        closure.state = row["state"]
        closure.created_at.CopyFrom(_row_stamp(row))
        closure.updated_at.CopyFrom(_row_stamp(row, "updated_at"))
        return launch_plan_pb2.LaunchPlan(
            id=entity_id(row, RT.LAUNCH_PLAN),
            spec=launch_plan_pb2.LaunchPlanSpec.FromString(row["spec"]),
            closure=closure,
        )

    def launch_plan_row(self, identifier: identifier_pb2.Identifier) -> sqlite3.Row:
        """A launch plan row by exact id.

        Raises:
            AdminError: ``NOT_FOUND missing entity of type LAUNCH_PLAN ...``.
        """
        row = self._row("launch_plans", identifier)
        if row is None:
            raise entity_not_found("LAUNCH_PLAN", identifier)
        return row

    def _list_entities(
        self, request: common_pb2.ResourceListRequest, model: Any, rpc: str
    ) -> tuple[list[sqlite3.Row], str]:
        if not request.HasField("id"):
            raise missing_argument("id")
        require(request.id.project, "project")
        require(request.id.domain, "domain")
        check_limit(request.limit)
        query = where_query(model, project=request.id.project, domain=request.id.domain, name=request.id.name)
        return list_page(
            self.store,
            query,
            limit=request.limit,
            token=request.token,
            rpc=rpc,
            sort_by=sort_of(request),
            filters=request.filters,
            convert=lambda row: row,
        )

    def _list_ids(
        self, request: common_pb2.NamedEntityIdentifierListRequest, table: str, rpc: str, validate: bool = True
    ) -> common_pb2.NamedEntityIdentifierList:
        if validate:
            require(request.project, "project")
            require(request.domain, "domain")
            check_limit(request.limit)
        elif request.limit <= 0:
            raise invalid("missing and/or invalid parameters: limit")
        offset = offset_from_token(request.token, rpc)
        model = {"tasks": TASK, "workflows": WORKFLOW, "launch_plans": LAUNCH_PLAN}[table]
        order = "MIN(id) ASC"
        if request.HasField("sort_by") and request.sort_by.key:
            Query(model).sort(request.sort_by.key, request.sort_by.direction)
            direction = "DESC" if request.sort_by.direction == 0 else "ASC"
            order = f"MAX({request.sort_by.key}) {direction}, MIN(id) ASC"
        rows = self.store.all(
            f"SELECT project, domain, name FROM {table} WHERE project = ? AND domain = ? "
            f"GROUP BY project, domain, name ORDER BY {order} LIMIT ? OFFSET ?",
            (request.project, request.domain, request.limit, offset),
        )
        entities = [
            common_pb2.NamedEntityIdentifier(project=row["project"], domain=row["domain"], name=row["name"])
            for row in rows
        ]
        return common_pb2.NamedEntityIdentifierList(
            entities=entities, token=next_token(offset, len(rows), request.limit)
        )
