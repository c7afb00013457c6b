"""The client the remote tests drive FlyteRemote with.

The package's friendly client (``airflow_provider_flyte.clients.friendly.SynchronousFlyteClient``) is used when it
is importable. Until then this minimal stand-in, with the same flytekit method names and arguments, speaks to the
services over real gRPC and maps errors with the package's ``from_grpc_error``.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import grpc
import pytest
from flyteidl.admin import (
    common_pb2,
    execution_pb2,
    launch_plan_pb2,
    node_execution_pb2,
    project_pb2,
    task_execution_pb2,
    task_pb2,
    workflow_pb2,
)
from flyteidl.service import admin_pb2_grpc, dataproxy_pb2, dataproxy_pb2_grpc, signal_pb2_grpc

from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.exceptions import from_grpc_error


def _pb(value: Any) -> Any:
    return value.to_flyte_idl() if hasattr(value, "to_flyte_idl") else value


class StubClient:
    """flytekit-named methods over the raw stubs (only those FlyteRemote calls)."""

    def __init__(self, config: PlatformConfig) -> None:
        self._channel = grpc.insecure_channel(config.endpoint)
        admin = admin_pb2_grpc.AdminServiceStub(self._channel)
        signal = signal_pb2_grpc.SignalServiceStub(self._channel)
        proxy = dataproxy_pb2_grpc.DataProxyServiceStub(self._channel)
        self._stubs = {"admin": admin, "signal": signal, "proxy": proxy}

    def close(self) -> None:
        self._channel.close()

    def _call(self, service: str, rpc: str, request: Any) -> Any:
        try:
            return getattr(self._stubs[service], rpc)(request, timeout=10)
        except grpc.RpcError as error:
            raise from_grpc_error(error, rpc) from None

    def get_task(self, id: Any) -> Any:
        return self._call("admin", "GetTask", common_pb2.ObjectGetRequest(id=_pb(id)))

    def get_workflow(self, id: Any) -> Any:
        return self._call("admin", "GetWorkflow", common_pb2.ObjectGetRequest(id=_pb(id)))

    def get_launch_plan(self, id: Any) -> Any:
        return self._call("admin", "GetLaunchPlan", common_pb2.ObjectGetRequest(id=_pb(id)))

    def get_active_launch_plan(self, identifier: Any) -> Any:
        request = launch_plan_pb2.ActiveLaunchPlanRequest(id=_pb(identifier))
        return self._call("admin", "GetActiveLaunchPlan", request)

    def update_launch_plan(self, id: Any, state: int) -> Any:
        return self._call("admin", "UpdateLaunchPlan", launch_plan_pb2.LaunchPlanUpdateRequest(id=_pb(id), state=state))

    def _list(self, rpc: str, field: str, identifier: Any, limit: int, token: str, filters: Any, sort_by: Any) -> Any:
        request = common_pb2.ResourceListRequest(
            id=_pb(identifier), limit=limit, token=token or "", filters=filters or "", sort_by=sort_by
        )
        response = self._call("admin", rpc, request)
        return list(getattr(response, field)), response.token

    def list_tasks_paginated(
        self, identifier: Any, limit: int = 100, token: str = "", filters: Any = None, sort_by: Any = None
    ) -> Any:
        return self._list("ListTasks", "tasks", identifier, limit, token, filters, sort_by)

    def list_workflows_paginated(
        self, identifier: Any, limit: int = 100, token: str = "", filters: Any = None, sort_by: Any = None
    ) -> Any:
        return self._list("ListWorkflows", "workflows", identifier, limit, token, filters, sort_by)

    def list_launch_plans_paginated(
        self, identifier: Any, limit: int = 100, token: str = "", filters: Any = None, sort_by: Any = None
    ) -> Any:
        return self._list("ListLaunchPlans", "launch_plans", identifier, limit, token, filters, sort_by)

    def create_task(self, task_identifer: Any, task_spec: Any) -> Any:
        return self._call("admin", "CreateTask", task_pb2.TaskCreateRequest(id=_pb(task_identifer), spec=task_spec))

    def create_workflow(self, workflow_identifier: Any, workflow_spec: Any) -> Any:
        request = workflow_pb2.WorkflowCreateRequest(id=_pb(workflow_identifier), spec=workflow_spec)
        return self._call("admin", "CreateWorkflow", request)

    def create_launch_plan(self, launch_plan_identifer: Any, launch_plan_spec: Any) -> Any:
        request = launch_plan_pb2.LaunchPlanCreateRequest(id=_pb(launch_plan_identifer), spec=launch_plan_spec)
        return self._call("admin", "CreateLaunchPlan", request)

    def create_execution(self, project: str, domain: str, name: Any, execution_spec: Any, inputs: Any) -> Any:
        request = execution_pb2.ExecutionCreateRequest(
            project=project, domain=domain, name=name or "", spec=execution_spec, inputs=inputs
        )
        return self._call("admin", "CreateExecution", request).id

    def get_execution(self, id: Any) -> Any:
        return self._call("admin", "GetExecution", execution_pb2.WorkflowExecutionGetRequest(id=_pb(id)))

    def get_execution_data(self, id: Any) -> Any:
        return self._call("admin", "GetExecutionData", execution_pb2.WorkflowExecutionGetDataRequest(id=_pb(id)))

    def get_node_execution_data(self, node_execution_identifier: Any) -> Any:
        request = node_execution_pb2.NodeExecutionGetDataRequest(id=_pb(node_execution_identifier))
        return self._call("admin", "GetNodeExecutionData", request)

    def get_task_execution_data(self, task_execution_identifier: Any) -> Any:
        request = task_execution_pb2.TaskExecutionGetDataRequest(id=_pb(task_execution_identifier))
        return self._call("admin", "GetTaskExecutionData", request)

    def terminate_execution(self, id: Any, cause: str) -> Any:
        request = execution_pb2.ExecutionTerminateRequest(id=_pb(id), cause=cause)
        return self._call("admin", "TerminateExecution", request)

    def relaunch_execution(self, id: Any, name: str | None = None) -> Any:
        request = execution_pb2.ExecutionRelaunchRequest(id=_pb(id), name=name or "")
        return self._call("admin", "RelaunchExecution", request).id

    def recover_execution(self, id: Any, name: str | None = None) -> Any:
        request = execution_pb2.ExecutionRecoverRequest(id=_pb(id), name=name or "")
        return self._call("admin", "RecoverExecution", request).id

    def get_execution_metrics(self, id: Any, depth: int = 10) -> Any:
        request = execution_pb2.WorkflowExecutionGetMetricsRequest(id=_pb(id), depth=depth)
        return self._call("admin", "GetExecutionMetrics", request)

    def list_executions_paginated(
        self, project: str, domain: str, limit: int = 100, token: str = "", filters: Any = None, sort_by: Any = None
    ) -> Any:
        request = common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project=project, domain=domain),
            limit=limit,
            token=token or "",
            filters=filters or "",
            sort_by=sort_by,
        )
        response = self._call("admin", "ListExecutions", request)
        return list(response.executions), response.token

    def list_node_executions(
        self,
        workflow_execution_identifier: Any,
        limit: int = 100,
        token: str = "",
        filters: Any = None,
        sort_by: Any = None,
        unique_parent_id: str | None = None,
    ) -> Any:
        request = node_execution_pb2.NodeExecutionListRequest(
            workflow_execution_id=_pb(workflow_execution_identifier),
            limit=limit,
            token=token or "",
            unique_parent_id=unique_parent_id or "",
        )
        response = self._call("admin", "ListNodeExecutions", request)
        return list(response.node_executions), response.token

    def list_task_executions_paginated(
        self,
        node_execution_identifier: Any,
        limit: int = 100,
        token: str = "",
        filters: Any = None,
        sort_by: Any = None,
    ) -> Any:
        request = task_execution_pb2.TaskExecutionListRequest(
            node_execution_id=_pb(node_execution_identifier), limit=limit, token=token or ""
        )
        response = self._call("admin", "ListTaskExecutions", request)
        return list(response.task_executions), response.token

    def list_signals(self, signal_list_request: Any) -> Any:
        return self._call("signal", "ListSignals", signal_list_request)

    def set_signal(self, signal_set_request: Any) -> Any:
        return self._call("signal", "SetSignal", signal_set_request)

    def list_projects_paginated(
        self, limit: int = 100, token: str = "", filters: Any = None, sort_by: Any = None
    ) -> Any:
        request = project_pb2.ProjectListRequest(limit=limit, token=token or "", filters=filters or "", sort_by=sort_by)
        response = self._call("admin", "ListProjects", request)
        return list(response.projects), response.token

    def register_project(self, project: Any) -> Any:
        return self._call("admin", "RegisterProject", project_pb2.ProjectRegisterRequest(project=project))

    def update_project(self, project: Any) -> Any:
        return self._call("admin", "UpdateProject", project)

    def get_domains(self) -> Any:
        return self._call("admin", "GetDomains", project_pb2.GetDomainRequest())

    def get_upload_signed_url(
        self,
        project: str,
        domain: str,
        content_md5: bytes | None = None,
        filename: str | None = None,
        expires_in: Any = None,
        filename_root: str | None = None,
        add_content_md5_metadata: bool = False,
    ) -> Any:
        request = dataproxy_pb2.CreateUploadLocationRequest(
            project=project,
            domain=domain,
            content_md5=content_md5 or b"",
            filename=filename or "",
            filename_root=filename_root or "",
        )
        return self._call("proxy", "CreateUploadLocation", request)

    def get_download_signed_url(self, native_url: str, expires_in: Any = None) -> Any:
        request = dataproxy_pb2.CreateDownloadLocationRequest(native_url=native_url)
        return self._call("proxy", "CreateDownloadLocation", request)

    def get_data(self, flyte_uri: str) -> Any:
        return self._call("proxy", "GetData", dataproxy_pb2.GetDataRequest(flyte_url=flyte_uri))


def make_client(config: PlatformConfig) -> Any:
    """The package's friendly client when it exists, else the stand-in."""
    try:
        from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient
    except ImportError:
        return StubClient(config)
    return SynchronousFlyteClient(config)


