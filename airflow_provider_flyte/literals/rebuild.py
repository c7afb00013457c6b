"""Rebuilding Python types (dataclasses, models, enums, dates, containers) from decoded trees: :func:`from_tree`.

An annotation is compiled into a *builder*, a function from the decoded data to the Python value. Each class gets
one *plan*, built the first time the class is met and kept in a cache keyed by the class object itself (bounded; a
redefined class is another object, with its own plan). A dataclass's plan reads ``typing.get_type_hints`` once and
holds one converter per field; for the map msgpack gives back (exactly the fields) it runs straight-line code
generated for the class, so rebuilding 1,000 instances costs about what hand-written ``Record(name=d["name"], ...)``
does. Annotations that are not classes (``list[X]``, ``Optional[X]``...) are compiled per call, which costs a few
microseconds whatever the size of the data, and are never cached: typing finds ``Union[int, float]`` equal to
``Union[float, int]``, yet the order of a union's variants decides the result.

A converter of ``None`` means "the value as it is"; next to it each position keeps the Python types whose values are
also used as they are (``type(value) in passthrough``), so the common case costs no call, and containers first look
at the types of all their items at once (in C) to skip the per-item loop when nothing needs converting.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import inspect
import keyword
import os
import threading
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_flyte.literals._errors import Mismatch
from airflow_provider_flyte.literals.structured import is_model_type, remember, type_hints

Builder = Callable[[Any], Any]
Converter = Builder | None
"""A builder, or ``None`` when values are used as they are."""

_NoneType = type(None)
_UNION_ORIGINS: tuple[Any, ...] = (typing.Union, types.UnionType)
_SEQUENCES = (list, tuple, set, frozenset)
_ISO_TYPES = (datetime.datetime, datetime.date, datetime.time)
# The errors a conversion may raise that mean "this value does not fit" (anything else is a bug and propagates).
_MISFITS = (TypeError, ValueError, KeyError)
_plans: dict[type, Builder] = {}
_compiling = threading.local()  # the classes whose plans this thread is compiling


def clear_caches() -> None:
    """Forget every class plan (tests and benchmarks measure the first conversion of a type with it)."""
    _plans.clear()


def type_name(python_type: Any) -> str:
    """A readable name of a Python type annotation (``int``, ``list[int]``, ``MyDataclass``)."""
    if _is_class(python_type):
        return str(python_type.__name__)
    return str(python_type).replace("typing.", "")


def from_tree(data: Any, python_type: Any) -> Any:
    """Rebuild ``python_type`` from a decoded tree (``data`` from msgpack, JSON or another literal).

    Dataclasses and pydantic models are constructed from maps, enums from their values, dates and times from ISO
    strings, ``timedelta`` from seconds, containers element by element, ``float`` from ``int``. A value that already
    has the requested type, or a type the function does not know, is returned unchanged.

    Raises:
        Mismatch: when ``data`` cannot become ``python_type``.
    """
    convert = compile_type(python_type)
    return data if convert is None else convert(data)


def _passthrough(python_type: Any) -> frozenset[type]:
    """The types whose values a position takes as they are, without calling its converter.

    For a class ``X`` that is ``{X}`` (``type(value) is X`` means ``from_tree`` would return the value unchanged); for
    ``Optional[X]`` it is ``{X, NoneType}``. Other annotations have none: their values always go through the converter.
    """
    if typing.get_origin(python_type) in _UNION_ORIGINS:
        args = typing.get_args(python_type)
        if len(args) == 2 and _NoneType in args:
            inner = args[0] if args[1] is _NoneType else args[1]
            return _passthrough(inner) | {_NoneType} if _is_class(inner) else frozenset()
        return frozenset()
    return frozenset((python_type,)) if _is_class(python_type) else frozenset()


def _is_class(python_type: Any) -> bool:
    return isinstance(python_type, type) and typing.get_origin(python_type) is None


def compile_type(python_type: Any) -> Converter:
    """The converter of ``python_type`` (``None``: values are used as they are). Classes come from the plan cache."""
    try:
        plan = _plans.get(python_type)  # only classes are stored; a generic alias never equals one
    except TypeError:  # an unhashable annotation, e.g. Annotated[X, {...}]
        plan = None
    if plan is not None:
        return plan
    if python_type is None or python_type is Any or python_type is object:
        return None
    origin = typing.get_origin(python_type)
    if origin is typing.Annotated:
        return compile_type(typing.get_args(python_type)[0])
    if origin is typing.Literal:
        return None
    if origin in _UNION_ORIGINS:
        return _compile_union(python_type)
    if origin in _SEQUENCES or python_type in _SEQUENCES:
        return _compile_sequence(python_type, origin or python_type)
    if origin is dict or python_type is dict:
        return _compile_mapping(python_type)
    if not isinstance(python_type, type):
        return None
    return plan_of(python_type)


def plan_of(cls: type) -> Builder:
    """The cached plan of a class (built on first use; keyed by the class object, so a redefined class gets its own).

    A plan is published once complete. A class met again while its own plan is being compiled on this thread (a
    recursive dataclass, ``next: Optional["Node"]``) gets a small stand-in that looks the finished plan up when called.
    """
    plan = _plans.get(cls)
    if plan is not None:
        return plan
    compiling: set[type] = _compiling.__dict__.setdefault("classes", set())
    if cls in compiling:
        return lambda data: plan_of(cls)(data)
    compiling.add(cls)
    try:
        plan = _compile_class(cls)
    finally:
        compiling.discard(cls)
    remember(_plans, cls, plan)
    return plan


# --- containers ------------------------------------------------------------------------------------------------


def _position(python_type: Any) -> tuple[frozenset[type], Converter]:
    """How one position (an item, a map value, a field) of ``python_type`` is converted."""
    convert = compile_type(python_type)
    return (frozenset(), None) if convert is None else (_passthrough(python_type), convert)


def _compile_union(python_type: Any) -> Builder:
    args = typing.get_args(python_type)
    optional = _NoneType in args
    options = [(arg, *_position(arg)) for arg in args if arg is not _NoneType]

    def build_union(data: Any) -> Any:
        if data is None and optional:
            return None
        last: Mismatch | None = None
        for arg, passthrough, convert in options:
            if convert is None or type(data) in passthrough:
                return data
            try:
                return convert(data)
            except Mismatch as error:
                last = error
            except (TypeError, ValueError) as error:
                last = Mismatch(type_name(arg), data, str(error))
        raise last or Mismatch(type_name(python_type), data)

    return build_union


def _sequence_arg(hint: Any) -> Any:
    args = typing.get_args(hint)
    return args[0] if len(args) == 1 or (len(args) == 2 and args[1] is Ellipsis) else None


def _compile_sequence(python_type: Any, container: type) -> Builder:
    passthrough, convert = _position(_sequence_arg(python_type))

    def build_sequence(data: Any) -> Any:
        if type(data) is not list and not isinstance(data, _SEQUENCES):
            raise Mismatch(type_name(python_type), data)
        if convert is None or passthrough.issuperset(map(type, data)):
            items = list(data)
        else:
            try:
                # The converter returns a passthrough value as it is, so mapping it over all items gives the same
                # list, with no Python loop; a refused item is converted again below to say which one it is.
                items = list(map(convert, data))
            except Mismatch:
                items = _convert_items(data, passthrough, convert)
        return items if container is list else container(items)

    return build_sequence


def _convert_items(data: Any, passthrough: frozenset[type], convert: Builder) -> list[Any]:
    """Convert the items one by one (raises the :class:`Mismatch` of the first refused one, located)."""
    items: list[Any] = []
    append = items.append
    index = -1
    try:
        for index, item in enumerate(data):  # noqa: B007 -- index names the failing element
            append(item if type(item) in passthrough else convert(item))
    except Mismatch as error:
        raise error.at(f"[{index}]") from None
    return items


def _compile_mapping(python_type: Any) -> Builder:
    args = typing.get_args(python_type)
    key_passthrough, convert_key = _position(args[0] if len(args) == 2 else None)
    value_passthrough, convert_value = _position(args[1] if len(args) == 2 else None)

    def build_mapping(data: Any) -> dict[Any, Any]:
        if type(data) is not dict and not isinstance(data, Mapping):
            raise Mismatch(type_name(python_type), data)
        if (convert_key is None or key_passthrough.issuperset(map(type, data))) and (
            convert_value is None or value_passthrough.issuperset(map(type, data.values()))
        ):
            return dict(data.items())
        result = {}
        key = None
        try:
            for key, item in data.items():
                result[key if convert_key is None or type(key) in key_passthrough else convert_key(key)] = (
                    item if convert_value is None or type(item) in value_passthrough else convert_value(item)
                )
        except Mismatch as error:
            raise error.at(f"[{key!r}]") from None
        return result

    return build_mapping


# --- classes ---------------------------------------------------------------------------------------------------


def _compile_class(cls: type) -> Builder:
    if dataclasses.is_dataclass(cls):
        return _dataclass_plan(cls)
    if is_model_type(cls):
        return _constructor_plan(cls, cls.model_validate)  # type: ignore[attr-defined]
    if issubclass(cls, enum.Enum):
        return _enum_plan(cls)
    return _scalar_plan(cls)


@dataclasses.dataclass(frozen=True)
class _Field:
    """A dataclass field with a converter, as its plan uses it.

    Attributes:
        index: Its position in declaration order.
        name: Its name.
        passthrough: The types its values are taken as they are.
        convert: The converter of other values.
        fast: For a scalar or enum field, the type its values usually arrive as in a decoded tree (``str`` for a
            ``datetime``) and a conversion written in C that gives what ``convert`` gives (``datetime.fromisoformat``)
            or raises; ``None`` otherwise.
        items: For a ``list[X]`` field, the item types that need no conversion (a list of only those is copied);
            ``None`` otherwise.
        entries: For a ``dict[K, V]`` field, the key and the value types that need no conversion (a map of only
            those is copied); ``None`` otherwise.
    """

    index: int
    name: str
    passthrough: frozenset[type]
    convert: Builder
    fast: tuple[type, Builder] | None
    items: frozenset[type] | None
    entries: tuple[frozenset[type], frozenset[type]] | None


@dataclasses.dataclass(frozen=True)
class _Fields:
    """What a dataclass plan needs of the class's fields, read once (``typing.get_type_hints`` included).

    Attributes:
        names: The field names in declaration order.
        converted: The fields with a converter, in declaration order.
        init: The names ``__init__`` takes.
        positional: Every field goes to ``__init__``, which takes them positionally in declaration order.
    """

    names: tuple[str, ...]
    converted: tuple[_Field, ...]
    init: frozenset[str]
    positional: bool

    @classmethod
    def of(cls, record: type) -> _Fields:
        """Read the fields of the dataclass ``record`` and compile their converters."""
        hints = type_hints(record)
        fields = dataclasses.fields(record)
        converted = []
        for index, field in enumerate(fields):
            hint = hints.get(field.name)
            passthrough, convert = _position(hint)
            if convert is not None:
                fast, items, entries = _fast_form(hint), _list_items(hint), _map_entries(hint)
                converted.append(_Field(index, field.name, passthrough, convert, fast, items, entries))
        names = tuple(field.name for field in fields)
        init = frozenset(field.name for field in fields if field.init)
        return cls(names, tuple(converted), init, len(init) == len(names) and _takes_positionally(record, names))


def _takes_positionally(record: type, names: tuple[str, ...]) -> bool:
    """Whether ``record(*values)`` binds the values to the fields ``names`` as ``record(**kwargs)`` would.

    True for the ``__init__`` dataclasses generates; a hand-written one qualifies when its first parameters are the
    fields, in order, and accept positions; a custom metaclass ``__call__`` or ``__new__`` does not.
    """
    construct: Any = record  # its class methods, compared as plain objects
    if type(construct).__call__ is not type.__call__ or construct.__new__ is not object.__new__:
        return False
    try:
        parameters = list(inspect.signature(construct.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return False
    leading = parameters[: len(names)]
    return tuple(p.name for p in leading) == names and all(p.kind is p.POSITIONAL_OR_KEYWORD for p in leading)


def _only_sets_fields(record: type, names: tuple[str, ...]) -> bool:
    """Whether ``record(*values)`` (known to take the fields positionally) just sets each field, in order.

    That is the ``__init__`` ``dataclasses`` generates for a class that is not frozen (a frozen one sets them through
    ``object.__setattr__``), has no ``__post_init__`` and no ``InitVar``: ``self.name = name`` per field, nothing
    else. A generated plan then does the same assignments itself after ``object.__new__``, without the call, which
    is a third of the cost of building a small instance. An ``__init__`` written by hand, or compiled from a file,
    does not qualify (``dataclasses`` compiles its methods from text, whose file name is ``<string>``).
    """
    params = getattr(record, "__dataclass_params__", None)
    init: Any = getattr(record, "__init__", None)
    code = getattr(init, "__code__", None)
    if params is None or not params.init or params.frozen or hasattr(record, "__post_init__") or code is None:
        return False
    return (
        code.co_filename == "<string>"
        and code.co_argcount == len(names) + 1
        and code.co_kwonlyargcount == 0
        and code.co_varnames[1 : len(names) + 1] == names
        and all(name.isidentifier() and not keyword.iskeyword(name) for name in names)
    )


def _fast_form(python_type: Any) -> tuple[type, Builder] | None:
    """See :attr:`_Field.fast` (``Optional[X]`` has the fast form of ``X``: ``None`` passes as it is)."""
    if typing.get_origin(python_type) in _UNION_ORIGINS:
        args = [arg for arg in typing.get_args(python_type) if arg is not _NoneType]
        python_type = args[0] if len(args) == 1 else None
    if not _is_class(python_type) or dataclasses.is_dataclass(python_type) or is_model_type(python_type):
        return None
    if issubclass(python_type, enum.Enum):
        kinds = {type(member.value) for member in python_type}
        if len(kinds) != 1 or not kinds <= {str, int}:
            return None
        return kinds.pop(), python_type._value2member_map_.__getitem__
    source, convert = _scalar_source(python_type)
    return None if source is _Never else (source, convert)


def _list_items(python_type: Any) -> frozenset[type] | None:
    """See :attr:`_Field.items`."""
    if typing.get_origin(python_type) is not list:
        return None
    passthrough, convert = _position(_sequence_arg(python_type))
    return passthrough if convert is not None and passthrough else None


def _map_entries(python_type: Any) -> tuple[frozenset[type], frozenset[type]] | None:
    """See :attr:`_Field.entries`."""
    args = typing.get_args(python_type)
    if typing.get_origin(python_type) is not dict or len(args) != 2:
        return None
    (keys, convert_key), (values, convert_value) = _position(args[0]), _position(args[1])
    if convert_key is None or convert_value is None or not keys or not values:
        return None
    return keys, values


def _dataclass_plan(cls: type) -> Builder:
    """Build the dataclass ``cls`` from a map of its fields (an instance of ``cls`` passes as it is)."""
    fields = _Fields.of(cls)
    names = frozenset(fields.names)

    def build_dataclass(data: Any) -> Any:
        if isinstance(data, cls):
            return data
        if type(data) is not dict and not isinstance(data, Mapping):
            raise Mismatch(cls.__name__, data)
        if not names.issuperset(data):
            unknown = sorted(str(key) for key in data if key not in names)
            raise Mismatch(cls.__name__, data, f"unknown field(s) {', '.join(unknown)}")
        try:
            return cls(**_field_values(data, fields))
        except _MISFITS as error:
            raise Mismatch(cls.__name__, data, str(error)) from None

    if fields.positional and fields.names:
        return _fast_dataclass_plan(cls, fields, build_dataclass)
    return build_dataclass


def _field_values(data: Mapping[str, Any], fields: _Fields) -> dict[str, Any]:
    """The keyword arguments of ``__init__``: the fields the map holds, converted, minus the non-init ones."""
    values = dict(data.items())
    for field in fields.converted:
        name = field.name
        if name in values and type(values[name]) not in field.passthrough:
            try:
                values[name] = field.convert(values[name])
            except Mismatch as error:
                raise error.at(f".{name}") from None
    if len(fields.init) == len(fields.names):
        return values
    return {name: value for name, value in values.items() if name in fields.init}


def _fast_dataclass_plan(cls: type, fields: _Fields, general: Builder) -> Builder:
    """A dict holding exactly the fields (what msgpack gives back) as straight-line code; anything else: ``general``.

    The code is generated, as ``dataclasses`` does for ``__init__``: per field a type test and, when needed, a
    conversion, then ``cls(v0, v1, ...)``, or, when that call would only set the fields (:func:`_only_sets_fields`),
    the same assignments after ``object.__new__(cls)``. The only text from the class is its field names, as in the
    ``__init__`` ``dataclasses`` generates; converters and types are looked up in its namespace. It returns and
    raises what ``general`` does.
    """
    count = len(fields.names)
    variables = ", ".join(f"v{index}" for index in range(count))
    namespace: dict[str, Any] = {"cls": cls, "names": frozenset(fields.names)}
    namespace.update(general=general, Mismatch=Mismatch, MISFITS=_MISFITS, cls_name=cls.__name__)
    namespace["convert_at"] = _convert_at
    # Each name as a string literal (repr), so any field name reads safely.
    body = [f"{variables}, = {', '.join(f'data[{name!r}]' for name in fields.names)},"]
    for field in fields.converted:
        body += _field_code(field, namespace)
    lines = [
        "def build_dataclass(data):",
        "    if type(data) is not dict or data.keys() != names:",
        "        return general(data)",
        "    try:",
        *_indented(body + _construction(cls, fields.names, namespace), 2),
        "    except MISFITS as error:",
        "        raise Mismatch(cls_name, data, str(error)) from None",
    ]
    exec("\n".join(lines), namespace)
    return namespace["build_dataclass"]  # type: ignore[no-any-return]


def _construction(cls: type, names: tuple[str, ...], namespace: dict[str, Any]) -> list[str]:
    """The statements making the instance of a generated plan from the converted values ``v0, v1...``."""
    if not _only_sets_fields(cls, names):
        return [f"return cls({', '.join(f'v{index}' for index in range(len(names)))})"]
    namespace["new"] = object.__new__
    return ["record = new(cls)", *(f"record.{name} = v{index}" for index, name in enumerate(names)), "return record"]


def _field_code(field: _Field, namespace: dict[str, Any]) -> list[str]:
    """The statements converting one field's value ``v<index>`` in a generated plan."""
    i, v = field.index, f"v{field.index}"
    namespace.update({f"c{i}": field.convert, f"p{i}": field.passthrough, f"n{i}": f".{field.name}"})
    convert = f"c{i}({v})"
    if field.fast is not None:
        namespace[f"s{i}"], namespace[f"f{i}"] = field.fast
        convert = f"f{i}({v}) if type({v}) is s{i} else {convert}"
    call = [f"try: {v} = {convert}", f"except Mismatch as error: raise error.at(n{i}) from None"]
    if field.fast is not None:
        # A value the C conversion refuses goes through the converter, which raises the full error.
        call.append(f"except MISFITS: {v} = convert_at(c{i}, {v}, n{i})")
    if field.items is not None:
        namespace[f"q{i}"] = field.items
        return [f"if type({v}) is list and q{i}.issuperset(map(type, {v})): {v} = list({v})", "else:", *_indented(call)]
    if field.entries is not None:
        namespace[f"k{i}"], namespace[f"e{i}"] = field.entries
        same = f"type({v}) is dict and k{i}.issuperset(map(type, {v})) and e{i}.issuperset(map(type, {v}.values()))"
        return [f"if {same}: {v} = {v}.copy()", "else:", *_indented(call)]
    return [f"if type({v}) not in p{i}:", *_indented(call)] if field.passthrough else call


