"""Literal codec speed: ours against flytekit's TypeEngine (caches cold and warm) and against hand-built protobuf.

Run: ``.venv/bin/python benchmarks/bench_literals.py [--repeat N] [--flytekit-repeat N] [--only TEXT]``

Each workload (a Python type and a value) is converted both ways: *encode* (value -> the ``flyteidl`` ``Literal`` a
client sends) and *decode* (a received ``Literal`` -> the value, dataclasses and enums rebuilt). Times are CPU ms per
call (``time.process_time``, all threads), the best of N samples (2 for flytekit's columns, 20-50 times slower); the
columns take turns sample by sample, so machine noise spreads over all. Each call gets a value (or a parsed
``Literal``) built beforehand; gc runs before and is off during a sample. A cold sample is one call; a warm sample
makes one untimed call, then times as many calls as make about 20 ms.

* ``fk cold``: flytekit 1.16 with every cache it keeps for conversions emptied, on types defined afresh:
  ``TypeEngine._LITERAL_CACHE`` (an ``LRUCache(128)`` of ``to_literal`` results keyed by
  ``hash(cloudpickle.dumps(value))`` and the type's pickle, so a deep copy of a value hits it too); every
  transformer's ``_msgpack_encoder`` / ``_msgpack_decoder`` (the mashumaro codecs built per Python type) and the
  dataclass transformer's ``_json_encoder`` / ``_json_decoder``; ``DataclassTransformer.guess_python_type``'s
  ``lru_cache``. mashumaro also compiles methods onto the dataclasses themselves (``__mashumaro_*``,
  ``__dialect_msgpack_*_cache__``), which no clearing undoes: each cold call gets classes defined anew
  (``make_types``). Python's own caches (``typing``'s) and flytekit's one-time transformer imports stay warm.
* ``fk warm``: the same types after one untimed conversion, ``_LITERAL_CACHE`` emptied before each call (inside the
  timing, microseconds), as for any value the process has not sent before.
* ``fk hit`` (encode): ``_LITERAL_CACHE`` left filled, so an equal value comes from it (flytekit still pickles the
  value to look it up). The previous version of this benchmark measured this, believing it measured misses.
* ``ours cold``: fresh types and :func:`airflow_provider_flyte.literals.codec.clear_caches` (writers and readers per
  ``LiteralType``, encoders and plans per Python type) before the call; ``ours warm``: after one call. Both call
  ``to_literal`` / ``to_python``, which find the compiled converter by the type's wire form on every call.
* ``codec``: a :class:`~airflow_provider_flyte.literals.Codec` made once for the type, as a caller converting many
  values keeps it (code compiled for one type, like ``hand``).
* ``hand``: the same message built (or read) by code written for this one type, the fastest we found:
  ``add().scalar.primitive.integer = i`` with ``add = out.collection.literals.add`` for ``list[int]`` (nesting
  constructors, ``Literal(collection=LiteralCollection(literals=[...]))``, is 3-4 times slower with protobuf's upb,
  which copies each sub-message given to a constructor); a dict display of the fields + ``msgpack.packb`` for a
  dataclass; field reads, ``msgpack.unpackb`` and ``Record(name=d["name"], ...)`` to decode (a union's variant
  chosen by its stored type's tag, as flytekit chooses it). It checks nothing else.

Ratios: ``fk/ours`` = flytekit's time / ours (cold with cold, warm with warm), target >= 3 (warm); ``fk/codec``
likewise with a codec; ``ours/hand`` and ``codec/hand`` = our time (warm) / hand, target <= 1.5 for the codec.
``check``: our bytes equal flytekit's (``SerializeToString(deterministic=True)``; where flytekit's own bytes vary
from call to call, the decoded values are compared and the column says so), the hand-built message is the same, and
every decoder returns a value equal to the original.
"""

import argparse
import dataclasses
import datetime
import enum
import gc
import math
import sys
import time
import types
from collections.abc import Callable
from typing import Any

import msgpack
from flyteidl.core import literals_pb2 as pb

TARGET_VS_FLYTEKIT = 3.0
TARGET_VS_HAND = 1.5
UTC = datetime.timezone.utc


# --- the workloads' types, defined anew for every cold run -------------------------------------------------------


def make_types() -> types.SimpleNamespace:
    """Fresh ``Color``, ``Inner``, ``Record`` and ``Batch`` classes (no cache anywhere knows them yet)."""

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
        maybe: int | None = None

    @dataclasses.dataclass
    class Batch:
        name: str
        created: datetime.datetime
        records: list[Record]
        index: dict[str, Inner | None]

    return types.SimpleNamespace(Color=Color, Inner=Inner, Record=Record, Batch=Batch)


