"""The small services: ``ProjectService``, the auth services (answering "no auth") and ``ClusterService``."""

from __future__ import annotations

from collections.abc import Callable

from flyteidl2.auth import auth_service_pb2, identity_pb2
from flyteidl2.cluster import payload_pb2
from flyteidl2.project import project_service_pb2

from flyte_admin_sandbox.v2.backend import Backend
from flyte_admin_sandbox.v2.errors import already_exists, missing, not_found


class ProjectService:
    """Projects and their domains (``flytesnacks`` is seeded).

    Args:
        backend: The shared state.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def CreateProject(
        self, request: project_service_pb2.CreateProjectRequest
    ) -> project_service_pb2.CreateProjectResponse:
        """Create a project (with the sandbox's domains when none are given).

        Raises:
            ServiceError: ``INVALID_ARGUMENT`` without an id, ``ALREADY_EXISTS`` for a known id.
        """
        project = project_service_pb2.Project()
        project.CopyFrom(request.project)
        if not project.id:
            raise missing("project.id")
        if not project.domains:
            seeded = self.backend.project("flytesnacks")
            project.domains.extend(seeded.domains if seeded else [])
        if not self.backend.store.put_project(project.id, project.SerializeToString()):
            raise already_exists("project", project.id)
        return project_service_pb2.CreateProjectResponse()

    def UpdateProject(
        self, request: project_service_pb2.UpdateProjectRequest
    ) -> project_service_pb2.UpdateProjectResponse:
        """Replace a project's name, description, labels and state.

        Raises:
            ServiceError: ``NOT_FOUND`` for an unknown project.
        """
        if self.backend.project(request.project.id) is None:
            raise not_found("project", request.project.id)
        self.backend.store.replace_project(request.project.id, request.project.SerializeToString())
        return project_service_pb2.UpdateProjectResponse()

    def GetProject(self, request: project_service_pb2.GetProjectRequest) -> project_service_pb2.GetProjectResponse:
        """A project by id.

        Raises:
            ServiceError: ``NOT_FOUND`` for an unknown project.
        """
        project = self.backend.project(request.id)
        if project is None:
            raise not_found("project", request.id)
        return project_service_pb2.GetProjectResponse(project=project)

    def ListProjects(
        self, request: project_service_pb2.ListProjectsRequest
    ) -> project_service_pb2.ListProjectsResponse:
        """Every project."""
        projects = [project_service_pb2.Project.FromString(data) for data in self.backend.store.projects()]
        return project_service_pb2.ListProjectsResponse(projects=project_service_pb2.Projects(projects=projects))


class AuthMetadataService:
    """OAuth2 metadata of a server without auth: nothing to log in to, tokens are never checked.

    Args:
        base_url: ``http://host:port`` of the HTTP side.
    """

    def __init__(self, base_url: Callable[[], str]) -> None:
        self.base_url = base_url

    def GetOAuth2Metadata(
        self, request: auth_service_pb2.GetOAuth2MetadataRequest
    ) -> auth_service_pb2.GetOAuth2MetadataResponse:
        """Metadata naming the sandbox as issuer (its endpoints are not served: there is no auth)."""
        base = self.base_url()
        return auth_service_pb2.GetOAuth2MetadataResponse(
            issuer=base,
            authorization_endpoint=f"{base}/oauth2/authorize",
            token_endpoint=f"{base}/oauth2/token",
            response_types_supported=["code"],
            scopes_supported=["all"],
            token_endpoint_auth_methods_supported=["client_secret_basic"],
            grant_types_supported=["client_credentials"],
        )

    def GetPublicClientConfig(
        self, request: auth_service_pb2.GetPublicClientConfigRequest
    ) -> auth_service_pb2.GetPublicClientConfigResponse:
        """The public client configuration: the header a token would go in, and the HTTP endpoint."""
        return auth_service_pb2.GetPublicClientConfigResponse(
            client_id="flytectl",
            redirect_uri="http://localhost:53593/callback",
            scopes=["all"],
            authorization_metadata_key="flyte-authorization",
            service_http_endpoint=self.base_url(),
        )


class IdentityService:
    """Who the caller is: always the sandbox user."""

    def UserInfo(self, request: identity_pb2.UserInfoRequest) -> identity_pb2.UserInfoResponse:
        """The sandbox user."""
        return identity_pb2.UserInfoResponse(
            subject="sandbox", name="Flyte Sandbox", preferred_username="sandbox", email="sandbox@localhost"
        )


class ClusterService:
    """One cluster: every operation is served where it is asked."""

    def SelectCluster(self, request: payload_pb2.SelectClusterRequest) -> payload_pb2.SelectClusterResponse:
        """No endpoint: the caller keeps using this one."""
        return payload_pb2.SelectClusterResponse()
