"""Apache Airflow provider for Flyte, speaking Flyte Admin gRPC directly (no flytekit at run time).

The public names below load lazily (PEP 562): importing this package, as every DAG file using the provider does,
loads no grpc, protobuf or flyteidl module. They are imported when first used, typically while a task runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.version import __version__

if TYPE_CHECKING:
    from airflow_provider_flyte.configuration import AuthMode, PlatformConfig
    from airflow_provider_flyte.exceptions import (
        FlyteAuthenticationException,
        FlyteEntityAlreadyExistsException,
        FlyteEntityNotExistException,
        FlyteException,
        FlyteInvalidInputException,
        FlyteSystemException,
        FlyteSystemUnavailableException,
        FlyteTimeout,
    )
    from airflow_provider_flyte.identifiers import (
        Identifier,
        NodeExecutionIdentifier,
        ResourceType,
        TaskExecutionIdentifier,
        WorkflowExecutionIdentifier,
    )

_LAZY: dict[str, str] = {
    "PlatformConfig": "airflow_provider_flyte.configuration",
    "AuthMode": "airflow_provider_flyte.configuration",
    "FlyteException": "airflow_provider_flyte.exceptions",
    "FlyteAuthenticationException": "airflow_provider_flyte.exceptions",
    "FlyteEntityAlreadyExistsException": "airflow_provider_flyte.exceptions",
    "FlyteEntityNotExistException": "airflow_provider_flyte.exceptions",
    "FlyteInvalidInputException": "airflow_provider_flyte.exceptions",
    "FlyteSystemException": "airflow_provider_flyte.exceptions",
    "FlyteSystemUnavailableException": "airflow_provider_flyte.exceptions",
    "FlyteTimeout": "airflow_provider_flyte.exceptions",
    "Identifier": "airflow_provider_flyte.identifiers",
    "NodeExecutionIdentifier": "airflow_provider_flyte.identifiers",
    "ResourceType": "airflow_provider_flyte.identifiers",
    "TaskExecutionIdentifier": "airflow_provider_flyte.identifiers",
    "WorkflowExecutionIdentifier": "airflow_provider_flyte.identifiers",
}

__all__ = [
    "AuthMode",
    "FlyteAuthenticationException",
    "FlyteEntityAlreadyExistsException",
    "FlyteEntityNotExistException",
    "FlyteException",
    "FlyteInvalidInputException",
    "FlyteSystemException",
    "FlyteSystemUnavailableException",
    "FlyteTimeout",
    "Identifier",
    "NodeExecutionIdentifier",
    "PlatformConfig",
    "ResourceType",
    "TaskExecutionIdentifier",
    "WorkflowExecutionIdentifier",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
