"""The Flyte 2 client: raw, friendly sync and asyncio clients for the ``flyteidl2`` services (the ``flyte2`` extra).

This subpackage is the only part of the package that imports ``flyteidl2``; nothing outside it imports it, so a
Flyte 1 installation without the extra works unchanged. Names load lazily (PEP 562): importing this package loads
neither grpc nor ``flyteidl2`` until one of the names below is used.

* :class:`Flyte2Client` / :class:`AsyncFlyte2Client`: tasks, runs (create, watch, abort, outputs), triggers;
* :class:`RawFlyte2Client` / :class:`RawAsyncFlyte2Client`: the intercepted stubs;
* :class:`RunPhase`, :data:`TERMINAL_PHASES`, :func:`run_url`: phases and the console link;
* :func:`encode_inputs`, :func:`decode_outputs`: Python values to and from ``flyteidl2`` literals;
* :func:`check_run_name`: the run name rule (at most 30 lowercase letters, digits and ``-``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_flyte._lazy import lazy_exports

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.v2._calls import check_run_name
    from airflow_provider_flyte.clients.v2.aio import AsyncFlyte2Client
    from airflow_provider_flyte.clients.v2.friendly import Flyte2Client
    from airflow_provider_flyte.clients.v2.literals import decode_outputs, encode_inputs
    from airflow_provider_flyte.clients.v2.phases import TERMINAL_PHASES, RunPhase, run_url
    from airflow_provider_flyte.clients.v2.raw import RawAsyncFlyte2Client, RawFlyte2Client

_LAZY: dict[str, str] = {
    "AsyncFlyte2Client": "airflow_provider_flyte.clients.v2.aio",
    "Flyte2Client": "airflow_provider_flyte.clients.v2.friendly",
    "RawAsyncFlyte2Client": "airflow_provider_flyte.clients.v2.raw",
    "RawFlyte2Client": "airflow_provider_flyte.clients.v2.raw",
    "RunPhase": "airflow_provider_flyte.clients.v2.phases",
    "TERMINAL_PHASES": "airflow_provider_flyte.clients.v2.phases",
    "run_url": "airflow_provider_flyte.clients.v2.phases",
    "check_run_name": "airflow_provider_flyte.clients.v2._calls",
    "decode_outputs": "airflow_provider_flyte.clients.v2.literals",
    "encode_inputs": "airflow_provider_flyte.clients.v2.literals",
}

__all__ = [
    "TERMINAL_PHASES",
    "AsyncFlyte2Client",
    "Flyte2Client",
    "RawAsyncFlyte2Client",
    "RawFlyte2Client",
    "RunPhase",
    "check_run_name",
    "decode_outputs",
    "encode_inputs",
    "run_url",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
