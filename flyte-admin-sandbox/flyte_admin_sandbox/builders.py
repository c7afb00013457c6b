"""Small builders for the flyteidl messages registration needs: typed interfaces, tasks, workflows, launch plans.

The sandbox's seed data and our tests use them; they are handy for anyone registering entities by hand::

    add = python_task("demo.add", "my_module:add", inputs={"a": INTEGER, "b": INTEGER}, outputs={"o0": INTEGER})
    wf = workflow(
        "demo.wf",
        inputs={"a": INTEGER},
        outputs={"o0": INTEGER},
        nodes=[task_node("n0", add.id, {"a": promise("start-node", "a"), "b": constant(1, INTEGER)})],
        output_bindings={"o0": promise("n0", "o0")},
    )

A built-in Python task becomes dynamic by returning :func:`dynamic_job` instead of values (the sandbox engine runs
the nodes it lists as the task node's children)::

    def fan_out(n: int):
        nodes = [task_node(f"n{i}", add.id, {"a": constant(i, INTEGER), "b": constant(1, INTEGER)}) for i in range(n)]
        return dynamic_job(nodes, {"o0": collection([promise(f"n{i}", "o0") for i in range(n)])}, tasks=[add])
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from flyteidl.admin import common_pb2, launch_plan_pb2, schedule_pb2
from flyteidl.core import (
    dynamic_job_pb2,
    identifier_pb2,
    interface_pb2,
    literals_pb2,
    tasks_pb2,
    types_pb2,
    workflow_pb2,
)
from google.protobuf import duration_pb2, struct_pb2

from flyte_admin_sandbox.compiler import START_NODE
from flyte_admin_sandbox.engine import PYTHON_CALLABLE_KEY

RT = identifier_pb2.ResourceType
PROJECT = "flytesnacks"
DOMAIN = "development"
VERSION = "v1"
PYTHON_IMAGE = "ghcr.io/flyteorg/flytekit:py3.11-latest"
FAIL_IMMEDIATELY = workflow_pb2.WorkflowMetadata.FAIL_IMMEDIATELY
FAIL_AFTER_EXECUTABLE_NODES_COMPLETE = workflow_pb2.WorkflowMetadata.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE


def _simple(simple: types_pb2.SimpleType) -> types_pb2.LiteralType:
    return types_pb2.LiteralType(simple=simple)


INTEGER = _simple(types_pb2.SimpleType.INTEGER)
FLOAT = _simple(types_pb2.SimpleType.FLOAT)
STRING = _simple(types_pb2.SimpleType.STRING)
BOOLEAN = _simple(types_pb2.SimpleType.BOOLEAN)
DATETIME = _simple(types_pb2.SimpleType.DATETIME)
DURATION = _simple(types_pb2.SimpleType.DURATION)
NONE = _simple(types_pb2.SimpleType.NONE)


def list_of(item: types_pb2.LiteralType) -> types_pb2.LiteralType:
    """``list[item]``."""
    return types_pb2.LiteralType(collection_type=item)


def dict_of(value: types_pb2.LiteralType) -> types_pb2.LiteralType:
    """``dict[str, value]``."""
    return types_pb2.LiteralType(map_value_type=value)


def optional(item: types_pb2.LiteralType) -> types_pb2.LiteralType:
    """``Optional[item]`` as flytekit writes it (a union with ``none``)."""
    tagged = types_pb2.LiteralType()
    tagged.CopyFrom(item)
    tagged.structure.tag = _tag(item)
    none = types_pb2.LiteralType(simple=types_pb2.SimpleType.NONE, structure=types_pb2.TypeStructure(tag="none"))
    return types_pb2.LiteralType(union_type=types_pb2.UnionType(variants=[tagged, none]))


def _tag(literal_type: types_pb2.LiteralType) -> str:
    names = {
        types_pb2.SimpleType.INTEGER: "int",
        types_pb2.SimpleType.FLOAT: "float",
        types_pb2.SimpleType.STRING: "str",
        types_pb2.SimpleType.BOOLEAN: "bool",
        types_pb2.SimpleType.DATETIME: "datetime",
        types_pb2.SimpleType.DURATION: "timedelta",
    }
    return names.get(literal_type.simple, "value") if literal_type.WhichOneof("type") == "simple" else "value"


def identifier(
    resource_type: identifier_pb2.ResourceType,
    name: str,
    version: str = VERSION,
    project: str = PROJECT,
    domain: str = DOMAIN,
) -> identifier_pb2.Identifier:
    """A task, workflow or launch plan id."""
    return identifier_pb2.Identifier(
        resource_type=resource_type, project=project, domain=domain, name=name, version=version
    )


def variables(declared: Mapping[str, types_pb2.LiteralType]) -> interface_pb2.VariableMap:
    """A variable map from names to types (descriptions are the names)."""
    return interface_pb2.VariableMap(
        variables={name: interface_pb2.Variable(type=kind, description=name) for name, kind in declared.items()}
    )


def interface(
    inputs: Mapping[str, types_pb2.LiteralType] | None = None,
    outputs: Mapping[str, types_pb2.LiteralType] | None = None,
) -> interface_pb2.TypedInterface:
    """A typed interface."""
    return interface_pb2.TypedInterface(inputs=variables(inputs or {}), outputs=variables(outputs or {}))


def literal(value: Any, literal_type: types_pb2.LiteralType) -> literals_pb2.Literal:
    """A Python value as a literal of ``literal_type`` (through the shared codec)."""
    from airflow_provider_flyte.literals import to_literal

    return to_literal(value, literal_type)


def literal_map(values: Mapping[str, Any], types: Mapping[str, types_pb2.LiteralType]) -> literals_pb2.LiteralMap:
    """Python values as a literal map."""
    return literals_pb2.LiteralMap(literals={name: literal(value, types[name]) for name, value in values.items()})


def _task_template(
    task_id: identifier_pb2.Identifier,
    task_type: str,
    inputs: Mapping[str, types_pb2.LiteralType],
    outputs: Mapping[str, types_pb2.LiteralType],
    *,
    retries: int = 0,
    timeout: float | None = None,
    custom: Mapping[str, Any] | None = None,
    image: str = PYTHON_IMAGE,
    args: Iterable[str] = (),
) -> tasks_pb2.TaskTemplate:
    metadata = tasks_pb2.TaskMetadata(
        runtime=tasks_pb2.RuntimeMetadata(type=tasks_pb2.RuntimeMetadata.FLYTE_SDK, version="sandbox", flavor="python"),
        retries=literals_pb2.RetryStrategy(retries=retries),
    )
    if timeout is not None:
        metadata.timeout.CopyFrom(duration_pb2.Duration(seconds=int(timeout), nanos=int((timeout % 1) * 1e9)))
    template = tasks_pb2.TaskTemplate(
        id=task_id,
        type=task_type,
        metadata=metadata,
        interface=interface(inputs, outputs),
        container=tasks_pb2.Container(image=image, args=list(args) or ["pyflyte-execute", "--task", task_id.name]),
    )
    if custom:
        struct = struct_pb2.Struct()
        struct.update(dict(custom))
        template.custom.CopyFrom(struct)
    return template


def python_task(
    name: str,
    function: str,
    *,
    inputs: Mapping[str, types_pb2.LiteralType] | None = None,
    outputs: Mapping[str, types_pb2.LiteralType] | None = None,
    version: str = VERSION,
    project: str = PROJECT,
    domain: str = DOMAIN,
    retries: int = 0,
    timeout: float | None = None,
) -> tasks_pb2.TaskTemplate:
    """A built-in Python task: the sandbox engine calls ``function`` (``"module:function"``) with its inputs."""
    return _task_template(
        identifier(RT.TASK, name, version, project, domain),
        "python-task",
        inputs or {},
        outputs or {},
        retries=retries,
        timeout=timeout,
        custom={PYTHON_CALLABLE_KEY: function},
    )


def container_task(
    name: str,
    *,
    inputs: Mapping[str, types_pb2.LiteralType] | None = None,
    outputs: Mapping[str, types_pb2.LiteralType] | None = None,
    version: str = VERSION,
    project: str = PROJECT,
    domain: str = DOMAIN,
    retries: int = 0,
    image: str = PYTHON_IMAGE,
) -> tasks_pb2.TaskTemplate:
    """A plain container task (the sandbox engine succeeds it with placeholder outputs)."""
    return _task_template(
        identifier(RT.TASK, name, version, project, domain),
        "python-task",
        inputs or {},
        outputs or {},
        retries=retries,
        image=image,
    )


def promise(node_id: str, var: str) -> literals_pb2.BindingData:
    """A binding to another node's output (``start-node`` for workflow inputs)."""
    return literals_pb2.BindingData(promise=types_pb2.OutputReference(node_id=node_id, var=var))


