"""A tiny Flyte Admin for trigger tests: executions whose phases the test sets, and a count of every RPC.

It answers GetExecution, ListExecutions (with ``value_in(execution_name,...)`` filters) and TerminateExecution with
flyteadmin's codes, over real gRPC on a free loopback port. Tests that need workflows to actually run use the
sandbox instead.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent import futures
from typing import Any

import grpc
from flyteidl.admin import execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2
from flyteidl.service import admin_pb2_grpc

from airflow_provider_flyte.configuration import PlatformConfig

PHASE = core_execution_pb2.WorkflowExecution.Phase


class FakeAdmin(admin_pb2_grpc.AdminServiceServicer):
    def __init__(self) -> None:
        self.executions: dict[tuple[str, str, str], execution_pb2.Execution] = {}
        self.calls: Counter[str] = Counter()
        self.filters: list[str] = []
        self.unavailable_left = 0  # the next N calls fail with UNAVAILABLE
        self._lock = threading.Condition()

    def set_phase(self, execution: str, phase: str, message: str = "") -> None:
        """Create or update ``ex:project:domain:name`` with ``phase`` (and an error message)."""
        _, project, domain, name = execution.split(":")
        pb = execution_pb2.Execution(
            id=identifier_pb2.WorkflowExecutionIdentifier(project=project, domain=domain, name=name)
        )
        pb.closure.phase = PHASE.Value(phase)
        if message:
            pb.closure.error.message = message
        with self._lock:
            self.executions[(project, domain, name)] = pb

    def wait_for_calls(self, rpc: str, count: int, timeout: float = 30.0) -> None:
        """Block until ``rpc`` was called ``count`` times (raise after ``timeout`` seconds)."""
        with self._lock:
            if not self._lock.wait_for(lambda: self.calls[rpc] >= count, timeout):
                raise TimeoutError(f"{rpc} was called {self.calls[rpc]} times, expected {count}")

    def _enter(self, rpc: str, context: Any) -> None:
        with self._lock:
            self.calls[rpc] += 1
            self._lock.notify_all()
            if self.unavailable_left > 0:
                self.unavailable_left -= 1
                context.abort(grpc.StatusCode.UNAVAILABLE, "fake admin is restarting")

    def GetExecution(self, request: Any, context: Any) -> Any:
        self._enter("GetExecution", context)
        found = self.executions.get((request.id.project, request.id.domain, request.id.name))
        if found is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"missing entity of type execution with identifier {request.id}")
        return found

    def ListExecutions(self, request: Any, context: Any) -> Any:
        self._enter("ListExecutions", context)
        self.filters.append(request.filters)
        prefix = "value_in(execution_name,"
        if not (request.filters.startswith(prefix) and request.filters.endswith(")")):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid value for filters")
        names = set(request.filters[len(prefix) : -1].split(";"))
        items = [
            pb
            for (project, domain, name), pb in sorted(self.executions.items())
            if project == request.id.project and domain == request.id.domain and name in names
        ]
        return execution_pb2.ExecutionList(executions=items[: request.limit])

    def TerminateExecution(self, request: Any, context: Any) -> Any:
        self._enter("TerminateExecution", context)
        key = (request.id.project, request.id.domain, request.id.name)
        found = self.executions.get(key)
        if found is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "missing entity of type execution")
        if found.closure.phase in (PHASE.SUCCEEDED, PHASE.FAILED, PHASE.ABORTED, PHASE.TIMED_OUT):
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "Cannot abort an already terminated workflow execution")
        found.closure.phase = PHASE.ABORTED
        found.closure.abort_metadata.cause = request.cause
        return execution_pb2.ExecutionTerminateResponse()


class FakeAdminServer:
    """Serve a :class:`FakeAdmin` on ``127.0.0.1:<free port>`` while the context is open."""

    def __init__(self) -> None:
        self.admin = FakeAdmin()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        admin_pb2_grpc.add_AdminServiceServicer_to_server(self.admin, self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def config(self) -> PlatformConfig:
        return PlatformConfig.for_endpoint(self.endpoint, insecure=True)

    def __enter__(self) -> FakeAdminServer:
        self._server.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.stop(grace=None)
