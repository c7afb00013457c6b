"""Creating executions: CreateExecution, RelaunchExecution and RecoverExecution.

Inputs are resolved against the launch plan (defaults, fixed inputs, types), the spec is completed from the
matchable execution config and the launch plan, and the run is stored and handed to the engine. Launching a task
creates its ``.flytegen.<task>`` workflow and launch plan on first use, as Flyte Admin does.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
from dataclasses import dataclass

from flyteidl.admin import common_pb2, launch_plan_pb2, matchable_resource_pb2, workflow_pb2
from flyteidl.admin import execution_pb2 as admin_pb2
from flyteidl.core import identifier_pb2, literals_pb2, security_pb2, types_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from flyte_admin_sandbox.common import require
from flyte_admin_sandbox.compiler import START_NODE
from flyte_admin_sandbox.errors import duplicate_key, invalid, missing_argument, prototext
from flyte_admin_sandbox.executions_base import ExecutionsBase, principal_var
from flyte_admin_sandbox.records import ExecutionKey, WorkflowPhase, literal_map, stored_text, timestamp
from flyte_admin_sandbox.registry_base import RT, entity_id, validate_labels
from flyte_admin_sandbox.registry_entities import FLYTEGEN_PREFIX
from flyte_admin_sandbox.store import now
from flyte_admin_sandbox.typing_rules import literal_fits, literal_type_of

_NAME_PATTERN = re.compile(r"^[a-z][a-z\-0-9]*$")
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_NODE_ID_SYMBOLS = re.compile(r"[^a-zA-Z0-9-]")
_UNBIASED_BYTE_LIMIT = 256 - 256 % len(_NAME_ALPHABET)
MAX_NAME_LENGTH = 63
DEFAULT_MAX_PARALLELISM = 25
TARGET_CACHE_LIMIT = 1024
"""Launch targets kept per sandbox before the cache is dropped (each is a few protobuf messages)."""
Mode = admin_pb2.ExecutionMetadata.ExecutionMode
_UNDEFINED_PHASE = WorkflowPhase.Name(WorkflowPhase.UNDEFINED)


def generate_execution_name() -> str:
    """Flyte Admin's generated names: ``a`` followed by 19 characters of Kubernetes' random-string alphabet."""
    characters: list[str] = []
    while len(characters) < 19:  # one read of random bytes, not one per character
        # Bytes past the last whole multiple of the alphabet's size would favour its first letters: skip them.
        usable = [byte for byte in secrets.token_bytes(32) if byte < _UNBIASED_BYTE_LIMIT]
        characters += [_NAME_ALPHABET[byte % len(_NAME_ALPHABET)] for byte in usable]
    return "a" + "".join(characters[:19])


@dataclass(frozen=True)
class LaunchTarget:
    """What creating a run of a launch plan (or of a task's generated one) needs, resolved once per reference.

    Registered launch plans, workflows and tasks never change (only a plan's state does, which creating ignores),
    so this is cached; its messages are shared and must not be modified.
    """

    plan_row_id: int
    workflow_row_id: int
    task_row_id: int | None
    workflow_id: identifier_pb2.Identifier
    plan: launch_plan_pb2.LaunchPlan


def _check_name(name: str) -> None:
    """A requested execution name (empty: one is generated): at most 63 characters, a DNS-label-like pattern."""
    if name:
        lowered = name.lower()
        if len(lowered) > MAX_NAME_LENGTH:
            raise invalid(f"size of name exceeded length {MAX_NAME_LENGTH} : {name}")
        if not _NAME_PATTERN.match(lowered):
            raise invalid(f"invalid name format: {name}, does not match regex '{_NAME_PATTERN.pattern}'")


def _promise(node_id: str, variable: str) -> types_pb2.OutputReference:
    return types_pb2.OutputReference(node_id=node_id, var=variable)


def _has_identity(context: security_pb2.SecurityContext) -> bool:
    run_as = context.run_as
    return bool(run_as.k8s_service_account or run_as.iam_role or run_as.execution_identity)


def _default_labels_and_envs(
    stored: admin_pb2.ExecutionSpec,
    config: matchable_resource_pb2.WorkflowExecutionConfig,
    plan: launch_plan_pb2.LaunchPlanSpec,
) -> None:
    """Labels, annotations and environment variables the request left empty: the config's, else the plan's."""
    if not stored.labels.values:
        stored.labels.CopyFrom(config.labels if config.labels.values else plan.labels)
    if not stored.annotations.values:
        stored.annotations.CopyFrom(config.annotations if config.annotations.values else plan.annotations)
    if not stored.envs.values:
        stored.envs.CopyFrom(config.envs if config.envs.values else plan.envs)


def _default_run_settings(
    stored: admin_pb2.ExecutionSpec,
    config: matchable_resource_pb2.WorkflowExecutionConfig,
    plan: launch_plan_pb2.LaunchPlanSpec,
) -> None:
    """Raw output location, interruptible and overwrite_cache the request left unset: the config's, else the plan's."""
    if not stored.raw_output_data_config.output_location_prefix:
        source = config.raw_output_data_config
        if not source.output_location_prefix:
            source = plan.raw_output_data_config
        if source.output_location_prefix:
            stored.raw_output_data_config.CopyFrom(source)
    if not stored.HasField("interruptible"):
        if config.HasField("interruptible"):
            stored.interruptible.CopyFrom(config.interruptible)
        elif plan.HasField("interruptible"):
            stored.interruptible.CopyFrom(plan.interruptible)
    if not stored.overwrite_cache:
        stored.overwrite_cache = config.overwrite_cache or plan.overwrite_cache


class ExecutionCreation(ExecutionsBase):
    """Flyte Admin's execution manager: creating runs."""

    _targets: dict[tuple[int, str, str, str, str], LaunchTarget]

    def CreateExecution(self, request: admin_pb2.ExecutionCreateRequest) -> admin_pb2.ExecutionCreateResponse:
        """Validate, resolve inputs against the launch plan, store the run and hand it to the engine.

        The project, the launch plan and the execution config come from caches, so that a create usually takes the
        store for its INSERT alone.
        """
        inputs = request.inputs if request.inputs.literals else request.spec.inputs
        require(request.project, "project")
        require(request.domain, "domain")
        _check_name(request.name)
        project = self.registry.check_project_domain(request.project, request.domain)
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
        key = self.create(
            request.project, request.domain, request.name, request.spec, inputs, project_labels=project["labels"] or b""
        )
        return admin_pb2.ExecutionCreateResponse(id=key.to_proto())

    def create(
        self,
        project: str,
        domain: str,
        name: str,
        spec: admin_pb2.ExecutionSpec,
        user_inputs: literals_pb2.LiteralMap,
        source_row_id: int | None = None,
        project_labels: bytes | None = None,
    ) -> ExecutionKey:
        """The shared path of Create, Relaunch and Recover: resolve, store, launch.

        Args:
            project: The new run's project.
            domain: Its domain.
            name: Its name; generated when empty.
            spec: The spec as requested (its launch plan is what runs).
            user_inputs: The inputs as requested.
            source_row_id: The row of the execution a relaunch or recovery repeats.
            project_labels: The project's stored labels when the caller has read them; ``None`` reads them.

        Returns:
            The new execution's key.
        """
        target = self.launch_target(spec.launch_plan)
        plan = target.plan
        merged = self._merge_inputs(user_inputs, plan)
        execution_name = name or generate_execution_name()
        key = ExecutionKey(project, domain, execution_name)
        stored_spec = self._resolve_spec(spec, plan, key, target.workflow_id.name, project_labels)
        moment = now()
        stamp = stored_text(moment)
        at = timestamp(moment)
        principal = principal_var.get()
        closure = admin_pb2.ExecutionClosure(
            phase=WorkflowPhase.UNDEFINED,
            created_at=at,
            updated_at=at,
            workflow_id=target.workflow_id,
            state_change_details=admin_pb2.ExecutionStateChangeDetails(
                state=admin_pb2.EXECUTION_ACTIVE, principal=principal, occurred_at=at
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
            "launch_plan_id": target.plan_row_id,
            "workflow_id": target.workflow_row_id,
            "task_id": target.task_row_id,
            "phase": _UNDEFINED_PHASE,
            "closure": closure.SerializeToString(),
            "spec": stored_spec.SerializeToString(),
            "execution_created_at": stamp,
            "execution_updated_at": stamp,
            "mode": stored_spec.metadata.mode,
            "source_execution_id": source_row_id,
            "cluster": "",
            "inputs_uri": blobs.uri(f"{prefix}/inputs"),
            "user_inputs_uri": blobs.uri(f"{prefix}/user_inputs"),
            "user": principal,
            "state": admin_pb2.EXECUTION_ACTIVE,
            "launch_entity": "task" if target.task_row_id is not None else "launch_plan",
            "inputs": merged.SerializeToString(deterministic=True),
            "user_inputs": user_inputs.SerializeToString(deterministic=True),
            "created_at": stamp,
            "updated_at": stamp,
        }
        tags = [*stored_spec.labels.values.items(), *((tag, "") for tag in stored_spec.tags)]
        try:
            if not tags:
                self.store.insert("executions", row)  # one statement: atomic by itself
            else:
                # All or nothing, also inside the engine's transaction (a launch-plan node creating its child).
                with self.store.savepoint():
                    self.store.insert("executions", row)
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

    def launch_target(self, reference: identifier_pb2.Identifier) -> LaunchTarget:
        """What a launch plan or task reference runs (a task's generated launch plan is created on first use).

        Raises:
            AdminError: ``NOT_FOUND`` for an unknown launch plan or task.
        """
        cache_key = (reference.resource_type, reference.project, reference.domain, reference.name, reference.version)
        target = self._targets.get(cache_key)
        if target is not None:
            return target
        with self.store.locked():  # two first runs of a task must not both create its launch plan
            target = self._resolve_target(reference)
            # Rows an open transaction wrote may yet be rolled back; an empty version means "the latest" for a task.
            if reference.version and not self.store.in_transaction:
                if len(self._targets) >= TARGET_CACHE_LIMIT:
                    self._targets.clear()
                self._targets[cache_key] = target
        return target

    def _resolve_target(self, reference: identifier_pb2.Identifier) -> LaunchTarget:
        task_row = None
        if reference.resource_type == RT.TASK:
            task_row = self.registry.task_row(reference)
            plan_row = self._single_task_launch_plan(task_row)
        else:
            plan_row = self.registry.launch_plan_row(reference)
        workflow_row = self.store.one(
            "SELECT project, domain, name, version FROM workflows WHERE id = ?", (plan_row["workflow_id"],)
        )
        assert workflow_row is not None
        return LaunchTarget(
            plan_row_id=plan_row["id"],
            workflow_row_id=plan_row["workflow_id"],
            task_row_id=task_row["id"] if task_row is not None else None,
            workflow_id=entity_id(workflow_row, RT.WORKFLOW),
            plan=self.registry.launch_plan_proto(plan_row),
        )

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
        self,
        spec: admin_pb2.ExecutionSpec,
        plan: launch_plan_pb2.LaunchPlan,
        key: ExecutionKey,
        workflow_name: str,
        project_labels: bytes | None,
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
        _default_labels_and_envs(stored, config, plan.spec)
        _default_run_settings(stored, config, plan.spec)
        if project_labels is None:
            project_row = self.store.one("SELECT labels FROM projects WHERE identifier = ?", (key.project,))
            project_labels = project_row["labels"] if project_row is not None else None
        if project_labels:
            for label, value in common_pb2.Labels.FromString(project_labels).values.items():
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
        _check_name(name)
        return spec, row

    def _create_again(
        self, row: sqlite3.Row, name: str, spec: admin_pb2.ExecutionSpec
    ) -> admin_pb2.ExecutionCreateResponse:
        """Create the new run of a relaunch or recovery, with the original's project, domain and user inputs."""
        key = self.create(
            row["execution_project"],
            row["execution_domain"],
            name,
            spec,
            literal_map(row["user_inputs"]),
            row["id"],
        )
        return admin_pb2.ExecutionCreateResponse(id=key.to_proto())

    def RelaunchExecution(self, request: admin_pb2.ExecutionRelaunchRequest) -> admin_pb2.ExecutionCreateResponse:
        """Run an execution again with its original inputs (mode RELAUNCH)."""
        spec, row = self._rerun(request.id, request.name, Mode.RELAUNCH)
        spec.overwrite_cache = request.overwrite_cache
        return self._create_again(row, request.name, spec)

    def RecoverExecution(self, request: admin_pb2.ExecutionRecoverRequest) -> admin_pb2.ExecutionCreateResponse:
        """Run an execution again reusing the nodes that succeeded (mode RECOVERED)."""
        spec, row = self._rerun(request.id, request.name, Mode.RECOVERED)
        if request.metadata.HasField("parent_node_execution"):
            spec.metadata.parent_node_execution.CopyFrom(request.metadata.parent_node_execution)
        return self._create_again(row, request.name, spec)
