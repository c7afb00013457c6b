"""Script mode: ``register_script`` and ``fast_register_workflow`` upload a workflow's code and register it to run it.

As flytekit 1.16's ``FlyteRemote`` does: the modules loaded from ``source_path`` (or, with ``FastPackageOptions``, the
files flytekit's fast packaging selects) are archived and uploaded, and the entity is registered for fast
registration from that archive, versioned from a hash of the archive and the settings when no version is given.
Both need flytekit (it serializes the Python code); without it they raise the error of every flytekit path.
"""

from __future__ import annotations

import dataclasses
import pathlib
import tempfile
from typing import Any

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.identifiers import ResourceType
from airflow_provider_flyte.remote._core import logger
from airflow_provider_flyte.remote._registering import RegisteringMixin
from airflow_provider_flyte.remote.entities import FlyteLaunchPlan, FlyteTask, FlyteWorkflow
from airflow_provider_flyte.remote.options import Options

# Fields of the caller's settings that script mode sets itself (to the archive, its root and its git origin).
_SCRIPT_FIELDS = ("fast_serialization_settings", "source_root", "git_repo")


class ScriptingMixin(RegisteringMixin):
    """``register_script`` and ``fast_register_workflow``."""

    def register_script(
        self,
        entity: Any,
        image_config: Any = None,
        version: str | None = None,
        project: str | None = None,
        domain: str | None = None,
        destination_dir: str = ".",
        copy_all: bool = False,
        default_launch_plan: bool = True,
        options: Options | Any | None = None,
        source_path: str | None = None,
        module_name: str | None = None,
        envs: dict[str, str] | None = None,
        default_resources: Any = None,
        fast_package_options: Any = None,
    ) -> FlyteWorkflow | FlyteTask | FlyteLaunchPlan | Any:
        """Upload the code of a Python-defined flytekit workflow, task or launch plan and register it (script mode).

        Args:
            entity: The flytekit entity; a flytekit reference is returned unchanged (it is registered already).
            image_config: flytekit's ``ImageConfig`` (default: flytekit's default image).
            version: Version to register under (default: a hash of the code, the settings and the entity).
            project: Project (default: the remote's).
            domain: Domain (default: the remote's).
            destination_dir: Where the task unpacks the code.
            copy_all: Deprecated in flytekit: copy every file (``fast_package_options`` copy style ALL).
            default_launch_plan: Also register a workflow's default launch plan.
            options: Ours or flytekit's ``Options`` for the launch plan registered.
            source_path: The root of the code: modules loaded from under it are uploaded.
            module_name: The entity's module (imported from ``source_path`` if it is not loaded yet).
            envs: Environment variables of the tasks.
            default_resources: flytekit's ``ResourceSpec`` for tasks that set no resources.
            fast_package_options: flytekit's ``FastPackageOptions``: a copy style other than NO_COPY uploads a
                fast-registration archive of ``source_path`` built by flytekit instead.

        Returns:
            The registered entity (or the reference given).

        Raises:
            FlyteInvalidInputException: without flytekit, without ``source_path``, or for an entity that is not a
                flytekit task, workflow or launch plan.
        """
        return self._register_script(
            entity,
            image_config,
            (version, project, domain),
            {"destination_dir": destination_dir, "source_path": source_path, "module_name": module_name},
            {"envs": envs, "default_resources": default_resources, "options": options},
            default_launch_plan,
            _fast_options(copy_all, fast_package_options),
        )

    def fast_register_workflow(
        self,
        entity: Any,
        serialization_settings: Any = None,
        version: str | None = None,
        default_launch_plan: bool | None = True,
        options: Options | Any | None = None,
        fast_package_options: Any = None,
    ) -> FlyteWorkflow | FlyteTask | FlyteLaunchPlan | Any:
        """Register a ``@workflow`` function with its code (script mode), found from its module.

        Args:
            entity: A flytekit ``@workflow`` function whose module file matches its name.
            serialization_settings: flytekit's ``SerializationSettings``: every field is used (image, project,
                domain, version, environment, resources, interpreter...) except those script mode sets itself
                (fast-registration settings, source root, git link), named in a WARNING when set.
            version: Version to register under (default: the settings', else a hash as in :meth:`register_script`).
            default_launch_plan: Also register the default launch plan.
            options: Ours or flytekit's ``Options`` for the default launch plan.
            fast_package_options: As in :meth:`register_script`.

        Raises:
            FlyteInvalidInputException: without flytekit, for another kind of entity, or a module file that does not
                match the workflow's name.
        """
        from airflow_provider_flyte.remote import _flytekit

        _flytekit.require_flytekit("fast_register_workflow")
        source_root, module_name = _flytekit.function_workflow_source(entity)
        settings = None
        if serialization_settings is not None:
            settings = _flytekit.check_settings(serialization_settings)
            _warn_replaced_fields(settings)
        return self._register_script(
            entity,
            getattr(settings, "image_config", None),
            (version or getattr(settings, "version", None), *_project_domain(settings)),
            {"destination_dir": ".", "source_path": source_root, "module_name": module_name},
            {"envs": None, "default_resources": None, "options": options},
            bool(default_launch_plan),
            fast_package_options,
            settings,
        )

    def _register_script(
        self,
        entity: Any,
        image_config: Any,
        where: tuple[str | None, str | None, str | None],
        code: dict[str, Any],
        extras: dict[str, Any],
        default_launch_plan: bool,
        fast_package_options: Any,
        base: Any = None,
    ) -> FlyteWorkflow | FlyteTask | FlyteLaunchPlan | Any:
        """Upload the code, build the script-mode settings (from ``base`` when given) and register the entity."""
        from airflow_provider_flyte.remote import _flytekit

        _flytekit.require_flytekit("register_script")
        if _flytekit.reference_id(entity) is not None:
            return entity
        kind = _flytekit.resource_type(entity)
        source_path = code["source_path"]
        if not source_path:
            raise FlyteInvalidInputException(
                "source_path=None: register_script needs the root of the code to upload (the folder the entity's "
                "top-level package or module is in)"
            )
        version, project, domain = where
        project, domain = self.resolve_project_domain(project, domain)
        md5_bytes, location = self._upload_code(
            str(source_path), code["module_name"], fast_package_options, project, domain
        )
        settings = _flytekit.script_settings(
            image_config,
            project,
            domain,
            str(source_path),
            extras["envs"],
            extras["default_resources"],
            (code["destination_dir"], location),
        )
        if base is not None:
            settings = _merged(base, settings, extras)
        version = version or _flytekit.script_version(md5_bytes, settings, entity)
        settings = dataclasses.replace(settings, version=version)
        options = extras["options"]
        if kind is ResourceType.TASK:
            return self.register_task(entity, settings, version)
        if kind is ResourceType.WORKFLOW:
            return self.register_workflow(entity, settings, version, default_launch_plan, options)
        return self.register_launch_plan(entity, version, project, domain, options, settings)

    def _upload_code(
        self, source_path: str, module_name: str | None, fast_package_options: Any, project: str, domain: str
    ) -> tuple[bytes, str]:
        """Archive and upload the code: flytekit's fast package with copying options, else its script archive."""
        from airflow_provider_flyte.remote import _flytekit, fs

        with tempfile.TemporaryDirectory() as scratch:
            if _flytekit.copies_files(fast_package_options):
                return self.fast_package(pathlib.Path(source_path), False, scratch, fast_package_options)
            archive = _flytekit.script_archive(source_path, module_name, scratch)
            return fs.upload_file(self.client, archive, project, domain)