def make_record(t: types.SimpleNamespace, i: int) -> Any:
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, i % 1_000_000, tzinfo=UTC)
    day, wait = datetime.date(2024, 1, 1 + i % 28), datetime.timedelta(seconds=i, microseconds=500)
    inner, inners = t.Inner(i, ["a", "b"]), [t.Inner(2 * i, []), t.Inner(3, ["c", f"d{i}"])]
    color = t.Color.GREEN if i % 3 else t.Color.RED
    args = (f"record-{i}", i, i * 0.25, i % 2 == 0, when, day, wait, color, inner, inners)
    return t.Record(*args, {"x": 1.25, "y": -2.0 * i}, i if i % 2 else None)


def make_batch(t: types.SimpleNamespace) -> Any:
    index = {f"k{i}": t.Inner(i, [f"t{i}"]) if i % 4 else None for i in range(200)}
    created = datetime.datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)
    return t.Batch("batch", created, [make_record(t, i) for i in range(1_000)], index)


# --- hand-built messages ---------------------------------------------------------------------------------------


def hand_int_list(value: list[int], declared: Any) -> pb.Literal:
    out = pb.Literal()
    out.collection.SetInParent()
    add = out.collection.literals.add
    for i in value:
        add().scalar.primitive.integer = i
    return out


def hand_float_map(value: dict[str, float], declared: Any) -> pb.Literal:
    out = pb.Literal()
    out.map.SetInParent()
    entries = out.map.literals
    for k, v in value.items():
        entries[k].scalar.primitive.float_value = v
    return out


def hand_nested(value: list[dict[str, list[int]]], declared: Any) -> pb.Literal:
    out = pb.Literal()
    out.collection.SetInParent()
    add = out.collection.literals.add
    for item in value:
        literal_map = add().map
        literal_map.SetInParent()
        entries = literal_map.literals
        for k, numbers in item.items():
            collection = entries[k].collection
            collection.SetInParent()
            add_number = collection.literals.add
            for i in numbers:
                add_number().scalar.primitive.integer = i
    return out


def hand_opt_strs(value: list[str | None], declared: Any) -> pb.Literal:
    str_type, none_type = declared.collection_type.union_type.variants  # as declared, tags included
    out = pb.Literal()
    out.collection.SetInParent()
    add = out.collection.literals.add
    for s in value:
        union = add().scalar.union
        if s is None:
            union.value.scalar.none_type.SetInParent()
            union.type.CopyFrom(none_type)
        else:
            union.value.scalar.primitive.string_value = s
            union.type.CopyFrom(str_type)
    return out


def _record_tree(r: Any) -> dict[str, Any]:
    return {
        "name": r.name,
        "count": r.count,
        "ratio": r.ratio,
        "flag": r.flag,
        "when": r.when.isoformat(),
        "day": r.day.isoformat(),
        "wait": r.wait.total_seconds(),
        "color": r.color.value,
        "inner": {"x": r.inner.x, "tags": r.inner.tags},
        "inners": [{"x": i.x, "tags": i.tags} for i in r.inners],
        "scores": r.scores,
        "maybe": r.maybe,
    }


def _set_binary(literal: pb.Literal, tree: Any) -> pb.Literal:
    binary = literal.scalar.binary
    binary.value = msgpack.packb(tree)
    binary.tag = "msgpack"
    return literal


def hand_record(value: Any, declared: Any) -> pb.Literal:
    return _set_binary(pb.Literal(), _record_tree(value))


def hand_records(value: list[Any], declared: Any) -> pb.Literal:
    out = pb.Literal()
    out.collection.SetInParent()
    add = out.collection.literals.add
    for r in value:
        _set_binary(add(), _record_tree(r))
    return out


def hand_by_key(value: dict[str, Any], declared: Any) -> pb.Literal:
    out = pb.Literal()
    out.map.SetInParent()
    entries = out.map.literals
    for k, r in value.items():
        _set_binary(entries[k], _record_tree(r))
    return out


def hand_batch(value: Any, declared: Any) -> pb.Literal:
    index = {k: None if i is None else {"x": i.x, "tags": i.tags} for k, i in value.index.items()}
    records = [_record_tree(r) for r in value.records]
    return _set_binary(
        pb.Literal(), {"name": value.name, "created": value.created.isoformat(), "records": records, "index": index}
    )


