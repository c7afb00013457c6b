"""What the Flyte Admin server says about its own authentication, fetched once without a token.

``AuthMetadataService.GetPublicClientConfig`` names the metadata key for the token (``flyte-authorization`` behind
proxies that own ``authorization``), the public client id, redirect URI, scopes and audience;
``GetOAuth2Metadata`` names the identity provider's endpoints. A server with auth off may not implement the
service at all, which yields the defaults. Flyte 2 serves the same service (same fields) as
``flyteidl2.auth.AuthMetadataService``: pass its :class:`AuthMetadataApi` (see
:mod:`airflow_provider_flyte.clients.v2.raw`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.clients.auth.token_source import DEFAULT_AUTHORIZATION_KEY
from airflow_provider_flyte.exceptions import FlyteEntityNotExistException, FlyteNotImplementedException

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.auth.token_source import TokenSource
    from airflow_provider_flyte.configuration import PlatformConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuthServerMetadata:
    """The server's public auth settings (``GetPublicClientConfig`` + ``GetOAuth2Metadata``).

    Attributes:
        authorization_metadata_key: gRPC metadata key for the bearer token.
        client_id: The public client id (used by device flow and PKCE when the config names none).
        redirect_uri: Where PKCE's authorization response is sent.
        scopes: Scopes the server asks clients to request.
        audience: Audience the server asks clients to request.
        token_endpoint: The identity provider's token endpoint.
        authorization_endpoint: The identity provider's authorization endpoint (PKCE).
        device_authorization_endpoint: The identity provider's device authorization endpoint (device flow).
    """

    authorization_metadata_key: str = DEFAULT_AUTHORIZATION_KEY
    client_id: str | None = None
    redirect_uri: str | None = None
    scopes: tuple[str, ...] = ()
    audience: str | None = None
    token_endpoint: str | None = None
    authorization_endpoint: str | None = None
    device_authorization_endpoint: str | None = None


@dataclass(frozen=True)
class AuthMetadataApi:
    """Which ``AuthMetadataService`` to ask: its stub class and its two request messages.

    Attributes:
        stub: The generated stub class (called with a channel).
        public_client_config_request: Builds the ``GetPublicClientConfig`` request.
        oauth2_metadata_request: Builds the ``GetOAuth2Metadata`` request.
    """

    stub: Callable[[Any], Any]
    public_client_config_request: Callable[[], Any]
    oauth2_metadata_request: Callable[[], Any]


def flyteidl_auth_metadata_api() -> AuthMetadataApi:
    """Flyte Admin's (Flyte 1) ``flyteidl.service.AuthMetadataService``."""
    from flyteidl.service import auth_pb2, auth_pb2_grpc

    return AuthMetadataApi(
        auth_pb2_grpc.AuthMetadataServiceStub, auth_pb2.PublicClientAuthConfigRequest, auth_pb2.OAuth2MetadataRequest
    )


def fetch_auth_server_metadata(
    config: PlatformConfig, *, proxy_token_source: TokenSource | None = None, api: AuthMetadataApi | None = None
) -> AuthServerMetadata:
    """Ask the server at ``config.endpoint`` for its auth settings over a short-lived channel, without a token.

    Args:
        config: Where the server is and how to reach it.
        proxy_token_source: Sent along through an authenticating proxy.
        api: The service to ask; Flyte Admin's (:func:`flyteidl_auth_metadata_api`) by default.

    Raises:
        FlyteException: the mapped gRPC error when the server cannot answer (UNIMPLEMENTED and NOT_FOUND give the
            defaults instead: the server has auth off).
    """
    import grpc

    from airflow_provider_flyte.clients.channel import create_channel
    from airflow_provider_flyte.clients.interceptors import (
        AuthInterceptor,
        DefaultMetadataInterceptor,
        RetryInterceptor,
    )
    from airflow_provider_flyte.clients.policy import RetryPolicy

    api = api or flyteidl_auth_metadata_api()
    channel = create_channel(config)
    try:
        proxy = [AuthInterceptor(proxy_token_source)] if proxy_token_source is not None else []
        intercepted = grpc.intercept_channel(
            channel, RetryInterceptor(RetryPolicy.from_config(config)), *proxy, DefaultMetadataInterceptor()
        )
        stub: Any = api.stub(intercepted)
        try:
            public = stub.GetPublicClientConfig(api.public_client_config_request())
        except (FlyteNotImplementedException, FlyteEntityNotExistException):
            log.info("%s does not publish a public client config; using defaults", config.endpoint)
            return AuthServerMetadata()
        oauth: Any = None
        with contextlib.suppress(FlyteNotImplementedException, FlyteEntityNotExistException):
            oauth = stub.GetOAuth2Metadata(api.oauth2_metadata_request())
    finally:
        channel.close()
    return AuthServerMetadata(
        authorization_metadata_key=public.authorization_metadata_key.strip().lower() or DEFAULT_AUTHORIZATION_KEY,
        client_id=public.client_id or None,
        redirect_uri=public.redirect_uri or None,
        scopes=tuple(public.scopes),
        audience=public.audience or None,
        token_endpoint=getattr(oauth, "token_endpoint", "") or None,
        authorization_endpoint=getattr(oauth, "authorization_endpoint", "") or None,
        device_authorization_endpoint=getattr(oauth, "device_authorization_endpoint", "") or None,
    )


class ServerMetadataCache:
    """Fetches :class:`AuthServerMetadata` once, on first use, and serves it afterwards (thread-safe).

    A failed fetch is not cached, so a later call tries again.

    Args:
        fetch: Blocking function returning the metadata.
    """

    def __init__(self, fetch: Callable[[], AuthServerMetadata]) -> None:
        self._fetch = fetch
        self._lock = threading.Lock()
        self._value: AuthServerMetadata | None = None

    def __call__(self) -> AuthServerMetadata:
        """Return the metadata, fetching it on the first call."""
        value = self._value
        if value is not None:
            return value
        with self._lock:
            if self._value is None:
                self._value = self._fetch()
            return self._value

    def header_key(self) -> str:
        """The token's metadata key as the server advertises it."""
        return self().authorization_metadata_key
