"""A scriptable in-test Flyte Admin over real gRPC on loopback, for transport tests.

``ScriptedAdmin`` serves a few AdminService RPCs (GetExecution, ListExecutions, CreateExecution, CreateTask,
GetVersion), AuthMetadataService (optional: leave it out to get UNIMPLEMENTED like a server with auth off) and
IdentityService.UserInfo. Tests script it:

* ``admin.fail("GetExecution", grpc.StatusCode.UNAVAILABLE, times=3)`` queues failures per RPC (FIFO);
  ``applied=True`` makes the RPC take effect before failing (the reply got lost).
* ``admin.latency = 0.5`` delays every handler.
* ``admin.valid_tokens = {"tok-1"}`` makes every AdminService/IdentityService call require
  ``<authorization_metadata_key>: Bearer <token>``; others answer UNAUTHENTICATED.
* ``admin.calls`` records ``(rpc, metadata)`` for every call that reached a handler.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from flyteidl.admin import execution_pb2, task_pb2, version_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2
from flyteidl.service import admin_pb2_grpc, auth_pb2, auth_pb2_grpc, identity_pb2, identity_pb2_grpc

from airflow_provider_flyte.configuration import PlatformConfig


@dataclass
class Fault:
    code: grpc.StatusCode
    message: str
    applied: bool


@dataclass
class Call:
    rpc: str
    metadata: dict[str, str]


class ScriptedAdmin:
    """State and script shared by the servicers; see the module docstring."""

    def __init__(self) -> None:
        self.endpoint = ""
        self.latency = 0.0
        self.valid_tokens: set[str] | None = None
        self.authorization_metadata_key = "authorization"
        self.public_client_id = "flytectl"
        self.scopes: list[str] = ["all"]
        self.audience = ""
        self.redirect_uri = "http://localhost:53593/callback"
        self.token_endpoint = ""
        self.authorization_endpoint = ""
        self.device_authorization_endpoint = ""
        self.calls: list[Call] = []
        self.executions: dict[tuple[str, str, str], execution_pb2.ExecutionCreateRequest] = {}
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._lock = threading.Lock()

    def fail(
        self, rpc: str, code: grpc.StatusCode, *, times: int = 1, message: str = "", applied: bool = False
    ) -> None:
        """Queue ``times`` failures with ``code`` for ``rpc``."""
        with self._lock:
            for _ in range(times):
                self._faults[rpc].append(Fault(code, message or f"scripted {code.name}", applied))

    def calls_to(self, rpc: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.rpc == rpc]

    def config(self, **overrides: Any) -> PlatformConfig:
        """A config pointing at this server: plain text, fast backoff, no auth unless overridden."""
        settings: dict[str, Any] = {
            "endpoint": self.endpoint,
            "insecure": True,
            "retry_initial_backoff": 0.01,
            "retry_max_backoff": 0.05,
            "rpc_retries": 3,
        }
        settings.update(overrides)
        return PlatformConfig(**settings)

    # --- used by the servicers -------------------------------------------------------------------------------

    def enter(self, rpc: str, context: grpc.ServicerContext, *, authenticated: bool = True) -> Fault | None:
        """Record the call, apply latency and auth, and return the fault to apply after the work (if any)."""
        metadata = {key: value for key, value in context.invocation_metadata()}
        with self._lock:
            self.calls.append(Call(rpc, metadata))
            queue = self._faults.get(rpc)
            fault = queue.popleft() if queue else None
        if self.latency:
            time.sleep(self.latency)
        if authenticated and self.valid_tokens is not None:
            header = metadata.get(self.authorization_metadata_key, "")
            if not header.startswith("Bearer ") or header[len("Bearer ") :] not in self.valid_tokens:
                context.abort(grpc.StatusCode.UNAUTHENTICATED, "token missing, expired or revoked")
        if fault is not None and not fault.applied:
            context.abort(fault.code, fault.message)
        return fault

    @staticmethod
    def leave(fault: Fault | None, context: grpc.ServicerContext) -> None:
        if fault is not None:
            context.abort(fault.code, fault.message)


class _Admin(admin_pb2_grpc.AdminServiceServicer):
    def __init__(self, state: ScriptedAdmin) -> None:
        self.state = state

    def GetExecution(self, request: Any, context: grpc.ServicerContext) -> Any:
        fault = self.state.enter("GetExecution", context)
        self.state.leave(fault, context)
        return execution_pb2.Execution(
            id=request.id,
            closure=execution_pb2.ExecutionClosure(phase=core_execution_pb2.WorkflowExecution.RUNNING),
        )

    def ListExecutions(self, request: Any, context: grpc.ServicerContext) -> Any:
        fault = self.state.enter("ListExecutions", context)
        self.state.leave(fault, context)
        return execution_pb2.ExecutionList()

    def CreateExecution(self, request: Any, context: grpc.ServicerContext) -> Any:
        state = self.state
        fault = state.enter("CreateExecution", context)
        name = request.name or f"gen{len(state.executions)}"
        key = (request.project, request.domain, name)
        with state._lock:
            if key in state.executions:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, f"execution {name} already exists")
            state.executions[key] = request
        state.leave(fault, context)
        return execution_pb2.ExecutionCreateResponse(
            id=identifier_pb2.WorkflowExecutionIdentifier(project=request.project, domain=request.domain, name=name)
        )

    def CreateTask(self, request: Any, context: grpc.ServicerContext) -> Any:
        fault = self.state.enter("CreateTask", context)
        self.state.leave(fault, context)
        return task_pb2.TaskCreateResponse()

    def GetVersion(self, request: Any, context: grpc.ServicerContext) -> Any:
        fault = self.state.enter("GetVersion", context)
        self.state.leave(fault, context)
        return version_pb2.GetVersionResponse(control_plane_version=version_pb2.Version(Version="v1.16.0"))


class _AuthMetadata(auth_pb2_grpc.AuthMetadataServiceServicer):
    def __init__(self, state: ScriptedAdmin) -> None:
        self.state = state

    def GetPublicClientConfig(self, request: Any, context: grpc.ServicerContext) -> Any:
        state = self.state
        fault = state.enter("GetPublicClientConfig", context, authenticated=False)
        state.leave(fault, context)
        return auth_pb2.PublicClientAuthConfigResponse(
            client_id=state.public_client_id,
            redirect_uri=state.redirect_uri,
            scopes=state.scopes,
            authorization_metadata_key=state.authorization_metadata_key,
            audience=state.audience,
        )

    def GetOAuth2Metadata(self, request: Any, context: grpc.ServicerContext) -> Any:
        state = self.state
        fault = state.enter("GetOAuth2Metadata", context, authenticated=False)
        state.leave(fault, context)
        return auth_pb2.OAuth2MetadataResponse(
            token_endpoint=state.token_endpoint,
            authorization_endpoint=state.authorization_endpoint,
            device_authorization_endpoint=state.device_authorization_endpoint,
        )


class _Identity(identity_pb2_grpc.IdentityServiceServicer):
    def __init__(self, state: ScriptedAdmin) -> None:
        self.state = state

    def UserInfo(self, request: Any, context: grpc.ServicerContext) -> Any:
        fault = self.state.enter("UserInfo", context)
        self.state.leave(fault, context)
        return identity_pb2.UserInfoResponse(subject="tester")


@contextmanager
def serve_admin(
    *,
    with_auth_metadata: bool = True,
    server_credentials: grpc.ServerCredentials | None = None,
    host: str = "127.0.0.1",
) -> Iterator[ScriptedAdmin]:
    """Run a :class:`ScriptedAdmin` on a free loopback port for the duration of the block."""
    state = ScriptedAdmin()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    admin_pb2_grpc.add_AdminServiceServicer_to_server(_Admin(state), server)
    identity_pb2_grpc.add_IdentityServiceServicer_to_server(_Identity(state), server)
    if with_auth_metadata:
        auth_pb2_grpc.add_AuthMetadataServiceServicer_to_server(_AuthMetadata(state), server)
    if server_credentials is None:
        port = server.add_insecure_port(f"{host}:0")
    else:
        port = server.add_secure_port(f"{host}:0", server_credentials)
    server.start()
    state.endpoint = f"{host}:{port}"
    try:
        yield state
    finally:
        server.stop(grace=None)
