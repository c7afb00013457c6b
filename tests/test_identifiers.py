import re

import pytest
from flyteidl.core import identifier_pb2

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.identifiers import (
    Identifier,
    NodeExecutionIdentifier,
    ResourceType,
    SignalIdentifier,
    TaskExecutionIdentifier,
    WorkflowExecutionIdentifier,
)


@pytest.mark.parametrize(
    "text",
    [
        "tsk:flytesnacks:development:core.basic.t1:v1",
        "wf:flytesnacks:production:my_wf:abc-123_x.y",
        "lp:p:d:n:v",
    ],
)
def test_entity_identifier_round_trip(text: str) -> None:
    identifier = Identifier.parse(text)
    assert str(identifier) == text
    assert Identifier.from_flyte_idl(identifier.to_flyte_idl()) == identifier


def test_entity_identifier_fields_and_proto() -> None:
    identifier = Identifier.from_python_std("lp:flytesnacks:development:daily:v3")
    assert identifier == Identifier(ResourceType.LAUNCH_PLAN, "flytesnacks", "development", "daily", "v3")
    pb = identifier.to_flyte_idl()
    assert pb.resource_type == identifier_pb2.LAUNCH_PLAN
    assert (pb.project, pb.domain, pb.name, pb.version) == ("flytesnacks", "development", "daily", "v3")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tsk:p:d:n", "has 4 colon-separated parts, expected 5"),
        ("tsk:p:d:n:v:extra", "has 6 colon-separated parts, expected 5"),
        ("task:p:d:n:v", "the type must be one of 'tsk', 'wf', 'lp'"),
        ("wf:p::n:v", "has an empty domain"),
        ("wf:p:d:n:", "has an empty version"),
    ],
)
def test_malformed_entity_identifier_names_the_problem(text: str, expected: str) -> None:
    with pytest.raises(FlyteInvalidInputException, match=expected) as info:
        Identifier.parse(text)
    assert repr(text) in str(info.value)


def test_non_string_identifier_is_rejected_with_its_type() -> None:
    with pytest.raises(FlyteInvalidInputException, match="got int 5"):
        Identifier.parse(5)  # type: ignore[arg-type]


def test_execution_identifier_round_trip_and_errors() -> None:
    execution = WorkflowExecutionIdentifier.parse("ex:flytesnacks:development:a1b2c3")
    assert str(execution) == "ex:flytesnacks:development:a1b2c3"
    assert WorkflowExecutionIdentifier.from_flyte_idl(execution.to_flyte_idl()) == execution
    with pytest.raises(FlyteInvalidInputException, match="must start with 'ex', not 'wf'"):
        WorkflowExecutionIdentifier.parse("wf:p:d:n")
    with pytest.raises(FlyteInvalidInputException, match="expected 4"):
        WorkflowExecutionIdentifier.parse("ex:p:d")


def test_task_execution_identifier_round_trip() -> None:
    text = "te:flytesnacks:development:exec1:n0:flytesnacks:development:core.t1:v1:2"
    task_execution = TaskExecutionIdentifier.parse(text)
    assert str(task_execution) == text
    assert task_execution.retry_attempt == 2
    assert task_execution.node_execution_id == NodeExecutionIdentifier(
        "n0", WorkflowExecutionIdentifier("flytesnacks", "development", "exec1")
    )
    assert task_execution.task_id.resource_type is ResourceType.TASK
    assert TaskExecutionIdentifier.from_flyte_idl(task_execution.to_flyte_idl()) == task_execution


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ex:p:d:e:n0:p:d:t:v:0", "must start with 'te', not 'ex'"),
        ("te:p:d:e:n0:p:d:t:v:x", "retry 'x', which is not an integer"),
        ("te:p:d:e:n0:p:d:t:v:-1", "must be a non-negative integer"),
        ("te:p:d:e:n0:p:d:t:v", "expected 10"),
    ],
)
def test_malformed_task_execution_identifier(text: str, expected: str) -> None:
    with pytest.raises(FlyteInvalidInputException, match=expected):
        TaskExecutionIdentifier.parse(text)


@pytest.mark.parametrize(
    ("retry", "expected"),
    [
        ("4294967296", "has retry 4294967296; it must be at most 4294967295 (a uint32)"),
        ("99999999999999999999", "has retry 99999999999999999999; it must be at most 4294967295 (a uint32)"),
        ("01", "has retry '01'; write it without leading zeros"),
        ("-0", "has retry '-0'; it must be a non-negative integer"),
        ("+1", "has retry '+1', which is not an integer"),
        ("\u0661", "has retry '\u0661', which is not an integer"),
        (" 1", "has retry ' 1', which is not an integer"),
    ],
)
def test_retry_attempt_must_be_a_uint32_written_plainly(retry: str, expected: str) -> None:
    text = f"te:p:d:e:n0:p:d:t:v:{retry}"
    with pytest.raises(FlyteInvalidInputException) as refused:
        TaskExecutionIdentifier.parse(text)
    assert str(refused.value) == f"task execution id {text!r} {expected}"


def test_largest_retry_attempt_parses_and_converts() -> None:
    parsed = TaskExecutionIdentifier.parse("te:p:d:e:n0:p:d:t:v:4294967295")
    assert parsed.to_flyte_idl().retry_attempt == 2**32 - 1
    assert TaskExecutionIdentifier.from_flyte_idl(parsed.to_flyte_idl()) == parsed


@pytest.mark.parametrize(
    ("retry", "shown"), [(-1, "-1"), (2**32, "4294967296"), (True, "True (bool)"), ("1", "'1' (str)")]
)
def test_task_execution_identifier_checks_its_retry_attempt(retry: object, shown: str) -> None:
    task = Identifier(ResourceType.TASK, "p", "d", "t", "v")
    node = NodeExecutionIdentifier("n0", WorkflowExecutionIdentifier("p", "d", "e"))
    with pytest.raises(FlyteInvalidInputException, match=f"task execution id has retry attempt {re.escape(shown)}"):
        TaskExecutionIdentifier(task, node, retry)  # type: ignore[arg-type]


def test_unknown_resource_types_and_lone_surrogates_are_typed_errors() -> None:
    with pytest.raises(FlyteInvalidInputException, match="identifier p:d:n:v has resource type 9, which is none of"):
        Identifier.from_flyte_idl(
            identifier_pb2.Identifier(resource_type=9, project="p", domain="d", name="n", version="v")
        )  # type: ignore[arg-type]
    with pytest.raises(FlyteInvalidInputException, match="identifier has resource type 7"):
        Identifier(7, "p", "d", "n", "v")  # type: ignore[arg-type]
    assert Identifier(1, "p", "d", "n", "v").resource_type is ResourceType.TASK  # type: ignore[arg-type]
    with pytest.raises(FlyteInvalidInputException, match="has a name '\\\\udc00' with a lone surrogate"):
        Identifier.parse("wf:p:d:\udc00:v")


def test_identifiers_are_hashable_values() -> None:
    a = Identifier.parse("tsk:p:d:n:v")
    b = Identifier.parse("tsk:p:d:n:v")
    assert a == b
    assert len({a, b}) == 1
    signal = SignalIdentifier("approve", WorkflowExecutionIdentifier("p", "d", "e"))
    assert SignalIdentifier.from_flyte_idl(signal.to_flyte_idl()) == signal
