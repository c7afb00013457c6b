"""Pure helpers of the engine: bindings, branch conditions, array-node inputs and outputs, durations.

Nothing here touches the store; :mod:`flyte_admin_sandbox.engine` calls these while it walks a workflow.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flyteidl.core import condition_pb2, interface_pb2, literals_pb2, workflow_pb2
from google.protobuf import duration_pb2

from flyte_admin_sandbox.behaviours import TaskFailure
from flyte_admin_sandbox.compiler import START_NODE

Comparison = condition_pb2.ComparisonExpression
Conjunction = condition_pb2.ConjunctionExpression

_COMPARE: dict[int, Callable[[Any, Any], bool]] = {
    Comparison.EQ: operator.eq,
    Comparison.NEQ: operator.ne,
    Comparison.GT: operator.gt,
    Comparison.GTE: operator.ge,
    Comparison.LT: operator.lt,
    Comparison.LTE: operator.le,
}


class BindingError(Exception):
    """A binding refers to an output that is not there, or an array node's inputs do not line up."""


class BranchError(Exception):
    """A branch node cannot choose a case.

    No condition holds and there is no else, the else is an explicit error, or a condition cannot be evaluated.

    Args:
        message: What went wrong, for the node's error.
        code: The error code recorded with it.
    """

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def duration_seconds(duration: duration_pb2.Duration) -> float:
    """A protobuf duration in seconds."""
    return duration.seconds + duration.nanos / 1e9


def resolve_binding(
    data: literals_pb2.BindingData, outputs_of: Callable[[str], literals_pb2.LiteralMap]
) -> literals_pb2.Literal:
    """The literal a binding evaluates to, reading promises from upstream outputs.

    ``outputs_of`` receives the promised node id (``start-node`` or flytekit's empty id for workflow inputs).

    Raises:
        BindingError: when a promised output is missing.
    """
    kind = data.WhichOneof("value")
    literal = literals_pb2.Literal()
    if kind == "scalar":
        literal.scalar.CopyFrom(data.scalar)
    elif kind == "collection":
        literal.collection.SetInParent()
        for item in data.collection.bindings:
            literal.collection.literals.append(resolve_binding(item, outputs_of))
    elif kind == "map":
        literal.map.SetInParent()
        for key, item in data.map.bindings.items():
            literal.map.literals[key].CopyFrom(resolve_binding(item, outputs_of))
    elif kind == "promise":
        promise = data.promise
        outputs = outputs_of(promise.node_id)
        if promise.var not in outputs.literals:
            source = promise.node_id or START_NODE
            raise BindingError(f"output {promise.var!r} of node {source!r} is missing")
        literal.CopyFrom(outputs.literals[promise.var])
        if promise.attr_path:
            literal = _follow_attribute_path(literal, promise.attr_path, promise.var)
    elif kind == "offloaded_metadata":
        literal.offloaded_metadata.CopyFrom(data.offloaded_metadata)
    if data.HasField("union") and not (literal.HasField("scalar") and literal.scalar.HasField("union")):
        # A binding into a union-typed input: the value is tagged with the variant type the compiler chose.
        wrapped = literals_pb2.Literal()
        wrapped.scalar.union.value.CopyFrom(literal)
        wrapped.scalar.union.type.CopyFrom(data.union.targetType)
        return wrapped
    return literal


def _follow_attribute_path(literal: literals_pb2.Literal, path: Iterable[Any], variable: str) -> literals_pb2.Literal:
    """Index into lists and maps of a promised value (``o0[1]``, ``o0["key"]``)."""
    current = literal
    for element in path:
        which = element.WhichOneof("value")
        if which == "int_value" and current.WhichOneof("value") == "collection":
            items = current.collection.literals
            if not 0 <= element.int_value < len(items):
                raise BindingError(f"index {element.int_value} is out of range for {variable!r}")
            current = items[element.int_value]
        elif which == "string_value" and current.WhichOneof("value") == "map":
            if element.string_value not in current.map.literals:
                raise BindingError(f"key {element.string_value!r} is missing from {variable!r}")
            current = current.map.literals[element.string_value]
        else:
            raise BindingError(f"cannot follow the attribute path of {variable!r} in the sandbox")
    copy = literals_pb2.Literal()
    copy.CopyFrom(current)
    return copy


