"""How to reach and authenticate against a Flyte Admin: :class:`PlatformConfig`.

The field names follow flytekit's ``PlatformConfig`` so settings carry over; :meth:`PlatformConfig.auto` reads the
same environment variables and ``~/.flyte/config.yaml`` keys flytekit reads.
"""

from __future__ import annotations

import configparser
import enum
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from airflow_provider_flyte.exceptions import FlyteConfigurationException

log = logging.getLogger(__name__)

SANDBOX_ENDPOINT = "localhost:30080"
CONFIG_ENV_VAR = "FLYTECTL_CONFIG"
"""Names the config file to read (flytectl's YAML or flytekit's INI), as flytekit honours it."""


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

    def resolve_client_secret(self) -> str:
        """Return the client secret from the value, the file or the environment variable, in that order.

        The file and the variable are read at each call, so a rotated secret is picked up.

        Raises:
            FlyteConfigurationException: naming the source that is set but empty or unreadable, or saying that
                none is set. The secret itself never appears in the message.
        """
        if self.client_credentials_secret:
            return self.client_credentials_secret
        if self.client_credentials_secret_file:
            path = self.client_credentials_secret_file
            try:
                secret = Path(path).read_text().strip()
            except OSError as error:
                raise FlyteConfigurationException(
                    f"client_credentials_secret_file={path!r} cannot be read: {error.strerror}"
                ) from None
            if not secret:
                raise FlyteConfigurationException(f"client_credentials_secret_file={path!r} is empty")
            return secret
        if self.client_credentials_secret_env_var:
            name = self.client_credentials_secret_env_var
            secret = os.environ.get(name, "").strip()
            if not secret:
                raise FlyteConfigurationException(
                    f"client_credentials_secret_env_var={name!r}: the environment variable {name} is not set or empty"
                )
            return secret
        raise FlyteConfigurationException(
            "no client secret: set client_credentials_secret, client_credentials_secret_file or "
            "client_credentials_secret_env_var"
        )

    @classmethod
    def auto(cls, config_file: str | os.PathLike[str] | None = None) -> PlatformConfig:
        """Read settings the way flytekit's ``PlatformConfig.auto`` does: environment variables over a config file.

        The file is ``config_file`` when given, else the first that exists of ``$FLYTECTL_CONFIG``,
        ``./flytekit.config``, ``~/.flyte/config`` (INI) and ``~/.flyte/config.yaml`` (flytectl YAML). The keys
        are flytekit's: ``FLYTE_PLATFORM_URL`` / ``admin.endpoint``, ``FLYTE_PLATFORM_INSECURE`` /
        ``admin.insecure``, ``FLYTE_CREDENTIALS_CLIENT_ID`` / ``admin.clientId``, ``FLYTE_CREDENTIALS_AUTH_MODE`` /
        ``admin.authType`` and so on (see ``_AUTO_KEYS``). As in flytekit, a client secret found through
        ``client_secret_location`` or ``client_secret_env_var`` switches ``auth_mode`` to client credentials; so
        does a secret given directly when no auth mode is set.

        Args:
            config_file: A flytectl YAML (``.yaml``/``.yml``) or flytekit INI file to read.

        Raises:
            FlyteConfigurationException: naming the key, its source and the value when a value is malformed, or the
                path when ``config_file`` does not exist.
        """
        source = _ConfigSource.locate(config_file)
        settings: dict[str, Any] = {}
        for key in _AUTO_KEYS:
            value = source.read(key)
            if value is not None:
                settings[key.field] = value
        explicit_mode = "auth_mode" in settings
        secret_location = settings.pop("client_credentials_secret_file", None)
        secret_env_var = settings.get("client_credentials_secret_env_var")
        secret_found = False
        if secret_location:
            settings["client_credentials_secret_file"] = secret_location
            secret_found = Path(secret_location).is_file()
        if secret_env_var and os.environ.get(secret_env_var):
            secret_found = True
        if secret_found or (settings.get("client_credentials_secret") and not explicit_mode):
            settings["auth_mode"] = AuthMode.CLIENT_CREDENTIALS
        return cls(**settings)

    def __str__(self) -> str:
        return repr(self)


def _as_tuple(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part for part in value.replace(",", " ").split() if part)
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise FlyteConfigurationException(f"{key}={value!r} must be a list of strings or a space/comma separated string")


@dataclass(frozen=True)
class _AutoKey:
    """One setting :meth:`PlatformConfig.auto` reads: flytekit's environment variable, INI option and YAML path."""

    field: str
    env: str
    ini: tuple[str, str]
    yaml: str | None
    kind: type = str