def _convert_at(convert: Builder, value: Any, location: str) -> Any:
    try:
        return convert(value)
    except Mismatch as error:
        raise error.at(location) from None


def _indented(lines: list[str], levels: int = 1) -> list[str]:
    return [" " * 4 * levels + line for line in lines]


def _constructor_plan(cls: type, construct: Builder) -> Builder:
    """Build a pydantic model with ``cls.model_validate(data)`` (an instance of ``cls`` passes as it is)."""

    def build_instance(data: Any) -> Any:
        if isinstance(data, cls):
            return data
        try:
            return construct(data)
        except _MISFITS as error:
            raise Mismatch(cls.__name__, data, str(error)) from None

    return build_instance


def _enum_plan(cls: type[enum.Enum]) -> Builder:
    """An enum member from its value: straight from the value map when the value is there, else ``cls(value)``."""
    members: dict[Any, Any] = getattr(cls, "_value2member_map_", {})
    construct = _constructor_plan(cls, cls)

    def build_member(data: Any) -> Any:
        if type(data) is str or type(data) is int:
            member = members.get(data)
            if member is not None:
                return member
        return construct(data)

    return build_member


def _scalar_plan(cls: type) -> Builder:
    """Any other class: values of it pass as they are; a few simple forms are converted (ISO strings, seconds...)."""
    # bool is an int and datetime a date, but neither should pass for the other unchanged.
    narrower: tuple[type, ...] = (bool,) if cls is int else (datetime.datetime,) if cls is datetime.date else ()
    source, convert = _scalar_source(cls)
    name = type_name(cls)

    def build_scalar(data: Any) -> Any:
        if type(data) is source:  # the form a decoded tree holds, e.g. the ISO string of a datetime
            try:
                return convert(data)
            except _MISFITS as error:
                raise Mismatch(name, data, str(error)) from None
        if isinstance(data, cls) and not isinstance(data, narrower):
            return data
        return _convert_scalar(cls, data, name)

    return build_scalar


