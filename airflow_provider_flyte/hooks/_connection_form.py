"""The ``flyte`` connection form, declared once for every Airflow version.

Airflow 3.2+ reads the form from the provider info (``conn-fields`` and ``ui-field-behaviour``, kebab-case keys);
Airflow 3.1 asks the hook (``get_ui_field_behaviour``, snake-case keys). Both come from the declarations here.

Imports neither Airflow nor grpc: :mod:`airflow_provider_flyte.get_provider_info` reads it.
"""

from __future__ import annotations

import copy
from typing import Any

CONN_TYPE = "flyte"
"""The connection type of Flyte Admin connections."""
DEFAULT_CONN_ID = "flyte_default"
"""The connection used when a task names none."""


def _field(label: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": schema}


_OPTIONAL_TEXT: dict[str, Any] = {"type": ["string", "null"]}
_OPTIONAL_SWITCH: dict[str, Any] = {"type": ["boolean", "null"]}
"""Every extra is optional: Airflow's form treats a field whose type does not admit ``null`` as required.

Airflow 3's form has no placeholder text of its own for these fields: a text field with ``examples`` shows "Start
typing to see options" and offers the examples as suggestions, so every free-text field that is not a secret has
some.
"""

CONN_FIELDS: dict[str, Any] = {
    "project": _field(
        "Project",
        "Default Flyte project of tasks using this connection, e.g. flytesnacks.",
        {**_OPTIONAL_TEXT, "examples": ["flytesnacks"]},
    ),
    "domain": _field(
        "Domain",
        "Default Flyte domain of tasks using this connection.",
        {**_OPTIONAL_TEXT, "examples": ["development", "staging", "production"]},
    ),
    "insecure": _field(
        "Insecure (no TLS)", "Plain-text gRPC, e.g. for a local sandbox. Off: TLS.", dict(_OPTIONAL_SWITCH)
    ),
    "insecure_skip_verify": _field(
        "Skip TLS verification",
        "Use TLS but trust any server certificate (self-signed test clusters only).",
        dict(_OPTIONAL_SWITCH),
    ),
    "ca_cert_file_path": _field(
        "CA certificate file",
        "Path on the workers of a PEM file of CAs to trust instead of the system roots, e.g. /etc/flyte/ca.pem.",
        {**_OPTIONAL_TEXT, "examples": ["/etc/flyte/ca.pem"]},
    ),
    "backend": _field(
        "Flyte version",
        "Which Flyte the host runs: Flyte 1 (Flyte Admin, the default), Flyte 2, or Automatic (probe once).",
        {
            **_OPTIONAL_TEXT,
            "enum": [None, "flyte1", "flyte2", "auto"],
            "values_display": {
                "null": "Flyte 1 (default)",
                "flyte1": "Flyte 1 (Flyte Admin)",
                "flyte2": "Flyte 2",
                "auto": "Automatic (probe the server)",
            },
        },
    ),
    "auth_mode": _field(
        "Auth mode",
        "How to obtain tokens. Automatic: client credentials when a client secret is set, else no token. "
        "API key (Flyte 2): the password field holds the key that `flyte create api-key` printed.",
        {
            **_OPTIONAL_TEXT,
            "enum": [
                *(None, "none", "client_credentials", "external_command", "static_token"),
                *("device_flow", "pkce", "api_key"),
            ],
            "values_display": {
                "null": "Automatic",
                "none": "No token",
                "client_credentials": "Client credentials (client ID and secret)",
                "external_command": "External command",
                "static_token": "Static token",
                "device_flow": "Device flow",
                "pkce": "PKCE (browser login)",
                "api_key": "API key (Flyte 2; the key in the password field)",
            },
        },
    ),
    "scopes": _field(
        "Scopes",
        "OAuth2 scopes, space or comma separated, e.g. all. Empty: what Flyte Admin advertises.",
        {**_OPTIONAL_TEXT, "examples": ["all", "offline all"]},
    ),
    "audience": _field(
        "Audience",
        "OAuth2 audience, for identity providers that need one (e.g. Auth0, Okta custom servers).",
        {**_OPTIONAL_TEXT, "examples": ["https://flyte.example.com"]},
    ),
    "command": _field(
        "External command",
        "Command printing an access token (auth mode External command), e.g. gcloud auth print-identity-token.",
        {**_OPTIONAL_TEXT, "examples": ["gcloud auth print-identity-token"]},
    ),
    "static_token": _field(
        "Static token",
        "A ready access token (auth mode Static token). Stored encrypted like the password.",
        {**_OPTIONAL_TEXT, "format": "password"},
    ),
    "console_endpoint": _field(
        "Console URL",
        "Base URL of the Flyte Console for links, e.g. https://flyte.example.com. Empty: derived from the host.",
        {**_OPTIONAL_TEXT, "examples": ["https://flyte.example.com"]},
    ),
}
"""Extras shown as form fields (Airflow 3.2+); each is an extra key the hook accepts."""

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema"],
    "relabeling": {"host": "Flyte Admin host", "login": "Client ID", "password": "Client secret or API key"},
    "placeholders": {
        "host": "flyte.example.com (dns:///flyte.example.com also works)",
        "port": "443 (TLS); 30080 or 8089 for a local sandbox",
        "login": "OAuth2 client id (client credentials)",
        "password": "OAuth2 client secret, or the Flyte 2 API key (auth mode API key)",
    },
}
"""Hidden, relabelled and placeholder-bearing standard fields, in the provider-info form (Airflow 3.2+)."""

_EXTRA_PLACEHOLDER = '{"project": "flytesnacks", "domain": "development", "insecure": false}'
"""Airflow 3.1 has no ``conn-fields``: its form shows the raw extra, so it gets an example."""


def hook_ui_field_behaviour() -> dict[str, Any]:
    """:data:`UI_FIELD_BEHAVIOUR` in the form ``BaseHook.get_ui_field_behaviour`` returns (Airflow 3.1).

    Keys are snake-case, and the extra, which Airflow 3.1 shows as raw JSON, gets an example placeholder.
    """
    behaviour = copy.deepcopy(UI_FIELD_BEHAVIOUR)
    return {
        "hidden_fields": behaviour["hidden-fields"],
        "relabeling": behaviour["relabeling"],
        "placeholders": {**behaviour["placeholders"], "extra": _EXTRA_PLACEHOLDER},
    }


__all__ = ["CONN_FIELDS", "CONN_TYPE", "DEFAULT_CONN_ID", "UI_FIELD_BEHAVIOUR", "hook_ui_field_behaviour"]
