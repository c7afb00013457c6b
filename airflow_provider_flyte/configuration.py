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

from airflow_provider_flyte._validation import (
    check_count,
    check_seconds,
    ini_error_text,
    normalize_endpoint,
    parse_bool,
    shown,
    yaml_error_text,
)
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
    API_KEY = "api_key"
    """Flyte 2's API key (``api_key`` or ``$FLYTE_API_KEY``), used as client credentials as the ``flyte`` SDK does."""

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
            "api_key": cls.API_KEY,
            "apikey": cls.API_KEY,
            "none": cls.NONE,
            "": cls.NONE,
        }
        if normalized not in aliases:
            choices = ", ".join(mode.value for mode in cls)
            raise FlyteConfigurationException(f"{key}={shown(value)} is not a known auth mode; use one of {choices}")
        return aliases[normalized]


class Backend(str, enum.Enum):
    """Which Flyte a connection talks to: Flyte Admin (Flyte 1) or Flyte 2, or ``AUTO`` to let the caller probe."""

    FLYTE1 = "flyte1"
    FLYTE2 = "flyte2"
    AUTO = "auto"

    @classmethod
    def parse(cls, value: str | Backend, key: str = "backend") -> Backend:
        """Accept ``flyte1``/``flyte2``/``auto`` (any case; ``v1``, ``v2``, ``1``, ``2`` too).

        Raises:
            FlyteConfigurationException: naming ``key`` and the value when it is none of them.
        """
        if isinstance(value, Backend):
            return value
        normalized = str(value).strip().lower().replace("-", "").replace("_", "").replace(" ", "")
        aliases = {"flyte1": cls.FLYTE1, "v1": cls.FLYTE1, "1": cls.FLYTE1, "flyte2": cls.FLYTE2, "v2": cls.FLYTE2}
        aliases.update({"2": cls.FLYTE2, "auto": cls.AUTO})
        if normalized not in aliases:
            choices = ", ".join(backend.value for backend in cls)
            raise FlyteConfigurationException(f"{key}={shown(value)} is not a known backend; use one of {choices}")
        return aliases[normalized]


