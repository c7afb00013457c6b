"""Authentication for Flyte Admin: token flows, the cached token source, and the server's auth metadata.

:func:`token_source_for` picks the flow from ``config.auth_mode``; :func:`proxy_token_source_for` builds the
separate ``proxy-authorization`` source from ``config.proxy_command``. A token source can be shared by a sync and an
asyncio client built from the same configuration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_flyte.clients.auth.api_key import ApiKey, decode_api_key, resolve_api_key
from airflow_provider_flyte.clients.auth.flows import (
    ClientCredentialsFlow,
    DeviceCodeFlow,
    ExternalCommandFlow,
    PkceFlow,
    StaticTokenFlow,
    is_interactive,
)
from airflow_provider_flyte.clients.auth.server_metadata import (
    AuthMetadataApi,
    AuthServerMetadata,
    ServerMetadataCache,
    fetch_auth_server_metadata,
)
from airflow_provider_flyte.clients.auth.token_source import (
    PROXY_AUTHORIZATION_KEY,
    Token,
    TokenFlow,
    TokenSource,
)
from airflow_provider_flyte.configuration import AuthMode
from airflow_provider_flyte.exceptions import FlyteConfigurationException

if TYPE_CHECKING:
    from airflow_provider_flyte.configuration import PlatformConfig

__all__ = [
    "ApiKey",
    "AuthMetadataApi",
    "AuthServerMetadata",
    "ClientCredentialsFlow",
    "DeviceCodeFlow",
    "ExternalCommandFlow",
    "PkceFlow",
    "ServerMetadataCache",
    "StaticTokenFlow",
    "Token",
    "TokenFlow",
    "TokenSource",
    "decode_api_key",
    "fetch_auth_server_metadata",
    "is_interactive",
    "proxy_token_source_for",
    "token_source_for",
]


def proxy_token_source_for(config: PlatformConfig) -> TokenSource | None:
    """The ``proxy-authorization`` token source for ``config.proxy_command``, or ``None`` when there is none."""
    if not config.proxy_command:
        return None
    flow = ExternalCommandFlow(config.proxy_command, name="proxy_command")
    return TokenSource(flow, header_key=PROXY_AUTHORIZATION_KEY)


def token_source_for(
    config: PlatformConfig,
    *,
    proxy_token_source: TokenSource | None = None,
    server_metadata: ServerMetadataCache | None = None,
    auth_api: AuthMetadataApi | None = None,
) -> TokenSource | None:
    """The bearer token source for ``config.auth_mode``, or ``None`` for ``AuthMode.NONE``.

    The header key comes from the server's public client config, fetched (once, without a token) just before the
    first token.

    Args:
        config: The settings naming the flow and its credentials.
        proxy_token_source: Sent along when fetching the server's auth metadata through an authenticating proxy.
        server_metadata: A metadata cache to reuse (one is created otherwise).
        auth_api: The ``AuthMetadataService`` to ask for it (Flyte Admin's by default; Flyte 2 passes its own).

    Raises:
        FlyteConfigurationException: when the mode's required settings are missing.
    """
    mode = config.auth_mode
    if mode is AuthMode.NONE:
        return None
    metadata = server_metadata or ServerMetadataCache(
        lambda: fetch_auth_server_metadata(config, proxy_token_source=proxy_token_source, api=auth_api)
    )
    flow: TokenFlow
    if mode is AuthMode.CLIENT_CREDENTIALS:
        flow = ClientCredentialsFlow(config, metadata)
    elif mode is AuthMode.DEVICE_FLOW:
        flow = DeviceCodeFlow(config, metadata)
    elif mode is AuthMode.PKCE:
        flow = PkceFlow(config, metadata)
    elif mode is AuthMode.EXTERNAL_COMMAND:
        if not config.command:
            raise FlyteConfigurationException("command is required for auth_mode=external_command")
        flow = ExternalCommandFlow(config.command)
    elif mode is AuthMode.STATIC_TOKEN:
        flow = StaticTokenFlow(config.static_token or "")
    elif mode is AuthMode.API_KEY:
        flow = ClientCredentialsFlow(_api_key_credentials(config), metadata)
    else:  # pragma: no cover - AuthMode is closed; a new member must be wired here
        raise FlyteConfigurationException(f"auth_mode={mode.value!r} has no token flow")
    return TokenSource(flow, header_key=metadata.header_key)


def _api_key_credentials(config: PlatformConfig) -> PlatformConfig:
    """``config`` with the client id and secret of its API key (``config.api_key`` or ``$FLYTE_API_KEY``)."""
    key = decode_api_key(resolve_api_key(config.api_key))
    return config.with_overrides(client_id=key.client_id, client_credentials_secret=key.client_secret)
