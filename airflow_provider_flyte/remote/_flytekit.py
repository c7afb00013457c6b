"""Python-defined flytekit entities: serialization settings, serialization, references, interactive and script code.

flytekit is optional and imported only here (and only when one of these paths runs). Every path that needs it raises
the same :class:`FlyteInvalidInputException` without it (:func:`flytekit_needed`), saying flytekit is needed for that
path and what to do instead.

The behaviour follows flytekit 1.16's ``FlyteRemote``: the user's ``SerializationSettings`` are used whole (image,
environment, resources, interpreter, fast-registration settings...), with project, domain and version resolved the way
its ``register_*`` methods resolve them; interactive mode pickles the code flytekit pickles and derives the version
flytekit derives; script mode uploads the archive flytekit builds. A field that cannot take effect is named in a
WARNING log line.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import pathlib
from collections import OrderedDict
from typing import Any

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.identifiers import Identifier, ResourceType
from airflow_provider_flyte.remote._core import logger
from airflow_provider_flyte.remote.registration import RegistrableEntity

# flytekit's name of the pickled code uploaded in interactive mode, and its size limit.
PICKLE_FILE_NAME = "pkl.gz"
_PICKLE_LIMIT = 150 * 1024 * 1024
# Settings fields that registration decides (and that every spec carries in its ids).
_ID_FIELDS = ("project", "domain", "version")


def flytekit_needed(what: str) -> FlyteInvalidInputException:
    """The error every flytekit-only path raises when flytekit cannot be imported.

    Args:
        what: The path, as the start of the sentence, e.g. ``"register_script"``.
    """
    return FlyteInvalidInputException(
        f"{what} needs flytekit installed (flytekit serializes the Python code); install flytekit, or register "
        "serialized specs (pyflyte package) with register_package instead"
    )


def require_flytekit(what: str) -> None:
    """Import flytekit, or raise :func:`flytekit_needed` for ``what``."""
    try:
        import flytekit  # noqa: F401  # flytekit is optional
    except ImportError:
        raise flytekit_needed(what) from None


def is_flytekit_object(value: Any) -> bool:
    """Whether ``value`` is an instance of a flytekit class (checked without importing flytekit)."""
    return any(cls.__module__.startswith("flytekit.") for cls in type(value).__mro__)


def reference_id(entity: Any) -> Identifier | None:
    """The id a flytekit reference (``reference_task`` / ``_workflow`` / ``_launch_plan``) points at, else None."""
    if not is_flytekit_object(entity):
        return None
    require_flytekit(f"the flytekit entity {type(entity).__name__}")
    from flytekit.core.reference_entity import ReferenceEntity  # flytekit is optional

    if not isinstance(entity, ReferenceEntity):
        return None
    ref = entity.reference
    return Identifier(ResourceType(int(ref.resource_type)), ref.project, ref.domain, ref.name, ref.version)


def resource_type(entity: Any) -> ResourceType:
    """Whether a Python-defined flytekit entity is a task, a workflow or a launch plan.

    Raises:
        FlyteInvalidInputException: for any other flytekit object, or without flytekit.
    """
    require_flytekit(f"registering the flytekit entity {type(entity).__name__}")
    from flytekit import LaunchPlan  # flytekit is optional
    from flytekit.core.base_task import Task  # flytekit is optional
    from flytekit.core.workflow import WorkflowBase  # flytekit is optional

    if isinstance(entity, LaunchPlan):
        return ResourceType.LAUNCH_PLAN
    if isinstance(entity, WorkflowBase):
        return ResourceType.WORKFLOW
    if isinstance(entity, Task):
        return ResourceType.TASK
    raise FlyteInvalidInputException(
        f"{type(entity).__name__} is a flytekit object, but not a task, workflow or launch plan"
    )


def default_settings(
    entity: Any, kind: ResourceType, project: str, domain: str, version: str | None, image_config: Any = None
) -> Any:
    """The ``SerializationSettings`` flytekit's ``FlyteRemote`` builds when none are given.

    The default image (``ImageConfig.auto_default_image()``) unless ``image_config`` is given; for a task also the
    project root of its module as ``source_root``, as flytekit's ``register_task`` sets it.
    """
    require_flytekit(f"registering the flytekit entity {type(entity).__name__}")
    from flytekit.configuration import ImageConfig, SerializationSettings  # flytekit is optional

    source_root = _task_project_root(entity) if kind is ResourceType.TASK else None
    return SerializationSettings(
        image_config=image_config or ImageConfig.auto_default_image(),
        project=project,
        domain=domain,
        version=version,
        source_root=source_root,
    )


def _task_project_root(entity: Any) -> str | None:
    from flytekit.core.tracker import extract_task_module  # flytekit is optional
    from flytekit.tools.script_mode import _find_project_root  # flytekit is optional

    try:
        root: str = _find_project_root(extract_task_module(entity)[3])
        return root
    except Exception:  # a task flytekit cannot locate has no project root; the setting only matters to ImageSpec
        return None


def check_settings(settings: Any, argument: str = "serialization_settings") -> Any:
    """``settings`` if it is flytekit's ``SerializationSettings``.

    Raises:
        FlyteInvalidInputException: naming the argument and the type given.
    """
    require_flytekit(argument)
    from flytekit.configuration import SerializationSettings  # flytekit is optional

    if not isinstance(settings, SerializationSettings):
        raise FlyteInvalidInputException(
            f"{argument}={settings!r} ({type(settings).__name__}) is not a flytekit SerializationSettings; build one "
            "with flytekit.configuration.SerializationSettings(image_config=..., ...)"
        )
    return settings


def resolved_settings(
    base: Any, project: str, domain: str, version: str, distribution_location: str | None = None
) -> Any:
    """A copy of ``base`` with every field kept, project/domain/version resolved, and interactive code attached.

    The user's object is never changed. A field whose value is replaced, and fast-registration settings that would
    leave flytekit's placeholders in the tasks, are named in a WARNING.
    """
    from flytekit.configuration import FastSerializationSettings  # flytekit is optional

    for field, value in zip(_ID_FIELDS, (project, domain, version), strict=True):
        given = getattr(base, field)
        if given and given != value:
            logger.warning(
                "serialization_settings.%s=%r is overridden by %s=%r (the method's argument wins, as in flytekit)",
                field,
                given,
                field,
                value,
            )
    changes: dict[str, Any] = {"project": project, "domain": domain, "version": version}
    if distribution_location is not None:
        if base.fast_serialization_settings is not None and base.fast_serialization_settings.enabled:
            logger.warning(
                "serialization_settings.fast_serialization_settings is replaced by the pickled code of interactive "
                "mode (%s), as flytekit does",
                distribution_location,
            )
        changes["fast_serialization_settings"] = FastSerializationSettings(
            enabled=True, destination_dir=".", distribution_location=distribution_location
        )
    settings = dataclasses.replace(base, **changes)
    _warn_fast_placeholders(settings)
    return settings


def _warn_fast_placeholders(settings: Any) -> None:
    fast = settings.fast_serialization_settings
    if fast is None or not fast.enabled:
        return
    if not fast.distribution_location:
        logger.warning(
            "serialization_settings.fast_serialization_settings.distribution_location is empty: the tasks keep "
            "flytekit's '{{ .remote_package_path }}' placeholder and cannot find their code; upload it with "
            "fast_package() and set distribution_location to the URL it returns, or use register_script"
        )
    if not fast.destination_dir:
        logger.warning(
            "serialization_settings.fast_serialization_settings.destination_dir is empty: the tasks keep flytekit's "
            "'{{ .dest_dir }}' placeholder; set destination_dir='.'"
        )


def warn_unused_settings(settings: Any, spec: str) -> None:
    """Name in a WARNING each field of ``settings`` that cannot apply to an already serialized ``spec``.

    Only project, domain and version apply to a spec (they fill its empty or placeholder ids); the other fields shape
    serialization, which already happened. Fields left at flytekit's defaults are not mentioned.
    """
    if not dataclasses.is_dataclass(settings) or isinstance(settings, type):
        return
    try:
        from flytekit.configuration import ImageConfig  # flytekit is optional

        default: Any = type(settings)(image_config=ImageConfig.auto_default_image())  # type: ignore[call-arg]
    except Exception:  # not flytekit's settings class: nothing to compare with
        return
    for field in dataclasses.fields(settings):
        if field.name in _ID_FIELDS or getattr(settings, field.name) == getattr(default, field.name):
            continue
        logger.warning(
            "serialization_settings.%s is not applied: the entity is an already serialized %s, so only project, "
            "domain and version are used; pass the Python-defined flytekit entity to apply it",
            field.name,
            spec,
        )


def serialize(entity: Any, settings: Any, options: Any = None) -> list[RegistrableEntity]:
    """Serialize a Python-defined flytekit entity and what it uses (tasks first), with flytekit's ``get_serializable``.

    Remote entities flytekit would not register (fetched ones used as nodes) and references are left out, as
    flytekit's ``raw_register`` skips them. ``options`` must be flytekit's (they shape the launch plans).
    """
    from flytekit.models import launch_plan as launch_plan_models  # flytekit is optional
    from flytekit.models import task as task_models  # flytekit is optional
    from flytekit.models.admin import workflow as workflow_models  # flytekit is optional
    from flytekit.remote.remote_callable import RemoteEntity  # flytekit is optional
    from flytekit.tools.translator import get_serializable  # flytekit is optional

    serialized: OrderedDict[Any, Any] = OrderedDict()
    get_serializable(serialized, settings, entity, options)
    result: list[RegistrableEntity] = []
    for model in serialized.values():
        if isinstance(model, RemoteEntity) and not getattr(model, "should_register", False):
            continue
        if isinstance(model, task_models.TaskSpec):
            result.append(RegistrableEntity(ResourceType.TASK, model.to_flyte_idl(), model.template.id.name))
        elif isinstance(model, workflow_models.WorkflowSpec):
            result.append(RegistrableEntity(ResourceType.WORKFLOW, model.to_flyte_idl(), model.template.id.name))
        elif isinstance(model, launch_plan_models.LaunchPlan):
            result.append(RegistrableEntity(ResourceType.LAUNCH_PLAN, model.to_flyte_idl(), model.id.name))
    return result


def default_launch_plan(workflow: Any, settings: Any, options: Any = None) -> RegistrableEntity:
    """The default launch plan flytekit derives for a workflow (Python defaults as default inputs), serialized."""
    from flytekit import FlyteContextManager, LaunchPlan  # flytekit is optional

    launch_plan = LaunchPlan.get_default_launch_plan(FlyteContextManager.current_context(), workflow)
    serialized = serialize(launch_plan, settings, options)
    return next(item for item in serialized if item.resource_type == ResourceType.LAUNCH_PLAN)


def interactive_version(entity: Any, base: Any) -> str:
    """The version flytekit's interactive mode derives: a hash of the pickled code, settings, images and defaults."""
    from flytekit.remote.remote import FlyteRemote as FlytekitRemote  # flytekit is optional
    from flytekit.remote.remote import _get_pickled_target_dict  # flytekit is optional

    md5_bytes, _ = _pickled(_get_pickled_target_dict, entity)
    version: str = FlytekitRemote._version_from_hash(
        md5_bytes,
        base,
        entity.python_interface.default_inputs_as_kwargs,
        *FlytekitRemote._get_image_names(entity),
        *FlytekitRemote._get_pod_template_hash(entity),
    )
    return version


