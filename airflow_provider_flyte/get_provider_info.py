"""Provider metadata read by Airflow's providers manager (entry point ``apache_airflow_provider``).

The connection form (``conn-fields`` and ``ui-field-behaviour``, the way Airflow 3.2+ reads it) comes from
:mod:`airflow_provider_flyte.hooks._connection_form`, which also gives ``FlyteHook.get_ui_field_behaviour`` its
hook-method form for Airflow 3.1. Importing this module imports neither Airflow nor grpc.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_flyte.hooks._connection_form import CONN_FIELDS, CONN_TYPE, UI_FIELD_BEHAVIOUR
from airflow_provider_flyte.version import __version__

_MODULES = "airflow_provider_flyte"


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
                "connection-type": CONN_TYPE,
                "hook-class-name": f"{_MODULES}.hooks.flyte.FlyteHook",
                "hook-name": "Flyte",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
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
                    f"{_MODULES}.triggers.flyte2",
                    f"{_MODULES}.triggers.signal",
                    f"{_MODULES}.triggers.backfill",
                ],
            }
        ],
        "extra-links": [f"{_MODULES}.links.flyte.FlyteConsoleLink"],
    }
