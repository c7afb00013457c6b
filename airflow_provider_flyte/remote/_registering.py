"""Registering tasks, workflows, launch plans and ``pyflyte package`` archives, and fast-registration tarballs.

Specs (``admin.TaskSpec``, ``admin.WorkflowSpec``, ``admin.LaunchPlan``) are copied, their empty or placeholder id
fields filled (:func:`.registration.hydrate`) and registered; Python-defined flytekit entities are serialized by
flytekit first. The heavy lifting (package reading, dependency order, fast packaging) is in :mod:`.registration`.
"""

from __future__ import annotations

import pathlib
from typing import Any

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.identifiers import Identifier, ResourceType
from airflow_provider_flyte.remote._core import RemoteCore, is_flytekit_entity
from airflow_provider_flyte.remote.entities import FlyteLaunchPlan, FlyteTask, FlyteWorkflow
from airflow_provider_flyte.remote.options import Options

_SPEC_TYPES = {
    ResourceType.TASK: "flyteidl.admin.TaskSpec",
    ResourceType.WORKFLOW: "flyteidl.admin.WorkflowSpec",
    ResourceType.LAUNCH_PLAN: "flyteidl.admin.LaunchPlan",
}


class RegisteringMixin(RemoteCore):
    """``register_task`` / ``register_workflow`` / ``register_launch_plan`` / ``register_package``, ``fast_package``."""

    def register_task(
        self,
        entity: Any,
        serialization_settings: Any = None,
        version: str | None = None,
        project: str | None = None,
        domain: str | None = None,
    ) -> FlyteTask:
        """Register a task from an ``admin.TaskSpec`` (or a flytekit task, with flytekit installed).

        Empty or placeholder id fields are filled from ``project``/``domain`` (default: the remote's) and
        ``version``. Identical re-registration succeeds.
        """
        ident = self._register_one(entity, ResourceType.TASK, serialization_settings, version, project, domain)
        return FlyteTask(self.client.get_task(ident))

    def register_workflow(
        self,
        entity: Any,
        serialization_settings: Any = None,
        version: str | None = None,
        default_launch_plan: bool = True,
        options: Options | None = None,
        project: str | None = None,
        domain: str | None = None,
    ) -> FlyteWorkflow:
        """Register a workflow from an ``admin.WorkflowSpec`` (or a flytekit workflow), and its default launch plan."""
        ident = self._register_one(entity, ResourceType.WORKFLOW, serialization_settings, version, project, domain)
        if default_launch_plan:
            self._register_default_launch_plan(ident, entity, options)
        return FlyteWorkflow(self.client.get_workflow(ident))

    def register_launch_plan(
        self,
        entity: Any,
        version: str | None = None,
        project: str | None = None,
        domain: str | None = None,
        options: Options | None = None,
        serialization_settings: Any = None,
    ) -> FlyteLaunchPlan:
        """Register a launch plan from an ``admin.LaunchPlan`` (or a flytekit launch plan).

        ``options`` set the launch plan's labels, annotations, raw output location, security context and
        max parallelism.
        """
        from flyteidl.admin import launch_plan_pb2

        if isinstance(entity, launch_plan_pb2.LaunchPlan) and options is not None:
            entity = launch_plan_pb2.LaunchPlan.FromString(entity.SerializeToString())
            options.apply_to(entity.spec)
        ident = self._register_one(entity, ResourceType.LAUNCH_PLAN, serialization_settings, version, project, domain)
        return FlyteLaunchPlan(self.client.get_launch_plan(ident))

    def register_package(
        self,
        path: str | pathlib.Path,
        project: str | None = None,
        domain: str | None = None,
        version: str | None = None,
    ) -> list[Identifier]:
        """Register every entity of a ``pyflyte package`` archive in dependency order; returns their ids.

        A fast-registration tarball in the archive is uploaded first and the tasks are pointed at it. Identical
        entities already registered are skipped by Admin; different content under an existing id raises
        :class:`FlyteEntityAlreadyExistsException`.
        """
        from airflow_provider_flyte.remote import fs, registration

        project, domain = self.resolve_project_domain(project, domain)
        entities, fast_archives = registration.read_package(pathlib.Path(path))
        if not entities:
            raise FlyteInvalidInputException(f"package {str(path)!r} holds no task, workflow or launch plan")
        remote_package = None
        for archive_name, data in sorted(fast_archives.items()):
            remote_package = fs.upload_bytes(self.client, data, archive_name, project, domain)[1]
        for entity in entities:
            registration.hydrate(entity, project, domain, version or "")
            if remote_package:
                registration.substitute_fast_package(entity, remote_package)
        return [registration.register(self.client, entity) for entity in registration.dependency_order(entities)]

    def register_flytekit_entity(self, entity: Any, project: str, domain: str, version: str) -> list[Identifier]:
        """Serialize a Python-defined flytekit entity with flytekit and register it with its dependencies."""
        from airflow_provider_flyte.remote import registration

        serialized = registration.serialize_flytekit_entity(entity, project, domain, version)
        return [registration.register(self.client, item) for item in registration.dependency_order(serialized)]

    def fast_package(
        self, root: str | pathlib.Path, deref_symlinks: bool = False, output: str | pathlib.Path | None = None
    ) -> tuple[bytes, str]:
        """Package the source tree ``root`` for fast registration and upload it; returns ``(md5, native URL)``."""
        import tempfile

        from airflow_provider_flyte.remote import fs, registration

        project, domain = self.resolve_project_domain(None, None)
        with tempfile.TemporaryDirectory() as scratch:
            archive = registration.fast_package(pathlib.Path(root), pathlib.Path(output or scratch), deref_symlinks)
            return fs.upload_file(self.client, archive, project, domain)

    def _register_one(
        self,
        entity: Any,
        resource_type: ResourceType,
        serialization_settings: Any,
        version: str | None,
        project: str | None,
        domain: str | None,
    ) -> Identifier:
        from airflow_provider_flyte.remote import registration

        project, domain = self.resolve_project_domain(
            project or getattr(serialization_settings, "project", None),
            domain or getattr(serialization_settings, "domain", None),
        )
        version = version or getattr(serialization_settings, "version", None) or ""
        if is_flytekit_entity(entity):
            registered = self.register_flytekit_entity(entity, project, domain, version)
            matching = [ident for ident in registered if ident.resource_type == resource_type]
            if not matching:
                raise FlyteInvalidInputException(f"{entity!r} did not serialize to a {resource_type.name.lower()}")
            return matching[-1]
        expected = _SPEC_TYPES[resource_type]
        full_name = getattr(getattr(entity, "DESCRIPTOR", None), "full_name", None)
        if full_name != expected:
            raise FlyteInvalidInputException(
                f"entity={type(entity).__name__} cannot be registered as a {resource_type.name.lower()}; "
                f"pass an {expected}"
            )
        copy = type(entity).FromString(entity.SerializeToString())
        item = registration.hydrate(registration.RegistrableEntity(resource_type, copy), project, domain, version)
        return registration.register(self.client, item)

    def _register_default_launch_plan(
        self, workflow_id: Identifier, workflow: Any = None, options: Options | None = None
    ) -> Identifier:
        """Register the launch plan named and versioned like ``workflow_id`` that runs it.

        For a Python-defined flytekit ``workflow`` it is flytekit's default launch plan (Python defaults become
        default inputs); otherwise a plain one, for which Admin makes every workflow input required.
        """
        from flyteidl.admin import launch_plan_pb2

        from airflow_provider_flyte.remote import registration

        if workflow is not None and is_flytekit_entity(workflow):
            item = registration.flytekit_default_launch_plan(
                workflow, workflow_id.project, workflow_id.domain, workflow_id.version
            )
        else:
            lp_id = Identifier(
                ResourceType.LAUNCH_PLAN, workflow_id.project, workflow_id.domain, workflow_id.name, workflow_id.version
            )
            spec = registration.default_launch_plan_spec(workflow_id)
            launch_plan = launch_plan_pb2.LaunchPlan(id=lp_id.to_flyte_idl(), spec=spec)
            item = registration.RegistrableEntity(ResourceType.LAUNCH_PLAN, launch_plan)
        if options is not None:
            options.apply_to(item.spec.spec)
        return registration.register(self.client, item)
