"""Admin RPCs for runs: workflow, node and task executions, their data and metrics, and signals."""

from __future__ import annotations

import contextvars
import re
import secrets
import sqlite3
from typing import Protocol

from flyteidl.admin import (
    common_pb2,
    event_pb2,
    launch_plan_pb2,
    node_execution_pb2,
    signal_pb2,
    task_execution_pb2,
    workflow_pb2,
)
from flyteidl.admin import execution_pb2 as admin_pb2
from flyteidl.core import (
    compiler_pb2,
    identifier_pb2,
    literals_pb2,
    metrics_pb2,
    security_pb2,
    types_pb2,
)
from flyteidl.core import (
    workflow_pb2 as core_workflow_pb2,
)
from google.protobuf import timestamp_pb2

from flyte_admin_sandbox.common import list_page, require, sort_of, where_query
from flyte_admin_sandbox.compiler import END_NODE, START_NODE
from flyte_admin_sandbox.errors import (
    duplicate_key,
    entity_not_found,
    failed_precondition,
    invalid,
    missing_argument,
    not_found,
    prototext,
)
from flyte_admin_sandbox.filters import (
    EXECUTION,
    NODE_EXECUTION,
    SIGNAL,
    TASK_EXECUTION,
    check_limit,
    format_timestamp,
)
from flyte_admin_sandbox.records import (
    WORKFLOW_TERMINAL,
    ExecutionKey,
    Records,
    WorkflowPhase,
    literal_map,
    timestamp,
)
from flyte_admin_sandbox.registry import FLYTEGEN_PREFIX, RT, Registry, validate_labels
from flyte_admin_sandbox.store import now
from flyte_admin_sandbox.typing_rules import literal_fits, literal_type_of

_NAME_PATTERN = re.compile(r"^[a-z][a-z\-0-9]*$")
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_NODE_ID_SYMBOLS = re.compile(r"[^a-zA-Z0-9-]")
MAX_NAME_LENGTH = 63
DEFAULT_MAX_PARALLELISM = 25
Mode = admin_pb2.ExecutionMetadata.ExecutionMode

principal_var: contextvars.ContextVar[str] = contextvars.ContextVar("principal", default="")
"""The authenticated user of the current RPC (empty with auth off), set by the auth layer."""


class Engine(Protocol):
    """What the Admin services ask of the execution engine."""

    def launch(self, key: ExecutionKey) -> None:
        """Start running a newly created execution (its row exists, phase UNDEFINED)."""

    def abort(self, key: ExecutionKey, cause: str) -> None:
        """Stop a running execution; the engine records ABORTED when done."""


def generate_execution_name() -> str:
    """Flyte Admin's generated names: ``a`` followed by 19 characters of Kubernetes' random-string alphabet."""
    return "a" + "".join(secrets.choice(_NAME_ALPHABET) for _ in range(19))


def _in_creation_order(rows: list[sqlite3.Row]) -> list[sqlite3.Row]:
    return sorted(rows, key=lambda row: (row["node_execution_created_at"] or "", row["id"]))


def _trim(message: str, limit: int = 100) -> str:
    data = message.encode()
    if len(data) <= limit:
        return message
    return data[:limit].decode(errors="ignore")


