"""Workflow compilation: what Flyte Admin asks propeller's compiler for when a workflow is registered.

It collects the tasks and launch plans a workflow needs, checks every binding against the interfaces of the nodes it
reads from, adds the ``start-node`` and ``end-node`` and derives the upstream/downstream connections, rejecting cycles.
Problems are reported in propeller's ``Collected Errors`` form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from flyteidl.core import compiler_pb2, identifier_pb2, interface_pb2, literals_pb2, workflow_pb2

from flyte_admin_sandbox.typing_rules import is_castable

START_NODE = "start-node"
END_NODE = "end-node"

TaskResolver = Callable[[identifier_pb2.Identifier], compiler_pb2.CompiledTask]
InterfaceResolver = Callable[[identifier_pb2.Identifier], interface_pb2.TypedInterface]


class CompileError(Exception):
    """The workflow does not compile; the message is propeller's ``Collected Errors: N ...`` text."""


@dataclass
class _Errors:
    items: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, code: str, node_id: str, description: str) -> None:
        self.items.append((code, node_id, description))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        lines = [f"Collected Errors: {len(self.items)}"]
        for index, (code, node_id, description) in enumerate(self.items):
            lines.append(f"\tError {index}: Code: {code}, Node Id: {node_id}, Description: {description}")
        raise CompileError("\n".join(lines) + "\n")


# Gates pass their inputs through and branches take whatever their conditions read: neither declares its inputs.
_FREE_INPUT_NODES = ("gate_node", "branch_node")


def _key(identifier: identifier_pb2.Identifier) -> tuple[str, str, str, str]:
    return (identifier.project, identifier.domain, identifier.name, identifier.version)


def iter_nodes(nodes: Iterable[workflow_pb2.Node]) -> Iterator[workflow_pb2.Node]:
    """Every node, including the ones nested in branches and array nodes."""
    for node in nodes:
        yield node
        target = node.WhichOneof("target")
        if target == "branch_node":
            if_else = node.branch_node.if_else
            yield from iter_nodes([if_else.case.then_node, *(block.then_node for block in if_else.other)])
            if if_else.HasField("else_node"):
                yield from iter_nodes([if_else.else_node])
        elif target == "array_node":
            yield from iter_nodes([node.array_node.node])


@dataclass
class Requirements:
    """What a workflow (and its sub-workflows) references.

    Attributes:
        task_ids: Tasks, in first-reference order, without duplicates.
        launch_plan_ids: Launch plans referenced by launch-plan nodes.
    """

    task_ids: list[identifier_pb2.Identifier] = field(default_factory=list)
    launch_plan_ids: list[identifier_pb2.Identifier] = field(default_factory=list)


def get_requirements(
    template: workflow_pb2.WorkflowTemplate, sub_workflows: list[workflow_pb2.WorkflowTemplate]
) -> Requirements:
    """Collect the task and launch-plan ids a workflow needs (``compiler.GetRequirements``)."""
    requirements = Requirements()
    seen: set[tuple[str, ...]] = set()
    for workflow in [template, *sub_workflows]:
        for node in iter_nodes(workflow.nodes):
            target = node.WhichOneof("target")
            if target == "task_node":
                reference = node.task_node.reference_id
                bucket = requirements.task_ids
            elif target == "workflow_node" and node.workflow_node.WhichOneof("reference") == "launchplan_ref":
                reference = node.workflow_node.launchplan_ref
                bucket = requirements.launch_plan_ids
            else:
                continue
            marker = (target, *_key(reference))
            if marker not in seen:
                seen.add(marker)
                bucket.append(reference)
    return requirements


def _variables(interface: interface_pb2.TypedInterface, side: str) -> dict[str, interface_pb2.Variable]:
    variable_map = interface.inputs if side == "inputs" else interface.outputs
    return dict(variable_map.variables)


