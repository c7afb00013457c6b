"""Differential tests: for the same declared type, our literals are byte-identical to flytekit 1.16's.

Each case is (python type, value for flytekit, value for us). flytekit declares the LiteralType from the Python type;
we only ever see that LiteralType, as we would from a remote interface.
"""

# typing.Optional / typing.Union are spelled out on purpose: they are what flytekit users write and what its
# TypeEngine is given.
# ruff: noqa: UP007, UP045
from __future__ import annotations

import dataclasses
import datetime
import enum
import typing
from typing import Any

import pytest

from airflow_provider_flyte.literals import (
    FlyteDirectory,
    FlyteFile,
    StructuredDataset,
    to_literal,
    to_python,
)

UTC = datetime.timezone.utc
PLUS2 = datetime.timezone(datetime.timedelta(hours=2))


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclasses.dataclass
class Inner:
    x: int
    tags: list[str]


@dataclasses.dataclass
class Record:
    name: str
    count: int
    ratio: float
    flag: bool
    when: datetime.datetime
    day: datetime.date
    wait: datetime.timedelta
    color: Color
    inner: Inner
    inners: list[Inner]
    scores: dict[str, float]
    maybe: typing.Optional[int] = None


def _record() -> Record:
    return Record(
        name="r1",
        count=3,
        ratio=0.5,
        flag=True,
        when=datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
        day=datetime.date(2024, 1, 31),
        wait=datetime.timedelta(minutes=90, microseconds=7),
        color=Color.GREEN,
        inner=Inner(1, ["a", "b"]),
        inners=[Inner(2, []), Inner(3, ["c"])],
        scores={"x": 1.25, "y": -2.0},
    )


def _same(value: Any) -> tuple[Any, Any]:
    return value, value


# (id, python type, flytekit value, our value)
CASES: list[tuple[str, Any, Any, Any]] = [
    ("int-zero", int, *_same(0)),
    ("int-negative", int, *_same(-17)),
    ("int-large", int, *_same(2**62 + 5)),
    ("float", float, *_same(1.5)),
    ("float-negative-zero", float, *_same(-0.0)),
    ("float-huge", float, *_same(1e300)),
    ("str-empty", str, *_same("")),
    ("str-unicode", str, *_same("h\u00e9llo \u2603")),
    ("bool-true", bool, *_same(True)),
    ("bool-false", bool, *_same(False)),
    ("datetime-utc", datetime.datetime, *_same(datetime.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC))),
    ("datetime-plus2", datetime.datetime, *_same(datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=PLUS2))),
    ("datetime-epoch", datetime.datetime, *_same(datetime.datetime(1970, 1, 1, tzinfo=UTC))),
    ("datetime-pre-epoch", datetime.datetime, *_same(datetime.datetime(1901, 12, 13, 1, 2, 3, 4, tzinfo=UTC))),
    ("date", datetime.date, *_same(datetime.date(2024, 2, 29))),
    ("timedelta", datetime.timedelta, *_same(datetime.timedelta(days=1, seconds=3, microseconds=5))),
    ("timedelta-negative", datetime.timedelta, *_same(datetime.timedelta(microseconds=-1))),
    ("timedelta-negative-days", datetime.timedelta, *_same(datetime.timedelta(days=-2, seconds=5))),
    ("timedelta-zero", datetime.timedelta, *_same(datetime.timedelta(0))),
    ("none", type(None), *_same(None)),
    ("list-empty", list[int], *_same([])),
    ("list-int", list[int], *_same([1, -2, 3])),
    ("list-float", list[float], *_same([0.5, 2.0])),
    ("list-nested", list[list[str]], *_same([["a"], [], ["b", "c"]])),
    ("dict-empty", dict[str, int], *_same({})),
    ("dict-int", dict[str, int], *_same({"b": 2, "a": 1})),
    ("dict-list-float", dict[str, list[float]], *_same({"k": [1.0, 2.5]})),
    ("list-dict-list", list[dict[str, list[int]]], *_same([{"a": [1, 2]}, {}, {"b": []}])),
    ("optional-int-none", typing.Optional[int], *_same(None)),
    ("optional-int", typing.Optional[int], *_same(5)),
    ("optional-str", typing.Optional[str], *_same("s")),
    ("pep604-optional", int | None, *_same(7)),
    ("union-int", typing.Union[int, str], *_same(3)),
    ("union-str", typing.Union[int, str], *_same("x")),
    ("union-int-float-float", typing.Union[int, float], *_same(2.5)),
    ("union-int-float-int", typing.Union[int, float], *_same(2)),
    ("optional-list", typing.Optional[list[int]], *_same([1])),
    ("list-optional", list[typing.Optional[int]], *_same([1, None])),
    ("dict-union", dict[str, typing.Union[int, str]], *_same({"a": 1, "b": "two"})),
    ("union-str-enum-str", typing.Union[str, Color], *_same("red")),
    ("union-str-enum-member", typing.Union[str, Color], *_same(Color.RED)),
    ("union-datetime-duration", typing.Union[datetime.datetime, datetime.timedelta], *_same(datetime.timedelta(1))),
    (
        "union-datetime-date-datetime",
        typing.Union[datetime.datetime, datetime.date],
        *_same(datetime.datetime(2024, 1, 1, 5, tzinfo=UTC)),
    ),
    ("union-datetime-date-date", typing.Union[datetime.datetime, datetime.date], *_same(datetime.date(2024, 1, 1))),
    ("optional-dataclass", typing.Optional[Inner], *_same(Inner(1, ["t"]))),
    ("union-list-dict", typing.Union[list[int], dict[str, int]], *_same({"a": 1})),
    ("enum-member", Color, *_same(Color.GREEN)),
    ("enum-raw-str", Color, *_same("red")),
    ("literal-str", typing.Literal["a", "b"], *_same("b")),
    ("literal-int", typing.Literal[1, 2], *_same(2)),
    ("untyped-dict", dict, *_same({"a": 1, "b": [1, 2.5, "x"], "c": {"d": None, "e": True}})),
    ("untyped-dict-empty", dict, *_same({})),
    ("untyped-dict-int-keys", dict, *_same({1: "a", 2: "b"})),
    ("dataclass", Inner, *_same(Inner(5, ["p", "q"]))),
    ("dataclass-rich", Record, *_same(_record())),
    ("list-dataclass", list[Inner], *_same([Inner(1, []), Inner(2, ["z"])])),
]


