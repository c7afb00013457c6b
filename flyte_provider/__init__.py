"""The 0.0.5 import package ``flyte_provider``, kept so that DAGs written for airflow-provider-flyte 0.0.5 import.

airflow-provider-flyte 0.0.5 (2022) shipped ``flyte_provider``; this distribution replaces it under the same name and
ships ``airflow_provider_flyte``. The classes here are thin layers over the new ones that keep 0.0.5's interface
where DAGs depend on it (the operator returns the execution name without waiting; the sensor takes that name), and
each emits ``AirflowProviderDeprecationWarning`` naming its replacement. See ``docs/migration.md``.

Importing this package, or its ``hooks``, ``operators`` and ``sensors`` modules, loads no grpc, protobuf or
flyteidl module.
"""

from __future__ import annotations

from typing import Any

from flyte_provider._migration import LegacyParameterError, warn_deprecated


def get_provider_info() -> dict[str, Any]:
    """Return the provider description of ``airflow_provider_flyte`` (deprecated 0.0.5 entry point).

    Airflow finds the provider through ``airflow_provider_flyte.get_provider_info``; this function returns the
    same description, so Airflow lists one provider whichever is called.
    """
    from airflow_provider_flyte.get_provider_info import get_provider_info as provider_info

    warn_deprecated(
        "flyte_provider.get_provider_info",
        "from airflow_provider_flyte.get_provider_info import get_provider_info",
    )
    return provider_info()


__all__ = ["LegacyParameterError", "get_provider_info"]