def install_codec(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``airflow_provider_flyte.literals`` importable for a test.

    The package's codec is used when it exists. Until it lands, a stand-in covering integers, floats, strings,
    booleans and datetimes is put in ``sys.modules`` for the duration of the test, so the remote's request building
    can be checked now; the codec's own rules are tested in ``tests/literals``.
    """
    try:
        import airflow_provider_flyte.literals  # noqa: F401
    except ImportError:
        monkeypatch.setitem(sys.modules, "airflow_provider_flyte.literals", _stand_in_codec())


def _stand_in_codec() -> types.ModuleType:
    import datetime

    from flyteidl.core import literals_pb2, types_pb2

    from airflow_provider_flyte.exceptions import FlyteInvalidInputException

    def to_literal(value: Any, literal_type: Any, *, name: str | None = None, uploader: Any = None) -> Any:
        literal = literals_pb2.Literal()
        primitive = literal.scalar.primitive
        simple = literal_type.simple
        if simple == types_pb2.INTEGER and type(value) is int:
            primitive.integer = value
        elif simple == types_pb2.FLOAT and type(value) in (int, float):
            primitive.float_value = float(value)
        elif simple == types_pb2.STRING and isinstance(value, str):
            primitive.string_value = value
        elif simple == types_pb2.BOOLEAN and isinstance(value, bool):
            primitive.boolean = value
        elif simple == types_pb2.DATETIME and isinstance(value, datetime.datetime):
            primitive.datetime.FromDatetime(value)
        else:
            raise FlyteInvalidInputException(f"input {name!r}: {value!r} does not fit {literal_type}")
        return literal

    def to_python(literal: Any, literal_type: Any = None, *, python_type: Any = None) -> Any:
        primitive = literal.scalar.primitive
        return getattr(primitive, primitive.WhichOneof("value"))

    def inputs_to_literal_map(values: Any, variables: Any, *, type_hints: Any = None, uploader: Any = None) -> Any:
        declared = {
            name: (
                getattr(entry, "var", entry).type,
                getattr(entry, "required", True) and not entry.HasField("default")
                if hasattr(entry, "required")
                else True,
            )
            for name, entry in (
                variables.parameters if hasattr(variables, "parameters") else variables.variables
            ).items()
        }
        for name in values:
            if name not in declared:
                raise FlyteInvalidInputException(f"unknown input {name!r}")
        for name, (_type, required) in declared.items():
            if required and name not in values:
                raise FlyteInvalidInputException(f"missing input {name!r}")
        return literals_pb2.LiteralMap(
            literals={name: to_literal(value, declared[name][0], name=name) for name, value in values.items()}
        )

    module = types.ModuleType("airflow_provider_flyte.literals")
    module.to_literal = to_literal  # type: ignore[attr-defined]
    module.to_python = to_python  # type: ignore[attr-defined]
    module.inputs_to_literal_map = inputs_to_literal_map  # type: ignore[attr-defined]
    module.to_json_able = lambda value: value  # type: ignore[attr-defined]
    return module
