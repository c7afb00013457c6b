"""Registration of serialized entities: single specs, ``pyflyte package`` archives and fast-registration tarballs.

Specs are flyteidl messages (``admin.TaskSpec``, ``admin.WorkflowSpec``, ``admin.LaunchPlan``), as ``pyflyte
package`` writes them. Identifier fields left empty or holding flytekit's ``{{ registration.* }}`` placeholders are
filled with the project, domain and version given at registration, in nested node references too.

Registration is idempotent: re-registering identical content succeeds (Admin answers ALREADY_EXISTS, which is what
we wanted), while different content under an existing id raises :class:`FlyteEntityAlreadyExistsException` saying so.
Python-defined flytekit entities are accepted when flytekit is installed: flytekit serializes them first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import pathlib
import re
import tarfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.exceptions import (
    FlyteEntityAlreadyExistsException,
    FlyteInvalidInputException,
)
from airflow_provider_flyte.identifiers import Identifier, ResourceType
from airflow_provider_flyte.remote.workflow_nodes import iter_nodes, iter_workflow_nodes

if TYPE_CHECKING:
    from flyteidl.admin import launch_plan_pb2
    from flyteidl.core import identifier_pb2
    from flyteidl.core import workflow_pb2 as core_workflow_pb2

    from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient

PROJECT_PLACEHOLDER = "{{ registration.project }}"
DOMAIN_PLACEHOLDER = "{{ registration.domain }}"
VERSION_PLACEHOLDER = "{{ registration.version }}"
REMOTE_PACKAGE_PLACEHOLDER = "{{ .remote_package_path }}"
DEST_DIR_PLACEHOLDER = "{{ .dest_dir }}"

# pyflyte package names files "<index>_<entity name>_<kind>.pb", kind 1 = task, 2 = workflow, 3 = launch plan.
_PACKAGE_ENTRY = re.compile(r"^(?P<index>\d+)_(?P<name>.+)_(?P<kind>[123])\.pb$")
_KIND_TO_TYPE = {"1": ResourceType.TASK, "2": ResourceType.WORKFLOW, "3": ResourceType.LAUNCH_PLAN}

# Never shipped in a fast-registration tarball.
_FAST_EXCLUDED_DIRS = frozenset({".git", "__pycache__", ".venv", "venv", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
_FAST_EXCLUDED_SUFFIXES = (".pyc", ".pyo")


@dataclasses.dataclass
class RegistrableEntity:
    """One entity ready to register: its resource type, (hydrated) id and spec message.

    Attributes:
        resource_type: TASK, WORKFLOW or LAUNCH_PLAN.
        spec: ``admin.TaskSpec``, ``admin.WorkflowSpec`` or ``admin.LaunchPlan``.
        source: Where it came from (an archive member name), for error messages.
    """

    resource_type: ResourceType
    spec: Any
    source: str = ""

    @property
    def id_message(self) -> identifier_pb2.Identifier:
        """The ``core.Identifier`` inside the spec."""
        if self.resource_type == ResourceType.LAUNCH_PLAN:
            return self.spec.id  # type: ignore[no-any-return]
        return self.spec.template.id  # type: ignore[no-any-return]

    @property
    def id(self) -> Identifier:
        """The entity's identifier."""
        return Identifier.from_flyte_idl(self.id_message)

    def dependencies(self) -> set[Identifier]:
        """Ids this entity needs registered first (tasks and launch plans its nodes use; a launch plan's workflow)."""
        if self.resource_type == ResourceType.LAUNCH_PLAN:
            return {Identifier.from_flyte_idl(self.spec.spec.workflow_id)}
        if self.resource_type == ResourceType.TASK:
            return set()
        needed: set[Identifier] = set()
        for node in iter_workflow_nodes([self.spec.template, *self.spec.sub_workflows]):
            for ref in _node_references(node):
                needed.add(Identifier.from_flyte_idl(ref))
        return needed


