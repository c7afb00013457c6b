# Generated from airflow_provider_flyte/clients/v2/_friendly_base.py by scripts/generate_async_client.py.
# Do not edit: change the synchronous source, then run `python scripts/generate_async_client.py`.
"""Construction, lifecycle, the call runner and pagination of the friendly Flyte 2 client.

This is the base of :class:`~airflow_provider_flyte.clients.v2.aio.AsyncFlyte2Client`; each RPC method of the
public class is one line handing a call built in :mod:`airflow_provider_flyte.clients.v2._calls` to
:meth:`_AsyncFlyte2ClientBase._run`, or a stream to the raw client's ``follow``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_flyte.clients._calls import DEFAULT_ENTITY_CACHE_SIZE, EntityCache, Missing, resolve_config
from airflow_provider_flyte.clients._calls.core import ItemT, ResultT
from airflow_provider_flyte.clients._calls.pagination import AsyncListPage, next_page_token
from airflow_provider_flyte.clients.v2._calls import Call, default_org
from airflow_provider_flyte.clients.v2.raw import RawAsyncFlyte2Client

if TYPE_CHECKING:
    from airflow_provider_flyte.configuration import PlatformConfig

_ClientT = TypeVar("_ClientT", bound="_AsyncFlyte2ClientBase")


class _AsyncFlyte2ClientBase:
    """The client's raw connection, organization, entity cache and lifecycle; see the public class for arguments."""

    def __init__(
        self,
        config: PlatformConfig | str | None = None,
        insecure: bool | None = None,
        *,
        raw: RawAsyncFlyte2Client | None = None,
        org: str | None = None,
        entity_cache_size: int = DEFAULT_ENTITY_CACHE_SIZE,
        **raw_options: Any,
    ) -> None:
        self._cache = EntityCache(entity_cache_size)
        self._owns_raw = raw is None
        if raw is None:
            raw = RawAsyncFlyte2Client(resolve_config(config, insecure), **raw_options)
        self._raw = raw
        self.org = default_org(raw.config) if org is None else org
        """The organization every request names (``""`` for an open-source backend)."""

    @property
    def raw(self) -> RawAsyncFlyte2Client:
        """The raw client: the intercepted grpc.aio stubs (``run_service``...) this client awaits."""
        return self._raw

    @property
    def config(self) -> PlatformConfig:
        """The configuration of the raw client."""
        return self._raw.config

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self._raw.config.endpoint!r})"

    async def close(self) -> None:
        """Close the channel (unless the raw client was passed in) and drop the entity cache."""
        self._cache.clear()
        if self._owns_raw:
            await self._raw.close()

    async def __aenter__(self: _ClientT) -> _ClientT:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _run(self, call: Call[ResultT]) -> ResultT:
        cached = call.lookup(self._cache)
        if not isinstance(cached, Missing):
            return cached
        rpc = getattr(getattr(self._raw, call.service), call.method)
        return call.finish(await rpc(call.request), self._cache)

    async def paginate(self, list_page: AsyncListPage[ItemT], /, *args: Any, **kwargs: Any) -> AsyncIterator[ItemT]:
        """Yield every item of a paginated method (``list_runs``...), following its page token until it is ``""``.

        Raises:
            FlyteSystemException: when the server hands back the token it was sent (it would loop forever).
        """
        token = kwargs.pop("token", None) or ""
        name = getattr(list_page, "__name__", "list")
        while True:
            items, next_token = await list_page(*args, token=token, **kwargs)
            for item in items:
                yield item
            token = next_page_token(name, token, next_token)
            if not token:
                return
