"""Registering tasks, workflows, launch plans and ``pyflyte package`` archives, and fast-registration tarballs.

Specs (``admin.TaskSpec``, ``admin.WorkflowSpec``, ``admin.LaunchPlan``) are copied, their empty or placeholder id
fields filled (:func:`.registration.hydrate`) and registered. Python-defined flytekit entities are serialized by
flytekit first with the caller's ``SerializationSettings`` kept whole (:mod:`._flytekit`), in interactive mode with
their code pickled and uploaded as flytekit does; a flytekit reference is not registered but fetched. The heavy
lifting (package reading, dependency order, fast packaging) is in :mod:`.registration`.
"""

from __future__ import annotations

import pathlib
from typing import Any

from airflow_provider_flyte.exceptions import FlyteEntityNotExistException, FlyteInvalidInputException
from airflow_provider_flyte.identifiers import Identifier, ResourceType
from airflow_provider_flyte.remote._core import is_flytekit_entity
from airflow_provider_flyte.remote._fetching import FetchingMixin
from airflow_provider_flyte.remote.entities import FlyteLaunchPlan, FlyteTask, FlyteWorkflow
from airflow_provider_flyte.remote.options import Options, as_options, is_flytekit_options

_SPEC_TYPES = {
    ResourceType.TASK: "flyteidl.admin.TaskSpec",
    ResourceType.WORKFLOW: "flyteidl.admin.WorkflowSpec",
    ResourceType.LAUNCH_PLAN: "flyteidl.admin.LaunchPlan",
}
_METHODS = {
    ResourceType.TASK: "register_task",
    ResourceType.WORKFLOW: "register_workflow",
    ResourceType.LAUNCH_PLAN: "register_launch_plan",
}


