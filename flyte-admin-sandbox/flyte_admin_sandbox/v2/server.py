""":class:`Flyte2Sandbox`: a local Flyte 2 control plane on loopback, over gRPC and Connect."""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from concurrent import futures
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
from flyteidl2.auth import auth_service_pb2, identity_pb2
from flyteidl2.cluster import service_pb2 as cluster_service_pb2
from flyteidl2.common import identifier_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2
from flyteidl2.project import project_service_pb2
from flyteidl2.task import task_service_pb2
from flyteidl2.trigger import trigger_service_pb2
from flyteidl2.workflow import run_service_pb2

from flyte_admin_sandbox.blobs import BlobStore
from flyte_admin_sandbox.faults import Faults
from flyte_admin_sandbox.httpd import Signer
from flyte_admin_sandbox.server import Outage
from flyte_admin_sandbox.v2 import connect_server, console, grpc_server, web
from flyte_admin_sandbox.v2.backend import DEFAULT_DOMAINS, Backend
from flyte_admin_sandbox.v2.behaviours import Behaviour, Behaviours, TaskFunction
from flyte_admin_sandbox.v2.engine import RunEngine
from flyte_admin_sandbox.v2.rpc import Dispatcher, Method, bind
from flyte_admin_sandbox.v2.services_data import DataProxyService
from flyte_admin_sandbox.v2.services_misc import AuthMetadataService, ClusterService, IdentityService, ProjectService
from flyte_admin_sandbox.v2.services_runs import RunService
from flyte_admin_sandbox.v2.services_tasks import TaskService
from flyte_admin_sandbox.v2.services_triggers import TriggerService
from flyte_admin_sandbox.v2.store import RunRecord, Store

log = logging.getLogger(__name__)