@dataclass(frozen=True)
class PlatformConfig:
    """Connection settings for one Flyte Admin.

    Every field is checked when the config is built (constructor, :meth:`auto`, :meth:`for_endpoint`,
    :meth:`with_overrides`), so a bad value fails before any RPC with a :class:`FlyteConfigurationException` naming
    the field and the value (never the value of a secret). Boolean fields take real bools or the strings
    true/false, 1/0, yes/no, on/off (any case); anything else (``"maybe"``) is refused rather than read as true.

    Attributes:
        endpoint: ``host:port`` (or ``[ipv6]:port``; port 443 when omitted) of Flyte Admin's gRPC API. A ``dns:///``
            prefix is dropped; a URL scheme, blanks, an empty host or a port outside 1-65535 are refused.
        insecure: Plain-text gRPC (no TLS).
        insecure_skip_verify: TLS, trusting whatever certificate the server presents (fetched on connect). The host
            name in that certificate must still match ``endpoint``.
        ca_cert_file_path: A PEM file of CA certificates to trust instead of the system roots (checked to hold PEM
            certificates when the channel is built).
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
        rpc_retries: Attempts after the first for transient failures (UNAVAILABLE, RESOURCE_EXHAUSTED, ...); 3 by
            default, flytekit's ``rpc_retries`` (4 attempts in all, within ``retry_total_timeout``).
        retry_initial_backoff: First backoff in seconds; doubled each attempt, with full jitter.
        retry_max_backoff: Cap on one backoff, in seconds.
        retry_total_timeout: Cap on the whole call including retries, in seconds.
        outage_tolerance: How long, in seconds of wall time, a wait (for an execution, a signal, a backfill) rides
            out Flyte Admin being unreachable before it fails. Launches do not use it: they keep the per-call
            budget above. Flyte 2 watch streams also use it as their reconnect budget.
        backend: Which Flyte this endpoint runs (see :class:`Backend`): ``flyte1`` (the default: Flyte Admin),
            ``flyte2`` (the ``flyteidl2`` services, needs the ``flyte2`` extra) or ``auto``. The clients do not
            read it; the Airflow layer picks its client from it.
        api_key: A Flyte 2 API key (``auth_mode="api_key"``): the base64 of ``endpoint:client_id:client_secret:org``
            that ``flyte create api-key`` prints; ``$FLYTE_API_KEY`` when unset. Hidden from ``repr``.
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
    allow_insecure_token_endpoint: bool = False
    rpc_timeout: float = 30.0
    rpc_retries: int = 3
    retry_initial_backoff: float = 0.2
    retry_max_backoff: float = 10.0
    retry_total_timeout: float = 120.0
    outage_tolerance: float = 600.0
    backend: Backend = Backend.FLYTE1
    api_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "endpoint", normalize_endpoint(self.endpoint))
        object.__setattr__(self, "auth_mode", AuthMode.parse(self.auth_mode))
        object.__setattr__(self, "backend", Backend.parse(self.backend))
        object.__setattr__(self, "scopes", _as_tuple(self.scopes, "scopes"))
        object.__setattr__(self, "command", _as_tuple(self.command, "command"))
        object.__setattr__(self, "proxy_command", _as_tuple(self.proxy_command, "proxy_command"))
        for name in _BOOL_FIELDS:
            object.__setattr__(self, name, parse_bool(getattr(self, name), name))
        for name in _SECONDS_FIELDS:
            check_seconds(getattr(self, name), name)
        for name in _COUNT_FIELDS:
            check_count(getattr(self, name), name)

    @classmethod
    def for_endpoint(cls, endpoint: str, insecure: bool = False, **kwargs: Any) -> PlatformConfig:
        """Settings for ``endpoint`` with defaults for everything else.

        Raises:
            FlyteConfigurationException: as the constructor does, e.g. for ``insecure="nope"``.
        """
        return cls(endpoint=endpoint, insecure=insecure, **kwargs)

    @classmethod
    def from_api_key(cls, api_key: str | None = None, **kwargs: Any) -> PlatformConfig:
        """Settings for a Flyte 2 API key: its endpoint over TLS, ``auth_mode="api_key"``, ``backend="flyte2"``.

        Args:
            api_key: The key ``flyte create api-key`` printed; ``$FLYTE_API_KEY`` when ``None``.
            **kwargs: Other fields (``insecure``, ``ca_cert_file_path``...), validated as by the constructor.

        Raises:
            FlyteConfigurationException: when there is no key, or it does not decode (the key is never shown).
        """
        from airflow_provider_flyte.clients.auth.api_key import decode_api_key, resolve_api_key

        key = resolve_api_key(api_key)
        settings: dict[str, Any] = {"endpoint": decode_api_key(key).endpoint, "backend": Backend.FLYTE2}
        settings.update(kwargs)
        return cls(auth_mode=AuthMode.API_KEY, api_key=key, **settings)

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

        INI files are read without interpolation: a ``%`` in a value (a client secret, say) is kept as written.
        Booleans are parsed as strictly as the constructor parses them.

        Args:
            config_file: A flytectl YAML (``.yaml``/``.yml``) or flytekit INI file to read.

        Raises:
            FlyteConfigurationException: naming the key, its source and the value when a value is malformed (only the
                key for a secret), the line number when a file does not parse (never its text), or the path when
                ``config_file`` does not exist. Nothing else escapes, whatever the environment and files hold.
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
            secret_found = _existing_file(secret_location, expand=False) is not None
        if secret_env_var and os.environ.get(secret_env_var):
            secret_found = True
        if secret_found or (settings.get("client_credentials_secret") and not explicit_mode):
            settings["auth_mode"] = AuthMode.CLIENT_CREDENTIALS
        return cls(**settings)

    def __str__(self) -> str:
        return repr(self)


_BOOL_FIELDS = tuple(f.name for f in fields(PlatformConfig) if f.type == "bool")
_SECONDS_FIELDS = tuple(f.name for f in fields(PlatformConfig) if f.type == "float")
_COUNT_FIELDS = tuple(f.name for f in fields(PlatformConfig) if f.type == "int")


def _as_tuple(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part for part in value.replace(",", " ").split() if part)
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise FlyteConfigurationException(
        f"{key}={shown(value)} must be a list of strings or a space/comma separated string"
    )


@dataclass(frozen=True)
class _AutoKey:
    """One setting :meth:`PlatformConfig.auto` reads: flytekit's environment variable, INI option and YAML path."""

    field: str
    env: str
    ini: tuple[str, str]
    yaml: str | None
    kind: type = str
    secret: bool = False
    """Error messages name the key but never show the value."""


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
    _AutoKey(
        "client_credentials_secret",
        "FLYTE_CREDENTIALS_CLIENT_SECRET",
        ("credentials", "client_secret"),
        None,
        secret=True,
    ),
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
    _AutoKey(
        "allow_insecure_token_endpoint",
        "FLYTE_CREDENTIALS_ALLOW_INSECURE_TOKEN_ENDPOINT",
        ("credentials", "allow_insecure_token_endpoint"),
        "admin.allowInsecureTokenEndpoint",
        bool,
    ),
)