class RegisteringMixin(FetchingMixin):
    """``register_task`` / ``register_workflow`` / ``register_launch_plan`` / ``register_package``, ``fast_package``."""

    def register_task(
        self,
        entity: Any,
        serialization_settings: Any = None,
        version: str | None = None,
        project: str | None = None,
        domain: str | None = None,
    ) -> FlyteTask:
        """Register a task from an ``admin.TaskSpec``, or a flytekit task (with flytekit installed).

        Args:
            entity: The spec, a Python-defined flytekit task, or a flytekit ``reference_task`` (fetched, not
                registered).
            serialization_settings: flytekit's ``SerializationSettings``: every field shapes a flytekit task (image,
                environment, resources...); only project, domain and version apply to a spec (others are named in a
                WARNING).
            version: Version to register under (wins over the settings' version).
            project: Project (default: the settings', else the remote's).
            domain: Domain (default: the settings', else the remote's).

        Raises:
            FlyteInvalidInputException: no version, the wrong kind of entity, or a flytekit entity without flytekit.
            FlyteEntityAlreadyExistsException: the id is registered with different content.
        """
        ident = self._register_one(entity, ResourceType.TASK, serialization_settings, version, project, domain)
        return FlyteTask(self.client.get_task(ident))

    def register_workflow(
        self,
        entity: Any,
        serialization_settings: Any = None,
        version: str | None = None,
        default_launch_plan: bool = True,
        options: Options | Any | None = None,
        project: str | None = None,
        domain: str | None = None,
    ) -> FlyteWorkflow:
        """Register a workflow (an ``admin.WorkflowSpec`` or a flytekit workflow) and its default launch plan.

        Arguments as :meth:`register_task`; ``options`` (ours or flytekit's) shape the default launch plan.
        """
        ident = self._register_one(
            entity,
            ResourceType.WORKFLOW,
            serialization_settings,
            version,
            project,
            domain,
            options,
            default_launch_plan,
        )
        if default_launch_plan and not is_flytekit_entity(entity):
            self._register_default_launch_plan(ident, None, as_options(options))
        return FlyteWorkflow(self.client.get_workflow(ident))

    def register_launch_plan(
        self,
        entity: Any,
        version: str | None = None,
        project: str | None = None,
        domain: str | None = None,
        options: Options | Any | None = None,
        serialization_settings: Any = None,
    ) -> FlyteLaunchPlan:
        """Register a launch plan from an ``admin.LaunchPlan`` or a flytekit launch plan (with what it runs).

        ``options`` (ours or flytekit's) set the launch plan's labels, annotations, raw output location, security
        context and max parallelism. Other arguments as :meth:`register_task`.
        """
        ident = self._register_one(
            entity, ResourceType.LAUNCH_PLAN, serialization_settings, version, project, domain, options
        )
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
        """Serialize a flytekit entity with flytekit's default settings and register it with its dependencies.

        Returns:
            The registered ids, dependencies first.
        """
        from airflow_provider_flyte.remote import registration

        serialized = registration.serialize_flytekit_entity(entity, project, domain, version)
        return [registration.register(self.client, item) for item in registration.dependency_order(serialized)]

    def fast_package(
        self,
        root: str | pathlib.Path,
        deref_symlinks: bool = True,
        output: str | pathlib.Path | None = None,
        options: Any = None,
    ) -> tuple[bytes, str]:
        """Package the source tree ``root`` for fast registration and upload it; returns ``(md5, native URL)``.

        Args:
            root: The source tree.
            deref_symlinks: Package what symbolic links point at rather than the links (flytekit's default).
            output: Directory to write the archive into (default: a temporary one).
            options: flytekit's ``FastPackageOptions`` (ignores, copy style); with them flytekit builds the archive
                (needs flytekit). Without, a reproducible archive is built here, without flytekit.
        """
        import tempfile

        from airflow_provider_flyte.remote import _flytekit, fs, registration

        project, domain = self.resolve_project_domain(None, None)
        with tempfile.TemporaryDirectory() as scratch:
            directory = str(output or scratch)
            if options is not None:
                _flytekit.require_flytekit("fast_package(options=...)")
                pathlib.Path(directory).mkdir(parents=True, exist_ok=True)
                archive = _flytekit.flytekit_fast_package(pathlib.Path(root), directory, deref_symlinks, options)
            else:
                archive = registration.fast_package(pathlib.Path(root), pathlib.Path(directory), deref_symlinks)
            return fs.upload_file(self.client, archive, project, domain)

    def _register_one(
        self,
        entity: Any,
        resource_type: ResourceType,
        serialization_settings: Any,
        version: str | None,
        project: str | None,
        domain: str | None,
        options: Any = None,
        default_launch_plan: bool = False,
    ) -> Identifier:
        if is_flytekit_entity(entity):
            return self._register_flytekit(
                entity, resource_type, serialization_settings, (project, domain, version), options, default_launch_plan
            )
        return self._register_spec(entity, resource_type, serialization_settings, version, project, domain, options)

    def _register_spec(
        self,
        entity: Any,
        resource_type: ResourceType,
        serialization_settings: Any,
        version: str | None,
        project: str | None,
        domain: str | None,
        options: Any = None,
    ) -> Identifier:
        from airflow_provider_flyte.remote import _flytekit, registration

        expected = _SPEC_TYPES[resource_type]
        full_name = getattr(getattr(entity, "DESCRIPTOR", None), "full_name", None)
        if full_name != expected:
            raise FlyteInvalidInputException(
                f"entity={type(entity).__name__} cannot be registered as a {resource_type.name.lower()}; "
                f"pass an {expected}"
            )
        project, domain = self.resolve_project_domain(
            project or getattr(serialization_settings, "project", None),
            domain or getattr(serialization_settings, "domain", None),
        )
        version = version or getattr(serialization_settings, "version", None) or ""
        if serialization_settings is not None:
            _flytekit.warn_unused_settings(serialization_settings, expected)
        copy = type(entity).FromString(entity.SerializeToString())
        converted = as_options(options)
        if converted is not None and resource_type is ResourceType.LAUNCH_PLAN:
            converted.apply_to(copy.spec)
        item = registration.hydrate(registration.RegistrableEntity(resource_type, copy), project, domain, version)
        return registration.register(self.client, item)

    def _register_flytekit(
        self,
        entity: Any,
        kind: ResourceType,
        settings: Any,
        where: tuple[str | None, str | None, str | None],
        options: Any = None,
        default_launch_plan: bool = False,
        image_config: Any = None,
        reuse_registered: bool = False,
    ) -> Identifier:
        """Serialize a Python-defined flytekit entity with the caller's settings and register it with what it uses.

        Args:
            entity: The flytekit task, workflow or launch plan (a reference is fetched instead).
            kind: What the caller registers.
            settings: flytekit's ``SerializationSettings`` or None (flytekit's defaults).
            where: ``(project, domain, version)`` given to the method (each wins over the settings').
            options: Ours or flytekit's, for the launch plan registered.
            default_launch_plan: Also register a workflow's default launch plan.
            image_config: The image of the default settings (``execute(image_config=...)``).
            reuse_registered: In interactive mode, use the entity as registered when its id exists (``execute`` does,
                as flytekit's does); with a derived version it is always reused.
        """
        from airflow_provider_flyte.remote import _flytekit, fs, registration

        reference = _flytekit.reference_id(entity)
        if reference is not None:
            return self._referenced_id(reference, kind)
        _check_kind(entity, kind, _flytekit.resource_type(entity))
        if settings is not None:
            _flytekit.check_settings(settings)
        project, domain = self.resolve_project_domain(
            where[0] or getattr(settings, "project", None), where[1] or getattr(settings, "domain", None)
        )
        version = where[2]
        base = settings or _flytekit.default_settings(entity, kind, project, domain, version, image_config)
        code_location = None
        if self.interactive_mode_enabled:
            reuse = reuse_registered or not version  # a derived version is the same code
            version = version or _flytekit.interactive_version(entity, base)
            ident = Identifier(kind, project, domain, entity.name, version)
            if reuse and self._registered(ident, default_launch_plan):
                return ident
            pickled = _flytekit.interactive_archive(entity)
            code_location = fs.upload_bytes(self.client, pickled, _flytekit.PICKLE_FILE_NAME, project, domain)[1]
        version = version or base.version
        if not version:
            raise FlyteInvalidInputException(
                f"version is required to register the flytekit entity {entity.name!r}: pass version=..., or "
                "serialization_settings with a version, or create the remote with interactive_mode_enabled=True"
            )
        resolved = _flytekit.resolved_settings(base, project, domain, version, code_location)
        items = _serialized(entity, kind, resolved, options, default_launch_plan)
        for item in registration.dependency_order(items):
            registration.register(self.client, item)
        return Identifier(kind, project, domain, entity.name, version)

    def _registered(self, ident: Identifier, default_launch_plan: bool) -> bool:
        """Whether an interactive-mode entity is registered already (with its default launch plan if asked).

        Its version is a hash of its code when first pickled, so the same version is the same code; the pickle of a
        task flytekit has serialized since differs in bytes, so registering it again would be refused as different
        content. flytekit's ``execute`` also looks the entity up before registering it.
        """
        get = {
            ResourceType.TASK: self.client.get_task,
            ResourceType.WORKFLOW: self.client.get_workflow,
            ResourceType.LAUNCH_PLAN: self.client.get_launch_plan,
        }[ident.resource_type]
        wanted = [(get, ident)]
        if default_launch_plan and ident.resource_type is ResourceType.WORKFLOW:
            plan = Identifier(ResourceType.LAUNCH_PLAN, ident.project, ident.domain, ident.name, ident.version)
            wanted.append((self.client.get_launch_plan, plan))
        try:
            for fetch, wanted_id in wanted:
                fetch(wanted_id.to_flyte_idl())
        except FlyteEntityNotExistException:
            return False
        return True

    def _referenced_id(self, reference: Identifier, kind: ResourceType) -> Identifier:
        """The id of the registered entity a flytekit reference points at (it is fetched, never registered)."""
        if reference.resource_type is not kind:
            raise FlyteInvalidInputException(
                f"entity is a flytekit reference to the {reference.resource_type.name.lower()} {reference}; "
                f"{_METHODS[kind]} takes a {kind.name.lower()}"
            )
        fetched = self._fetch_referenced(reference)
        return fetched.id

    def _register_default_launch_plan(
        self, workflow_id: Identifier, workflow: Any = None, options: Options | None = None
    ) -> Identifier:
        """Register the launch plan named and versioned like ``workflow_id`` that runs it.

        For a Python-defined flytekit ``workflow`` it is flytekit's default launch plan (Python defaults become
        default inputs); otherwise a plain one, for which Admin makes every workflow input required.
        """
        from flyteidl.admin import launch_plan_pb2

        from airflow_provider_flyte.remote import _flytekit, registration

        if workflow is not None and is_flytekit_entity(workflow):
            project, domain, version = workflow_id.project, workflow_id.domain, workflow_id.version
            settings = _flytekit.default_settings(workflow, ResourceType.WORKFLOW, project, domain, version)
            item = _flytekit.default_launch_plan(workflow, settings)
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


