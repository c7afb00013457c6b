"""FlyteHook: an Airflow ``flyte`` connection turned into Flyte clients.

The connection maps onto :class:`~airflow_provider_flyte.configuration.PlatformConfig`
(:mod:`~airflow_provider_flyte.hooks._connection_settings` reads and checks it, for the sync hook on workers and the
async hook in the triggerer alike).

Importing this module loads no grpc, protobuf or flyteidl code (DAG files import it); the clients are created, and
their modules imported, on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import sys
import time
import weakref
from collections.abc import AsyncIterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from airflow_provider_flyte.configuration import Backend, PlatformConfig
from airflow_provider_flyte.exceptions import FlyteConfigurationException
from airflow_provider_flyte.hooks._connection_form import CONN_TYPE, DEFAULT_CONN_ID, hook_ui_field_behaviour
from airflow_provider_flyte.hooks._connection_settings import (
    FlyteConnectionSettings,
    amask_secrets,
    mask_secrets,
    settings_from_connection,
)
from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
from airflow_provider_flyte.watch import (
    ExecutionWatcher,
    leased_async_client,
    leased_flyte2_client,
    release_async_client,
    run_watcher_for,
    shared_async_client,
)

if TYPE_CHECKING:
    from airflow.sdk import Connection

    from airflow_provider_flyte.clients.aio import AsyncFlyteClient
    from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient
    from airflow_provider_flyte.clients.v2 import AsyncFlyte2Client, Flyte2Client
    from airflow_provider_flyte.remote import FlyteRemote

log = logging.getLogger(__name__)


class FlyteHook(BaseHook):
    """Talk to Flyte Admin through an Airflow connection of type ``flyte``.

    The client and the remote are created on first use and reused for the hook's lifetime, so a poking sensor or a
    polling operator keeps one channel (and one access token) instead of opening one per call.

    Args:
        flyte_conn_id: The connection to use.
        project: Default project; overrides the connection's ``project`` extra.
        domain: Default domain; overrides the connection's ``domain`` extra.
    """

    conn_name_attr = "flyte_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = "Flyte"

    def __init__(
        self,
        flyte_conn_id: str = DEFAULT_CONN_ID,
        project: str | None = None,
        domain: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.flyte_conn_id = flyte_conn_id
        self._project = project
        self._domain = domain
        self._client: SynchronousFlyteClient | None = None
        self._remote: FlyteRemote | None = None
        self._flyte2: Flyte2Client | None = None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Connection form layout for Airflow versions that read it from the hook (before 3.2)."""
        return hook_ui_field_behaviour()

    @cached_property
    def settings(self) -> FlyteConnectionSettings:
        """The validated connection (looked up once)."""
        conn = self.get_connection(self.flyte_conn_id)
        extra = conn.extra_dejson
        mask_secrets(conn.password, extra)
        return settings_from_connection(self.flyte_conn_id, conn.host, conn.port, conn.login, conn.password, extra)

    @property
    def platform_config(self) -> PlatformConfig:
        """How to reach and authenticate against Flyte Admin."""
        return self.settings.config

    @property
    def project(self) -> str | None:
        """The default project: the hook's argument, else the connection's extra."""
        return self._project or self.settings.project

    @property
    def domain(self) -> str | None:
        """The default domain: the hook's argument, else the connection's extra."""
        return self._domain or self.settings.domain

    def get_conn(self) -> SynchronousFlyteClient:
        """Return the synchronous Flyte client (same as :meth:`get_client`)."""
        return self.get_client()

    def get_client(self) -> SynchronousFlyteClient:
        """Return the synchronous client, created on first call and reused afterwards."""
        if self._client is None:
            from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient

            self._client = SynchronousFlyteClient(self.platform_config)
        return self._client

    @property
    def backend(self) -> Backend:
        """Which Flyte the connection talks to: its ``backend`` extra, probed once per connection for ``auto``."""
        from airflow_provider_flyte.hooks._backend import resolve_backend

        return resolve_backend(self.flyte_conn_id, self.platform_config)

    def get_flyte2_client(self) -> Flyte2Client:
        """Return the Flyte 2 client (the ``flyte2`` extra), created on first call and reused afterwards."""
        if self._flyte2 is None:
            from airflow_provider_flyte.clients.v2 import Flyte2Client

            self._flyte2 = Flyte2Client(self.platform_config)
        return self._flyte2

    def get_remote(self) -> FlyteRemote:
        """Return a :class:`~airflow_provider_flyte.remote.FlyteRemote` sharing the hook's client."""
        if self._remote is None:
            from airflow_provider_flyte.remote import FlyteRemote

            self._remote = FlyteRemote(
                self.platform_config, default_project=self.project, default_domain=self.domain, client=self.get_client()
            )
        return self._remote

    def execution_id(
        self, name: str, project: str | None = None, domain: str | None = None
    ) -> WorkflowExecutionIdentifier:
        """The id of execution ``name`` (or parse ``ex:project:domain:name``), defaulting project and domain.

        Raises:
            FlyteConfigurationException: when the project or domain is neither given nor configured.
        """
        return resolve_execution_id(name, project or self.project, domain or self.domain)

    def console_url(self, execution_id: WorkflowExecutionIdentifier) -> str:
        """The Flyte Console page of an execution."""
        return execution_console_url(self.platform_config, execution_id)

    def test_connection(self) -> tuple[bool, str]:
        """Check the connection: settings, reachability and credentials (one authenticated RPC).

        Returns:
            ``(True, message)`` on success, ``(False, reason)`` otherwise, as Airflow's UI and CLI expect.
        """
        try:
            config = self.platform_config
            if self.backend is Backend.FLYTE2:
                return True, _printable(self._test_flyte2())
            client = self.get_client()
            version = client.get_control_plane_version() or "(version not reported)"
            where = config.endpoint
            if self.project:
                client.get_project(self.project)  # an authenticated call, and the project must exist
                where += f", project {self.project!r}"
            return True, _printable(f"Connected to Flyte Admin {version} at {where}")
        except Exception as error:
            return False, _printable(f"{type(error).__name__}: {error}")
        finally:
            self.close()

    def _test_flyte2(self) -> str:
        """One authenticated Flyte 2 call (the project, when one is set); the success message."""
        from flyteidl2.project import project_service_pb2

        client = self.get_flyte2_client()
        where = self.platform_config.endpoint
        if self.project:
            client.raw.project_service.GetProject(
                project_service_pb2.GetProjectRequest(id=self.project, org=client.org)
            )
            where += f", project {self.project!r}"
        else:
            client.raw.project_service.ListProjects(project_service_pb2.ListProjectsRequest(limit=1, org=client.org))
        return f"Connected to Flyte 2 at {where}"

    def close(self) -> None:
        """Close the clients' channels, if any were opened."""
        client, self._client, self._remote = self._client, None, None
        flyte2, self._flyte2 = self._flyte2, None
        if client is not None:
            client.close()
        if flyte2 is not None:
            flyte2.close()