_AUTO_KEYS: tuple[_AutoKey, ...] = (
    _AutoKey("endpoint", "FLYTE_PLATFORM_URL", ("platform", "url"), "admin.endpoint"),
    _AutoKey("insecure", "FLYTE_PLATFORM_INSECURE", ("platform", "insecure"), "admin.insecure", bool),
    _AutoKey(
        "insecure_skip_verify",
        "FLYTE_PLATFORM_INSECURE_SKIP_VERIFY",
        ("platform", "insecure_skip_verify"),
        "admin.insecureSkipVerify",
        bool,
    ),
    _AutoKey(
        "ca_cert_file_path",
        "FLYTE_PLATFORM_CA_CERT_FILE_PATH",
        ("platform", "ca_cert_file_path"),
        "admin.caCertFilePath",
    ),
    _AutoKey(
        "console_endpoint", "FLYTE_PLATFORM_CONSOLE_ENDPOINT", ("platform", "console_endpoint"), "console.endpoint"
    ),
    _AutoKey("http_proxy_url", "FLYTE_PLATFORM_HTTP_PROXY_URL", ("platform", "http_proxy_url"), "admin.httpProxyURL"),
    _AutoKey("command", "FLYTE_CREDENTIALS_COMMAND", ("credentials", "command"), "admin.command", list),
    _AutoKey(
        "proxy_command", "FLYTE_CREDENTIALS_PROXY_COMMAND", ("credentials", "proxy_command"), "admin.proxyCommand", list
    ),
    _AutoKey("client_id", "FLYTE_CREDENTIALS_CLIENT_ID", ("credentials", "client_id"), "admin.clientId"),
    _AutoKey("client_credentials_secret", "FLYTE_CREDENTIALS_CLIENT_SECRET", ("credentials", "client_secret"), None),
    _AutoKey(
        "client_credentials_secret_file",
        "FLYTE_CREDENTIALS_CLIENT_SECRET_LOCATION",
        ("credentials", "client_secret_location"),
        "admin.clientSecretLocation",
    ),
    _AutoKey(
        "client_credentials_secret_env_var",
        "FLYTE_CREDENTIALS_CLIENT_SECRET_ENV_VAR",
        ("credentials", "client_secret_env_var"),
        "admin.clientSecretEnvVar",
    ),
    _AutoKey("scopes", "FLYTE_CREDENTIALS_SCOPES", ("credentials", "scopes"), "admin.scopes", list),
    _AutoKey("auth_mode", "FLYTE_CREDENTIALS_AUTH_MODE", ("credentials", "auth_mode"), "admin.authType", AuthMode),
    _AutoKey("audience", "FLYTE_CREDENTIALS_AUDIENCE", ("credentials", "audience"), "admin.audience"),
)

_TRUE = frozenset({"true", "1", "yes", "on", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "off", "n", "f"})


class _ConfigSource:
    """The environment plus at most one config file (INI or YAML), read with flytekit's precedence."""

    def __init__(self, path: Path | None, ini: configparser.ConfigParser | None, yaml_doc: Mapping[str, Any] | None):
        self.path = path
        self._ini = ini
        self._yaml = yaml_doc

    @classmethod
    def locate(cls, config_file: str | os.PathLike[str] | None) -> _ConfigSource:
        if config_file is not None:
            path = Path(config_file).expanduser()
            if not path.is_file():
                raise FlyteConfigurationException(f"config_file={str(config_file)!r} does not exist")
            return cls.load(path)
        from_env = os.environ.get(CONFIG_ENV_VAR)
        if from_env:
            path = Path(from_env).expanduser()
            if path.is_file():
                return cls.load(path)
            log.warning("%s=%r does not exist; looking for a config file elsewhere", CONFIG_ENV_VAR, from_env)
        home = Path.home() / ".flyte"
        for candidate in (Path("flytekit.config"), home / "config", home / "config.yaml"):
            if candidate.is_file():
                return cls.load(candidate)
        return cls(None, None, None)

    @classmethod
    def load(cls, path: Path) -> _ConfigSource:
        log.debug("Reading Flyte settings from %s", path)
        if path.suffix in (".yaml", ".yml"):
            import yaml

            try:
                document = yaml.safe_load(path.read_text())
            except (OSError, yaml.YAMLError) as error:
                raise FlyteConfigurationException(f"config file {str(path)!r} is not readable YAML: {error}") from None
            if document is None:
                document = {}
            if not isinstance(document, Mapping):
                raise FlyteConfigurationException(f"config file {str(path)!r} must hold a YAML mapping")
            return cls(path, None, document)
        parser = configparser.ConfigParser()
        try:
            parser.read(path)
        except configparser.Error as error:
            raise FlyteConfigurationException(
                f"config file {str(path)!r} is not a readable INI file: {error}"
            ) from None
        return cls(path, parser, None)

    def read(self, key: _AutoKey) -> Any:
        raw = os.environ.get(key.env)
        if raw is not None:
            return _convert(key, raw, key.env)
        if self._ini is not None:
            section, option = key.ini
            if self._ini.has_option(section, option):
                return _convert(key, self._ini.get(section, option), f"[{section}] {option} in {self.path}")
            return None
        if self._yaml is not None and key.yaml is not None:
            node: Any = self._yaml
            for part in key.yaml.split("."):
                if not isinstance(node, Mapping) or part not in node:
                    return None
                node = node[part]
            if node is None or node == "" or node == []:
                return None
            return _convert(key, node, f"{key.yaml} in {self.path}")
        return None


def _convert(key: _AutoKey, value: Any, where: str) -> Any:
    """Convert a raw setting to the field's type, naming ``where`` it came from and the value when it cannot."""
    if key.kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise FlyteConfigurationException(f"{where}={value!r} is not a boolean; use true or false")
    if key.kind is list:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        if isinstance(value, (list, tuple)) and all(isinstance(item, (str, int, float)) for item in value):
            return tuple(str(item) for item in value)
        raise FlyteConfigurationException(f"{where}={value!r} must be a list of strings or a comma separated string")
    if key.kind is AuthMode:
        return AuthMode.parse(str(value), key=where)
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise FlyteConfigurationException(f"{where}={value!r} must be a string")
    return str(value).strip()
