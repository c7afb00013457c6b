"""Construction, lifecycle, the call runner and pagination of the friendly Flyte 2 client.

This is the base of :class:`~airflow_provider_flyte.clients.v2.friendly.Flyte2Client`; each RPC method of the
public class is one line handing a call built in :mod:`airflow_provider_flyte.clients.v2._calls` to
:meth:`_Flyte2ClientBase._run`, or a stream to the raw client's ``follow``.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_flyte.clients._calls import DEFAULT_ENTITY_CACHE_SIZE, EntityCache, Missing, resolve_config
from airflow_provider_flyte.clients._calls.core import ItemT, ResultT
from airflow_provider_flyte.clients._calls.pagination import ListPage, next_page_token
from airflow_provider_flyte.clients.v2._calls import Call, default_org
from airflow_provider_flyte.clients.v2.raw import RawFlyte2Client

if TYPE_CHECKING:
    from airflow_provider_flyte.configuration import PlatformConfig

_ClientT = TypeVar("_ClientT", bound="_Flyte2ClientBase")


class _Flyte2ClientBase:
    """The client's raw connection, organization, entity cache and lifecycle; see the public class for arguments."""

    def __init__(
        self,
        config: PlatformConfig | str | None = None,
        insecure: bool | None = None,
        *,
        raw: RawFlyte2Client | None = None,
        org: str | None = None,
        entity_cache_size: int = DEFAULT_ENTITY_CACHE_SIZE,
        **raw_options: Any,
    ) -> None:
        self._cache = EntityCache(entity_cache_size)
        self._owns_raw = raw is None
        if raw is None:
            raw = RawFlyte2Client(resolve_config(config, insecure), **raw_options)
        self._raw = raw
        self.org = default_org(raw.config) if org is None else org
        """The organization every request names (``""`` for an open-source backend)."""

    @property
    def raw(self) -> RawFlyte2Client:
        """The raw client: the intercepted stubs (``run_service``...) this client calls."""
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

    def _run(self, call: Call[ResultT]) -> ResultT:
        cached = call.lookup(self._cache)
        if not isinstance(cached, Missing):
            return cached
        rpc = getattr(getattr(self._raw, call.service), call.method)
        return call.finish(rpc(call.request), self._cache)

    def paginate(self, list_page: ListPage[ItemT], /, *args: Any, **kwargs: Any) -> Iterator[ItemT]:
        """Yield every item of a paginated method (``list_runs``...), following its page token until it is ``""``.

        Raises:
            FlyteSystemException: when the server hands back the token it was sent (it would loop forever).
        """
        token = kwargs.pop("token", None) or ""
        name = getattr(list_page, "__name__", "list")
        while True:
            items, next_token = list_page(*args, token=token, **kwargs)
            yield from items
            token = next_page_token(name, token, next_token)
            if not token:
                return