def resolve_execution_id(name: str, project: str | None, domain: str | None) -> WorkflowExecutionIdentifier:
    """``ex:project:domain:name`` parsed, or ``name`` with the given project and domain.

    Raises:
        FlyteConfigurationException: when a bare name comes without a project or domain.
    """
    if name.startswith("ex:"):
        return WorkflowExecutionIdentifier.from_python_std(name)
    if not project or not domain:
        missing = "project" if not project else "domain"
        raise FlyteConfigurationException(
            f"execution {name!r} needs a {missing}: pass {missing}= or set the connection's {missing!r} extra"
        )
    return WorkflowExecutionIdentifier(project, domain, name)


def execution_console_url(config: PlatformConfig, execution_id: WorkflowExecutionIdentifier) -> str:
    """The Flyte Console URL of an execution (pure string work, no RPC, no protobuf)."""
    from airflow_provider_flyte.remote.console import generate_console_url

    return generate_console_url(config, execution_id)


class FlyteAsyncHook:
    """The triggerer's view of a ``flyte`` connection: resolved asynchronously, one channel per event loop.

    Nothing here blocks the event loop: the connection comes from ``get_async_connection`` (Airflow's async path,
    which on Airflow before 3.3.2 runs the lookup in a worker thread), and the client is an
    :class:`~airflow_provider_flyte.clients.aio.AsyncFlyteClient` shared by every trigger of this connection running
    on the same loop (see :func:`airflow_provider_flyte.watch.shared_async_client`).

    Args:
        flyte_conn_id: The connection to use.
    """

    def __init__(self, flyte_conn_id: str = DEFAULT_CONN_ID) -> None:
        self.flyte_conn_id = flyte_conn_id
        self._settings: FlyteConnectionSettings | None = None

    async def get_settings(self) -> FlyteConnectionSettings:
        """The validated connection: looked up once per hook, and shared by the hooks of the running event loop.

        A triggerer starts triggers all the time; each would otherwise look the connection up again (a round trip
        to the API server or a secrets backend). Lookups of one connection id on one loop are shared for
        :data:`SETTINGS_TTL` seconds, concurrent ones included; a failed lookup is not remembered.
        """
        if self._settings is None:
            self._settings = await _shared_settings(self.flyte_conn_id)
        return self._settings

    async def get_client(self) -> AsyncFlyteClient:
        """The async client shared by this connection's users on the running event loop.

        For use across awaits (a trigger's polling loop), prefer :meth:`leased_client`: another user releasing the
        shared client (a watcher going idle) would otherwise close it under you.
        """
        settings = await self.get_settings()
        return shared_async_client(self.flyte_conn_id, settings.config)

    @contextlib.asynccontextmanager
    async def leased_client(self) -> AsyncIterator[AsyncFlyteClient]:
        """The shared async client, kept open while the context lasts (see :func:`~.watch.leased_async_client`)."""
        settings = await self.get_settings()
        async with leased_async_client(self.flyte_conn_id, settings.config) as client:
            yield client

    async def get_backend(self) -> Backend:
        """Which Flyte the connection talks to (an ``auto`` probe runs off the event loop, once per connection)."""
        from airflow_provider_flyte.hooks._backend import aresolve_backend

        settings = await self.get_settings()
        return await aresolve_backend(self.flyte_conn_id, settings.config)

    async def get_flyte2_client(self) -> AsyncFlyte2Client:
        """A new asyncio Flyte 2 client of the connection (the ``flyte2`` extra); the caller closes it.

        Its modules (grpc.aio, ``flyteidl2``) are imported on a worker thread the first time, off the event loop.
        """
        settings = await self.get_settings()
        await _import_flyte2_modules()
        from airflow_provider_flyte.clients.v2.aio import AsyncFlyte2Client

        return AsyncFlyte2Client(settings.config)

    @contextlib.asynccontextmanager
    async def leased_flyte2_client(self) -> AsyncIterator[AsyncFlyte2Client]:
        """The Flyte 2 client shared on the running loop, kept open while the context lasts.

        See :func:`~airflow_provider_flyte.watch.leased_flyte2_client`; its modules are imported off the event loop.
        """
        settings = await self.get_settings()
        await _import_flyte2_modules()
        async with leased_flyte2_client(self.flyte_conn_id, settings.config) as client:
            yield client

    async def flyte2_watcher(self) -> ExecutionWatcher:
        """The connection's Flyte 2 run watcher on the running loop (one ``ListRuns`` per project/domain and tick).

        See :func:`~airflow_provider_flyte.watch.run_watcher_for`; its modules are imported off the event loop.
        """
        settings = await self.get_settings()
        await _import_flyte2_modules()
        return run_watcher_for(self.flyte_conn_id, settings.config)


