"""The engine's pure helpers: bindings, branch conditions, array inputs/outputs, scripts and output shapes."""

from __future__ import annotations

import pytest
from flyte_admin_sandbox import builders as b
from flyte_admin_sandbox.behaviours import (
    Behaviours,
    TaskFailure,
    TaskScript,
    outputs_from_result,
    placeholder_literal,
)
from flyte_admin_sandbox.engine import child_execution_name
from flyte_admin_sandbox.engine_nodes import (
    BindingError,
    BranchError,
    array_element_inputs,
    choose_branch,
    collect_array_outputs,
    evaluate_condition,
    resolve_bindings,
)
from flyte_admin_sandbox.records import ExecutionKey
from flyteidl.core import condition_pb2, literals_pb2, types_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from airflow_provider_flyte.literals import literal_map_to_python

Op = condition_pb2.ComparisonExpression


def _inputs(**values):
    types = {
        name: b.INTEGER if isinstance(value, int) else b.FLOAT if isinstance(value, float) else b.STRING
        for name, value in values.items()
    }
    return b.literal_map(values, types)


def _compare(var, operator, **right) -> condition_pb2.BooleanExpression:
    return condition_pb2.BooleanExpression(
        comparison=condition_pb2.ComparisonExpression(
            operator=operator,
            left_value=condition_pb2.Operand(var=var),
            right_value=condition_pb2.Operand(primitive=literals_pb2.Primitive(**right)),
        )
    )


def _both(operator, left, right) -> condition_pb2.BooleanExpression:
    return condition_pb2.BooleanExpression(
        conjunction=condition_pb2.ConjunctionExpression(operator=operator, left_expression=left, right_expression=right)
    )


@pytest.mark.parametrize(
    ("operator", "right", "expected"),
    [
        (Op.EQ, 3, True),
        (Op.NEQ, 3, False),
        (Op.GT, 2, True),
        (Op.GTE, 4, False),
        (Op.LT, 4, True),
        (Op.LTE, 2, False),
    ],
)
def test_comparisons(operator, right, expected):
    assert evaluate_condition(_compare("x", operator, integer=right), _inputs(x=3), "n1") is expected


def test_conjunctions_strings_and_floats():
    inputs = _inputs(x=3, ratio=0.5, label="go")
    and_ = _both(
        condition_pb2.ConjunctionExpression.AND,
        _compare("ratio", Op.LT, float_value=1.0),
        _compare("label", Op.EQ, string_value="go"),
    )
    or_ = _both(
        condition_pb2.ConjunctionExpression.OR,
        _compare("x", Op.GT, integer=10),
        _compare("label", Op.NEQ, string_value="stop"),
    )
    assert evaluate_condition(and_, inputs, "n1") is True
    assert evaluate_condition(or_, inputs, "n1") is True


def test_condition_errors_name_the_node_and_variable():
    with pytest.raises(BranchError, match="node n1: condition variable 'y' is not among its inputs"):
        evaluate_condition(_compare("y", Op.EQ, integer=1), _inputs(x=1), "n1")
    listed = literals_pb2.LiteralMap(literals={"xs": b.literal([1], b.list_of(b.INTEGER))})
    with pytest.raises(BranchError, match="only scalar values can be compared"):
        evaluate_condition(_compare("xs", Op.EQ, integer=1), listed, "n1")
    with pytest.raises(BranchError, match="cannot compare 'a' with 1"):
        evaluate_condition(_compare("s", Op.GT, integer=1), _inputs(s="a"), "n1")


def test_choose_branch_cases_else_and_error():
    then = core_workflow_pb2.Node(id="then")
    other = core_workflow_pb2.Node(id="other")
    block = core_workflow_pb2.IfElseBlock(
        case=core_workflow_pb2.IfBlock(condition=_compare("x", Op.GT, integer=5), then_node=then),
        other=[core_workflow_pb2.IfBlock(condition=_compare("x", Op.GT, integer=1), then_node=other)],
        else_node=core_workflow_pb2.Node(id="else"),
    )
    assert [choose_branch(block, _inputs(x=x), "n1").id for x in (9, 3, 0)] == ["then", "other", "else"]
    block.ClearField("else_node")
    block.error.message = "x must be positive"
    with pytest.raises(BranchError, match="x must be positive") as caught:
        choose_branch(block, _inputs(x=0), "n1")
    assert caught.value.code == "UserProvidedError"


