""":class:`Flyte2Sandbox`: a local Flyte 2 control plane on loopback, over gRPC and Connect."""

from __future__ import annotations

import logging
import shutil
import tempfile
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

    The sandbox starts in ``__init__``; use it as a context manager or call :meth:`close`.
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
        self._closed = False
        try:
            self._start(port, connect_port, max_workers)
        except BaseException:
            self.close()
            raise
        self.backend.engine.resume()

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

    def _start(self, port: int, connect_port: int, max_workers: int) -> None:
        methods = self._methods()
        dispatcher = Dispatcher(self.faults)
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="flyte2-grpc"))
        server.add_generic_rpc_handlers(grpc_server.handlers(dispatcher, methods))
        bound = server.add_insecure_port(f"{self.host}:{port}")
        if bound == 0:
            raise OSError(f"cannot bind the gRPC port {self.host}:{port}")
        self.port = bound
        server.start()
        self._grpc = server
        app = connect_server.router(
            connect_server.application(dispatcher, methods, self._executor),
            web.application(self.backend),
            web.WEB_PREFIXES,
        )
        self._connect = connect_server.UvicornThread(app, self.host, connect_port)
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
        if self._closed:
            return
        self._closed = True
        self.faults.release()
        self.backend.engine.close(timeout=0.2)
        self.store.close()
        if self._grpc is not None:
            self._grpc.stop(grace=0.1)
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