def interactive_archive(entity: Any) -> bytes:
    """The gzipped pickle of the tasks flytekit's interactive mode uploads for ``entity`` (a launch plan's workflow).

    Raises:
        FlyteInvalidInputException: flytekit cannot pickle it (dynamic or eager tasks), or it exceeds 150 MB.
    """
    import cloudpickle  # type: ignore[import-untyped]  # installed with flytekit
    from flytekit import LaunchPlan  # flytekit is optional
    from flytekit.remote.remote import _get_pickled_target_dict  # flytekit is optional

    target = entity.workflow if isinstance(entity, LaunchPlan) else entity
    _, pickled = _pickled(_get_pickled_target_dict, target)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename=PICKLE_FILE_NAME, mode="wb", fileobj=buffer, mtime=0) as gzipped:
        cloudpickle.dump(pickled, gzipped)
    data = buffer.getvalue()
    if len(data) > _PICKLE_LIMIT:
        raise FlyteInvalidInputException(
            f"the pickled code of {entity.name!r} is {len(data) / 1024 / 1024:.0f} MB, over the 150 MB limit of "
            "interactive mode; make the tasks smaller or register them with register_script"
        )
    return data


def _pickled(pickle_function: Any, entity: Any) -> tuple[bytes, Any]:
    try:
        result: tuple[bytes, Any] = pickle_function(entity)
    except Exception as error:
        raise FlyteInvalidInputException(
            f"interactive mode cannot pickle {getattr(entity, 'name', entity)!r}: {error}; register it with "
            "interactive_mode_enabled=False and a version"
        ) from None
    return result