# --- hand-written readers --------------------------------------------------------------------------------------


def read_int_list(literal: pb.Literal, t: Any) -> list[int]:
    return [item.scalar.primitive.integer for item in literal.collection.literals]


def read_float_map(literal: pb.Literal, t: Any) -> dict[str, float]:
    return {k: v.scalar.primitive.float_value for k, v in literal.map.literals.items()}


def read_nested(literal: pb.Literal, t: Any) -> list[dict[str, list[int]]]:
    return [
        {k: [x.scalar.primitive.integer for x in v.collection.literals] for k, v in item.map.literals.items()}
        for item in literal.collection.literals
    ]


def read_opt_strs(literal: pb.Literal, t: Any) -> list[str | None]:
    # The variant is picked by the union's stored type (its tag), as flytekit picks it: the value alone cannot tell
    # variants apart in general (`Union[str, Enum]`). The previous reader tested `HasField("none_type")` and read no
    # type at all, less than any reader of unions does; it was 10-20% faster.
    values: list[str | None] = []
    append = values.append
    for item in literal.collection.literals:
        union = item.scalar.union
        append(None if union.type.structure.tag == "none" else union.value.scalar.primitive.string_value)
    return values


def _unpack(literal: pb.Literal) -> Any:
    return msgpack.unpackb(literal.scalar.binary.value, strict_map_key=False)


def _record(t: Any, d: dict[str, Any]) -> Any:
    inner = t.Inner
    return t.Record(
        name=d["name"],
        count=d["count"],
        ratio=d["ratio"],
        flag=d["flag"],
        when=datetime.datetime.fromisoformat(d["when"]),
        day=datetime.date.fromisoformat(d["day"]),
        wait=datetime.timedelta(seconds=d["wait"]),
        color=t.Color(d["color"]),
        inner=inner(**d["inner"]),
        inners=[inner(**i) for i in d["inners"]],
        scores=d["scores"],
        maybe=d["maybe"],
    )


def read_record(literal: pb.Literal, t: Any) -> Any:
    return _record(t, _unpack(literal))


def read_records(literal: pb.Literal, t: Any) -> list[Any]:
    return [_record(t, _unpack(item)) for item in literal.collection.literals]


def read_by_key(literal: pb.Literal, t: Any) -> dict[str, Any]:
    return {k: _record(t, _unpack(v)) for k, v in literal.map.literals.items()}


def read_batch(literal: pb.Literal, t: Any) -> Any:
    d = _unpack(literal)
    index = {k: None if i is None else t.Inner(**i) for k, i in d["index"].items()}
    records = [_record(t, r) for r in d["records"]]
    return t.Batch(d["name"], datetime.datetime.fromisoformat(d["created"]), records, index)


@dataclasses.dataclass(frozen=True)
class Workload:
    title: str
    python_type: Callable[[Any], Any]  # of the types namespace
    make_value: Callable[[Any], Any]
    hand_encode: Callable[[Any, Any], pb.Literal]
    hand_decode: Callable[[pb.Literal, Any], Any]
    rebuild: bool = False  # decode with python_type (dataclasses, enums); else the declared type is enough


VALUES: dict[str, Callable[[Any], Any]] = {  # of the types namespace
    "ints": lambda t: list(range(100_000)),
    "floats": lambda t: {f"key{i}": i * 0.5 for i in range(10_000)},
    "nested": lambda t: [{f"k{j}": list(range(i, i + 10)) for j in range(10)} for i in range(1_000)],
    "optional": lambda t: [None if i % 3 == 0 else f"s{i}" for i in range(20_000)],
    "record": lambda t: make_record(t, 7),
    "records": lambda t: [make_record(t, i) for i in range(1_000)],
    "by key": lambda t: {f"r{i}": make_record(t, i) for i in range(1_000)},
}
NESTED = list[dict[str, list[int]]]
WORKLOADS = [
    Workload("list[int] x 100k", lambda t: list[int], VALUES["ints"], hand_int_list, read_int_list),
    Workload("dict[str, float] x 10k", lambda t: dict[str, float], VALUES["floats"], hand_float_map, read_float_map),
    Workload("list[dict[str, list[int]]] 1k x 10 x 10", lambda t: NESTED, VALUES["nested"], hand_nested, read_nested),
    Workload("list[Optional[str]] x 20k", lambda t: list[str | None], VALUES["optional"], hand_opt_strs, read_opt_strs),
    Workload("Record (12 fields, nested)", lambda t: t.Record, VALUES["record"], hand_record, read_record, True),
    Workload("list[Record] x 1k", lambda t: list[t.Record], VALUES["records"], hand_records, read_records, True),
    Workload("dict[str, Record] x 1k", lambda t: dict[str, t.Record], VALUES["by key"], hand_by_key, read_by_key, True),
    Workload("Batch (1k Records + 200 Optional[Inner])", lambda t: t.Batch, make_batch, hand_batch, read_batch, True),
]


