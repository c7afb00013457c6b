"""Filters, sorting and pages of the List RPCs (``flyteidl2.common.ListRequest``), over plain field values."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from flyteidl2.common import list_pb2

from flyte_admin_sandbox.v2.errors import invalid

T = TypeVar("T")

Fields = Mapping[str, str]
"""An item's filterable fields as strings (``name``, ``phase``...)."""

_F = list_pb2.Filter
_TESTS: dict[int, Callable[[str, list[str]], bool]] = {
    _F.EQUAL: lambda value, values: value == values[0],
    _F.NOT_EQUAL: lambda value, values: value != values[0],
    _F.CONTAINS: lambda value, values: values[0] in value,
    _F.CONTAINS_CASE_INSENSITIVE: lambda value, values: values[0].lower() in value.lower(),
    _F.VALUE_IN: lambda value, values: value in values,
    _F.VALUE_NOT_IN: lambda value, values: value not in values,
    _F.ENDS_WITH: lambda value, values: value.endswith(values[0]),
    _F.NOT_ENDS_WITH: lambda value, values: not value.endswith(values[0]),
}

DEFAULT_LIMIT = 100


def _matches(fields: Fields, filters: Sequence[list_pb2.Filter]) -> bool:
    for item in filters:
        if item.field not in fields:
            raise invalid("request.filters.field", item.field, f"can filter on {sorted(fields)} only")
        test = _TESTS.get(item.function)
        if test is None:
            name = list_pb2.Filter.Function.Name(item.function)
            raise invalid("request.filters.function", name, "not supported by the sandbox")
        if not item.values:
            raise invalid("request.filters.values", item.field, "no value to compare with")
        if not test(fields[item.field], list(item.values)):
            return False
    return True


def select(items: Sequence[T], fields: Callable[[T], Fields], request: list_pb2.ListRequest) -> tuple[list[T], str]:
    """The page of ``items`` a list request asks for, and the token of the next page (``""`` at the end).

    ``items`` come newest first; an ascending ``sort_by`` (on any key) reverses them.

    Raises:
        ServiceError: ``INVALID_ARGUMENT`` for an unknown filter field or function, or a bad token.
    """
    chosen = [item for item in items if _matches(fields(item), request.filters)]
    if request.HasField("sort_by") and request.sort_by.direction == list_pb2.Sort.ASCENDING:
        chosen.reverse()
    try:
        offset = int(request.token) if request.token else 0
    except ValueError:
        raise invalid("request.token", request.token, "not a token this server handed out") from None
    limit = request.limit or DEFAULT_LIMIT
    page = chosen[offset : offset + limit]
    token = str(offset + limit) if offset + limit < len(chosen) else ""
    return page, token
