"""``flyteidl2.task.TaskService``: deploy tasks and read them back."""

from __future__ import annotations

from flyteidl2.task import task_definition_pb2, task_service_pb2

from flyte_admin_sandbox.v2.backend import Backend
from flyte_admin_sandbox.v2.errors import invalid, missing
from flyte_admin_sandbox.v2.listing import select
from flyte_admin_sandbox.v2.services_triggers import deploy_task_trigger
from flyte_admin_sandbox.v2.store import TaskRecord


def _metadata(record: TaskRecord) -> task_definition_pb2.TaskMetadata:
    metadata = task_definition_pb2.TaskMetadata(
        short_name=record.spec.short_name or record.task_id.name.rsplit(".", 1)[-1],
        environment_name=record.spec.environment.name,
        short_description=record.spec.documentation.short_description,
    )
    metadata.deployed_at.FromNanoseconds(int(record.deployed_at * 1e9))
    metadata.deployed_by.user.spec.email = "sandbox@localhost"
    return metadata


class TaskService:
    """Deploys tasks (a version is immutable) and reads them back.

    Args:
        backend: The shared state.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def DeployTask(self, request: task_service_pb2.DeployTaskRequest) -> task_service_pb2.DeployTaskResponse:
        """Store a task version and its triggers; deploying the same spec again is a no-op.

        Raises:
            ServiceError: ``INVALID_ARGUMENT`` for a missing identifier part or template, ``NOT_FOUND`` for an unknown
                project, ``ALREADY_EXISTS`` for a different spec under an existing version.
        """
        task_id = request.task_id
        for part in ("name", "version"):
            if not getattr(task_id, part):
                raise missing(f"task_id.{part}")
        self.backend.require_project(task_id.project, task_id.domain, "task_id.project")
        if not request.spec.HasField("task_template"):
            raise missing("spec.task_template")
        template_name = request.spec.task_template.id.name
        if template_name and template_name != task_id.name:
            raise invalid("spec.task_template.id.name", template_name, f"differs from task_id.name [{task_id.name}]")
        self.backend.store.put_task(task_id, request.spec)
        for trigger in request.triggers:
            deploy_task_trigger(self.backend, task_id, trigger)
        return task_service_pb2.DeployTaskResponse()

    def GetTaskDetails(
        self, request: task_service_pb2.GetTaskDetailsRequest
    ) -> task_service_pb2.GetTaskDetailsResponse:
        """A task version (the latest when the version is empty) with its spec.

        Raises:
            ServiceError: ``NOT_FOUND`` when not deployed.
        """
        task_id = request.task_id
        self.backend.task(task_id)
        record = self.backend.store.get_task(task_id.project, task_id.domain, task_id.name, task_id.version)
        assert record is not None  # checked just above
        details = task_definition_pb2.TaskDetails(task_id=record.task_id, metadata=_metadata(record), spec=record.spec)
        return task_service_pb2.GetTaskDetailsResponse(details=details)

    def ListTasks(self, request: task_service_pb2.ListTasksRequest) -> task_service_pb2.ListTasksResponse:
        """The latest version of each task of a project (and domain), filterable on ``name`` and ``version``."""
        project = request.project_id
        if not project.name:
            raise missing("project_id.name")
        records = self.backend.store.list_tasks(project.name, project.domain)
        page, token = select(
            records, lambda record: {"name": record.task_id.name, "version": record.task_id.version}, request.request
        )
        response = task_service_pb2.ListTasksResponse(
            tasks=[task_definition_pb2.Task(task_id=record.task_id, metadata=_metadata(record)) for record in page],
            token=token,
        )
        response.metadata.total = len(records)
        response.metadata.filtered_total = len(page)
        return response

    def ListVersions(self, request: task_service_pb2.ListVersionsRequest) -> task_service_pb2.ListVersionsResponse:
        """Every version of a task, newest first."""
        name = request.task_name
        if not name.name:
            raise missing("task_name.name")
        records = self.backend.store.list_versions(name.project, name.domain, name.name)
        page, token = select(records, lambda record: {"version": record.task_id.version}, request.request)
        response = task_service_pb2.ListVersionsResponse(token=token)
        for record in page:
            version = response.versions.add(version=record.task_id.version)
            version.deployed_at.FromNanoseconds(int(record.deployed_at * 1e9))
        return response