# --- flytekit, and the timing -----------------------------------------------------------------------------------


class Flytekit:
    """flytekit's TypeEngine: the calls a client makes, and its caches (see the module docstring)."""

    def __init__(self) -> None:
        from flytekit.core.context_manager import FlyteContextManager
        from flytekit.core.type_engine import DataclassTransformer, TypeEngine
        from flytekit.models.literals import Literal

        self.engine = TypeEngine
        self.context = FlyteContextManager.current_context()
        self.literal_model = Literal
        self.guess_cache_clear = DataclassTransformer.guess_python_type.cache_clear

    def declare(self, python_type: Any) -> Any:
        return self.engine.to_literal_type(python_type)

    def encode(self, value: Any, python_type: Any, declared: Any) -> pb.Literal:
        return self.engine.to_literal(self.context, value, python_type, declared).to_flyte_idl()

    def encode_uncached(self, value: Any, python_type: Any, declared: Any) -> pb.Literal:
        self.clear_literal_cache()  # a value flytekit has not converted before (microseconds)
        return self.encode(value, python_type, declared)

    def decode(self, literal: pb.Literal, python_type: Any) -> Any:
        return self.engine.to_python_value(self.context, self.literal_model.from_flyte_idl(literal), python_type)

    def clear_literal_cache(self) -> None:
        self.engine._LITERAL_CACHE.clear()

    def clear_all(self) -> None:
        """Empty every cache flytekit keeps for conversions (mashumaro's methods on classes need fresh classes)."""
        self.clear_literal_cache()
        engine = self.engine
        transformers = [*engine._REGISTRY.values(), engine._DATACLASS_TRANSFORMER, engine._ENUM_TRANSFORMER]
        for transformer in {id(t): t for t in [*transformers, engine._LITERAL_TYPE_TRANSFORMER]}.values():
            for name in ("_msgpack_encoder", "_msgpack_decoder", "_json_encoder", "_json_decoder"):
                cache = getattr(transformer, name, None)
                if isinstance(cache, dict):
                    cache.clear()
        self.guess_cache_clear()


@dataclasses.dataclass(frozen=True)
class Column:
    """One timed column: how to prepare the arguments of a call, the call, and whether it is a cold one."""

    prepare: Callable[[], tuple[Any, ...]]
    run: Callable[..., Any]
    cold: bool = False  # a cold call cannot be repeated in a loop: one call per sample


def _timed(column: Column, number: int) -> float:
    """CPU seconds per call over ``number`` calls (1 when cold) on arguments prepared beforehand, gc off.

    A warm sample first makes one untimed call, so the collection that precedes it does not leave it with cold CPU
    caches; a cold sample is one call, right after the collection and the emptying of the caches.
    """
    calls = [column.prepare() for _ in range(1 if column.cold else number + 1)]
    gc.collect()
    gc.disable()
    try:
        if not column.cold:
            column.run(*calls.pop())
        start = time.process_time()
        for args in calls:
            column.run(*args)
        return (time.process_time() - start) / len(calls)
    finally:
        gc.enable()


def _best(columns: dict[str, Column], repeat: int, flytekit_repeat: int) -> dict[str, float]:
    """Best time per call of each column, the columns taking turns sample by sample.

    Warm columns loop over enough calls for a sample of about 20 ms (judged by our warm call). flytekit's columns,
    20-50 times slower, take ``flytekit_repeat`` samples only.
    """
    number = max(1, min(1000, int(0.02 / max(_timed(columns["ours warm"], 1), 1e-6))))
    best = dict.fromkeys(columns, float("inf"))
    for sample in range(repeat):
        for name, column in columns.items():
            if sample < flytekit_repeat or not name.startswith("fk"):
                best[name] = min(best[name], _timed(column, number))
    return best


@dataclasses.dataclass
class Result:
    title: str
    encode: dict[str, float]
    decode: dict[str, float]
    encode_check: str
    decode_check: str


def _fresh(workload: Workload, fk: Flytekit) -> tuple[Any, Any, Any, Any]:
    """New types (no cache knows them), the type, flytekit's declared type model and a value."""
    t = make_types()
    python_type = workload.python_type(t)
    return t, python_type, fk.declare(python_type), workload.make_value(t)