class Executions:
    """Executions, node/task executions and signals over the shared store.

    Args:
        registry: The entity side (launch plans, workflows, tasks, projects).
        records: Execution records (shared with the engine).
        engine: Runs what CreateExecution creates.
    """

    def __init__(self, registry: Registry, records: Records, engine: Engine) -> None:
        self.registry = registry
        self.records = records
        self.store = records.store
        self.engine = engine

    # CreateExecution ---------------------------------------------------------------------------------------------

    def CreateExecution(self, request: admin_pb2.ExecutionCreateRequest) -> admin_pb2.ExecutionCreateResponse:
        """Validate, resolve inputs against the launch plan, store the run and hand it to the engine."""
        inputs = request.inputs if request.inputs.literals else request.spec.inputs
        require(request.project, "project")
        require(request.domain, "domain")
        if request.name:
            lowered = request.name.lower()
            if len(lowered) > MAX_NAME_LENGTH:
                raise invalid(f"size of name exceeded length {MAX_NAME_LENGTH} : {request.name}")
            if not _NAME_PATTERN.match(lowered):
                raise invalid(f"invalid name format: {request.name}, does not match regex '{_NAME_PATTERN.pattern}'")
        self.registry.check_project_domain(request.project, request.domain)
        if not request.HasField("spec"):
            raise missing_argument("spec")
        reference = request.spec.launch_plan
        if not request.spec.HasField("launch_plan"):
            raise missing_argument("id")
        for field in ("project", "domain", "name", "version"):
            require(getattr(reference, field), field)
        if reference.resource_type not in (RT.LAUNCH_PLAN, RT.TASK):
            raise invalid(
                f"Invalid reference entity resource type [{RT.Name(reference.resource_type)}], only "
                "[map[TASK:<nil> LAUNCH_PLAN:<nil>]] allowed"
            )
        for name, literal in inputs.literals.items():
            if not name:
                raise invalid("missing key in inputs")
            if literal.WhichOneof("value") is None:
                raise invalid(f"missing valid literal in inputs {name}")
        validate_labels(request.spec.labels.values)
        key = self.create(request.project, request.domain, request.name, request.spec, inputs)
        return admin_pb2.ExecutionCreateResponse(id=key.to_proto())

    def create(
        self,
        project: str,
        domain: str,
        name: str,
        spec: admin_pb2.ExecutionSpec,
        user_inputs: literals_pb2.LiteralMap,
        source_row_id: int | None = None,
    ) -> ExecutionKey:
        """The shared path of Create, Relaunch and Recover: resolve, store, launch.

        Returns:
            The new execution's key.
        """
        reference = spec.launch_plan
        task_row = None
        if reference.resource_type == RT.TASK:
            task_row = self.registry.task_row(reference)
            plan_row = self._single_task_launch_plan(task_row)
        else:
            plan_row = self.registry.launch_plan_row(reference)
        plan = self.registry.launch_plan_proto(plan_row)
        merged = self._merge_inputs(user_inputs, plan)
        workflow_row = self.store.one("SELECT * FROM workflows WHERE id = ?", (plan_row["workflow_id"],))
        assert workflow_row is not None
        workflow_id = identifier_pb2.Identifier(
            resource_type=RT.WORKFLOW,
            project=workflow_row["project"],
            domain=workflow_row["domain"],
            name=workflow_row["name"],
            version=workflow_row["version"],
        )
        execution_name = name or generate_execution_name()
        key = ExecutionKey(project, domain, execution_name)
        stored_spec = self._resolve_spec(spec, plan, key, workflow_row["name"])
        moment = now()
        stamp = format_timestamp(moment)
        closure = admin_pb2.ExecutionClosure(
            phase=WorkflowPhase.UNDEFINED,
            created_at=timestamp(moment),
            updated_at=timestamp(moment),
            workflow_id=workflow_id,
            state_change_details=admin_pb2.ExecutionStateChangeDetails(
                state=admin_pb2.EXECUTION_ACTIVE, principal=principal_var.get(), occurred_at=timestamp(moment)
            ),
        )
        if spec.HasField("notifications") and spec.notifications.notifications:
            closure.notifications.extend(spec.notifications.notifications)
        elif not spec.disable_all:
            closure.notifications.extend(plan.spec.entity_metadata.notifications)
        prefix = f"metadata/{project}/{domain}/{execution_name}"
        blobs = self.records.blobs
        row = {
            "execution_project": project,
            "execution_domain": domain,
            "execution_name": execution_name,
            "launch_plan_id": plan_row["id"],
            "workflow_id": workflow_row["id"],
            "task_id": task_row["id"] if task_row is not None else None,
            "phase": WorkflowPhase.Name(WorkflowPhase.UNDEFINED),
            "closure": closure.SerializeToString(),
            "spec": stored_spec.SerializeToString(),
            "execution_created_at": stamp,
            "execution_updated_at": stamp,
            "mode": stored_spec.metadata.mode,
            "source_execution_id": source_row_id,
            "cluster": "",
            "inputs_uri": blobs.uri(f"{prefix}/inputs"),
            "user_inputs_uri": blobs.uri(f"{prefix}/user_inputs"),
            "user": principal_var.get(),
            "state": admin_pb2.EXECUTION_ACTIVE,
            "launch_entity": "task" if task_row is not None else "launch_plan",
            "inputs": merged.SerializeToString(deterministic=True),
            "user_inputs": user_inputs.SerializeToString(deterministic=True),
            "created_at": stamp,
            "updated_at": stamp,
        }
        try:
            with self.store.transaction():
                self.store.insert("executions", row)
                tags = [*stored_spec.labels.values.items(), *((tag, "") for tag in stored_spec.tags)]
                for tag_key, tag_value in tags:
                    self.store.insert(
                        "execution_tags",
                        {
                            "execution_project": project,
                            "execution_domain": domain,
                            "execution_name": execution_name,
                            "key": tag_key,
                            "value": tag_value,
                        },
                    )
        except sqlite3.IntegrityError as error:
            constraint = "execution_tags_pkey" if "execution_tags" in str(error) else "executions_pkey"
            raise duplicate_key(constraint) from None
        self.engine.launch(key)
        return key

    def _merge_inputs(
        self, user_inputs: literals_pb2.LiteralMap, plan: launch_plan_pb2.LaunchPlan
    ) -> literals_pb2.LiteralMap:
        expected = plan.closure.expected_inputs.parameters
        for name in sorted(user_inputs.literals):
            if name not in expected:
                raise invalid(f"invalid input {name}")
        merged = literals_pb2.LiteralMap()
        for name in sorted(expected):
            parameter = expected[name]
            if name in user_inputs.literals:
                literal = user_inputs.literals[name]
                if not literal_fits(literal, parameter.var.type):
                    raise invalid(
                        f"invalid {name} input wrong type. Expected {prototext(parameter.var.type)}, but got "
                        f"{prototext(literal_type_of(literal))}"
                    )
                merged.literals[name].CopyFrom(literal)
            elif parameter.WhichOneof("behavior") == "default":
                merged.literals[name].CopyFrom(parameter.default)
            elif parameter.required or parameter.WhichOneof("behavior") is None:
                raise invalid(f"expected_inputs {name} missing")
        for name, literal in plan.spec.fixed_inputs.literals.items():
            if name in merged.literals:
                raise invalid(f"fixed_inputs {name} cannot be overridden")
            merged.literals[name].CopyFrom(literal)
        return merged

    def _resolve_spec(
        self, spec: admin_pb2.ExecutionSpec, plan: launch_plan_pb2.LaunchPlan, key: ExecutionKey, workflow_name: str
    ) -> admin_pb2.ExecutionSpec:
        stored = admin_pb2.ExecutionSpec()
        stored.CopyFrom(spec)
        stored.ClearField("inputs")
        metadata = stored.metadata
        metadata.principal = principal_var.get()
        metadata.system_metadata.execution_cluster = ""
        metadata.system_metadata.namespace = f"{key.project}-{key.domain}"
        config = self.registry.execution_config(key.project, key.domain, workflow_name)
        if stored.max_parallelism <= 0:
            stored.max_parallelism = plan.spec.max_parallelism or config.max_parallelism or DEFAULT_MAX_PARALLELISM
        if not _has_identity(stored.security_context):
            for candidate in (plan.spec.security_context, config.security_context):
                if _has_identity(candidate):
                    stored.security_context.CopyFrom(candidate)
                    break
            else:
                stored.security_context.run_as.SetInParent()
        if not stored.labels.values:
            stored.labels.CopyFrom(config.labels if config.labels.values else plan.spec.labels)
        if not stored.annotations.values:
            stored.annotations.CopyFrom(config.annotations if config.annotations.values else plan.spec.annotations)
        if not stored.raw_output_data_config.output_location_prefix:
            source = config.raw_output_data_config
            if not source.output_location_prefix:
                source = plan.spec.raw_output_data_config
            if source.output_location_prefix:
                stored.raw_output_data_config.CopyFrom(source)
        if not stored.HasField("interruptible"):
            if config.HasField("interruptible"):
                stored.interruptible.CopyFrom(config.interruptible)
            elif plan.spec.HasField("interruptible"):
                stored.interruptible.CopyFrom(plan.spec.interruptible)
        if not stored.overwrite_cache:
            stored.overwrite_cache = config.overwrite_cache or plan.spec.overwrite_cache
        if not stored.envs.values:
            stored.envs.CopyFrom(config.envs if config.envs.values else plan.spec.envs)
        project_row = self.store.one("SELECT labels FROM projects WHERE identifier = ?", (key.project,))
        if project_row is not None and project_row["labels"]:
            project_labels = common_pb2.Labels.FromString(project_row["labels"])
            for label, value in project_labels.values.items():
                stored.labels.values.setdefault(label, value)
        return stored

    def _single_task_launch_plan(self, task_row: sqlite3.Row) -> sqlite3.Row:
        """The generated ``.flytegen.<task>`` workflow and launch plan of a task version, created on first use."""
        task = self.registry.task_proto(task_row)
        template = task.closure.compiled_task.template
        name = FLYTEGEN_PREFIX + task.id.name
        plan_id = identifier_pb2.Identifier(
            resource_type=RT.LAUNCH_PLAN,
            project=task.id.project,
            domain=task.id.domain,
            name=name,
            version=task.id.version,
        )
        existing = self.store.one(
            "SELECT * FROM launch_plans WHERE project = ? AND domain = ? AND name = ? AND version = ?",
            (plan_id.project, plan_id.domain, plan_id.name, plan_id.version),
        )
        if existing is not None:
            return existing
        workflow_id = identifier_pb2.Identifier()
        workflow_id.CopyFrom(plan_id)
        workflow_id.resource_type = RT.WORKFLOW
        node_id = _NODE_ID_SYMBOLS.sub("", task.id.name[-MAX_NAME_LENGTH:]) or "task"
        node = core_workflow_pb2.Node(id=node_id, task_node=core_workflow_pb2.TaskNode(reference_id=task.id))
        if template.metadata.HasField("retries"):
            node.metadata.retries.CopyFrom(template.metadata.retries)
        else:
            node.metadata.retries.retries = 3
        node.metadata.name = node_id
        outputs = []
        for variable in template.interface.inputs.variables:
            node.inputs.add(var=variable).binding.promise.CopyFrom(_promise(START_NODE, variable))
        for variable in template.interface.outputs.variables:
            binding = literals_pb2.Binding(var=variable)
            binding.binding.promise.CopyFrom(_promise(node_id, variable))
            outputs.append(binding)
        workflow_template = core_workflow_pb2.WorkflowTemplate(
            id=workflow_id, interface=template.interface, nodes=[node], outputs=outputs
        )
        request = workflow_pb2.WorkflowCreateRequest(
            id=workflow_id, spec=workflow_pb2.WorkflowSpec(template=workflow_template)
        )
        with self.store.transaction():
            if (
                self.store.one(
                    "SELECT id FROM workflows WHERE project = ? AND domain = ? AND name = ? AND version = ?",
                    (workflow_id.project, workflow_id.domain, workflow_id.name, workflow_id.version),
                )
                is None
            ):
                self.registry.insert_workflow(workflow_id, self.registry.compile_workflow(request))
            workflow_row = self.registry.workflow_row(workflow_id)
            generated = common_pb2.NamedEntityMetadata(state=common_pb2.SYSTEM_GENERATED)
            named = common_pb2.NamedEntityIdentifier(project=plan_id.project, domain=plan_id.domain, name=name)
            self.registry.set_named_entity_metadata(RT.WORKFLOW, named, generated)
            self.registry.set_named_entity_metadata(RT.LAUNCH_PLAN, named, generated)
            spec = launch_plan_pb2.LaunchPlanSpec(workflow_id=workflow_id)
            plan = self.registry.build_launch_plan(plan_id, spec, template.interface)
            # Flyte Admin's quirk: the generated launch plan names the task, not the generated workflow.
            plan.spec.workflow_id.name = task.id.name
            self.registry.insert_launch_plan(plan, workflow_row["id"])
            row = self.registry.launch_plan_row(plan_id)
        return row

    # Relaunch / recover ------------------------------------------------------------------------------------------

    def _rerun(
        self, identifier: identifier_pb2.WorkflowExecutionIdentifier, name: str, mode: int
    ) -> tuple[admin_pb2.ExecutionSpec, sqlite3.Row]:
        key = ExecutionKey.of(identifier)
        row = self.records.execution_row(key)
        spec = admin_pb2.ExecutionSpec.FromString(row["spec"])
        spec.metadata.mode = mode  # type: ignore[assignment]
        spec.metadata.reference_execution.CopyFrom(key.to_proto())
        if name:
            lowered = name.lower()
            if len(lowered) > MAX_NAME_LENGTH:
                raise invalid(f"size of name exceeded length {MAX_NAME_LENGTH} : {name}")
            if not _NAME_PATTERN.match(lowered):
                raise invalid(f"invalid name format: {name}, does not match regex '{_NAME_PATTERN.pattern}'")
        return spec, row

    def RelaunchExecution(self, request: admin_pb2.ExecutionRelaunchRequest) -> admin_pb2.ExecutionCreateResponse:
        """Run an execution again with its original inputs (mode RELAUNCH)."""
        spec, row = self._rerun(request.id, request.name, Mode.RELAUNCH)
        spec.overwrite_cache = request.overwrite_cache
        key = self.create(
            row["execution_project"],
            row["execution_domain"],
            request.name,
            spec,
            literal_map(row["user_inputs"]),
            row["id"],
        )
        return admin_pb2.ExecutionCreateResponse(id=key.to_proto())

    def RecoverExecution(self, request: admin_pb2.ExecutionRecoverRequest) -> admin_pb2.ExecutionCreateResponse:
        """Run an execution again reusing the nodes that succeeded (mode RECOVERED)."""
        spec, row = self._rerun(request.id, request.name, Mode.RECOVERED)
        if request.metadata.HasField("parent_node_execution"):
            spec.metadata.parent_node_execution.CopyFrom(request.metadata.parent_node_execution)
        key = self.create(
            row["execution_project"],
            row["execution_domain"],
            request.name,
            spec,
            literal_map(row["user_inputs"]),
            row["id"],
        )
        return admin_pb2.ExecutionCreateResponse(id=key.to_proto())

    # Reads, lists, updates ---------------------------------------------------------------------------------------

    @staticmethod
    def _check_execution_id(identifier: identifier_pb2.WorkflowExecutionIdentifier | None, field: str = "id") -> None:
        if identifier is None:
            raise missing_argument(field)
        for name in ("project", "domain", "name"):
            require(getattr(identifier, name), name)

    def GetExecution(self, request: admin_pb2.WorkflowExecutionGetRequest) -> admin_pb2.Execution:
        """One execution with its spec and closure."""
        self._check_execution_id(request.id if request.HasField("id") else None)
        return self.records.execution_proto(self.records.execution_row(ExecutionKey.of(request.id)))

    def ListExecutions(self, request: common_pb2.ResourceListRequest) -> admin_pb2.ExecutionList:
        """Executions of a project/domain; archived ones hidden unless a ``state`` filter is given."""
        if not request.HasField("id"):
            raise missing_argument("id")
        require(request.id.project, "project")
        require(request.id.domain, "domain")
        check_limit(request.limit)
        query = where_query(
            EXECUTION,
            execution_project=request.id.project,
            execution_domain=request.id.domain,
            execution_name=request.id.name,
        )
        if not re.search(r"\(\s*(execution\.)?state\s*,", request.filters):
            query.equals("state", admin_pb2.EXECUTION_ACTIVE)

        def convert(row: sqlite3.Row) -> admin_pb2.Execution:
            execution = self.records.execution_proto(row)
            execution.spec.ClearField("inputs")
            execution.closure.ClearField("computed_inputs")
            if execution.closure.HasField("error"):
                execution.closure.error.message = _trim(execution.closure.error.message)
            return execution

        executions, token = list_page(
            self.store,
            query,
            limit=request.limit,
            token=request.token,
            rpc="ListExecutions",
            sort_by=sort_of(request),
            filters=request.filters,
            convert=convert,
        )
        return admin_pb2.ExecutionList(executions=executions, token=token)

    def UpdateExecution(self, request: admin_pb2.ExecutionUpdateRequest) -> admin_pb2.ExecutionUpdateResponse:
        """Archive or unarchive an execution."""
        self._check_execution_id(request.id if request.HasField("id") else None)
        with self.store.transaction():
            row = self.records.execution_row(ExecutionKey.of(request.id))
            closure = admin_pb2.ExecutionClosure.FromString(row["closure"])
            closure.state_change_details.CopyFrom(
                admin_pb2.ExecutionStateChangeDetails(
                    state=request.state, principal=principal_var.get(), occurred_at=timestamp(now())
                )
            )
            self.store.update("executions", row["id"], {"state": request.state, "closure": closure.SerializeToString()})
        return admin_pb2.ExecutionUpdateResponse()

    def TerminateExecution(self, request: admin_pb2.ExecutionTerminateRequest) -> admin_pb2.ExecutionTerminateResponse:
        """Move a running execution to ABORTING and ask the engine to stop it."""
        self._check_execution_id(request.id if request.HasField("id") else None)
        key = ExecutionKey.of(request.id)
        with self.store.transaction():
            row = self.records.execution_row(key)
            closure = admin_pb2.ExecutionClosure.FromString(row["closure"])
            if closure.phase in WORKFLOW_TERMINAL:
                detail = event_pb2.EventFailureReason(
                    already_in_terminal_state=event_pb2.EventErrorAlreadyInTerminalState(
                        current_phase=WorkflowPhase.Name(closure.phase)
                    )
                )
                raise failed_precondition("Cannot abort an already terminated workflow execution", detail)
            moment = now()
            closure.phase = WorkflowPhase.ABORTING
            closure.updated_at.CopyFrom(timestamp(moment))
            closure.abort_metadata.CopyFrom(admin_pb2.AbortMetadata(cause=request.cause, principal=principal_var.get()))
            self.store.update(
                "executions",
                row["id"],
                {
                    "phase": "ABORTING",
                    "abort_cause": request.cause,
                    "closure": closure.SerializeToString(),
                    "execution_updated_at": format_timestamp(moment),
                },
            )
        self.engine.abort(key, request.cause)
        return admin_pb2.ExecutionTerminateResponse()

    def GetExecutionData(
        self, request: admin_pb2.WorkflowExecutionGetDataRequest
    ) -> admin_pb2.WorkflowExecutionGetDataResponse:
        """The merged inputs and the outputs, inline."""
        row = self.records.execution_row(ExecutionKey.of(request.id))
        return admin_pb2.WorkflowExecutionGetDataResponse(
            inputs=common_pb2.UrlBlob(),
            outputs=common_pb2.UrlBlob(),
            full_inputs=literal_map(row["inputs"]),
            full_outputs=literal_map(row["outputs"]),
        )

    # Node executions ---------------------------------------------------------------------------------------------

    def _node_row(self, identifier: identifier_pb2.NodeExecutionIdentifier) -> sqlite3.Row:
        self._check_execution_id(
            identifier.execution_id if identifier.HasField("execution_id") else None, "execution_id"
        )
        require(identifier.node_id, "node_id")
        row = self.records.node_row(ExecutionKey.of(identifier.execution_id), identifier.node_id)
        if row is None:
            raise entity_not_found("node execution", identifier)
        return row

    def GetNodeExecution(self, request: node_execution_pb2.NodeExecutionGetRequest) -> node_execution_pb2.NodeExecution:
        """One node execution."""
        return self.records.node_proto(self._node_row(request.id))

    def ListNodeExecutions(
        self, request: node_execution_pb2.NodeExecutionListRequest
    ) -> node_execution_pb2.NodeExecutionList:
        """Top-level node executions of a run, or the children of ``unique_parent_id``."""
        if not request.HasField("workflow_execution_id"):
            raise missing_argument("execution_id")
        self._check_execution_id(request.workflow_execution_id, "execution_id")
        check_limit(request.limit)
        key = ExecutionKey.of(request.workflow_execution_id)
        query = where_query(
            NODE_EXECUTION, execution_project=key.project, execution_domain=key.domain, execution_name=key.name
        )
        if request.unique_parent_id:
            parent = self.records.node_row(key, request.unique_parent_id)
            if parent is None:
                raise entity_not_found(
                    "node execution",
                    identifier_pb2.NodeExecutionIdentifier(
                        node_id=request.unique_parent_id, execution_id=key.to_proto()
                    ),
                )
            query.condition("node_executions.parent_id = ?", parent["id"])
        else:
            query.condition("node_executions.parent_id IS NULL AND node_executions.parent_task_execution_id IS NULL")
        nodes, token = list_page(
            self.store,
            query,
            limit=request.limit,
            token=request.token,
            rpc="ListNodeExecutions",
            sort_by=sort_of(request),
            filters=request.filters,
            convert=self._listed_node,
        )
        return node_execution_pb2.NodeExecutionList(node_executions=nodes, token=token)

    def _listed_node(self, row: sqlite3.Row) -> node_execution_pb2.NodeExecution:
        node = self.records.node_proto(row)
        if node.closure.HasField("error"):
            node.closure.error.message = _trim(node.closure.error.message)
        return node

    def ListNodeExecutionsForTask(
        self, request: node_execution_pb2.NodeExecutionForTaskListRequest
    ) -> node_execution_pb2.NodeExecutionList:
        """Node executions launched by one task execution (dynamic children)."""
        task_row = self._task_row(request.task_execution_id)
        check_limit(request.limit)
        query = where_query(NODE_EXECUTION).condition("node_executions.parent_task_execution_id = ?", task_row["id"])
        nodes, token = list_page(
            self.store,
            query,
            limit=request.limit,
            token=request.token,
            rpc="ListNodeExecutions",
            sort_by=sort_of(request),
            filters=request.filters,
            convert=self._listed_node,
        )
        return node_execution_pb2.NodeExecutionList(node_executions=nodes, token=token)

    def GetNodeExecutionData(
        self, request: node_execution_pb2.NodeExecutionGetDataRequest
    ) -> node_execution_pb2.NodeExecutionGetDataResponse:
        """A node's inputs and outputs, inline, with its flyte:// URLs."""
        row = self._node_row(request.id)
        key = ExecutionKey.of(request.id.execution_id)
        base = f"flyte://v1/{key.project}/{key.domain}/{key.name}/{request.id.node_id}"
        closure = node_execution_pb2.NodeExecutionClosure.FromString(row["closure"])
        urls = common_pb2.FlyteURLs(
            inputs=f"{base}/i", outputs=f"{base}/o", deck=f"{base}/d" if closure.deck_uri else ""
        )
        response = node_execution_pb2.NodeExecutionGetDataResponse(
            inputs=common_pb2.UrlBlob(),
            outputs=common_pb2.UrlBlob(),
            full_inputs=literal_map(row["inputs"]),
            full_outputs=literal_map(row["outputs"]),
            flyte_urls=urls,
        )
        if row["internal_data"]:
            compiled = compiler_pb2.CompiledWorkflowClosure.FromString(row["internal_data"])
            response.dynamic_workflow.CopyFrom(
                node_execution_pb2.DynamicWorkflowNodeMetadata(
                    id=compiled.primary.template.id,
                    compiled_workflow=compiled,
                    dynamic_job_spec_uri=closure.dynamic_job_spec_uri,
                )
            )
        return response

    def GetDynamicNodeWorkflow(
        self, request: node_execution_pb2.GetDynamicNodeWorkflowRequest
    ) -> node_execution_pb2.DynamicNodeWorkflowResponse:
        """The workflow a dynamic node compiled when its task produced a dynamic job spec."""
        row = self._node_row(request.id)
        if not row["internal_data"]:
            raise not_found("node does not contain dynamic workflow")
        return node_execution_pb2.DynamicNodeWorkflowResponse(
            compiled_workflow=compiler_pb2.CompiledWorkflowClosure.FromString(row["internal_data"])
        )

    # Task executions ---------------------------------------------------------------------------------------------

    def _task_row(self, identifier: identifier_pb2.TaskExecutionIdentifier) -> sqlite3.Row:
        if not identifier.HasField("node_execution_id"):
            raise missing_argument("node_execution_id")
        node = identifier.node_execution_id
        self._check_execution_id(node.execution_id, "execution_id")
        require(node.node_id, "node_id")
        if not identifier.HasField("task_id"):
            raise missing_argument("task_id")
        row = self.store.one(
            "SELECT * FROM task_executions WHERE execution_project = ? AND execution_domain = ? AND execution_name = ? "
            "AND node_id = ? AND retry_attempt = ? AND project = ? AND domain = ? AND name = ? AND version = ?",
            (
                node.execution_id.project,
                node.execution_id.domain,
                node.execution_id.name,
                node.node_id,
                identifier.retry_attempt,
                identifier.task_id.project,
                identifier.task_id.domain,
                identifier.task_id.name,
                identifier.task_id.version,
            ),
        )
        if row is None:
            raise entity_not_found("task execution", identifier)
        return row

    def _task_proto(self, row: sqlite3.Row) -> task_execution_pb2.TaskExecution:
        # Admin reports an attempt as a parent when node executions name it as their parent task (dynamic tasks).
        launched = self.store.one(
            "SELECT 1 FROM node_executions WHERE parent_task_execution_id = ? LIMIT 1", (row["id"],)
        )
        return self.records.task_proto(row, is_parent=launched is not None)

    def GetTaskExecution(self, request: task_execution_pb2.TaskExecutionGetRequest) -> task_execution_pb2.TaskExecution:
        """One task attempt."""
        return self._task_proto(self._task_row(request.id))

    def ListTaskExecutions(
        self, request: task_execution_pb2.TaskExecutionListRequest
    ) -> task_execution_pb2.TaskExecutionList:
        """The attempts of a node's task."""
        if not request.HasField("node_execution_id"):
            raise missing_argument("node_execution_id")
        node = request.node_execution_id
        self._check_execution_id(node.execution_id, "execution_id")
        require(node.node_id, "node_id")
        check_limit(request.limit)
        query = where_query(
            TASK_EXECUTION,
            execution_project=node.execution_id.project,
            execution_domain=node.execution_id.domain,
            execution_name=node.execution_id.name,
            node_id=node.node_id,
        )
        tasks, token = list_page(
            self.store,
            query,
            limit=request.limit,
            token=request.token,
            rpc="ListTaskExecutions",
            sort_by=sort_of(request),
            filters=request.filters,
            convert=self._task_proto,
        )
        return task_execution_pb2.TaskExecutionList(task_executions=tasks, token=token)

    def GetTaskExecutionData(
        self, request: task_execution_pb2.TaskExecutionGetDataRequest
    ) -> task_execution_pb2.TaskExecutionGetDataResponse:
        """A task attempt's inputs and outputs, inline."""
        row = self._task_row(request.id)
        node = request.id.node_execution_id
        ex = node.execution_id
        base = f"flyte://v1/{ex.project}/{ex.domain}/{ex.name}/{node.node_id}/{request.id.retry_attempt}"
        return task_execution_pb2.TaskExecutionGetDataResponse(
            inputs=common_pb2.UrlBlob(),
            outputs=common_pb2.UrlBlob(),
            full_inputs=literal_map(row["inputs"]),
            full_outputs=literal_map(row["outputs"]),
            flyte_urls=common_pb2.FlyteURLs(inputs=f"{base}/i", outputs=f"{base}/o"),
        )

    # Metrics -----------------------------------------------------------------------------------------------------

    def GetExecutionMetrics(
        self, request: admin_pb2.WorkflowExecutionGetMetricsRequest
    ) -> admin_pb2.WorkflowExecutionGetMetricsResponse:
        """Spans of an execution: setup, one per node (with task attempts and child nodes), teardown.

        Child node executions (of sub-workflow, branch and dynamic nodes) appear inside their parent's span, one
        level of ``depth`` further down.
        """
        self._check_execution_id(request.id if request.HasField("id") else None)
        key = ExecutionKey.of(request.id)
        execution = self.records.execution_proto(self.records.execution_row(key))
        closure = execution.closure
        root = metrics_pb2.Span(start_time=closure.created_at, end_time=closure.updated_at, workflow_id=key.to_proto())
        if request.depth <= 0:
            return admin_pb2.WorkflowExecutionGetMetricsResponse(span=root)
        rows = self.records.node_rows(key)
        start = rows.get(START_NODE)
        setup_end = self.records.node_proto(start).closure.updated_at if start is not None else closure.updated_at
        root.spans.add(start_time=closure.created_at, end_time=setup_end, operation_id="WORKFLOW_SETUP")
        children: dict[int | None, list[sqlite3.Row]] = {}
        for node_id, row in rows.items():
            if node_id not in (START_NODE, END_NODE):
                children.setdefault(row["parent_id"], []).append(row)
        attempts: dict[str, list[sqlite3.Row]] = {}
        if request.depth > 1:
            for row in self.store.all(
                "SELECT * FROM task_executions WHERE execution_project = ? AND execution_domain = ? AND "
                "execution_name = ? ORDER BY retry_attempt",
                key.params,
            ):
                attempts.setdefault(row["node_id"], []).append(row)
        last_end = setup_end
        for top in _in_creation_order(children.get(None, [])):
            end = self._add_node_span(root, top, children, attempts, request.depth)
            if end.ToNanoseconds() > last_end.ToNanoseconds():
                last_end = end
        if closure.phase in WORKFLOW_TERMINAL:
            root.spans.add(start_time=last_end, end_time=closure.updated_at, operation_id="WORKFLOW_TEARDOWN")
        return admin_pb2.WorkflowExecutionGetMetricsResponse(span=root)

    def _add_node_span(
        self,
        parent: metrics_pb2.Span,
        row: sqlite3.Row,
        children: dict[int | None, list[sqlite3.Row]],
        attempts: dict[str, list[sqlite3.Row]],
        depth: int,
    ) -> timestamp_pb2.Timestamp:
        """Add a node's span (its attempts and child nodes below it while ``depth`` lasts); returns its end."""
        node = self.records.node_proto(row)
        span = parent.spans.add(start_time=node.closure.created_at, end_time=node.closure.updated_at, node_id=node.id)
        if depth > 1:
            for attempt_row in attempts.get(row["node_id"], []):
                attempt = self.records.task_proto(attempt_row)
                task_span = span.spans.add(
                    start_time=attempt.closure.created_at, end_time=attempt.closure.updated_at, task_id=attempt.id
                )
                started = (
                    attempt.closure.started_at if attempt.closure.HasField("started_at") else attempt.closure.created_at
                )
                task_span.spans.add(start_time=attempt.closure.created_at, end_time=started, operation_id="TASK_SETUP")
                task_span.spans.add(
                    start_time=started, end_time=attempt.closure.updated_at, operation_id="TASK_RUNTIME"
                )
            for child in _in_creation_order(children.get(row["id"], [])):
                self._add_node_span(span, child, children, attempts, depth - 1)
        return node.closure.updated_at

    # Signals -----------------------------------------------------------------------------------------------------

    @staticmethod
    def _check_signal_id(identifier: identifier_pb2.SignalIdentifier | None) -> None:
        if identifier is None:
            raise missing_argument("id")
        if not identifier.HasField("execution_id"):
            raise missing_argument("execution_id")
        require(identifier.signal_id, "signal_id")
        for field in ("project", "domain", "name"):
            require(getattr(identifier.execution_id, field), field)

    @staticmethod
    def _signal_proto(row: sqlite3.Row) -> signal_pb2.Signal:
        signal = signal_pb2.Signal(
            id=identifier_pb2.SignalIdentifier(
                signal_id=row["signal_id"],
                execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                    project=row["execution_project"], domain=row["execution_domain"], name=row["execution_name"]
                ),
            )
        )
        signal.type.ParseFromString(row["type"] or b"")
        if row["value"] is not None:
            signal.value.ParseFromString(row["value"])
        return signal

    def signal_row(self, identifier: identifier_pb2.SignalIdentifier) -> sqlite3.Row | None:
        """A signal's row, or ``None``."""
        ex = identifier.execution_id
        return self.store.one(
            "SELECT * FROM signals WHERE execution_project = ? AND execution_domain = ? AND execution_name = ? "
            "AND signal_id = ?",
            (ex.project, ex.domain, ex.name, identifier.signal_id),
        )

    def GetOrCreateSignal(self, request: signal_pb2.SignalGetOrCreateRequest) -> signal_pb2.Signal:
        """The signal with this id and type, created (without a value) if new."""
        self._check_signal_id(request.id if request.HasField("id") else None)
        if not request.HasField("type"):
            raise missing_argument("type")
        type_bytes = request.type.SerializeToString(deterministic=True)
        with self.store.transaction():
            row = self.signal_row(request.id)
            if row is None:
                ex = request.id.execution_id
                self.store.insert(
                    "signals",
                    {
                        "execution_project": ex.project,
                        "execution_domain": ex.domain,
                        "execution_name": ex.name,
                        "signal_id": request.id.signal_id,
                        "type": type_bytes,
                    },
                )
                row = self.signal_row(request.id)
            elif row["type"] != type_bytes:
                raise duplicate_key("signals_pkey")
        assert row is not None
        return self._signal_proto(row)

    def ListSignals(self, request: signal_pb2.SignalListRequest) -> signal_pb2.SignalList:
        """Signals of an execution."""
        if not request.HasField("workflow_execution_id"):
            raise missing_argument("execution_id")
        self._check_execution_id(request.workflow_execution_id, "execution_id")
        check_limit(request.limit)
        ex = request.workflow_execution_id
        query = where_query(SIGNAL, execution_project=ex.project, execution_domain=ex.domain, execution_name=ex.name)
        signals, token = list_page(
            self.store,
            query,
            limit=request.limit,
            token=request.token,
            rpc="ListSignals",
            sort_by=sort_of(request),
            filters=request.filters,
            convert=self._signal_proto,
        )
        return signal_pb2.SignalList(signals=signals, token=token)

    def SetSignal(self, request: signal_pb2.SignalSetRequest) -> signal_pb2.SignalSetResponse:
        """Give a signal its value (overwriting any earlier one) after the type check."""
        self._check_signal_id(request.id if request.HasField("id") else None)
        if not request.HasField("value"):
            raise missing_argument("value")
        with self.store.transaction():
            row = self.signal_row(request.id)
            if row is None:
                ex = request.id.execution_id
                raise invalid(
                    f"failed to validate that signal [{{{{{ex.project} {ex.domain} {ex.name}}} "
                    f"{request.id.signal_id}}}] "
                    "exists, err: [signal does not exist]"
                )
            signal_type = self._signal_proto(row).type
            if not literal_fits(request.value, signal_type):
                type_bytes = " ".join(str(byte) for byte in bytes(row["type"] or b""))
                raise invalid(
                    f"requested signal value [{prototext(request.value)}] is not castable to existing signal type "
                    f"[[{type_bytes}]]"
                )
            self.store.update("signals", row["id"], {"value": request.value.SerializeToString()})
        return signal_pb2.SignalSetResponse()


def _promise(node_id: str, variable: str) -> types_pb2.OutputReference:
    return types_pb2.OutputReference(node_id=node_id, var=variable)


def _has_identity(context: security_pb2.SecurityContext) -> bool:
    run_as = context.run_as
    return bool(run_as.k8s_service_account or run_as.iam_role or run_as.execution_identity)


__all__ = ["Engine", "Executions", "generate_execution_name", "principal_var"]
