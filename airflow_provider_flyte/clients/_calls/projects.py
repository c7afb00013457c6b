"""Builders for projects, domains, matchable attributes and the control plane version."""

from __future__ import annotations

from typing import Any

from flyteidl.admin import (
    matchable_resource_pb2,
    project_attributes_pb2,
    project_domain_attributes_pb2,
    project_pb2,
    version_pb2,
    workflow_attributes_pb2,
)

from airflow_provider_flyte.clients._calls.checks import (
    SortLike,
    _enum,
    _filters,
    _limit,
    _message,
    _require_fields,
    _text,
    _token,
    to_sort,
)
from airflow_provider_flyte.clients._calls.core import ADMIN, Call, _nothing, _same
from airflow_provider_flyte.clients._calls.pagination import Page, _page
from airflow_provider_flyte.clients.filters import FilterSpec

# ---------------------------------------------------------------------------------------------------- projects, domains


def register_project(project: Any) -> Call[None]:
    """``RegisterProject``."""
    pb = _message(project, project_pb2.Project, "project")
    _require_fields(pb, ("id",), "project")
    return Call(ADMIN, "RegisterProject", project_pb2.ProjectRegisterRequest(project=pb), _nothing)


def update_project(project: Any) -> Call[None]:
    """``UpdateProject`` (the RPC takes the project itself)."""
    pb = _message(project, project_pb2.Project, "project")
    _require_fields(pb, ("id",), "project")
    return Call(ADMIN, "UpdateProject", pb, _nothing)


def get_project(id: str) -> Call[project_pb2.Project]:
    """``GetProject``."""
    return Call(ADMIN, "GetProject", project_pb2.ProjectGetRequest(id=_text(id, "id")), _same)


def list_projects_paginated(
    limit: int, token: str | None, filters: FilterSpec, sort_by: SortLike
) -> Call[Page[project_pb2.Project]]:
    """``ListProjects``."""
    request = project_pb2.ProjectListRequest(
        limit=_limit(limit), token=_token(token), filters=_filters(filters), sort_by=to_sort(sort_by)
    )
    return Call(ADMIN, "ListProjects", request, _page("projects"))


def _domains(response: Any) -> list[project_pb2.Domain]:
    return list(response.domains)


def get_domains() -> Call[list[project_pb2.Domain]]:
    """``GetDomains``, returning the list of domains as flytekit does."""
    return Call(ADMIN, "GetDomains", project_pb2.GetDomainRequest(), _domains)


# ---------------------------------------------------------------------------------------------------- attributes


def _matchable_resource(value: Any) -> int:
    return _enum(value, "resource_type", matchable_resource_pb2.MatchableResource)


def update_project_domain_attributes(project: str, domain: str, matching_attributes: Any) -> Call[None]:
    """``UpdateProjectDomainAttributes``."""
    attributes = project_domain_attributes_pb2.ProjectDomainAttributes(
        project=_text(project, "project"),
        domain=_text(domain, "domain"),
        matching_attributes=_message(
            matching_attributes, matchable_resource_pb2.MatchingAttributes, "matching_attributes"
        ),
    )
    request = project_domain_attributes_pb2.ProjectDomainAttributesUpdateRequest(attributes=attributes)
    return Call(ADMIN, "UpdateProjectDomainAttributes", request, _nothing)


def get_project_domain_attributes(
    project: str, domain: str, resource_type: int
) -> Call[project_domain_attributes_pb2.ProjectDomainAttributesGetResponse]:
    """``GetProjectDomainAttributes``."""
    request = project_domain_attributes_pb2.ProjectDomainAttributesGetRequest(
        project=_text(project, "project"),
        domain=_text(domain, "domain"),
        resource_type=_matchable_resource(resource_type),  # type: ignore[arg-type]
    )
    return Call(ADMIN, "GetProjectDomainAttributes", request, _same)


def update_workflow_attributes(project: str, domain: str, workflow: str, matching_attributes: Any) -> Call[None]:
    """``UpdateWorkflowAttributes``."""
    attributes = workflow_attributes_pb2.WorkflowAttributes(
        project=_text(project, "project"),
        domain=_text(domain, "domain"),
        workflow=_text(workflow, "workflow"),
        matching_attributes=_message(
            matching_attributes, matchable_resource_pb2.MatchingAttributes, "matching_attributes"
        ),
    )
    request = workflow_attributes_pb2.WorkflowAttributesUpdateRequest(attributes=attributes)
    return Call(ADMIN, "UpdateWorkflowAttributes", request, _nothing)


