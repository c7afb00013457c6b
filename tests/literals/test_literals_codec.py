"""Unit tests of to_literal / to_python: every supported type both ways, and every error path."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import pathlib
from typing import Any

import pytest
from flyteidl.core import literals_pb2, types_pb2
from literals_types import (
    BOOL,
    DATETIME,
    DURATION,
    FLOAT,
    INT,
    NONE,
    STR,
    STRUCT,
    dataclass_type,
    dataset_type,
    dict_of,
    directory_type,
    enum_of,
    file_type,
    list_of,
    literal_of,
    optional,
    union_of,
)

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.literals import (
    FlyteDirectory,
    FlyteErrorValue,
    FlyteFile,
    StructuredDataset,
    literal_type_to_str,
    to_literal,
    to_python,
)

UTC = datetime.timezone.utc


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Shade(str, enum.Enum):
    DARK = "dark"


@dataclasses.dataclass
class Point:
    x: int
    y: float
    label: str | None = None


POINT = dataclass_type("Point", x=INT, y=FLOAT, label=optional(STR))


def roundtrip(value: Any, literal_type: types_pb2.LiteralType, **kwargs: Any) -> Any:
    return to_python(to_literal(value, literal_type, **kwargs), literal_type)


def error_of(value: Any, literal_type: types_pb2.LiteralType, **kwargs: Any) -> str:
    with pytest.raises(FlyteInvalidInputException) as caught:
        to_literal(value, literal_type, **kwargs)
    return str(caught.value)


# --- round trips ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "literal_type"),
    [
        (0, INT),
        (-(2**63), INT),
        (2**63 - 1, INT),
        (3.25, FLOAT),
        ("", STR),
        ("snow \u2603", STR),
        (True, BOOL),
        (False, BOOL),
        (datetime.datetime(2024, 3, 1, 12, 30, 15, 999999, tzinfo=UTC), DATETIME),
        (datetime.datetime(1960, 1, 1, tzinfo=UTC), DATETIME),
        (datetime.timedelta(days=-3, microseconds=1), DURATION),
        (None, NONE),
        ([[1, 2], []], list_of(list_of(INT))),
        ({"a": [1.5], "b": []}, dict_of(list_of(FLOAT))),
        ([None, 2], list_of(optional(INT))),
        ({"k": "v"}, optional(dict_of(STR))),
        ("red", enum_of("red", "green")),
        ({"nested": {"a": [1, None, "x", 2.5, True]}, "n": None}, STRUCT),
        ("b", literal_of(STR, "a", "b")),
    ],
    ids=repr,
)
def test_round_trip(value: Any, literal_type: types_pb2.LiteralType) -> None:
    assert roundtrip(value, literal_type) == value


def test_int_for_float_is_written_as_that_float() -> None:
    assert to_literal(3, FLOAT) == to_literal(3.0, FLOAT)
    assert to_literal(2**53, FLOAT).scalar.primitive.float_value == float(2**53)
    assert roundtrip(7, FLOAT) == 7.0
    assert type(roundtrip(7, FLOAT)) is float


def test_naive_datetime_is_utc_and_reads_back_aware() -> None:
    naive = datetime.datetime(2024, 6, 1, 8, 0)
    assert to_literal(naive, DATETIME) == to_literal(naive.replace(tzinfo=UTC), DATETIME)
    assert roundtrip(naive, DATETIME) == naive.replace(tzinfo=UTC)
    plus5 = datetime.datetime(2024, 6, 1, 13, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=5)))
    assert roundtrip(plus5, DATETIME) == naive.replace(tzinfo=UTC)
    assert roundtrip(plus5, DATETIME).tzinfo == UTC


def test_date_is_midnight_utc_and_can_be_rebuilt() -> None:
    literal = to_literal(datetime.date(2024, 2, 29), DATETIME)
    assert to_python(literal) == datetime.datetime(2024, 2, 29, tzinfo=UTC)
    assert to_python(literal, DATETIME, python_type=datetime.date) == datetime.date(2024, 2, 29)


def test_enum_member_raw_string_and_str_enum() -> None:
    colors = enum_of("red", "green")
    assert to_literal(Color.GREEN, colors) == to_literal("green", colors)
    assert to_python(to_literal(Color.RED, colors), colors, python_type=Color) is Color.RED
    assert to_literal(Shade.DARK, enum_of("dark")).scalar.primitive.string_value == "dark"
    assert to_literal(Shade.DARK, STR).scalar.primitive.string_value == "dark"


def test_union_writes_variant_with_flytekit_tag() -> None:
    declared = union_of(INT, STR, NONE)
    literal = to_literal("x", declared)
    assert literal.scalar.union.type.structure.tag == "str"
    assert literal.scalar.union.value.scalar.primitive.string_value == "x"
    assert to_literal(None, declared).scalar.union.type.structure.tag == "none"
    assert to_literal(4, declared).scalar.union.type.structure.tag == "int"
    assert roundtrip(4, declared) == 4
    assert roundtrip(None, declared) is None


def test_union_prefers_flytekit_rules_before_conveniences() -> None:
    # 2 fits `int` strictly; it would fit `float` only through the int->float convenience.
    assert to_literal(2, union_of(INT, FLOAT)).scalar.union.type.structure.tag == "int"
    # Nothing fits strictly: the convenience applies, so an int reaches an Optional[float].
    literal = to_literal(2, optional(FLOAT))
    assert literal.scalar.union.value.scalar.primitive.float_value == 2.0
    # A bare string fitting both `str` and an enum goes to `str`, as in flytekit.
    assert to_literal("red", union_of(STR, enum_of("red"))).scalar.union.type.structure.tag == "str"
    assert to_literal(Color.RED, union_of(STR, enum_of("red"))).scalar.union.type.structure.tag == (
        "DefaultEnumTransformer"
    )


def test_dataclass_and_dict_against_declared_dataclass() -> None:
    point = Point(1, 2.5)
    literal = to_literal(point, POINT)
    assert literal.scalar.binary.tag == "msgpack"
    assert to_python(literal, POINT) == {"x": 1, "y": 2.5, "label": None}
    assert to_python(literal, POINT, python_type=Point) == point
    as_dict = to_literal({"x": 1, "y": 2.5, "label": None}, POINT)
    assert as_dict == literal
    # a dict with a dataclass hint is written as that dataclass (field order of the class, not of the dict)
    hinted = to_literal({"label": None, "y": 2.5, "x": 1}, POINT, python_type=Point)
    assert hinted == literal


def test_reads_the_older_struct_form_with_ints_restored() -> None:
    literal = literals_pb2.Literal()
    literal.scalar.generic.update({"x": 3, "y": 1.0, "label": "p"})
    assert to_python(literal, POINT) == {"x": 3, "y": 1.0, "label": "p"}
    assert type(to_python(literal, POINT)["x"]) is int
    assert to_python(literal, POINT, python_type=Point) == Point(3, 1.0, "p")
    assert to_python(literal) == {"x": 3.0, "y": 1.0, "label": "p"}


def test_remote_blobs_are_kept_and_read_back() -> None:
    csv = file_type("csv")
    literal = to_literal("s3://bucket/key.csv", csv)
    assert literal.scalar.blob.uri == "s3://bucket/key.csv"
    assert literal.scalar.blob.metadata.type.format == "csv"
    assert to_python(literal, csv) == FlyteFile("s3://bucket/key.csv", "csv")
    directory = to_literal(FlyteDirectory("gs://b/dir/"), directory_type())
    assert directory.scalar.blob.metadata.type.dimensionality == types_pb2.BlobType.MULTIPART
    assert to_python(directory) == FlyteDirectory("gs://b/dir/")


def test_local_blobs_go_through_the_uploader(tmp_path: pathlib.Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("a,b\n")
    calls: list[tuple[pathlib.Path, bool]] = []

    def uploader(path: pathlib.Path, is_directory: bool) -> str:
        calls.append((path, is_directory))
        return f"s3://uploads/{path.name}"

    assert to_literal(data, file_type("csv"), uploader=uploader).scalar.blob.uri == "s3://uploads/data.csv"
    assert to_literal(f"file://{data}", file_type(), uploader=uploader).scalar.blob.uri == "s3://uploads/data.csv"
    assert to_literal(str(tmp_path), directory_type(), uploader=uploader).scalar.blob.uri.startswith("s3://uploads/")
    dataset = to_literal(StructuredDataset(str(data), "csv"), dataset_type(), uploader=uploader)
    assert dataset.scalar.structured_dataset.uri == "s3://uploads/data.csv"
    assert calls == [(data, False), (data, False), (tmp_path, True), (data, False)]


def test_structured_dataset_copies_declared_type_and_reads_back() -> None:
    declared = dataset_type("parquet")
    column = declared.structured_dataset_type.columns.add()
    column.name = "a"
    column.literal_type.simple = types_pb2.INTEGER
    literal = to_literal(StructuredDataset("s3://b/sd/", "csv"), declared)
    assert literal.scalar.structured_dataset.metadata.structured_dataset_type == declared.structured_dataset_type
    assert to_python(literal, declared) == StructuredDataset("s3://b/sd/", "parquet", (("a", "int"),))
    assert to_literal("s3://b/sd/", dataset_type()).scalar.structured_dataset.uri == "s3://b/sd/"


def test_literal_values_pass_through_untouched() -> None:
    literal = to_literal(5, INT)
    assert to_literal(literal, STR) is literal


def test_reading_without_a_type_follows_the_literal() -> None:
    error = literals_pb2.Literal()
    error.scalar.error.message = "boom"
    error.scalar.error.failed_node_id = "n0"
    assert to_python(error) == FlyteErrorValue("boom", "n0")
    binary = literals_pb2.Literal()
    binary.scalar.binary.value = b"\x00raw"
    binary.scalar.binary.tag = "custom"
    assert to_python(binary) == b"\x00raw"
    schema = literals_pb2.Literal()
    schema.scalar.schema.uri = "s3://old/schema"
    assert to_python(schema) == StructuredDataset("s3://old/schema")
    console_int = to_literal(4.0, FLOAT)
    assert to_python(console_int, INT) == 4
    assert type(to_python(console_int, INT)) is int


def test_msgpack_binary_is_read_at_any_declared_type() -> None:
    # flytekit reads a msgpack binary wherever it appears (attribute access on dataclass outputs produces them).
    literal = literals_pb2.Literal()
    literal.scalar.binary.value = b"\x93\x01\x02\x03"
    literal.scalar.binary.tag = "msgpack"
    assert to_python(literal, list_of(INT)) == [1, 2, 3]


# --- errors -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "literal_type", "fragments"),
    [
        (True, INT, ["expected int", "got bool True"]),
        ("3", INT, ["expected int", "got str '3'"]),
        (2**63, INT, ["outside the signed 64-bit range"]),
        (2**53 + 1, FLOAT, ["expected float", "no exact float representation"]),
        (True, FLOAT, ["expected float", "got bool True"]),
        (1, BOOL, ["expected bool", "got int 1"]),
        (1, STR, ["expected str", "got int 1"]),
        ("2024-01-01", DATETIME, ["expected datetime", "got str"]),
        (5, DURATION, ["expected timedelta", "got int 5"]),
        (0, NONE, ["expected None", "got int 0"]),
        (None, INT, ["expected int", "got NoneType None"]),
        ("abc", list_of(INT), ["expected list[int]", "got str 'abc'"]),
        ([1, 2, "x"], list_of(INT), ["expected list[int]", "at [2]: expected int, got str 'x'"]),
        ({1: 2}, dict_of(INT), ["at [1]: expected str key, got int 1", "map keys must be strings"]),
        ({"a": [1, "b"]}, dict_of(list_of(INT)), ["at ['a'][1]: expected int, got str 'b'"]),
        ("s", optional(INT), ["expected Optional[int]", "got str 's'"]),
        ([1, "x"], optional(list_of(INT)), ["expected Optional[list[int]]", "at [1]: expected int"]),
        (1.5, union_of(INT, STR), ["expected Union[int, str]", "matches none of the union's variants"]),
        ([], union_of(list_of(INT), list_of(STR)), ["ambiguous", "list[int], list[str]"]),
        ("blue", enum_of("red", "green"), ["expected Enum['red', 'green']", "got str 'blue'"]),
        (Color.RED, enum_of("green"), ["expected Enum['green']", "not one of the enum's values"]),
        ("c", literal_of(STR, "a", "b"), ["expected Literal['a', 'b']", "not one of the allowed values"]),
        (12, file_type("csv"), ["expected FlyteFile[csv]", "got int 12"]),
        ([1], STRUCT, ["expected dict", "got list [1]"]),
        ({"x": 1}, POINT, ["expected Point", "missing field(s) y"]),
        ({"x": 1, "y": 2.0, "z": 0}, POINT, ["unknown field(s) z"]),
        ({"x": "1", "y": 2.0}, POINT, ["at ['x']: expected int, got str '1'"]),
        (42, dataset_type("parquet"), ["expected StructuredDataset[parquet]", "got int 42"]),
    ],
    ids=lambda v: repr(v)[:30],
)
def test_errors_name_input_expected_and_given(
    value: Any, literal_type: types_pb2.LiteralType, fragments: list[str]
) -> None:
    message = error_of(value, literal_type, name="input 'x'")
    assert message.startswith("input 'x': ")
    for fragment in fragments:
        assert fragment in message, message


def test_unpackable_struct_values() -> None:
    message = error_of({"obj": object()}, STRUCT, name="input 'cfg'")
    assert "input 'cfg'" in message
    assert "no msgpack form for object" in message


def test_local_path_without_uploader_names_the_input(tmp_path: pathlib.Path) -> None:
    data = tmp_path / "f.csv"
    data.write_text("x")
    message = error_of(str(data), file_type("csv"), name="input 'f'")
    assert message.startswith("input 'f': expected FlyteFile[csv], got str")
    assert "no uploader was given" in message
    assert "not an existing file" in error_of(str(tmp_path / "missing.csv"), file_type(), name="input 'f'")
    assert "not an existing directory" in error_of(str(data), directory_type(), name="input 'd'")


def test_lone_surrogates_are_refused_naming_the_input() -> None:
    # protobuf refuses text that is not UTF-8; this used to escape as a bare UnicodeEncodeError.
    suffix = "(text with a lone surrogate cannot be sent as UTF-8)"
    assert error_of("\ud800", STR, name="input 's'") == f"input 's': expected str, got str '\\ud800' {suffix}"
    assert error_of(["a", "b\udfff"], list_of(STR), name="input 's'").endswith(suffix)
    assert error_of({"\ud800": 1}, dict_of(INT), name="input 'm'").endswith(suffix)
    assert error_of("\ud800", union_of(INT, STR), name="input 'u'").endswith(suffix)


def test_datetimes_whose_utc_time_is_out_of_range_are_refused_naming_the_input() -> None:
    early = datetime.datetime(1, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=5)))
    late = datetime.datetime(9999, 12, 31, 23, 59, tzinfo=datetime.timezone(-datetime.timedelta(hours=1)))
    for moment in (early, late):
        message = error_of(moment, DATETIME, name="input 'at'")
        assert message.startswith("input 'at': expected datetime, got datetime ")
        assert message.endswith("(its UTC time is outside years 1..9999)")
    assert error_of([early], list_of(DATETIME), name="input 'at'").endswith("(its UTC time is outside years 1..9999)")


def test_timestamps_and_durations_beyond_pythons_range_are_read_errors() -> None:
    stamp = literals_pb2.Literal()
    stamp.scalar.primitive.datetime.seconds = -62135596801  # one second before 0001-01-01T00:00:00Z
    span = literals_pb2.Literal()
    span.scalar.primitive.duration.seconds = 10**14  # more than timedelta.max
    for literal, declared in ((stamp, DATETIME), (span, DURATION)):
        for literal_type in (declared, None):
            with pytest.raises(FlyteInvalidInputException, match=r"^output 'o0': cannot read a \w+ primitive as "):
                to_python(literal, literal_type, name="output 'o0'")


def test_unnamed_values_are_called_value() -> None:
    assert error_of("x", INT).startswith("value: expected int")


def test_read_errors_name_the_value_and_types() -> None:
    literal = to_literal([1, 2], list_of(INT))
    with pytest.raises(FlyteInvalidInputException, match=r"^output 'o0': cannot read a collection as int"):
        to_python(literal, INT, name="output 'o0'")
    with pytest.raises(FlyteInvalidInputException, match=r"cannot read a string_value primitive as int at \[0\]"):
        to_python(to_literal(["1", "a"], list_of(STR)), list_of(INT))
    with pytest.raises(FlyteInvalidInputException, match=r"expected Point, got dict .*unknown field\(s\) q"):
        to_python(to_literal({"q": 1}, STRUCT), STRUCT, python_type=Point)


def test_offloaded_literals_are_refused_naming_the_uri() -> None:
    literal = literals_pb2.Literal()
    literal.offloaded_metadata.uri = "s3://bucket/offloaded/o0"
    literal.offloaded_metadata.size_bytes = 10
    for declared in (None, INT, list_of(INT)):
        with pytest.raises(FlyteInvalidInputException, match="s3://bucket/offloaded/o0"):
            to_python(literal, declared, name="output 'o0'")


def test_long_values_are_elided_in_errors() -> None:
    message = error_of("x" * 500, INT)
    assert len(message) < 200
    assert "..." in message


# --- readable types ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal_type", "text"),
    [
        (INT, "int"),
        (list_of(dict_of(FLOAT)), "list[dict[str, float]]"),
        (optional(STR), "Optional[str]"),
        (union_of(INT, STR), "Union[int, str]"),
        (union_of(INT, STR, NONE), "Optional[Union[int, str]]"),
        (enum_of("a", "b"), "Enum['a', 'b']"),
        (file_type("csv"), "FlyteFile[csv]"),
        (file_type(), "FlyteFile"),
        (directory_type(), "FlyteDirectory"),
        (dataset_type("parquet"), "StructuredDataset[parquet]"),
        (STRUCT, "dict"),
        (POINT, "Point"),
        (literal_of(INT, 1, 2), "Literal[1, 2]"),
        (None, "Any"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_literal_type_to_str(literal_type: types_pb2.LiteralType | None, text: str) -> None:
    assert literal_type_to_str(literal_type) == text
