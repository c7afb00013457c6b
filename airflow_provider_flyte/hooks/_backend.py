"""Which Flyte a ``flyte`` connection talks to: its ``backend`` extra, or (``auto``) a probe remembered per connection.

The probe asks Flyte 2's ``ProjectService.ListProjects`` for one project: an answer means Flyte 2, UNIMPLEMENTED
(what Flyte Admin, which serves no ``flyteidl2`` service, answers) means Flyte 1. Without the ``flyte2`` extra
(``flyteidl2`` missing) the endpoint can only be used as Flyte 1. The result is kept per connection id and endpoint
for the life of the process, so a triggerer or worker probes a connection once.

Importing this module loads no grpc, protobuf or flyteidl code.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import threading

from airflow_provider_flyte.configuration import Backend, PlatformConfig
from airflow_provider_flyte.exceptions import FlyteConfigurationException, FlyteException, FlyteNotImplementedException

log = logging.getLogger(__name__)

_RESOLVED: dict[tuple[str, str], Backend] = {}
_LOCK = threading.Lock()


def resolve_backend(conn_id: str, config: PlatformConfig) -> Backend:
    """``config.backend``, or for ``auto`` the probed backend (probed once per connection id and endpoint).

    Raises:
        FlyteConfigurationException: when the probe gets neither answer (naming the connection and the fix).
    """
    if config.backend is not Backend.AUTO:
        return config.backend
    key = (conn_id, config.endpoint)
    with _LOCK:
        known = _RESOLVED.get(key)
    if known is not None:
        return known
    backend = probe_backend(conn_id, config)
    with _LOCK:
        _RESOLVED[key] = backend
    log.info(
        "Connection %r: %s runs %s (probed; set the backend extra to skip the probe)",
        conn_id,
        config.endpoint,
        backend.value,
    )
    return backend


async def aresolve_backend(conn_id: str, config: PlatformConfig) -> Backend:
    """:func:`resolve_backend` without blocking the event loop (a probe runs on a worker thread)."""
    if config.backend is not Backend.AUTO:
        return config.backend
    return await asyncio.to_thread(resolve_backend, conn_id, config)


def probe_backend(conn_id: str, config: PlatformConfig) -> Backend:
    """Ask the endpoint whether it serves Flyte 2 (one ``ListProjects``); Flyte 1 when it does not.

    Raises:
        FlyteConfigurationException: when the endpoint cannot be reached or refuses the probe otherwise.
    """
    if importlib.util.find_spec("flyteidl2") is None:
        log.info("Connection %r: flyteidl2 is not installed (the flyte2 extra), so it is used as Flyte 1", conn_id)
        return Backend.FLYTE1
    from flyteidl2.project import project_service_pb2

    from airflow_provider_flyte.clients.v2 import Flyte2Client

    try:
        with Flyte2Client(config) as client:
            client.raw.project_service.ListProjects(project_service_pb2.ListProjectsRequest(limit=1))
    except FlyteNotImplementedException:
        return Backend.FLYTE1
    except FlyteException as error:
        raise FlyteConfigurationException(
            f"connection {conn_id!r} has backend='auto', but probing {config.endpoint} failed ({error}); "
            "set its backend extra to 'flyte1' or 'flyte2'"
        ) from None
    return Backend.FLYTE2


def forget_backends() -> None:
    """Drop every remembered probe (tests, or after moving a connection to another server)."""
    with _LOCK:
        _RESOLVED.clear()


__all__ = ["aresolve_backend", "forget_backends", "probe_backend", "resolve_backend"]
