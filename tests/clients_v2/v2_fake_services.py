"""A scriptable in-test Flyte 2 backend over real gRPC on loopback (the ``flyteidl2`` servicers the client uses).

Like ``tests/clients/transport/transport_fake_admin.py`` for Flyte Admin:

* ``backend.fail("GetRunDetails", grpc.StatusCode.UNAVAILABLE, times=2)`` queues failures per RPC; ``applied=True``
  makes the RPC take effect first (the reply got lost).
* ``backend.valid_tokens = {"tok-1"}`` requires ``<authorization_metadata_key>: Bearer <token>`` on every call but
  the auth metadata service's.
* ``backend.calls`` records ``(rpc, request, metadata)`` of every call that reached a handler.
* ``backend.phases[run_name]`` is what ``WatchRunDetails``/``GetRunDetails`` report: a list of phases sent one by
  one; ``backend.cut_after = 2`` aborts the first watch stream with UNAVAILABLE after two messages (a proxy's cut).
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from flyteidl2.auth import auth_service_pb2, auth_service_pb2_grpc
from flyteidl2.common import phase_pb2
from flyteidl2.common import run_pb2 as common_run_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2, dataproxy_service_pb2_grpc
from flyteidl2.task import common_pb2, task_definition_pb2, task_service_pb2, task_service_pb2_grpc
from flyteidl2.trigger import trigger_definition_pb2, trigger_service_pb2, trigger_service_pb2_grpc
from flyteidl2.workflow import run_definition_pb2, run_service_pb2, run_service_pb2_grpc

from airflow_provider_flyte.configuration import PlatformConfig


@dataclass
class Fault:
    code: grpc.StatusCode
    message: str
    applied: bool


@dataclass
class Call:
    rpc: str
    request: Any
    metadata: dict[str, str]


class ScriptedFlyte2:
    """State and script shared by the servicers; see the module docstring."""

    def __init__(self) -> None:
        self.endpoint = ""
        self.valid_tokens: set[str] | None = None
        self.authorization_metadata_key = "authorization"
        self.token_endpoint = ""
        self.calls: list[Call] = []
        self.runs: dict[str, run_service_pb2.CreateRunRequest] = {}
        self.phases: dict[str, list[int]] = defaultdict(lambda: [phase_pb2.ACTION_PHASE_SUCCEEDED])
        self.cut_after: int | None = None
        self.task_details = task_definition_pb2.TaskDetails()
        self.outputs = common_pb2.Outputs()
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.lock = threading.Lock()

    def fail(
        self, rpc: str, code: grpc.StatusCode, *, times: int = 1, message: str = "", applied: bool = False
    ) -> None:
        with self.lock:
            for _ in range(times):
                self._faults[rpc].append(Fault(code, message or f"scripted {code.name}", applied))

    def calls_to(self, rpc: str) -> list[Call]:
        with self.lock:
            return [call for call in self.calls if call.rpc == rpc]

    def config(self, **overrides: Any) -> PlatformConfig:
        settings: dict[str, Any] = {
            "endpoint": self.endpoint,
            "insecure": True,
            "retry_initial_backoff": 0.01,
            "retry_max_backoff": 0.05,
            "rpc_retries": 3,
            "rpc_timeout": 10.0,
            "backend": "flyte2",
        }
        settings.update(overrides)
        return PlatformConfig(**settings)

    def enter(self, rpc: str, request: Any, context: grpc.ServicerContext, *, authenticated: bool = True) -> Any:
        metadata = {key: value for key, value in context.invocation_metadata()}
        with self.lock:
            self.calls.append(Call(rpc, request, metadata))
            queue = self._faults.get(rpc)
            fault = queue.popleft() if queue else None
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

    def details(self, run_id: Any, phase: int) -> run_definition_pb2.RunDetails:
        action = run_definition_pb2.ActionDetails(status=run_definition_pb2.ActionStatus(phase=phase))
        action.id.run.CopyFrom(run_id)
        action.id.name = "a0"
        return run_definition_pb2.RunDetails(action=action)


class _Runs(run_service_pb2_grpc.RunServiceServicer):
    def __init__(self, state: ScriptedFlyte2) -> None:
        self.state = state
        self.watches = 0

    def CreateRun(self, request: Any, context: grpc.ServicerContext) -> Any:
        state = self.state
        fault = state.enter("CreateRun", request, context)
        run_id = request.run_id if request.HasField("run_id") else None
        name = run_id.name if run_id is not None else f"rgen{len(state.runs)}"
        with state.lock:
            if name in state.runs:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, f"run {name} already exists")
            state.runs[name] = request
        state.leave(fault, context)
        action = run_definition_pb2.Action(status=run_definition_pb2.ActionStatus(phase=phase_pb2.ACTION_PHASE_QUEUED))
        action.id.name = "a0"
        if run_id is not None:
            action.id.run.CopyFrom(run_id)
        else:
            action.id.run.project, action.id.run.domain = request.project_id.name, request.project_id.domain
            action.id.run.name = name
        return run_service_pb2.CreateRunResponse(run=run_definition_pb2.Run(action=action))

    def AbortRun(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.state.leave(self.state.enter("AbortRun", request, context), context)
        return run_service_pb2.AbortRunResponse()

    def GetRunDetails(self, request: Any, context: grpc.ServicerContext) -> Any:
        state = self.state
        state.leave(state.enter("GetRunDetails", request, context), context)
        return run_service_pb2.GetRunDetailsResponse(
            details=state.details(request.run_id, state.phases[request.run_id.name][-1])
        )

    def WatchRunDetails(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        state = self.state
        state.leave(state.enter("WatchRunDetails", request, context), context)
        self.watches += 1
        first = self.watches == 1
        phases = state.phases[request.run_id.name]
        # A reconnect starts from the current state, as a real server does: the one sent last before the cut.
        start = 0 if first or state.cut_after is None else state.cut_after - 1
        for sent, phase in enumerate(phases[start:], start):
            if first and state.cut_after is not None and sent == state.cut_after:
                context.abort(grpc.StatusCode.UNAVAILABLE, "upstream connect error or disconnect/reset")
            yield run_service_pb2.WatchRunDetailsResponse(details=state.details(request.run_id, phase))

    def ListRuns(self, request: Any, context: grpc.ServicerContext) -> Any:
        state = self.state
        state.leave(state.enter("ListRuns", request, context), context)
        runs = sorted(state.runs)
        start = int(request.request.token or 0)
        page = runs[start : start + request.request.limit]
        token = str(start + len(page)) if start + len(page) < len(runs) else ""
        listed = []
        for name in page:
            run = run_definition_pb2.Run()
            run.action.id.run.name = name
            listed.append(run)
        return run_service_pb2.ListRunsResponse(runs=listed, token=token)

    def WatchRuns(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        state = self.state
        state.leave(state.enter("WatchRuns", request, context), context)
        self.watches += 1
        first = self.watches == 1
        for sent, name in enumerate(sorted(state.phases)):
            if first and state.cut_after is not None and sent == state.cut_after:
                context.abort(grpc.StatusCode.INTERNAL, "stream terminated by RST_STREAM with error code: NO_ERROR")
            run = run_definition_pb2.Run()
            run.action.id.run.name = name
            run.action.status.phase = state.phases[name][-1]
            yield run_service_pb2.WatchRunsResponse(runs=[run])
        context.abort(grpc.StatusCode.UNAVAILABLE, "idle stream closed")


class _Tasks(task_service_pb2_grpc.TaskServiceServicer):
    def __init__(self, state: ScriptedFlyte2) -> None:
        self.state = state

    def GetTaskDetails(self, request: Any, context: grpc.ServicerContext) -> Any:
        state = self.state
        state.leave(state.enter("GetTaskDetails", request, context), context)
        details = task_definition_pb2.TaskDetails()
        details.CopyFrom(state.task_details)
        details.task_id.CopyFrom(request.task_id)
        return task_service_pb2.GetTaskDetailsResponse(details=details)

    def ListTasks(self, request: Any, context: grpc.ServicerContext) -> Any:
        state = self.state
        state.leave(state.enter("ListTasks", request, context), context)
        name = request.request.filters[0].values[0] if request.request.filters else ""
        if name == "missing":
            return task_service_pb2.ListTasksResponse()
        task = task_definition_pb2.Task()
        task.task_id.name, task.task_id.version = name, "v7"
        return task_service_pb2.ListTasksResponse(tasks=[task])

    def ListVersions(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.state.leave(self.state.enter("ListVersions", request, context), context)
        versions = [task_service_pb2.ListVersionsResponse.VersionResponse(version=v) for v in ("v2", "v1")]
        return task_service_pb2.ListVersionsResponse(versions=versions)


class _DataProxy(dataproxy_service_pb2_grpc.DataProxyServiceServicer):
    def __init__(self, state: ScriptedFlyte2) -> None:
        self.state = state

    def GetActionData(self, request: Any, context: grpc.ServicerContext) -> Any:
        state = self.state
        state.leave(state.enter("GetActionData", request, context), context)
        return dataproxy_service_pb2.GetActionDataResponse(outputs=state.outputs)

    def UploadInputs(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.state.leave(self.state.enter("UploadInputs", request, context), context)
        offloaded = common_run_pb2.OffloadedInputData(uri="s3://bucket/inputs.pb", inputs_hash="h")
        return dataproxy_service_pb2.UploadInputsResponse(offloaded_input_data=offloaded)


class _Triggers(trigger_service_pb2_grpc.TriggerServiceServicer):
    def __init__(self, state: ScriptedFlyte2) -> None:
        self.state = state

    def GetTriggerDetails(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.state.leave(self.state.enter("GetTriggerDetails", request, context), context)
        trigger = trigger_definition_pb2.TriggerDetails()
        trigger.id.name.CopyFrom(request.name)
        return trigger_service_pb2.GetTriggerDetailsResponse(trigger=trigger)

    def ListTriggers(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.state.leave(self.state.enter("ListTriggers", request, context), context)
        trigger = trigger_definition_pb2.Trigger()
        trigger.id.name.name = "nightly"
        return trigger_service_pb2.ListTriggersResponse(triggers=[trigger])


class _AuthMetadata(auth_service_pb2_grpc.AuthMetadataServiceServicer):
    def __init__(self, state: ScriptedFlyte2) -> None:
        self.state = state

    def GetPublicClientConfig(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.state.enter("GetPublicClientConfig", request, context, authenticated=False)
        return auth_service_pb2.GetPublicClientConfigResponse(
            client_id="flytectl", authorization_metadata_key=self.state.authorization_metadata_key, scopes=["all"]
        )

    def GetOAuth2Metadata(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.state.enter("GetOAuth2Metadata", request, context, authenticated=False)
        return auth_service_pb2.GetOAuth2MetadataResponse(token_endpoint=self.state.token_endpoint)


@contextmanager
def serve_flyte2(host: str = "127.0.0.1") -> Iterator[ScriptedFlyte2]:
    """Run a :class:`ScriptedFlyte2` on a free loopback port for the duration of the block."""
    state = ScriptedFlyte2()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    run_service_pb2_grpc.add_RunServiceServicer_to_server(_Runs(state), server)
    task_service_pb2_grpc.add_TaskServiceServicer_to_server(_Tasks(state), server)
    dataproxy_service_pb2_grpc.add_DataProxyServiceServicer_to_server(_DataProxy(state), server)
    trigger_service_pb2_grpc.add_TriggerServiceServicer_to_server(_Triggers(state), server)
    auth_service_pb2_grpc.add_AuthMetadataServiceServicer_to_server(_AuthMetadata(state), server)
    port = server.add_insecure_port(f"{host}:0")
    server.start()
    state.endpoint = f"{host}:{port}"
    try:
        yield state
    finally:
        server.stop(grace=None)
