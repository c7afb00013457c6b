"""A small in-memory Flyte Admin (Admin, Signal and DataProxy services) recording every request, for remote tests.

It answers with flyteadmin's codes for the paths the remote layer exercises. Executions do not run: tests script
the phases GetExecution reports (``script_phases``) and the data an execution has (``set_data``). A tiny HTTP server
stands in for the blob store behind signed URLs.
"""

from __future__ import annotations

import http.server
import threading
from collections import defaultdict
from concurrent import futures
from typing import Any

import grpc
from flyteidl.admin import (
    common_pb2,
    execution_pb2,
    launch_plan_pb2,
    node_execution_pb2,
    project_pb2,
    signal_pb2,
    task_execution_pb2,
    task_pb2,
    workflow_pb2,
)
from flyteidl.core import compiler_pb2, identifier_pb2, interface_pb2, literals_pb2, metrics_pb2, tasks_pb2
from flyteidl.service import admin_pb2_grpc, dataproxy_pb2, dataproxy_pb2_grpc, signal_pb2_grpc

from airflow_provider_flyte.configuration import PlatformConfig

DOMAINS = ("development", "staging", "production")


def _key(ident: Any) -> tuple[str, ...]:
    return (ident.project, ident.domain, ident.name, getattr(ident, "version", ""))


def _page(items: list[Any], limit: int, token: str) -> tuple[list[Any], str]:
    offset = int(token or 0)
    chunk = items[offset : offset + limit]
    return chunk, str(offset + len(chunk)) if len(chunk) == limit else ""


def _eq_filters(filters: str) -> dict[str, str]:
    """The ``eq(field,value)`` terms of a filter string (all the fake understands)."""
    result = {}
    for term in filter(None, filters.split("+")):
        if not term.startswith("eq(") or not term.endswith(")"):
            raise ValueError(term)
        field, value = term[3:-1].split(",", 1)
        result[field] = value
    return result


