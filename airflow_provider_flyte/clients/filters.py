"""Filters and sort orders for Flyte Admin's List RPCs, written in Admin's filter grammar.

Admin takes filters as one string: expressions ``function(field,value)`` joined by ``+`` (a logical AND), where a
set value lists its members separated by ``;``, e.g. ``eq(phase,RUNNING)+value_in(execution.name,a;b)``. Admin
matches each expression with a greedy regular expression that has no escapes, so a ``,`` ``;`` ``+`` or parenthesis
inside a key or a value would silently change its meaning; the classes here refuse such values instead of sending
them. For the same reason they refuse values that the grammar would alter: leading or trailing whitespace (the
expression pattern eats one blank after the comma), line breaks and other control characters (the pattern's ``.``
stops at a newline), and non-finite floats (``inf``, ``nan``: no field compares with them).

Class names follow flytekit's ``flytekit.models.filters`` (``Equal``, ``ValueIn``, ``FilterList``...) and its
``Sort``, so code written for flytekit reads the same. This module imports no protobuf code at import time: DAG files
may build filters when they are parsed.

Example:
    >>> str(Equal("phase", "RUNNING") + ValueIn("execution.name", ["a", "b"]))
    'eq(phase,RUNNING)+value_in(execution.name,a;b)'
"""

from __future__ import annotations

import datetime
import enum
import math
import re
import reprlib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from airflow_provider_flyte.exceptions import FlyteInvalidInputException

if TYPE_CHECKING:
    from flyteidl.admin import common_pb2

ScalarValue: TypeAlias = str | int | float | bool | datetime.datetime | enum.Enum
"""What a filter compares a field with. Enums are sent by name, as Admin stores phases by name."""

_KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
# Characters that end or split an expression in Admin's grammar; they cannot appear inside a key or a value.
_RESERVED = frozenset(",;+()")
# Unicode categories a value cannot carry through Admin's expression pattern (or at all, for lone surrogates):
# control characters (the pattern's ``.`` stops at a newline), line and paragraph separators, surrogates.
_UNCARRIED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_EXPRESSION = re.compile(r"^\s*([a-z_]+)\((.+?),\s?(.+)\)\s*$")


def format_value(value: ScalarValue, key: str = "value") -> str:
    """Return ``value`` as Admin's filter grammar writes it.

    Booleans become ``true``/``false``, enums their member name (``RUNNING``), datetimes an RFC 3339 UTC time with a
    ``Z`` suffix (a naive datetime is taken as UTC; a ``+01:00`` offset would read as an expression separator), floats
    their shortest repr without a ``+`` in the exponent (``1e+16`` would split the expression; ``1e16`` is the same
    number to Admin).

    Args:
        value: The value to format.
        key: The filter key, named in the error.

    Raises:
        FlyteInvalidInputException: when the value is of another type, empty, a non-finite float, or holds a
            character the grammar reserves or cannot carry (see the module docstring).
    """
    text = _value_text(value, key)
    if not text.strip():
        raise FlyteInvalidInputException(f"filter value {text!r} for {key!r} is empty")
    reserved = sorted(_RESERVED.intersection(text))
    if reserved:
        raise FlyteInvalidInputException(
            f"filter value {text!r} for {key!r} contains {' '.join(reserved)}, which Admin's filter grammar reserves"
        )
    _check_carried(text, key)
    return text


def _value_text(value: Any, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, datetime.datetime):
        return _datetime_text(value, key)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FlyteInvalidInputException(
                f"filter value {value!r} for {key!r} is not a finite number; Admin compares no field with it"
            )
        return repr(float(value)).replace("e+", "e")
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        try:
            return str(int(value))
        except ValueError:  # more digits than Python's int-to-str limit
            raise FlyteInvalidInputException(f"filter value for {key!r} is an int too large to write") from None
    raise FlyteInvalidInputException(
        f"filter value for {key!r} must be a str, int, float, bool, datetime or enum, "
        f"got {type(value).__name__} {value!r}"
    )


def _datetime_text(value: datetime.datetime, key: str) -> str:
    try:
        moment = value if value.tzinfo is None else value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    except OverflowError:
        raise FlyteInvalidInputException(
            f"filter value {value.isoformat()!r} for {key!r} is outside the range of UTC datetimes"
        ) from None
    return moment.isoformat() + "Z"