def resolve_bindings(
    bindings: Iterable[literals_pb2.Binding], outputs_of: Callable[[str], literals_pb2.LiteralMap]
) -> literals_pb2.LiteralMap:
    """A literal map of bindings (a node's inputs or a workflow's outputs).

    Raises:
        BindingError: when a promised output is missing.
    """
    resolved = literals_pb2.LiteralMap()
    for binding in bindings:
        resolved.literals[binding.var].CopyFrom(resolve_binding(binding.binding, outputs_of))
    return resolved


# Branches ------------------------------------------------------------------------------------------------------------


def _primitive_value(primitive: literals_pb2.Primitive) -> Any:
    kind = primitive.WhichOneof("value")
    if kind == "integer":
        return primitive.integer
    if kind == "float_value":
        return primitive.float_value
    if kind == "string_value":
        return primitive.string_value
    if kind == "boolean":
        return primitive.boolean
    if kind == "datetime":
        return primitive.datetime.ToNanoseconds()
    if kind == "duration":
        return primitive.duration.ToNanoseconds()
    return None


def _scalar_value(scalar: literals_pb2.Scalar, where: str) -> Any:
    kind = scalar.WhichOneof("value")
    if kind == "primitive":
        return _primitive_value(scalar.primitive)
    if kind == "none_type":
        return None
    if kind == "union":
        return _literal_value(scalar.union.value, where)
    raise BranchError(f"{where}: a {kind} value cannot be compared in a branch condition", "BadCondition")


def _literal_value(literal: literals_pb2.Literal, where: str) -> Any:
    if literal.WhichOneof("value") != "scalar":
        raise BranchError(f"{where}: only scalar values can be compared in a branch condition", "BadCondition")
    return _scalar_value(literal.scalar, where)


def _operand_value(operand: condition_pb2.Operand, inputs: literals_pb2.LiteralMap, node_id: str) -> Any:
    kind = operand.WhichOneof("val")
    if kind == "primitive":
        return _primitive_value(operand.primitive)
    if kind == "scalar":
        return _scalar_value(operand.scalar, f"node {node_id}")
    if kind == "var":
        if operand.var not in inputs.literals:
            raise BranchError(
                f"node {node_id}: condition variable {operand.var!r} is not among its inputs", "BadCondition"
            )
        return _literal_value(inputs.literals[operand.var], f"node {node_id}, variable {operand.var!r}")
    raise BranchError(f"node {node_id}: a condition operand is empty", "BadCondition")


def evaluate_condition(
    expression: condition_pb2.BooleanExpression, inputs: literals_pb2.LiteralMap, node_id: str
) -> bool:
    """Evaluate a branch condition against the branch node's inputs.

    Raises:
        BranchError: when an operand is missing or cannot be compared.
    """
    kind = expression.WhichOneof("expr")
    if kind == "conjunction":
        conjunction = expression.conjunction
        left = evaluate_condition(conjunction.left_expression, inputs, node_id)
        if conjunction.operator == Conjunction.AND:
            return left and evaluate_condition(conjunction.right_expression, inputs, node_id)
        return left or evaluate_condition(conjunction.right_expression, inputs, node_id)
    if kind == "comparison":
        comparison = expression.comparison
        left_value = _operand_value(comparison.left_value, inputs, node_id)
        right_value = _operand_value(comparison.right_value, inputs, node_id)
        compare = _COMPARE.get(comparison.operator)
        if compare is None:
            raise BranchError(f"node {node_id}: unknown comparison operator {comparison.operator}", "BadCondition")
        if comparison.operator not in (Comparison.EQ, Comparison.NEQ) and (left_value is None or right_value is None):
            raise BranchError(f"node {node_id}: cannot order a missing value", "BadCondition")
        try:
            return bool(compare(left_value, right_value))
        except TypeError as error:
            raise BranchError(
                f"node {node_id}: cannot compare {left_value!r} with {right_value!r}", "BadCondition"
            ) from error
    raise BranchError(f"node {node_id}: a condition is empty", "BadCondition")


