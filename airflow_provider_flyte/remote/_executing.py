"""Starting executions: ``execute`` (inputs converted and checked, local files uploaded), relaunch, recover, terminate.

Named creates are exactly-once (:mod:`._named`): a name that already exists, or a create whose outcome is unknown
after the client's retries, is settled by looking the name up, so a retried call finds the run the first one
started.
"""

from __future__ import annotations

import pathlib
import uuid
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.exceptions import FlyteEntityNotExistException, FlyteInvalidInputException
from airflow_provider_flyte.identifiers import (
    Identifier,
    ResourceType,
    WorkflowExecutionIdentifier,
    validate_execution_name,
)
from airflow_provider_flyte.remote._core import is_flytekit_entity, logger
from airflow_provider_flyte.remote._following import FollowingMixin
from airflow_provider_flyte.remote._named import create_named
from airflow_provider_flyte.remote._queries import as_execution_id
from airflow_provider_flyte.remote._registering import RegisteringMixin
from airflow_provider_flyte.remote.entities import FlyteLaunchPlan, FlyteTask, FlyteWorkflow
from airflow_provider_flyte.remote.executions import FlyteWorkflowExecution
from airflow_provider_flyte.remote.options import Options, as_options

if TYPE_CHECKING:
    from flyteidl.core import literals_pb2


