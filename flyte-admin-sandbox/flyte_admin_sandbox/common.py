"""Checks and conversions the Admin services share: identifiers, projects, digests, diffs, list plumbing."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from flyteidl.admin import common_pb2
from flyteidl.core import identifier_pb2
from google.protobuf import json_format
from google.protobuf.message import Message

from flyte_admin_sandbox.errors import AdminError, invalid, missing_argument, prototext
from flyte_admin_sandbox.filters import Model, Query, check_limit, next_token, offset_from_token
from flyte_admin_sandbox.store import Store

DEFAULT_DOMAINS = ("development", "staging", "production")
PROJECT_ACTIVE = 0

T = TypeVar("T")


def validate_identifier(identifier: identifier_pb2.Identifier | None, expected: identifier_pb2.ResourceType) -> None:
    """Flyte Admin's ``ValidateIdentifier``: type, then project, domain, name and version present.

    Raises:
        AdminError: ``missing id``, ``unexpected resource type ...``, ``missing project`` ... ``missing version``.
    """
    if identifier is None:
        raise missing_argument("id")
    if identifier.resource_type != expected:
        actual = identifier_pb2.ResourceType.Name(identifier.resource_type).lower()
        wanted = identifier_pb2.ResourceType.Name(expected).lower()
        raise invalid(
            f"unexpected resource type {actual} for identifier [{prototext(identifier)}], expected {wanted} instead"
        )
    for field in ("project", "domain", "name", "version"):
        if not getattr(identifier, field):
            raise missing_argument(field)


def require(value: str, field: str) -> None:
    """Raise ``missing <field>`` when a string field is empty."""
    if not value:
        raise missing_argument(field)


def require_named(identifier: common_pb2.NamedEntityIdentifier | identifier_pb2.WorkflowExecutionIdentifier) -> None:
    """Project, domain and name present (``missing project`` ...)."""
    for field in ("project", "domain", "name"):
        require(getattr(identifier, field), field)


def digest(message: Message) -> str:
    """A stable digest of a message's content (the stand-in for Flyte's ``pbhash``)."""
    return hashlib.sha256(message.SerializeToString(deterministic=True)).hexdigest()


def _flatten(value: Any, pointer: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key in sorted(value):
            _flatten(value[key], f"{pointer}/{key}", out)
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            _flatten(item, f"{pointer}/{index}", out)
    else:
        out[pointer or "/"] = value


def diff(old: Message, new: Message) -> str:
    r"""The changed JSON pointers between two messages, in Flyte Admin's ``<pointer>:\\n\\t- old \\n\\t+ new`` lines."""
    old_flat: dict[str, Any] = {}
    new_flat: dict[str, Any] = {}
    _flatten(json_format.MessageToDict(old), "", old_flat)
    _flatten(json_format.MessageToDict(new), "", new_flat)
    lines = []
    for pointer in sorted(set(old_flat) | set(new_flat)):
        before, after = old_flat.get(pointer), new_flat.get(pointer)
        if before != after:
            shown_before = "" if pointer not in old_flat else json.dumps(before)
            shown_after = "" if pointer not in new_flat else json.dumps(after)
            lines.append(f"{pointer}:\n\t- {shown_before} \n\t+ {shown_after} ")
    return "\n".join(lines)[: 3 * 1024 * 1024]


def list_page(
    store: Store,
    query: Query,
    *,
    limit: int,
    token: str,
    rpc: str,
    sort_by: common_pb2.Sort | None,
    filters: str = "",
    convert: Callable[[sqlite3.Row], T],
    check: bool = True,
    tiebreak: str = "id",
) -> tuple[list[T], str]:
    """Run a List RPC: validate token and limit, apply filters and sort, convert one page.

    Returns:
        The converted rows and the next-page token.
    """
    offset = offset_from_token(token, rpc)
    if check:
        check_limit(limit)
    query.apply_filters(filters)
    if sort_by is not None and sort_by.key:
        query.sort(sort_by.key, sort_by.direction)
    rows = store.page(query, limit, offset, tiebreak=tiebreak)
    return [convert(row) for row in rows], next_token(offset, len(rows), limit)


def sort_of(request: Any) -> common_pb2.Sort | None:
    """The request's ``sort_by`` when set."""
    return request.sort_by if request.HasField("sort_by") else None


def where_query(model: Model, **equals: Any) -> Query:
    """A query with equality conditions for non-empty values."""
    query = Query(model)
    for column, value in equals.items():
        if value not in ("", None):
            query.equals(column, value)
    return query


def require_all(values: Sequence[tuple[str, str]]) -> None:
    """Raise ``missing <field>`` for the first empty value."""
    for field, value in values:
        require(value, field)


__all__ = [
    "DEFAULT_DOMAINS",
    "PROJECT_ACTIVE",
    "AdminError",
    "diff",
    "digest",
    "list_page",
    "require",
    "require_all",
    "require_named",
    "sort_of",
    "validate_identifier",
    "where_query",
]
