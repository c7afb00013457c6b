"""How to reach and authenticate against a Flyte Admin: :class:`PlatformConfig`.

The field names follow flytekit's ``PlatformConfig`` so settings carry over; :meth:`PlatformConfig.auto` reads the
same environment variables and ``~/.flyte/config.yaml`` keys flytekit reads.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields, replace
from typing import Any

from airflow_provider_flyte.exceptions import FlyteConfigurationException

SANDBOX_ENDPOINT = "localhost:30080"


class AuthMode(str, enum.Enum):
    """How the client obtains an access token. ``NONE`` sends no token (the server has auth off)."""

    NONE = "none"
    CLIENT_CREDENTIALS = "client_credentials"
    DEVICE_FLOW = "device_flow"
    EXTERNAL_COMMAND = "external_command"
    PKCE = "pkce"
    STATIC_TOKEN = "static_token"

    @classmethod
    def parse(cls, value: str | AuthMode, key: str = "auth_mode") -> AuthMode:
        """Accept our names and flytekit's spellings (``ClientSecret``, ``Pkce``, ``ExternalCommand``...).

        Raises:
            FlyteConfigurationException: naming ``key`` and the value when it is not a known mode.
        """
        if isinstance(value, AuthMode):
            return value
        normalized = str(value).strip().lower().replace("-", "_")
        aliases = {
            "clientsecret": cls.CLIENT_CREDENTIALS,
            "basic": cls.CLIENT_CREDENTIALS,
            "client_credentials": cls.CLIENT_CREDENTIALS,
            "standard": cls.PKCE,
            "pkce": cls.PKCE,
            "deviceflow": cls.DEVICE_FLOW,
            "device_flow": cls.DEVICE_FLOW,
            "externalcommand": cls.EXTERNAL_COMMAND,
            "external_command": cls.EXTERNAL_COMMAND,
            "external_process": cls.EXTERNAL_COMMAND,
            "static_token": cls.STATIC_TOKEN,
            "static": cls.STATIC_TOKEN,
            "token": cls.STATIC_TOKEN,
            "none": cls.NONE,
            "": cls.NONE,
        }
        if normalized not in aliases:
            choices = ", ".join(mode.value for mode in cls)
            raise FlyteConfigurationException(f"{key}={value!r} is not a known auth mode; use one of {choices}")
        return aliases[normalized]


@dataclass(frozen=True)
class PlatformConfig:
    """Connection settings for one Flyte Admin.

    Attributes:
        endpoint: ``host:port`` of Flyte Admin's gRPC API (a ``dns:///`` prefix is dropped).
        insecure: Plain-text gRPC (no TLS).
        insecure_skip_verify: TLS, trusting whatever certificate the server presents (fetched on connect).
        ca_cert_file_path: A PEM file of CA certificates to trust instead of the system roots.
        console_endpoint: Base URL of the Flyte Console; derived from ``endpoint`` when unset.
        auth_mode: How to obtain tokens (see :class:`AuthMode`).
        client_id: OAuth2 client id (client credentials, device flow, PKCE).
        client_credentials_secret: The client secret. Never printed: it is hidden from ``repr``.
        client_credentials_secret_file: A file holding the client secret (read when a token is needed).
        client_credentials_secret_env_var: An environment variable holding the client secret.
        scopes: OAuth2 scopes to request; the server's advertised scopes when empty.
        audience: OAuth2 audience, for identity providers that need one.
        command: External command printing an access token (``external_command`` mode).
        proxy_command: Command printing a token for an authenticating proxy (sent as ``proxy-authorization``).
        static_token: A ready access token (``static_token`` mode). Hidden from ``repr``.
        http_proxy_url: HTTP proxy for the token endpoint requests.
        rpc_timeout: Default per-call deadline in seconds.
        rpc_retries: Attempts after the first for transient failures (UNAVAILABLE, RESOURCE_EXHAUSTED, ...).
        retry_initial_backoff: First backoff in seconds; doubled each attempt, with full jitter.
        retry_max_backoff: Cap on one backoff, in seconds.
        retry_total_timeout: Cap on the whole call including retries, in seconds.
    """

    endpoint: str = SANDBOX_ENDPOINT
    insecure: bool = False
    insecure_skip_verify: bool = False
    ca_cert_file_path: str | None = None
    console_endpoint: str | None = None
    auth_mode: AuthMode = AuthMode.NONE
    client_id: str | None = None
    client_credentials_secret: str | None = field(default=None, repr=False)
    client_credentials_secret_file: str | None = None
    client_credentials_secret_env_var: str | None = None
    scopes: tuple[str, ...] = ()
    audience: str | None = None
    command: tuple[str, ...] = ()
    proxy_command: tuple[str, ...] = ()
    static_token: str | None = field(default=None, repr=False)
    http_proxy_url: str | None = None
    rpc_timeout: float = 30.0
    rpc_retries: int = 4
    retry_initial_backoff: float = 0.2
    retry_max_backoff: float = 10.0
    retry_total_timeout: float = 120.0

    def __post_init__(self) -> None:
        endpoint = str(self.endpoint).strip()
        if endpoint.startswith("dns:///"):
            endpoint = endpoint[len("dns:///") :]
        if not endpoint:
            raise FlyteConfigurationException("endpoint is empty; set it to host:port of Flyte Admin")
        object.__setattr__(self, "endpoint", endpoint)
        object.__setattr__(self, "auth_mode", AuthMode.parse(self.auth_mode))
        object.__setattr__(self, "scopes", _as_tuple(self.scopes, "scopes"))
        object.__setattr__(self, "command", _as_tuple(self.command, "command"))
        object.__setattr__(self, "proxy_command", _as_tuple(self.proxy_command, "proxy_command"))
        for name in ("rpc_timeout", "retry_initial_backoff", "retry_max_backoff", "retry_total_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise FlyteConfigurationException(f"{name}={value!r} must be a positive number of seconds")
        if isinstance(self.rpc_retries, bool) or not isinstance(self.rpc_retries, int) or self.rpc_retries < 0:
            raise FlyteConfigurationException(f"rpc_retries={self.rpc_retries!r} must be a non-negative integer")

    @classmethod
    def for_endpoint(cls, endpoint: str, insecure: bool = False, **kwargs: Any) -> PlatformConfig:
        """Settings for ``endpoint`` with defaults for everything else."""
        return cls(endpoint=endpoint, insecure=insecure, **kwargs)

    @classmethod
    def for_sandbox(cls, endpoint: str = SANDBOX_ENDPOINT) -> PlatformConfig:
        """Settings for a local sandbox: plain-text gRPC and no auth."""
        return cls(endpoint=endpoint, insecure=True)

    def with_overrides(self, **changes: Any) -> PlatformConfig:
        """Return a copy with some fields changed (validated again).

        Raises:
            FlyteConfigurationException: when a name is not a field of PlatformConfig.
        """
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise FlyteConfigurationException(f"unknown PlatformConfig field(s): {', '.join(unknown)}")
        return replace(self, **changes)


def _as_tuple(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part for part in value.replace(",", " ").split() if part)
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise FlyteConfigurationException(f"{key}={value!r} must be a list of strings or a space/comma separated string")