def _scalar_source(cls: type) -> tuple[type, Builder]:
    """The usual decoded form of a ``cls`` value (an exact type) and how it becomes one."""
    if cls is float:
        return int, float
    if cls is datetime.timedelta:
        return float, functools.partial(datetime.timedelta, 0)  # timedelta(days=0, seconds=data), all in C
    if cls in _ISO_TYPES:
        return str, cls.fromisoformat
    if cls in (uuid.UUID, decimal.Decimal):
        return str, cls
    return _Never, cls


class _Never:
    """A type no value has."""


def _convert_scalar(cls: Any, data: Any, name: str) -> Any:
    """Any other value that may become a ``cls`` (raises :class:`Mismatch` when it cannot)."""
    try:
        if cls is float and type(data) is int:
            return float(data)
        if cls is datetime.date and isinstance(data, datetime.datetime):
            return data.date()
        if cls in _ISO_TYPES and isinstance(data, str):
            return cls.fromisoformat(data)
        if cls is datetime.timedelta and isinstance(data, (int, float)) and not isinstance(data, bool):
            return _seconds(data)
        if (cls in (uuid.UUID, decimal.Decimal) or issubclass(cls, os.PathLike)) and isinstance(data, str):
            return cls(data)
    except _MISFITS as error:
        raise Mismatch(name, data, str(error)) from None
    raise Mismatch(name, data)


def _seconds(data: Any) -> datetime.timedelta:
    return datetime.timedelta(seconds=data)