def hydrate(entity: RegistrableEntity, project: str, domain: str, version: str) -> RegistrableEntity:
    """Fill empty or placeholder project/domain/version fields of every id in the entity (in place)."""
    for identifier in _identifiers_of(entity):
        if not identifier.project or identifier.project == PROJECT_PLACEHOLDER:
            identifier.project = project
        if not identifier.domain or identifier.domain == DOMAIN_PLACEHOLDER:
            identifier.domain = domain
        if not identifier.version or identifier.version == VERSION_PLACEHOLDER:
            identifier.version = version
    missing = [name for name, value in (("project", project), ("domain", domain), ("version", version)) if not value]
    ident = entity.id_message
    if not (ident.project and ident.domain and ident.version):
        raise FlyteInvalidInputException(
            f"{entity.source or ident.name} has no {', '.join(missing) or 'complete id'}; pass project, domain and "
            "version to register it"
        )
    return entity


def _identifiers_of(entity: RegistrableEntity) -> Iterator[identifier_pb2.Identifier]:
    yield entity.id_message
    if entity.resource_type == ResourceType.LAUNCH_PLAN:
        yield entity.spec.spec.workflow_id
        return
    if entity.resource_type == ResourceType.WORKFLOW:
        for template in [entity.spec.template, *entity.spec.sub_workflows]:
            if template is not entity.spec.template:
                yield template.id
            for node in iter_nodes(template.nodes):
                yield from _node_references(node)


def _node_references(node: core_workflow_pb2.Node) -> Iterator[identifier_pb2.Identifier]:
    kind = node.WhichOneof("target")
    if kind == "task_node" and node.task_node.HasField("reference_id"):
        yield node.task_node.reference_id
    elif kind == "workflow_node":
        reference = node.workflow_node.WhichOneof("reference")
        if reference == "launchplan_ref":
            yield node.workflow_node.launchplan_ref


def register(client: SynchronousFlyteClient, entity: RegistrableEntity) -> Identifier:
    """Register one hydrated entity; identical content already registered counts as success.

    Raises:
        FlyteEntityAlreadyExistsException: the id is registered with different content.
        FlyteInvalidInputException: Admin rejected the spec (the message says why).
    """
    identifier = entity.id
    try:
        if entity.resource_type == ResourceType.TASK:
            client.create_task(identifier.to_flyte_idl(), entity.spec)
        elif entity.resource_type == ResourceType.WORKFLOW:
            client.create_workflow(identifier.to_flyte_idl(), entity.spec)
        else:
            client.create_launch_plan(identifier.to_flyte_idl(), entity.spec.spec)
    except FlyteEntityAlreadyExistsException:
        return identifier
    except FlyteInvalidInputException as error:
        if "different structure already exists" in (error.server_message or str(error)):
            raise FlyteEntityAlreadyExistsException(
                f"{identifier} is already registered with different content; register this version under a new "
                f"version. Admin reported: {error.server_message[:2000]}",
                code=error.code,
                rpc=error.rpc,
                server_message=error.server_message,
            ) from error
        raise
    return identifier


def default_launch_plan_spec(workflow_id: Identifier) -> launch_plan_pb2.LaunchPlanSpec:
    """A launch plan spec running ``workflow_id`` as is: no defaults, no fixed inputs, no schedule.

    Admin expands its expected inputs from the workflow's interface, every input required. The empty fields are
    present, as flytekit writes them: Admin compares structure, so for a workflow without inputs (a backfill's) this
    is byte for byte the launch plan flytekit registers, and either tool may register it second.
    """
    from flyteidl.admin import common_pb2, launch_plan_pb2
    from flyteidl.core import interface_pb2, literals_pb2

    return launch_plan_pb2.LaunchPlanSpec(
        workflow_id=workflow_id.to_flyte_idl(),
        entity_metadata=launch_plan_pb2.LaunchPlanMetadata(),
        default_inputs=interface_pb2.ParameterMap(),
        fixed_inputs=literals_pb2.LiteralMap(),
        labels=common_pb2.Labels(),
        annotations=common_pb2.Annotations(),
        raw_output_data_config=common_pb2.RawOutputDataConfig(),
    )