def workflow_input(var: str) -> literals_pb2.BindingData:
    """A binding to a workflow input."""
    return promise(START_NODE, var)


def constant(value: Any, literal_type: types_pb2.LiteralType) -> literals_pb2.BindingData:
    """A binding to a constant (scalars only)."""
    return literals_pb2.BindingData(scalar=literal(value, literal_type).scalar)


def collection(items: Iterable[literals_pb2.BindingData]) -> literals_pb2.BindingData:
    """A list binding whose items are other bindings (promises or constants), e.g. to collect fan-out outputs."""
    return literals_pb2.BindingData(collection=literals_pb2.BindingDataCollection(bindings=list(items)))


def _bindings(values: Mapping[str, literals_pb2.BindingData]) -> list[literals_pb2.Binding]:
    return [literals_pb2.Binding(var=name, binding=data) for name, data in values.items()]


def task_node(
    node_id: str,
    task_id: identifier_pb2.Identifier,
    inputs: Mapping[str, literals_pb2.BindingData] | None = None,
    upstream: Iterable[str] = (),
    *,
    retries: int | None = None,
) -> workflow_pb2.Node:
    """A node running a task."""
    node = workflow_pb2.Node(
        id=node_id,
        metadata=workflow_pb2.NodeMetadata(name=node_id),
        inputs=_bindings(inputs or {}),
        upstream_node_ids=list(upstream),
        task_node=workflow_pb2.TaskNode(reference_id=task_id),
    )
    if retries is not None:
        node.metadata.retries.retries = retries
    return node


