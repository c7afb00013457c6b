"""The friendly client's methods for what is registered: entities, projects, attributes and Admin's version.

Tasks, workflows, launch plans and named entities, projects and domains, matchable attributes, and the version of
Flyte Admin: the part of :class:`~airflow_provider_flyte.clients.friendly.SynchronousFlyteClient` that reads and
writes definitions rather than runs. Each method is one line running a call built in
:mod:`airflow_provider_flyte.clients._calls`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.clients import _calls
from airflow_provider_flyte.clients._calls import (
    DEFAULT_ITERATION_SORT,
    DEFAULT_PAGE_SIZE,
    IdentifierLike,
    NamedEntityIdentifierLike,
    Page,
    SortLike,
)
from airflow_provider_flyte.clients._friendly_base import _SynchronousFlyteClientBase
from airflow_provider_flyte.clients.filters import FilterSpec

if TYPE_CHECKING:
    from flyteidl.admin import (
        common_pb2,
        description_entity_pb2,
        launch_plan_pb2,
        matchable_resource_pb2,
        project_attributes_pb2,
        project_domain_attributes_pb2,
        project_pb2,
        task_pb2,
        version_pb2,
        workflow_attributes_pb2,
        workflow_pb2,
    )


class _SynchronousFlyteClientDefinitions(_SynchronousFlyteClientBase):
    """Tasks, workflows, launch plans, named and description entities, projects, attributes, version: see subclasses."""

    # ------------------------------------------------------------------------------------------------ iterators

    def iter_tasks(
        self,
        identifier: NamedEntityIdentifierLike,
        page_size: int = DEFAULT_PAGE_SIZE,
        filters: FilterSpec = None,
        sort_by: SortLike = DEFAULT_ITERATION_SORT,
    ) -> Iterator[task_pb2.Task]:
        """Every task version matching ``identifier`` (an empty name means every task), oldest first by default."""
        return self.paginate(self.list_tasks_paginated, identifier, limit=page_size, filters=filters, sort_by=sort_by)

    def iter_workflows(
        self,
        identifier: NamedEntityIdentifierLike,
        page_size: int = DEFAULT_PAGE_SIZE,
        filters: FilterSpec = None,
        sort_by: SortLike = DEFAULT_ITERATION_SORT,
    ) -> Iterator[workflow_pb2.Workflow]:
        """Every workflow version matching ``identifier``, oldest first by default."""
        return self.paginate(
            self.list_workflows_paginated, identifier, limit=page_size, filters=filters, sort_by=sort_by
        )

    def iter_launch_plans(
        self,
        identifier: NamedEntityIdentifierLike,
        page_size: int = DEFAULT_PAGE_SIZE,
        filters: FilterSpec = None,
        sort_by: SortLike = DEFAULT_ITERATION_SORT,
    ) -> Iterator[launch_plan_pb2.LaunchPlan]:
        """Every launch plan version matching ``identifier``, oldest first by default."""
        return self.paginate(
            self.list_launch_plans_paginated, identifier, limit=page_size, filters=filters, sort_by=sort_by
        )

    def iter_projects(
        self, page_size: int = DEFAULT_PAGE_SIZE, filters: FilterSpec = None, sort_by: SortLike = None
    ) -> Iterator[project_pb2.Project]:
        """Every project (Admin sorts by id unless ``sort_by`` says otherwise; archived ones need a filter)."""
        return self.paginate(self.list_projects_paginated, limit=page_size, filters=filters, sort_by=sort_by)

    # ------------------------------------------------------------------------------------------------ tasks

    def create_task(self, task_identifier: IdentifierLike, task_spec: Any) -> None:
        """Register a task version. Registering an identical task again raises FlyteEntityAlreadyExistsException.

        Args:
            task_identifier: The task id; an unset ``resource_type`` is filled in as TASK.
            task_spec: A ``flyteidl.admin.TaskSpec`` (or a model converting to one).
        """
        self._run(_calls.create_task(task_identifier, task_spec))

    def list_task_ids_paginated(
        self,
        project: str,
        domain: str,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        sort_by: SortLike = None,
    ) -> Page[common_pb2.NamedEntityIdentifier]:
        """One page of task names (project, domain, name) in a project and domain."""
        return self._run(_calls.list_task_ids_paginated(project, domain, limit, token, sort_by))

    def list_tasks_paginated(
        self,
        identifier: NamedEntityIdentifierLike,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[task_pb2.Task]:
        """One page of task versions of ``identifier`` (every task of the project/domain when its name is empty).

        Args:
            identifier: A named entity id (project, domain, optional name).
            limit: Page size, at least 1.
            token: The token of the page to read (``None`` or ``""`` for the first).
            filters: Admin filters (see :mod:`~airflow_provider_flyte.clients.filters`).
            sort_by: Sort order; unsorted when ``None``.

        Returns:
            ``(tasks, next_token)``, ``next_token`` being ``""`` after the last page.
        """
        return self._run(_calls.list_tasks_paginated(identifier, limit, token, filters, sort_by))

    def get_task(self, id: IdentifierLike) -> task_pb2.Task:
        """The task ``id``; versioned ids are served from the client's cache after the first call."""
        return self._run(_calls.get_task(id))

    # ------------------------------------------------------------------------------------------------ workflows

    def create_workflow(self, workflow_identifier: IdentifierLike, workflow_spec: Any) -> None:
        """Register a workflow version (Admin compiles it against the registered tasks).

        Args:
            workflow_identifier: The workflow id; an unset ``resource_type`` is filled in as WORKFLOW.
            workflow_spec: A ``flyteidl.admin.WorkflowSpec``.
        """
        self._run(_calls.create_workflow(workflow_identifier, workflow_spec))

    def list_workflow_ids_paginated(
        self,
        project: str,
        domain: str,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        sort_by: SortLike = None,
    ) -> Page[common_pb2.NamedEntityIdentifier]:
        """One page of workflow names in a project and domain."""
        return self._run(_calls.list_workflow_ids_paginated(project, domain, limit, token, sort_by))

    def list_workflows_paginated(
        self,
        identifier: NamedEntityIdentifierLike,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[workflow_pb2.Workflow]:
        """One page of workflow versions (Admin returns only each closure's interface in lists)."""
        return self._run(_calls.list_workflows_paginated(identifier, limit, token, filters, sort_by))

    def get_workflow(self, id: IdentifierLike) -> workflow_pb2.Workflow:
        """The workflow ``id`` with its compiled closure; versioned ids are cached."""
        return self._run(_calls.get_workflow(id))

    # ------------------------------------------------------------------------------------------------ launch plans

    def create_launch_plan(self, launch_plan_identifier: IdentifierLike, launch_plan_spec: Any) -> None:
        """Register a launch plan version (stored INACTIVE).

        Args:
            launch_plan_identifier: The launch plan id; an unset ``resource_type`` is filled in as LAUNCH_PLAN.
            launch_plan_spec: A ``flyteidl.admin.LaunchPlanSpec``.
        """
        self._run(_calls.create_launch_plan(launch_plan_identifier, launch_plan_spec))

    def get_launch_plan(self, id: IdentifierLike) -> launch_plan_pb2.LaunchPlan:
        """The launch plan ``id``; versioned ids are cached (activation through this client refreshes them)."""
        return self._run(_calls.get_launch_plan(id))

    def get_active_launch_plan(self, identifier: NamedEntityIdentifierLike) -> launch_plan_pb2.LaunchPlan:
        """The ACTIVE version of a named launch plan (never cached)."""
        return self._run(_calls.get_active_launch_plan(identifier))

    def list_launch_plan_ids_paginated(
        self,
        project: str,
        domain: str,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        sort_by: SortLike = None,
    ) -> Page[common_pb2.NamedEntityIdentifier]:
        """One page of launch plan names in a project and domain."""
        return self._run(_calls.list_launch_plan_ids_paginated(project, domain, limit, token, sort_by))

    def list_launch_plans_paginated(
        self,
        identifier: NamedEntityIdentifierLike,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[launch_plan_pb2.LaunchPlan]:
        """One page of launch plan versions."""
        return self._run(_calls.list_launch_plans_paginated(identifier, limit, token, filters, sort_by))

    def list_active_launch_plans_paginated(
        self,
        project: str,
        domain: str,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        sort_by: SortLike = None,
    ) -> Page[launch_plan_pb2.LaunchPlan]:
        """One page of the ACTIVE launch plans of a project and domain."""
        return self._run(_calls.list_active_launch_plans_paginated(project, domain, limit, token, sort_by))

    def update_launch_plan(self, id: IdentifierLike, state: int | str) -> None:
        """Set a launch plan version ACTIVE (deactivating the previously active one) or INACTIVE.

        Args:
            id: The launch plan version.
            state: ``launch_plan_pb2.ACTIVE`` / ``INACTIVE`` or their names.
        """
        self._run(_calls.update_launch_plan(id, state))

    # ------------------------------------------------------------------------------------------------ named entities

    def update_named_entity(self, resource_type: int, id: NamedEntityIdentifierLike, metadata: Any) -> None:
        """Set the description and state shared by every version of a task, workflow or launch plan.

        Args:
            resource_type: ``ResourceType`` number or name (``"WORKFLOW"``).
            id: The named entity.
            metadata: A ``flyteidl.admin.NamedEntityMetadata``.
        """
        self._run(_calls.update_named_entity(resource_type, id, metadata))

    def get_named_entity(self, resource_type: int, id: NamedEntityIdentifierLike) -> common_pb2.NamedEntity:
        """A named entity with its metadata."""
        return self._run(_calls.get_named_entity(resource_type, id))

    def list_named_entities_paginated(
        self,
        resource_type: int,
        project: str,
        domain: str,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[common_pb2.NamedEntity]:
        """One page of the named entities of one resource type in a project and domain."""
        return self._run(
            _calls.list_named_entities_paginated(resource_type, project, domain, limit, token, filters, sort_by)
        )

    # ------------------------------------------------------------------------------------------------ descriptions

    def get_description_entity(self, id: IdentifierLike) -> description_entity_pb2.DescriptionEntity:
        """The descriptions (short, long, source link) registered with a task or workflow version.

        Args:
            id: The task or workflow version; it must say which (``"tsk:p:d:n:v"``, ``"wf:p:d:n:v"`` or a
                ``resource_type`` of TASK or WORKFLOW).
        """
        return self._run(_calls.get_description_entity(id))

    def list_description_entities_paginated(
        self,
        resource_type: int,
        identifier: NamedEntityIdentifierLike,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[description_entity_pb2.DescriptionEntity]:
        """One page of the descriptions of every version of a task or workflow.

        Args:
            resource_type: ``ResourceType`` number or name (``"TASK"``, ``"WORKFLOW"``).
            identifier: The task or workflow name (project, domain and name are required).
            limit: Page size, at least 1.
            token: The token of the page to read.
            filters: Admin filters.
            sort_by: Sort order; unsorted when ``None``.
        """
        return self._run(
            _calls.list_description_entities_paginated(resource_type, identifier, limit, token, filters, sort_by)
        )

    # ------------------------------------------------------------------------------------------------ projects

    def register_project(self, project: Any) -> None:
        """Register a ``flyteidl.admin.Project`` (its ``id`` and ``name`` are required by Admin)."""
        self._run(_calls.register_project(project))

    def update_project(self, project: Any) -> None:
        """Update a registered project's name, description, labels or state."""
        self._run(_calls.update_project(project))

    def get_project(self, id: str) -> project_pb2.Project:
        """The project ``id``, with the deployment's domains."""
        return self._run(_calls.get_project(id))

    def list_projects_paginated(
        self,
        limit: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        filters: FilterSpec = None,
        sort_by: SortLike = None,
    ) -> Page[project_pb2.Project]:
        """One page of projects (archived ones are hidden unless a filter is given)."""
        return self._run(_calls.list_projects_paginated(limit, token, filters, sort_by))

    def get_domains(self) -> list[project_pb2.Domain]:
        """The deployment's domains, in configuration order."""
        return self._run(_calls.get_domains())

    # ------------------------------------------------------------------------------------------------ attributes

    def update_project_domain_attributes(self, project: str, domain: str, matching_attributes: Any) -> None:
        """Set matchable attributes (a ``flyteidl.admin.MatchingAttributes``) for a project and domain."""
        self._run(_calls.update_project_domain_attributes(project, domain, matching_attributes))

    def update_workflow_attributes(self, project: str, domain: str, workflow: str, matching_attributes: Any) -> None:
        """Set matchable attributes for one workflow of a project and domain."""
        self._run(_calls.update_workflow_attributes(project, domain, workflow, matching_attributes))

    def update_project_attributes(self, project: str, matching_attributes: Any) -> None:
        """Set matchable attributes for every domain of a project."""
        self._run(_calls.update_project_attributes(project, matching_attributes))

    def get_project_domain_attributes(
        self, project: str, domain: str, resource_type: int
    ) -> project_domain_attributes_pb2.ProjectDomainAttributesGetResponse:
        """The most specific attributes of ``resource_type`` (a ``MatchableResource``) for a project and domain."""
        return self._run(_calls.get_project_domain_attributes(project, domain, resource_type))

    def get_workflow_attributes(
        self, project: str, domain: str, workflow: str, resource_type: int
    ) -> workflow_attributes_pb2.WorkflowAttributesGetResponse:
        """The most specific attributes of ``resource_type`` for a workflow."""
        return self._run(_calls.get_workflow_attributes(project, domain, workflow, resource_type))

    def get_project_attributes(
        self, project: str, resource_type: int
    ) -> project_attributes_pb2.ProjectAttributesGetResponse:
        """The project-level attributes of ``resource_type``."""
        return self._run(_calls.get_project_attributes(project, resource_type))

    def delete_project_domain_attributes(self, project: str, domain: str, resource_type: int) -> None:
        """Remove the project-and-domain level attributes of ``resource_type`` (a ``MatchableResource``)."""
        self._run(_calls.delete_project_domain_attributes(project, domain, resource_type))

    def delete_workflow_attributes(self, project: str, domain: str, workflow: str, resource_type: int) -> None:
        """Remove the workflow level attributes of ``resource_type``."""
        self._run(_calls.delete_workflow_attributes(project, domain, workflow, resource_type))

    def delete_project_attributes(self, project: str, resource_type: int) -> None:
        """Remove the project level attributes of ``resource_type``."""
        self._run(_calls.delete_project_attributes(project, resource_type))

    def list_matchable_attributes(self, resource_type: int) -> matchable_resource_pb2.ListMatchableAttributesResponse:
        """Every configuration of ``resource_type`` at every level, most specific first."""
        return self._run(_calls.list_matchable_attributes(resource_type))

    # ------------------------------------------------------------------------------------------------ version

    def get_control_plane_version(self) -> str:
        """Flyte Admin's version string."""
        return self._run(_calls.get_control_plane_version())

    def get_version(self) -> version_pb2.GetVersionResponse:
        """Flyte Admin's full version response (version, build, build time)."""
        return self._run(_calls.get_version())
