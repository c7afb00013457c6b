"""Fetching registered entities: tasks, workflows and launch plans, eager or lazy, and launch plan activation.

``version=None`` or ``"latest"`` costs one ``List*`` call sorted newest first with ``limit=1``; a given version is a
single ``Get*``. When an entity is missing because its project or domain does not exist, the error says so (one
``GetProject``, see :func:`._queries.missing_scope`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_flyte.exceptions import FlyteEntityNotExistException, FlyteInvalidInputException
from airflow_provider_flyte.identifiers import Identifier, NamedEntityIdentifier, ResourceType
from airflow_provider_flyte.remote._core import LATEST, RemoteCore, required_name
from airflow_provider_flyte.remote._queries import missing_scope, newest_first
from airflow_provider_flyte.remote.entities import FlyteLaunchPlan, FlyteTask, FlyteWorkflow
from airflow_provider_flyte.remote.lazy_entity import LazyEntity


class FetchingMixin(RemoteCore):
    """``fetch_task`` / ``fetch_workflow`` / ``fetch_launch_plan`` (and lazy variants), launch plan activation."""

    def fetch_task(
        self, project: str | None = None, domain: str | None = None, name: str | None = None, version: str | None = None
    ) -> FlyteTask:
        """The task ``name`` at ``version`` (the most recently registered one when ``version`` is None or "latest").

        Raises:
            FlyteEntityNotExistException: when there is no such task (version).
        """
        return FlyteTask(self._fetch_entity(ResourceType.TASK, project, domain, name, version))

    def fetch_workflow(
        self, project: str | None = None, domain: str | None = None, name: str | None = None, version: str | None = None
    ) -> FlyteWorkflow:
        """The workflow ``name`` at ``version`` (latest when omitted). Referenced launch plans are not fetched."""
        return FlyteWorkflow(self._fetch_entity(ResourceType.WORKFLOW, project, domain, name, version))

    def fetch_launch_plan(
        self, project: str | None = None, domain: str | None = None, name: str | None = None, version: str | None = None
    ) -> FlyteLaunchPlan:
        """The launch plan ``name`` at ``version`` (latest when omitted), with its interface from its own closure."""
        return FlyteLaunchPlan(self._fetch_entity(ResourceType.LAUNCH_PLAN, project, domain, name, version))

    def fetch_active_launchplan(
        self, project: str | None = None, domain: str | None = None, name: str | None = None
    ) -> FlyteLaunchPlan | None:
        """The active version of launch plan ``name``, or ``None`` when no version is active."""
        project, domain = self.resolve_project_domain(project, domain)
        named = NamedEntityIdentifier(project, domain, required_name(name))
        try:
            return FlyteLaunchPlan(self.client.get_active_launch_plan(named))
        except FlyteEntityNotExistException:
            return None

    def fetch_task_lazy(
        self, project: str | None = None, domain: str | None = None, name: str | None = None, version: str | None = None
    ) -> LazyEntity[FlyteTask]:
        """A :class:`LazyEntity` fetching the task on first use."""
        return LazyEntity(required_name(name), lambda: self.fetch_task(project, domain, name, version))

    def fetch_workflow_lazy(
        self, project: str | None = None, domain: str | None = None, name: str | None = None, version: str | None = None
    ) -> LazyEntity[FlyteWorkflow]:
        """A :class:`LazyEntity` fetching the workflow on first use."""
        return LazyEntity(required_name(name), lambda: self.fetch_workflow(project, domain, name, version))

    def fetch_launch_plan_lazy(
        self, project: str | None = None, domain: str | None = None, name: str | None = None, version: str | None = None
    ) -> LazyEntity[FlyteLaunchPlan]:
        """A :class:`LazyEntity` fetching the launch plan on first use."""
        return LazyEntity(required_name(name), lambda: self.fetch_launch_plan(project, domain, name, version))

    def activate_launchplan(self, ident: Identifier) -> None:
        """Make this launch plan version the active one (its schedule starts firing)."""
        from flyteidl.admin import launch_plan_pb2

        self.client.update_launch_plan(ident.to_flyte_idl(), launch_plan_pb2.ACTIVE)

    def deactivate_launchplan(self, ident: Identifier) -> None:
        """Deactivate this launch plan version."""
        from flyteidl.admin import launch_plan_pb2

        self.client.update_launch_plan(ident.to_flyte_idl(), launch_plan_pb2.INACTIVE)

    def _versioned_id(
        self,
        resource_type: ResourceType,
        project: str | None,
        domain: str | None,
        name: str | None,
        version: str | None,
    ) -> Identifier:
        project, domain = self.resolve_project_domain(project, domain)
        name = required_name(name)
        if version and version != LATEST:
            return Identifier(resource_type, project, domain, name, version)
        named = NamedEntityIdentifier(project, domain, name)
        items: Sequence[Any]
        if resource_type is ResourceType.TASK:
            items, _token = self.client.list_tasks_paginated(named, limit=1, sort_by=newest_first())
        elif resource_type is ResourceType.WORKFLOW:
            items, _token = self.client.list_workflows_paginated(named, limit=1, sort_by=newest_first())
        else:
            items, _token = self.client.list_launch_plans_paginated(named, limit=1, sort_by=newest_first())
        if not items:
            kind = resource_type.name.lower().replace("_", " ")
            raise FlyteEntityNotExistException(f"no {kind} named {name!r} is registered in {project}/{domain}")
        return Identifier.from_flyte_idl(items[0].id)

    def _fetch_entity(
        self,
        resource_type: ResourceType,
        project: str | None,
        domain: str | None,
        name: str | None,
        version: str | None,
    ) -> Any:
        """The registered entity's message; when it is missing because its project or domain does not exist, say so.

        Raises:
            FlyteEntityNotExistException: ``project 'x' does not exist (...)``, ``domain 'y' does not exist in project
                'x'; ...`` or, when both exist, the entity's own not-found error.
        """
        project, domain = self.resolve_project_domain(project, domain)
        get = {
            ResourceType.TASK: self.client.get_task,
            ResourceType.WORKFLOW: self.client.get_workflow,
            ResourceType.LAUNCH_PLAN: self.client.get_launch_plan,
        }[resource_type]
        try:
            return get(self._versioned_id(resource_type, project, domain, name, version))
        except FlyteEntityNotExistException as error:
            kind = resource_type.name.lower().replace("_", " ")
            scope_error = missing_scope(self.client, project, domain, f"{kind} {name!r}")
            if scope_error is None:
                raise
            raise scope_error from error

    def _fetch_referenced(self, reference: Identifier) -> FlyteTask | FlyteWorkflow | FlyteLaunchPlan:
        """The registered entity a flytekit reference (``reference_task`` / ``_workflow`` / ``_launch_plan``) names.

        An empty version or "latest" means the newest one.

        Raises:
            FlyteEntityNotExistException: naming the reference, when nothing is registered under it.
        """
        kind = reference.resource_type
        if kind not in (ResourceType.TASK, ResourceType.WORKFLOW, ResourceType.LAUNCH_PLAN):
            raise FlyteInvalidInputException(f"reference {reference} is not to a task, workflow or launch plan")
        project, domain, name, version = reference.project, reference.domain, reference.name, reference.version
        try:
            if kind is ResourceType.TASK:
                return self.fetch_task(project, domain, name, version or None)
            if kind is ResourceType.WORKFLOW:
                return self.fetch_workflow(project, domain, name, version or None)
            return self.fetch_launch_plan(project, domain, name, version or None)
        except FlyteEntityNotExistException as error:
            what = kind.name.lower()
            raise FlyteEntityNotExistException(
                f"reference_{what}(project={project!r}, domain={domain!r}, name={name!r}, version={version!r}) "
                f"points at no registered {what.replace('_', ' ')} ({error.message}); register it first or correct "
                "the reference",
                code=error.code,
                rpc=error.rpc,
                server_message=error.server_message,
            ) from error

    def _resolve_target(self, entity: Any, version: str | None) -> FlyteTask | FlyteLaunchPlan:
        """What to launch for ``entity``: a task, or a launch plan (a workflow's default one)."""
        if isinstance(entity, LazyEntity):
            entity = entity.entity
        if isinstance(entity, (FlyteTask, FlyteLaunchPlan)):
            return entity
        if isinstance(entity, FlyteWorkflow):
            ident = entity.id
            return self.fetch_launch_plan(ident.project, ident.domain, ident.name, ident.version)
        if isinstance(entity, str):
            entity = Identifier.from_python_std(entity)
        if getattr(getattr(entity, "DESCRIPTOR", None), "full_name", None) == "flyteidl.core.Identifier":
            entity = Identifier.from_flyte_idl(entity)
        if isinstance(entity, Identifier):
            fetch = {
                ResourceType.TASK: self.fetch_task,
                ResourceType.WORKFLOW: self.fetch_launch_plan,  # a workflow runs through its default launch plan
                ResourceType.LAUNCH_PLAN: self.fetch_launch_plan,
            }.get(entity.resource_type)
            if fetch is None:
                raise FlyteInvalidInputException(f"entity {entity} is not a task, workflow or launch plan")
            return fetch(entity.project, entity.domain, entity.name, version or entity.version)  # type: ignore[return-value]
        raise FlyteInvalidInputException(
            f"entity={entity!r} ({type(entity).__name__}) cannot be executed; pass a FlyteTask, FlyteWorkflow, "
            "FlyteLaunchPlan, LazyEntity, Identifier or a 'tsk:'/'wf:'/'lp:' identifier string"
        )