def _check_kind(entity: Any, kind: ResourceType, actual: ResourceType) -> None:
    if actual is not kind:
        raise FlyteInvalidInputException(
            f"entity={entity.name!r} is a flytekit {actual.name.lower().replace('_', ' ')}, not a "
            f"{kind.name.lower().replace('_', ' ')}; register it with {_METHODS[actual]}"
        )


def _serialized(entity: Any, kind: ResourceType, settings: Any, options: Any, default_launch_plan: bool) -> list[Any]:
    """The entity and its dependencies serialized (plus a workflow's default launch plan), options applied.

    flytekit's Options are handed to flytekit's serializer, as flytekit's ``FlyteRemote`` does; ours are written
    into the launch plan named like the entity (the launch plan registered, or the workflow's default one).
    """
    from airflow_provider_flyte.remote import _flytekit

    flytekit_options = options if is_flytekit_options(options) else None
    ours = None if flytekit_options is not None else as_options(options)
    items = _flytekit.serialize(entity, settings, flytekit_options)
    if default_launch_plan and kind is ResourceType.WORKFLOW:
        items.append(_flytekit.default_launch_plan(entity, settings, flytekit_options))
    if ours is not None:
        for item in items:
            if item.resource_type is ResourceType.LAUNCH_PLAN and item.id.name == entity.name:
                ours.apply_to(item.spec.spec)
    return items
