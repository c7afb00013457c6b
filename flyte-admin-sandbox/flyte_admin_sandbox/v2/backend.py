"""What the Flyte 2 services share: the store, the engine, the behaviours, the blob folder and the URL signer."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from flyteidl2.project import project_service_pb2
from flyteidl2.task import common_pb2, task_definition_pb2

from flyte_admin_sandbox.blobs import BlobStore
from flyte_admin_sandbox.httpd import Signer
from flyte_admin_sandbox.v2.behaviours import Behaviours
from flyte_admin_sandbox.v2.engine import RunEngine
from flyte_admin_sandbox.v2.errors import invalid, missing, not_found
from flyte_admin_sandbox.v2.store import Store

DEFAULT_DOMAINS = ("development", "staging", "production")
SEED_PROJECT = "flytesnacks"


@dataclass
class Backend:
    """The state behind every service.

    Attributes:
        store: Tasks, runs, triggers, projects.
        engine: Runs root actions.
        behaviours: What tasks do.
        blobs: Uploaded files and offloaded inputs.
        signer: Signs the blob URLs the HTTP side honours.
        base_url: ``http://host:port`` of the Connect server, which also serves blobs and the console.
    """

    store: Store
    engine: RunEngine
    behaviours: Behaviours
    blobs: BlobStore
    signer: Signer
    base_url: Callable[[], str]

    def seed(self, domains: tuple[str, ...] = DEFAULT_DOMAINS) -> None:
        """Create the ``flytesnacks`` project in every domain (kept when it exists)."""
        project = project_service_pb2.Project(
            id=SEED_PROJECT,
            name=SEED_PROJECT,
            description="The sandbox's seeded project",
            domains=[project_service_pb2.Domain(id=domain, name=domain) for domain in domains],
            state=project_service_pb2.PROJECT_STATE_ACTIVE,
        )
        self.store.put_project(SEED_PROJECT, project.SerializeToString())

    def project(self, project_id: str) -> project_service_pb2.Project | None:
        """A project by id."""
        for data in self.store.projects():
            project = project_service_pb2.Project.FromString(data)
            if project.id == project_id:
                return project
        return None

    def require_project(self, project: str, domain: str, field: str = "project") -> None:
        """Check a project and domain exist.

        Raises:
            ServiceError: ``INVALID_ARGUMENT`` when either is empty, ``NOT_FOUND`` when unknown.
        """
        if not project:
            raise missing(field)
        if not domain:
            raise missing(field.rsplit(".", 1)[0] + ".domain" if "." in field else "domain")
        found = self.project(project)
        if found is None:
            raise not_found("project", project)
        if domain not in {entry.id for entry in found.domains}:
            raise not_found("domain", f"{project}/{domain}")

    def task(self, task_id: task_definition_pb2.TaskIdentifier, field: str = "task_id") -> task_definition_pb2.TaskSpec:
        """A deployed task's spec (the latest version when the version is empty).

        Raises:
            ServiceError: ``INVALID_ARGUMENT`` without a name, ``NOT_FOUND`` when not deployed.
        """
        if not task_id.name:
            raise missing(f"{field}.name")
        record = self.store.get_task(task_id.project, task_id.domain, task_id.name, task_id.version)
        if record is None:
            key = f"{task_id.project}/{task_id.domain}/{task_id.name}/{task_id.version or '<latest>'}"
            raise not_found("task", key)
        return record.spec

    def signed_url(self, method: str, key: str, expires: int) -> str:
        """A URL of the HTTP side allowing ``method`` on a blob key until ``expires`` (Unix seconds)."""
        query = {"expires": str(expires), "signature": self.signer.signature(method, key, expires)}
        return f"{self.base_url()}/blobs/{urllib.parse.quote(key)}?{urllib.parse.urlencode(query)}"

    def read_inputs(self, uri: str, field: str) -> common_pb2.Inputs:
        """Offloaded inputs (an ``Inputs`` message uploaded through the sandbox) by URI.

        Raises:
            ServiceError: ``INVALID_ARGUMENT`` when the URI is not in the sandbox's store or holds no inputs.
        """
        key = self.blobs.key_of(uri)
        data = self.blobs.get(key) if key is not None else None
        if data is None:
            raise invalid(field, uri, "no such object in the sandbox's blob store")
        try:
            return common_pb2.Inputs.FromString(data)
        except Exception as error:
            raise invalid(field, uri, f"not a serialized flyteidl2.task.Inputs ({error})") from None


def now_expiry(seconds: float) -> int:
    """Unix seconds ``seconds`` from now."""
    return int(time.time() + seconds)
