"""FlyteRemote: fetch, register and execute Flyte entities, and follow their executions.

The class is a thin layer over :class:`~airflow_provider_flyte.clients.friendly.SynchronousFlyteClient`: each method
resolves defaults, builds the request, makes as few RPCs as the task needs and wraps the answer in the objects of
:mod:`.entities` and :mod:`.executions`. Planning, data transfer, signals and registration live in their own modules
(:mod:`.backfill`, :mod:`.fs`, :mod:`.signals`, :mod:`.registration`).

Where flytekit's ``FlyteRemote`` is costly or wrong, this one differs (see ``docs/remote.md``): ``wait`` makes one
``GetExecution`` per poll unless asked for node details, ``fetch_launch_plan`` is one RPC (plus one to find the latest
version), signal and project listings follow every page, ``set_input`` uses the signal's declared type, and
``relaunch_execution`` / ``recover_execution`` exist here.
"""

from __future__ import annotations

import logging
import pathlib
import re
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.exceptions import (
    FlyteEntityNotExistException,
    FlyteInvalidInputException,
    FlyteTimeout,
)
from airflow_provider_flyte.identifiers import (
    Identifier,
    NamedEntityIdentifier,
    NodeExecutionIdentifier,
    ResourceType,
    TaskExecutionIdentifier,
    WorkflowExecutionIdentifier,
)
from airflow_provider_flyte.remote import console
from airflow_provider_flyte.remote._named import create_named
from airflow_provider_flyte.remote._queries import (
    PAGE_SIZE,
    as_execution_id,
    join_filters,
    missing_scope,
    newest_first,
    paginate,
)
from airflow_provider_flyte.remote.entities import FlyteEntity, FlyteLaunchPlan, FlyteTask, FlyteWorkflow
from airflow_provider_flyte.remote.executions import (
    FlyteNodeExecution,
    FlyteTaskExecution,
    FlyteWorkflowExecution,
    LiteralsView,
)
from airflow_provider_flyte.remote.lazy_entity import LazyEntity
from airflow_provider_flyte.remote.options import Options
from airflow_provider_flyte.waiting import WaitClock, check_seconds, poll

if TYPE_CHECKING:
    from flyteidl.admin import common_pb2, execution_pb2, project_pb2, signal_pb2
    from flyteidl.core import literals_pb2, types_pb2

    from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient
    from airflow_provider_flyte.remote.backfill import BackfillPlan, WorkflowFailurePolicy
    from airflow_provider_flyte.remote.fs import FlyteFS
    from airflow_provider_flyte.remote.metrics import FlyteExecutionSpan

logger = logging.getLogger(__name__)

EntityT = TypeVar("EntityT", bound=FlyteEntity)

# Admin's rule for execution names (checked on the lowercased name; we reject upper case outright because the
# Kubernetes object created for the execution cannot carry it and the run would fail after creation).
_EXECUTION_NAME = re.compile(r"^[a-z][a-z\-0-9]*$")
_EXECUTION_NAME_MAX = 63
_DEFAULT_MAX_POLL = 30.0

_LATEST = "latest"