def get_workflow_attributes(
    project: str, domain: str, workflow: str, resource_type: int
) -> Call[workflow_attributes_pb2.WorkflowAttributesGetResponse]:
    """``GetWorkflowAttributes``."""
    request = workflow_attributes_pb2.WorkflowAttributesGetRequest(
        project=_text(project, "project"),
        domain=_text(domain, "domain"),
        workflow=_text(workflow, "workflow"),
        resource_type=_matchable_resource(resource_type),  # type: ignore[arg-type]
    )
    return Call(ADMIN, "GetWorkflowAttributes", request, _same)


def update_project_attributes(project: str, matching_attributes: Any) -> Call[None]:
    """``UpdateProjectAttributes``."""
    attributes = project_attributes_pb2.ProjectAttributes(
        project=_text(project, "project"),
        matching_attributes=_message(
            matching_attributes, matchable_resource_pb2.MatchingAttributes, "matching_attributes"
        ),
    )
    request = project_attributes_pb2.ProjectAttributesUpdateRequest(attributes=attributes)
    return Call(ADMIN, "UpdateProjectAttributes", request, _nothing)


def get_project_attributes(
    project: str, resource_type: int
) -> Call[project_attributes_pb2.ProjectAttributesGetResponse]:
    """``GetProjectAttributes``."""
    request = project_attributes_pb2.ProjectAttributesGetRequest(
        project=_text(project, "project"),
        resource_type=_matchable_resource(resource_type),  # type: ignore[arg-type]
    )
    return Call(ADMIN, "GetProjectAttributes", request, _same)


def delete_project_domain_attributes(project: str, domain: str, resource_type: int) -> Call[None]:
    """``DeleteProjectDomainAttributes``."""
    request = project_domain_attributes_pb2.ProjectDomainAttributesDeleteRequest(
        project=_text(project, "project"),
        domain=_text(domain, "domain"),
        resource_type=_matchable_resource(resource_type),  # type: ignore[arg-type]
    )
    return Call(ADMIN, "DeleteProjectDomainAttributes", request, _nothing)


def delete_workflow_attributes(project: str, domain: str, workflow: str, resource_type: int) -> Call[None]:
    """``DeleteWorkflowAttributes``."""
    request = workflow_attributes_pb2.WorkflowAttributesDeleteRequest(
        project=_text(project, "project"),
        domain=_text(domain, "domain"),
        workflow=_text(workflow, "workflow"),
        resource_type=_matchable_resource(resource_type),  # type: ignore[arg-type]
    )
    return Call(ADMIN, "DeleteWorkflowAttributes", request, _nothing)


def delete_project_attributes(project: str, resource_type: int) -> Call[None]:
    """``DeleteProjectAttributes``."""
    request = project_attributes_pb2.ProjectAttributesDeleteRequest(
        project=_text(project, "project"),
        resource_type=_matchable_resource(resource_type),  # type: ignore[arg-type]
    )
    return Call(ADMIN, "DeleteProjectAttributes", request, _nothing)


def list_matchable_attributes(resource_type: int) -> Call[matchable_resource_pb2.ListMatchableAttributesResponse]:
    """``ListMatchableAttributes``."""
    request = matchable_resource_pb2.ListMatchableAttributesRequest(
        resource_type=_matchable_resource(resource_type),  # type: ignore[arg-type]
    )
    return Call(ADMIN, "ListMatchableAttributes", request, _same)


# ---------------------------------------------------------------------------------------------------- version


def _version(response: Any) -> str:
    return str(response.control_plane_version.Version)


def get_control_plane_version() -> Call[str]:
    """``GetVersion``, returning the version string."""
    return Call(ADMIN, "GetVersion", version_pb2.GetVersionRequest(), _version)


def get_version() -> Call[version_pb2.GetVersionResponse]:
    """``GetVersion``, returning the whole response."""
    return Call(ADMIN, "GetVersion", version_pb2.GetVersionRequest(), _same)