def _file_cases() -> list[tuple[str, Any, Any, Any]]:
    from flytekit.types.directory import FlyteDirectory as FkDirectory
    from flytekit.types.file import FlyteFile as FkFile
    from flytekit.types.structured import StructuredDataset as FkDataset

    return [
        ("file-csv-str", FkFile[typing.TypeVar("csv")], "s3://bucket/a.csv", "s3://bucket/a.csv"),
        ("file-plain", FkFile, "gs://bucket/blob", FlyteFile("gs://bucket/blob")),
        ("file-https", FkFile[typing.TypeVar("json")], "https://example.com/x.json", "https://example.com/x.json"),
        ("directory", FkDirectory, "s3://bucket/dir/", FlyteDirectory("s3://bucket/dir/")),
        ("directory-fmt", FkDirectory[typing.TypeVar("csv")], "s3://bucket/d/", "s3://bucket/d/"),
        (
            "dataset-columns",
            FkDataset,
            FkDataset(uri="s3://bucket/sd/", file_format="parquet"),
            StructuredDataset("s3://bucket/sd/", "parquet"),
        ),
        (
            "dataset-generic-format-from-value",
            FkDataset,
            FkDataset(uri="s3://bucket/sd2/", file_format="csv"),
            StructuredDataset("s3://bucket/sd2/", "csv"),
        ),
        (
            "dataset-flytekit-object",
            FkDataset,
            FkDataset(uri="bq://project:dataset.table"),
            FkDataset(uri="bq://project:dataset.table"),
        ),
        ("optional-file", typing.Optional[FkFile], "s3://b/k", "s3://b/k"),
    ]


def _dataset_type_with_columns() -> Any:
    from flyteidl.core import types_pb2

    # Declared as an interface would carry `Annotated[StructuredDataset, kwtypes(a=int, b=str), "parquet"]`
    # (flytekit needs numpy to build that type itself).
    declared = types_pb2.LiteralType()
    sd_type = declared.structured_dataset_type
    sd_type.format = "parquet"
    sd_type.external_schema_type = "arrow"
    sd_type.external_schema_bytes = b"schema"
    for name, simple in (("a", types_pb2.INTEGER), ("b", types_pb2.STRING)):
        column = sd_type.columns.add()
        column.name = name
        column.literal_type.simple = simple
    return declared


def _assert_same_bytes(flytekit_peer: Any, python_type: Any, theirs: Any, ours: Any, declared: Any = None) -> Any:
    declared = declared if declared is not None else flytekit_peer.literal_type(python_type)
    expected = flytekit_peer.to_literal(theirs, python_type, declared)
    actual = to_literal(ours, declared, name="input 'x'")
    assert actual.SerializeToString(deterministic=True) == expected.SerializeToString(deterministic=True), (
        f"\nours:     {actual}\nflytekit: {expected}"
    )
    return declared