def _check_carried(text: str, key: str) -> None:
    """Refuse text that Admin's expression pattern would alter: edge whitespace, control characters."""
    if text != text.strip():
        raise FlyteInvalidInputException(
            f"filter value {text!r} for {key!r} starts or ends with whitespace, which Admin's filter grammar drops"
        )
    for character in text:
        if unicodedata.category(character) in _UNCARRIED_CATEGORIES:
            raise FlyteInvalidInputException(
                f"filter value {text!r} for {key!r} contains {character!r} (U+{ord(character):04X}), a line break, "
                "control character or surrogate, which Admin's filter grammar cannot carry"
            )


def _check_key(key: Any) -> str:
    if not isinstance(key, str) or not _KEY_PATTERN.fullmatch(key):
        raise FlyteInvalidInputException(
            f"filter key {key!r} must be a field name such as 'phase' or 'execution.created_at'"
        )
    return key


class Filter:
    """One comparison ``function(key,value)``. Use a subclass: :class:`Equal`, :class:`ValueIn`...

    Filters combine with ``+`` into a :class:`FilterList`; ``str()`` gives the Admin expression.

    Attributes:
        key: The field compared, optionally prefixed by its entity (``execution.phase``).
        value: The formatted value (set filters join their members with ``;``).
    """

    function: ClassVar[str] = ""

    def __init__(self, key: str, value: ScalarValue) -> None:
        """Build ``function(key,value)``.

        Args:
            key: The field compared.
            value: The value compared with (see :func:`format_value`).

        Raises:
            FlyteInvalidInputException: for a malformed key or value, or when instantiated as ``Filter`` itself.
        """
        if not self.function:
            raise FlyteInvalidInputException("Filter is abstract; use Equal, NotEqual, ValueIn, ... or Filter.parse")
        self.key = _check_key(key)
        self.value = self._format(value)

    def _format(self, value: Any) -> str:
        return format_value(value, self.key)

    def to_flyte_idl(self) -> str:
        """Return the Admin expression, e.g. ``eq(phase,RUNNING)`` (the name flytekit's models use)."""
        return f"{self.function}({self.key},{self.value})"

    def __str__(self) -> str:
        return self.to_flyte_idl()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key!r}, {self.value!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Filter):
            return NotImplemented
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __add__(self, other: Filter | FilterList) -> FilterList:
        return FilterList([self]) + other

    @classmethod
    def parse(cls, text: str) -> Filter:
        """Parse one expression such as ``eq(phase,RUNNING)`` or ``value_in(name,a;b)``.

        Raises:
            FlyteInvalidInputException: naming the text when it is not a known ``function(key,value)``.
        """
        match = _EXPRESSION.match(text) if isinstance(text, str) else None
        if match is None:
            raise FlyteInvalidInputException(f"filter {text!r} is not of the form function(key,value)")
        function, key, value = match.groups()
        filter_class = _BY_FUNCTION.get(function)
        if filter_class is None:
            known = ", ".join(sorted(_BY_FUNCTION))
            raise FlyteInvalidInputException(f"filter {text!r} uses unknown function {function!r}; use one of {known}")
        if issubclass(filter_class, SetFilter):
            return filter_class(key, value.split(";"))
        return filter_class(key, value)

    from_python_std = parse


class Equal(Filter):
    """``eq(key,value)``: the field equals the value."""

    function = "eq"


class NotEqual(Filter):
    """``ne(key,value)``: the field differs from the value."""

    function = "ne"


class GreaterThan(Filter):
    """``gt(key,value)``."""

    function = "gt"


class GreaterThanOrEqual(Filter):
    """``gte(key,value)``."""

    function = "gte"


class LessThan(Filter):
    """``lt(key,value)``."""

    function = "lt"


class LessThanOrEqual(Filter):
    """``lte(key,value)``."""

    function = "lte"


class Contains(Filter):
    """``contains(key,value)``: the field contains the text (SQL ``LIKE '%value%'``)."""

    function = "contains"


class NotLike(Filter):
    """``not_like(key,pattern)``: the field does not match the SQL ``LIKE`` pattern (``%`` and ``_`` wildcards)."""

    function = "not_like"


