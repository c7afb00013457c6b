"""Whole input/output maps against interfaces, the XCom JSON form, and independence from flytekit."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import pathlib
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from flyteidl.core import interface_pb2, literals_pb2
from literals_types import (
    DATETIME,
    DURATION,
    FLOAT,
    INT,
    STR,
    STRUCT,
    dataset_type,
    dict_of,
    directory_type,
    file_type,
    list_of,
    optional,
    variables,
)

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.literals import (
    FlyteDirectory,
    FlyteErrorValue,
    FlyteFile,
    StructuredDataset,
    inputs_to_literal_map,
    literal_map_to_python,
    to_json_able,
    to_literal,
)

UTC = datetime.timezone.utc


def parameters(**entries: tuple[Any, ...]) -> interface_pb2.ParameterMap:
    """name=(type,) -> required; name=(type, default_value) -> optional with that default."""
    result = interface_pb2.ParameterMap()
    for name, entry in entries.items():
        parameter = result.parameters[name]
        parameter.var.type.CopyFrom(entry[0])
        if len(entry) == 1:
            parameter.required = True
        else:
            parameter.default.CopyFrom(to_literal(entry[1], entry[0]))
    return result


def test_inputs_are_converted_by_declared_type() -> None:
    declared = variables(n=INT, xs=list_of(FLOAT), when=DATETIME, note=optional(STR))
    when = datetime.datetime(2024, 1, 1, tzinfo=UTC)
    literal_map = inputs_to_literal_map({"n": 1, "xs": [1, 2.5], "when": when, "note": None}, declared)
    assert literal_map.literals["n"] == to_literal(1, INT)
    assert literal_map.literals["xs"] == to_literal([1.0, 2.5], list_of(FLOAT))
    assert literal_map_to_python(literal_map, declared) == {"n": 1, "xs": [1.0, 2.5], "when": when, "note": None}
    # without the interface, the literals' own shapes decide
    assert literal_map_to_python(literal_map)["note"] is None


def test_mapping_of_variables_and_literal_values_are_accepted() -> None:
    declared = {"n": interface_pb2.Variable(type=INT)}
    ready = to_literal(9, INT)
    assert inputs_to_literal_map({"n": ready}, declared).literals["n"] == ready


def test_unknown_and_missing_inputs_are_reported_together_before_converting() -> None:
    declared = variables(a=INT, b=list_of(INT), c=STR)
    with pytest.raises(FlyteInvalidInputException) as caught:
        inputs_to_literal_map({"a": "not even checked", "zz": 1}, declared)
    message = str(caught.value)
    assert "unknown input(s) 'zz' (declared inputs: 'a', 'b', 'c')" in message
    assert "missing required input(s) 'b' (list[int]), 'c' (str)" in message
    assert "not even checked" not in message


def test_wrong_type_names_input_expected_and_given() -> None:
    with pytest.raises(FlyteInvalidInputException, match=r"^input 'b': expected list\[int\], got list .*at \[1\]"):
        inputs_to_literal_map({"a": 1, "b": [1, "two"]}, variables(a=INT, b=list_of(INT)))


def test_parameter_map_defaults_and_required_flags() -> None:
    declared = parameters(x=(INT,), y=(STR, "dflt"), z=(optional(INT), None))
    literal_map = inputs_to_literal_map({"x": 1}, declared)
    # defaults are Flyte Admin's business: only the given inputs are sent
    assert set(literal_map.literals) == {"x"}
    with pytest.raises(FlyteInvalidInputException, match=r"missing required input\(s\) 'x' \(int\)"):
        inputs_to_literal_map({"y": "v"}, declared)
    # A parameter with neither a default nor `required` is still required, as Flyte Admin treats it.
    bare = interface_pb2.ParameterMap()
    bare.parameters["w"].var.type.CopyFrom(INT)
    with pytest.raises(FlyteInvalidInputException, match="'w'"):
        inputs_to_literal_map({}, bare)


def test_fixed_inputs_cannot_be_passed_and_are_not_required() -> None:
    declared = variables(a=INT, b=INT)
    assert set(inputs_to_literal_map({"a": 1}, declared, fixed=["b"]).literals) == {"a"}
    with pytest.raises(FlyteInvalidInputException, match=r"input\(s\) 'b' are fixed by the launch plan"):
        inputs_to_literal_map({"a": 1, "b": 2}, declared, fixed=["b"])


def test_local_file_input_uses_uploader_or_names_the_input(tmp_path: pathlib.Path) -> None:
    local = tmp_path / "in.csv"
    local.write_text("1")
    declared = variables(f=file_type("csv"))
    with pytest.raises(FlyteInvalidInputException, match=r"^input 'f': expected FlyteFile\[csv\].*no uploader"):
        inputs_to_literal_map({"f": local}, declared)
    uploaded = inputs_to_literal_map({"f": local}, declared, uploader=lambda path, is_dir: "s3://up/in.csv")
    assert uploaded.literals["f"].scalar.blob.uri == "s3://up/in.csv"


@dataclasses.dataclass
class Config:
    depth: int
    rate: float


def test_type_hints_rebuild_and_write_dataclasses() -> None:
    literal_map = inputs_to_literal_map(
        {"cfg": {"rate": 0.5, "depth": 2}}, {"cfg": interface_pb2.Variable(type=STRUCT)}, type_hints={"cfg": Config}
    )
    assert literal_map.literals["cfg"] == to_literal(Config(2, 0.5), STRUCT)
    out = literal_map_to_python(literal_map, type_hints={"cfg": Config})
    assert out == {"cfg": Config(2, 0.5)}


def test_output_read_errors_name_the_output() -> None:
    literal_map = literals_pb2.LiteralMap()
    literal_map.literals["o0"].CopyFrom(to_literal("text", STR))
    with pytest.raises(FlyteInvalidInputException, match=r"^'o0': cannot read a string_value primitive as int"):
        literal_map_to_python(literal_map, variables(o0=INT))


class Mood(enum.Enum):
    HAPPY = "happy"


def test_to_json_able_covers_every_decoded_form() -> None:
    value = {
        "when": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        "day": datetime.date(2024, 1, 2),
        "wait": datetime.timedelta(minutes=1, milliseconds=500),
        "file": FlyteFile("s3://b/f.csv", "csv"),
        "dir": FlyteDirectory("s3://b/d/"),
        "sd": StructuredDataset("s3://b/sd/", "parquet", (("a", "int"),)),
        "err": FlyteErrorValue("boom", "n1"),
        "mood": Mood.HAPPY,
        "cfg": Config(1, 2.0),
        "raw": b"\x00\x01",
        "nums": (1, 2.5, float("nan")),
        1: None,
    }
    converted = to_json_able(value)
    assert json.loads(json.dumps(converted)) == converted
    assert converted == {
        "when": "2024-01-02T03:04:05+00:00",
        "day": "2024-01-02",
        "wait": 60.5,
        "file": {"type": "file", "uri": "s3://b/f.csv", "format": "csv"},
        "dir": {"type": "directory", "uri": "s3://b/d/", "format": ""},
        "sd": {"type": "structured_dataset", "uri": "s3://b/sd/", "format": "parquet", "columns": {"a": "int"}},
        "err": {"type": "error", "message": "boom", "failed_node_id": "n1"},
        "mood": "happy",
        "cfg": {"depth": 1, "rate": 2.0},
        "raw": "AAE=",
        "nums": [1, 2.5, "NaN"],
        "1": None,
    }
    with pytest.raises(TypeError, match="cannot make a object JSON-able"):
        to_json_able(object())


def test_outputs_to_json_via_the_codec() -> None:
    declared = variables(d=dict_of(DURATION), f=directory_type(), s=dataset_type())
    literal_map = inputs_to_literal_map(
        {"d": {"a": datetime.timedelta(seconds=2)}, "f": "gs://x/", "s": "s3://y/"}, declared
    )
    assert to_json_able(literal_map_to_python(literal_map, declared)) == {
        "d": {"a": 2.0},
        "f": {"type": "directory", "uri": "gs://x/", "format": ""},
        "s": {"type": "structured_dataset", "uri": "s3://y/", "format": "", "columns": {}},
    }


_WITHOUT_FLYTEKIT = textwrap.dedent(
    """
    import sys

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name == "flytekit" or name.startswith("flytekit."):
                raise ImportError("flytekit is blocked in this test")
            return None

    sys.meta_path.insert(0, Blocker())
    import datetime, json
    from flyteidl.core import types_pb2
    from airflow_provider_flyte.literals import to_literal, to_python, to_json_able

    try:
        import flytekit  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("the blocker did not block flytekit")

    lt = types_pb2.LiteralType(collection_type=types_pb2.LiteralType(simple=types_pb2.DATETIME))
    value = [datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)]
    struct = types_pb2.LiteralType(simple=types_pb2.STRUCT)
    assert to_python(to_literal({"a": [1]}, struct), struct) == {"a": [1]}
    print(json.dumps({
        "value": to_json_able(to_python(to_literal(value, lt), lt)),
        "flytekit_loaded": any(m.split(".")[0] == "flytekit" for m in sys.modules),
    }))
    """
)


def test_codec_works_with_flytekit_unimportable() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_FLYTEKIT], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"value": ["2024-01-01T00:00:00+00:00"], "flytekit_loaded": False}


def test_nothing_is_uploaded_when_another_input_is_wrong(tmp_path: pathlib.Path) -> None:
    local = tmp_path / "in.csv"
    local.write_text("1")
    uploads: list[pathlib.Path] = []

    def uploader(path: pathlib.Path, is_directory: bool) -> str:
        uploads.append(path)
        return "s3://up/in.csv"

    declared = variables(f=file_type("csv"), n=INT)
    with pytest.raises(FlyteInvalidInputException, match=r"^input 'n'"):
        inputs_to_literal_map({"f": local, "n": "one"}, declared, uploader=uploader)
    assert uploads == []
    literal_map = inputs_to_literal_map({"f": local, "n": 1}, declared, uploader=uploader)
    assert uploads == [local]
    assert literal_map.literals["f"].scalar.blob.uri == "s3://up/in.csv"
