"""Every friendly method, through both clients: the request that reaches the server and the result returned.

The cases of the methods added to cover every RPC, and the checks that every method and every RPC has a case, are in
``test_friendly_every_rpc.py``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import pytest
from flyteidl.admin import (
    common_pb2,
    execution_pb2,
    launch_plan_pb2,
    matchable_resource_pb2,
    node_execution_pb2,
    project_attributes_pb2,
    project_domain_attributes_pb2,
    project_pb2,
    signal_pb2,
    task_execution_pb2,
    task_pb2,
    version_pb2,
    workflow_attributes_pb2,
    workflow_pb2,
)
from flyteidl.core import identifier_pb2, literals_pb2, metrics_pb2, tasks_pb2, types_pb2
from flyteidl.service import dataproxy_pb2
from friendly_recording_server import RecordingServer
from google.protobuf import duration_pb2

from airflow_provider_flyte import identifiers
from airflow_provider_flyte.clients.filters import Equal, Sort, ValueIn
from tests.support.clients import Driver

TASK, WORKFLOW, LAUNCH_PLAN = identifier_pb2.TASK, identifier_pb2.WORKFLOW, identifier_pb2.LAUNCH_PLAN


def entity_id(resource_type: int, name: str = "n", version: str = "v1") -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(resource_type=resource_type, project="p", domain="d", name=name, version=version)


NAMED = common_pb2.NamedEntityIdentifier(project="p", domain="d", name="n")
EXEC_ID = identifier_pb2.WorkflowExecutionIdentifier(project="p", domain="d", name="e1")
NODE_ID = identifier_pb2.NodeExecutionIdentifier(node_id="n0", execution_id=EXEC_ID)
TASK_EXEC_ID = identifier_pb2.TaskExecutionIdentifier(
    task_id=entity_id(TASK), node_execution_id=NODE_ID, retry_attempt=1
)
OURS_EXEC_ID = identifiers.WorkflowExecutionIdentifier("p", "d", "e1")
OURS_NODE_ID = identifiers.NodeExecutionIdentifier("n0", OURS_EXEC_ID)
SORT_DESC = common_pb2.Sort(key="created_at", direction=common_pb2.Sort.DESCENDING)
SORT_ASC = common_pb2.Sort(key="created_at", direction=common_pb2.Sort.ASCENDING)
TEN_MINUTES = duration_pb2.Duration(seconds=600)
ATTRIBUTES = matchable_resource_pb2.MatchingAttributes(
    execution_queue_attributes=matchable_resource_pb2.ExecutionQueueAttributes(tags=["gpu"])
)
PROJECT = project_pb2.Project(id="p", name="P", description="a project")
INPUTS = literals_pb2.LiteralMap(
    literals={"x": literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=3)))}
)
BOOL_TYPE = types_pb2.LiteralType(simple=types_pb2.BOOLEAN)
SIGNAL_ID = identifier_pb2.SignalIdentifier(signal_id="approve", execution_id=EXEC_ID)
EXECUTION = execution_pb2.Execution(id=EXEC_ID, closure=execution_pb2.ExecutionClosure(phase=4))


@dataclass
class Case:
    """``method(*args, **kwargs)`` sends ``request`` on ``rpc``; the server's ``reply`` becomes ``result``."""

    method: str
    args: tuple[Any, ...]
    rpc: str
    request: Any
    kwargs: dict[str, Any] = field(default_factory=dict)
    reply: Any = None
    result: Any = None

    @property
    def id(self) -> str:
        return self.method


def page(field_name: str, items: list[Any], token: str, response_class: Any) -> tuple[Any, tuple[list[Any], str]]:
    return response_class(**{field_name: items}, token=token), (items, token)