class FlyteRemote:
    """Client-side access to a Flyte deployment: entities, executions, signals, data.

    Args:
        config: How to reach Flyte Admin.
        default_project: Project used when a method's ``project`` is omitted.
        default_domain: Domain used when a method's ``domain`` is omitted.
        data_upload_location: Accepted for flytekit compatibility; uploads go through the data proxy, which decides
            the storage location.
        client: A ready client to use instead of creating one from ``config`` (the remote then does not close it).
    """

    def __init__(
        self,
        config: PlatformConfig | None = None,
        default_project: str | None = None,
        default_domain: str | None = None,
        data_upload_location: str = "flyte://my-s3-bucket/",
        *,
        client: SynchronousFlyteClient | None = None,
    ) -> None:
        self.config = config if config is not None else PlatformConfig.for_sandbox()
        self.default_project = default_project
        self.default_domain = default_domain
        self.data_upload_location = data_upload_location
        self._client = client
        self._owns_client = client is None
        self._client_lock = threading.Lock()
        self._fs: FlyteFS | None = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def auto(
        cls,
        config_file: str | None = None,
        default_project: str | None = None,
        default_domain: str | None = None,
        data_upload_location: str = "flyte://my-s3-bucket/",
    ) -> FlyteRemote:
        """A remote configured from flytekit's environment variables and config file (see ``PlatformConfig.auto``)."""
        return cls(PlatformConfig.auto(config_file), default_project, default_domain, data_upload_location)

    @classmethod
    def for_endpoint(
        cls,
        endpoint: str,
        insecure: bool = False,
        default_project: str | None = None,
        default_domain: str | None = None,
        data_upload_location: str = "flyte://my-s3-bucket/",
        **config_fields: Any,
    ) -> FlyteRemote:
        """A remote for ``endpoint`` (``host:port``); extra keyword arguments are :class:`PlatformConfig` fields."""
        config = PlatformConfig.for_endpoint(endpoint, insecure=insecure, **config_fields)
        return cls(config, default_project, default_domain, data_upload_location)

    @classmethod
    def for_sandbox(
        cls,
        default_project: str | None = None,
        default_domain: str | None = None,
        endpoint: str | None = None,
    ) -> FlyteRemote:
        """A remote for a local sandbox: ``localhost:30080`` unless ``endpoint`` says otherwise, plain-text, no auth."""
        config = PlatformConfig.for_sandbox(endpoint) if endpoint else PlatformConfig.for_sandbox()
        return cls(config, default_project, default_domain)

    @property
    def client(self) -> SynchronousFlyteClient:
        """The friendly client, created on first use."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient

                    self._client = SynchronousFlyteClient(self.config)
        return self._client

    def close(self) -> None:
        """Close the client's channel if this remote created it."""
        if self._client is not None and self._owns_client:
            self._client.close()
            self._client = None

    def __enter__(self) -> FlyteRemote:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"FlyteRemote({self.config.endpoint!r}, project={self.default_project!r}, domain={self.default_domain!r})"
        )

    def resolve_project_domain(self, project: str | None, domain: str | None) -> tuple[str, str]:
        """``project`` and ``domain``, falling back to the remote's defaults.

        Raises:
            FlyteInvalidInputException: naming whichever is missing.
        """
        project = project or self.default_project
        domain = domain or self.default_domain
        if not project:
            raise FlyteInvalidInputException(
                "project is required: pass project= or create the remote with default_project"
            )
        if not domain:
            raise FlyteInvalidInputException(
                "domain is required: pass domain= or create the remote with default_domain"
            )
        return project, domain

    # ------------------------------------------------------------------ entities

    def fetch_task(
        self, project: str | None = None, domain: str | None = None, name: str | None = None, version: str | None = None
    ) -> FlyteTask:
        """The task ``name`` at ``version`` (the most recently registered one when ``version`` is None or "latest").

        Raises:
            FlyteEntityNotExistException: when there is no such task (version).
        """
        return FlyteTask(self._fetch_entity(ResourceType.TASK, project, domain, name, version))

    def fetch_workflow(
        self, project: str | None = None, domain: str | None = None, name: str | None = None, version: str | None = None
    ) -> FlyteWorkflow:
        """The workflow ``name`` at ``version`` (latest when omitted). Referenced launch plans are not fetched."""
        return FlyteWorkflow(self._fetch_entity(ResourceType.WORKFLOW, project, domain, name, version))

    def fetch_launch_plan(
        self, project: str | None = None, domain: str | None = None, name: str | None = None, version: str | None = None
    ) -> FlyteLaunchPlan:
        """The launch plan ``name`` at ``version`` (latest when omitted), with its interface from its own closure."""
        return FlyteLaunchPlan(self._fetch_entity(ResourceType.LAUNCH_PLAN, project, domain, name, version))

    def fetch_active_launchplan(
        self, project: str | None = None, domain: str | None = None, name: str | None = None
    ) -> FlyteLaunchPlan | None:
        """The active version of launch plan ``name``, or ``None`` when no version is active."""
        project, domain = self.resolve_project_domain(project, domain)
        named = NamedEntityIdentifier(project, domain, _required_name(name))
        try:
            return FlyteLaunchPlan(self.client.get_active_launch_plan(named))
        except FlyteEntityNotExistException:
            return None

    def fetch_task_lazy(
        self, project: str | None = None, domain: str | None = None, name: str | None = None, version: str | None = None
    ) -> LazyEntity[FlyteTask]:
        """A :class:`LazyEntity` fetching the task on first use."""
        return LazyEntity(_required_name(name), lambda: self.fetch_task(project, domain, name, version))

    def fetch_workflow_lazy(
        self, project: str | None = None, domain: str | None = None, name: str | None = None, version: str | None = None
    ) -> LazyEntity[FlyteWorkflow]:
        """A :class:`LazyEntity` fetching the workflow on first use."""
        return LazyEntity(_required_name(name), lambda: self.fetch_workflow(project, domain, name, version))

    def fetch_launch_plan_lazy(
        self, project: str | None = None, domain: str | None = None, name: str | None = None, version: str | None = None
    ) -> LazyEntity[FlyteLaunchPlan]:
        """A :class:`LazyEntity` fetching the launch plan on first use."""
        return LazyEntity(_required_name(name), lambda: self.fetch_launch_plan(project, domain, name, version))

    def activate_launchplan(self, ident: Identifier) -> None:
        """Make this launch plan version the active one (its schedule starts firing)."""
        from flyteidl.admin import launch_plan_pb2

        self.client.update_launch_plan(ident.to_flyte_idl(), launch_plan_pb2.ACTIVE)

    def deactivate_launchplan(self, ident: Identifier) -> None:
        """Deactivate this launch plan version."""
        from flyteidl.admin import launch_plan_pb2

        self.client.update_launch_plan(ident.to_flyte_idl(), launch_plan_pb2.INACTIVE)

    def _versioned_id(
        self,
        resource_type: ResourceType,
        project: str | None,
        domain: str | None,
        name: str | None,
        version: str | None,
    ) -> Identifier:
        project, domain = self.resolve_project_domain(project, domain)
        name = _required_name(name)
        if version and version != _LATEST:
            return Identifier(resource_type, project, domain, name, version)
        named = NamedEntityIdentifier(project, domain, name)
        items: Sequence[Any]
        if resource_type is ResourceType.TASK:
            items, _token = self.client.list_tasks_paginated(named, limit=1, sort_by=newest_first())
        elif resource_type is ResourceType.WORKFLOW:
            items, _token = self.client.list_workflows_paginated(named, limit=1, sort_by=newest_first())
        else:
            items, _token = self.client.list_launch_plans_paginated(named, limit=1, sort_by=newest_first())
        if not items:
            kind = resource_type.name.lower().replace("_", " ")
            raise FlyteEntityNotExistException(f"no {kind} named {name!r} is registered in {project}/{domain}")
        return Identifier.from_flyte_idl(items[0].id)

    def _fetch_entity(
        self,
        resource_type: ResourceType,
        project: str | None,
        domain: str | None,
        name: str | None,
        version: str | None,
    ) -> Any:
        """The registered entity's message; when it is missing because its project or domain does not exist, say so.

        Raises:
            FlyteEntityNotExistException: ``project 'x' does not exist (...)``, ``domain 'y' does not exist in project
                'x'; ...`` or, when both exist, the entity's own not-found error.
        """
        project, domain = self.resolve_project_domain(project, domain)
        get = {
            ResourceType.TASK: self.client.get_task,
            ResourceType.WORKFLOW: self.client.get_workflow,
            ResourceType.LAUNCH_PLAN: self.client.get_launch_plan,
        }[resource_type]
        try:
            return get(self._versioned_id(resource_type, project, domain, name, version))
        except FlyteEntityNotExistException as error:
            kind = resource_type.name.lower().replace("_", " ")
            scope_error = missing_scope(self.client, project, domain, f"{kind} {name!r}")
            if scope_error is None:
                raise
            raise scope_error from error

    def _resolve_target(self, entity: Any, version: str | None) -> FlyteTask | FlyteLaunchPlan:
        """What to launch for ``entity``: a task, or a launch plan (a workflow's default one)."""
        if isinstance(entity, LazyEntity):
            entity = entity.entity
        if isinstance(entity, (FlyteTask, FlyteLaunchPlan)):
            return entity
        if isinstance(entity, FlyteWorkflow):
            ident = entity.id
            return self.fetch_launch_plan(ident.project, ident.domain, ident.name, ident.version)
        if isinstance(entity, str):
            entity = Identifier.from_python_std(entity)
        if getattr(getattr(entity, "DESCRIPTOR", None), "full_name", None) == "flyteidl.core.Identifier":
            entity = Identifier.from_flyte_idl(entity)
        if isinstance(entity, Identifier):
            fetch = {
                ResourceType.TASK: self.fetch_task,
                ResourceType.WORKFLOW: self.fetch_launch_plan,  # a workflow runs through its default launch plan
                ResourceType.LAUNCH_PLAN: self.fetch_launch_plan,
            }.get(entity.resource_type)
            if fetch is None:
                raise FlyteInvalidInputException(f"entity {entity} is not a task, workflow or launch plan")
            return fetch(entity.project, entity.domain, entity.name, version or entity.version)  # type: ignore[return-value]
        raise FlyteInvalidInputException(
            f"entity={entity!r} ({type(entity).__name__}) cannot be executed; pass a FlyteTask, FlyteWorkflow, "
            "FlyteLaunchPlan, LazyEntity, Identifier or a 'tsk:'/'wf:'/'lp:' identifier string"
        )

    # ------------------------------------------------------------------ executions

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
        options: Options | None = None,
        wait: bool = False,
        type_hints: Mapping[str, type] | None = None,
        overwrite_cache: bool | None = None,
        interruptible: bool | None = None,
        envs: Mapping[str, str] | None = None,
        tags: Iterable[str] | None = None,
        cluster_pool: str | None = None,
        execution_cluster_label: str | None = None,
        timeout: timedelta | float | None = None,
        poll_interval: timedelta | float | None = None,
    ) -> FlyteWorkflowExecution:
        """Launch a task, workflow (through its default launch plan) or launch plan.

        Inputs are converted and checked against the entity's interface before anything is sent. With an
        ``execution_name`` that already exists, that execution is returned instead (a retried call thus finds the
        run the first attempt started).

        Args:
            entity: A fetched entity, a :class:`LazyEntity`, an :class:`Identifier` or ``"lp:p:d:name:version"``;
                a Python-defined flytekit entity is registered first (``version`` required; needs flytekit).
            inputs: Input values by name (Python values or ``core.Literal``).
            project: Project of the execution (default: the remote's, else the entity's).
            domain: Domain of the execution (default: the remote's, else the entity's).
            name: Accepted for flytekit compatibility (the entity's name when it is given as a flytekit object).
            version: Version to resolve identifiers and strings at, and to register flytekit entities under.
            execution_name: Exact name of the execution (``[a-z][a-z0-9-]*``, at most 63 characters).
            execution_name_prefix: Generate ``<prefix>-<19 random hex characters>`` instead.
            options: Execution settings (labels, annotations, raw output location, ...).
            wait: Block until the execution is done.
            type_hints: Python types to convert inputs (and outputs) with, by name.
            overwrite_cache: Recompute cached results.
            interruptible: Override the entity's interruptible setting.
            envs: Environment variables for every task of the execution.
            tags: Tags attached to the execution.
            cluster_pool: Cluster pool to run in.
            execution_cluster_label: Cluster label to run on.
            timeout: With ``wait``, give up (FlyteTimeout) after this long.
            poll_interval: With ``wait``, seconds between polls.

        Raises:
            FlyteInvalidInputException: bad inputs or arguments (the message names them).
            FlyteEntityNotExistException: the entity does not exist.
        """
        from flyteidl.admin import cluster_assignment_pb2, common_pb2, execution_pb2, matchable_resource_pb2
        from flyteidl.core import literals_pb2

        del name  # identifies local flytekit entities in flytekit; ours carry their own names
        if wait:
            self.wait_clock("", timeout, poll_interval)  # bad wait arguments fail before anything is launched
        if _is_flytekit_entity(entity):
            entity = self._register_flytekit_for_execution(entity, project, domain, version)
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
            self.client.get_execution(execution_id), self, target.interface, type_hints=type_hints
        )
        logger.info("Launched %s: %s", execution_id, self.generate_console_url(execution))
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

    def _register_flytekit_for_execution(
        self, entity: Any, project: str | None, domain: str | None, version: str | None
    ) -> Identifier:
        if not version:
            raise FlyteInvalidInputException(
                f"version is required to register the flytekit entity {getattr(entity, 'name', entity)!r} "
                "before running it"
            )
        from airflow_provider_flyte.remote import registration

        project, domain = self.resolve_project_domain(project, domain)
        kind = registration.flytekit_resource_type(entity)
        registered = self.register_flytekit_entity(entity, project, domain, version)
        if kind is ResourceType.WORKFLOW:
            # A workflow runs through its default launch plan, which carries the workflow's Python defaults.
            return self._register_default_launch_plan(Identifier(kind, project, domain, entity.name, version), entity)
        return [ident for ident in registered if ident.resource_type == kind][-1]

    def fetch_execution(
        self, project: str | None = None, domain: str | None = None, name: str | None = None
    ) -> FlyteWorkflowExecution:
        """The execution ``name`` (one ``GetExecution``; node details load on first use)."""
        project, domain = self.resolve_project_domain(project, domain)
        execution_id = WorkflowExecutionIdentifier(project, domain, _required_name(name))
        return FlyteWorkflowExecution(self.client.get_execution(execution_id), self)

    def sync(
        self, execution: FlyteWorkflowExecution, entity_definition: Any = None, sync_nodes: bool = False
    ) -> FlyteWorkflowExecution:
        """Refresh an execution (flytekit's name; ``entity_definition`` is accepted and not needed)."""
        del entity_definition
        return self.sync_execution(execution, sync_nodes=sync_nodes)

    def sync_execution(self, execution: FlyteWorkflowExecution, sync_nodes: bool = False) -> FlyteWorkflowExecution:
        """Refresh an execution with one ``GetExecution``.

        With ``sync_nodes``, also load its node and task executions, and the children of sub-workflow, dynamic and
        launch-plan nodes (one listing per node level).
        """
        execution._update(self.client.get_execution(execution.id))
        if sync_nodes:
            nodes = self._node_executions(execution.id, parent_node_id=None)
            execution._set_node_executions({node.node_id: node for node in nodes})
        return execution

    def _node_executions(
        self, execution_id: WorkflowExecutionIdentifier, parent_node_id: str | None
    ) -> list[FlyteNodeExecution]:
        def page(token: str) -> tuple[list[Any], str]:
            items, next_token = self.client.list_node_executions(
                execution_id, limit=PAGE_SIZE, token=token, unique_parent_id=parent_node_id
            )
            return list(items), next_token

        nodes = [FlyteNodeExecution(pb, self) for pb in paginate(page)]
        for node in nodes:
            self._sync_node(node)
        return nodes

    def _sync_node(self, node: FlyteNodeExecution) -> None:
        if node.node_id in ("start-node", "end-node"):
            return
        if node.is_parent_node:
            children = self._node_executions(node.id.execution_id, parent_node_id=node.node_id)
            node.subworkflow_node_executions = {child.node_id: child for child in children}
        child_execution = node.child_execution_id
        if child_execution is not None:
            launched = FlyteWorkflowExecution(self.client.get_execution(child_execution), self)
            node.workflow_executions = [self.sync_execution(launched, sync_nodes=True)]
        # A dynamic node is a parent that also ran its task: its attempts produced the children's workflow.
        ran_task = node.closure.HasField("task_node_metadata") or node.is_dynamic
        if ran_task or not (node.is_parent_node or child_execution):

            def page(token: str) -> tuple[list[Any], str]:
                items, next_token = self.client.list_task_executions_paginated(node.id, limit=PAGE_SIZE, token=token)
                return list(items), next_token

            attempts = [FlyteTaskExecution(pb, self) for pb in paginate(page)]
            node.task_executions = sorted(attempts, key=lambda attempt: attempt.retry_attempt)
            for attempt in node.task_executions:
                attempt._known_children = node.subworkflow_node_executions

    def fetch_task_node_executions(
        self,
        task_execution_id: TaskExecutionIdentifier,
        known: Mapping[str, FlyteNodeExecution] | None = None,
    ) -> dict[str, FlyteNodeExecution]:
        """The node executions a task attempt launched (a dynamic task's children), by node id.

        One ``ListNodeExecutionsForTask`` per page; nodes found in ``known`` are taken from there, the others are
        loaded with their attempts and children.
        """

        def page(token: str) -> tuple[list[Any], str]:
            items, next_token = self.client.list_node_executions_for_task_paginated(
                task_execution_id, limit=PAGE_SIZE, token=token
            )
            return list(items), next_token

        launched: dict[str, FlyteNodeExecution] = {}
        for pb in paginate(page):
            node = (known or {}).get(pb.id.node_id)
            if node is None:
                node = FlyteNodeExecution(pb, self)
                self._sync_node(node)
            launched[node.node_id] = node
        return launched

    def fetch_dynamic_workflow(self, node_execution_id: NodeExecutionIdentifier) -> FlyteWorkflow | None:
        """The workflow a dynamic node compiled (one ``GetDynamicNodeWorkflow``), or ``None`` if it has none."""
        from flyteidl.admin import workflow_pb2

        try:
            response = self.client.get_dynamic_node_workflow(node_execution_id)
        except FlyteEntityNotExistException:
            return None
        compiled = response.compiled_workflow
        return FlyteWorkflow(
            workflow_pb2.Workflow(
                id=compiled.primary.template.id, closure=workflow_pb2.WorkflowClosure(compiled_workflow=compiled)
            )
        )

    def wait(
        self,
        execution: FlyteWorkflowExecution,
        timeout: timedelta | float | None = None,
        poll_interval: timedelta | float | None = None,
        sync_nodes: bool = False,
        outage_tolerance: timedelta | float | None = None,
    ) -> FlyteWorkflowExecution:
        """Block until ``execution`` is done, polling with one ``GetExecution`` per round.

        Polls start a quarter of a second apart and slow down toward ``poll_interval``, so a short run is reported
        within about a second and a long one costs one call per interval. Flyte Admin being unreachable (restarts,
        network blips, overload) does not end the wait until it lasted ``outage_tolerance``
        (see :mod:`airflow_provider_flyte.waiting`); the outcome reported is the execution's true final phase.

        Args:
            execution: The execution to wait for (updated in place and returned).
            timeout: Give up after this long (seconds or timedelta); ``None`` waits forever.
            poll_interval: Longest time between polls (default 30 s).
            sync_nodes: Also load node and task executions once the execution is done.
            outage_tolerance: How long Admin may stay unreachable (default: the config's ``outage_tolerance``).

        Raises:
            FlyteTimeout: when ``timeout`` passes first (the message names the execution and its last phase).
            FlyteAdminUnreachableException: when Admin stayed unreachable for longer than ``outage_tolerance``.
        """
        clock = self.wait_clock(f"execution {execution.id}", timeout, poll_interval, outage_tolerance)
        url = self.generate_console_url(execution)
        last_phase: list[int | None] = [None]

        def finished() -> FlyteWorkflowExecution | None:
            self.sync_execution(execution, sync_nodes=False)
            if execution.phase != last_phase[0]:
                last_phase[0] = execution.phase
                logger.info("Execution %s is %s (%s)", execution.id, execution.phase_name, url)
            return execution if execution.is_done else None

        if poll(finished, clock) is None:
            raise FlyteTimeout(
                f"execution {execution.id} is still {execution.phase_name} after waiting {clock.timeout:g}s; see {url}"
            )
        return self.sync_execution(execution, sync_nodes=True) if sync_nodes else execution

    def wait_clock(
        self,
        subject: str,
        timeout: timedelta | float | None,
        poll_interval: timedelta | float | None,
        outage_tolerance: timedelta | float | None = None,
    ) -> WaitClock:
        """The clock of a wait by this remote, its arguments checked (before anything is launched).

        Raises:
            FlyteInvalidInputException: naming ``timeout``, ``poll_interval`` or ``outage_tolerance``.
        """
        return WaitClock(
            subject,
            interval=check_seconds(poll_interval, "poll_interval", allow_none=True) or _DEFAULT_MAX_POLL,
            timeout=check_seconds(timeout, "timeout", allow_none=True, allow_zero=True),
            outage_tolerance=check_seconds(outage_tolerance, "outage_tolerance", allow_none=True)
            or self.config.outage_tolerance,
            logger=logger,
        )

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
        return FlyteWorkflowExecution(self.client.get_execution(new_id), self)

    def recover_execution(self, id: Any, name: str | None = None) -> FlyteWorkflowExecution:
        """Run a failed execution again, reusing the outputs of the nodes that succeeded; returns the new execution."""
        execution_id = as_execution_id(id, self.default_project, self.default_domain)
        new_id = create_named(
            self.client,
            lambda: WorkflowExecutionIdentifier.from_flyte_idl(self.client.recover_execution(execution_id, name=name)),
            _successor_id(execution_id, name),
        )
        return FlyteWorkflowExecution(self.client.get_execution(new_id), self)

    def get_execution_metrics(self, id: Any, depth: int = 10) -> FlyteExecutionSpan:
        """Timing spans of an execution, ``depth`` levels deep."""
        from airflow_provider_flyte.remote.metrics import FlyteExecutionSpan

        execution_id = as_execution_id(id, self.default_project, self.default_domain)
        return FlyteExecutionSpan(self.client.get_execution_metrics(execution_id, depth=depth))

    def fetch_io_literals(
        self, identifier: WorkflowExecutionIdentifier | NodeExecutionIdentifier | TaskExecutionIdentifier
    ) -> tuple[literals_pb2.LiteralMap, literals_pb2.LiteralMap]:
        """Inputs and outputs of an execution, node or task attempt, downloading offloaded maps when needed."""
        data: execution_pb2.WorkflowExecutionGetDataResponse | Any
        if isinstance(identifier, WorkflowExecutionIdentifier):
            data = self.client.get_execution_data(identifier)
        elif isinstance(identifier, NodeExecutionIdentifier):
            data = self.client.get_node_execution_data(identifier)
        else:
            data = self.client.get_task_execution_data(identifier)
        return (
            self._literal_map(data.full_inputs, data.inputs),
            self._literal_map(data.full_outputs, data.outputs),
        )

    def _literal_map(self, inline: literals_pb2.LiteralMap, blob: common_pb2.UrlBlob) -> literals_pb2.LiteralMap:
        from flyteidl.core import literals_pb2

        if inline.literals or not blob.url or blob.bytes <= 0:
            return inline
        from airflow_provider_flyte.remote import fs

        downloaded = literals_pb2.LiteralMap()
        downloaded.ParseFromString(fs.download_bytes(self.client, blob.url))
        return downloaded

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
            yield FlyteWorkflowExecution(pb, self)

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

    # ------------------------------------------------------------------ signals

    def list_signals(
        self,
        execution_name: str,
        project: str | None = None,
        domain: str | None = None,
        limit: int = PAGE_SIZE,
        filters: str | Iterable[Any] | None = None,
    ) -> list[signal_pb2.Signal]:
        """All signals of an execution matching ``filters`` (``limit`` is the page size; every page is read)."""
        from airflow_provider_flyte.remote import signals

        return signals.list_signals(self.client, self._execution_id(execution_name, project, domain), limit, filters)

    def approve(
        self, signal_id: str, execution_name: str, project: str | None = None, domain: str | None = None
    ) -> None:
        """Approve a gate (sets its boolean signal to true).

        Raises:
            FlyteInvalidInputException: the signal is not a boolean (not an approval gate); nothing is sent.
        """
        self._set_boolean(signal_id, execution_name, project, domain, True)

    def reject(
        self, signal_id: str, execution_name: str, project: str | None = None, domain: str | None = None
    ) -> None:
        """Reject a gate (sets its boolean signal to false; the gate node fails).

        Raises:
            FlyteInvalidInputException: the signal is not a boolean (not an approval gate); nothing is sent.
        """
        self._set_boolean(signal_id, execution_name, project, domain, False)

    def _set_boolean(
        self, signal_id: str, execution_name: str, project: str | None, domain: str | None, value: bool
    ) -> None:
        from airflow_provider_flyte.remote import signals

        execution_id = self._execution_id(execution_name, project, domain)
        signals.set_approval(self.client, execution_id, signal_id, value)

    def set_input(
        self,
        signal_id: str,
        execution_name: str,
        value: Any,
        project: str | None = None,
        domain: str | None = None,
        python_type: type | None = None,
        literal_type: types_pb2.LiteralType | None = None,
    ) -> None:
        """Provide the value a ``wait_for_input`` gate waits for, typed by the signal's declared type.

        ``python_type`` or ``literal_type`` override the declared type (and save the lookup RPC).
        """
        from airflow_provider_flyte.remote import signals

        execution_id = self._execution_id(execution_name, project, domain)
        signals.set_signal_value(
            self.client, execution_id, signal_id, value, python_type=python_type, literal_type=literal_type
        )

    set_signal = set_input

    def _execution_id(
        self, execution_name: Any, project: str | None, domain: str | None
    ) -> WorkflowExecutionIdentifier:
        if isinstance(execution_name, str) and not execution_name.startswith("ex:"):
            project, domain = self.resolve_project_domain(project, domain)
        return as_execution_id(execution_name, project, domain, "execution_name")

    # ------------------------------------------------------------------ backfill

    def launch_backfill(
        self,
        project: str,
        domain: str,
        from_date: datetime,
        to_date: datetime,
        launchplan: str,
        launchplan_version: str | None = None,
        execution_name: str | None = None,
        version: str | None = None,
        dry_run: bool = False,
        execute: bool = True,
        parallel: bool = False,
        failure_policy: WorkflowFailurePolicy | None = None,
        overwrite_cache: bool | None = None,
    ) -> FlyteWorkflowExecution | FlyteWorkflow | BackfillPlan:
        """Run a cron launch plan for every scheduled time strictly between ``from_date`` and ``to_date``.

        Builds the backfill workflow (one launch-plan node per time, passing it as the schedule's kickoff input),
        registers it with its default launch plan, and executes it.

        Returns:
            The :class:`BackfillPlan` with ``dry_run`` (nothing registered); the registered workflow with
            ``execute=False``; else the started execution.

        Raises:
            FlyteInvalidInputException: the launch plan is not cron-scheduled, needs inputs a backfill cannot give,
                or no time falls in the range.
        """
        from airflow_provider_flyte.remote import backfill, registration

        launch_plan = self.fetch_launch_plan(project, domain, launchplan, launchplan_version)
        plan = backfill.plan_backfill(
            launch_plan.to_flyte_idl(), from_date, to_date, parallel=parallel, failure_policy=failure_policy
        )
        if dry_run:
            logger.warning(
                "Dry run: backfill of %s planned for %d times, nothing registered",
                launchplan,
                len(plan.scheduled_times),
            )
            return plan
        version = version or plan.default_version(launchplan_version)
        workflow_spec = backfill.backfill_workflow_spec(plan, project, domain, version)
        workflow_id = Identifier(ResourceType.WORKFLOW, project, domain, plan.workflow_name, version)
        registration.register(self.client, registration.RegistrableEntity(ResourceType.WORKFLOW, workflow_spec))
        self._register_default_launch_plan(workflow_id)
        if not execute:
            return self.fetch_workflow(project, domain, plan.workflow_name, version)
        lp = self.fetch_launch_plan(project, domain, plan.workflow_name, version)
        return self.execute(
            lp,
            inputs={},
            project=project,
            domain=domain,
            execution_name=execution_name,
            overwrite_cache=overwrite_cache,
        )

    # ------------------------------------------------------------------ registration

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
            _apply_options_to_launch_plan(entity.spec, options)
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

    def upload_file(
        self,
        to_upload: str | pathlib.Path,
        project: str | None = None,
        domain: str | None = None,
        filename_root: str | None = None,
    ) -> tuple[bytes, str]:
        """Upload a local file through the data proxy; returns ``(md5 digest, native URL)``."""
        from airflow_provider_flyte.remote import fs

        project, domain = self.resolve_project_domain(project, domain)
        return fs.upload_file(self.client, pathlib.Path(to_upload), project, domain, filename_root)

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
        if _is_flytekit_entity(entity):
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

        if workflow is not None and _is_flytekit_entity(workflow):
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
            _apply_options_to_launch_plan(item.spec.spec, options)
        return registration.register(self.client, item)

    # ------------------------------------------------------------------ projects and domains

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

    # ------------------------------------------------------------------ data

    @property
    def file_access(self) -> FlyteFS:
        """The ``flyte://`` fsspec filesystem bound to this remote."""
        if self._fs is None:
            from airflow_provider_flyte.remote.fs import FlyteFS

            self._fs = FlyteFS(self, skip_instance_cache=True)
        return self._fs

    def get(self, flyte_uri: str) -> Any:
        """Resolve a ``flyte://v1/...`` data URL.

        Returns:
            A :class:`LiteralsView` for inputs/outputs (``.../i``, ``.../o``), a Python value for one named literal,
            the bytes behind the first link for a deck (``.../d``).
        """
        from airflow_provider_flyte.remote import fs

        if not isinstance(flyte_uri, str) or not flyte_uri.startswith("flyte://"):
            raise FlyteInvalidInputException(f"flyte_uri={flyte_uri!r} must start with 'flyte://'")
        response = self.client.get_data(flyte_uri)
        kind = response.WhichOneof("data")
        if kind == "literal_map":
            return LiteralsView(response.literal_map)
        if kind == "literal":
            from airflow_provider_flyte.literals import to_python

            return to_python(response.literal)
        if kind == "pre_signed_urls" and response.pre_signed_urls.signed_url:
            return fs.download_bytes(self.client, response.pre_signed_urls.signed_url[0])
        raise FlyteEntityNotExistException(f"{flyte_uri} resolved to no data")

    def download(self, data: Any, download_to: str | pathlib.Path, recursive: bool = True) -> dict[str, pathlib.Path]:
        """Write outputs or inputs to a local directory: files for blobs, ``<name>.json`` for values.

        Args:
            data: A :class:`LiteralsView` (e.g. ``execution.outputs``), a ``core.LiteralMap``, a mapping of names to
                ``core.Literal`` or a single ``core.Literal`` (written as ``data``).
            download_to: The directory to write into (created if needed).
            recursive: Write collections and maps as directories of their items.
        """
        from flyteidl.core import literals_pb2

        from airflow_provider_flyte.remote import fs

        if isinstance(data, LiteralsView):
            literals: Mapping[str, Any] = data.literals
        elif isinstance(data, literals_pb2.LiteralMap):
            literals = data.literals
        elif isinstance(data, literals_pb2.Literal):
            literals = {"data": data}
        elif isinstance(data, Mapping):
            literals = data
        else:
            raise FlyteInvalidInputException(
                f"data={type(data).__name__} cannot be downloaded; pass outputs/inputs, a LiteralMap or a Literal"
            )
        return fs.download_literals(self.client, literals, pathlib.Path(download_to), recursive)

    # ------------------------------------------------------------------ console

    def generate_console_http_domain(self) -> str:
        """Base URL of the Flyte Console."""
        return console.console_http_domain(self.config)

    def generate_console_url(self, entity: Any) -> str:
        """Console URL of an entity, execution, node or task execution (or their identifiers)."""
        return console.generate_console_url(self.config, entity)


