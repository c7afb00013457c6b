"""Filters and sort orders in Admin's grammar (no server needed)."""

from __future__ import annotations

import datetime
import enum

import pytest
from flyteidl.admin import common_pb2

from airflow_provider_flyte.clients.filters import (
    Contains,
    Equal,
    Filter,
    FilterList,
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
    NotEqual,
    NotLike,
    Sort,
    SortDirection,
    ValueIn,
    ValueNotIn,
    format_filters,
)
from airflow_provider_flyte.exceptions import FlyteInvalidInputException


class Phase(enum.IntEnum):
    RUNNING = 4
    SUCCEEDED = 5


@pytest.mark.parametrize(
    ("flt", "text"),
    [
        (Equal("phase", "RUNNING"), "eq(phase,RUNNING)"),
        (NotEqual("execution.phase", Phase.SUCCEEDED), "ne(execution.phase,SUCCEEDED)"),
        (GreaterThan("duration", 60), "gt(duration,60)"),
        (GreaterThanOrEqual("duration", 1.5), "gte(duration,1.5)"),
        (LessThan("created_at", datetime.datetime(2024, 1, 2, 3, 4, 5)), "lt(created_at,2024-01-02T03:04:05Z)"),
        (
            LessThanOrEqual(
                "created_at",
                datetime.datetime(2024, 1, 2, 5, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
            ),
            "lte(created_at,2024-01-02T03:04:05Z)",
        ),
        (Contains("name", "nightly"), "contains(name,nightly)"),
        (NotLike("name", ".flytegen%"), "not_like(name,.flytegen%)"),
        (ValueIn("execution.name", ["a", "b", "c"]), "value_in(execution.name,a;b;c)"),
        (ValueNotIn("phase", [Phase.RUNNING]), "value_not_in(phase,RUNNING)"),
        (ValueIn("name", "single"), "value_in(name,single)"),
        (Equal("is_parent_node", True), "eq(is_parent_node,true)"),
    ],
)
def test_filter_text(flt: Filter, text: str) -> None:
    assert str(flt) == text
    assert flt.to_flyte_idl() == text
    assert Filter.parse(text) == flt


def test_filters_combine_with_plus() -> None:
    combined = Equal("phase", "RUNNING") + ValueIn("execution.name", ["a", "b"]) + GreaterThan("duration", 5)
    assert isinstance(combined, FilterList)
    assert str(combined) == "eq(phase,RUNNING)+value_in(execution.name,a;b)+gt(duration,5)"
    assert FilterList.parse(str(combined)) == combined
    assert len(combined) == 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("", ""),
        ("eq(phase,RUNNING)", "eq(phase,RUNNING)"),
        (Equal("phase", "RUNNING"), "eq(phase,RUNNING)"),
        ([Equal("a", 1), "eq(b,2)", ""], "eq(a,1)+eq(b,2)"),
        ((f for f in [ValueIn("name", ["x", "y"])]), "value_in(name,x;y)"),
    ],
)
def test_format_filters_accepts_every_form(value: object, expected: str) -> None:
    assert format_filters(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Equal("name", "a,b"), r"contains ,"),
        (lambda: Equal("name", "a+b"), r"contains \+"),
        (lambda: Equal("name", "a;b"), r"contains ;"),
        (lambda: ValueIn("name", ["a", "b)"]), r"contains \)"),
        (lambda: ValueIn("name", []), "at least one value"),
        (lambda: Equal("name", ""), "is empty"),
        (lambda: Equal("name", None), "must be a str"),  # type: ignore[arg-type]
        (lambda: Equal("bad key", "x"), "filter key 'bad key'"),
        (lambda: Equal("", "x"), "filter key ''"),
        (lambda: Filter("name", "x"), "abstract"),
        (lambda: Filter.parse("phase=RUNNING"), "not of the form"),
        (lambda: Filter.parse("like(name,x)"), "unknown function 'like'"),
        (lambda: FilterList(["eq(a,1)"]), "Filter objects"),  # type: ignore[list-item]
        (lambda: format_filters([1]), "filters items"),  # type: ignore[list-item]
        (lambda: format_filters(1), "filters must be"),  # type: ignore[arg-type]
    ],
)
def test_malformed_filters_name_the_problem(build: object, message: str) -> None:
    with pytest.raises(FlyteInvalidInputException, match=message):
        build()  # type: ignore[operator]


