""":class:`FlyteSandbox`: a local Flyte Admin on loopback, for tests, demos and offline development."""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from concurrent import futures
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
from flyteidl.core import identifier_pb2
from flyteidl.service import admin_pb2, auth_pb2, dataproxy_pb2, identity_pb2, signal_pb2

from airflow_provider_flyte.configuration import AuthMode, PlatformConfig
from flyte_admin_sandbox.auth import AuthInterceptor, AuthMetadata, TokenIssuer
from flyte_admin_sandbox.behaviours import OutputsSource, TaskScript
from flyte_admin_sandbox.blobs import BlobStore
from flyte_admin_sandbox.common import DEFAULT_DOMAINS
from flyte_admin_sandbox.console import CONSOLE_PREFIX, Console
from flyte_admin_sandbox.dataproxy import DataProxy
from flyte_admin_sandbox.engine import LocalEngine
from flyte_admin_sandbox.executions import Executions
from flyte_admin_sandbox.faults import FaultInterceptor, Faults
from flyte_admin_sandbox.httpd import PageHandler, SandboxHTTPServer
from flyte_admin_sandbox.records import Records
from flyte_admin_sandbox.registry import Registry
from flyte_admin_sandbox.rpc_log import RpcLogInterceptor
from flyte_admin_sandbox.services import CallActivity, service_handler
from flyte_admin_sandbox.store import Store

log = logging.getLogger(__name__)

DEFAULT_PORT = 30080


class Outage:
    """A gRPC outage of a :class:`FlyteSandbox`, under way or over (see :meth:`FlyteSandbox.outage`).

    Attributes:
        seconds: The planned length.
        engine: Whether the engine kept running executions during it.
        started_at: ``time.monotonic()`` when the API went down.
        back_at: ``time.monotonic()`` when it served again; ``None`` until then, and for good when the sandbox was
            closed meanwhile or could not bind its port again (see :attr:`error`).
        error: Why serving did not resume, when it did not.
    """

    def __init__(self, seconds: float, engine: bool) -> None:
        self.seconds = seconds
        self.engine = engine
        self.started_at = time.monotonic()
        self.back_at: float | None = None
        self.error: BaseException | None = None
        self._ended = threading.Event()

    @property
    def done(self) -> bool:
        """Whether the outage is over (serving again, or never will: the sandbox was closed)."""
        return self._ended.is_set()

    def wait(self, timeout: float | None = None) -> float:
        """Block until the API serves again.

        Args:
            timeout: Seconds to wait at most; ``None`` waits for ever.

        Returns:
            :attr:`back_at`, a ``time.monotonic()`` value.

        Raises:
            TimeoutError: when still down after ``timeout`` seconds.
            RuntimeError: when it will not serve again (the sandbox was closed, or its port was taken meanwhile).
        """
        if not self._ended.wait(timeout):
            raise TimeoutError(f"the sandbox was still down after {timeout} s")
        if self.back_at is None:
            raise RuntimeError("the sandbox did not serve again after the outage") from self.error
        return self.back_at

    def _due(self) -> bool:
        """Sleep until the planned end; ``False`` when the outage ended earlier."""
        return not self._ended.wait(max(0.0, self.started_at + self.seconds - time.monotonic()))

    def _end(self, back_at: float | None, error: BaseException | None = None) -> None:
        self.back_at = back_at
        self.error = error
        self._ended.set()

    def __repr__(self) -> str:
        return f"Outage(seconds={self.seconds}, engine={self.engine}, done={self.done})"