class SetFilter(Filter):
    """A filter whose value is a set of members, sent joined with ``;``."""

    def __init__(self, key: str, values: Iterable[ScalarValue]) -> None:
        """Build ``function(key,a;b;...)``.

        Args:
            key: The field compared.
            values: The members (at least one); a single string counts as one member.

        Raises:
            FlyteInvalidInputException: when there are no members or one is malformed.
        """
        super().__init__(key, values)  # type: ignore[arg-type]

    def _format(self, value: Any) -> str:
        members = [value] if isinstance(value, str) else list(value) if isinstance(value, Iterable) else [value]
        if not members:
            raise FlyteInvalidInputException(f"{type(self).__name__} filter on {self.key!r} needs at least one value")
        return ";".join(format_value(member, self.key) for member in members)

    @property
    def values(self) -> list[str]:
        """The formatted members."""
        return self.value.split(";")


class ValueIn(SetFilter):
    """``value_in(key,a;b)``: the field equals one of the values."""

    function = "value_in"


class ValueNotIn(SetFilter):
    """``value_not_in(key,a;b)``: the field equals none of the values."""

    function = "value_not_in"


_BY_FUNCTION: dict[str, type[Filter]] = {
    cls.function: cls
    for cls in (
        Equal,
        NotEqual,
        GreaterThan,
        GreaterThanOrEqual,
        LessThan,
        LessThanOrEqual,
        Contains,
        NotLike,
        ValueIn,
        ValueNotIn,
    )
}


@dataclass(frozen=True)
class FilterList:
    """Filters combined with AND, sent as their expressions joined by ``+``.

    Attributes:
        filters: The filters, in order.
    """

    filters: tuple[Filter, ...] = ()

    def __init__(self, filters: Iterable[Filter] = ()) -> None:
        """Combine ``filters`` (each a :class:`Filter`).

        Raises:
            FlyteInvalidInputException: when an item is not a Filter.
        """
        items = tuple(filters)
        for item in items:
            if not isinstance(item, Filter):
                raise FlyteInvalidInputException(f"FilterList takes Filter objects, got {type(item).__name__} {item!r}")
        object.__setattr__(self, "filters", items)

    def __add__(self, other: Filter | FilterList) -> FilterList:
        if isinstance(other, Filter):
            return FilterList((*self.filters, other))
        if isinstance(other, FilterList):
            return FilterList((*self.filters, *other.filters))
        return NotImplemented

    def __iter__(self) -> Any:
        return iter(self.filters)

    def __len__(self) -> int:
        return len(self.filters)

    def to_flyte_idl(self) -> str:
        """Return the Admin filter string (empty for no filters)."""
        return "+".join(str(item) for item in self.filters)

    def __str__(self) -> str:
        return self.to_flyte_idl()

    @classmethod
    def parse(cls, text: str) -> FilterList:
        """Parse a ``+``-joined filter string such as ``eq(phase,RUNNING)+gt(duration,60)``.

        Raises:
            FlyteInvalidInputException: naming the malformed expression.
        """
        if not isinstance(text, str):
            raise FlyteInvalidInputException(f"filters must be a string, got {type(text).__name__} {text!r}")
        return cls(Filter.parse(part) for part in text.split("+") if part.strip())

    from_python_std = parse


FilterSpec: TypeAlias = str | Filter | FilterList | Iterable[str | Filter] | None
"""What list methods accept as ``filters``: a ready Admin string, a filter, a list of filters or strings, or None."""


def format_filters(filters: FilterSpec, argument: str = "filters") -> str:
    """Return the Admin filter string for ``filters`` (``""`` for none).

    A string is passed through as written (stripped), so callers can use any expression Admin understands;
    filter objects (ours, or flytekit's, which format themselves with ``to_flyte_idl()``) are formatted and iterables
    joined with ``+``.

    Args:
        filters: See :data:`FilterSpec`.
        argument: The argument name used in errors.

    Raises:
        FlyteInvalidInputException: naming ``argument`` and the value when it, or an item of it, is neither a string
            nor a filter (bytes and mappings included: their items are not filters).
    """
    if filters is None:
        return ""
    text = _filter_text(filters)
    if text is not None:
        return text
    if not isinstance(filters, Iterable) or isinstance(filters, (bytes, bytearray, memoryview, Mapping)):
        raise FlyteInvalidInputException(
            f"{argument} must be a filter string, a Filter or a list of them, "
            f"got {type(filters).__name__} {reprlib.repr(filters)}"
        )
    parts: list[str] = []
    for item in filters:
        text = _filter_text(item)
        if text is None:
            raise FlyteInvalidInputException(
                f"{argument} items must be filter strings or Filter objects, got {type(item).__name__} {item!r} "
                f"in {argument}={reprlib.repr(filters)}"
            )
        if text:
            parts.append(text)
    return "+".join(parts)


