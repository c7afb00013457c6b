"""Admin RPCs for registered things.

:class:`Registry` serves them all; each of Flyte Admin's managers is a part of it, in its own module: projects
and domains (:mod:`~flyte_admin_sandbox.registry_projects`), tasks (:mod:`~flyte_admin_sandbox.registry_tasks`),
workflows (:mod:`~flyte_admin_sandbox.registry_workflows`), launch plans
(:mod:`~flyte_admin_sandbox.registry_launch_plans`), named and description entities
(:mod:`~flyte_admin_sandbox.registry_entities`) and matchable attributes
(:mod:`~flyte_admin_sandbox.registry_attributes`), over the lookups they share
(:mod:`~flyte_admin_sandbox.registry_base`). The version is answered here.
"""

from __future__ import annotations

from flyteidl.admin import version_pb2

from flyte_admin_sandbox.common import DEFAULT_DOMAINS
from flyte_admin_sandbox.registry_attributes import MatchableAttributes
from flyte_admin_sandbox.registry_base import RT, entity_id, validate_labels
from flyte_admin_sandbox.registry_entities import FLYTEGEN_PREFIX, NamedEntities
from flyte_admin_sandbox.registry_launch_plans import KICKOFF_TIME_ARG, LaunchPlans, LaunchPlanState
from flyte_admin_sandbox.registry_projects import Projects
from flyte_admin_sandbox.registry_tasks import Tasks
from flyte_admin_sandbox.registry_workflows import Workflows
from flyte_admin_sandbox.store import Store
from flyte_admin_sandbox.version import __version__

# The Flyte Admin release whose behaviour the sandbox follows (shared/reference/flyteadmin-semantics.md baseline).
EMULATED_VERSION = "v1.16.8"


class Registry(Projects, Tasks, Workflows, LaunchPlans, NamedEntities, MatchableAttributes):
    """Projects, entities and attributes over a :class:`Store`.

    Args:
        store: The database.
        domains: The configured domains (Flyte Admin's defaults: development, staging, production).
        version: The control plane version :meth:`GetVersion` reports.
    """

    def __init__(
        self, store: Store, domains: tuple[str, ...] = DEFAULT_DOMAINS, version: str = EMULATED_VERSION
    ) -> None:
        self.store = store
        self.domains = domains
        self.version = version
        self._projects = {}
        self._configs = {}

    # Version -----------------------------------------------------------------------------------------------------

    def GetVersion(self, request: version_pb2.GetVersionRequest) -> version_pb2.GetVersionResponse:
        """The control plane version."""
        return version_pb2.GetVersionResponse(
            control_plane_version=version_pb2.Version(
                Build=f"airflow-provider-flyte-sandbox {__version__}", Version=self.version, BuildTime=""
            )
        )


__all__ = [
    "EMULATED_VERSION",
    "FLYTEGEN_PREFIX",
    "KICKOFF_TIME_ARG",
    "RT",
    "LaunchPlanState",
    "Registry",
    "entity_id",
    "validate_labels",
]