class FlyteSandbox:
    """A Flyte Admin emulator serving AdminService, SignalService and DataProxyService over real gRPC.

    Args:
        port: The gRPC port; ``0`` picks a free one.
        host: The interface to bind (loopback by default).
        db_path: A SQLite file keeping everything across restarts; in memory when ``None``.
        tls: Serve TLS with a generated certificate (its CA file is at :attr:`ca_cert_path`).
        auth: Require OAuth2 client-credentials tokens (AuthMetadataService and IdentityService are served).
        seed: Create the ``flytesnacks`` project and the demo entities on first start.
        blob_dir: The blob folder; next to ``db_path`` (``<db_path>.blobs``) or a temporary folder by default.
        task_delay: Seconds a non-Python task takes in the engine.
        run_containers: Run flytekit container tasks (``pyflyte-execute``) as local processes (needs flytekit).
        log_rpcs: Log one line per RPC (method, status, duration) at INFO on ``flyte_admin_sandbox.rpc``.
        token_lifetime: Seconds an issued token is valid (auth on).
        client_id: The OAuth2 client id accepted (auth on).
        client_secret: Its secret; generated when ``None`` (auth on).
        max_workers: gRPC worker threads.
        domains: The configured domains.
        http_port: The port of the HTTP side (signed blob URLs, OAuth2 token endpoint, the read-only console at
            ``/console``); ``0`` picks a free one at the first start, kept across restarts.

    For reliability tests, besides :attr:`faults` (see :mod:`~flyte_admin_sandbox.faults`):
    :meth:`outage` takes the gRPC API down for a while, :meth:`stop_serving` until :meth:`start`, and
    :meth:`restart` restarts everything after an optional downtime.
    """

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        host: str = "127.0.0.1",
        db_path: str | Path | None = None,
        tls: bool = False,
        auth: bool = False,
        seed: bool = True,
        *,
        blob_dir: str | Path | None = None,
        task_delay: float = 0.0,
        token_lifetime: float = 600.0,
        client_id: str = "flyte-sandbox",
        client_secret: str | None = None,
        max_workers: int = 16,
        domains: tuple[str, ...] = DEFAULT_DOMAINS,
        run_containers: bool = False,
        log_rpcs: bool = False,
        http_port: int = 0,
    ) -> None:
        self.requested_port = port
        self.host = host
        self.tls = tls
        self.auth = auth
        self.seed = seed
        self.max_workers = max_workers
        self.log_rpcs = log_rpcs
        self._temporary: tempfile.TemporaryDirectory[str] | None = None
        if blob_dir is None:
            if db_path is not None:
                blob_dir = Path(f"{db_path}.blobs")
            else:
                self._temporary = tempfile.TemporaryDirectory(prefix="flyte-sandbox-")
                blob_dir = Path(self._temporary.name) / "blobs"
        self.store = Store(db_path)
        self.blobs = BlobStore(blob_dir)
        self.records = Records(self.store, self.blobs)
        self.registry = Registry(self.store, domains)
        self._calls = CallActivity()
        self.engine = LocalEngine(
            self.records, task_delay=task_delay, run_containers=run_containers, api_calls=self._calls
        )
        self.executions = Executions(self.registry, self.records, self.engine)
        self.engine.attach(self.executions)
        self.faults = Faults()
        issuer_kwargs: dict[str, Any] = {"client_id": client_id, "token_lifetime": token_lifetime}
        if client_secret is not None:
            issuer_kwargs["client_secret"] = client_secret
        self.issuer = TokenIssuer(**issuer_kwargs)
        self._metadata = AuthMetadata(self.issuer, lambda: self.http_url)
        self._http = self._http_server(http_port)  # one for the sandbox's lifetime: same port and signing key
        self._server: grpc.Server | None = None
        self._pools: list[futures.ThreadPoolExecutor] = []  # one per server started; close() waits for them
        self._lifecycle = threading.RLock()
        self._engine_running = False
        self._outage: Outage | None = None
        self._seeded = False
        self.port = port
        self._ca_path: Path | None = None
        self._tls_material: Any = None
        self._closed = False

    # Addresses and client settings -------------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """``host:port`` of the gRPC API."""
        return f"{self.host}:{self.port}"

    @property
    def http_url(self) -> str:
        """Base URL of the HTTP side (signed blob URLs, OAuth2 token endpoint); the same across restarts."""
        if not self._http.port:
            raise RuntimeError("the sandbox has not started; call start() first")
        return self._http.base_url

    @property
    def console_endpoint(self) -> str:
        """Base URL of the sandbox's read-only Flyte Console (``http://host:http_port``, no ``/console`` suffix).

        The console is served by the HTTP side under ``/console/...``, on the same port across restarts; links
        :func:`~airflow_provider_flyte.remote.console.generate_console_url` builds from :attr:`config` open it.

        Raises:
            RuntimeError: before the first :meth:`start` (the HTTP port is not known yet).
        """
        return self.http_url

    @property
    def ca_cert_path(self) -> Path | None:
        """The CA certificate clients should trust (TLS on), else ``None``."""
        return self._ca_path

    @property
    def client_secret(self) -> str:
        """The OAuth2 client secret accepted when auth is on."""
        return self.issuer.client_secret

    @property
    def config(self) -> PlatformConfig:
        """Client settings that reach this sandbox (TLS, CA file, client credentials and console URL included).

        ``console_endpoint`` is the sandbox's console (:attr:`console_endpoint`) once the HTTP side has a port.
        """
        settings: dict[str, Any] = {"endpoint": self.endpoint, "insecure": not self.tls}
        if self._http.port:
            settings["console_endpoint"] = self._http.base_url
        if self.tls and self._ca_path is not None:
            settings["ca_cert_file_path"] = str(self._ca_path)
        if self.auth:
            settings.update(
                auth_mode=AuthMode.CLIENT_CREDENTIALS,
                client_id=self.issuer.client_id,
                client_credentials_secret=self.issuer.client_secret,
                scopes=self.issuer.scopes,
            )
        return PlatformConfig(**settings)

    def channel(self) -> grpc.Channel:
        """A new gRPC channel to this sandbox (TLS-aware; no auth metadata)."""
        if self.tls:
            assert self._tls_material is not None
            credentials = grpc.ssl_channel_credentials(root_certificates=self._tls_material.ca_certificate)
            return grpc.secure_channel(self.endpoint, credentials)
        return grpc.insecure_channel(self.endpoint)

    def script(
        self,
        task: str | identifier_pb2.Identifier,
        *,
        duration: float | None = None,
        fail: str | None = None,
        fail_attempts: int | None = None,
        outputs: OutputsSource | None = None,
        hang: bool = False,
    ) -> TaskScript:
        """Script what a task does when the engine runs it (see :meth:`LocalEngine.script`).

        Args:
            task: A task name (every version) or a ``flyteidl`` task ``Identifier``.
            duration: Seconds each attempt runs.
            fail: Every attempt fails with this message (only the first ``fail_attempts`` when that is set).
            fail_attempts: The first N attempts fail, later ones succeed.
            outputs: Fixed outputs by name, or a function called with the inputs as keyword arguments.
            hang: Attempts never finish on their own; an abort or the task's timeout ends them.

        Returns:
            The :class:`~flyte_admin_sandbox.behaviours.TaskScript` now in force.
        """
        return self.engine.script(
            task, duration=duration, fail=fail, fail_attempts=fail_attempts, outputs=outputs, hang=hang
        )

    def unscript(self, task: str | identifier_pb2.Identifier) -> None:
        """Drop the script of ``task`` (given as it was to :meth:`script`): it behaves as registered again."""
        self.engine.behaviours.unscript(task)

    # Lifecycle ---------------------------------------------------------------------------------------------------

    @property
    def serving(self) -> bool:
        """Whether the gRPC API is up."""
        return self._server is not None

    def start(self) -> FlyteSandbox:
        """Start whatever is stopped (HTTP side, gRPC server, engine), seeding first if asked; returns ``self``.

        Ports picked at the first start are kept, so clients, signed URLs and the token endpoint stay valid across
        :meth:`stop` and :meth:`start`. Starting during an :meth:`outage` ends it now.
        """
        with self._lifecycle:
            if self._closed:
                raise RuntimeError("this sandbox was closed; create a new one")
            http_was_running = self._http.running
            self._http.start()
            try:
                if self.seed and not self._seeded:
                    from flyte_admin_sandbox.seed import seed

                    seed(self)
                    self._seeded = True
                if self._server is None:
                    self._serve()
            except BaseException:
                if not http_was_running:
                    self._http.stop()
                raise
            back_at = time.monotonic()
            if not self._engine_running:
                self.engine.start()
                self._engine_running = True
            if self._outage is not None:
                self._outage._end(back_at)
                self._outage = None
        log.info("Flyte sandbox serving on %s (HTTP %s)", self.endpoint, self._http.base_url)
        return self

    def stop_serving(self, *, engine: bool = True) -> None:
        """Take the gRPC API down as a Flyte Admin process exiting would, until :meth:`start`.

        New connections are refused and open ones closed; calls in flight get ``UNAVAILABLE`` at once, but their
        handlers run to their end (a create in flight may still commit). The HTTP side stays up.

        Args:
            engine: Keep running executions meanwhile (Admin's API down, the data plane up); ``False`` stops the
                engine too, as a full restart does (it resumes unfinished executions on :meth:`start`).
        """
        with self._lifecycle:
            if self._server is not None:
                self._server.stop(grace=None).wait()
                self._server = None
                for pool in self._pools:
                    pool.shutdown(wait=False)  # handlers in flight finish; close() waits for them
            if not engine and self._engine_running:
                self.engine.stop()
                self._engine_running = False

    def outage(self, seconds: float, *, engine: bool = True) -> Outage:
        """Take the gRPC API down now (see :meth:`stop_serving`) and bring it back after ``seconds``, in a thread.

        It comes back on the same host, port and store. :meth:`start` or :meth:`restart` end it earlier; after
        :meth:`stop` it stays down until :meth:`start`.

        Args:
            seconds: How long the API is down.
            engine: Keep running executions during the outage (a run may finish or fail unseen); ``False`` stops
                the engine too and resumes it with the API, like a full restart.

        Returns:
            A handle: :meth:`Outage.wait` blocks until the API is back.

        Raises:
            RuntimeError: when the API is not up (not started, or already in an outage).
        """
        with self._lifecycle:
            if self._server is None:
                raise RuntimeError("the sandbox is not serving")
            self.stop_serving(engine=engine)
            outage = self._outage = Outage(seconds, engine)
        threading.Thread(target=self._end_outage, args=(outage,), name="flyte-sandbox-outage", daemon=True).start()
        return outage

    def _end_outage(self, outage: Outage) -> None:
        if not outage._due():
            return  # ended early by start() or close()
        with self._lifecycle:
            if self._outage is not outage or not self._http.running:
                return  # superseded, or stop() was called: the caller decides when to start again
            try:
                self.start()
            except Exception as error:
                log.exception("the sandbox could not serve again after an outage")
                outage._end(None, error)
                self._outage = None

    def stop(self) -> None:
        """Stop serving; the store stays open, so :meth:`start` resumes on the same ports with the same state."""
        with self._lifecycle:
            self.stop_serving(engine=False)
            self._http.stop()

    def expire_tokens(self) -> None:
        """Invalidate every access token issued so far (auth on): the next calls with them get UNAUTHENTICATED."""
        self.issuer.expire_all()

    def restart(self, downtime: float = 0.0) -> None:
        """Stop, wait ``downtime`` seconds and start again on the same ports and store (running executions resume)."""
        self.stop()
        if downtime > 0:
            time.sleep(downtime)
        self.start()

    def close(self) -> None:
        """Stop, let the handlers still running end, and release the store and the temporary folders."""
        with self._lifecycle:
            if self._outage is not None:
                self._outage._end(None)
                self._outage = None
            self.stop()
            if self._closed:
                return
            self.faults.release()  # held calls proceed now rather than after their delay
            self.engine.containers.close()  # task processes still running; scratch folders (unpacked code, TMPDIR)
            for pool in self._pools:
                pool.shutdown(wait=True)  # no handler may touch the store once it is closed
            self._pools.clear()
            self.store.close()
            if self._temporary is not None:
                self._temporary.cleanup()
            self._closed = True

    # Servers ---------------------------------------------------------------------------------------------------------

    def _http_server(self, port: int) -> SandboxHTTPServer:
        pages: dict[str, PageHandler] = {CONSOLE_PREFIX: Console(self.registry, self.executions).handle}
        if not self.auth:
            return SandboxHTTPServer(self.blobs, self.host, port=port, page_routes=pages)
        routes = {
            "/.well-known/oauth-authorization-server": self._metadata.oauth2_metadata,
            "/config/v1/flyte_client": self._metadata.client_config,
        }
        return SandboxHTTPServer(
            self.blobs,
            self.host,
            json_routes=routes,
            token_handler=self.issuer.handle_token_request,
            port=port,
            page_routes=pages,
        )

    def _serve(self) -> None:
        """Bind the gRPC port (the same one again after a stop) and serve; a fresh server, as a new process would."""
        pool = futures.ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="flyte-sandbox-grpc")
        # so_reuseport 0: a port held by another process fails to bind; gRPC's SO_REUSEADDR lets us rebind at once.
        server = grpc.server(pool, interceptors=self._interceptors(), options=[("grpc.so_reuseport", 0)])
        server.add_generic_rpc_handlers(self._service_handlers())
        address = f"{self.host}:{self.port}"
        try:
            bound = self._bind(server, address)
        except RuntimeError:  # recent grpc raises where older versions returned 0
            bound = 0
        if bound == 0:
            pool.shutdown(wait=False)
            raise OSError(f"could not bind the sandbox gRPC port {address}")
        self.port = bound
        server.start()
        self._server = server
        self._pools.append(pool)

    def _interceptors(self) -> list[grpc.ServerInterceptor]:
        interceptors: list[grpc.ServerInterceptor] = [RpcLogInterceptor()] if self.log_rpcs else []
        interceptors.append(FaultInterceptor(self.faults))
        if self.auth:
            interceptors.append(AuthInterceptor(self.issuer))
        return interceptors

    def _service_handlers(self) -> list[grpc.GenericRpcHandler]:
        dataproxy = DataProxy(self._http, self.executions)
        admin = admin_pb2.DESCRIPTOR.services_by_name["AdminService"]
        signal = signal_pb2.DESCRIPTOR.services_by_name["SignalService"]
        proxy = dataproxy_pb2.DESCRIPTOR.services_by_name["DataProxyService"]
        handlers = [  # the engine gives way while they serve calls
            service_handler(admin, [self.registry, self.executions], self._calls),
            service_handler(signal, [self.executions], self._calls),
            service_handler(proxy, [dataproxy], self._calls),
        ]
        if self.auth:
            metadata = self._metadata
            handlers.append(service_handler(auth_pb2.DESCRIPTOR.services_by_name["AuthMetadataService"], [metadata]))
            handlers.append(service_handler(identity_pb2.DESCRIPTOR.services_by_name["IdentityService"], [metadata]))
        return handlers

    def _bind(self, server: grpc.Server, address: str) -> int:
        if not self.tls:
            return server.add_insecure_port(address)
        if self._tls_material is None:
            from flyte_admin_sandbox import tls

            folder = self.blobs.root.parent / "tls"
            self._tls_material = tls.generate(folder, hosts=("localhost", self.host))
            self._ca_path = self._tls_material.ca_path
        credentials = grpc.ssl_server_credentials(
            [(self._tls_material.private_key, self._tls_material.certificate_chain)]
        )
        return server.add_secure_port(address, credentials)

    def __enter__(self) -> FlyteSandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self._server is not None else "stopped"
        return f"FlyteSandbox(endpoint={self.endpoint!r}, tls={self.tls}, auth={self.auth}, {state})"
