"""Apache Airflow provider for Flyte, speaking Flyte Admin gRPC directly (no flytekit at run time).

The public names below load lazily (PEP 562): importing this package, as every DAG file using the provider does,
loads no grpc, protobuf or flyteidl module, nor Airflow itself. Each name is imported when first used, typically
while a task runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_flyte._lazy import lazy_exports
from airflow_provider_flyte.version import __version__

if TYPE_CHECKING:
    from airflow_provider_flyte.clients import AsyncFlyteClient, RawSynchronousFlyteClient, SynchronousFlyteClient
    from airflow_provider_flyte.configuration import AuthMode, PlatformConfig
    from airflow_provider_flyte.exceptions import (
        FlyteAuthenticationException,
        FlyteEntityAlreadyExistsException,
        FlyteEntityNotExistException,
        FlyteException,
        FlyteFailedPreconditionException,
        FlyteInvalidInputException,
        FlyteSystemException,
        FlyteSystemUnavailableException,
        FlyteTimeout,
    )
    from airflow_provider_flyte.hooks.flyte import FlyteHook
    from airflow_provider_flyte.identifiers import (
        Identifier,
        NodeExecutionIdentifier,
        ResourceType,
        TaskExecutionIdentifier,
        WorkflowExecutionIdentifier,
    )
    from airflow_provider_flyte.links.flyte import FlyteConsoleLink
    from airflow_provider_flyte.operators.flyte import FlyteOperator
    from airflow_provider_flyte.remote import (
        FlyteExecutionSpan,
        FlyteNodeExecution,
        FlyteRemote,
        FlyteTaskExecution,
        FlyteWorkflowExecution,
        LazyEntity,
        Options,
    )
    from airflow_provider_flyte.sensors.flyte import FlyteExecutionSensor
    from airflow_provider_flyte.triggers.flyte import FlyteExecutionTrigger

_EXCEPTIONS = "airflow_provider_flyte.exceptions"
_IDENTIFIERS = "airflow_provider_flyte.identifiers"
_REMOTE = "airflow_provider_flyte.remote"
_LAZY: dict[str, str] = {
    "PlatformConfig": "airflow_provider_flyte.configuration",
    "AuthMode": "airflow_provider_flyte.configuration",
    "SynchronousFlyteClient": "airflow_provider_flyte.clients",
    "AsyncFlyteClient": "airflow_provider_flyte.clients",
    "RawSynchronousFlyteClient": "airflow_provider_flyte.clients",
    "FlyteRemote": _REMOTE,
    "FlyteWorkflowExecution": _REMOTE,
    "FlyteNodeExecution": _REMOTE,
    "FlyteTaskExecution": _REMOTE,
    "FlyteExecutionSpan": _REMOTE,
    "LazyEntity": _REMOTE,
    "Options": _REMOTE,
    "FlyteHook": "airflow_provider_flyte.hooks.flyte",
    "FlyteOperator": "airflow_provider_flyte.operators.flyte",
    "FlyteConsoleLink": "airflow_provider_flyte.links.flyte",
    "FlyteExecutionSensor": "airflow_provider_flyte.sensors.flyte",
    "FlyteExecutionTrigger": "airflow_provider_flyte.triggers.flyte",
    "FlyteException": _EXCEPTIONS,
    "FlyteAuthenticationException": _EXCEPTIONS,
    "FlyteEntityAlreadyExistsException": _EXCEPTIONS,
    "FlyteEntityNotExistException": _EXCEPTIONS,
    "FlyteFailedPreconditionException": _EXCEPTIONS,
    "FlyteInvalidInputException": _EXCEPTIONS,
    "FlyteSystemException": _EXCEPTIONS,
    "FlyteSystemUnavailableException": _EXCEPTIONS,
    "FlyteTimeout": _EXCEPTIONS,
    "Identifier": _IDENTIFIERS,
    "NodeExecutionIdentifier": _IDENTIFIERS,
    "ResourceType": _IDENTIFIERS,
    "TaskExecutionIdentifier": _IDENTIFIERS,
    "WorkflowExecutionIdentifier": _IDENTIFIERS,
}

__all__ = [
    "AsyncFlyteClient",
    "AuthMode",
    "FlyteAuthenticationException",
    "FlyteConsoleLink",
    "FlyteEntityAlreadyExistsException",
    "FlyteEntityNotExistException",
    "FlyteException",
    "FlyteExecutionSensor",
    "FlyteExecutionSpan",
    "FlyteExecutionTrigger",
    "FlyteFailedPreconditionException",
    "FlyteHook",
    "FlyteInvalidInputException",
    "FlyteNodeExecution",
    "FlyteOperator",
    "FlyteRemote",
    "FlyteSystemException",
    "FlyteSystemUnavailableException",
    "FlyteTaskExecution",
    "FlyteTimeout",
    "FlyteWorkflowExecution",
    "Identifier",
    "LazyEntity",
    "NodeExecutionIdentifier",
    "Options",
    "PlatformConfig",
    "RawSynchronousFlyteClient",
    "ResourceType",
    "SynchronousFlyteClient",
    "TaskExecutionIdentifier",
    "WorkflowExecutionIdentifier",
    "__version__",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
