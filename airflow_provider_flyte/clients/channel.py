"""gRPC channels to Flyte Admin, sync and asyncio, built from one :class:`PlatformConfig`.

Both transports share :func:`channel_options` and :func:`channel_credentials`, so a sync and an asyncio client built
from the same configuration reach the server the same way:

* ``insecure=True``: plain-text HTTP/2.
* otherwise TLS, trusting (in order of precedence) the PEM bundle at ``ca_cert_file_path``, the certificate the
  server presents when ``insecure_skip_verify=True`` (fetched once with :func:`ssl.get_server_certificate`; the host
  name in the certificate must still match the endpoint), or the system roots.

The user agent is set with the ``grpc.primary_user_agent`` channel option, not with metadata: gRPC owns the
``user-agent`` header and prepends this value to its own (``airflow-provider-flyte/1.0.0 grpc-python/1.85.0 ...``).
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio

from airflow_provider_flyte.exceptions import FlyteConfigurationException, FlyteSystemUnavailableException
from airflow_provider_flyte.version import __version__

if TYPE_CHECKING:
    from airflow_provider_flyte.configuration import PlatformConfig

log = logging.getLogger(__name__)

USER_AGENT = f"airflow-provider-flyte/{__version__}"
"""Sent as the primary user agent on every channel this package opens."""

MAX_MESSAGE_BYTES = 20 * 1024 * 1024
MAX_METADATA_BYTES = 32 * 1024
KEEPALIVE_TIME_MS = 30_000
KEEPALIVE_TIMEOUT_MS = 10_000

ChannelOptions = Sequence[tuple[str, Any]]

_DEFAULT_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.primary_user_agent", USER_AGENT),
    ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
    ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_metadata_size", MAX_METADATA_BYTES),
)


def channel_options(extra: ChannelOptions | None = None) -> list[tuple[str, Any]]:
    """Return this package's channel options, with ``extra`` options overriding same-named defaults.

    Args:
        extra: Additional ``(name, value)`` gRPC channel arguments.
    """
    merged = dict(_DEFAULT_OPTIONS)
    for name, value in extra or ():
        merged[name] = value
    return list(merged.items())


def split_endpoint(endpoint: str) -> tuple[str, int]:
    """Split ``host:port`` (or ``[v6]:port``); the port defaults to 443.

    Raises:
        FlyteConfigurationException: when the port is not a number.
    """
    host, sep, port = endpoint.rpartition(":")
    if not sep or "]" in port:
        return endpoint.strip("[]"), 443
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        raise FlyteConfigurationException(f"endpoint={endpoint!r} has a non-numeric port {port!r}") from None


def fetch_server_certificate(endpoint: str) -> bytes:
    """Return the PEM certificate the server at ``endpoint`` presents, without verifying it.

    Raises:
        FlyteSystemUnavailableException: when the server cannot be reached for the TLS handshake.
    """
    host, port = split_endpoint(endpoint)
    try:
        pem = ssl.get_server_certificate((host, port))
    except OSError as error:
        raise FlyteSystemUnavailableException(
            f"could not fetch the TLS certificate of {endpoint} for insecure_skip_verify: {error}"
        ) from error
    log.warning("insecure_skip_verify is set: trusting the certificate %s presented without verifying it", endpoint)
    return pem.encode()


def channel_credentials(config: PlatformConfig) -> grpc.ChannelCredentials | None:
    """Return the TLS credentials for ``config``, or ``None`` for a plain-text channel.

    Raises:
        FlyteConfigurationException: when ``ca_cert_file_path`` cannot be read.
        FlyteSystemUnavailableException: when ``insecure_skip_verify`` cannot fetch the server certificate.
    """
    if config.insecure:
        return None
    if config.ca_cert_file_path:
        try:
            with open(config.ca_cert_file_path, "rb") as handle:
                roots = handle.read()
        except OSError as error:
            raise FlyteConfigurationException(
                f"ca_cert_file_path={config.ca_cert_file_path!r} cannot be read: {error.strerror}"
            ) from error
        return grpc.ssl_channel_credentials(root_certificates=roots)
    if config.insecure_skip_verify:
        return grpc.ssl_channel_credentials(root_certificates=fetch_server_certificate(config.endpoint))
    return grpc.ssl_channel_credentials()


def create_channel(
    config: PlatformConfig,
    *,
    credentials: grpc.ChannelCredentials | None = None,
    options: ChannelOptions | None = None,
) -> grpc.Channel:
    """Open a sync channel to ``config.endpoint`` (no interceptors; see :mod:`.raw`).

    Args:
        config: Where and how to connect.
        credentials: TLS credentials to use instead of the ones derived from ``config``.
        options: Extra gRPC channel arguments.
    """
    creds = credentials if credentials is not None else channel_credentials(config)
    if creds is None:
        return grpc.insecure_channel(config.endpoint, options=channel_options(options))
    return grpc.secure_channel(config.endpoint, creds, options=channel_options(options))


def create_aio_channel(
    config: PlatformConfig,
    *,
    credentials: grpc.ChannelCredentials | None = None,
    options: ChannelOptions | None = None,
    interceptors: Sequence[grpc.aio.ClientInterceptor] | None = None,
) -> grpc.aio.Channel:
    """Open a grpc.aio channel to ``config.endpoint``; call it inside the event loop that will use it.

    Args:
        config: Where and how to connect.
        credentials: TLS credentials to use instead of the ones derived from ``config``.
        options: Extra gRPC channel arguments.
        interceptors: grpc.aio interceptors, outermost first.
    """
    creds = credentials if credentials is not None else channel_credentials(config)
    if creds is None:
        return grpc.aio.insecure_channel(config.endpoint, options=channel_options(options), interceptors=interceptors)
    return grpc.aio.secure_channel(config.endpoint, creds, options=channel_options(options), interceptors=interceptors)