def _encode_columns(
    workload: Workload, fk: Flytekit, t: Any, python_type: Any, declared_model: Any
) -> dict[str, Column]:
    from airflow_provider_flyte.literals import Codec, to_literal
    from airflow_provider_flyte.literals.codec import clear_caches

    declared = declared_model.to_flyte_idl()

    def fk_cold() -> tuple[Any, ...]:
        _, fresh_type, fresh_model, value = _fresh(workload, fk)
        fk.clear_all()
        return value, fresh_type, fresh_model

    def ours_cold() -> tuple[Any, ...]:
        _, _, fresh_model, value = _fresh(workload, fk)
        clear_caches()
        return value, fresh_model.to_flyte_idl()

    fk.encode(workload.make_value(t), python_type, declared_model)  # warm-up: flytekit's codecs, our writers
    to_literal(workload.make_value(t), declared)
    codec = Codec(declared, python_type=python_type)
    return {
        "fk cold": Column(fk_cold, fk.encode, cold=True),
        "fk warm": Column(lambda: (workload.make_value(t), python_type, declared_model), fk.encode_uncached),
        "fk hit": Column(lambda: (workload.make_value(t), python_type, declared_model), fk.encode),
        "ours cold": Column(ours_cold, to_literal, cold=True),
        "ours warm": Column(lambda: (workload.make_value(t), declared), to_literal),
        "codec": Column(lambda: (workload.make_value(t),), codec.to_literal),
        "hand": Column(lambda: (workload.make_value(t), declared), workload.hand_encode),
    }


def _decode_columns(
    workload: Workload, fk: Flytekit, t: Any, python_type: Any, declared_model: Any, wire: bytes
) -> dict[str, Column]:
    from airflow_provider_flyte.literals import Codec, to_python
    from airflow_provider_flyte.literals.codec import clear_caches

    declared = declared_model.to_flyte_idl()

    def fk_cold() -> tuple[Any, ...]:
        fresh_type = workload.python_type(make_types())
        fk.clear_all()
        return pb.Literal.FromString(wire), fresh_type

    def ours_cold() -> tuple[Any, ...]:
        fresh_type = workload.python_type(make_types())
        clear_caches()
        return pb.Literal.FromString(wire), declared, fresh_type if workload.rebuild else None

    def ours(literal: pb.Literal, declared: Any, python_type: Any) -> Any:
        return to_python(literal, declared, python_type=python_type)

    our_type = python_type if workload.rebuild else None
    fk.decode(pb.Literal.FromString(wire), python_type)  # warm-up
    to_python(pb.Literal.FromString(wire), declared, python_type=our_type)
    codec = Codec(declared, python_type=our_type)
    return {
        "fk cold": Column(fk_cold, fk.decode, cold=True),
        "fk warm": Column(lambda: (pb.Literal.FromString(wire), python_type), fk.decode),
        "ours cold": Column(ours_cold, ours, cold=True),
        "ours warm": Column(lambda: (pb.Literal.FromString(wire), declared, our_type), ours),
        "codec": Column(lambda: (pb.Literal.FromString(wire),), codec.to_python),
        "hand": Column(lambda: (pb.Literal.FromString(wire), t), workload.hand_decode),
    }


def _checks(
    workload: Workload, fk: Flytekit, t: Any, python_type: Any, declared_model: Any, value: Any
) -> tuple[str, str, bytes]:
    """Byte equality with flytekit (or decoded equality where flytekit is not deterministic) and round trips."""
    from airflow_provider_flyte.literals import to_literal, to_python

    declared = declared_model.to_flyte_idl()
    fk.clear_literal_cache()
    theirs = fk.encode(value, python_type, declared_model).SerializeToString(deterministic=True)
    ours_literal = to_literal(value, declared)
    ours = ours_literal.SerializeToString(deterministic=True)
    hand = workload.hand_encode(value, declared).SerializeToString(deterministic=True)
    encode_check = "identical" if ours == theirs else "DIFFERENT"
    if ours != theirs:
        fk.clear_literal_cache()
        again = fk.encode(value, python_type, declared_model).SerializeToString(deterministic=True)
        if again != theirs and fk.decode(pb.Literal.FromString(theirs), python_type) == value:
            # flytekit's bytes vary from call to call (e.g. msgpack map order): compare what they decode to.
            encode_check = "equal decoded (flytekit not deterministic)"
    if hand != ours:
        encode_check += ", hand-built DIFFERS"
    our_type = python_type if workload.rebuild else None
    decoded = [
        to_python(ours_literal, declared, python_type=our_type),
        fk.decode(pb.Literal.FromString(ours), python_type),
        workload.hand_decode(pb.Literal.FromString(ours), t),
    ]
    decode_check = "equal" if all(d == value for d in decoded) else "DIFFERENT"
    return encode_check, decode_check, ours