SETTINGS_TTL = 30.0
"""Seconds the hooks of one event loop share a connection lookup (a changed connection applies after that)."""

_SharedLookups = dict[str, tuple[float, "asyncio.Task[FlyteConnectionSettings]"]]
"""Per connection id: when the lookup started, and the lookup (shared while in flight, and for the TTL after)."""
_SETTINGS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _SharedLookups] = weakref.WeakKeyDictionary()


async def _shared_settings(conn_id: str) -> FlyteConnectionSettings:
    """The running loop's lookup of ``conn_id``, started if none is fresh (one lookup however many ask at once)."""
    loop = asyncio.get_running_loop()
    lookups = _SETTINGS.setdefault(loop, {})
    entry = lookups.get(conn_id)
    if entry is None or (entry[1].done() and entry[0] + SETTINGS_TTL < time.monotonic()):
        entry = (time.monotonic(), loop.create_task(_lookup_settings(conn_id)))
        lookups[conn_id] = entry
    lookup = entry[1]
    try:
        return await asyncio.shield(lookup)  # a cancelled trigger must not cancel the others' lookup
    except Exception:
        if lookups.get(conn_id) is entry:
            del lookups[conn_id]  # the next caller looks again
        raise


async def _lookup_settings(conn_id: str) -> FlyteConnectionSettings:
    from airflow.providers.common.compat.connection import get_async_connection

    conn: Connection = await get_async_connection(conn_id, hook=FlyteHook)
    extra = await _async_extra(conn)
    await amask_secrets(conn.password, extra)
    settings = settings_from_connection(conn_id, conn.host, conn.port, conn.login, conn.password, extra)
    await _import_client_modules()
    return settings