def _filter_text(item: Any) -> str | None:
    """The Admin text of one filter string or filter object (stripped), or ``None`` when ``item`` is neither."""
    if isinstance(item, str):
        return item.strip()
    if isinstance(item, (Filter, FilterList)):
        return str(item)
    to_flyte_idl = getattr(item, "to_flyte_idl", None)
    if callable(to_flyte_idl):
        text = to_flyte_idl()
        if isinstance(text, str):
            return text.strip()
    return None


class SortDirection(enum.IntEnum):
    """Sort direction; values match ``flyteidl.admin.Sort.Direction`` (Admin's default is DESCENDING)."""

    DESCENDING = 0
    ASCENDING = 1


@dataclass(frozen=True)
class Sort:
    """A sort order for List RPCs: a column and a direction.

    Attributes:
        key: The column, e.g. ``created_at``.
        direction: :class:`SortDirection` (``Sort.Direction`` as in flytekit).
    """

    Direction: ClassVar[type[SortDirection]] = SortDirection

    key: str
    direction: SortDirection = SortDirection.DESCENDING

    def __post_init__(self) -> None:
        _check_key(self.key)
        try:
            direction = SortDirection(self.direction)
        except ValueError:
            raise FlyteInvalidInputException(
                f"sort direction {self.direction!r} for {self.key!r} must be Sort.Direction.ASCENDING or DESCENDING"
            ) from None
        object.__setattr__(self, "direction", direction)

    @classmethod
    def ascending(cls, key: str) -> Sort:
        """Sort by ``key``, smallest first."""
        return cls(key, SortDirection.ASCENDING)

    @classmethod
    def descending(cls, key: str) -> Sort:
        """Sort by ``key``, largest (newest) first."""
        return cls(key, SortDirection.DESCENDING)

    @classmethod
    def parse(cls, text: str) -> Sort:
        """Parse flytekit's CLI form ``asc(key)`` or ``desc(key)``.

        Raises:
            FlyteInvalidInputException: naming the text when it has another form.
        """
        match = re.fullmatch(r"\s*(asc|desc)\(\s*([^()]+?)\s*\)\s*", text) if isinstance(text, str) else None
        if match is None:
            raise FlyteInvalidInputException(f"sort {text!r} must look like 'asc(created_at)' or 'desc(created_at)'")
        direction = SortDirection.ASCENDING if match.group(1) == "asc" else SortDirection.DESCENDING
        return cls(match.group(2), direction)

    from_python_std = parse

    def __str__(self) -> str:
        return f"{'asc' if self.direction is SortDirection.ASCENDING else 'desc'}({self.key})"

    def to_flyte_idl(self) -> common_pb2.Sort:
        """Return the ``flyteidl.admin.Sort`` message."""
        from flyteidl.admin import common_pb2

        return common_pb2.Sort(key=self.key, direction=int(self.direction))  # type: ignore[arg-type]

    @classmethod
    def from_flyte_idl(cls, pb: common_pb2.Sort) -> Sort:
        """Build from a ``flyteidl.admin.Sort`` message."""
        return cls(pb.key, SortDirection(pb.direction))


__all__ = [
    "Contains",
    "Equal",
    "Filter",
    "FilterList",
    "FilterSpec",
    "GreaterThan",
    "GreaterThanOrEqual",
    "LessThan",
    "LessThanOrEqual",
    "NotEqual",
    "NotLike",
    "ScalarValue",
    "SetFilter",
    "Sort",
    "SortDirection",
    "ValueIn",
    "ValueNotIn",
    "format_filters",
    "format_value",
]