def _cases() -> list[Case]:
    cases: list[Case] = []
    add = cases.append

    task = task_pb2.Task(id=entity_id(TASK), short_description="t")
    task_spec = task_pb2.TaskSpec(template=tasks_pb2.TaskTemplate(id=entity_id(TASK), type="python-task"))
    # -- tasks
    add(
        Case(
            "create_task",
            (entity_id(0), task_spec),
            "CreateTask",
            task_pb2.TaskCreateRequest(id=entity_id(TASK), spec=task_spec),
        )
    )
    reply, result = page("entities", [NAMED], "100", common_pb2.NamedEntityIdentifierList)
    add(
        Case(
            "list_task_ids_paginated",
            ("p", "d"),
            "ListTaskIds",
            common_pb2.NamedEntityIdentifierListRequest(project="p", domain="d", limit=100),
            reply=reply,
            result=result,
        )
    )
    reply, result = page("tasks", [task], "", task_pb2.TaskList)
    add(
        Case(
            "list_tasks_paginated",
            (identifiers.NamedEntityIdentifier("p", "d", "n"),),
            "ListTasks",
            common_pb2.ResourceListRequest(id=NAMED, limit=5, token="10", filters="eq(version,v1)", sort_by=SORT_DESC),
            kwargs={"limit": 5, "token": "10", "filters": [Equal("version", "v1")], "sort_by": Sort("created_at")},
            reply=reply,
            result=result,
        )
    )
    add(
        Case(
            "get_task",
            ("tsk:p:d:n:v1",),
            "GetTask",
            common_pb2.ObjectGetRequest(id=entity_id(TASK)),
            reply=task,
            result=task,
        )
    )

    # -- workflows
    workflow = workflow_pb2.Workflow(id=entity_id(WORKFLOW), short_description="w")
    workflow_spec = workflow_pb2.WorkflowSpec()
    add(
        Case(
            "create_workflow",
            (identifiers.Identifier(identifiers.ResourceType.WORKFLOW, "p", "d", "n", "v1"), workflow_spec),
            "CreateWorkflow",
            workflow_pb2.WorkflowCreateRequest(id=entity_id(WORKFLOW), spec=workflow_spec),
        )
    )
    reply, result = page("entities", [NAMED], "", common_pb2.NamedEntityIdentifierList)
    add(
        Case(
            "list_workflow_ids_paginated",
            ("p", "d"),
            "ListWorkflowIds",
            common_pb2.NamedEntityIdentifierListRequest(project="p", domain="d", limit=7, sort_by=SORT_ASC),
            kwargs={"limit": 7, "sort_by": "asc(created_at)"},
            reply=reply,
            result=result,
        )
    )
    reply, result = page("workflows", [workflow], "", workflow_pb2.WorkflowList)
    add(
        Case(
            "list_workflows_paginated",
            (common_pb2.NamedEntityIdentifier(project="p", domain="d"),),
            "ListWorkflows",
            common_pb2.ResourceListRequest(
                id=common_pb2.NamedEntityIdentifier(project="p", domain="d"), limit=100, filters="gt(created_at,2024)"
            ),
            kwargs={"filters": "gt(created_at,2024)"},
            reply=reply,
            result=result,
        )
    )
    add(
        Case(
            "get_workflow",
            (entity_id(WORKFLOW),),
            "GetWorkflow",
            common_pb2.ObjectGetRequest(id=entity_id(WORKFLOW)),
            reply=workflow,
            result=workflow,
        )
    )

    # -- launch plans
    launch_plan = launch_plan_pb2.LaunchPlan(id=entity_id(LAUNCH_PLAN))
    lp_spec = launch_plan_pb2.LaunchPlanSpec(workflow_id=entity_id(WORKFLOW))
    add(
        Case(
            "create_launch_plan",
            ("lp:p:d:n:v1", lp_spec),
            "CreateLaunchPlan",
            launch_plan_pb2.LaunchPlanCreateRequest(id=entity_id(LAUNCH_PLAN), spec=lp_spec),
        )
    )
    add(
        Case(
            "get_launch_plan",
            ("lp:p:d:n:v1",),
            "GetLaunchPlan",
            common_pb2.ObjectGetRequest(id=entity_id(LAUNCH_PLAN)),
            reply=launch_plan,
            result=launch_plan,
        )
    )
    add(
        Case(
            "get_active_launch_plan",
            (NAMED,),
            "GetActiveLaunchPlan",
            launch_plan_pb2.ActiveLaunchPlanRequest(id=NAMED),
            reply=launch_plan,
            result=launch_plan,
        )
    )
    reply, result = page("entities", [NAMED], "", common_pb2.NamedEntityIdentifierList)
    add(
        Case(
            "list_launch_plan_ids_paginated",
            ("p", "d"),
            "ListLaunchPlanIds",
            common_pb2.NamedEntityIdentifierListRequest(project="p", domain="d", limit=100),
            reply=reply,
            result=result,
        )
    )
    reply, result = page("launch_plans", [launch_plan], "", launch_plan_pb2.LaunchPlanList)
    add(
        Case(
            "list_launch_plans_paginated",
            (NAMED,),
            "ListLaunchPlans",
            common_pb2.ResourceListRequest(id=NAMED, limit=100),
            reply=reply,
            result=result,
        )
    )
    reply, result = page("launch_plans", [launch_plan], "3", launch_plan_pb2.LaunchPlanList)
    add(
        Case(
            "list_active_launch_plans_paginated",
            ("p", "d"),
            "ListActiveLaunchPlans",
            launch_plan_pb2.ActiveLaunchPlanListRequest(project="p", domain="d", limit=3, token="", sort_by=SORT_DESC),
            kwargs={"limit": 3, "sort_by": SORT_DESC},
            reply=reply,
            result=result,
        )
    )
    add(
        Case(
            "update_launch_plan",
            ("lp:p:d:n:v1", launch_plan_pb2.ACTIVE),
            "UpdateLaunchPlan",
            launch_plan_pb2.LaunchPlanUpdateRequest(id=entity_id(LAUNCH_PLAN), state=launch_plan_pb2.ACTIVE),
        )
    )

    # -- named entities
    metadata = common_pb2.NamedEntityMetadata(description="about n")
    add(
        Case(
            "update_named_entity",
            (WORKFLOW, NAMED, metadata),
            "UpdateNamedEntity",
            common_pb2.NamedEntityUpdateRequest(resource_type=WORKFLOW, id=NAMED, metadata=metadata),
        )
    )
    named_entity = common_pb2.NamedEntity(resource_type=TASK, id=NAMED, metadata=metadata)
    add(
        Case(
            "get_named_entity",
            ("TASK", NAMED),
            "GetNamedEntity",
            common_pb2.NamedEntityGetRequest(resource_type=TASK, id=NAMED),
            reply=named_entity,
            result=named_entity,
        )
    )
    reply, result = page("entities", [named_entity], "", common_pb2.NamedEntityList)
    add(
        Case(
            "list_named_entities_paginated",
            (TASK, "p", "d"),
            "ListNamedEntities",
            common_pb2.NamedEntityListRequest(
                resource_type=TASK, project="p", domain="d", limit=100, filters="eq(state,0)"
            ),
            kwargs={"filters": Equal("state", 0)},
            reply=reply,
            result=result,
        )
    )

    # -- executions
    spec = execution_pb2.ExecutionSpec(launch_plan=entity_id(LAUNCH_PLAN))
    add(
        Case(
            "create_execution",
            ("p", "d", "e1", spec, INPUTS),
            "CreateExecution",
            execution_pb2.ExecutionCreateRequest(project="p", domain="d", name="e1", spec=spec, inputs=INPUTS),
            reply=execution_pb2.ExecutionCreateResponse(id=EXEC_ID),
            result=EXEC_ID,
        )
    )
    new_id = identifier_pb2.WorkflowExecutionIdentifier(project="p", domain="d", name="e2")
    add(
        Case(
            "recover_execution",
            ("ex:p:d:e1",),
            "RecoverExecution",
            execution_pb2.ExecutionRecoverRequest(id=EXEC_ID),
            reply=execution_pb2.ExecutionCreateResponse(id=new_id),
            result=new_id,
        )
    )
    add(
        Case(
            "relaunch_execution",
            (OURS_EXEC_ID,),
            "RelaunchExecution",
            execution_pb2.ExecutionRelaunchRequest(id=EXEC_ID, name="e2", overwrite_cache=True),
            kwargs={"name": "e2", "overwrite_cache": True},
            reply=execution_pb2.ExecutionCreateResponse(id=new_id),
            result=new_id,
        )
    )
    add(
        Case(
            "get_execution",
            (OURS_EXEC_ID,),
            "GetExecution",
            execution_pb2.WorkflowExecutionGetRequest(id=EXEC_ID),
            reply=EXECUTION,
            result=EXECUTION,
        )
    )
    data = execution_pb2.WorkflowExecutionGetDataResponse(full_inputs=INPUTS)
    add(
        Case(
            "get_execution_data",
            (EXEC_ID,),
            "GetExecutionData",
            execution_pb2.WorkflowExecutionGetDataRequest(id=EXEC_ID),
            reply=data,
            result=data,
        )
    )
    reply, result = page("executions", [EXECUTION], "200", execution_pb2.ExecutionList)
    add(
        Case(
            "list_executions_paginated",
            ("p", "d"),
            "ListExecutions",
            common_pb2.ResourceListRequest(
                id=common_pb2.NamedEntityIdentifier(project="p", domain="d"),
                limit=100,
                token="100",
                filters="eq(phase,RUNNING)+value_in(execution.name,a;b)",
                sort_by=SORT_DESC,
            ),
            kwargs={
                "token": "100",
                "filters": Equal("phase", "RUNNING") + ValueIn("execution.name", ["a", "b"]),
                "sort_by": Sort.descending("created_at"),
            },
            reply=reply,
            result=result,
        )
    )
    add(
        Case(
            "terminate_execution",
            (EXEC_ID, "no longer needed"),
            "TerminateExecution",
            execution_pb2.ExecutionTerminateRequest(id=EXEC_ID, cause="no longer needed"),
        )
    )
    add(
        Case(
            "update_execution",
            (EXEC_ID, "EXECUTION_ARCHIVED"),
            "UpdateExecution",
            execution_pb2.ExecutionUpdateRequest(id=EXEC_ID, state=execution_pb2.EXECUTION_ARCHIVED),
        )
    )
    span = metrics_pb2.Span(workflow_id=EXEC_ID)
    add(
        Case(
            "get_execution_metrics",
            (EXEC_ID,),
            "GetExecutionMetrics",
            execution_pb2.WorkflowExecutionGetMetricsRequest(id=EXEC_ID, depth=10),
            reply=execution_pb2.WorkflowExecutionGetMetricsResponse(span=span),
            result=span,
        )
    )

    # -- node executions
    node = node_execution_pb2.NodeExecution(id=NODE_ID)
    add(
        Case(
            "get_node_execution",
            (OURS_NODE_ID,),
            "GetNodeExecution",
            node_execution_pb2.NodeExecutionGetRequest(id=NODE_ID),
            reply=node,
            result=node,
        )
    )
    node_data = node_execution_pb2.NodeExecutionGetDataResponse(full_outputs=INPUTS)
    add(
        Case(
            "get_node_execution_data",
            (NODE_ID,),
            "GetNodeExecutionData",
            node_execution_pb2.NodeExecutionGetDataRequest(id=NODE_ID),
            reply=node_data,
            result=node_data,
        )
    )
    dynamic = node_execution_pb2.DynamicNodeWorkflowResponse()
    add(
        Case(
            "get_dynamic_node_workflow",
            (NODE_ID,),
            "GetDynamicNodeWorkflow",
            node_execution_pb2.GetDynamicNodeWorkflowRequest(id=NODE_ID),
            reply=dynamic,
            result=dynamic,
        )
    )
    reply, result = page("node_executions", [node], "", node_execution_pb2.NodeExecutionList)
    add(
        Case(
            "list_node_executions",
            ("ex:p:d:e1",),
            "ListNodeExecutions",
            node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=EXEC_ID, limit=50, unique_parent_id="n0"),
            kwargs={"limit": 50, "unique_parent_id": "n0"},
            reply=reply,
            result=result,
        )
    )
    add(
        Case(
            "list_node_executions_for_task_paginated",
            (str(identifiers.TaskExecutionIdentifier.from_flyte_idl(TASK_EXEC_ID)),),
            "ListNodeExecutionsForTask",
            node_execution_pb2.NodeExecutionForTaskListRequest(task_execution_id=TASK_EXEC_ID, limit=100),
            reply=reply,
            result=result,
        )
    )

    # -- task executions
    task_execution = task_execution_pb2.TaskExecution(id=TASK_EXEC_ID)
    add(
        Case(
            "get_task_execution",
            (TASK_EXEC_ID,),
            "GetTaskExecution",
            task_execution_pb2.TaskExecutionGetRequest(id=TASK_EXEC_ID),
            reply=task_execution,
            result=task_execution,
        )
    )
    te_data = task_execution_pb2.TaskExecutionGetDataResponse(full_inputs=INPUTS)
    add(
        Case(
            "get_task_execution_data",
            (identifiers.TaskExecutionIdentifier.from_flyte_idl(TASK_EXEC_ID),),
            "GetTaskExecutionData",
            task_execution_pb2.TaskExecutionGetDataRequest(id=TASK_EXEC_ID),
            reply=te_data,
            result=te_data,
        )
    )
    reply, result = page("task_executions", [task_execution], "", task_execution_pb2.TaskExecutionList)
    add(
        Case(
            "list_task_executions_paginated",
            (NODE_ID,),
            "ListTaskExecutions",
            task_execution_pb2.TaskExecutionListRequest(
                node_execution_id=NODE_ID, limit=100, filters="eq(retry_attempt,1)"
            ),
            kwargs={"filters": ["eq(retry_attempt,1)"]},
            reply=reply,
            result=result,
        )
    )

    # -- projects, domains
    add(Case("register_project", (PROJECT,), "RegisterProject", project_pb2.ProjectRegisterRequest(project=PROJECT)))
    add(Case("update_project", (PROJECT,), "UpdateProject", PROJECT))
    add(Case("get_project", ("p",), "GetProject", project_pb2.ProjectGetRequest(id="p"), reply=PROJECT, result=PROJECT))
    reply, result = page("projects", [PROJECT], "", project_pb2.Projects)
    add(
        Case(
            "list_projects_paginated",
            (),
            "ListProjects",
            project_pb2.ProjectListRequest(limit=100, filters="eq(state,1)"),
            kwargs={"filters": Equal("state", 1)},
            reply=reply,
            result=result,
        )
    )
    domains = [
        project_pb2.Domain(id="development", name="development"),
        project_pb2.Domain(id="production", name="production"),
    ]
    add(
        Case(
            "get_domains",
            (),
            "GetDomains",
            project_pb2.GetDomainRequest(),
            reply=project_pb2.GetDomainsResponse(domains=domains),
            result=domains,
        )
    )

    # -- attributes
    add(
        Case(
            "update_project_domain_attributes",
            ("p", "d", ATTRIBUTES),
            "UpdateProjectDomainAttributes",
            project_domain_attributes_pb2.ProjectDomainAttributesUpdateRequest(
                attributes=project_domain_attributes_pb2.ProjectDomainAttributes(
                    project="p", domain="d", matching_attributes=ATTRIBUTES
                )
            ),
        )
    )
    add(
        Case(
            "update_workflow_attributes",
            ("p", "d", "wf", ATTRIBUTES),
            "UpdateWorkflowAttributes",
            workflow_attributes_pb2.WorkflowAttributesUpdateRequest(
                attributes=workflow_attributes_pb2.WorkflowAttributes(
                    project="p", domain="d", workflow="wf", matching_attributes=ATTRIBUTES
                )
            ),
        )
    )
    add(
        Case(
            "update_project_attributes",
            ("p", ATTRIBUTES),
            "UpdateProjectAttributes",
            project_attributes_pb2.ProjectAttributesUpdateRequest(
                attributes=project_attributes_pb2.ProjectAttributes(project="p", matching_attributes=ATTRIBUTES)
            ),
        )
    )
    queue = matchable_resource_pb2.EXECUTION_QUEUE
    pda = project_domain_attributes_pb2.ProjectDomainAttributesGetResponse(
        attributes=project_domain_attributes_pb2.ProjectDomainAttributes(
            project="p", domain="d", matching_attributes=ATTRIBUTES
        )
    )
    add(
        Case(
            "get_project_domain_attributes",
            ("p", "d", queue),
            "GetProjectDomainAttributes",
            project_domain_attributes_pb2.ProjectDomainAttributesGetRequest(
                project="p", domain="d", resource_type=queue
            ),
            reply=pda,
            result=pda,
        )
    )
    wfa = workflow_attributes_pb2.WorkflowAttributesGetResponse()
    add(
        Case(
            "get_workflow_attributes",
            ("p", "d", "wf", "EXECUTION_QUEUE"),
            "GetWorkflowAttributes",
            workflow_attributes_pb2.WorkflowAttributesGetRequest(
                project="p", domain="d", workflow="wf", resource_type=queue
            ),
            reply=wfa,
            result=wfa,
        )
    )
    pa = project_attributes_pb2.ProjectAttributesGetResponse()
    add(
        Case(
            "get_project_attributes",
            ("p", queue),
            "GetProjectAttributes",
            project_attributes_pb2.ProjectAttributesGetRequest(project="p", resource_type=queue),
            reply=pa,
            result=pa,
        )
    )
    listed = matchable_resource_pb2.ListMatchableAttributesResponse(
        configurations=[matchable_resource_pb2.MatchableAttributesConfiguration(attributes=ATTRIBUTES, project="p")]
    )
    add(
        Case(
            "list_matchable_attributes",
            (queue,),
            "ListMatchableAttributes",
            matchable_resource_pb2.ListMatchableAttributesRequest(resource_type=queue),
            reply=listed,
            result=listed,
        )
    )

    # -- data proxy
    upload = dataproxy_pb2.CreateUploadLocationResponse(signed_url="https://s/put", native_url="s3://b/p/d/x")
    add(
        Case(
            "get_upload_signed_url",
            ("p", "d"),
            "CreateUploadLocation",
            dataproxy_pb2.CreateUploadLocationRequest(
                project="p",
                domain="d",
                content_md5=b"\x01" * 16,
                filename="f.tar.gz",
                expires_in=TEN_MINUTES,
                add_content_md5_metadata=True,
            ),
            kwargs={"content_md5": b"\x01" * 16, "filename": "f.tar.gz", "expires_in": datetime.timedelta(minutes=10)},
            reply=upload,
            result=upload,
        )
    )
    download = dataproxy_pb2.CreateDownloadLocationResponse(signed_url="https://s/get")
    add(
        Case(
            "get_download_signed_url",
            ("s3://b/k",),
            "CreateDownloadLocation",
            dataproxy_pb2.CreateDownloadLocationRequest(native_url="s3://b/k"),
            reply=download,
            result=download,
        )
    )
    got = dataproxy_pb2.GetDataResponse(literal_map=INPUTS)
    add(
        Case(
            "get_data",
            ("flyte://v1/p/d/e1/n0/i",),
            "GetData",
            dataproxy_pb2.GetDataRequest(flyte_url="flyte://v1/p/d/e1/n0/i"),
            reply=got,
            result=got,
        )
    )
    link = dataproxy_pb2.CreateDownloadLinkResponse(signed_url=["https://s/deck"])
    add(
        Case(
            "get_download_artifact_signed_url",
            ("n0", "p", "d", "e1"),
            "CreateDownloadLink",
            dataproxy_pb2.CreateDownloadLinkRequest(
                artifact_type=dataproxy_pb2.ARTIFACT_TYPE_DECK, node_execution_id=NODE_ID, expires_in=TEN_MINUTES
            ),
            kwargs={"expires_in": datetime.timedelta(minutes=10)},
            reply=link,
            result=link,
        )
    )

    # -- version
    version = version_pb2.GetVersionResponse(control_plane_version=version_pb2.Version(Version="v1.16.3", Build="abc"))
    add(
        Case(
            "get_control_plane_version",
            (),
            "GetVersion",
            version_pb2.GetVersionRequest(),
            reply=version,
            result="v1.16.3",
        )
    )
    add(Case("get_version", (), "GetVersion", version_pb2.GetVersionRequest(), reply=version, result=version))

    # -- signals
    signal = signal_pb2.Signal(id=SIGNAL_ID, type=BOOL_TYPE)
    signal_list = signal_pb2.SignalList(signals=[signal], token="")
    list_request = signal_pb2.SignalListRequest(
        workflow_execution_id=EXEC_ID, limit=10, filters="eq(signal_id,approve)"
    )
    add(Case("list_signals", (list_request,), "ListSignals", list_request, reply=signal_list, result=signal_list))
    add(
        Case(
            "list_signals_paginated",
            (EXEC_ID,),
            "ListSignals",
            signal_pb2.SignalListRequest(workflow_execution_id=EXEC_ID, limit=100, filters="eq(signal_id,approve)"),
            kwargs={"filters": Equal("signal_id", "approve")},
            reply=signal_list,
            result=([signal], ""),
        )
    )
    true = literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(boolean=True)))
    set_request = signal_pb2.SignalSetRequest(id=SIGNAL_ID, value=true)
    add(
        Case(
            "set_signal",
            (set_request,),
            "SetSignal",
            set_request,
            reply=signal_pb2.SignalSetResponse(),
            result=signal_pb2.SignalSetResponse(),
        )
    )
    create_request = signal_pb2.SignalGetOrCreateRequest(id=SIGNAL_ID, type=BOOL_TYPE)
    add(
        Case(
            "get_or_create_signal", (create_request,), "GetOrCreateSignal", create_request, reply=signal, result=signal
        )
    )
    return cases


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_request_and_result(case: Case, driver: Driver, server: RecordingServer) -> None:
    if case.reply is not None:
        server.reply(case.rpc, case.reply)

    result = await driver.call(case.method, *case.args, **case.kwargs)

    assert [rpc for rpc, _ in server.calls()] == [case.rpc]
    assert server.calls(case.rpc)[0] == case.request
    assert result == case.result
