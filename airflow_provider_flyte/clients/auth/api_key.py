"""Flyte 2 API keys: ``base64("endpoint:client_id:client_secret:org")``, used as OAuth2 client credentials.

This is the form ``flyte create api-key`` prints and the ``flyte`` SDK reads from ``FLYTE_API_KEY``
(``flyte.remote._client.auth._auth_utils.decode_api_key``): the SDK decodes it into an endpoint and a client id and
secret and then runs the client credentials flow, and so does
:func:`~airflow_provider_flyte.clients.auth.token_source_for` for ``auth_mode="api_key"``. The key, and the secret
inside it, never appear in a ``repr``, a log line or an error text.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass, field

from airflow_provider_flyte.exceptions import FlyteConfigurationException

API_KEY_ENV_VAR = "FLYTE_API_KEY"
"""The environment variable the ``flyte`` SDK reads an API key from."""

_FORMAT = "the base64 of 'endpoint:client_id:client_secret:org', as `flyte create api-key` prints it"
_SCHEMES = re.compile(r"^(?:dns:///|https?://|grpcs?://)", re.IGNORECASE)
# endpoint[:port] : client_id : client_secret (may hold ':') : org (none)
_PARTS = re.compile(r"^(?P<endpoint>[^:]+(?::\d+)?):(?P<client_id>[^:]+):(?P<secret>.+):(?P<org>[^:]*)$", re.DOTALL)


@dataclass(frozen=True)
class ApiKey:
    """A decoded API key; the secret is hidden from ``repr``.

    Attributes:
        endpoint: ``host[:port]`` of the Flyte 2 API (a ``dns:///`` or ``https://`` prefix removed).
        client_id: The OAuth2 client id.
        client_secret: The OAuth2 client secret.
        org: The organization, or ``None`` when the key names none (the SDK's ``"None"``).
    """

    endpoint: str
    client_id: str
    client_secret: str = field(repr=False)
    org: str | None = None


def resolve_api_key(api_key: str | None, *, source: str = "api_key") -> str:
    """Return ``api_key``, or ``$FLYTE_API_KEY`` when it is ``None`` or empty.

    Raises:
        FlyteConfigurationException: when neither is set, naming both.
    """
    key = (api_key or os.environ.get(API_KEY_ENV_VAR, "")).strip()
    if not key:
        raise FlyteConfigurationException(
            f"no Flyte 2 API key: set {source} (or the {API_KEY_ENV_VAR} environment variable) to {_FORMAT}"
        )
    return key


def decode_api_key(api_key: str, *, source: str = "api_key") -> ApiKey:
    """Decode an API key into its endpoint, client id, client secret and organization.

    Args:
        api_key: The encoded key.
        source: How the caller names the setting the key came from (in error messages; never the key itself).

    Raises:
        FlyteConfigurationException: naming ``source`` and what is wrong, when the key is not base64 text or does
            not hold four ``:``-separated parts with a non-empty endpoint, client id and secret.
    """
    try:
        text = base64.b64decode(api_key.strip().encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise FlyteConfigurationException(
            f"{source} is not a Flyte 2 API key: it is not base64-encoded UTF-8 text; expected {_FORMAT}"
        ) from None
    match = _PARTS.match(_SCHEMES.sub("", text.strip()))
    if match is None:
        raise FlyteConfigurationException(
            f"{source} is not a Flyte 2 API key: the decoded text does not have four ':'-separated parts with a "
            f"non-empty endpoint, client id and secret; expected {_FORMAT}"
        )
    org = match["org"]
    return ApiKey(
        endpoint=match["endpoint"].rstrip("/"),
        client_id=match["client_id"],
        client_secret=match["secret"],
        org=None if org in ("", "None") else org,
    )


def encode_api_key(endpoint: str, client_id: str, client_secret: str, org: str | None = None) -> str:
    """The API key for these parts (the inverse of :func:`decode_api_key`; for tests and tooling)."""
    return base64.b64encode(f"{endpoint}:{client_id}:{client_secret}:{org or 'None'}".encode()).decode("ascii")
