"""A ``flyte`` connection read into a :class:`~airflow_provider_flyte.configuration.PlatformConfig`.

*host* and *port* form the Admin endpoint, *login* is the OAuth2 client id, *password* the client secret, and the
extras hold the rest (``project``, ``domain``, ``insecure``, ``auth_mode``...). Extras are validated and coerced here
once, for the sync hook (workers) and the async hook (triggerer) alike: URI-form ``AIRFLOW_CONN_*`` variables deliver
every extra as a string, so ``insecure=false`` must become ``False``, and an unknown or malformed key fails with its
name. The connection's secrets are registered with Airflow's masker before anything else reads them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_flyte.configuration import AuthMode, PlatformConfig
from airflow_provider_flyte.exceptions import FlyteConfigurationException
from airflow_provider_flyte.hooks._connection_form import CONN_TYPE

log = logging.getLogger(__name__)

# The UI of Airflow 3.2+ stores connection-form fields in the extra, possibly under this prefix.
_UI_PREFIX = f"extra__{CONN_TYPE}__"

# Extra key -> expected kind. Keys other than project/domain are PlatformConfig fields of the same name.
_EXTRA_KINDS: dict[str, str] = {
    "project": "str",
    "domain": "str",
    "insecure": "bool",
    "insecure_skip_verify": "bool",
    "ca_cert_file_path": "str",
    "console_endpoint": "str",
    "auth_mode": "str",
    "backend": "str",
    "client_credentials_secret_file": "str",
    "client_credentials_secret_env_var": "str",
    "scopes": "strings",
    "audience": "str",
    "command": "strings",
    "proxy_command": "strings",
    "static_token": "str",
    "http_proxy_url": "str",
    "allow_insecure_token_endpoint": "bool",
    "rpc_timeout": "float",
    "rpc_retries": "int",
    "retry_initial_backoff": "float",
    "retry_max_backoff": "float",
    "retry_total_timeout": "float",
    "outage_tolerance": "float",
}

# Extras that only meant something to flytekit (storage and stats settings of the 0.0.5 provider). They are ignored
# with a warning, so a connection written for that provider keeps working.
_FLYTEKIT_ONLY_EXTRAS = frozenset(
    {
        "env_prefix",
        "default_dir",
        "file_prefix",
        "statsd_host",
        "statsd_port",
        "statsd_disabled",
        "statsd_disabled_tags",
        "local_sandbox_path",
        "s3_enable_debug",
        "s3_endpoint",
        "s3_retries",
        "s3_backoff",
        "s3_access_key_id",
        "s3_secret_access_key",
        "gsutil_parallelism",
    }
)

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_SCHEMES = ("dns:///", "grpc://", "grpcs://", "http://", "https://")


@dataclass(frozen=True)
class FlyteConnectionSettings:
    """What a ``flyte`` connection says: how to reach Admin, and the default project and domain.

    Attributes:
        config: Endpoint, TLS, auth and retry settings.
        project: Default project of operators and sensors using the connection, if set.
        domain: Default domain, if set.
    """

    config: PlatformConfig
    project: str | None = None
    domain: str | None = None


def settings_from_connection(
    conn_id: str,
    host: str | None,
    port: int | None,
    login: str | None,
    password: str | None,
    extra: Mapping[str, Any],
) -> FlyteConnectionSettings:
    """Validate and coerce the parts of a ``flyte`` connection into :class:`FlyteConnectionSettings`.

    Args:
        conn_id: The connection id, quoted in error messages.
        host: Flyte Admin host (a ``dns:///``, ``grpc://`` or ``http(s)://`` prefix is accepted and dropped).
        port: Admin's gRPC port; omitted, gRPC's default for the scheme applies.
        login: OAuth2 client id.
        password: OAuth2 client secret (never included in messages).
        extra: The connection's extra, already decoded from JSON.

    Raises:
        FlyteConfigurationException: naming the connection and the offending field or extra key.
    """
    endpoint = _endpoint(conn_id, host, port)
    values: dict[str, Any] = {}
    unknown: list[str] = []
    ignored: list[str] = []
    for raw_key, raw_value in extra.items():
        key = raw_key[len(_UI_PREFIX) :] if raw_key.startswith(_UI_PREFIX) else raw_key
        if key in _FLYTEKIT_ONLY_EXTRAS:
            ignored.append(key)
            continue
        kind = _EXTRA_KINDS.get(key)
        if kind is None:
            unknown.append(raw_key)
            continue
        if raw_value is None or (isinstance(raw_value, str) and not raw_value.strip()):
            continue  # an empty form field means "not set"
        values[key] = _coerce(conn_id, key, kind, raw_value)
    if unknown:
        known = ", ".join(sorted(_EXTRA_KINDS))
        raise FlyteConfigurationException(
            f"connection {conn_id!r} has unknown extra key(s) {', '.join(sorted(unknown))}; known keys: {known}"
        )
    if ignored:
        log.warning(
            "Connection %r: extra key(s) %s configure flytekit storage or stats, which this provider does not use; "
            "they are ignored",
            conn_id,
            ", ".join(sorted(ignored)),
        )
    project = values.pop("project", None)
    domain = values.pop("domain", None)
    if "auth_mode" in values:
        values["auth_mode"] = AuthMode.parse(values["auth_mode"], key=f"connection {conn_id!r} extra auth_mode")
    elif password:
        values["auth_mode"] = AuthMode.CLIENT_CREDENTIALS
    elif "static_token" in values:
        values["auth_mode"] = AuthMode.STATIC_TOKEN
    secret = password or None
    if values.get("auth_mode") is AuthMode.API_KEY:
        values["api_key"], secret = secret, None  # the password holds the Flyte 2 API key, not a client secret
    try:
        config = PlatformConfig(endpoint=endpoint, client_id=login or None, client_credentials_secret=secret, **values)
    except FlyteConfigurationException as error:
        raise FlyteConfigurationException(f"connection {conn_id!r}: {error}") from None
    return FlyteConnectionSettings(config=config, project=project, domain=domain)


def _endpoint(conn_id: str, host: str | None, port: int | None) -> str:
    text = (host or "").strip()
    for scheme in _SCHEMES:
        if text.lower().startswith(scheme):
            text = text[len(scheme) :]
            break
    text = text.rstrip("/")
    if not text:
        raise FlyteConfigurationException(f"connection {conn_id!r} has no host; set it to Flyte Admin's address")
    if port is None:
        return text
    try:
        number = int(port)
    except (TypeError, ValueError):
        raise FlyteConfigurationException(f"connection {conn_id!r} has port={port!r}, which is not a number") from None
    if not 0 < number < 65536:
        raise FlyteConfigurationException(f"connection {conn_id!r} has port={port!r}, outside 1-65535")
    if ":" in text.rsplit("]", 1)[-1]:
        raise FlyteConfigurationException(
            f"connection {conn_id!r} gives a port both in host={host!r} and in port={port!r}; keep one"
        )
    return f"{text}:{number}"


def _coerce(conn_id: str, key: str, kind: str, value: Any) -> Any:
    def bad(expected: str) -> FlyteConfigurationException:
        shown = "***" if key == "static_token" else repr(value)
        return FlyteConfigurationException(f"connection {conn_id!r} extra {key}={shown} must be {expected}")

    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise bad("true or false")
    if kind == "int":
        if isinstance(value, bool):
            raise bad("an integer")
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad("an integer") from None
    if kind == "float":
        if isinstance(value, bool):
            raise bad("a number")
        try:
            return float(str(value).strip())
        except ValueError:
            raise bad("a number") from None
    if kind == "strings":
        if isinstance(value, str) or (isinstance(value, list) and all(isinstance(item, str) for item in value)):
            return value
        raise bad("a list of strings or a space/comma separated string")
    if not isinstance(value, str):
        raise bad("a string")
    return value.strip()


def mask_secrets(password: str | None, extra: Mapping[str, Any]) -> None:
    """Register the connection's secrets with Airflow's masker so they never reach task logs."""
    from airflow.sdk.log import mask_secret

    for secret in (password, extra.get("static_token"), extra.get(f"{_UI_PREFIX}static_token")):
        if isinstance(secret, str) and secret:
            mask_secret(secret)


async def amask_secrets(password: str | None, extra: Mapping[str, Any]) -> None:
    """The asyncio twin of :func:`mask_secrets`, for the triggerer."""
    try:
        from airflow.sdk.log import amask_secret  # Airflow 3.3.2+
    except ImportError:
        return  # older: the connection was fetched (and masked) by the sync path in a worker thread
    for secret in (password, extra.get("static_token"), extra.get(f"{_UI_PREFIX}static_token")):
        if isinstance(secret, str) and secret:
            await amask_secret(secret)
