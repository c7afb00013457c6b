"""Property tests of both filter parsers: the client's filter objects and the sandbox's reading of Admin's grammar.

* Every filter the client builds reads back, in the sandbox, as the same function, field and values (and as the same
  filter in the client's own parser); values the grammar would alter are refused with a typed error instead.
* Any text given to the sandbox's parser yields SQL that SQLite runs, or ``AdminError`` (answered as
  ``INVALID_ARGUMENT``), never another exception; any text or object given to the client's parsers yields a filter or
  ``FlyteInvalidInputException``.
"""

from __future__ import annotations

import datetime
import enum
import math
import sqlite3
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from flyte_admin_sandbox import filters as sandbox
from flyte_admin_sandbox.store import SCHEMA
from hypothesis import assume, given
from hypothesis import strategies as st
from property_helpers import attempt

from airflow_provider_flyte.clients import filters as client
from airflow_provider_flyte.exceptions import FlyteInvalidInputException

pytestmark = pytest.mark.property

SCALAR_FILTERS = [
    client.Equal,
    client.NotEqual,
    client.GreaterThan,
    client.GreaterThanOrEqual,
    client.LessThan,
    client.LessThanOrEqual,
    client.Contains,
    client.NotLike,
]
SET_FILTERS = [client.ValueIn, client.ValueNotIn]
# Fields of the Execution model the sandbox accepts, joined entities included (none typed: compared as text).
TEXT_FIELDS = ["phase", "execution_name", "user", "cluster", "error_code", "launch_plan.name", "task.version"]
INT64 = (-(2**63), 2**63 - 1)
FUNCTIONS = ["eq", "ne", "gt", "gte", "lt", "lte", "contains", "not_like", "value_in", "value_not_in"]


class Phase(enum.Enum):
    RUNNING = 2
    SUCCEEDED = 4


# Values the grammar cannot carry as they are, or whose plain string form it would misread.
EDGE_VALUES = [
    1e16,  # str() gives "1e+16", and '+' joins expressions
    -2.5e300,
    float("inf"),
    float("nan"),
    10**5000,  # more digits than int-to-str allows
    " x",
    "x ",
    "\u3000x",
    "a\nb",
    "a\x00b",
    "a\u2028b",
    "\ud800",
    "a)b",
    "a;b",
    "a,b",
    "a+b",
    "",
    datetime.datetime(1, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=5))),
    datetime.datetime(9999, 12, 31, 23, 59, tzinfo=datetime.timezone(-datetime.timedelta(hours=5))),
]
texts = st.text(st.characters(), min_size=0, max_size=12)
values = st.one_of(
    st.sampled_from(EDGE_VALUES),
    st.one_of(
        texts,
        st.integers(),
        st.floats(),
        st.booleans(),
        st.sampled_from(Phase),
        st.datetimes(timezones=st.none() | st.timezones()),
    ),
)
members = st.lists(values, min_size=1, max_size=4)


@st.composite
def built_filters(draw: st.DrawFn) -> client.Filter:
    """A filter built from generated parts, or nothing (``assume``) when the client refuses the value."""
    key = draw(st.sampled_from(TEXT_FIELDS))
    cls = draw(st.sampled_from(SCALAR_FILTERS + SET_FILTERS))
    value = draw(members if cls in SET_FILTERS else values)
    built, error = attempt(lambda: cls(key, value), FlyteInvalidInputException)
    if built is None:
        assert repr(key) in str(error)  # the refusal names the field...
        if isinstance(value, str):
            assert repr(value) in str(error)  # ...and the value
        assume(False)
    assert built is not None
    return built


def _memory_db() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(SCHEMA)
    return db


DB = _memory_db()


def _run(text: str, model: sandbox.Model) -> None:
    """Build the sandbox's query for ``text`` and run it (raises AdminError for a refused filter)."""
    query = sandbox.Query(model).apply_filters(text)
    DB.execute(f"SELECT COUNT(*) FROM {model.table}{query.where_sql()}", query.params).fetchall()


@given(built_filters())
def test_client_filters_read_back_the_same_in_the_sandbox_and_the_client(flt: client.Filter) -> None:
    text = str(flt)
    (expression,) = sandbox.parse_expressions(text)
    assert (expression.function, expression.field) == (flt.function, flt.key)
    assert list(expression.values) == flt.value.split(";")
    assert client.Filter.parse(text) == flt
    _run(text, sandbox.EXECUTION)  # a field the Execution model has: the sandbox accepts it


@given(st.lists(built_filters(), min_size=1, max_size=4))
def test_filter_lists_read_back_expression_by_expression(items: list[client.Filter]) -> None:
    combined = client.FilterList(items)
    expressions = sandbox.parse_expressions(str(combined))
    assert [(e.function, e.field, ";".join(e.values)) for e in expressions] == [
        (f.function, f.key, f.value) for f in items
    ]
    assert client.FilterList.parse(str(combined)) == combined
    assert client.format_filters(items) == str(combined)
    _run(str(combined), sandbox.EXECUTION)


