"""Matchable attributes at project, project-domain and workflow level, and the execution config they give.

Each level is a row of ``resources`` with a priority (project 5, project-domain 10, workflow 100); a read returns
the most specific row that matches.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from flyteidl.admin import (
    matchable_resource_pb2,
    project_attributes_pb2,
    project_domain_attributes_pb2,
    project_pb2,
    workflow_attributes_pb2,
)

from flyte_admin_sandbox.common import PROJECT_ACTIVE, require
from flyte_admin_sandbox.errors import invalid, missing_argument, not_found, prototext
from flyte_admin_sandbox.filters import format_timestamp
from flyte_admin_sandbox.registry_base import RegistryBase
from flyte_admin_sandbox.store import now

_PRIORITY = {"project": 5, "project_domain": 10, "workflow": 100, "launch_plan": 1000}


class MatchableAttributes(RegistryBase):
    """Flyte Admin's resource manager (matchable attributes)."""

    @staticmethod
    def _resource_type_of(attributes: matchable_resource_pb2.MatchingAttributes) -> int:
        kind = attributes.WhichOneof("target")
        types = {
            "task_resource_attributes": matchable_resource_pb2.TASK_RESOURCE,
            "cluster_resource_attributes": matchable_resource_pb2.CLUSTER_RESOURCE,
            "execution_queue_attributes": matchable_resource_pb2.EXECUTION_QUEUE,
            "execution_cluster_label": matchable_resource_pb2.EXECUTION_CLUSTER_LABEL,
            "plugin_overrides": matchable_resource_pb2.PLUGIN_OVERRIDE,
            "workflow_execution_config": matchable_resource_pb2.WORKFLOW_EXECUTION_CONFIG,
            "cluster_assignment": matchable_resource_pb2.CLUSTER_ASSIGNMENT,
        }
        if kind not in types:
            raise invalid(f"Unrecognized matching attributes type for request {prototext(attributes)}")
        return types[kind]

    def _check_project_for_update(self, project: str) -> None:
        row = self.store.one("SELECT state FROM projects WHERE identifier = ?", (project,))
        if row is None:
            raise invalid(
                f"failed to validate that project [{project}] is registered, err: [project [{project}] not found]"
            )
        if row["state"] != PROJECT_ACTIVE:
            raise invalid(f"project [{project}] is not active", project_pb2.InactiveProject(id=project))

    def _upsert_attributes(
        self,
        project: str,
        domain: str,
        workflow: str,
        attributes: matchable_resource_pb2.MatchingAttributes,
        level: str,
    ) -> None:
        resource_type = self._resource_type_of(attributes)
        stamp = format_timestamp(now())
        self.store.execute(
            "INSERT INTO resources (created_at, updated_at, project, domain, workflow, launch_plan, resource_type, "
            "priority, attributes) VALUES (?, ?, ?, ?, ?, '', ?, ?, ?) ON CONFLICT (project, domain, workflow, "
            "launch_plan, resource_type) DO UPDATE SET attributes = excluded.attributes, "
            "updated_at = excluded.updated_at",
            (stamp, stamp, project, domain, workflow, resource_type, _PRIORITY[level], attributes.SerializeToString()),
        )
        self.settings_changed()

    def _most_specific(self, project: str, domain: str, workflow: str, resource_type: int) -> sqlite3.Row:
        row = self.store.one(
            "SELECT * FROM resources WHERE project IN ('', ?) AND domain IN ('', ?) AND workflow IN ('', ?) "
            "AND launch_plan = '' AND resource_type = ? ORDER BY priority DESC",
            (project, domain, workflow, resource_type),
        )
        if row is None:
            name = matchable_resource_pb2.MatchableResource.Name(resource_type)
            raise not_found(
                f"Resource [{{Project:{project} Domain:{domain} Workflow:{workflow} LaunchPlan: ResourceType:{name}}}] "
                "not found"
            )
        return row

    def _require_attributes(self, request: Any) -> matchable_resource_pb2.MatchingAttributes:
        if not request.HasField("attributes"):
            raise missing_argument("attributes")
        if not request.attributes.HasField("matching_attributes"):
            raise missing_argument("matching_attributes")
        return request.attributes.matching_attributes  # type: ignore[no-any-return]

    def UpdateProjectDomainAttributes(
        self, request: project_domain_attributes_pb2.ProjectDomainAttributesUpdateRequest
    ) -> project_domain_attributes_pb2.ProjectDomainAttributesUpdateResponse:
        """Upsert project-domain level attributes (priority 10)."""
        matching = self._require_attributes(request)
        self.check_project_domain(request.attributes.project, request.attributes.domain)
        self._upsert_attributes(request.attributes.project, request.attributes.domain, "", matching, "project_domain")
        return project_domain_attributes_pb2.ProjectDomainAttributesUpdateResponse()

    def GetProjectDomainAttributes(
        self, request: project_domain_attributes_pb2.ProjectDomainAttributesGetRequest
    ) -> project_domain_attributes_pb2.ProjectDomainAttributesGetResponse:
        """The most specific attributes for a project-domain (possibly the project-level row)."""
        self.check_project_domain(request.project, request.domain)
        row = self._most_specific(request.project, request.domain, "", request.resource_type)
        return project_domain_attributes_pb2.ProjectDomainAttributesGetResponse(
            attributes=project_domain_attributes_pb2.ProjectDomainAttributes(
                project=request.project,
                domain=request.domain,
                matching_attributes=matchable_resource_pb2.MatchingAttributes.FromString(row["attributes"]),
            )
        )

    def DeleteProjectDomainAttributes(
        self, request: project_domain_attributes_pb2.ProjectDomainAttributesDeleteRequest
    ) -> project_domain_attributes_pb2.ProjectDomainAttributesDeleteResponse:
        """Delete the project-domain level row."""
        self.check_project_domain(request.project, request.domain)
        self._delete_attributes(request.project, request.domain, "", request.resource_type)
        return project_domain_attributes_pb2.ProjectDomainAttributesDeleteResponse()

    def _delete_attributes(self, project: str, domain: str, workflow: str, resource_type: int) -> None:
        self.store.execute(
            "DELETE FROM resources WHERE project = ? AND domain = ? AND workflow = ? AND launch_plan = '' "
            "AND resource_type = ?",
            (project, domain, workflow, resource_type),
        )
        self.settings_changed()

    def UpdateProjectAttributes(
        self, request: project_attributes_pb2.ProjectAttributesUpdateRequest
    ) -> project_attributes_pb2.ProjectAttributesUpdateResponse:
        """Upsert project level attributes (priority 5); the project must be active."""
        matching = self._require_attributes(request)
        self._check_project_for_update(request.attributes.project)
        self._upsert_attributes(request.attributes.project, "", "", matching, "project")
        return project_attributes_pb2.ProjectAttributesUpdateResponse()

    def GetProjectAttributes(
        self, request: project_attributes_pb2.ProjectAttributesGetRequest
    ) -> project_attributes_pb2.ProjectAttributesGetResponse:
        """The project level row (WORKFLOW_EXECUTION_CONFIG falls back to the defaults)."""
        if self.store.one("SELECT id FROM projects WHERE identifier = ?", (request.project,)) is None:
            raise not_found(f"project [{request.project}] not found")
        row = self.store.one(
            "SELECT * FROM resources WHERE project = ? AND domain = '' AND workflow = '' AND launch_plan = '' "
            "AND resource_type = ?",
            (request.project, request.resource_type),
        )
        if row is None:
            if request.resource_type != matchable_resource_pb2.WORKFLOW_EXECUTION_CONFIG:
                name = matchable_resource_pb2.MatchableResource.Name(request.resource_type)
                raise not_found(
                    f"Resource [{{Project:{request.project} Domain: Workflow: LaunchPlan: ResourceType:{name}}}] "
                    "not found"
                )
            matching = matchable_resource_pb2.MatchingAttributes(
                workflow_execution_config=matchable_resource_pb2.WorkflowExecutionConfig(max_parallelism=25)
            )
        else:
            matching = matchable_resource_pb2.MatchingAttributes.FromString(row["attributes"])
        return project_attributes_pb2.ProjectAttributesGetResponse(
            attributes=project_attributes_pb2.ProjectAttributes(project=request.project, matching_attributes=matching)
        )

    def DeleteProjectAttributes(
        self, request: project_attributes_pb2.ProjectAttributesDeleteRequest
    ) -> project_attributes_pb2.ProjectAttributesDeleteResponse:
        """Delete the project level row."""
        self._check_project_for_update(request.project)
        self._delete_attributes(request.project, "", "", request.resource_type)
        return project_attributes_pb2.ProjectAttributesDeleteResponse()

    def UpdateWorkflowAttributes(
        self, request: workflow_attributes_pb2.WorkflowAttributesUpdateRequest
    ) -> workflow_attributes_pb2.WorkflowAttributesUpdateResponse:
        """Upsert workflow level attributes (priority 100)."""
        matching = self._require_attributes(request)
        attributes = request.attributes
        self.check_project_domain(attributes.project, attributes.domain)
        require(attributes.workflow, "name")
        self._upsert_attributes(attributes.project, attributes.domain, attributes.workflow, matching, "workflow")
        return workflow_attributes_pb2.WorkflowAttributesUpdateResponse()

    def GetWorkflowAttributes(
        self, request: workflow_attributes_pb2.WorkflowAttributesGetRequest
    ) -> workflow_attributes_pb2.WorkflowAttributesGetResponse:
        """The most specific attributes for a workflow."""
        self.check_project_domain(request.project, request.domain)
        require(request.workflow, "name")
        row = self._most_specific(request.project, request.domain, request.workflow, request.resource_type)
        return workflow_attributes_pb2.WorkflowAttributesGetResponse(
            attributes=workflow_attributes_pb2.WorkflowAttributes(
                project=request.project,
                domain=request.domain,
                workflow=request.workflow,
                matching_attributes=matchable_resource_pb2.MatchingAttributes.FromString(row["attributes"]),
            )
        )

    def DeleteWorkflowAttributes(
        self, request: workflow_attributes_pb2.WorkflowAttributesDeleteRequest
    ) -> workflow_attributes_pb2.WorkflowAttributesDeleteResponse:
        """Delete the workflow level row."""
        self.check_project_domain(request.project, request.domain)
        require(request.workflow, "name")
        self._delete_attributes(request.project, request.domain, request.workflow, request.resource_type)
        return workflow_attributes_pb2.WorkflowAttributesDeleteResponse()

    def ListMatchableAttributes(
        self, request: matchable_resource_pb2.ListMatchableAttributesRequest
    ) -> matchable_resource_pb2.ListMatchableAttributesResponse:
        """Every attributes row of one resource type, most specific first."""
        rows = self.store.all(
            "SELECT * FROM resources WHERE resource_type = ? ORDER BY priority DESC, id ASC", (request.resource_type,)
        )
        return matchable_resource_pb2.ListMatchableAttributesResponse(
            configurations=[
                matchable_resource_pb2.MatchableAttributesConfiguration(
                    attributes=matchable_resource_pb2.MatchingAttributes.FromString(row["attributes"]),
                    project=row["project"],
                    domain=row["domain"],
                    workflow=row["workflow"],
                    launch_plan=row["launch_plan"],
                )
                for row in rows
            ]
        )

    def execution_config(
        self, project: str, domain: str, workflow: str
    ) -> matchable_resource_pb2.WorkflowExecutionConfig:
        """The most specific WORKFLOW_EXECUTION_CONFIG for a launch, or an empty config (shared: do not modify)."""
        key = (project, domain, workflow)
        return self._cached(self._configs, key, lambda: self._read_config(*key))

    def _read_config(self, project: str, domain: str, workflow: str) -> matchable_resource_pb2.WorkflowExecutionConfig:
        row = self.store.one(
            "SELECT attributes FROM resources WHERE project IN ('', ?) AND domain IN ('', ?) AND workflow IN ('', ?) "
            "AND launch_plan = '' AND resource_type = ? ORDER BY priority DESC",
            (project, domain, workflow, matchable_resource_pb2.WORKFLOW_EXECUTION_CONFIG),
        )
        if row is None:
            return matchable_resource_pb2.WorkflowExecutionConfig()
        return matchable_resource_pb2.MatchingAttributes.FromString(row["attributes"]).workflow_execution_config