class ExecutingMixin(RegisteringMixin, FollowingMixin):
    """``execute``, ``relaunch_execution``, ``recover_execution`` and ``terminate``."""

    def execute(
        self,
        entity: Any,
        inputs: Mapping[str, Any] | None = None,
        project: str | None = None,
        domain: str | None = None,
        name: str | None = None,
        version: str | None = None,
        execution_name: str | None = None,
        execution_name_prefix: str | None = None,
        image_config: Any = None,
        options: Options | Any | None = None,
        wait: bool = False,
        type_hints: Mapping[str, type] | None = None,
        overwrite_cache: bool | None = None,
        interruptible: bool | None = None,
        envs: Mapping[str, str] | None = None,
        tags: Iterable[str] | None = None,
        cluster_pool: str | None = None,
        execution_cluster_label: str | None = None,
        serialization_settings: Any = None,
        timeout: timedelta | float | None = None,
        poll_interval: timedelta | float | None = None,
    ) -> FlyteWorkflowExecution:
        """Launch a task, workflow (through its default launch plan) or launch plan.

        Inputs are converted and checked against the entity's interface before anything is sent. With an
        ``execution_name`` that already exists, that execution is returned instead (a retried call thus finds the
        run the first attempt started).

        Args:
            entity: A fetched entity, a :class:`LazyEntity`, an :class:`Identifier` or ``"lp:p:d:name:version"``;
                a Python-defined flytekit entity is registered first (``version`` required unless interactive mode
                derives one; needs flytekit); a flytekit ``reference_task`` / ``reference_workflow`` /
                ``reference_launch_plan`` runs the entity it points at (in its project and domain by default).
            inputs: Input values by name (Python values or ``core.Literal``).
            project: Project of the execution (default: the remote's, else the entity's).
            domain: Domain of the execution (default: the remote's, else the entity's).
            name: Accepted for flytekit compatibility (the entity's name when it is given as a flytekit object).
            version: Version to resolve identifiers and strings at, and to register flytekit entities under.
            execution_name: Exact name of the execution (``[a-z][a-z0-9-]*``, at most 63 characters).
            execution_name_prefix: Generate ``<prefix>-<19 random hex characters>`` instead.
            image_config: flytekit's ``ImageConfig`` of a Python-defined flytekit entity registered first.
            options: Execution settings (labels, annotations, raw output location, ...): ours or flytekit's
                ``Options`` (converted field by field).
            wait: Block until the execution is done.
            type_hints: Python types to convert inputs (and outputs) with, by name.
            overwrite_cache: Recompute cached results.
            interruptible: Override the entity's interruptible setting.
            envs: Environment variables for every task of the execution.
            tags: Tags attached to the execution.
            cluster_pool: Cluster pool to run in.
            execution_cluster_label: Cluster label to run on.
            serialization_settings: flytekit's ``SerializationSettings`` of a Python-defined flytekit entity
                registered first (every field kept, as in :meth:`register_task`).
            timeout: With ``wait``, give up (FlyteTimeout) after this long.
            poll_interval: With ``wait``, seconds between polls.

        Raises:
            FlyteInvalidInputException: bad inputs or arguments (the message names them).
            FlyteEntityNotExistException: the entity does not exist.
        """
        from flyteidl.admin import cluster_assignment_pb2, common_pb2, execution_pb2, matchable_resource_pb2
        from flyteidl.core import literals_pb2

        del name  # identifies local flytekit entities in flytekit; ours carry their own names
        options = as_options(options)
        if wait:
            self.wait_clock("", timeout, poll_interval)  # bad wait arguments fail before anything is launched
        if is_flytekit_entity(entity):
            entity, project, domain = self._flytekit_target(
                entity, project, domain, version, (image_config, serialization_settings)
            )
        else:
            _warn_unused_registration_arguments(entity, image_config, serialization_settings)
        target = self._resolve_target(entity, version)
        project = project or self.default_project or target.id.project
        domain = domain or self.default_domain or target.id.domain
        exec_name = _execution_name(execution_name, execution_name_prefix)
        literal_inputs = self._input_literals(target, inputs or {}, type_hints, project, domain)

        spec = execution_pb2.ExecutionSpec(
            launch_plan=target.id.to_flyte_idl(),
            metadata=execution_pb2.ExecutionMetadata(
                mode=execution_pb2.ExecutionMetadata.MANUAL, principal="placeholder"
            ),
        )
        (options or Options()).merged_with(overwrite_cache=overwrite_cache, interruptible=interruptible).apply_to(spec)
        if envs:
            spec.envs.CopyFrom(
                common_pb2.Envs(values=[literals_pb2.KeyValuePair(key=str(k), value=str(v)) for k, v in envs.items()])
            )
        if tags:
            spec.tags.extend(_strings(tags, "tags"))
        if cluster_pool:
            spec.cluster_assignment.CopyFrom(cluster_assignment_pb2.ClusterAssignment(cluster_pool_name=cluster_pool))
        if execution_cluster_label:
            spec.execution_cluster_label.CopyFrom(
                matchable_resource_pb2.ExecutionClusterLabel(value=execution_cluster_label)
            )

        execution_id = create_named(
            self.client,
            lambda: WorkflowExecutionIdentifier.from_flyte_idl(
                self.client.create_execution(project, domain, exec_name, spec, literal_inputs)
            ),
            None if exec_name is None else WorkflowExecutionIdentifier(project, domain, exec_name),
        )
        execution = FlyteWorkflowExecution(
            self.client.get_execution(execution_id), self._as_remote(), target.interface, type_hints=type_hints
        )
        # Logged only now: inputs passed their checks and Admin accepted the execution.
        logger.info(
            "Launched %s as Flyte execution %s: %s", target.id, execution_id, self.generate_console_url(execution)
        )
        if wait:
            return self.wait(execution, timeout=timeout, poll_interval=poll_interval)
        return execution

    def _input_literals(
        self,
        target: FlyteTask | FlyteLaunchPlan,
        inputs: Mapping[str, Any],
        type_hints: Mapping[str, type] | None,
        project: str,
        domain: str,
    ) -> literals_pb2.LiteralMap:
        from airflow_provider_flyte.literals import inputs_to_literal_map

        if isinstance(target, FlyteLaunchPlan):
            fixed = sorted(set(inputs) & set(target.fixed_inputs))
            if fixed:
                raise FlyteInvalidInputException(
                    f"input(s) {', '.join(fixed)} are fixed by launch plan {target.id} and cannot be overridden"
                )

        def uploader(local_path: pathlib.Path, is_directory: bool) -> str:
            return self._upload_input(local_path, is_directory, project, domain)

        return inputs_to_literal_map(inputs, target.input_variables, type_hints=type_hints, uploader=uploader)

    def _upload_input(self, local_path: pathlib.Path, is_directory: bool, project: str, domain: str) -> str:
        """Upload a file (or each file of a directory, under one common prefix) given as an input."""
        from airflow_provider_flyte.remote import fs

        if not is_directory:
            return fs.upload_file(self.client, local_path, project, domain)[1]
        root = f"dir-{uuid.uuid4().hex}"
        files = sorted(path for path in pathlib.Path(local_path).rglob("*") if path.is_file())
        if not files:
            raise FlyteInvalidInputException(f"directory {str(local_path)!r} is empty; nothing to upload")
        natives = [fs.upload_file(self.client, path, project, domain, filename_root=root)[1] for path in files]
        return natives[0][: natives[0].index(root) + len(root)] + "/"

    def _flytekit_target(
        self,
        entity: Any,
        project: str | None,
        domain: str | None,
        version: str | None,
        registration_settings: tuple[Any, Any],
    ) -> tuple[Any, str | None, str | None]:
        """What to run for a flytekit entity, and the execution's project and domain.

        A reference runs the entity it points at, by default in the reference's project and domain (as flytekit
        does); a Python-defined entity is registered first.
        """
        from airflow_provider_flyte.remote import _flytekit

        reference = _flytekit.reference_id(entity)
        if reference is None:
            image_config, settings = registration_settings
            ident = self._register_flytekit_for_execution(entity, project, domain, version, image_config, settings)
            return ident, project, domain
        _warn_unused_registration_arguments(entity, *registration_settings)
        return self._referenced_target(reference), project or reference.project, domain or reference.domain

    def _referenced_target(self, reference: Identifier) -> FlyteTask | FlyteLaunchPlan:
        """A reference's task or launch plan; a referenced workflow runs through its default launch plan.

        When the workflow has no launch plan of its name and version, a plain one is registered (every input
        required). flytekit tries to register its own default launch plan there, which fails for a reference.
        """
        fetched = self._fetch_referenced(reference)
        if not isinstance(fetched, FlyteWorkflow):
            return fetched
        ident = fetched.id
        try:
            return self.fetch_launch_plan(ident.project, ident.domain, ident.name, ident.version)
        except FlyteEntityNotExistException:
            logger.info("Registering a default launch plan for %s: it has none", ident)
        lp_id = self._register_default_launch_plan(ident)
        return self.fetch_launch_plan(lp_id.project, lp_id.domain, lp_id.name, lp_id.version)

    def _register_flytekit_for_execution(
        self,
        entity: Any,
        project: str | None,
        domain: str | None,
        version: str | None,
        image_config: Any,
        settings: Any,
    ) -> Identifier:
        from airflow_provider_flyte.remote import _flytekit

        kind = _flytekit.resource_type(entity)
        if not (version or getattr(settings, "version", None) or self.interactive_mode_enabled):
            raise FlyteInvalidInputException(
                f"version is required to register the flytekit entity {getattr(entity, 'name', entity)!r} "
                "before running it: pass version=... (or serialization_settings with a version)"
            )
        ident = self._register_flytekit(
            entity,
            kind,
            settings,
            (project, domain, version),
            default_launch_plan=kind is ResourceType.WORKFLOW,
            image_config=image_config,
            reuse_registered=True,
        )
        if kind is ResourceType.WORKFLOW:
            # A workflow runs through its default launch plan, which carries the workflow's Python defaults.
            return Identifier(ResourceType.LAUNCH_PLAN, ident.project, ident.domain, ident.name, ident.version)
        return ident

    def terminate(self, execution: FlyteWorkflowExecution | WorkflowExecutionIdentifier | str, cause: str) -> None:
        """Abort a running execution, recording ``cause``."""
        execution_id = as_execution_id(execution, self.default_project, self.default_domain, "execution")
        self.client.terminate_execution(execution_id, cause)

    def relaunch_execution(self, id: Any, name: str | None = None) -> FlyteWorkflowExecution:
        """Run an execution again from scratch, with the same inputs; returns the new execution."""
        execution_id = as_execution_id(id, self.default_project, self.default_domain)
        new_id = create_named(
            self.client,
            lambda: WorkflowExecutionIdentifier.from_flyte_idl(self.client.relaunch_execution(execution_id, name=name)),
            _successor_id(execution_id, name),
        )
        return FlyteWorkflowExecution(self.client.get_execution(new_id), self._as_remote())

    def recover_execution(self, id: Any, name: str | None = None) -> FlyteWorkflowExecution:
        """Run a failed execution again, reusing the outputs of the nodes that succeeded; returns the new execution."""
        execution_id = as_execution_id(id, self.default_project, self.default_domain)
        new_id = create_named(
            self.client,
            lambda: WorkflowExecutionIdentifier.from_flyte_idl(self.client.recover_execution(execution_id, name=name)),
            _successor_id(execution_id, name),
        )
        return FlyteWorkflowExecution(self.client.get_execution(new_id), self._as_remote())