class _WorkflowCompiler:
    def __init__(
        self,
        tasks: dict[tuple[str, str, str, str], compiler_pb2.CompiledTask],
        launch_plans: dict[tuple[str, str, str, str], interface_pb2.TypedInterface],
        sub_workflows: dict[tuple[str, str, str, str], workflow_pb2.WorkflowTemplate],
    ) -> None:
        self.tasks = tasks
        self.launch_plans = launch_plans
        self.sub_workflows = sub_workflows

    def node_interface(self, node: workflow_pb2.Node, errors: _Errors) -> interface_pb2.TypedInterface | None:
        target = node.WhichOneof("target")
        if target == "task_node":
            task = self.tasks.get(_key(node.task_node.reference_id))
            return task.template.interface if task is not None else None
        if target == "workflow_node":
            reference_kind = node.workflow_node.WhichOneof("reference")
            if reference_kind == "launchplan_ref":
                return self.launch_plans.get(_key(node.workflow_node.launchplan_ref))
            sub = self.sub_workflows.get(_key(node.workflow_node.sub_workflow_ref))
            if sub is None:
                errors.add(
                    "WorkflowReferenceNotFound",
                    node.id,
                    f"Referenced Workflow [{node.workflow_node.sub_workflow_ref.name}] not found.",
                )
                return None
            return sub.interface
        if target == "gate_node":
            return self._gate_interface(node)
        if target == "branch_node":
            case_node = node.branch_node.if_else.case.then_node
            return self.node_interface(case_node, errors)
        if target == "array_node":
            inner = self.node_interface(node.array_node.node, errors)
            if inner is None:
                return None
            if node.array_node.HasField("is_original_sub_node_interface") and not (
                node.array_node.is_original_sub_node_interface.value
            ):
                # flytekit's map tasks say so: the mapped task is registered with list-typed inputs and outputs.
                return inner
            result = interface_pb2.TypedInterface()
            for side in ("inputs", "outputs"):
                source = inner.inputs if side == "inputs" else inner.outputs
                target_map = result.inputs if side == "inputs" else result.outputs
                for name, variable in source.variables.items():
                    target_map.variables[name].type.collection_type.CopyFrom(variable.type)
            return result
        errors.add("NoNodesFound" if target is None else "UnrecognizedValue", node.id, "Node has no target.")
        return None

    @staticmethod
    def _gate_interface(node: workflow_pb2.Node) -> interface_pb2.TypedInterface:
        gate = node.gate_node
        result = interface_pb2.TypedInterface()
        kind = gate.WhichOneof("condition")
        if kind == "signal" and gate.signal.output_variable_name:
            result.outputs.variables[gate.signal.output_variable_name].type.CopyFrom(gate.signal.type)
        elif kind == "approve":
            # An approval passes its inputs through; their types are those of the bound upstream outputs.
            for binding in node.inputs:
                result.outputs.variables[binding.var].SetInParent()
        return result

    def compile(self, template: workflow_pb2.WorkflowTemplate) -> compiler_pb2.CompiledWorkflow:
        template = with_start_node_promises(template)
        errors = _Errors()
        workflow_name = template.id.name
        if not template.nodes:
            errors.add("NoNodesFound", workflow_name, f"Can't find any nodes in workflow [{workflow_name}].")
            errors.raise_if_any()
        interfaces: dict[str, interface_pb2.TypedInterface | None] = {}
        for node in template.nodes:
            if node.id in (START_NODE, END_NODE) or node.id in interfaces:
                errors.add("DuplicateNodeID", node.id, f"Trying to insert two nodes with the same id [{node.id}].")
                continue
            interfaces[node.id] = self.node_interface(node, errors)
        start_outputs = _variables(template.interface, "inputs")
        upstream: dict[str, list[str]] = {}
        for node in template.nodes:
            node_interface = interfaces.get(node.id)
            declared = _variables(node_interface, "inputs") if node_interface is not None else None
            depends: list[str] = []
            for binding in node.inputs:
                expected = declared.get(binding.var) if declared is not None else None
                if declared is not None and expected is None and node.WhichOneof("target") not in _FREE_INPUT_NODES:
                    errors.add(
                        "VariableNameNotFound", node.id, f"Variable [{binding.var}] not found on node [{node.id}]."
                    )
                self._check_binding(binding.binding, expected, node.id, interfaces, start_outputs, errors, depends)
            for upstream_id in node.upstream_node_ids:
                if upstream_id not in interfaces and upstream_id != START_NODE:
                    errors.add("NodeReferenceNotFound", node.id, f"Referenced node [{upstream_id}] not found.")
                elif upstream_id != START_NODE:
                    depends.append(upstream_id)
            upstream[node.id] = list(dict.fromkeys(depends))
        declared_outputs = _variables(template.interface, "outputs")
        end_depends: list[str] = []
        for binding in template.outputs:
            expected = declared_outputs.get(binding.var)
            if expected is None:
                errors.add(
                    "VariableNameNotFound", END_NODE, f"Variable [{binding.var}] not found on node [{END_NODE}]."
                )
            self._check_binding(binding.binding, expected, END_NODE, interfaces, start_outputs, errors, end_depends)
        errors.raise_if_any()
        order = _topological_order(upstream, errors)
        errors.raise_if_any()
        return _assemble(template, upstream, end_depends, order)

    def _check_binding(
        self,
        data: literals_pb2.BindingData,
        expected: interface_pb2.Variable | None,
        node_id: str,
        interfaces: dict[str, interface_pb2.TypedInterface | None],
        start_outputs: dict[str, interface_pb2.Variable],
        errors: _Errors,
        depends: list[str],
    ) -> None:
        kind = data.WhichOneof("value")
        if kind == "collection":
            for item in data.collection.bindings:
                self._check_binding(item, None, node_id, interfaces, start_outputs, errors, depends)
            return
        if kind == "map":
            for item in data.map.bindings.values():
                self._check_binding(item, None, node_id, interfaces, start_outputs, errors, depends)
            return
        if kind != "promise":
            return
        promise = data.promise
        if promise.node_id == START_NODE:
            outputs: dict[str, interface_pb2.Variable] | None = start_outputs
        elif promise.node_id in interfaces:
            depends.append(promise.node_id)
            source = interfaces[promise.node_id]
            outputs = _variables(source, "outputs") if source is not None else None
        else:
            errors.add("NodeReferenceNotFound", node_id, f"Referenced node [{promise.node_id}] not found.")
            return
        if outputs is None:
            return
        produced = outputs.get(promise.var)
        if produced is None:
            errors.add(
                "VariableNameNotFound", node_id, f"Variable [{promise.var}] not found on node [{promise.node_id}]."
            )
            return
        checkable = produced.HasField("type") and expected is not None and expected.HasField("type")
        if checkable and not promise.attr_path and not is_castable(produced.type, expected.type):  # type: ignore[union-attr]
            errors.add(
                "MismatchingTypes",
                node_id,
                f"Variable [{promise.var}] (type [{produced.type}]) doesn't match expected type "
                f"[{expected.type}].".replace("\n", " "),  # type: ignore[union-attr]
            )