@pytest.mark.parametrize(("python_type", "theirs", "ours"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_same_bytes_as_flytekit(flytekit_peer: Any, python_type: Any, theirs: Any, ours: Any) -> None:
    _assert_same_bytes(flytekit_peer, python_type, theirs, ours)


def test_same_bytes_for_files_and_datasets(flytekit_peer: Any) -> None:
    for case_id, python_type, theirs, ours in _file_cases():
        declared = _dataset_type_with_columns() if case_id == "dataset-columns" else None
        try:
            _assert_same_bytes(flytekit_peer, python_type, theirs, ours, declared)
        except AssertionError as error:
            raise AssertionError(f"case {case_id}: {error}") from None


def test_pydantic_model_same_bytes(flytekit_peer: Any) -> None:
    pydantic = pytest.importorskip("pydantic")
    import flytekit.extras.pydantic_transformer  # noqa: F401 -- registers flytekit's model transformer

    class Point(pydantic.BaseModel):
        x: int
        label: str
        when: datetime.datetime
        color: Color
        tags: list[str] = []

    point = Point(x=1, label="p", when=datetime.datetime(2024, 1, 1, tzinfo=UTC), color=Color.RED, tags=["a"])
    declared = _assert_same_bytes(flytekit_peer, Point, point, point)
    back = to_python(to_literal(point, declared), declared, python_type=Point)
    assert back == point


@pytest.mark.parametrize(
    ("python_type", "value"),
    [
        (int, 42),
        (float, 2.5),
        (str, "s"),
        (bool, True),
        (datetime.datetime, datetime.datetime(2020, 2, 2, 2, 2, 2, 2, tzinfo=UTC)),
        (datetime.timedelta, datetime.timedelta(seconds=-3.5)),
        (list[dict[str, int]], [{"a": 1}]),
        (typing.Optional[int], None),
        (typing.Union[int, str], "u"),
        (dict, {"k": [1, {"n": None}]}),
    ],
    ids=lambda v: getattr(v, "__name__", None) or repr(v)[:20],
)
def test_flytekit_reads_back_what_we_write(flytekit_peer: Any, python_type: Any, value: Any) -> None:
    declared = flytekit_peer.literal_type(python_type)
    assert flytekit_peer.to_python(to_literal(value, declared), python_type) == value
    # and we read what flytekit writes
    assert to_python(flytekit_peer.to_literal(value, python_type), declared) == value


def test_we_rebuild_flytekit_dataclasses(flytekit_peer: Any) -> None:
    record = _record()
    declared = flytekit_peer.literal_type(Record)
    literal = flytekit_peer.to_literal(_record(), Record)
    assert to_python(literal, declared, python_type=Record) == record
    assert flytekit_peer.to_python(to_literal(record, declared), Record) == record


def test_union_tags_are_flytekits(flytekit_peer: Any) -> None:
    declared = flytekit_peer.literal_type(typing.Union[int, str, list[int], dict[str, int], Color, None])
    tags = [variant.structure.tag for variant in declared.union_type.variants]
    assert tags == ["int", "str", "Typed List", "Typed Dict", "DefaultEnumTransformer", "none"]
    # Variants declared without tags (another SDK) get the tags flytekit would write.
    from airflow_provider_flyte.literals.types import default_union_tag

    for variant, tag in zip(declared.union_type.variants, tags, strict=True):
        bare = type(variant)()
        bare.CopyFrom(variant)
        bare.ClearField("structure")
        assert default_union_tag(bare) == tag


def test_we_read_flytekit_files_enums_and_unions(flytekit_peer: Any) -> None:
    from flytekit.types.directory import FlyteDirectory as FkDirectory
    from flytekit.types.file import FlyteFile as FkFile

    csv_file = FkFile[typing.TypeVar("csv")]
    literal = flytekit_peer.to_literal("s3://b/k.csv", csv_file)
    assert to_python(literal, flytekit_peer.literal_type(csv_file)) == FlyteFile("s3://b/k.csv", "csv")
    literal = flytekit_peer.to_literal("s3://b/d/", FkDirectory)
    assert to_python(literal) == FlyteDirectory("s3://b/d/")
    declared = flytekit_peer.literal_type(Color)
    assert to_python(flytekit_peer.to_literal(Color.GREEN, Color), declared, python_type=Color) is Color.GREEN
    optional_list = typing.Optional[list[Inner]]
    declared = flytekit_peer.literal_type(optional_list)
    literal = flytekit_peer.to_literal([Inner(1, ["a"])], optional_list)
    assert to_python(literal, declared, python_type=optional_list) == [Inner(1, ["a"])]
    assert to_python(literal, declared) == [{"x": 1, "tags": ["a"]}]