def script_archive(source_path: str, module_name: str | None, directory: str) -> pathlib.Path:
    """The script-mode archive flytekit builds of the modules loaded from ``source_path`` (``script_mode.tar.gz``)."""
    from flytekit.tools.script_mode import compress_scripts, get_all_modules  # flytekit is optional

    archive = pathlib.Path(directory) / "script_mode.tar.gz"
    compress_scripts(source_path, str(archive), get_all_modules(source_path, module_name))
    return archive


def flytekit_fast_package(root: pathlib.Path, output: str, deref_symlinks: bool, options: Any) -> pathlib.Path:
    """The fast-registration archive flytekit builds of ``root`` with its ``FastPackageOptions``."""
    from flytekit.tools.fast_registration import fast_package  # flytekit is optional

    return pathlib.Path(fast_package(root, output, deref_symlinks, options))


def script_settings(
    image_config: Any,
    project: str,
    domain: str,
    source_path: str,
    envs: Any,
    default_resources: Any,
    fast: tuple[str, str],
) -> Any:
    """The settings flytekit's ``register_script`` registers with: fast registration from the uploaded archive.

    Args:
        image_config: The image (None: flytekit's default image).
        project: The project.
        domain: The domain.
        source_path: The code's root; its git origin becomes the source link.
        envs: Environment variables of the tasks.
        default_resources: Resources of tasks that set none.
        fast: ``(destination_dir, distribution_location)``.
    """
    from flytekit.configuration import (  # flytekit is optional
        FastSerializationSettings,
        ImageConfig,
        SerializationSettings,
    )
    from flytekit.remote.remote import _get_git_repo_url  # flytekit is optional

    return SerializationSettings(
        project=project,
        domain=domain,
        image_config=image_config or ImageConfig.auto_default_image(),
        git_repo=_get_git_repo_url(source_path),
        env=envs,
        default_resources=default_resources,
        fast_serialization_settings=FastSerializationSettings(
            enabled=True, destination_dir=fast[0], distribution_location=fast[1]
        ),
        source_root=source_path,
    )