def _name_start_node(data: literals_pb2.BindingData) -> None:
    kind = data.WhichOneof("value")
    if kind == "promise" and not data.promise.node_id:
        data.promise.node_id = START_NODE
    elif kind == "collection":
        for item in data.collection.bindings:
            _name_start_node(item)
    elif kind == "map":
        for item in data.map.bindings.values():
            _name_start_node(item)


def with_start_node_promises(template: workflow_pb2.WorkflowTemplate) -> workflow_pb2.WorkflowTemplate:
    """A copy of a template whose promises of workflow inputs name ``start-node``.

    flytekit promises workflow inputs from the node id ``""``; Flyte Admin's compiled closures name ``start-node``
    instead (flytekit's ``FlyteNode.promote_from_model`` turns it back), so the sandbox compiles them the same way.
    """
    copy = workflow_pb2.WorkflowTemplate()
    copy.CopyFrom(template)
    for node in iter_nodes(copy.nodes):
        for binding in node.inputs:
            _name_start_node(binding.binding)
    for binding in copy.outputs:
        _name_start_node(binding.binding)
    return copy


def _topological_order(upstream: dict[str, list[str]], errors: _Errors) -> list[str]:
    remaining = {node: set(parents) for node, parents in upstream.items()}
    order: list[str] = []
    while remaining:
        ready = [node for node, parents in remaining.items() if not parents]
        if not ready:
            cycle = ", ".join(sorted(remaining))
            errors.add("CycleDetected", sorted(remaining)[0], f"Found a cycle among nodes [{cycle}].")
            return order
        for node in ready:
            order.append(node)
            del remaining[node]
        for parents in remaining.values():
            parents.difference_update(ready)
    return order


