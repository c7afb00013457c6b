"""Every RPC of AdminService, SignalService and DataProxyService has a friendly method, on both clients.

The services' descriptors are enumerated, so an RPC added to ``flyteidl`` without a friendly method fails here
instead of silently making the README's claim untrue; the RPC table of ``docs/clients.md`` is checked too. Each case
(here and in ``test_friendly_requests.py``) proves which RPC its method sends: the recording server sees that call.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flyteidl.admin import (
    common_pb2,
    description_entity_pb2,
    matchable_resource_pb2,
    project_attributes_pb2,
    project_domain_attributes_pb2,
    workflow_attributes_pb2,
)
from flyteidl.admin import event_pb2 as admin_event_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2
from flyteidl.event import event_pb2
from friendly_recording_server import SERVICES, RecordingServer
from test_friendly_requests import CASES, EXEC_ID, NAMED, NODE_ID, SORT_DESC, TASK_EXEC_ID, Case, entity_id

from airflow_provider_flyte.clients.aio import AsyncFlyteClient
from airflow_provider_flyte.clients.filters import Equal, Sort
from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient
from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from tests.support.clients import Driver

QUEUE = matchable_resource_pb2.EXECUTION_QUEUE
TASK, WORKFLOW = identifier_pb2.TASK, identifier_pb2.WORKFLOW
DESCRIPTION = description_entity_pb2.DescriptionEntity(id=entity_id(TASK), short_description="adds numbers up")
WORKFLOW_EVENT = event_pb2.WorkflowExecutionEvent(
    execution_id=EXEC_ID, producer_id="propeller", phase=core_execution_pb2.WorkflowExecution.RUNNING
)
NODE_EVENT = event_pb2.NodeExecutionEvent(id=NODE_ID, phase=core_execution_pb2.NodeExecution.RUNNING)
TASK_EVENT = event_pb2.TaskExecutionEvent(
    task_id=TASK_EXEC_ID.task_id,
    parent_node_execution_id=NODE_ID,
    retry_attempt=1,
    phase=core_execution_pb2.TaskExecution.RUNNING,
)


def _added_cases() -> list[Case]:
    """The methods for the RPCs flytekit's friendly client has none for: attribute deletes, descriptions, events."""
    return [
        Case(
            "delete_project_domain_attributes",
            ("p", "d", QUEUE),
            "DeleteProjectDomainAttributes",
            project_domain_attributes_pb2.ProjectDomainAttributesDeleteRequest(
                project="p", domain="d", resource_type=QUEUE
            ),
        ),
        Case(
            "delete_workflow_attributes",
            ("p", "d", "wf", "EXECUTION_QUEUE"),
            "DeleteWorkflowAttributes",
            workflow_attributes_pb2.WorkflowAttributesDeleteRequest(
                project="p", domain="d", workflow="wf", resource_type=QUEUE
            ),
        ),
        Case(
            "delete_project_attributes",
            ("p", QUEUE),
            "DeleteProjectAttributes",
            project_attributes_pb2.ProjectAttributesDeleteRequest(project="p", resource_type=QUEUE),
        ),
        Case(
            "get_description_entity",
            ("tsk:p:d:n:v1",),
            "GetDescriptionEntity",
            common_pb2.ObjectGetRequest(id=entity_id(TASK)),
            reply=DESCRIPTION,
            result=DESCRIPTION,
        ),
        Case(
            "list_description_entities_paginated",
            ("WORKFLOW", NAMED),
            "ListDescriptionEntities",
            description_entity_pb2.DescriptionEntityListRequest(
                resource_type=WORKFLOW, id=NAMED, limit=5, token="5", filters="eq(version,v1)", sort_by=SORT_DESC
            ),
            kwargs={"limit": 5, "token": "5", "filters": Equal("version", "v1"), "sort_by": Sort("created_at")},
            reply=description_entity_pb2.DescriptionEntityList(descriptionEntities=[DESCRIPTION], token="10"),
            result=([DESCRIPTION], "10"),
        ),
        Case(
            "create_workflow_event",
            (WORKFLOW_EVENT,),
            "CreateWorkflowEvent",
            admin_event_pb2.WorkflowExecutionEventRequest(event=WORKFLOW_EVENT),
        ),
        Case(
            "create_node_event",
            (NODE_EVENT,),
            "CreateNodeEvent",
            admin_event_pb2.NodeExecutionEventRequest(request_id="r-1", event=NODE_EVENT),
            kwargs={"request_id": "r-1"},
        ),
        Case(
            "create_task_event",
            (TASK_EVENT,),
            "CreateTaskEvent",
            admin_event_pb2.TaskExecutionEventRequest(event=TASK_EVENT),
        ),
    ]