def read_package(path: pathlib.Path) -> tuple[list[RegistrableEntity], dict[str, bytes]]:
    """Read a ``pyflyte package`` archive: the serialized entities and any fast-registration tarballs.

    Raises:
        FlyteInvalidInputException: the file is not a readable tgz, or a member is not a valid spec.
    """
    from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
    from google.protobuf.message import DecodeError

    parsers = {
        ResourceType.TASK: task_pb2.TaskSpec,
        ResourceType.WORKFLOW: workflow_pb2.WorkflowSpec,
        ResourceType.LAUNCH_PLAN: launch_plan_pb2.LaunchPlan,
    }
    entities: list[tuple[int, RegistrableEntity]] = []
    fast: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:*") as archive:
            members = [(member, archive.extractfile(member)) for member in archive.getmembers() if member.isfile()]
            contents = [(os.path.basename(member.name), handle.read()) for member, handle in members if handle]
    except (OSError, tarfile.TarError) as error:
        raise FlyteInvalidInputException(f"package {str(path)!r} is not a readable tar archive: {error}") from None
    for name, data in contents:
        match = _PACKAGE_ENTRY.match(name)
        if match:
            resource_type = _KIND_TO_TYPE[match["kind"]]
            spec = parsers[resource_type]()
            try:
                spec.ParseFromString(data)
            except DecodeError:
                raise FlyteInvalidInputException(
                    f"package member {name!r} is not a valid {resource_type.name.lower()} spec"
                ) from None
            entities.append((int(match["index"]), RegistrableEntity(resource_type, spec, name)))
        elif name.endswith(".tar.gz") and name.startswith("fast"):
            fast[name] = data
    entities.sort(key=lambda item: item[0])
    return [entity for _index, entity in entities], fast


def dependency_order(entities: list[RegistrableEntity]) -> list[RegistrableEntity]:
    """Order entities so each comes after those of the batch it depends on (stable: archive order breaks ties).

    Raises:
        FlyteInvalidInputException: on a dependency cycle or two different entities with one id.
    """
    by_id: dict[Identifier, RegistrableEntity] = {}
    for entity in entities:
        previous = by_id.get(entity.id)
        if previous is not None and previous.spec != entity.spec:
            raise FlyteInvalidInputException(
                f"package holds two different entities with id {entity.id} ({previous.source}, {entity.source})"
            )
        by_id[entity.id] = entity
    ordered: list[RegistrableEntity] = []
    state: dict[Identifier, str] = {}

    def visit(entity: RegistrableEntity, chain: tuple[Identifier, ...]) -> None:
        ident = entity.id
        if state.get(ident) == "done":
            return
        if state.get(ident) == "visiting":
            cycle = " -> ".join(str(item) for item in (*chain, ident))
            raise FlyteInvalidInputException(f"package entities depend on each other in a cycle: {cycle}")
        state[ident] = "visiting"
        for dependency in sorted(entity.dependencies(), key=str):
            if dependency in by_id and dependency != ident:
                visit(by_id[dependency], (*chain, ident))
        state[ident] = "done"
        ordered.append(entity)

    for entity in by_id.values():
        visit(entity, ())
    return ordered


def substitute_fast_package(entity: RegistrableEntity, remote_package_path: str, dest_dir: str = ".") -> None:
    """Point a task's fast-registration arguments at the uploaded code tarball (in place)."""
    if entity.resource_type != ResourceType.TASK:
        return
    template = entity.spec.template
    if template.HasField("container"):
        args = [_substitute(arg, remote_package_path, dest_dir) for arg in template.container.args]
        del template.container.args[:]
        template.container.args.extend(args)
    if template.HasField("k8s_pod"):
        pod_spec = template.k8s_pod.pod_spec
        for container in pod_spec.fields["containers"].list_value.values if "containers" in pod_spec.fields else []:
            container_args = container.struct_value.fields.get("args")
            if container_args is None:
                continue
            for value in container_args.list_value.values:
                value.string_value = _substitute(value.string_value, remote_package_path, dest_dir)