def _assemble(
    template: workflow_pb2.WorkflowTemplate,
    upstream: dict[str, list[str]],
    end_depends: list[str],
    order: list[str],
) -> compiler_pb2.CompiledWorkflow:
    compiled_template = workflow_pb2.WorkflowTemplate()
    compiled_template.CopyFrom(template)
    del compiled_template.nodes[:]
    by_id = {node.id: node for node in template.nodes}
    compiled_template.nodes.add(id=START_NODE)
    for node in template.nodes:
        copy = compiled_template.nodes.add()
        copy.CopyFrom(node)
        if not copy.upstream_node_ids and upstream[node.id]:
            copy.upstream_node_ids.extend(upstream[node.id])
    end_node = compiled_template.nodes.add(id=END_NODE)
    end_node.inputs.extend(template.outputs)
    connections = compiler_pb2.ConnectionSet()
    downstream: dict[str, list[str]] = {START_NODE: []}
    for node_id in order:
        parents = upstream[node_id] or [START_NODE]
        connections.upstream[node_id].ids.extend(parents)
        for parent in parents:
            downstream.setdefault(parent, []).append(node_id)
    leaves = [node_id for node_id in order if node_id not in downstream]
    end_parents = list(dict.fromkeys([*end_depends, *leaves])) or [START_NODE]
    connections.upstream[END_NODE].ids.extend(end_parents)
    for parent in end_parents:
        downstream.setdefault(parent, []).append(END_NODE)
    for parent, children in downstream.items():
        if children:
            connections.downstream[parent].ids.extend(dict.fromkeys(children))
    del by_id
    return compiler_pb2.CompiledWorkflow(template=compiled_template, connections=connections)


def compile_workflow(
    template: workflow_pb2.WorkflowTemplate,
    sub_workflows: list[workflow_pb2.WorkflowTemplate],
    tasks: list[compiler_pb2.CompiledTask],
    launch_plan_interfaces: dict[tuple[str, str, str, str], interface_pb2.TypedInterface],
) -> compiler_pb2.CompiledWorkflowClosure:
    """Compile a workflow and its sub-workflows against resolved tasks and launch-plan interfaces.

    Args:
        template: The workflow, its ``id`` already set to the registered id.
        sub_workflows: Sub-workflow templates shipped in the same spec.
        tasks: The compiled tasks the workflow references (as registered).
        launch_plan_interfaces: The interface of each referenced launch plan, by ``(project, domain, name, version)``.

    Returns:
        The closure: the primary workflow, sub-workflows and tasks, each with start/end nodes and connections.

    Raises:
        CompileError: with propeller's ``Collected Errors`` text.
    """
    task_map = {_key(task.template.id): task for task in tasks}
    subs = {_key(sub.id): sub for sub in sub_workflows}
    compiler = _WorkflowCompiler(task_map, launch_plan_interfaces, subs)
    closure = compiler_pb2.CompiledWorkflowClosure(primary=compiler.compile(template))
    for sub in sub_workflows:
        closure.sub_workflows.append(compiler.compile(sub))
    closure.tasks.extend(tasks)
    return closure


def launch_plan_interface(
    expected_inputs: interface_pb2.ParameterMap, expected_outputs: interface_pb2.VariableMap
) -> interface_pb2.TypedInterface:
    """The interface a launch-plan node exposes: its expected inputs as variables and its outputs."""
    interface = interface_pb2.TypedInterface(outputs=expected_outputs)
    for name, parameter in expected_inputs.parameters.items():
        interface.inputs.variables[name].CopyFrom(parameter.var)
    return interface
