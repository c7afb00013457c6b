"""Provider metadata read by Airflow's providers manager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_provider_flyte.version import __version__


def get_provider_info() -> dict[str, Any]:
    """Return the provider description Airflow uses to discover hooks, operators and connection types."""
    return {
        "package-name": "airflow-provider-flyte",
        "name": "Flyte",
        "description": "Launch, watch and steer Flyte executions from Airflow, over gRPC and without flytekit.",
        "versions": [__version__],
    }