ADDED_CASES = _added_cases()
ALL_CASES = CASES + ADDED_CASES
HELPERS = {"close", "clear_entity_cache", "paginate", "raw", "config"}


@pytest.mark.parametrize("case", ADDED_CASES, ids=[case.id for case in ADDED_CASES])
async def test_request_and_result(case: Case, driver: Driver, server: RecordingServer) -> None:
    if case.reply is not None:
        server.reply(case.rpc, case.reply)

    result = await driver.call(case.method, *case.args, **case.kwargs)

    assert [rpc for rpc, _ in server.calls()] == [case.rpc]
    assert server.calls(case.rpc)[0] == case.request
    assert result == case.result


def test_every_rpc_of_the_three_services_has_a_friendly_method() -> None:
    rpcs = {method.name for service in SERVICES for method in service.methods}
    covered = {case.rpc for case in ALL_CASES}
    assert rpcs - covered == set(), "RPCs without a friendly method"
    assert covered - rpcs == set()
    admin = SERVICES[0]
    assert admin.full_name == "flyteidl.service.AdminService"
    assert {method.name for method in admin.methods} <= covered


@pytest.mark.parametrize("client_class", [SynchronousFlyteClient, AsyncFlyteClient], ids=lambda cls: cls.__name__)
def test_every_public_method_has_a_case(client_class: type) -> None:
    public = {
        name
        for name in dir(client_class)
        if not name.startswith("_") and name not in HELPERS and not name.startswith("iter_")
    }
    assert public == {case.method for case in ALL_CASES}


@pytest.mark.parametrize(
    ("method", "args", "named"),
    [
        (
            "get_description_entity",
            (identifier_pb2.Identifier(project="p", domain="d", name="n", version="v"),),
            "TASK",
        ),
        ("get_description_entity", ("tsk:p:d:n:",), "empty version"),
        (
            "list_description_entities_paginated",
            (TASK, common_pb2.NamedEntityIdentifier(project="p", domain="d")),
            "name",
        ),
        ("list_description_entities_paginated", ("SCHEDULE", NAMED), "resource_type must be one of"),
        ("delete_project_attributes", ("", QUEUE), "project must be a non-empty string"),
        ("delete_workflow_attributes", ("p", "d", "", QUEUE), "workflow must be a non-empty string"),
        ("delete_project_domain_attributes", ("p", "d", 99), "resource_type must be one of"),
        ("create_workflow_event", (NODE_EVENT,), "event must be a flyteidl.event.WorkflowExecutionEvent message"),
        ("create_task_event", (TASK_EVENT,), "request_id must be a string or None"),
    ],
)
async def test_bad_arguments_fail_before_any_rpc(
    driver: Driver, server: RecordingServer, method: str, args: tuple[object, ...], named: str
) -> None:
    kwargs = {"request_id": 7} if method == "create_task_event" else {}
    with pytest.raises(FlyteInvalidInputException, match=named):
        await driver.call(method, *args, **kwargs)
    assert server.calls() == []


def test_the_docs_table_names_the_method_of_every_rpc() -> None:
    from airflow_provider_flyte.clients._raw_requests import request_methods

    text = (Path(__file__).resolve().parents[3] / "docs" / "clients.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)\.(\w+)` \| (.+?) \| (.+?) \|$", text, flags=re.MULTILINE)
    documented = {
        rpc: (set(re.findall(r"`(\w+)`", friendly)), set(re.findall(r"`(\w+)`", raw))) for _, rpc, friendly, raw in rows
    }
    expected: dict[str, tuple[set[str], set[str]]] = {}
    for case in ALL_CASES:
        expected.setdefault(case.rpc, (set(), set()))[0].add(case.method)
    for name, method in request_methods().items():
        expected[method.rpc][1].add(name)
    assert [service for service, _, _, _ in rows] == [service.name for service in SERVICES for _ in service.methods]
    assert documented == expected


def test_the_counts_in_the_readme_and_the_docs_are_the_descriptors() -> None:
    root = Path(__file__).resolve().parents[3]
    readme = (root / "README.md").read_text(encoding="utf-8")
    docs = (root / "docs" / "clients.md").read_text(encoding="utf-8")
    total = sum(len(service.methods) for service in SERVICES)
    assert f"AdminService, SignalService and DataProxyService (all {total};" in " ".join(readme.split())
    admin, signal, data_proxy = (len(service.methods) for service in SERVICES)
    assert f"`AdminService` ({admin}), `SignalService` ({signal}) and `DataProxyService` ({data_proxy})" in docs