_SPEC_TYPES = {
    ResourceType.TASK: "flyteidl.admin.TaskSpec",
    ResourceType.WORKFLOW: "flyteidl.admin.WorkflowSpec",
    ResourceType.LAUNCH_PLAN: "flyteidl.admin.LaunchPlan",
}


def _apply_options_to_launch_plan(spec: Any, options: Options) -> None:
    """Copy the options a launch plan spec also carries (labels, annotations, storage, security, parallelism)."""
    from flyteidl.admin import common_pb2

    if options.labels:
        spec.labels.CopyFrom(common_pb2.Labels(values=dict(options.labels)))
    if options.annotations:
        spec.annotations.CopyFrom(common_pb2.Annotations(values=dict(options.annotations)))
    raw = options.raw_output_data_config
    if isinstance(raw, str):
        spec.raw_output_data_config.CopyFrom(common_pb2.RawOutputDataConfig(output_location_prefix=raw))
    elif raw is not None:
        spec.raw_output_data_config.CopyFrom(raw)
    if options.security_context is not None:
        spec.security_context.CopyFrom(options.security_context)
    if options.max_parallelism:
        spec.max_parallelism = options.max_parallelism
    if options.overwrite_cache is not None:
        spec.overwrite_cache = options.overwrite_cache


def _required_name(name: str | None) -> str:
    if not name or not isinstance(name, str):
        raise FlyteInvalidInputException(f"name={name!r} is required and must be a non-empty string")
    return name


