"""The call description and the entity cache: what a builder returns and what the clients run it against."""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Generic, Literal, TypeVar

from google.protobuf.message import Message

from airflow_provider_flyte.exceptions import FlyteInvalidInputException

ResultT = TypeVar("ResultT")
ItemT = TypeVar("ItemT")
MessageT = TypeVar("MessageT", bound=Message)

Service = Literal["admin_service", "signal_service", "data_proxy_service"]
"""Attribute of the raw client holding the stub a call goes through."""

ADMIN: Final = "admin_service"
SIGNAL: Final = "signal_service"
DATA_PROXY: Final = "data_proxy_service"

DEFAULT_ENTITY_CACHE_SIZE = 256
"""Versioned tasks, workflows and launch plans each client keeps (they never change once registered)."""


class Missing:
    """Type of :data:`MISSING`, the result of a cache lookup that found nothing."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = Missing()


@dataclass(frozen=True)
class Call(Generic[ResultT]):
    """One unary RPC ready to run: where it goes, what it sends, how its response becomes the result.

    Attributes:
        service: The raw client's stub attribute.
        method: The RPC name on that stub (``"GetExecution"``).
        request: The request message.
        parse: Turns the response message into what the friendly method returns.
        cache_key: Set for reads of immutable entities (versioned tasks, workflows, launch plans): the result is
            kept in the client's :class:`EntityCache` under this key.
        evicts: Set for writes that change cached entities: once the call succeeds, every cache entry whose key
            starts with this prefix is dropped.
    """

    service: Service
    method: str
    request: Message
    parse: Callable[[Any], ResultT]
    cache_key: tuple[str, ...] | None = None
    evicts: tuple[str, ...] | None = None

    def lookup(self, cache: EntityCache) -> ResultT | Missing:
        """Return the cached result for this call, or :data:`MISSING` when it is not cacheable or not cached."""
        if self.cache_key is None:
            return MISSING
        return cache.get(self.cache_key)  # type: ignore[return-value]  # keyed per RPC, so the type is the call's

    def finish(self, response: Any, cache: EntityCache) -> ResultT:
        """Parse ``response`` into the result, remembering it when the call is cacheable."""
        result = self.parse(response)
        if self.cache_key is not None and isinstance(result, Message):
            cache.put(self.cache_key, result)
        if self.evicts is not None:
            cache.discard(self.evicts)
        return result


class EntityCache:
    """A bounded, thread-safe LRU of immutable entity messages, one per client instance.

    Values are copied in and out, so a caller editing a returned message cannot change what later callers get.
    """

    def __init__(self, maxsize: int = DEFAULT_ENTITY_CACHE_SIZE) -> None:
        """Create an empty cache.

        Args:
            maxsize: Entries kept; the least recently used goes first. ``0`` disables caching.

        Raises:
            FlyteInvalidInputException: when ``maxsize`` is negative or not an integer.
        """
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 0:
            raise FlyteInvalidInputException(f"entity_cache_size={maxsize!r} must be a non-negative integer")
        self.maxsize = maxsize
        self._entries: collections.OrderedDict[tuple[str, ...], Message] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> Message | Missing:
        """Return a copy of the entry under ``key``, or :data:`MISSING`."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return MISSING
            self._entries.move_to_end(key)
        return _copy(entry)

    def put(self, key: tuple[str, ...], value: Message) -> None:
        """Store a copy of ``value`` under ``key``, evicting the least recently used entry when full."""
        if self.maxsize == 0:
            return
        stored = _copy(value)
        with self._lock:
            self._entries[key] = stored
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def discard(self, prefix: tuple[str, ...]) -> None:
        """Forget every entry whose key starts with ``prefix``."""
        size = len(prefix)
        with self._lock:
            for key in [key for key in self._entries if key[:size] == prefix]:
                del self._entries[key]

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _copy(message: MessageT) -> MessageT:
    duplicate = type(message)()
    duplicate.CopyFrom(message)
    return duplicate


# ---------------------------------------------------------------------------------------------------- parsers


def _nothing(_response: Any) -> None:
    return None


def _same(response: Any) -> Any:
    return response