def choose_branch(
    if_else: workflow_pb2.IfElseBlock, inputs: literals_pb2.LiteralMap, node_id: str
) -> workflow_pb2.Node:
    """The node a branch runs: the first case whose condition holds, else the else node.

    Raises:
        BranchError: when the else is an error, when nothing matches without an else, or a condition fails.
    """
    for case in [if_else.case, *if_else.other]:
        if evaluate_condition(case.condition, inputs, node_id):
            return case.then_node
    if if_else.HasField("else_node"):
        return if_else.else_node
    if if_else.HasField("error"):
        raise BranchError(
            if_else.error.message or f"node {node_id}: the branch took its error case", "UserProvidedError"
        )
    raise BranchError(f"node {node_id}: no condition of the branch holds and it has no else case", "NoBranchTaken")


# Array nodes ---------------------------------------------------------------------------------------------------------


def array_element_inputs(inputs: literals_pb2.LiteralMap, bound_inputs: Sequence[str]) -> list[literals_pb2.LiteralMap]:
    """The inputs of each element of an array node: mapped (collection) inputs split, bound inputs repeated.

    Raises:
        BindingError: when mapped inputs have different lengths or a mapped input is not a collection.
    """
    bound = set(bound_inputs)
    mapped = {name: literal for name, literal in inputs.literals.items() if name not in bound}
    sizes = set()
    for name, literal in mapped.items():
        if literal.WhichOneof("value") != "collection":
            raise BindingError(f"array input {name!r} is not a list")
        sizes.add(len(literal.collection.literals))
    if len(sizes) > 1:
        raise BindingError(f"array inputs have different lengths: {sorted(sizes)}")
    count = sizes.pop() if sizes else 0
    elements = []
    for index in range(count):
        element = literals_pb2.LiteralMap()
        for name, literal in inputs.literals.items():
            source = literal if name in bound else literal.collection.literals[index]
            element.literals[name].CopyFrom(source)
        elements.append(element)
    return elements


def element_interface(
    array: workflow_pb2.ArrayNode, interface: interface_pb2.TypedInterface
) -> interface_pb2.TypedInterface:
    """The interface one element of an array node runs with.

    flytekit's map tasks mark the mapped task's interface as already list-typed (``is_original_sub_node_interface``
    set to false): mapped inputs and every output are lists there, and one element takes their item types.
    """
    if not array.HasField("is_original_sub_node_interface") or array.is_original_sub_node_interface.value:
        return interface
    element = interface_pb2.TypedInterface()
    element.CopyFrom(interface)
    bound = set(array.bound_inputs)
    for name, variable in element.inputs.variables.items():
        if name not in bound and variable.type.HasField("collection_type"):
            variable.type.CopyFrom(interface.inputs.variables[name].type.collection_type)
    for name, variable in element.outputs.variables.items():
        if variable.type.HasField("collection_type"):
            variable.type.CopyFrom(interface.outputs.variables[name].type.collection_type)
    return element


def collect_array_outputs(
    results: Sequence[literals_pb2.LiteralMap | TaskFailure],
    interface: interface_pb2.TypedInterface,
    min_successes: int,
    min_success_ratio: float,
) -> literals_pb2.LiteralMap:
    """Gather per-element outputs into one list per output; failed elements give ``None`` when tolerated.

    Raises:
        TaskFailure: when fewer elements succeeded than ``min_successes`` / ``min_success_ratio`` require.
    """
    total = len(results)
    succeeded = sum(1 for result in results if not isinstance(result, TaskFailure))
    if min_successes > 0:
        required = min_successes
    else:
        ratio = min_success_ratio if min_success_ratio > 0 else 1.0
        required = math.ceil(total * ratio)
    if succeeded < required:
        first = next(result for result in results if isinstance(result, TaskFailure))
        index = list(results).index(first)
        raise TaskFailure(
            f"{total - succeeded} of {total} array elements failed (at least {required} had to succeed); "
            f"element {index}: {first.message}",
            first.code,
            first.kind,
        )
    outputs = literals_pb2.LiteralMap()
    for name in interface.outputs.variables:
        collection = outputs.literals[name].collection
        for result in results:
            item = collection.literals.add()
            if isinstance(result, TaskFailure) or name not in result.literals:
                item.scalar.none_type.SetInParent()
            else:
                item.CopyFrom(result.literals[name])
    return outputs


__all__ = [
    "BindingError",
    "BranchError",
    "array_element_inputs",
    "choose_branch",
    "collect_array_outputs",
    "duration_seconds",
    "element_interface",
    "evaluate_condition",
    "resolve_binding",
    "resolve_bindings",
]
