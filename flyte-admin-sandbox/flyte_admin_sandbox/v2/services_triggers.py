"""``flyteidl2.trigger.TriggerService``: triggers by name (a task, its version and default inputs to fire runs with).

The sandbox never fires schedules by itself: a run is created from a trigger with ``CreateRun(trigger_name=...)``.
"""

from __future__ import annotations

import time

from flyteidl2.common import identifier_pb2
from flyteidl2.task import common_pb2, task_definition_pb2
from flyteidl2.trigger import trigger_definition_pb2, trigger_service_pb2

from flyte_admin_sandbox.v2.backend import Backend
from flyte_admin_sandbox.v2.errors import missing, not_found
from flyte_admin_sandbox.v2.listing import select


def _name_key(name: identifier_pb2.TriggerName) -> str:
    return f"{name.project}/{name.domain}/{name.task_name}/{name.name}"


def _store(
    backend: Backend,
    name: identifier_pb2.TriggerName,
    spec: trigger_definition_pb2.TriggerSpec,
    automation: common_pb2.TriggerAutomationSpec,
) -> trigger_definition_pb2.TriggerDetails:
    """Validate and store a new revision of a trigger."""
    for part in ("name", "task_name"):
        if not getattr(name, part):
            raise missing(f"name.{part}")
    backend.require_project(name.project, name.domain, "name.project")
    task_id = task_definition_pb2.TaskIdentifier(
        project=name.project, domain=name.domain, name=name.task_name, version=spec.task_version
    )
    backend.task(task_id, "name.task_name")
    if spec.HasField("offloaded_input_data"):
        spec.inputs.CopyFrom(backend.read_inputs(spec.offloaded_input_data.uri, "spec.offloaded_input_data.uri"))
    previous = backend.store.get_trigger(name.project, name.domain, name.task_name, name.name)
    details = trigger_definition_pb2.TriggerDetails(
        id=identifier_pb2.TriggerIdentifier(name=name, revision=(previous.id.revision if previous else 0) + 1),
        spec=spec,
        automation_spec=automation,
        description=spec.description,
    )
    now = int(time.time())
    details.status.deployed_at.FromSeconds(previous.status.deployed_at.seconds if previous else now)
    details.status.updated_at.FromSeconds(now)
    backend.store.put_trigger(details)
    return details


def deploy_task_trigger(
    backend: Backend, task_id: task_definition_pb2.TaskIdentifier, trigger: task_definition_pb2.TaskTrigger
) -> trigger_definition_pb2.TriggerDetails:
    """Store a trigger deployed with its task (``DeployTaskRequest.triggers``), pinned to that task version."""
    name = identifier_pb2.TriggerName(
        org=task_id.org, project=task_id.project, domain=task_id.domain, name=trigger.name, task_name=task_id.name
    )
    spec = trigger_definition_pb2.TriggerSpec(
        active=trigger.spec.active,
        run_spec=trigger.spec.run_spec,
        task_version=task_id.version,
        description=trigger.spec.description,
    )
    if trigger.spec.HasField("offloaded_input_data"):
        spec.offloaded_input_data.CopyFrom(trigger.spec.offloaded_input_data)
    else:
        spec.inputs.CopyFrom(trigger.spec.inputs)
    return _store(backend, name, spec, trigger.automation_spec)


def _summary(details: trigger_definition_pb2.TriggerDetails) -> trigger_definition_pb2.Trigger:
    return trigger_definition_pb2.Trigger(
        id=details.id, status=details.status, active=details.spec.active, automation_spec=details.automation_spec
    )


class TriggerService:
    """Deploys, reads, lists and (de)activates triggers.

    Args:
        backend: The shared state.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def _get(self, name: identifier_pb2.TriggerName) -> trigger_definition_pb2.TriggerDetails:
        if not name.name:
            raise missing("name.name")
        details = self.backend.store.get_trigger(name.project, name.domain, name.task_name, name.name)
        if details is None:
            raise not_found("trigger", _name_key(name))
        return details

    def DeployTrigger(
        self, request: trigger_service_pb2.DeployTriggerRequest
    ) -> trigger_service_pb2.DeployTriggerResponse:
        """Store a new revision of a trigger (its task version defaults to the latest deployed one).

        Raises:
            ServiceError: ``INVALID_ARGUMENT`` for a missing name part, ``NOT_FOUND`` for an unknown project or task.
        """
        spec = trigger_definition_pb2.TriggerSpec()
        spec.CopyFrom(request.spec)
        if not spec.task_version and request.name.task_name:
            latest = self.backend.store.get_task(request.name.project, request.name.domain, request.name.task_name)
            if latest is not None:
                spec.task_version = latest.task_id.version
        details = _store(self.backend, request.name, spec, request.automation_spec)
        return trigger_service_pb2.DeployTriggerResponse(trigger=details)

    def GetTriggerDetails(
        self, request: trigger_service_pb2.GetTriggerDetailsRequest
    ) -> trigger_service_pb2.GetTriggerDetailsResponse:
        """A trigger's latest revision.

        Raises:
            ServiceError: ``NOT_FOUND`` when there is no such trigger.
        """
        return trigger_service_pb2.GetTriggerDetailsResponse(trigger=self._get(request.name))

    def ListTriggers(
        self, request: trigger_service_pb2.ListTriggersRequest
    ) -> trigger_service_pb2.ListTriggersResponse:
        """The triggers of a project (and domain; of one task with ``task_name`` or ``task_id``)."""
        project, domain = request.project_id.name, request.project_id.domain
        task_name = request.task_name.name or request.task_id.name
        if request.HasField("task_name") or request.HasField("task_id"):
            source = request.task_name if request.HasField("task_name") else request.task_id
            project, domain = source.project, source.domain
        if not project:
            raise missing("project_id.name")
        triggers = self.backend.store.list_triggers(project, domain, task_name)
        page, token = select(
            triggers,
            lambda details: {"name": details.id.name.name, "task_name": details.id.name.task_name},
            request.request,
        )
        return trigger_service_pb2.ListTriggersResponse(triggers=[_summary(item) for item in page], token=token)

    def UpdateTriggers(
        self, request: trigger_service_pb2.UpdateTriggersRequest
    ) -> trigger_service_pb2.UpdateTriggersResponse:
        """Activate or deactivate triggers (a new revision each).

        Raises:
            ServiceError: ``NOT_FOUND`` for an unknown trigger (none is changed then).
        """
        found = [self._get(name) for name in request.names]
        for details in found:
            spec = trigger_definition_pb2.TriggerSpec()
            spec.CopyFrom(details.spec)
            spec.active = request.active
            _store(self.backend, details.id.name, spec, details.automation_spec)
        return trigger_service_pb2.UpdateTriggersResponse()
