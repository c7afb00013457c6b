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
import re
import ssl
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio

from airflow_provider_flyte import _validation
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
# gRPC's default reconnect backoff grows to 120 s, so a channel that saw Admin down for 30 s needed about 10 s to try
# again after Admin came back. Capped at 1 s, a restarted Admin is reached within a second or two; a broken channel
# costs one TCP connect per second, which any Admin can take.
RECONNECT_BACKOFF_MS = 100
MAX_RECONNECT_BACKOFF_MS = 1_000

ChannelOptions = Sequence[tuple[str, Any]]

_PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)

_DEFAULT_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.primary_user_agent", USER_AGENT),
    ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
    ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_metadata_size", MAX_METADATA_BYTES),
    ("grpc.initial_reconnect_backoff_ms", RECONNECT_BACKOFF_MS),
    ("grpc.min_reconnect_backoff_ms", RECONNECT_BACKOFF_MS),
    ("grpc.max_reconnect_backoff_ms", MAX_RECONNECT_BACKOFF_MS),
    # Each channel keeps its own connections: with gRPC's process-wide pool a client created right after an Admin
    # restart inherited an older channel's connection, still waiting out its backoff, and failed its first call.
    ("grpc.use_local_subchannel_pool", 1),
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
        FlyteConfigurationException: naming ``endpoint`` when it is not ``host[:port]`` (a non-numeric port, one
            outside 1-65535, an empty or malformed host, a URL scheme).
    """
    return _validation.split_endpoint(endpoint)


def fetch_server_certificate(endpoint: str) -> bytes:
    """Return the PEM certificate the server at ``endpoint`` presents, without verifying it.

    Raises:
        FlyteConfigurationException: when the server answers without TLS (suggesting ``insecure=True``).
        FlyteSystemUnavailableException: when the server cannot be reached for the TLS handshake.
    """
    host, port = split_endpoint(endpoint)
    try:
        pem = ssl.get_server_certificate((host, port))
    except ssl.SSLError as error:
        if error.reason == "WRONG_VERSION_NUMBER":
            raise FlyteConfigurationException(
                f"insecure_skip_verify=True, but {endpoint} does not speak TLS ({error.reason}): it looks like a "
                "plain-text server; set insecure=True to connect without TLS"
            ) from None
        raise FlyteSystemUnavailableException(
            f"could not fetch the TLS certificate of {endpoint} for insecure_skip_verify: {error}"
        ) from error
    except OSError as error:
        raise FlyteSystemUnavailableException(
            f"could not fetch the TLS certificate of {endpoint} for insecure_skip_verify: {error}"
        ) from error
    log.warning("insecure_skip_verify is set: trusting the certificate %s presented without verifying it", endpoint)
    return pem.encode()


def read_ca_bundle(path: str) -> bytes:
    """Return the bytes of the CA bundle at ``path`` after checking that it holds PEM certificates.

    Raises:
        FlyteConfigurationException: naming ``ca_cert_file_path`` and the path when the file cannot be read, holds
            no ``-----BEGIN CERTIFICATE-----`` block (a DER file, a key, anything else), or a block that does not
            load as a certificate.
    """
    try:
        with open(path, "rb") as handle:
            roots = handle.read()
    except OSError as error:
        raise FlyteConfigurationException(f"ca_cert_file_path={path!r} cannot be read: {error.strerror}") from error
    blocks = _PEM_CERTIFICATE.findall(roots)
    if not blocks:
        raise FlyteConfigurationException(
            f"ca_cert_file_path={path!r} is not a PEM file: it holds no '-----BEGIN CERTIFICATE-----' block; point it "
            "at the PEM bundle of the CA that signed Flyte Admin's certificate (convert a DER file with "
            "'openssl x509 -inform der -in ca.der -out ca.pem')"
        )
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=b"\n".join(blocks).decode("ascii"))
    except (ssl.SSLError, UnicodeDecodeError, ValueError):
        raise FlyteConfigurationException(
            f"ca_cert_file_path={path!r} holds a '-----BEGIN CERTIFICATE-----' block that is not a valid certificate; "
            "point it at the PEM bundle of the CA that signed Flyte Admin's certificate"
        ) from None
    return roots


def channel_credentials(config: PlatformConfig) -> grpc.ChannelCredentials | None:
    """Return the TLS credentials for ``config``, or ``None`` for a plain-text channel.

    Raises:
        FlyteConfigurationException: when ``ca_cert_file_path`` cannot be read or is not PEM (see
            :func:`read_ca_bundle`), or when ``insecure_skip_verify`` finds a plain-text server.
        FlyteSystemUnavailableException: when ``insecure_skip_verify`` cannot fetch the server certificate.
    """
    if config.insecure:
        return None
    if config.ca_cert_file_path:
        return grpc.ssl_channel_credentials(root_certificates=read_ca_bundle(config.ca_cert_file_path))
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