def approve_node(
    node_id: str, signal_id: str, inputs: Mapping[str, literals_pb2.BindingData], upstream: Iterable[str] = ()
) -> workflow_pb2.Node:
    """An approval gate (flytekit's ``approve``): waits for a boolean signal, passes its inputs through."""
    return workflow_pb2.Node(
        id=node_id,
        metadata=workflow_pb2.NodeMetadata(name=node_id),
        inputs=_bindings(inputs),
        upstream_node_ids=list(upstream),
        gate_node=workflow_pb2.GateNode(approve=workflow_pb2.ApproveCondition(signal_id=signal_id)),
    )


def signal_node(
    node_id: str,
    signal_id: str,
    literal_type: types_pb2.LiteralType,
    output_variable: str = "o0",
    upstream: Iterable[str] = (),
) -> workflow_pb2.Node:
    """A ``wait_for_input`` gate: waits for a typed signal and outputs it."""
    return workflow_pb2.Node(
        id=node_id,
        metadata=workflow_pb2.NodeMetadata(name=node_id),
        upstream_node_ids=list(upstream),
        gate_node=workflow_pb2.GateNode(
            signal=workflow_pb2.SignalCondition(
                signal_id=signal_id, type=literal_type, output_variable_name=output_variable
            )
        ),
    )


def sleep_node(node_id: str, seconds: float, upstream: Iterable[str] = ()) -> workflow_pb2.Node:
    """A sleep gate."""
    return workflow_pb2.Node(
        id=node_id,
        metadata=workflow_pb2.NodeMetadata(name=node_id),
        upstream_node_ids=list(upstream),
        gate_node=workflow_pb2.GateNode(
            sleep=workflow_pb2.SleepCondition(duration=duration_pb2.Duration(seconds=int(seconds)))
        ),
    )