class Flyte2Sandbox:
    """A Flyte 2 control plane for tests: the flyteidl2 services over gRPC and Connect, runs executed locally.

    Args:
        port: The grpcio port (the provider's client); ``0`` picks a free one.
        connect_port: The Connect port (the ``flyte`` SDK), which also serves signed blob URLs and the console;
            ``0`` picks a free one.
        host: The interface to bind (loopback by default).
        db_path: A SQLite file keeping tasks, runs and triggers across restarts; in memory when ``None``.
        blob_dir: The blob folder; a temporary folder (removed on close) by default.
        seed: Create the ``flytesnacks`` project in ``domains``.
        domains: The domains of the seeded project.
        task_delay: Seconds a root action without a scripted duration runs.
        phase_delay: Seconds a run spends in QUEUED and in INITIALIZING each.
        max_workers: grpcio worker threads (each open watch stream holds one).

    The sandbox starts in ``__init__``; use it as a context manager or call :meth:`close`. For reliability tests,
    besides :attr:`faults`: :meth:`outage` takes both servers down for a while, :meth:`stop_serving` until
    :meth:`start`, and :meth:`restart` restarts the servers and the engine on the same ports and store.
    """

    def __init__(
        self,
        port: int = 0,
        connect_port: int = 0,
        *,
        host: str = "127.0.0.1",
        db_path: str | Path | None = None,
        blob_dir: str | Path | None = None,
        seed: bool = True,
        domains: tuple[str, ...] = DEFAULT_DOMAINS,
        task_delay: float = 0.05,
        phase_delay: float = 0.01,
        max_workers: int = 32,
    ) -> None:
        self.host = host
        self._temporary_blobs = None if blob_dir is not None else tempfile.mkdtemp(prefix="flyte2-sandbox-")
        self.faults = Faults()
        """Fault injection for both servers (see :mod:`flyte_admin_sandbox.faults`; RPC names are short)."""
        self.behaviours = Behaviours()
        self.store = Store(db_path)
        self._connect: connect_server.UvicornThread | None = None
        self.backend = Backend(
            store=self.store,
            engine=RunEngine(self.store, self.behaviours, task_delay=task_delay, phase_delay=phase_delay),
            behaviours=self.behaviours,
            blobs=BlobStore(blob_dir or self._temporary_blobs or "."),
            signer=Signer(),
            base_url=lambda: self.connect_endpoint,
        )
        if seed:
            self.backend.seed(domains)
        self._executor = futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="flyte2-sandbox")
        self._grpc: grpc.Server | None = None
        self._grpc_pools: list[futures.ThreadPoolExecutor] = []
        self._max_workers = max_workers
        self._lifecycle = threading.RLock()
        self._outage: Outage | None = None
        self._engine_running = False
        self._closed = False
        methods = self._methods()
        self._dispatcher = Dispatcher(self.faults)
        self._grpc_handlers = grpc_server.handlers(self._dispatcher, methods)
        self._app = connect_server.router(
            connect_server.application(self._dispatcher, methods, self._executor),
            web.application(self.backend),
            web.WEB_PREFIXES,
        )
        self.port = port
        self.connect_port = connect_port
        try:
            self.start()
        except BaseException:
            self.close()
            raise

    def _methods(self) -> list[Method]:
        backend = self.backend
        services: list[tuple[Any, object]] = [
            (task_service_pb2.DESCRIPTOR.services_by_name["TaskService"], TaskService(backend)),
            (run_service_pb2.DESCRIPTOR.services_by_name["RunService"], RunService(backend)),
            (dataproxy_service_pb2.DESCRIPTOR.services_by_name["DataProxyService"], DataProxyService(backend)),
            (trigger_service_pb2.DESCRIPTOR.services_by_name["TriggerService"], TriggerService(backend)),
            (project_service_pb2.DESCRIPTOR.services_by_name["ProjectService"], ProjectService(backend)),
            (
                auth_service_pb2.DESCRIPTOR.services_by_name["AuthMetadataService"],
                AuthMetadataService(backend.base_url),
            ),
            (identity_pb2.DESCRIPTOR.services_by_name["IdentityService"], IdentityService()),
            (cluster_service_pb2.DESCRIPTOR.services_by_name["ClusterService"], ClusterService()),
        ]
        return [method for descriptor, implementation in services for method in bind(descriptor, implementation)]

    # Lifecycle ---------------------------------------------------------------------------------------------------

    @property
    def serving(self) -> bool:
        """Whether both servers are up."""
        return self._grpc is not None and self._connect is not None

    def start(self) -> Flyte2Sandbox:
        """Start whatever is stopped (the servers, on the ports of the first start; the engine); returns ``self``.

        Starting during an :meth:`outage` ends it now.

        Raises:
            RuntimeError: when the sandbox was closed.
            OSError: when a port cannot be bound (taken meanwhile).
        """
        with self._lifecycle:
            if self._closed:
                raise RuntimeError("this sandbox was closed; create a new one")
            if self._grpc is None:
                self._serve_grpc()
            if self._connect is None:
                self._serve_connect()
            if not self._engine_running:
                self.backend.engine.resume()
                self._engine_running = True
            if self._outage is not None:
                self._outage._end(time.monotonic())
                self._outage = None
        return self

    def stop_serving(self, *, engine: bool = True) -> None:
        """Take both servers down, as a control plane process exiting would, until :meth:`start`.

        New connections are refused and open ones (watch streams included) cut; calls in flight get ``UNAVAILABLE``,
        but their handlers run to their end (a create in flight may still commit).

        Args:
            engine: Keep running runs meanwhile (a run may finish or fail unseen); ``False`` stops the engine too,
                as a full restart does (:meth:`start` resumes unfinished runs from their stored phase).
        """
        with self._lifecycle:
            if self._grpc is not None:
                self._grpc.stop(grace=None).wait()
                self._grpc = None
                for pool in self._grpc_pools:
                    pool.shutdown(wait=False)  # handlers in flight finish
            if self._connect is not None:
                self._connect.stop(timeout=1.0)
                self._connect = None
            if not engine and self._engine_running:
                self.backend.engine.stop()
                self._engine_running = False

    def outage(self, seconds: float, *, engine: bool = True) -> Outage:
        """Take both servers down now (see :meth:`stop_serving`) and bring them back after ``seconds``, in a thread.

        They come back on the same host, ports and store. :meth:`start` or :meth:`restart` end it earlier.

        Args:
            seconds: How long the servers are down.
            engine: Keep running runs during the outage; ``False`` stops the engine too and resumes it with the
                servers, like a full restart.

        Returns:
            A handle: :meth:`Outage.wait <flyte_admin_sandbox.server.Outage.wait>` blocks until serving again.

        Raises:
            RuntimeError: when the sandbox is not serving (closed, or already in an outage).
        """
        with self._lifecycle:
            if not self.serving:
                raise RuntimeError("the sandbox is not serving")
            self.stop_serving(engine=engine)
            outage = self._outage = Outage(seconds, engine)
        threading.Thread(target=self._end_outage, args=(outage,), name="flyte2-sandbox-outage", daemon=True).start()
        return outage

    def _end_outage(self, outage: Outage) -> None:
        if not outage._due():
            return  # ended early by start() or close()
        with self._lifecycle:
            if self._outage is not outage:
                return
            try:
                self.start()
            except Exception as error:
                log.exception("the Flyte 2 sandbox could not serve again after an outage")
                outage._end(None, error)
                self._outage = None

    def restart(self, downtime: float = 0.0) -> None:
        """Stop the servers and the engine, wait ``downtime`` seconds, start again (same ports and store)."""
        self.stop_serving(engine=False)
        if downtime > 0:
            time.sleep(downtime)
        self.start()

    def _serve_grpc(self) -> None:
        """Bind the gRPC port (the same one again after a stop) and serve; a fresh server, as a new process would."""
        pool = futures.ThreadPoolExecutor(max_workers=self._max_workers, thread_name_prefix="flyte2-grpc")
        # so_reuseport 0: a port held by another process fails to bind; SO_REUSEADDR lets us rebind at once.
        server = grpc.server(pool, options=[("grpc.so_reuseport", 0)])
        server.add_generic_rpc_handlers(self._grpc_handlers)
        try:
            bound = server.add_insecure_port(f"{self.host}:{self.port}")
        except RuntimeError:  # recent grpc raises where older versions returned 0
            bound = 0
        if bound == 0:
            pool.shutdown(wait=False)
            raise OSError(f"cannot bind the gRPC port {self.host}:{self.port}")
        self.port = bound
        server.start()
        self._grpc = server
        self._grpc_pools.append(pool)

    def _serve_connect(self) -> None:
        """Serve Connect, blobs and the console on the Connect port (the same one again after a stop)."""
        self._connect = connect_server.UvicornThread(self._app, self.host, self.connect_port)
        self.connect_port = self._connect.port
        self._connect.start()

    @property
    def grpc_endpoint(self) -> str:
        """``host:port`` of the gRPC server (plaintext)."""
        return f"{self.host}:{self.port}"

    @property
    def connect_endpoint(self) -> str:
        """``http://host:port`` of the Connect server: ``flyte.init(endpoint=..., insecure=True)``."""
        return f"http://{self.host}:{self.connect_port}"

    @property
    def console_endpoint(self) -> str:
        """``http://host:port/v2``: the console's run list."""
        return self.connect_endpoint + console.PREFIX

    def run_url(self, project: str, domain: str, name: str) -> str:
        """The console URL of a run, the form the ``flyte`` SDK's ``Console.run_url`` builds."""
        return self.connect_endpoint + console.run_path(project, domain, name)

    def behave(
        self,
        task_name: str,
        *,
        function: TaskFunction | None = None,
        outputs: Mapping[str, Any] | Callable[..., Any] | None = None,
        fail: str | None = None,
        duration: float | None = None,
        hang: bool = False,
    ) -> None:
        """Decide what runs of a task (by name, any version) do (see :class:`~.behaviours.Behaviour`).

        Example::

            sandbox.behave("my_env.add", function=lambda x, y: x + y)
            sandbox.behave("my_env.slow", duration=2.0, outputs={"o0": "done"})
            sandbox.behave("my_env.broken", fail="boom")
            sandbox.behave("my_env.stuck", hang=True)       # until AbortRun
        """
        self.behaviours.set(task_name, Behaviour(function, outputs, fail, duration, hang))

    def run(self, project: str, domain: str, name: str) -> RunRecord | None:
        """A run as stored (phase, inputs, outputs, error), or ``None``."""
        return self.store.get_run(project, domain, name)

    def wait(self, run_id: identifier_pb2.RunIdentifier, timeout: float = 10.0) -> RunRecord:
        """Block until a run is terminal.

        Raises:
            TimeoutError: when it is not after ``timeout`` seconds.
        """
        import time

        deadline = time.monotonic() + timeout
        while True:
            revision = self.store.revision
            record = self.store.get_run(run_id.project, run_id.domain, run_id.name)
            if record is not None and record.terminal:
                return record
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"run {run_id.name} is not terminal after {timeout} s")
            self.store.wait_for_change(revision, min(remaining, 0.1))

    def close(self) -> None:
        """Stop both servers and the engine and release everything (well under a second)."""
        with self._lifecycle:
            if self._closed:
                return
            self._closed = True
            if self._outage is not None:
                self._outage._end(None)
                self._outage = None
        self.faults.release()
        self.backend.engine.close(timeout=0.2)
        self.store.close()
        if self._grpc is not None:
            self._grpc.stop(grace=0.1)
        for pool in self._grpc_pools:
            pool.shutdown(wait=False, cancel_futures=True)
        if self._connect is not None:
            self._connect.stop(timeout=0.4)
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._temporary_blobs is not None:
            shutil.rmtree(self._temporary_blobs, ignore_errors=True)

    def __enter__(self) -> Flyte2Sandbox:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Flyte2Sandbox(grpc={self.grpc_endpoint}, connect={self.connect_endpoint})"
