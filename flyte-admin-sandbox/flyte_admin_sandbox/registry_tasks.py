"""Tasks: CreateTask, GetTask, ListTasks, ListTaskIds."""

from __future__ import annotations

from flyteidl.admin import common_pb2, description_entity_pb2, task_pb2
from flyteidl.core import compiler_pb2, identifier_pb2

from flyte_admin_sandbox.common import diff, digest, validate_identifier
from flyte_admin_sandbox.errors import already_exists, invalid, missing_argument
from flyte_admin_sandbox.filters import TASK, format_timestamp
from flyte_admin_sandbox.records import timestamp
from flyte_admin_sandbox.registry_base import RT
from flyte_admin_sandbox.registry_entities import NamedEntities
from flyte_admin_sandbox.store import now


class Tasks(NamedEntities):
    """Flyte Admin's task manager."""

    def _check_task(self, request: task_pb2.TaskCreateRequest) -> compiler_pb2.CompiledTask:
        validate_identifier(request.id if request.HasField("id") else None, RT.TASK)
        self.check_project_domain(request.id.project, request.id.domain)
        if not request.HasField("spec") or not request.spec.HasField("template"):
            raise missing_argument("spec")
        template = request.spec.template
        if not template.type:
            raise missing_argument("type")
        if not template.HasField("metadata"):
            raise missing_argument("metadata")
        if template.metadata.HasField("runtime") and not template.metadata.runtime.version:
            raise missing_argument("runtime version")
        if not template.HasField("interface"):
            raise missing_argument("typed interface")
        if template.WhichOneof("target") == "container":
            if not template.container.image:
                raise missing_argument("image")
            has_io = template.interface.inputs.variables or template.interface.outputs.variables
            if has_io and not template.container.command and not template.container.args:
                raise invalid(
                    "task failed compilation with Collected Errors: 1\n\tError 0: Code: ValueRequired, "
                    f"Node Id: {request.id.name}, Description: Value required [command].\n"
                )
        compiled = compiler_pb2.CompiledTask(template=template)
        compiled.template.id.CopyFrom(request.id)
        return compiled

    def CreateTask(self, request: task_pb2.TaskCreateRequest) -> task_pb2.TaskCreateResponse:
        """Register a task version: identical again -> ALREADY_EXISTS, different -> INVALID_ARGUMENT with a diff."""
        compiled = self._check_task(request)
        self.insert_task(
            request.id, compiled, request.spec.description if request.spec.HasField("description") else None
        )
        return task_pb2.TaskCreateResponse()

    def insert_task(
        self,
        identifier: identifier_pb2.Identifier,
        compiled: compiler_pb2.CompiledTask,
        description: description_entity_pb2.DescriptionEntity | None = None,
    ) -> None:
        """Store a compiled task, with Flyte Admin's existing-version rules."""
        task_digest = digest(compiled)
        with self.store.transaction():
            existing = self._row("tasks", identifier)
            if existing is not None:
                old = task_pb2.TaskClosure.FromString(existing["closure"]).compiled_task
                if existing["digest"] == task_digest:
                    raise already_exists("task with identical structure already exists")
                raise invalid(
                    f"{identifier.name} task with different structure already exists. "
                    f"(Please register a new version of the task):\n{diff(old, compiled)}"
                )
            stamp = now()
            closure = task_pb2.TaskClosure(compiled_task=compiled, created_at=timestamp(stamp))
            short = description.short_description if description is not None else ""
            self.store.insert(
                "tasks",
                {
                    **self._id_columns(identifier),
                    "closure": closure.SerializeToString(),
                    "digest": task_digest,
                    "type": compiled.template.type,
                    "short_description": short,
                    "created_at": format_timestamp(stamp),
                    "updated_at": format_timestamp(stamp),
                },
            )
            if description is not None:
                self._insert_description(RT.TASK, identifier, description)

    def GetTask(self, request: common_pb2.ObjectGetRequest) -> task_pb2.Task:
        """One task version."""
        return self.task_proto(self.task_row(request.id))

    def ListTasks(self, request: common_pb2.ResourceListRequest) -> task_pb2.TaskList:
        """Task versions of a project/domain (of one name when ``id.name`` is set)."""
        rows, token = self._list_entities(request, TASK, "ListTasks")
        return task_pb2.TaskList(tasks=[self.task_proto(row) for row in rows], token=token)

    def ListTaskIds(self, request: common_pb2.NamedEntityIdentifierListRequest) -> common_pb2.NamedEntityIdentifierList:
        """Distinct task names of a project/domain (filters are ignored, as in Flyte Admin)."""
        return self._list_ids(request, "tasks", "ListUniqueTaskIdentifiers")