def workflow(
    name: str,
    *,
    inputs: Mapping[str, types_pb2.LiteralType] | None = None,
    outputs: Mapping[str, types_pb2.LiteralType] | None = None,
    nodes: Iterable[workflow_pb2.Node],
    output_bindings: Mapping[str, literals_pb2.BindingData] | None = None,
    version: str = VERSION,
    project: str = PROJECT,
    domain: str = DOMAIN,
    on_failure: workflow_pb2.WorkflowMetadata.OnFailurePolicy = FAIL_IMMEDIATELY,
) -> workflow_pb2.WorkflowTemplate:
    """A workflow template (not yet compiled: no start/end nodes).

    ``on_failure`` is the workflow's failure policy: ``FAIL_IMMEDIATELY`` aborts the other nodes at the first
    failure, ``FAIL_AFTER_EXECUTABLE_NODES_COMPLETE`` lets the nodes that do not depend on it finish first.
    """
    return workflow_pb2.WorkflowTemplate(
        id=identifier(RT.WORKFLOW, name, version, project, domain),
        metadata=workflow_pb2.WorkflowMetadata(on_failure=on_failure),
        interface=interface(inputs, outputs),
        nodes=list(nodes),
        outputs=_bindings(output_bindings or {}),
    )


def dynamic_job(
    nodes: Iterable[workflow_pb2.Node],
    outputs: Mapping[str, literals_pb2.BindingData] | None = None,
    *,
    tasks: Iterable[tasks_pb2.TaskTemplate] = (),
    sub_workflows: Iterable[workflow_pb2.WorkflowTemplate] = (),
    min_successes: int | None = None,
) -> dynamic_job_pb2.DynamicJobSpec:
    """What a dynamic task returns: the workflow to run in its place (flytekit's ``futures.pb``).

    Args:
        nodes: The nodes to run (their ids must be unique; promises name them, ``start-node`` names the task's own
            inputs).
        outputs: A binding for each output of the task.
        tasks: Templates of the tasks the nodes run that are not registered (registered ones and those of the
            running workflow are found by id).
        sub_workflows: Templates of sub-workflows the nodes reference.
        min_successes: How many nodes must succeed (the default, like flytekit's, is all of them); fewer lets the
            others finish when some fail, as long as the output bindings can still be resolved.

    Returns:
        The ``DynamicJobSpec``.

    Raises:
        ValueError: for a ``min_successes`` below 1 or above the number of nodes.
    """
    node_list = list(nodes)
    required = len(node_list) if min_successes is None else min_successes
    if not 0 < required <= len(node_list) and node_list:
        raise ValueError(f"min_successes must be between 1 and {len(node_list)} (the nodes), got {min_successes!r}")
    return dynamic_job_pb2.DynamicJobSpec(
        nodes=node_list,
        min_successes=required,
        outputs=_bindings(outputs or {}),
        tasks=list(tasks),
        subworkflows=list(sub_workflows),
    )


def launch_plan_spec(
    workflow_id: identifier_pb2.Identifier,
    *,
    defaults: Mapping[str, tuple[types_pb2.LiteralType, Any]] | None = None,
    required: Mapping[str, types_pb2.LiteralType] | None = None,
    fixed: Mapping[str, literals_pb2.Literal] | None = None,
    cron: str | None = None,
    kickoff_input: str = "",
    labels: Mapping[str, str] | None = None,
) -> launch_plan_pb2.LaunchPlanSpec:
    """A launch plan spec: default inputs (type, Python value), required inputs, fixed literals, a cron schedule."""
    parameters = {}
    for name, (kind, value) in (defaults or {}).items():
        parameters[name] = interface_pb2.Parameter(
            var=interface_pb2.Variable(type=kind, description=name), default=literal(value, kind)
        )
    for name, kind in (required or {}).items():
        parameters[name] = interface_pb2.Parameter(
            var=interface_pb2.Variable(type=kind, description=name), required=True
        )
    spec = launch_plan_pb2.LaunchPlanSpec(
        workflow_id=workflow_id,
        default_inputs=interface_pb2.ParameterMap(parameters=parameters),
        fixed_inputs=literals_pb2.LiteralMap(literals=dict(fixed or {})),
        labels=common_pb2.Labels(values=dict(labels or {})),
    )
    if cron is not None:
        spec.entity_metadata.schedule.CopyFrom(
            schedule_pb2.Schedule(
                cron_schedule=schedule_pb2.CronSchedule(schedule=cron), kickoff_time_input_arg=kickoff_input
            )
        )
    return spec


def epoch() -> datetime.datetime:
    """1970-01-01 UTC (a convenient deterministic datetime)."""
    return datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
