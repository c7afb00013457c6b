"""Flyte Admin clients: raw stubs with interceptors, friendly sync and asyncio clients, auth token sources.

Names load lazily (PEP 562) so that importing this package loads no grpc, protobuf or flyteidl module until one of
the names below is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_flyte._lazy import lazy_exports

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.aio import AsyncFlyteClient
    from airflow_provider_flyte.clients.auth.token_source import Token, TokenSource
    from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient
    from airflow_provider_flyte.clients.policy import RetryPolicy
    from airflow_provider_flyte.clients.raw import RawAsyncFlyteClient, RawSynchronousFlyteClient

_LAZY: dict[str, str] = {
    "SynchronousFlyteClient": "airflow_provider_flyte.clients.friendly",
    "AsyncFlyteClient": "airflow_provider_flyte.clients.aio",
    "RawSynchronousFlyteClient": "airflow_provider_flyte.clients.raw",
    "RawAsyncFlyteClient": "airflow_provider_flyte.clients.raw",
    "RetryPolicy": "airflow_provider_flyte.clients.policy",
    "Token": "airflow_provider_flyte.clients.auth.token_source",
    "TokenSource": "airflow_provider_flyte.clients.auth.token_source",
}

__all__ = [
    "AsyncFlyteClient",
    "RawAsyncFlyteClient",
    "RawSynchronousFlyteClient",
    "RetryPolicy",
    "SynchronousFlyteClient",
    "Token",
    "TokenSource",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
