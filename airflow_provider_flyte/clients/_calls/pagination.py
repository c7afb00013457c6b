"""Pagination: page sizes and order, the ``(items, next_token)`` page, its parser and the token check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeAlias

from airflow_provider_flyte import identifiers
from airflow_provider_flyte.clients._calls.core import ItemT
from airflow_provider_flyte.clients.filters import Sort, SortDirection
from airflow_provider_flyte.exceptions import FlyteSystemException

DEFAULT_PAGE_SIZE = 100
"""flytekit's default ``limit`` for every paginated method."""

DEFAULT_ITERATION_SORT: Final = Sort("created_at", SortDirection.ASCENDING)
"""Order of the ``iter_*`` helpers: offset pagination needs a stable order, and oldest first is flytekit's choice."""

Page = tuple[list[ItemT], str]
"""One page of a List RPC: the items and the token of the next page (``""`` after the last one)."""

ListPage: TypeAlias = Callable[..., Page[ItemT]]
"""A paginated method of the synchronous client, e.g. ``client.list_executions_paginated``."""
AsyncListPage: TypeAlias = Callable[..., Awaitable[Page[ItemT]]]
"""A paginated method of the asyncio client (a coroutine function returning a :data:`Page`)."""


def next_page_token(method: str, sent: str, received: str) -> str:
    """Check the token a List RPC returned before following it.

    Args:
        method: The friendly list method, named in the error.
        sent: The token of the page just read.
        received: The token the server returned for the next page.

    Returns:
        ``received`` (``""`` when there are no more pages).

    Raises:
        FlyteSystemException: when the server returned the token it was sent, which would loop forever.
    """
    if received and received == sent:
        raise FlyteSystemException(f"{method} returned the same page token {received!r} again; stopping pagination")
    return received


def _page(field: str, resource_type: identifiers.ResourceType | None = None) -> Callable[[Any], Page[Any]]:
    """Parse a list response into ``(items, next_token)``.

    With ``resource_type``, items whose ``id.resource_type`` the server left unset get it filled in, so the ids can
    be passed straight back to Get and Create RPCs (older Admin versions leave it unset in List responses).
    """

    def parse(response: Any) -> Page[Any]:
        items = list(getattr(response, field))
        if resource_type is not None:
            for item in items:
                if item.id.resource_type == identifiers.ResourceType.UNSPECIFIED:
                    item.id.resource_type = int(resource_type)
        return items, str(response.token)

    return parse