def script_version(md5_bytes: bytes, settings: Any, entity: Any) -> str:
    """The version flytekit's ``register_script`` derives from the archive, the settings and the entity."""
    from flytekit.core.workflow import WorkflowBase  # flytekit is optional
    from flytekit.remote.remote import FlyteRemote as FlytekitRemote  # flytekit is optional

    defaults = entity.python_interface.default_inputs_as_kwargs if isinstance(entity, WorkflowBase) else None
    version: str = FlytekitRemote._version_from_hash(
        md5_bytes,
        settings,
        defaults,
        *FlytekitRemote._get_image_names(entity),
        *FlytekitRemote._get_pod_template_hash(entity),
    )
    return version


def with_copy_all(fast_package_options: Any) -> Any:
    """``fast_package_options`` copying every file (what the deprecated ``copy_all=True`` of flytekit means)."""
    from flytekit.constants import CopyFileDetection  # flytekit is optional
    from flytekit.tools.fast_registration import FastPackageOptions  # flytekit is optional

    if fast_package_options is None:
        return FastPackageOptions([], copy_style=CopyFileDetection.ALL)
    return dataclasses.replace(fast_package_options, copy_style=CopyFileDetection.ALL)


def copies_files(fast_package_options: Any) -> bool:
    """Whether ``fast_package_options`` ask for a fast-registration archive (a copy style other than NO_COPY)."""
    from flytekit.constants import CopyFileDetection  # flytekit is optional

    return fast_package_options is not None and fast_package_options.copy_style != CopyFileDetection.NO_COPY


def function_workflow_source(entity: Any) -> tuple[str, str]:
    """``(source root, module name)`` of a ``@workflow`` function, as flytekit's ``fast_register_workflow`` finds them.

    Raises:
        FlyteInvalidInputException: not a ``@workflow`` function, or its module file does not match its name.
    """
    from flytekit.core.workflow import PythonFunctionWorkflow  # flytekit is optional

    if not isinstance(entity, PythonFunctionWorkflow):
        raise FlyteInvalidInputException(
            f"entity={getattr(entity, 'name', entity)!r} ({type(entity).__name__}) is not a @workflow function; "
            "fast_register_workflow takes only those, use register_script for other entities"
        )
    module_file = entity._module_file
    if not isinstance(module_file, pathlib.Path):
        raise FlyteInvalidInputException(
            f"the module file of workflow {entity.name!r} is {module_file!r}, not a path; use register_script with "
            "source_path and module_name"
        )
    module_name = ".".join(entity.name.split(".")[:-1])
    module_path = str(pathlib.Path(*entity.name.split(".")[:-1]))
    stem = str(module_file.with_suffix(""))
    if not stem.endswith(module_path):
        raise FlyteInvalidInputException(
            f"the module file {stem!r} of workflow {entity.name!r} does not end with its module path {module_path!r}; "
            "use register_script with source_path and module_name"
        )
    return str(pathlib.Path(stem[: -len(module_path)])), module_name