def _execution_name(execution_name: str | None, execution_name_prefix: str | None) -> str | None:
    """The name ``execute`` creates: ``execution_name``, ``<prefix>-<19 random hex characters>`` or ``None``.

    Admin's rule is checked on the lowercased name; upper case is refused outright (the Kubernetes object created for
    the execution cannot carry it and the run would fail after creation), by the rule the operators share
    (:func:`airflow_provider_flyte.identifiers.validate_execution_name`).

    Raises:
        FlyteInvalidInputException: both were given, or the name is not a valid execution name (naming the argument).
    """
    if execution_name and execution_name_prefix:
        raise FlyteInvalidInputException(
            f"pass execution_name={execution_name!r} or execution_name_prefix={execution_name_prefix!r}, not both"
        )
    if execution_name_prefix:
        name = f"{execution_name_prefix}-{uuid.uuid4().hex[:19]}"
        return validate_execution_name(name, f"execution_name_prefix={execution_name_prefix!r} gives execution_name")
    if execution_name:
        return validate_execution_name(execution_name, "execution_name")
    return None


def _warn_unused_registration_arguments(entity: Any, image_config: Any, serialization_settings: Any) -> None:
    """Name in a WARNING the registration arguments of ``execute`` that an already registered entity cannot use."""
    for argument, value in (("image_config", image_config), ("serialization_settings", serialization_settings)):
        if value is not None:
            logger.warning(
                "execute(%s=...) is not used: %r is registered already; it applies only to a Python-defined flytekit "
                "entity registered before running",
                argument,
                entity,
            )


def _strings(values: Iterable[Any], argument: str) -> list[str]:
    items = [values] if isinstance(values, str) else list(values)
    if not all(isinstance(item, str) and item for item in items):
        raise FlyteInvalidInputException(f"{argument}={values!r} must be a list of non-empty strings")
    return items


def _successor_id(source: WorkflowExecutionIdentifier, name: str | None) -> WorkflowExecutionIdentifier | None:
    """The id a named relaunch or recover of ``source`` creates (same project and domain), if it is named."""
    return None if not name else WorkflowExecutionIdentifier(source.project, source.domain, name)
