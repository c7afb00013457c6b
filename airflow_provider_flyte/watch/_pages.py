"""The executions one watcher follows, per project/domain, kept in listing pages from one tick to the next.

A tick lists every watched execution with one ``ListExecutions(value_in(execution_name,...))`` per page of at most
:data:`MAX_NAMES_PER_LIST` names. Grouping, sorting and formatting 100,000 names for every tick would cost more than
the listings themselves, so each :class:`Group` keeps its pages between ticks: a new execution takes a free place in a
page, a forgotten one leaves its page, and only a page that changed formats its request again. Each name is checked
against Admin's filter grammar once, when it is first watched. Adding and removing an execution cost O(1); pages left
mostly empty by executions that went away are packed again, at most once per tick.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
from airflow_provider_flyte.watch._snapshots import ExecutionSnapshot, Subscription

MAX_NAMES_PER_LIST = 200
"""Names per ``value_in`` filter: keeps one request's filter string a few kilobytes long."""

FILTER_FUNCTION = "value_in"
FILTER_KEY = "execution_name"


class ListRequest(NamedTuple):
    """One listing call of a page: its filters and the names it asks for.

    The filters are what the backend's listing call takes: a ``value_in`` string for Flyte 1's ``ListExecutions``,
    ``flyteidl2`` ``Filter`` messages for Flyte 2's ``ListRuns``; built once per page and kept between ticks.
    """

    filters: Any
    names: tuple[str, ...]


RequestMaker = Callable[[Iterable[str]], ListRequest]
"""Builds the listing request of some names (a backend's :attr:`~._backends.WatchBackend.list_request`)."""


def list_request(names: Iterable[str]) -> ListRequest:
    """The request for ``names``, already checked by :func:`check_name` (``value_in(execution_name,a;b;...)``)."""
    asked = tuple(names)
    return ListRequest(f"{FILTER_FUNCTION}({FILTER_KEY},{';'.join(asked)})", asked)


def check_name(name: str) -> None:
    """Refuse a name Admin's filter grammar cannot carry (the same check a ``ValueIn`` filter makes).

    Raises:
        FlyteInvalidInputException: naming the name and the character at fault.
    """
    from airflow_provider_flyte.clients.filters import format_value

    format_value(name, FILTER_KEY)


class Watched:
    """One watched execution: its subscriptions, the last snapshot handed to them, and its page."""

    __slots__ = ("execution_id", "latest", "page", "subscriptions")

    def __init__(self, execution_id: WorkflowExecutionIdentifier) -> None:
        self.execution_id = execution_id
        self.subscriptions: list[Subscription] = []  # mostly one: a list weighs less than a set
        self.latest: ExecutionSnapshot | None = None
        self.page: Page | None = None


class Page:
    """Up to :data:`MAX_NAMES_PER_LIST` names listed together, and their request, formatted when first needed."""

    __slots__ = ("_request", "names")

    def __init__(self) -> None:
        self.names: dict[str, None] = {}  # an ordered set
        self._request: ListRequest | None = None

    def add(self, name: str) -> None:
        """Add ``name`` (its request is formatted again when next needed)."""
        self.names[name] = None
        self._request = None

    def discard(self, name: str) -> None:
        """Remove ``name`` (its request is formatted again when next needed)."""
        del self.names[name]
        self._request = None

    def request(self, make: RequestMaker = list_request) -> ListRequest:
        """The page's request (built by ``make``), built again only if the page changed since it was last asked for."""
        if self._request is None:
            self._request = make(self.names)
        return self._request


class Group:
    """The watched executions of one project/domain, by name, and the pages a tick lists them with.

    Args:
        project: The project.
        domain: The domain.
        page_size: Names per page.
        make_request: Builds a page's listing request (default: Flyte 1's ``value_in`` filter string).
    """

    def __init__(
        self, project: str, domain: str, page_size: int = MAX_NAMES_PER_LIST, make_request: RequestMaker = list_request
    ) -> None:
        self.project = project
        self.domain = domain
        self.watched: dict[str, Watched] = {}
        self.unreachable = False  # the last round's calls failed with a transient error
        self._page_size = page_size
        self._make_request = make_request
        self._pages: dict[Page, None] = {}  # ordered sets
        self._roomy: dict[Page, None] = {}  # pages with room for another name

    def __len__(self) -> int:
        return len(self.watched)

    @property
    def pages(self) -> int:
        """Number of pages (one listing call each per tick)."""
        return len(self._pages)

    def add(self, entry: Watched) -> None:
        """Watch ``entry``: it takes a free place in a page, or opens a new page."""
        name = entry.execution_id.name
        self.watched[name] = entry
        self._place(entry)

    def remove(self, name: str) -> Watched | None:
        """Stop watching ``name``; return its entry, if it was watched."""
        entry = self.watched.pop(name, None)
        if entry is None or entry.page is None:
            return entry
        page, entry.page = entry.page, None
        page.discard(name)
        if not page.names:
            del self._pages[page]
            self._roomy.pop(page, None)
        else:
            self._roomy[page] = None
        return entry

    def requests(self) -> list[ListRequest]:
        """One request per page, for a tick; pages mostly left empty are packed again first."""
        if len(self._pages) > 2 * math.ceil(len(self.watched) / self._page_size):
            self._pack()
        return [page.request(self._make_request) for page in self._pages]

    def requests_for(self, names: Iterable[str]) -> list[ListRequest]:
        """Requests for some of the names only (a first look), in pages of their own that are not kept."""
        asked = list(names)
        size, make = self._page_size, self._make_request
        return [make(asked[start : start + size]) for start in range(0, len(asked), size)]

    def subscriptions(self) -> Iterator[Subscription]:
        """Every subscription to an execution of this group."""
        for entry in list(self.watched.values()):
            yield from list(entry.subscriptions)

    def _place(self, entry: Watched) -> None:
        if self._roomy:
            page = next(reversed(self._roomy))
        else:
            page = Page()
            self._pages[page] = None
            self._roomy[page] = None
        page.add(entry.execution_id.name)
        entry.page = page
        if len(page.names) >= self._page_size:
            del self._roomy[page]

    def _pack(self) -> None:
        self._pages.clear()
        self._roomy.clear()
        for entry in self.watched.values():
            self._place(entry)
