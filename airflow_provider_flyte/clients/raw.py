"""Raw Flyte Admin clients: one channel, the five service stubs, and the interceptor stack.

The stubs are plain ``flyteidl`` stubs over an intercepted channel, so ``raw.admin_service.GetExecution(request)``
takes and returns protobuf messages while the interceptors add the default metadata and the token, apply the
per-attempt deadline, retry transient failures and raise :mod:`airflow_provider_flyte.exceptions` instead of
``grpc.RpcError``. ``auth_metadata_service`` skips the token (its RPCs are how a client learns to authenticate).

Both clients also have flytekit's request-level methods (``raw.create_task(task_create_request)``,
``raw.get_execution(get_object_request)``, ``raw.list_projects()``..., the ``url`` property and
``with_root_certificate``), defined once in :mod:`._raw_requests`; they call the same stubs.

:class:`RawSynchronousFlyteClient` and :class:`RawAsyncFlyteClient` (grpc.aio) are built the same way from one
:class:`~airflow_provider_flyte.configuration.PlatformConfig`; pass ``token_source=`` to make a sync and an asyncio
client share one token cache.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio
from flyteidl.service import (
    admin_pb2_grpc,
    auth_pb2_grpc,
    dataproxy_pb2_grpc,
    identity_pb2_grpc,
    signal_pb2_grpc,
)

from airflow_provider_flyte.clients import aio_interceptors
from airflow_provider_flyte.clients._raw_requests import RawRequestMethods
from airflow_provider_flyte.clients.channel import ChannelOptions, create_aio_channel, create_channel
from airflow_provider_flyte.clients.interceptors import (
    AuthInterceptor,
    ChannelState,
    DefaultMetadata,
    DefaultMetadataInterceptor,
    RetryInterceptor,
    intercept_channel,
)
from airflow_provider_flyte.clients.policy import RetryPolicy
from airflow_provider_flyte.configuration import AuthMode

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.auth.server_metadata import AuthMetadataApi
    from airflow_provider_flyte.clients.auth.token_source import TokenSource
    from airflow_provider_flyte.configuration import PlatformConfig

_UNSET: Any = object()


def _stub(stub_class: Any, channel: Any) -> Any:
    """Build a flyteidl stub (the generated ``*_pb2_grpc`` modules carry no type hints)."""
    return stub_class(channel)


def _token_sources(
    config: PlatformConfig,
    token_source: TokenSource | None,
    proxy_token_source: TokenSource | None,
    auth_api: AuthMetadataApi | None = None,
) -> tuple[TokenSource | None, TokenSource | None]:
    """Resolve the bearer and proxy token sources; ``_UNSET`` means "build from ``config``".

    ``auth_api`` names the ``AuthMetadataService`` that advertises the token's header (Flyte Admin's by default).
    """
    # The auth package (and httpx with it) is imported only when some auth is configured.
    if proxy_token_source is _UNSET:
        proxy_token_source = None
        if config.proxy_command:
            from airflow_provider_flyte.clients.auth import proxy_token_source_for

            proxy_token_source = proxy_token_source_for(config)
    if token_source is _UNSET:
        token_source = None
        if config.auth_mode is not AuthMode.NONE:
            from airflow_provider_flyte.clients.auth import token_source_for

            token_source = token_source_for(config, proxy_token_source=proxy_token_source, auth_api=auth_api)
    return token_source, proxy_token_source


class RawSynchronousFlyteClient(RawRequestMethods):
    """Sync gRPC stubs for Flyte Admin with auth, retries, deadlines and exception mapping.

    Args:
        config: Where and how to connect.
        credentials: TLS credentials overriding the ones derived from ``config``.
        options: Extra gRPC channel arguments.
        token_source: The bearer token source; built from ``config.auth_mode`` when not given, ``None`` for none.
        proxy_token_source: The ``proxy-authorization`` source; built from ``config.proxy_command`` when not given.
        retry_policy: Overrides the policy derived from ``config``'s ``rpc_*``/``retry_*`` fields.

    The request-level methods (flytekit's raw client: ``create_task(task_create_request)``...) send through the same
    stubs and return the response message.

    Attributes:
        config: The configuration this client was built from.
        admin_service: ``flyteidl.service.AdminService`` stub.
        signal_service: ``flyteidl.service.SignalService`` stub.
        data_proxy_service: ``flyteidl.service.DataProxyService`` stub.
        auth_metadata_service: ``flyteidl.service.AuthMetadataService`` stub (no token attached).
        identity_service: ``flyteidl.service.IdentityService`` stub.
        token_source: The bearer token source in use (share it with a :class:`RawAsyncFlyteClient`).
        retry_policy: The retry and deadline policy in use.
    """

    def __init__(
        self,
        config: PlatformConfig,
        *,
        credentials: grpc.ChannelCredentials | None = None,
        options: ChannelOptions | None = None,
        token_source: TokenSource | None = _UNSET,
        proxy_token_source: TokenSource | None = _UNSET,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.config = config
        self.retry_policy = retry_policy or RetryPolicy.from_config(config)
        self.token_source, self.proxy_token_source = _token_sources(config, token_source, proxy_token_source)
        self._channel = create_channel(config, credentials=credentials, options=options)

        retry = RetryInterceptor(self.retry_policy)
        defaults = DefaultMetadataInterceptor(DefaultMetadata())
        proxy = [AuthInterceptor(self.proxy_token_source)] if self.proxy_token_source is not None else []
        bearer = [AuthInterceptor(self.token_source)] if self.token_source is not None else []
        self._state = ChannelState()
        authenticated = intercept_channel(self._channel, retry, *bearer, *proxy, defaults, state=self._state)
        public = intercept_channel(self._channel, retry, *proxy, defaults, state=self._state)

        self.admin_service = _stub(admin_pb2_grpc.AdminServiceStub, authenticated)
        self.signal_service = _stub(signal_pb2_grpc.SignalServiceStub, authenticated)
        self.data_proxy_service = _stub(dataproxy_pb2_grpc.DataProxyServiceStub, authenticated)
        self.identity_service = _stub(identity_pb2_grpc.IdentityServiceStub, authenticated)
        self.auth_metadata_service = _stub(auth_pb2_grpc.AuthMetadataServiceStub, public)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self.config.endpoint!r}, auth_mode={self.config.auth_mode.value!r})"

    def close(self) -> None:
        """Close the channel; calls in flight are cancelled and later calls raise ``FlyteSystemException``."""
        self._state.closed = True
        self._channel.close()

    def __enter__(self) -> RawSynchronousFlyteClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class RawAsyncFlyteClient(RawRequestMethods):
    """The grpc.aio twin of :class:`RawSynchronousFlyteClient`; create it inside the event loop that uses it.

    Takes the same arguments and exposes the same attributes and request-level methods; the stubs' methods, and so
    the request-level methods, return coroutines resolving to the response
    (``await raw.admin_service.GetExecution(request)``, ``await raw.get_execution(request)``). The interceptors run
    as plain coroutines (see :func:`~.aio_interceptors.intercept_aio_channel`).

    Raises:
        RuntimeError: when created outside a running event loop.
    """

    def __init__(
        self,
        config: PlatformConfig,
        *,
        credentials: grpc.ChannelCredentials | None = None,
        options: ChannelOptions | None = None,
        token_source: TokenSource | None = _UNSET,
        proxy_token_source: TokenSource | None = _UNSET,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        asyncio.get_running_loop()  # grpc.aio binds the channel to the loop it is created in
        self.config = config
        self.retry_policy = retry_policy or RetryPolicy.from_config(config)
        self.token_source, self.proxy_token_source = _token_sources(config, token_source, proxy_token_source)

        retry = aio_interceptors.AsyncRetryInterceptor(self.retry_policy)
        defaults = aio_interceptors.AsyncDefaultMetadataInterceptor(DefaultMetadata())
        proxy = (
            [aio_interceptors.AsyncAuthInterceptor(self.proxy_token_source)]
            if self.proxy_token_source is not None
            else []
        )
        bearer = [aio_interceptors.AsyncAuthInterceptor(self.token_source)] if self.token_source is not None else []
        self._channel = create_aio_channel(config, credentials=credentials, options=options)
        self._state = ChannelState()
        authenticated = aio_interceptors.intercept_aio_channel(
            self._channel, retry, *bearer, *proxy, defaults, state=self._state
        )
        public = aio_interceptors.intercept_aio_channel(self._channel, retry, *proxy, defaults, state=self._state)

        self.admin_service = _stub(admin_pb2_grpc.AdminServiceStub, authenticated)
        self.signal_service = _stub(signal_pb2_grpc.SignalServiceStub, authenticated)
        self.data_proxy_service = _stub(dataproxy_pb2_grpc.DataProxyServiceStub, authenticated)
        self.identity_service = _stub(identity_pb2_grpc.IdentityServiceStub, authenticated)
        self.auth_metadata_service = _stub(auth_pb2_grpc.AuthMetadataServiceStub, public)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self.config.endpoint!r}, auth_mode={self.config.auth_mode.value!r})"

    async def close(self) -> None:
        """Close the channel; calls in flight are cancelled and later calls raise ``FlyteSystemException``."""
        self._state.closed = True
        await self._channel.close()

    async def __aenter__(self) -> RawAsyncFlyteClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