class _ConfigSource:
    """The environment plus at most one config file (INI or YAML), read with flytekit's precedence."""

    def __init__(self, path: Path | None, ini: configparser.ConfigParser | None, yaml_doc: Mapping[str, Any] | None):
        self.path = path
        self._ini = ini
        self._yaml = yaml_doc

    @classmethod
    def locate(cls, config_file: str | os.PathLike[str] | None) -> _ConfigSource:
        if config_file is not None:
            path = _existing_file(config_file)
            if path is None:
                raise FlyteConfigurationException(f"config_file={shown(str(config_file))} does not exist")
            return cls.load(path)
        from_env = os.environ.get(CONFIG_ENV_VAR)
        if from_env:
            path = _existing_file(from_env)
            if path is not None:
                return cls.load(path)
            log.warning("%s=%s does not exist; looking for a config file elsewhere", CONFIG_ENV_VAR, shown(from_env))
        home = Path.home() / ".flyte"
        for candidate in (Path("flytekit.config"), home / "config", home / "config.yaml"):
            if candidate.is_file():
                return cls.load(candidate)
        return cls(None, None, None)

    @classmethod
    def load(cls, path: Path) -> _ConfigSource:
        """Parse ``path`` as flytectl YAML (by suffix) or flytekit INI; errors never quote the file's lines."""
        log.debug("Reading Flyte settings from %s", path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else f"not UTF-8 text (byte {error.start})"
            raise FlyteConfigurationException(f"config file {shown(str(path))} cannot be read: {reason}") from None
        if path.suffix in (".yaml", ".yml"):
            return cls(path, None, _parse_yaml(path, text))
        parser = configparser.ConfigParser(interpolation=None)  # flytekit values may hold '%' (client secrets)
        try:
            parser.read_string(text, source=str(path))
        except configparser.Error as error:
            raise FlyteConfigurationException(
                f"config file {shown(str(path))} is not a readable INI file: {ini_error_text(error)}"
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


def _existing_file(name: str | os.PathLike[str], *, expand: bool = True) -> Path | None:
    """``name`` (``~`` expanded) when it is an existing file; ``None`` when not, or when the name cannot be a path."""
    try:
        path = Path(name).expanduser() if expand else Path(name)
        return path if path.is_file() else None
    except (OSError, RuntimeError, ValueError):  # name too long, unknown ~user, embedded NUL
        return None


def _parse_yaml(path: Path, text: str) -> Mapping[str, Any]:
    import yaml

    try:
        document = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as error:
        raise FlyteConfigurationException(
            f"config file {shown(str(path))} is not readable YAML: {yaml_error_text(error)}"
        ) from None
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise FlyteConfigurationException(f"config file {shown(str(path))} must hold a YAML mapping")
    return document


def _convert(key: _AutoKey, value: Any, where: str) -> Any:
    """Convert a raw setting to the field's type, naming ``where`` it came from and (unless secret) the value."""
    if key.kind is bool:
        scalar = str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
        return parse_bool(scalar, where, secret=key.secret)
    if key.kind is list:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        if isinstance(value, (list, tuple)) and all(isinstance(item, (str, int, float)) for item in value):
            return tuple(str(item) for item in value)
        raise FlyteConfigurationException(
            f"{where}={shown(value, secret=key.secret)} must be a list of strings or a comma separated string"
        )
    if key.kind is AuthMode:
        return AuthMode.parse(str(value), key=where)
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise FlyteConfigurationException(f"{where}={shown(value, secret=key.secret)} must be a string")
    text = str(value).strip()
    if key.field == "endpoint":
        try:
            return normalize_endpoint(text)
        except FlyteConfigurationException as error:
            raise FlyteConfigurationException(f"{where}: {error}") from None
    return text
