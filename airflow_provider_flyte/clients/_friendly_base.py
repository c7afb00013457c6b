"""Construction, lifecycle, the call runner and pagination of the friendly client.

This is the base of :class:`~airflow_provider_flyte.clients.friendly.SynchronousFlyteClient`. The RPC methods sit in
the classes built on it; each is one line that hands a :class:`~airflow_provider_flyte.clients._calls.Call` built by
:mod:`airflow_provider_flyte.clients._calls` to :meth:`_SynchronousFlyteClientBase._run`.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_flyte.clients import _calls
from airflow_provider_flyte.clients._calls import (
    DEFAULT_ENTITY_CACHE_SIZE,
    Call,
    EntityCache,
    ItemT,
    ListPage,
    Missing,
    ResultT,
    resolve_config,
)
from airflow_provider_flyte.clients.raw import RawSynchronousFlyteClient

if TYPE_CHECKING:
    from airflow_provider_flyte.configuration import PlatformConfig

_ClientT = TypeVar("_ClientT", bound="_SynchronousFlyteClientBase")


class _SynchronousFlyteClientBase:
    """The client's raw connection, entity cache and lifecycle; see the public class for the arguments."""

    def __init__(
        self,
        config: PlatformConfig | str | None = None,
        insecure: bool | None = None,
        *,
        raw: RawSynchronousFlyteClient | None = None,
        entity_cache_size: int = DEFAULT_ENTITY_CACHE_SIZE,
        **raw_options: Any,
    ) -> None:
        self._cache = EntityCache(entity_cache_size)
        self._owns_raw = raw is None
        if raw is None:
            raw = RawSynchronousFlyteClient(resolve_config(config, insecure), **raw_options)
        self._raw = raw

    @property
    def raw(self) -> RawSynchronousFlyteClient:
        """The raw client: the intercepted stubs (``admin_service``...) this client calls."""
        return self._raw

    @property
    def config(self) -> PlatformConfig:
        """The configuration of the raw client."""
        return self._raw.config

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self._raw.config.endpoint!r})"

    def close(self) -> None:
        """Close the channel (unless the raw client was passed in) and drop the entity cache."""
        self._cache.clear()
        if self._owns_raw:
            self._raw.close()

    def __enter__(self: _ClientT) -> _ClientT:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def clear_entity_cache(self) -> None:
        """Forget the cached tasks, workflows and launch plans."""
        self._cache.clear()

    def _run(self, call: Call[ResultT]) -> ResultT:
        cached = call.lookup(self._cache)
        if not isinstance(cached, Missing):
            return cached
        rpc = getattr(getattr(self._raw, call.service), call.method)
        return call.finish(rpc(call.request), self._cache)

    def paginate(self, list_page: ListPage[ItemT], /, *args: Any, **kwargs: Any) -> Iterator[ItemT]:
        """Yield every item of a paginated method, following ``next_token`` until it is ``""``.

        Args:
            list_page: A paginated method of this client, e.g. ``client.list_executions_paginated``.
            *args: Its positional arguments.
            **kwargs: Its keyword arguments; ``limit`` is the page size, ``token`` where to start.

        Raises:
            FlyteSystemException: when the server hands back the token it was sent (it would loop forever).
        """
        token = kwargs.pop("token", None) or ""
        name = getattr(list_page, "__name__", "list")
        while True:
            items, next_token = list_page(*args, token=token, **kwargs)
            yield from items
            token = _calls.next_page_token(name, token, next_token)
            if not token:
                return
