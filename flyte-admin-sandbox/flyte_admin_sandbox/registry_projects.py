"""Projects and domains: RegisterProject, UpdateProject, GetProject, ListProjects, GetDomains.

Domains are system-wide (the sandbox's configured ones); every project lists them all.
"""

from __future__ import annotations

import re
import sqlite3

from flyteidl.admin import project_pb2

from flyte_admin_sandbox.common import require
from flyte_admin_sandbox.errors import duplicate_key, invalid, missing_argument, not_found
from flyte_admin_sandbox.filters import PROJECT, Query, next_token, offset_from_token
from flyte_admin_sandbox.registry_base import RegistryBase, validate_labels

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end "
    "with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


class Projects(RegistryBase):
    """Flyte Admin's project manager."""

    def _project_proto(self, row: sqlite3.Row) -> project_pb2.Project:
        project = project_pb2.Project.FromString(row["body"])
        del project.domains[:]
        project.domains.extend(project_pb2.Domain(id=domain, name=domain) for domain in self.domains)
        return project

    def _validate_project_fields(self, project: project_pb2.Project, name_required: bool) -> None:
        if not project.id:
            raise missing_argument("project_id")
        if name_required and not project.name:
            raise missing_argument("project_name")
        validate_labels(project.labels.values)
        problems = []
        if len(project.id) > 63:
            problems.append("must be no more than 63 characters")
        if not _DNS_LABEL.fullmatch(project.id):
            problems.append(_DNS_LABEL_MESSAGE)
        if problems:
            raise invalid(f"invalid project id [{project.id}]: [{' '.join(problems)}]")
        if len(project.name) > 64:
            raise invalid("project_name cannot exceed 64 characters")
        if len(project.description) > 300:
            raise invalid("project_description cannot exceed 300 characters")

    def RegisterProject(self, request: project_pb2.ProjectRegisterRequest) -> project_pb2.ProjectRegisterResponse:
        """Register a project (its id must be a DNS-1123 label; domains are system-wide)."""
        if not request.HasField("project"):
            raise missing_argument("project")
        project = request.project
        if not project.name:
            raise missing_argument("project_name")
        self._validate_project_fields(project, name_required=True)
        if project.domains:
            raise invalid(
                "Domains are currently only set system wide. Please retry without domains included in your request."
            )
        try:
            self.store.insert(
                "projects",
                {
                    "identifier": project.id,
                    "name": project.name,
                    "description": project.description,
                    "labels": project.labels.SerializeToString(),
                    "state": project.state,
                    "body": project.SerializeToString(),
                },
            )
        except sqlite3.IntegrityError:
            raise duplicate_key("projects_pkey") from None
        self.settings_changed()
        return project_pb2.ProjectRegisterResponse()

    def UpdateProject(self, request: project_pb2.Project) -> project_pb2.ProjectUpdateResponse:
        """Update a project's non-empty fields and its state (archive with ``state=ARCHIVED``)."""
        require(request.id, "project_id")
        with self.store.transaction():
            row = self.store.one("SELECT * FROM projects WHERE identifier = ?", (request.id,))
            if row is None:
                raise not_found(f"project [{request.id}] not found")
            self._validate_project_fields(request, name_required=False)
            stored = project_pb2.Project.FromString(row["body"])
            if request.name:
                stored.name = request.name
            if request.description:
                stored.description = request.description
            if request.labels.values:
                stored.labels.CopyFrom(request.labels)
            stored.state = request.state
            self.store.update(
                "projects",
                row["id"],
                {
                    "name": stored.name,
                    "description": stored.description,
                    "labels": stored.labels.SerializeToString(),
                    "state": stored.state,
                    "body": stored.SerializeToString(),
                },
            )
            self.settings_changed()
        return project_pb2.ProjectUpdateResponse()

    def GetProject(self, request: project_pb2.ProjectGetRequest) -> project_pb2.Project:
        """One project, with every configured domain."""
        require(request.id, "project_id")
        row = self.store.one("SELECT * FROM projects WHERE identifier = ?", (request.id,))
        if row is None:
            raise not_found(f"project [{request.id}] not found")
        return self._project_proto(row)

    def ListProjects(self, request: project_pb2.ProjectListRequest) -> project_pb2.Projects:
        """Projects sorted by id; archived ones are hidden unless a filter is given."""
        offset = offset_from_token(request.token, "ListProjects")
        query = Query(PROJECT)
        if request.filters:
            query.apply_filters(request.filters)
        else:
            query.condition("projects.state <> 1")
        if request.HasField("sort_by") and request.sort_by.key:
            query.sort(request.sort_by.key, request.sort_by.direction)
        else:
            query.order_by = "projects.identifier ASC"
        limit = request.limit if request.limit > 0 else -1
        rows = self.store.page(query, limit, offset)
        projects = [self._project_proto(row) for row in rows]
        token = next_token(offset, len(rows), request.limit) if request.limit > 0 else ""
        if request.limit == 0 and not rows:
            token = "0"
        return project_pb2.Projects(projects=projects, token=token)

    def GetDomains(self, request: project_pb2.GetDomainRequest) -> project_pb2.GetDomainsResponse:
        """The configured domains, in configuration order."""
        return project_pb2.GetDomainsResponse(
            domains=[project_pb2.Domain(id=domain, name=domain) for domain in self.domains]
        )
