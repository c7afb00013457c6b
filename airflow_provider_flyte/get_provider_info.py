"""Provider metadata read by Airflow's providers manager (entry point ``apache_airflow_provider``).

The connection form is declared here (``conn-fields`` and ``ui-field-behaviour``), the way Airflow 3.2+ reads it;
``FlyteHook.get_ui_field_behaviour`` keeps the hook-method form for Airflow 3.1.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_flyte.version import __version__

_MODULES = "airflow_provider_flyte"


def _field(label: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": schema}


_CONN_FIELDS: dict[str, Any] = {
    "project": _field("Project", "Default Flyte project of tasks using this connection.", {"type": ["string", "null"]}),
    "domain": _field(
        "Domain", "Default Flyte domain (development, staging, production...).", {"type": ["string", "null"]}
    ),
    "insecure": _field("Insecure (no TLS)", "Plain-text gRPC, e.g. for a local sandbox.", {"type": "boolean"}),
    "insecure_skip_verify": _field(
        "Skip TLS verification", "Use TLS but trust any server certificate.", {"type": "boolean"}
    ),
    "ca_cert_file_path": _field(
        "CA certificate file", "PEM file of CAs to trust instead of the system roots.", {"type": ["string", "null"]}
    ),
    "auth_mode": _field(
        "Auth mode",
        "How to obtain tokens. Default: client_credentials when a client secret is set, else none.",
        {
            "type": ["string", "null"],
            "enum": [None, "none", "client_credentials", "external_command", "static_token", "device_flow", "pkce"],
        },
    ),
    "scopes": _field("Scopes", "OAuth2 scopes, space or comma separated.", {"type": ["string", "null"]}),
    "audience": _field(
        "Audience", "OAuth2 audience, for identity providers that need one.", {"type": ["string", "null"]}
    ),
    "command": _field(
        "External command",
        "Command printing an access token (auth_mode external_command).",
        {"type": ["string", "null"]},
    ),
    "static_token": _field(
        "Static token",
        "A ready access token (auth_mode static_token).",
        {"type": ["string", "null"], "format": "password"},
    ),
    "console_endpoint": _field(
        "Console URL",
        "Base URL of the Flyte Console for links; derived from the host when empty.",
        {"type": ["string", "null"]},
    ),
}

_UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema"],
    "relabeling": {"host": "Flyte Admin host", "login": "Client ID", "password": "Client secret"},
    "placeholders": {
        "host": "flyte.example.com",
        "port": "443",
        "login": "OAuth2 client id (client credentials)",
        "password": "OAuth2 client secret",
    },
}


def get_provider_info() -> dict[str, Any]:
    """Return the provider description Airflow uses to discover hooks, operators and connection types."""
    return {
        "package-name": "airflow-provider-flyte",
        "name": "Flyte",
        "description": "Launch, watch and steer Flyte executions from Airflow, over gRPC and without flytekit.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Flyte",
                "external-doc-url": "https://docs.flyte.org/",
                "tags": ["software"],
            }
        ],
        "connection-types": [
            {
                "connection-type": "flyte",
                "hook-class-name": f"{_MODULES}.hooks.flyte.FlyteHook",
                "hook-name": "Flyte",
                "conn-fields": _CONN_FIELDS,
                "ui-field-behaviour": _UI_FIELD_BEHAVIOUR,
            }
        ],
        "hooks": [{"integration-name": "Flyte", "python-modules": [f"{_MODULES}.hooks.flyte"]}],
        "operators": [
            {
                "integration-name": "Flyte",
                "python-modules": [
                    f"{_MODULES}.operators.flyte",
                    f"{_MODULES}.operators.signal",
                    f"{_MODULES}.operators.backfill",
                    f"{_MODULES}.operators.approval",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Flyte",
                "python-modules": [f"{_MODULES}.sensors.flyte", f"{_MODULES}.sensors.signal"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Flyte",
                "python-modules": [
                    f"{_MODULES}.triggers.flyte",
                    f"{_MODULES}.triggers.signal",
                    f"{_MODULES}.triggers.backfill",
                ],
            }
        ],
        "extra-links": [f"{_MODULES}.operators.flyte.FlyteConsoleLink"],
    }
