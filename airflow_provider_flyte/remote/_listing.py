"""Listings that follow every page: executions (newest first), projects; project and domain administration."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.remote._core import RemoteCore
from airflow_provider_flyte.remote._queries import PAGE_SIZE, join_filters, newest_first, paginate
from airflow_provider_flyte.remote.executions import FlyteWorkflowExecution

if TYPE_CHECKING:
    from flyteidl.admin import project_pb2


class ListingMixin(RemoteCore):
    """Executions and projects listed (every page read), project registration and updates, domains."""

    def list_executions(
        self,
        project: str | None = None,
        domain: str | None = None,
        filters: str | Iterable[Any] | None = None,
        limit: int | None = None,
    ) -> Iterator[FlyteWorkflowExecution]:
        """Executions of a project and domain, newest first, following every page (up to ``limit`` in total)."""
        project, domain = self.resolve_project_domain(project, domain)
        joined = join_filters(filters)

        def page(token: str) -> tuple[list[Any], str]:
            items, next_token = self.client.list_executions_paginated(
                project, domain, limit=PAGE_SIZE, token=token, filters=joined, sort_by=newest_first()
            )
            return list(items), next_token

        for pb in paginate(page, limit):
            yield FlyteWorkflowExecution(pb, self._as_remote())

    def recent_executions(
        self,
        project: str | None = None,
        domain: str | None = None,
        limit: int = 100,
        filters: str | Iterable[Any] | None = None,
    ) -> list[FlyteWorkflowExecution]:
        """The ``limit`` most recently created executions (following pages when needed)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise FlyteInvalidInputException(f"limit={limit!r} must be a positive integer")
        return list(self.list_executions(project, domain, filters, limit=limit))

    def list_projects(
        self, limit: int = PAGE_SIZE, filters: str | Iterable[Any] | None = None, sort_by: Any = None
    ) -> list[project_pb2.Project]:
        """All projects matching ``filters`` (``limit`` is the page size; every page is read)."""
        joined = join_filters(filters)

        def page(token: str) -> tuple[list[Any], str]:
            items, next_token = self.client.list_projects_paginated(
                limit=limit, token=token, filters=joined, sort_by=sort_by
            )
            return list(items), next_token

        return list(paginate(page))

    def register_project(self, project: project_pb2.Project) -> None:
        """Create a project (``admin.Project`` with id, name, description, labels)."""
        self.client.register_project(project)

    def update_project(self, project: project_pb2.Project) -> None:
        """Update a project's name, description, labels or state."""
        self.client.update_project(project)

    def get_domains(self) -> list[project_pb2.Domain]:
        """The deployment's domains (``development``, ``staging``, ``production`` by default)."""
        return self.client.get_domains()
