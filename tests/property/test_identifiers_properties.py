"""Property tests of the identifier forms: string form and flyteidl messages round-trip; any text parses or is refused.

Every form of :mod:`airflow_provider_flyte.identifiers`: ``tsk:``/``wf:``/``lp:`` entity ids, ``ex:`` execution ids,
``te:`` task execution ids (string form and messages), and node execution, named entity and signal ids (messages).
"""

from __future__ import annotations

from typing import Any

import pytest
from flyteidl.core import identifier_pb2
from hypothesis import given
from hypothesis import strategies as st
from property_helpers import attempt

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.identifiers import (
    UINT32_MAX,
    Identifier,
    NamedEntityIdentifier,
    NodeExecutionIdentifier,
    ResourceType,
    SignalIdentifier,
    TaskExecutionIdentifier,
    WorkflowExecutionIdentifier,
)

pytestmark = pytest.mark.property

# A part of a string form: any UTF-8 text (protobuf strings are UTF-8) without the ':' separator, not empty.
parts = st.text(st.characters(codec="utf-8", exclude_characters=":"), min_size=1, max_size=12)
# A message field: any UTF-8 text, empty included.
fields = st.text(st.characters(codec="utf-8"), max_size=12)
retries = st.integers(min_value=0, max_value=UINT32_MAX)

entity_ids = st.builds(
    Identifier,
    st.sampled_from([ResourceType.TASK, ResourceType.WORKFLOW, ResourceType.LAUNCH_PLAN]),
    parts,
    parts,
    parts,
    parts,
)
execution_ids = st.builds(WorkflowExecutionIdentifier, parts, parts, parts)
task_execution_ids = st.builds(
    TaskExecutionIdentifier,
    st.builds(Identifier, st.just(ResourceType.TASK), parts, parts, parts, parts),
    st.builds(NodeExecutionIdentifier, parts, execution_ids),
    retries,
)
PARSERS: dict[type[Any], Any] = {
    Identifier: Identifier.parse,
    WorkflowExecutionIdentifier: WorkflowExecutionIdentifier.parse,
    TaskExecutionIdentifier: TaskExecutionIdentifier.parse,
}


@given(st.one_of(entity_ids, execution_ids, task_execution_ids))
def test_string_form_parses_back_to_the_same_identifier(identifier: Any) -> None:
    text = str(identifier)
    parsed = PARSERS[type(identifier)](text)
    assert parsed == identifier
    assert str(parsed) == text


@given(
    st.one_of(
        entity_ids,
        st.builds(Identifier, st.sampled_from(list(ResourceType)), fields, fields, fields, fields),
        st.builds(WorkflowExecutionIdentifier, fields, fields, fields),
        st.builds(NamedEntityIdentifier, fields, fields, fields),
        st.builds(NodeExecutionIdentifier, fields, st.builds(WorkflowExecutionIdentifier, fields, fields, fields)),
        st.builds(SignalIdentifier, fields, st.builds(WorkflowExecutionIdentifier, fields, fields, fields)),
        task_execution_ids,
    )
)
def test_flyteidl_message_converts_back_to_the_same_identifier(identifier: Any) -> None:
    message = identifier.to_flyte_idl()
    assert type(identifier).from_flyte_idl(message) == identifier
    assert type(message).FromString(message.SerializeToString()) == message


# Text that looks like identifiers often: known prefixes, numbers around the uint32 limit, signs, leading zeros,
# non-ASCII digits, lone surrogates and empty parts, joined by ':'; plus wholly arbitrary text.
_piece = st.one_of(
    st.sampled_from(["tsk", "wf", "lp", "ex", "te", "0", "01", "-1", "+1", "4294967295", "4294967296", "\u0661", ""]),
    st.integers(min_value=-(2**40), max_value=2**40).map(str),
    st.text(max_size=4),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
)
identifier_like_text = st.one_of(
    st.lists(_piece, min_size=1, max_size=11).map(":".join),
    st.text(st.characters(), max_size=40),
)


@pytest.mark.parametrize("parse", PARSERS.values(), ids=[cls.__name__ for cls in PARSERS])
@given(text=identifier_like_text)
def test_any_text_parses_or_is_refused_with_a_typed_error(parse: Any, text: str) -> None:
    parsed, error = attempt(lambda: parse(text), FlyteInvalidInputException)
    if parsed is None:
        assert repr(text) in str(error)
        return
    assert str(parsed) == text  # what parses is exactly the canonical string form...
    assert type(parsed).from_flyte_idl(parsed.to_flyte_idl()) == parsed  # ...and becomes a valid message


@pytest.mark.parametrize("parse", PARSERS.values(), ids=[cls.__name__ for cls in PARSERS])
@given(value=st.one_of(st.none(), st.integers(), st.binary(max_size=8), st.lists(st.text(max_size=3), max_size=3)))
def test_non_text_is_refused_with_a_typed_error(parse: Any, value: Any) -> None:
    with pytest.raises(FlyteInvalidInputException, match=f"got {type(value).__name__}"):
        parse(value)


@given(
    resource_type=st.integers(min_value=-(2**31), max_value=2**31 - 1),
    retry=st.integers(min_value=0, max_value=UINT32_MAX),
)
def test_any_message_converts_or_is_refused_with_a_typed_error(resource_type: int, retry: int) -> None:
    task_id = identifier_pb2.Identifier(resource_type=resource_type, project="p", domain="d", name="n", version="v")  # type: ignore[arg-type]
    node = NodeExecutionIdentifier("n0", WorkflowExecutionIdentifier("p", "d", "e")).to_flyte_idl()
    message = identifier_pb2.TaskExecutionIdentifier(task_id=task_id, node_execution_id=node, retry_attempt=retry)
    converted, error = attempt(lambda: TaskExecutionIdentifier.from_flyte_idl(message), FlyteInvalidInputException)
    if converted is None:
        assert f"resource type {resource_type}" in str(error)
        assert resource_type not in {member.value for member in ResourceType}
        return
    assert converted.to_flyte_idl() == message


@given(retry=st.one_of(st.integers(max_value=-1), st.integers(min_value=UINT32_MAX + 1)))
def test_out_of_range_retry_attempts_are_refused_when_parsed_or_built(retry: int) -> None:
    text = f"te:p:d:e:n0:p:d:t:v:{retry}"
    with pytest.raises(FlyteInvalidInputException, match="retry"):
        TaskExecutionIdentifier.parse(text)
    task = Identifier(ResourceType.TASK, "p", "d", "t", "v")
    node = NodeExecutionIdentifier("n0", WorkflowExecutionIdentifier("p", "d", "e"))
    with pytest.raises(FlyteInvalidInputException, match=f"retry attempt {retry}"):
        TaskExecutionIdentifier(task, node, retry)