def _substitute(arg: str, remote_package_path: str, dest_dir: str) -> str:
    if arg == REMOTE_PACKAGE_PLACEHOLDER:
        return remote_package_path
    if arg == DEST_DIR_PLACEHOLDER:
        return dest_dir or "."
    return arg


def fast_package(root: pathlib.Path, output: pathlib.Path, deref_symlinks: bool = False) -> pathlib.Path:
    """Write a reproducible tarball of the source tree ``root`` into the directory ``output``.

    The archive is named ``fast<md5>.tar.gz`` after its content, as flytekit names it; byte-identical trees give
    byte-identical archives (sorted entries, zeroed times and owners). Version-control, virtualenv and cache
    directories and compiled Python files are left out.

    Raises:
        FlyteInvalidInputException: when ``root`` is not a directory.
    """
    import gzip

    root = pathlib.Path(root)
    if not root.is_dir():
        raise FlyteInvalidInputException(f"root={str(root)!r} is not a directory")
    files = sorted(_source_files(root, deref_symlinks))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT, dereference=deref_symlinks) as tar:
        for relative in files:
            info = tar.gettarinfo(str(root / relative), arcname=relative)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if info.isfile():
                with (root / relative).open("rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    compressed = gzip.compress(buffer.getvalue(), mtime=0)
    digest = hashlib.md5(compressed, usedforsecurity=False).hexdigest()
    output = pathlib.Path(output)
    output.mkdir(parents=True, exist_ok=True)
    target = output / f"fast{digest}.tar.gz"
    target.write_bytes(compressed)
    return target


def _source_files(root: pathlib.Path, deref_symlinks: bool) -> Iterator[str]:
    for directory, dirnames, filenames in os.walk(root, followlinks=deref_symlinks):
        dirnames[:] = [name for name in dirnames if name not in _FAST_EXCLUDED_DIRS]
        if deref_symlinks:  # a link to a folder above it would make the walk endless: leave it out
            here = os.path.realpath(directory)
            dirnames[:] = [name for name in dirnames if not _is_within(here, os.path.join(directory, name))]
        for filename in filenames:
            if filename.endswith(_FAST_EXCLUDED_SUFFIXES):
                continue
            yield os.path.relpath(os.path.join(directory, filename), root).replace(os.sep, "/")


def _is_within(path: str, link: str) -> bool:
    """Whether the real path of ``link`` is ``path`` or one of its ancestors."""
    target = os.path.realpath(link)
    return path == target or path.startswith(target.rstrip(os.sep) + os.sep)


def serialize_flytekit_entity(entity: Any, project: str, domain: str, version: str) -> list[RegistrableEntity]:
    """Serialize a Python-defined flytekit task, workflow or launch plan (and what it uses) with flytekit's defaults.

    The settings are those flytekit's ``FlyteRemote`` uses when none are given (its default image); see
    :mod:`._flytekit` for registration with the caller's ``SerializationSettings``.

    Raises:
        FlyteInvalidInputException: when flytekit is not installed.
    """
    from airflow_provider_flyte.remote import _flytekit

    kind = _flytekit.resource_type(entity)
    settings = _flytekit.default_settings(entity, kind, project, domain, version)
    return _flytekit.serialize(entity, settings)


def is_flytekit_entity(entity: Any) -> bool:
    """Whether ``entity`` is a Python-defined flytekit object (checked without importing flytekit)."""
    return any(cls.__module__.startswith("flytekit.") for cls in type(entity).__mro__)