def _fast_options(copy_all: bool, fast_package_options: Any) -> Any:
    if not copy_all:
        return fast_package_options
    from airflow_provider_flyte.remote import _flytekit

    _flytekit.require_flytekit("register_script")
    logger.info(
        "The copy_all flag of register_script is deprecated (as in flytekit); use the copy_style field of "
        "fast_package_options instead"
    )
    return _flytekit.with_copy_all(fast_package_options)


def _project_domain(settings: Any) -> tuple[str | None, str | None]:
    return getattr(settings, "project", None), getattr(settings, "domain", None)


def _warn_replaced_fields(settings: Any) -> None:
    for name in _SCRIPT_FIELDS:
        value = getattr(settings, name)
        if value and not (name == "fast_serialization_settings" and not value.enabled):
            logger.warning(
                "serialization_settings.%s=%r is not used: fast_register_workflow uploads the workflow's code and "
                "sets it to that upload",
                name,
                value,
            )


def _merged(base: Any, script: Any, extras: dict[str, Any]) -> Any:
    """The caller's settings with what script mode sets (code location, source root, git link, project, domain)."""
    return dataclasses.replace(
        base,
        project=script.project,
        domain=script.domain,
        version=None,
        image_config=script.image_config,
        git_repo=script.git_repo,
        env=extras["envs"] if extras["envs"] is not None else base.env,
        default_resources=extras["default_resources"] or base.default_resources,
        fast_serialization_settings=script.fast_serialization_settings,
        source_root=script.source_root,
    )
