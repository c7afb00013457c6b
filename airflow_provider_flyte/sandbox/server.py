""":class:`FlyteSandbox`: a local Flyte Admin on loopback, for tests, demos and offline development."""

from __future__ import annotations

import logging
import tempfile
from concurrent import futures
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
from flyteidl.core import identifier_pb2
from flyteidl.service import admin_pb2, auth_pb2, dataproxy_pb2, identity_pb2, signal_pb2

from airflow_provider_flyte.configuration import AuthMode, PlatformConfig
from airflow_provider_flyte.sandbox.auth import AuthInterceptor, AuthMetadata, TokenIssuer
from airflow_provider_flyte.sandbox.behaviours import OutputsSource, TaskScript
from airflow_provider_flyte.sandbox.blobs import BlobStore
from airflow_provider_flyte.sandbox.common import DEFAULT_DOMAINS
from airflow_provider_flyte.sandbox.dataproxy import DataProxy
from airflow_provider_flyte.sandbox.engine import LocalEngine
from airflow_provider_flyte.sandbox.executions import Executions
from airflow_provider_flyte.sandbox.faults import FaultInterceptor, Faults
from airflow_provider_flyte.sandbox.httpd import SandboxHTTPServer
from airflow_provider_flyte.sandbox.records import Records
from airflow_provider_flyte.sandbox.registry import Registry
from airflow_provider_flyte.sandbox.rpc_log import RpcLogInterceptor
from airflow_provider_flyte.sandbox.services import service_handler
from airflow_provider_flyte.sandbox.store import Store

log = logging.getLogger(__name__)

DEFAULT_PORT = 30080


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
        log_rpcs: Log one line per RPC (method, status, duration) at INFO on ``airflow_provider_flyte.sandbox.rpc``.
        token_lifetime: Seconds an issued token is valid (auth on).
        client_id: The OAuth2 client id accepted (auth on).
        client_secret: Its secret; generated when ``None`` (auth on).
        max_workers: gRPC worker threads.
        domains: The configured domains.
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
        self.engine = LocalEngine(self.records, task_delay=task_delay, run_containers=run_containers)
        self.executions = Executions(self.registry, self.records, self.engine)
        self.engine.attach(self.executions)
        self.faults = Faults()
        issuer_kwargs: dict[str, Any] = {"client_id": client_id, "token_lifetime": token_lifetime}
        if client_secret is not None:
            issuer_kwargs["client_secret"] = client_secret
        self.issuer = TokenIssuer(**issuer_kwargs)
        self._server: grpc.Server | None = None
        self._http: SandboxHTTPServer | None = None
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
        """Base URL of the HTTP side (signed blob URLs, OAuth2 token endpoint)."""
        if self._http is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        return self._http.base_url

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
        """Client settings that reach this sandbox (TLS, CA file and client credentials included)."""
        settings: dict[str, Any] = {"endpoint": self.endpoint, "insecure": not self.tls}
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
            The :class:`~airflow_provider_flyte.sandbox.behaviours.TaskScript` now in force.
        """
        return self.engine.script(
            task, duration=duration, fail=fail, fail_attempts=fail_attempts, outputs=outputs, hang=hang
        )

    def unscript(self, task: str | identifier_pb2.Identifier) -> None:
        """Drop the script of ``task`` (given as it was to :meth:`script`): it behaves as registered again."""
        self.engine.behaviours.unscript(task)

    # Lifecycle ---------------------------------------------------------------------------------------------------

    def start(self) -> FlyteSandbox:
        """Start serving (seeding first if asked and the store is new); returns ``self``."""
        if self._closed:
            raise RuntimeError("this sandbox was closed; create a new one")
        if self._server is not None:
            return self
        metadata = AuthMetadata(self.issuer, lambda: self.http_url)
        json_routes = {}
        if self.auth:
            json_routes = {
                "/.well-known/oauth-authorization-server": metadata.oauth2_metadata,
                "/config/v1/flyte_client": metadata.client_config,
            }
        self._http = SandboxHTTPServer(
            self.blobs,
            self.host,
            json_routes=json_routes,
            token_handler=self.issuer.handle_token_request if self.auth else None,
        )
        self._http.start()
        interceptors: list[grpc.ServerInterceptor] = [RpcLogInterceptor()] if self.log_rpcs else []
        interceptors.append(FaultInterceptor(self.faults))
        if self.auth:
            interceptors.append(AuthInterceptor(self.issuer))
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="flyte-sandbox-grpc"),
            interceptors=interceptors,
            options=[("grpc.so_reuseport", 0)],
        )
        dataproxy = DataProxy(self._http, self.executions)
        handlers = [
            service_handler(admin_pb2.DESCRIPTOR.services_by_name["AdminService"], [self.registry, self.executions]),
            service_handler(signal_pb2.DESCRIPTOR.services_by_name["SignalService"], [self.executions]),
            service_handler(dataproxy_pb2.DESCRIPTOR.services_by_name["DataProxyService"], [dataproxy]),
        ]
        if self.auth:
            handlers.append(service_handler(auth_pb2.DESCRIPTOR.services_by_name["AuthMetadataService"], [metadata]))
            handlers.append(service_handler(identity_pb2.DESCRIPTOR.services_by_name["IdentityService"], [metadata]))
        server.add_generic_rpc_handlers(handlers)
        address = f"{self.host}:{self.port}"
        if self.tls:
            if self._tls_material is None:
                from airflow_provider_flyte.sandbox import tls

                folder = self.blobs.root.parent / "tls"
                self._tls_material = tls.generate(folder, hosts=("localhost", self.host))
                self._ca_path = self._tls_material.ca_path
            credentials = grpc.ssl_server_credentials(
                [(self._tls_material.private_key, self._tls_material.certificate_chain)]
            )
            bound = server.add_secure_port(address, credentials)
        else:
            bound = server.add_insecure_port(address)
        if bound == 0:
            self._http.stop()
            self._http = None
            raise OSError(f"could not bind the sandbox gRPC port {address}")
        self.port = bound
        if self.seed:
            from airflow_provider_flyte.sandbox.seed import seed

            seed(self)
        server.start()
        self._server = server
        self.engine.start()
        log.info("Flyte sandbox serving on %s (HTTP %s)", self.endpoint, self._http.base_url)
        return self

    def stop(self) -> None:
        """Stop serving; the store stays open, so :meth:`start` resumes on the same port with the same state."""
        if self._server is not None:
            self._server.stop(grace=None).wait()
            self._server = None
        self.engine.stop()
        if self._http is not None:
            self._http.stop()
            self._http = None

    def expire_tokens(self) -> None:
        """Invalidate every access token issued so far (auth on): the next calls with them get UNAUTHENTICATED."""
        self.issuer.expire_all()

    def restart(self) -> None:
        """Stop and start again on the same port and store (running executions resume)."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop and release the store and the temporary folders."""
        self.stop()
        if not self._closed:
            self.store.close()
            if self._temporary is not None:
                self._temporary.cleanup()
            self._closed = True

    def __enter__(self) -> FlyteSandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self._server is not None else "stopped"
        return f"FlyteSandbox(endpoint={self.endpoint!r}, tls={self.tls}, auth={self.auth}, {state})"