def test_bindings_resolve_promises_collections_maps_and_empty_start_node():
    upstream = {"": _inputs(x=1), "n0": _inputs(o0=2)}
    bindings = [
        literals_pb2.Binding(var="a", binding=b.promise("", "x")),
        literals_pb2.Binding(
            var="b",
            binding=literals_pb2.BindingData(
                collection=literals_pb2.BindingDataCollection(
                    bindings=[b.promise("n0", "o0"), b.constant(5, b.INTEGER)]
                )
            ),
        ),
        literals_pb2.Binding(
            var="c",
            binding=literals_pb2.BindingData(map=literals_pb2.BindingDataMap(bindings={"k": b.promise("n0", "o0")})),
        ),
    ]
    resolved = resolve_bindings(bindings, upstream.__getitem__)
    assert literal_map_to_python(resolved) == {"a": 1, "b": [2, 5], "c": {"k": 2}}
    with pytest.raises(BindingError, match="output 'nope' of node 'n0' is missing"):
        resolve_bindings([literals_pb2.Binding(var="a", binding=b.promise("n0", "nope"))], upstream.__getitem__)


def test_union_bindings_are_tagged_with_the_target_variant():
    data = b.promise("n0", "o0")
    data.union.targetType.CopyFrom(b.INTEGER)
    resolved = resolve_bindings([literals_pb2.Binding(var="a", binding=data)], {"n0": _inputs(o0=2)}.__getitem__)
    union = resolved.literals["a"].scalar.union
    assert union.type == b.INTEGER
    assert union.value.scalar.primitive.integer == 2


def test_array_inputs_split_mapped_lists_and_repeat_bound_ones():
    inputs = b.literal_map({"xs": [1, 2], "scale": 3}, {"xs": b.list_of(b.INTEGER), "scale": b.INTEGER})
    elements = array_element_inputs(inputs, ["scale"])
    assert [literal_map_to_python(element) for element in elements] == [{"xs": 1, "scale": 3}, {"xs": 2, "scale": 3}]
    uneven = b.literal_map({"a": [1], "b": [1, 2]}, {"a": b.list_of(b.INTEGER), "b": b.list_of(b.INTEGER)})
    with pytest.raises(BindingError, match=r"different lengths: \[1, 2\]"):
        array_element_inputs(uneven, [])
    with pytest.raises(BindingError, match="array input 'scale' is not a list"):
        array_element_inputs(inputs, [])


def test_array_outputs_respect_min_successes():
    interface = b.interface(outputs={"o0": b.INTEGER})
    results = [_inputs(o0=1), TaskFailure("bad", "USER:ValueError")]
    with pytest.raises(TaskFailure, match=r"1 of 2 array elements failed .* element 1: bad"):
        collect_array_outputs(results, interface, 0, 1.0)
    tolerated = collect_array_outputs(results, interface, 1, 0.0)
    items = tolerated.literals["o0"].collection.literals
    assert items[0].scalar.primitive.integer == 1
    assert items[1].scalar.HasField("none_type")


def test_scripts_pick_the_most_specific_and_fail_as_told():
    behaviours = Behaviours()
    behaviours.script("t", TaskScript(duration=1))
    behaviours.script(b.identifier(b.RT.TASK, "t", "v2"), TaskScript(duration=2))
    assert behaviours.lookup(b.identifier(b.RT.TASK, "t", "v1")).duration == 1
    assert behaviours.lookup(b.identifier(b.RT.TASK, "t", "v2")).duration == 2
    assert behaviours.lookup(b.identifier(b.RT.TASK, "other")) is None
    flaky = TaskScript(fail="oops", fail_attempts=2)
    assert [failure.message if (failure := flaky.failure_for(n)) else None for n in range(3)] == ["oops", "oops", None]
    assert TaskScript(fail="always").failure_for(7).message == "always"
    assert TaskScript().failure_for(0) is None


def test_output_shapes():
    two = b.interface(outputs={"o0": b.INTEGER, "o1": b.STRING})
    named = b.interface(outputs={"total": b.INTEGER, "count": b.INTEGER})
    assert literal_map_to_python(outputs_from_result((1, "a"), two)) == {"o0": 1, "o1": "a"}
    assert literal_map_to_python(outputs_from_result({"total": 3, "count": 2}, named)) == {"total": 3, "count": 2}
    with pytest.raises(TaskFailure, match="expected a dict with keys count, total, got"):
        outputs_from_result((3, 2), named)
    with pytest.raises(TaskFailure, match="output 'o0'"):
        outputs_from_result(("x", "a"), two)


def test_placeholders_and_child_names_are_deterministic():
    blob = types_pb2.LiteralType(blob=types_pb2.BlobType(dimensionality=types_pb2.BlobType.SINGLE))
    assert placeholder_literal(blob, "model", "s3://bucket/data").scalar.blob.uri == "s3://bucket/data/model"
    assert placeholder_literal(b.STRING, "label", "").scalar.primitive.string_value == "label"
    parent = ExecutionKey("p", "d", "a123")
    name = child_execution_name(parent, "n2")
    assert name == child_execution_name(parent, "n2")
    assert name != child_execution_name(parent, "n3")
    assert len(name) == 20
    assert name[0] == "f"