def _execution_name(execution_name: str | None, execution_name_prefix: str | None) -> str | None:
    if execution_name and execution_name_prefix:
        raise FlyteInvalidInputException(
            f"pass execution_name={execution_name!r} or execution_name_prefix={execution_name_prefix!r}, not both"
        )
    if execution_name_prefix:
        name, argument = f"{execution_name_prefix}-{uuid.uuid4().hex[:19]}", "execution_name_prefix"
        shown = execution_name_prefix
    elif execution_name:
        name, argument, shown = execution_name, "execution_name", execution_name
    else:
        return None
    if len(name) > _EXECUTION_NAME_MAX:
        raise FlyteInvalidInputException(
            f"{argument}={shown!r} gives a {len(name)}-character name; "
            f"execution names are at most {_EXECUTION_NAME_MAX}"
        )
    if not _EXECUTION_NAME.match(name):
        raise FlyteInvalidInputException(
            f"{argument}={shown!r} is not a valid execution name: use lower-case letters, digits and '-', "
            "starting with a letter"
        )
    return name


def _strings(values: Iterable[Any], argument: str) -> list[str]:
    items = [values] if isinstance(values, str) else list(values)
    if not all(isinstance(item, str) and item for item in items):
        raise FlyteInvalidInputException(f"{argument}={values!r} must be a list of non-empty strings")
    return items


def _successor_id(source: WorkflowExecutionIdentifier, name: str | None) -> WorkflowExecutionIdentifier | None:
    """The id a named relaunch or recover of ``source`` creates (same project and domain), if it is named."""
    return None if not name else WorkflowExecutionIdentifier(source.project, source.domain, name)


def _is_flytekit_entity(entity: Any) -> bool:
    from airflow_provider_flyte.remote.registration import is_flytekit_entity

    return is_flytekit_entity(entity)