class BlobStore(http.server.ThreadingHTTPServer):
    """PUT/GET object store on loopback; ``objects`` maps paths to bytes, ``puts`` records request headers."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.puts: list[dict[str, str]] = []
        store = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                store.objects[self.path.split("?")[0]] = body
                store.puts.append(dict(self.headers))
                self.send_response(201)
                self.end_headers()

            def do_GET(self) -> None:
                data = store.objects.get(self.path.split("?")[0])
                self.send_response(200 if data is not None else 404)
                self.end_headers()
                self.wfile.write(data or b"")

            def log_message(self, *args: Any) -> None:
                return

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class FakeAdmin(admin_pb2_grpc.AdminServiceServicer, signal_pb2_grpc.SignalServiceServicer):
    """In-memory AdminService + SignalService; ``requests`` records (rpc name, request) pairs."""

    def __init__(self, blobs: BlobStore) -> None:
        self.blobs = blobs
        self.requests: list[tuple[str, Any]] = []
        self.tasks: dict[tuple[str, ...], task_pb2.Task] = {}
        self.workflows: dict[tuple[str, ...], workflow_pb2.Workflow] = {}
        self.launch_plans: dict[tuple[str, ...], launch_plan_pb2.LaunchPlan] = {}
        self.executions: dict[tuple[str, ...], execution_pb2.Execution] = {}
        self.execution_data: dict[tuple[str, ...], execution_pb2.WorkflowExecutionGetDataResponse] = {}
        self.phase_scripts: dict[tuple[str, ...], list[int]] = {}
        self.node_executions: dict[tuple[str, ...], list[node_execution_pb2.NodeExecution]] = defaultdict(list)
        self.task_executions: dict[tuple[str, ...], list[task_execution_pb2.TaskExecution]] = defaultdict(list)
        self.signals: dict[tuple[str, ...], signal_pb2.Signal] = {}
        self.projects: dict[str, project_pb2.Project] = {}
        self.clock = 1_700_000_000
        self.lock = threading.Lock()

    # -- helpers for tests

    def calls(self, rpc: str) -> list[Any]:
        return [request for name, request in self.requests if name == rpc]

    def script_phases(
        self, name: str, phases: list[int], project: str = "flytesnacks", domain: str = "development"
    ) -> None:
        """Phases successive GetExecution calls report (the last one sticks)."""
        self.phase_scripts[(project, domain, name, "")] = list(phases)

    def set_data(self, execution_id: Any, inputs: literals_pb2.LiteralMap, outputs: literals_pb2.LiteralMap) -> None:
        self.execution_data[_key(execution_id)] = execution_pb2.WorkflowExecutionGetDataResponse(
            full_inputs=inputs, full_outputs=outputs
        )

    def _record(self, rpc: str, request: Any) -> None:
        with self.lock:
            self.requests.append((rpc, request))

    def _tick(self) -> int:
        self.clock += 1
        return self.clock

    # -- entities

    def CreateTask(self, request: Any, context: Any) -> Any:
        self._record("CreateTask", request)
        self._check_project(request.id, context)
        task = task_pb2.Task(id=request.id)
        task.closure.compiled_task.template.CopyFrom(request.spec.template)
        task.closure.created_at.seconds = self._tick()
        self._store(self.tasks, request.id, task, "task", lambda t: t.closure.compiled_task, context)
        return task_pb2.TaskCreateResponse()

    def CreateWorkflow(self, request: Any, context: Any) -> Any:
        self._record("CreateWorkflow", request)
        self._check_project(request.id, context)
        workflow = workflow_pb2.Workflow(id=request.id)
        workflow.closure.compiled_workflow.CopyFrom(
            compiler_pb2.CompiledWorkflowClosure(primary=compiler_pb2.CompiledWorkflow(template=request.spec.template))
        )
        workflow.closure.created_at.seconds = self._tick()
        self._store(self.workflows, request.id, workflow, "workflow", lambda w: w.closure.compiled_workflow, context)
        return workflow_pb2.WorkflowCreateResponse()

    def CreateLaunchPlan(self, request: Any, context: Any) -> Any:
        self._record("CreateLaunchPlan", request)
        workflow = self.workflows.get(_key(request.spec.workflow_id))
        if workflow is None:
            context.abort(
                grpc.StatusCode.NOT_FOUND, f"missing entity of type WORKFLOW with identifier {request.spec.workflow_id}"
            )
        plan = launch_plan_pb2.LaunchPlan(id=request.id, spec=request.spec)
        interface = workflow.closure.compiled_workflow.primary.template.interface
        expected = interface_pb2.ParameterMap()
        for name, variable in interface.inputs.variables.items():
            if name in request.spec.fixed_inputs.literals:
                continue
            if name in request.spec.default_inputs.parameters:
                expected.parameters[name].CopyFrom(request.spec.default_inputs.parameters[name])
            else:
                expected.parameters[name].CopyFrom(interface_pb2.Parameter(var=variable, required=True))
        plan.spec.default_inputs.CopyFrom(expected)
        plan.closure.expected_inputs.CopyFrom(expected)
        plan.closure.expected_outputs.CopyFrom(interface.outputs)
        plan.closure.created_at.seconds = self._tick()
        self._store(self.launch_plans, request.id, plan, "launch plan", lambda p: p.spec, context)
        return launch_plan_pb2.LaunchPlanCreateResponse()

    def _store(self, table: dict[Any, Any], ident: Any, value: Any, kind: str, content: Any, context: Any) -> None:
        existing = table.get(_key(ident))
        if existing is not None:
            if content(existing) == content(value):
                context.abort(grpc.StatusCode.ALREADY_EXISTS, f"{kind} with identical structure already exists")
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{ident.name} {kind} with different structure already exists. "
                f"(Please register a new version of the {kind}):\n/spec: differs",
            )
        table[_key(ident)] = value

    def _check_project(self, ident: Any, context: Any) -> None:
        if ident.project not in self.projects:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"failed to validate that project [{ident.project}] and domain [{ident.domain}] are registered, "
                f"err: [project [{ident.project}] not found]",
            )

    def _get(self, table: dict[Any, Any], ident: Any, kind: str, context: Any) -> Any:
        value = table.get(_key(ident))
        if value is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"missing entity of type {kind} with identifier {ident}")
        return value

    def GetTask(self, request: Any, context: Any) -> Any:
        self._record("GetTask", request)
        return self._get(self.tasks, request.id, "TASK", context)

    def GetWorkflow(self, request: Any, context: Any) -> Any:
        self._record("GetWorkflow", request)
        return self._get(self.workflows, request.id, "WORKFLOW", context)

    def GetLaunchPlan(self, request: Any, context: Any) -> Any:
        self._record("GetLaunchPlan", request)
        return self._get(self.launch_plans, request.id, "LAUNCH_PLAN", context)

    def _list(self, table: dict[Any, Any], request: Any) -> list[Any]:
        ident = request.id
        items = [v for k, v in table.items() if k[:3] == (ident.project, ident.domain, ident.name)]
        if request.HasField("sort_by") and request.sort_by.key == "created_at":
            items.sort(key=lambda item: item.closure.created_at.seconds, reverse=request.sort_by.direction == 0)
        return items

    def ListTasks(self, request: Any, context: Any) -> Any:
        self._record("ListTasks", request)
        items, token = _page(self._list(self.tasks, request), request.limit, request.token)
        return task_pb2.TaskList(tasks=items, token=token)

    def ListWorkflows(self, request: Any, context: Any) -> Any:
        self._record("ListWorkflows", request)
        items, token = _page(self._list(self.workflows, request), request.limit, request.token)
        return workflow_pb2.WorkflowList(workflows=items, token=token)

    def ListLaunchPlans(self, request: Any, context: Any) -> Any:
        self._record("ListLaunchPlans", request)
        items, token = _page(self._list(self.launch_plans, request), request.limit, request.token)
        return launch_plan_pb2.LaunchPlanList(launch_plans=items, token=token)

    def GetActiveLaunchPlan(self, request: Any, context: Any) -> Any:
        self._record("GetActiveLaunchPlan", request)
        ident = request.id
        for key, plan in self.launch_plans.items():
            if key[:3] == (ident.project, ident.domain, ident.name) and plan.closure.state == launch_plan_pb2.ACTIVE:
                return plan
        context.abort(
            grpc.StatusCode.NOT_FOUND,
            f"No active launch plan could be found: {ident.project}:{ident.domain}:{ident.name}",
        )

    def UpdateLaunchPlan(self, request: Any, context: Any) -> Any:
        self._record("UpdateLaunchPlan", request)
        plan = self._get(self.launch_plans, request.id, "LAUNCH_PLAN", context)
        if request.state == launch_plan_pb2.ACTIVE:
            for key, other in self.launch_plans.items():
                if key[:3] == _key(request.id)[:3]:
                    other.closure.state = launch_plan_pb2.INACTIVE
        plan.closure.state = request.state
        return launch_plan_pb2.LaunchPlanUpdateResponse()

    # -- executions

    def CreateExecution(self, request: Any, context: Any) -> Any:
        self._record("CreateExecution", request)
        launched = request.spec.launch_plan
        if launched.resource_type == identifier_pb2.TASK:
            self._get(self.tasks, launched, "TASK", context)
        else:
            plan = self._get(self.launch_plans, launched, "LAUNCH_PLAN", context)
            for name in request.inputs.literals:
                if name not in plan.closure.expected_inputs.parameters:
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"invalid input {name}")
        name = request.name or f"a{self._tick()}"
        key = (request.project, request.domain, name, "")
        if key in self.executions:
            context.abort(grpc.StatusCode.ALREADY_EXISTS, "value with matching already exists (duplicate key)")
        execution = execution_pb2.Execution(
            id=identifier_pb2.WorkflowExecutionIdentifier(project=request.project, domain=request.domain, name=name),
            spec=request.spec,
        )
        execution.closure.phase = 1  # QUEUED
        execution.closure.created_at.seconds = self._tick()
        self.executions[key] = execution
        self.execution_data[key] = execution_pb2.WorkflowExecutionGetDataResponse(full_inputs=request.inputs)
        return execution_pb2.ExecutionCreateResponse(id=execution.id)

    def GetExecution(self, request: Any, context: Any) -> Any:
        self._record("GetExecution", request)
        key = _key(request.id)
        execution = self._get(self.executions, request.id, "EXECUTION", context)
        script = self.phase_scripts.get(key)
        if script:
            execution.closure.phase = script.pop(0) if len(script) > 1 else script[0]
        return execution

    def GetExecutionData(self, request: Any, context: Any) -> Any:
        self._record("GetExecutionData", request)
        self._get(self.executions, request.id, "EXECUTION", context)
        return self.execution_data.get(_key(request.id), execution_pb2.WorkflowExecutionGetDataResponse())

    def TerminateExecution(self, request: Any, context: Any) -> Any:
        self._record("TerminateExecution", request)
        execution = self._get(self.executions, request.id, "EXECUTION", context)
        if execution.closure.phase in (4, 6, 7, 8):
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "Cannot abort an already terminated workflow execution")
        execution.closure.phase = 7
        execution.closure.abort_metadata.cause = request.cause
        return execution_pb2.ExecutionTerminateResponse()

    def _relaunch(self, rpc: str, request: Any, context: Any, mode: int) -> Any:
        self._record(rpc, request)
        original = self._get(self.executions, request.id, "EXECUTION", context)
        name = request.name or f"r{self._tick()}"
        new = execution_pb2.Execution(spec=original.spec)
        new.id.CopyFrom(original.id)
        new.id.name = name
        new.spec.metadata.mode = mode
        new.spec.metadata.reference_execution.CopyFrom(original.id)
        new.closure.phase = 1
        self.executions[_key(new.id)] = new
        return execution_pb2.ExecutionCreateResponse(id=new.id)

    def RelaunchExecution(self, request: Any, context: Any) -> Any:
        return self._relaunch("RelaunchExecution", request, context, 3)

    def RecoverExecution(self, request: Any, context: Any) -> Any:
        return self._relaunch("RecoverExecution", request, context, 5)

    def ListExecutions(self, request: Any, context: Any) -> Any:
        self._record("ListExecutions", request)
        items = [v for k, v in self.executions.items() if k[:2] == (request.id.project, request.id.domain)]
        items.sort(key=lambda e: e.closure.created_at.seconds, reverse=True)
        page, token = _page(items, request.limit, request.token)
        return execution_pb2.ExecutionList(executions=page, token=token)

    def GetExecutionMetrics(self, request: Any, context: Any) -> Any:
        self._record("GetExecutionMetrics", request)
        self._get(self.executions, request.id, "EXECUTION", context)
        span = metrics_pb2.Span(workflow_id=request.id)
        span.start_time.seconds, span.end_time.seconds = 100, 110
        node = span.spans.add(node_id=identifier_pb2.NodeExecutionIdentifier(node_id="n0", execution_id=request.id))
        node.start_time.seconds, node.end_time.seconds = 101, 109
        op = node.spans.add(operation_id="NODE_SETUP")
        op.start_time.seconds, op.end_time.seconds = 101, 102
        return execution_pb2.WorkflowExecutionGetMetricsResponse(span=span)

    def ListNodeExecutions(self, request: Any, context: Any) -> Any:
        self._record("ListNodeExecutions", request)
        items = self.node_executions[(*_key(request.workflow_execution_id)[:3], request.unique_parent_id)]
        page, token = _page(items, request.limit, request.token)
        return node_execution_pb2.NodeExecutionList(node_executions=page, token=token)

    def ListTaskExecutions(self, request: Any, context: Any) -> Any:
        self._record("ListTaskExecutions", request)
        node = request.node_execution_id
        items = self.task_executions[(*_key(node.execution_id)[:3], node.node_id)]
        page, token = _page(items, request.limit, request.token)
        return task_execution_pb2.TaskExecutionList(task_executions=page, token=token)

    def GetNodeExecutionData(self, request: Any, context: Any) -> Any:
        self._record("GetNodeExecutionData", request)
        return node_execution_pb2.NodeExecutionGetDataResponse()

    def GetTaskExecutionData(self, request: Any, context: Any) -> Any:
        self._record("GetTaskExecutionData", request)
        return task_execution_pb2.TaskExecutionGetDataResponse()

    # -- projects

    def RegisterProject(self, request: Any, context: Any) -> Any:
        self._record("RegisterProject", request)
        if request.project.id in self.projects:
            context.abort(grpc.StatusCode.ALREADY_EXISTS, f"project [{request.project.id}] already exists")
        self.projects[request.project.id] = request.project
        return project_pb2.ProjectRegisterResponse()

    def UpdateProject(self, request: Any, context: Any) -> Any:
        self._record("UpdateProject", request)
        if request.id not in self.projects:
            context.abort(grpc.StatusCode.NOT_FOUND, f"project [{request.id}] not found")
        self.projects[request.id] = request
        return project_pb2.ProjectUpdateResponse()

    def ListProjects(self, request: Any, context: Any) -> Any:
        self._record("ListProjects", request)
        items = sorted(self.projects.values(), key=lambda p: p.id)
        wanted = _eq_filters(request.filters)
        items = [p for p in items if all(str(getattr(p, f)) == v for f, v in wanted.items())]
        page, token = _page(items, request.limit or len(items) or 1, request.token)
        return project_pb2.Projects(projects=page, token=token)

    def GetDomains(self, request: Any, context: Any) -> Any:
        self._record("GetDomains", request)
        return project_pb2.GetDomainsResponse(domains=[project_pb2.Domain(id=d, name=d) for d in DOMAINS])

    # -- signals

    def ListSignals(self, request: Any, context: Any) -> Any:
        self._record("ListSignals", request)
        try:
            wanted = _eq_filters(request.filters)
        except ValueError:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid value for filters")
        execution = _key(request.workflow_execution_id)[:3]
        items = [
            s
            for k, s in sorted(self.signals.items())
            if k[:3] == execution and all(getattr(s.id, f, None) == v for f, v in wanted.items())
        ]
        page, token = _page(items, request.limit, request.token)
        return signal_pb2.SignalList(signals=page, token=token)

    def SetSignal(self, request: Any, context: Any) -> Any:
        self._record("SetSignal", request)
        key = (*_key(request.id.execution_id)[:3], request.id.signal_id)
        signal = self.signals.get(key)
        if signal is None:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"failed to validate that signal [{key}] exists, err: [signal does not exist]",
            )
        primitive = request.value.scalar.primitive.WhichOneof("value")
        expected = {1: "integer", 2: "float_value", 3: "string_value", 4: "boolean"}.get(signal.type.simple)
        if expected and primitive != expected:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"requested signal value [{request.value}] is not castable")
        signal.value.CopyFrom(request.value)
        return signal_pb2.SignalSetResponse()

    def add_signal(self, execution: str, signal_id: str, simple_type: int) -> None:
        ident = identifier_pb2.SignalIdentifier(
            signal_id=signal_id,
            execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                project="flytesnacks", domain="development", name=execution
            ),
        )
        signal = signal_pb2.Signal(id=ident)
        signal.type.simple = simple_type
        self.signals[("flytesnacks", "development", execution, signal_id)] = signal


class FakeDataProxy(dataproxy_pb2_grpc.DataProxyServiceServicer):
    """CreateUploadLocation / CreateDownloadLocation backed by the BlobStore; GetData from a canned table."""

    def __init__(self, blobs: BlobStore, admin: FakeAdmin) -> None:
        self.blobs = blobs
        self.admin = admin
        self.data: dict[str, dataproxy_pb2.GetDataResponse] = {}

    def CreateUploadLocation(self, request: Any, context: Any) -> Any:
        self.admin._record("CreateUploadLocation", request)
        if not request.project or not request.domain:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "project and domain are required parameters")
        import base64

        prefix = request.filename_root or base64.b32encode(request.content_md5).decode()
        path = f"/{request.project}/{request.domain}/{prefix}/{request.filename or 'file'}"
        return dataproxy_pb2.CreateUploadLocationResponse(
            signed_url=f"{self.blobs.base}{path}?signature=secret", native_url=f"s3://bucket{path}"
        )

    def CreateDownloadLocation(self, request: Any, context: Any) -> Any:
        self.admin._record("CreateDownloadLocation", request)
        path = request.native_url.removeprefix("s3://bucket")
        return dataproxy_pb2.CreateDownloadLocationResponse(signed_url=f"{self.blobs.base}{path}?signature=secret")

    def GetData(self, request: Any, context: Any) -> Any:
        self.admin._record("GetData", request)
        if not request.flyte_url.startswith("flyte://"):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "request does not start with the correct prefix")
        if request.flyte_url not in self.data:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no data for {request.flyte_url}")
        return self.data[request.flyte_url]


class FakeFlyte:
    """The fake services on a loopback port: ``.config`` points a client at them."""

    def __init__(self) -> None:
        self.blobs = BlobStore()
        self.admin = FakeAdmin(self.blobs)
        self.data_proxy = FakeDataProxy(self.blobs, self.admin)
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        admin_pb2_grpc.add_AdminServiceServicer_to_server(self.admin, self.server)
        signal_pb2_grpc.add_SignalServiceServicer_to_server(self.admin, self.server)
        dataproxy_pb2_grpc.add_DataProxyServiceServicer_to_server(self.data_proxy, self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.config = PlatformConfig(endpoint=f"127.0.0.1:{self.port}", insecure=True, rpc_retries=0)
        self.admin.projects["flytesnacks"] = project_pb2.Project(id="flytesnacks", name="flytesnacks")

    def __enter__(self) -> FakeFlyte:
        self.server.start()
        threading.Thread(target=self.blobs.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop(None)
        self.blobs.shutdown()
        self.blobs.server_close()


def sample_task(name: str = "core.add_one", version: str = "v1", inputs: dict[str, int] | None = None) -> Any:
    """An ``admin.TaskSpec`` of a container task with integer inputs (default ``x``) and output ``o0``."""
    from flyteidl.core import types_pb2

    integer = types_pb2.LiteralType(simple=types_pb2.INTEGER)
    template = tasks_pb2.TaskTemplate(
        id=identifier_pb2.Identifier(
            resource_type=identifier_pb2.TASK, project="flytesnacks", domain="development", name=name, version=version
        ),
        type="python-task",
        container=tasks_pb2.Container(image="ghcr.io/flyteorg/flytekit:py3.11", args=["pyflyte-execute"]),
    )
    template.metadata.runtime.version = "1.16"
    for input_name in inputs or {"x": 1}:
        template.interface.inputs.variables[input_name].type.CopyFrom(integer)
    template.interface.outputs.variables["o0"].type.CopyFrom(integer)
    return task_pb2.TaskSpec(template=template)


def empty_literal_map() -> literals_pb2.LiteralMap:
    return literals_pb2.LiteralMap()


__all__ = ["FakeFlyte", "common_pb2", "sample_task"]