_EDGE = "starts or ends with whitespace, which Admin's filter grammar drops"
_UNCARRIED = "a line break, control character or surrogate, which Admin's filter grammar cannot carry"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Equal("name", " x"), f"filter value ' x' for 'name' {_EDGE}"),
        (lambda: Equal("name", "x\t"), f"filter value 'x\\t' for 'name' {_EDGE}"),
        (lambda: ValueIn("name", ["a", "\u3000b"]), f"filter value '\\u3000b' for 'name' {_EDGE}"),
        (lambda: Equal("name", "a\nb"), f"filter value 'a\\nb' for 'name' contains '\\n' (U+000A), {_UNCARRIED}"),
        (
            lambda: Contains("name", "a\x00b"),
            f"filter value 'a\\x00b' for 'name' contains '\\x00' (U+0000), {_UNCARRIED}",
        ),
        (
            lambda: Equal("name", "a\u2028b"),
            f"filter value 'a\\u2028b' for 'name' contains '\\u2028' (U+2028), {_UNCARRIED}",
        ),
        (
            lambda: Equal("name", "a\ud800"),
            f"filter value 'a\\ud800' for 'name' contains '\\ud800' (U+D800), {_UNCARRIED}",
        ),
        (
            lambda: ValueIn("name", ["a", "b)c"]),
            "filter value 'b)c' for 'name' contains ), which Admin's filter grammar reserves",
        ),
        (
            lambda: Equal("duration", float("inf")),
            "filter value inf for 'duration' is not a finite number; Admin compares no field with it",
        ),
        (
            lambda: Equal("duration", float("nan")),
            "filter value nan for 'duration' is not a finite number; Admin compares no field with it",
        ),
        (
            lambda: Equal(
                "created_at", datetime.datetime(1, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
            ),
            "filter value '0001-01-01T00:00:00+01:00' for 'created_at' is outside the range of UTC datetimes",
        ),
    ],
)
def test_values_the_grammar_would_alter_are_refused_naming_field_and_value(build: object, message: str) -> None:
    with pytest.raises(FlyteInvalidInputException) as refused:
        build()  # type: ignore[operator]
    assert str(refused.value) == message


def test_large_floats_are_written_without_a_plus_sign() -> None:
    # "1e+16" would split the expression at its "+" (Admin's AND); "1e16" is the same number.
    assert str(GreaterThan("duration", 1e16)) == "gt(duration,1e16)"
    assert Filter.parse("gt(duration,1e16)") == GreaterThan("duration", 1e16)
    assert str(LessThan("duration", 2.5e-7)) == "lt(duration,2.5e-07)"


def test_sort_forms() -> None:
    assert Sort("created_at").direction is SortDirection.DESCENDING  # Admin's default direction
    assert Sort.parse("asc(created_at)") == Sort.ascending("created_at") == Sort("created_at", Sort.Direction.ASCENDING)
    assert str(Sort.descending("updated_at")) == "desc(updated_at)"
    pb = Sort.ascending("name").to_flyte_idl()
    assert pb == common_pb2.Sort(key="name", direction=common_pb2.Sort.ASCENDING)
    assert Sort.from_flyte_idl(pb) == Sort.ascending("name")
    assert Sort("k", 1).direction is SortDirection.ASCENDING  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["created_at", "up(created_at)", "asc()", "asc(a b)"])
def test_malformed_sort_is_refused(text: str) -> None:
    with pytest.raises(FlyteInvalidInputException):
        Sort.parse(text)


def test_bad_sort_direction_is_refused() -> None:
    with pytest.raises(FlyteInvalidInputException, match="sort direction 7"):
        Sort("created_at", 7)  # type: ignore[arg-type]


def test_filters_import_no_protobuf() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import airflow_provider_flyte.clients.filters as f; "
        "f.Equal('phase', 'RUNNING'); f.Sort('created_at'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('grpc', 'google', 'flyteidl')))"
    )
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert output.strip() == "[]"