async def _import_client_modules() -> None:
    """Import the gRPC client stack on a worker thread, once per process.

    The first import of grpc.aio and flyteidl takes a few hundred milliseconds: done on the event loop, it would
    stall every other trigger of the triggerer (Airflow warns about such blocking).
    """
    if _ASYNC_CLIENT_MODULE not in sys.modules:
        await asyncio.to_thread(importlib.import_module, _ASYNC_CLIENT_MODULE)


async def _import_flyte2_modules() -> None:
    """Import the Flyte 2 client stack on a worker thread, once per process (as :func:`_import_client_modules`)."""
    if _ASYNC_FLYTE2_MODULE not in sys.modules:
        await asyncio.to_thread(importlib.import_module, _ASYNC_FLYTE2_MODULE)


async def _async_extra(conn: Connection) -> dict[str, Any]:
    """The connection's extras, read without blocking the event loop."""
    try:  # common-compat 1.21+ (Python 3.11+): async where Airflow 3.3.2 offers it
        from airflow.providers.common.compat.connection import get_async_extra_dejson
    except ImportError:  # older common-compat (the one Python 3.10 gets): parsing the JSON text does no I/O
        return dict(conn.extra_dejson)
    return dict(await get_async_extra_dejson(conn))


# The module of the async client, imported off the event loop before the first shared client is created.
_ASYNC_CLIENT_MODULE = "airflow_provider_flyte.clients.aio"
_ASYNC_FLYTE2_MODULE = "airflow_provider_flyte.clients.v2.aio"

__all__ = [
    "CONN_TYPE",
    "DEFAULT_CONN_ID",
    "FlyteAsyncHook",
    "FlyteConnectionSettings",
    "FlyteHook",
    "execution_console_url",
    "release_async_client",
    "resolve_execution_id",
    "settings_from_connection",
    "shared_async_client",
]


def _printable(message: str) -> str:
    """``message`` as the caller of :meth:`FlyteHook.test_connection` will show it, intact.

    Airflow's ``connections test`` command prints the message through Rich, which reads ``[nope]`` in Flyte Admin's
    "project [nope] not found" as a style tag and drops it; there the brackets are escaped. The UI shows the message as
    plain text, so elsewhere it is left as it is.
    """
    if "airflow.cli.commands.connection_command" not in sys.modules:
        return message
    from rich.markup import escape

    return escape(message)
