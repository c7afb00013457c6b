"""``Codec``: a declared type compiled once gives the values, bytes and errors of ``to_literal`` / ``to_python``.

Also the bulk reader of ``list[Optional[X]]`` (a codec's usual diet): every mix of present and missing items, and
the literals it must leave to the item-by-item reader.
"""

from __future__ import annotations

import dataclasses
import datetime
import pathlib
import threading

import pytest
from literals_types import INT, STR, STRUCT, dict_of, file_type, list_of, optional

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.literals import Codec, to_literal, to_python
from airflow_provider_flyte.literals.codec import clear_caches

UTC = datetime.timezone.utc


@dataclasses.dataclass
class Sample:
    name: str
    at: datetime.datetime
    values: list[int]


SAMPLE = Sample("s", datetime.datetime(2024, 1, 2, tzinfo=UTC), [1, 2])


def _bytes(literal: object) -> bytes:
    return literal.SerializeToString(deterministic=True)  # type: ignore[attr-defined,no-any-return]


def test_a_codec_writes_and_reads_what_the_functions_do() -> None:
    codec = Codec(STRUCT, python_type=Sample)
    literal = codec.to_literal(SAMPLE)
    assert _bytes(literal) == _bytes(to_literal(SAMPLE, STRUCT))
    assert codec.to_python(literal) == SAMPLE == to_python(literal, STRUCT, python_type=Sample)
    # A dict is turned into the dataclass first, as `to_literal(..., python_type=Sample)` does.
    as_dict = {"name": "s", "at": SAMPLE.at, "values": [1, 2]}
    assert _bytes(codec.to_literal(as_dict)) == _bytes(literal)
    assert codec.to_literal(literal) is literal  # a Literal passes unchanged
    assert codec.literal_type == STRUCT
    assert codec.python_type is Sample
    assert repr(codec) == "Codec(dict, python_type=Sample)"


def test_a_codec_keeps_its_own_copy_of_the_type() -> None:
    declared = list_of(INT)
    codec = Codec(declared)
    declared.collection_type.simple = STR.simple  # changing the caller's message changes nothing here
    assert codec.to_python(codec.to_literal([1, 2])) == [1, 2]
    assert codec.literal_type == list_of(INT)


def test_a_codec_raises_the_errors_of_the_functions() -> None:
    codec = Codec(dict_of(list_of(INT)))
    with pytest.raises(FlyteInvalidInputException) as ours:
        codec.to_literal({"a": [1, "x"]}, name="input 'x'")
    with pytest.raises(FlyteInvalidInputException) as theirs:
        to_literal({"a": [1, "x"]}, dict_of(list_of(INT)), name="input 'x'")
    assert str(ours.value) == str(theirs.value)
    assert "input 'x'" in str(ours.value)
    assert "['a'][1]" in str(ours.value)
    with pytest.raises(FlyteInvalidInputException, match="output 'o0'"):
        Codec(INT).to_python(to_literal("text", STR), name="output 'o0'")
    with pytest.raises(FlyteInvalidInputException, match="Sample"):
        Codec(STRUCT, python_type=Sample).to_python(to_literal({"unknown": 1}, STRUCT))


def test_a_codec_uploads_local_files_with_the_uploader(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,b\n")
    codec = Codec(file_type("csv"))
    literal = codec.to_literal(str(path), uploader=lambda local, is_directory: "s3://bucket/data.csv")
    assert literal.scalar.blob.uri == "s3://bucket/data.csv"
    with pytest.raises(FlyteInvalidInputException, match="no uploader"):
        codec.to_literal(str(path))


def test_a_codec_without_a_type_reads_by_shape_and_cannot_write() -> None:
    codec = Codec(None)
    assert codec.to_python(to_literal({"a": [1]}, dict_of(list_of(INT)))) == {"a": [1]}
    with pytest.raises(TypeError, match="can only read"):
        codec.to_literal(1)


def test_a_codec_outlives_clear_caches_and_serves_many_threads() -> None:
    codec = Codec(list_of(STRUCT), python_type=list[Sample])
    clear_caches()
    results: list[object] = []

    def convert() -> None:
        results.append(codec.to_python(codec.to_literal([SAMPLE] * 20)))

    threads = [threading.Thread(target=convert) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [[SAMPLE] * 20] * 4


@pytest.mark.parametrize(
    "values",
    [[], [None], ["a"], ["", None, ""], [None, None, "x"], ["a", "b"], [None, "", "z", None]],
)
def test_optional_lists_read_in_bulk_keep_every_position(values: list[str | None]) -> None:
    declared = list_of(optional(STR))
    literal = to_literal(values, declared)
    assert Codec(declared).to_python(literal) == values == to_python(literal, declared)


def test_optional_lists_leave_odd_items_to_the_item_reader() -> None:
    declared = list_of(optional(STR))
    literal = to_literal(["a", None, ""], declared)
    # A None variant holding a value: the item reader names the position.
    literal.collection.literals[1].scalar.union.value.scalar.primitive.string_value = "b"
    with pytest.raises(FlyteInvalidInputException, match=r"\[1\]"):
        to_python(literal, declared)
    # A string variant holding no string, and a stored type the declaration does not list.
    literal = to_literal(["a", None, ""], declared)
    literal.collection.literals[2].scalar.union.value.scalar.none_type.SetInParent()
    with pytest.raises(FlyteInvalidInputException, match=r"\[2\]"):
        to_python(literal, declared)
    literal = to_literal(["a", None], declared)
    literal.collection.literals[0].scalar.union.type.CopyFrom(INT)
    with pytest.raises(FlyteInvalidInputException, match=r"\[0\]"):
        to_python(literal, declared)
    assert to_python(to_literal([None], list_of(optional(INT))), list_of(optional(INT))) == [None]