def measure(workload: Workload, fk: Flytekit, repeat: int, flytekit_repeat: int) -> Result:
    t, python_type, declared_model, value = _fresh(workload, fk)
    encode_check, decode_check, wire = _checks(workload, fk, t, python_type, declared_model, value)
    encode = _best(_encode_columns(workload, fk, t, python_type, declared_model), repeat, flytekit_repeat)
    decode = _best(_decode_columns(workload, fk, t, python_type, declared_model, wire), repeat, flytekit_repeat)
    return Result(workload.title, encode, decode, encode_check, decode_check)


# --- report ----------------------------------------------------------------------------------------------------

_TIMES = ("fk cold", "fk warm", "fk hit", "ours cold", "ours warm", "codec", "hand")


def _ms(seconds: float) -> str:
    """Milliseconds with three significant digits or more."""
    ms = seconds * 1000
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.{2 - math.floor(math.log10(ms))}f}" if ms > 0 else "0"


def _table(results: list[Result], direction: str, repeat: int, flytekit_repeat: int) -> list[str]:
    times = [name for name in _TIMES if name in getattr(results[0], direction)]
    header = f"{'workload':<42}" + "".join(f"{name:>10}" for name in times)
    ratios = ("fk/ours cold", "fk/ours warm", "fk/codec", "ours/hand", "codec/hand")
    lines = [
        f"{direction}: {'Python value -> Literal' if direction == 'encode' else 'Literal -> Python value'}"
        f" (CPU ms per call, best of {repeat} samples, flytekit's of {flytekit_repeat})",
        header + "".join(f"{name:>14}" for name in ratios) + "  check",
    ]
    for result in results:
        row, check = getattr(result, direction), getattr(result, f"{direction}_check")
        cells = "".join(f"{_ms(row[name]):>10}" for name in times)
        values = (
            row["fk cold"] / row["ours cold"],
            row["fk warm"] / row["ours warm"],
            row["fk warm"] / row["codec"],
            row["ours warm"] / row["hand"],
            row["codec"] / row["hand"],
        )
        lines.append(f"{result.title:<42}{cells}" + "".join(f"{v:>13.2f}x" for v in values) + f"  {check}")
    return lines


def _misses(results: list[Result]) -> list[str]:
    """The targets missed: flytekit against ``to_literal``/``to_python`` (ours warm), hand-built against a Codec."""
    misses = []
    for result in results:
        for direction in ("encode", "decode"):
            row = getattr(result, direction)
            versus_flytekit = row["fk warm"] / row["ours warm"]
            versus_hand = row["codec"] / row["hand"]
            check = getattr(result, f"{direction}_check")
            if versus_flytekit < TARGET_VS_FLYTEKIT:
                misses.append(f"{result.title} {direction}: {versus_flytekit:.1f}x flytekit")
            if versus_hand > TARGET_VS_HAND:
                misses.append(f"{result.title} {direction}: codec {versus_hand:.2f}x hand-built")
            if "DIFFER" in check:
                misses.append(f"{result.title} {direction}: {check}")
    return misses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5, help="samples per column (the best is kept)")
    parser.add_argument("--flytekit-repeat", type=int, default=2, help="samples per flytekit column")
    parser.add_argument("--only", default="", help="run the workloads whose title contains this text")
    args = parser.parse_args()
    fk = Flytekit()
    flytekit_repeat = min(args.repeat, args.flytekit_repeat)
    results = [measure(w, fk, args.repeat, flytekit_repeat) for w in WORKLOADS if args.only in w.title]
    if not results:
        print(f"no workload matches {args.only!r}")
        return 2
    for direction in ("encode", "decode"):
        print("\n".join(_table(results, direction, args.repeat, flytekit_repeat)), end="\n\n")
    misses = _misses(results)
    print(
        f"targets (warm, both ways): >= {TARGET_VS_FLYTEKIT:.0f}x flytekit, <= {TARGET_VS_HAND}x hand-built, same"
        f" bytes and values -> {'met' if not misses else 'NOT met: ' + '; '.join(misses)}"
    )
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