@given(seconds=st.one_of(st.integers(), st.floats()), function=st.sampled_from(SCALAR_FILTERS[:6]))
def test_durations_read_back_as_the_same_number_of_nanoseconds(seconds: float, function: type[client.Filter]) -> None:
    flt, error = attempt(lambda: function("duration", seconds), FlyteInvalidInputException)
    if flt is None:
        assert "'duration'" in str(error)
        return
    nanos = float(flt.value) * 10**9
    if math.isfinite(nanos) and INT64[0] <= int(nanos) <= INT64[1]:
        ((_sql, params),) = sandbox.parse_filters(str(flt), sandbox.EXECUTION)
        assert params == [int(nanos)]
    else:  # beyond Go's time.Duration (about 292 years)
        with pytest.raises(sandbox.AdminError, match=r"^Failed to parse duration \["):
            sandbox.parse_filters(str(flt), sandbox.EXECUTION)


@given(moment=st.datetimes(timezones=st.none() | st.timezones()), function=st.sampled_from(SCALAR_FILTERS[:6]))
def test_timestamps_read_back_as_the_same_utc_moment(moment: datetime.datetime, function: type[client.Filter]) -> None:
    flt, error = attempt(lambda: function("created_at", moment), FlyteInvalidInputException)
    if flt is None:
        assert "outside the range of UTC datetimes" in str(error)
        return
    ((_sql, params),) = sandbox.parse_filters(str(flt), sandbox.EXECUTION)
    utc = moment.replace(tzinfo=datetime.timezone.utc) if moment.tzinfo is None else moment
    assert params == [sandbox.format_timestamp(utc)]


MODELS = [model for model in vars(sandbox).values() if isinstance(model, sandbox.Model)]
# Text shaped like filters: known and unknown functions, fields of every model, values of every kind, separators.
TYPED_FIELDS = ["duration", "created_at", "started_at", "execution_created_at", "updated_at"]
RAW_EDGE_VALUES = [
    "inf",
    "-inf",
    "nan",
    "1e400",
    "-1e400",
    "9" * 30,
    "9" * 5000,
    "99999999999999999999h",
    "1h",
    "-1.5m",
    "1e16",
    "",
    " ",
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00-01:00",
    "9999-12-31T23:59:59-05:00",
    "2024-01-01T00:00:00Z",
]
_field = st.one_of(
    st.sampled_from(TYPED_FIELDS),
    st.sampled_from(sorted({f"{model.prefix}.{column}" for model in MODELS for column in model.columns})),
    st.sampled_from(["phase", "name", "state", "retry_attempt"]),
    texts,
)
_value = st.one_of(
    st.sampled_from(RAW_EDGE_VALUES),
    st.integers().map(str),
    st.floats().map(repr),
    texts,
)
_expression = st.builds(
    "{}({},{}{})".format,
    st.sampled_from([*FUNCTIONS, "like", ""]) | texts,
    _field,
    st.sampled_from(["", " ", "\t"]),
    st.lists(_value, min_size=1, max_size=3).map(";".join),
)
filter_like_text = st.one_of(
    st.lists(_expression | texts, min_size=1, max_size=3).map("+".join),
    st.text(st.characters(), max_size=40),
)


@given(
    text=filter_like_text, model=st.sampled_from([sandbox.EXECUTION, sandbox.TASK_EXECUTION]) | st.sampled_from(MODELS)
)
def test_any_text_becomes_runnable_sql_or_an_invalid_argument_in_the_sandbox(text: str, model: sandbox.Model) -> None:
    if not _is_utf8(text):
        return  # a lone surrogate: no gRPC request can carry it (protobuf strings are UTF-8)
    _, error = attempt(lambda: _run(text, model), sandbox.AdminError)
    assert error is None or error.code is grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("value", RAW_EDGE_VALUES, ids=[value[:30] for value in RAW_EDGE_VALUES])
def test_every_edge_value_of_a_typed_field_runs_or_is_an_invalid_argument(value: str) -> None:
    # Exhaustive over the edges (the random test above meets each one only now and then).
    for model in (sandbox.EXECUTION, sandbox.NODE_EXECUTION, sandbox.TASK_EXECUTION):
        for field in TYPED_FIELDS:
            for function in FUNCTIONS:
                text = f"{function}({field},{value})"
                _, error = attempt(lambda: _run(text, model), sandbox.AdminError)  # noqa: B023
                assert error is None or error.code is grpc.StatusCode.INVALID_ARGUMENT


@given(text=st.text(st.sampled_from("(,)\n \t\u3000;+ax"), max_size=14) | filter_like_text)
def test_the_linear_expression_splitter_agrees_with_admins_pattern(text: str) -> None:
    match = sandbox._EXPRESSION.fullmatch(text)
    assert sandbox.split_expression(text) == (match.groups() if match else None)


def _is_utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


@given(text=filter_like_text)
def test_any_text_parses_as_client_filters_or_is_refused_with_a_typed_error(text: str) -> None:
    parsed, _ = attempt(lambda: client.FilterList.parse(text), FlyteInvalidInputException)
    if parsed is not None:
        assert client.FilterList.parse(str(parsed)) == parsed


def _objects() -> Iterator[st.SearchStrategy[Any]]:
    yield st.none()
    yield st.integers()
    yield st.floats()
    yield st.binary(max_size=8)
    yield texts
    yield built_filters()
    yield st.dictionaries(texts, texts, max_size=2)


@given(filters=st.one_of(*_objects(), st.lists(st.one_of(*_objects()), max_size=3)))
def test_any_object_given_as_filters_formats_or_is_refused_naming_filters(filters: Any) -> None:
    text, error = attempt(lambda: client.format_filters(filters), FlyteInvalidInputException)
    assert isinstance(text, str) or str(error).startswith("filters ")
