"""The friendly methods added so both clients cover every AdminService RPC, end to end on the sandbox.

Attribute deletes and description entities run for real. The event RPCs (CreateWorkflowEvent, CreateNodeEvent,
CreateTaskEvent) are what Flyte's data plane calls; the sandbox's engine records progress itself and answers them
UNIMPLEMENTED, which must come back as a typed error, not a raw ``grpc.RpcError``.
"""

from __future__ import annotations

import grpc
import pytest
from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox import builders as b
from flyteidl.admin import common_pb2, description_entity_pb2, matchable_resource_pb2, task_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2
from flyteidl.event import event_pb2
from integration_support import DOMAIN, NUMBERS, PROJECT, connect, count_calls, execution_id

from airflow_provider_flyte.exceptions import (
    FlyteEntityNotExistException,
    FlyteNotImplementedException,
    FlyteSystemException,
)

QUEUE = matchable_resource_pb2.EXECUTION_QUEUE
WORKFLOW = "demo.pipeline"
DESCRIBED = "admin_rpcs.described"


def queue(*tags: str) -> matchable_resource_pb2.MatchingAttributes:
    return matchable_resource_pb2.MatchingAttributes(
        execution_queue_attributes=matchable_resource_pb2.ExecutionQueueAttributes(tags=list(tags))
    )


def tags_of(response: object) -> list[str]:
    return list(response.attributes.matching_attributes.execution_queue_attributes.tags)  # type: ignore[attr-defined]


async def test_attribute_deletes_fall_back_level_by_level(sandbox: FlyteSandbox, kind: str) -> None:
    async with connect(kind, sandbox.config) as driver:
        await driver.call("update_project_attributes", PROJECT, queue("project"))
        await driver.call("update_project_domain_attributes", PROJECT, DOMAIN, queue("domain"))
        await driver.call("update_workflow_attributes", PROJECT, DOMAIN, WORKFLOW, queue("workflow"))
        assert tags_of(await driver.call("get_workflow_attributes", PROJECT, DOMAIN, WORKFLOW, QUEUE)) == ["workflow"]

        assert await driver.call("delete_workflow_attributes", PROJECT, DOMAIN, WORKFLOW, QUEUE) is None
        assert tags_of(await driver.call("get_workflow_attributes", PROJECT, DOMAIN, WORKFLOW, QUEUE)) == ["domain"]

        assert await driver.call("delete_project_domain_attributes", PROJECT, DOMAIN, "EXECUTION_QUEUE") is None
        assert tags_of(await driver.call("get_project_domain_attributes", PROJECT, DOMAIN, QUEUE)) == ["project"]

        assert await driver.call("delete_project_attributes", PROJECT, QUEUE) is None
        with pytest.raises(FlyteEntityNotExistException):
            await driver.call("get_project_attributes", PROJECT, QUEUE)
        listed = await driver.call("list_matchable_attributes", QUEUE)
        assert list(listed.configurations) == []


async def test_description_entities_of_registered_versions(sandbox: FlyteSandbox, kind: str) -> None:
    async with connect(kind, sandbox.config) as driver:
        for version in ("v1", "v2"):
            template = b.python_task(
                DESCRIBED, "flyte_admin_sandbox.demo_tasks:summarize", inputs=NUMBERS, version=version
            )
            description = description_entity_pb2.DescriptionEntity(
                short_description=f"adds numbers up ({version})",
                long_description=description_entity_pb2.Description(value="Sums a list.", format=1),
            )
            await driver.call("create_task", template.id, task_pb2.TaskSpec(template=template, description=description))

        got = await driver.call("get_description_entity", f"tsk:{PROJECT}:{DOMAIN}:{DESCRIBED}:v2")
        assert (got.id.name, got.id.version, got.short_description) == (DESCRIBED, "v2", "adds numbers up (v2)")
        assert got.long_description.value == "Sums a list."

        named = common_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN, name=DESCRIBED)
        first, token = await driver.call("list_description_entities_paginated", "TASK", named, limit=1)
        assert (len(first), token) == (1, "1")
        every = await driver.collect(
            "paginate", driver.client.list_description_entities_paginated, "TASK", named, limit=1
        )
        assert sorted(entity.id.version for entity in every) == ["v1", "v2"]

        with pytest.raises(FlyteEntityNotExistException):
            await driver.call("get_description_entity", f"tsk:{PROJECT}:{DOMAIN}:{DESCRIBED}:v3")


@pytest.mark.parametrize(
    ("method", "rpc", "event"),
    [
        (
            "create_workflow_event",
            "CreateWorkflowEvent",
            event_pb2.WorkflowExecutionEvent(
                execution_id=execution_id("evented"), phase=core_execution_pb2.WorkflowExecution.RUNNING
            ),
        ),
        (
            "create_node_event",
            "CreateNodeEvent",
            event_pb2.NodeExecutionEvent(
                id=identifier_pb2.NodeExecutionIdentifier(node_id="n0", execution_id=execution_id("evented")),
                phase=core_execution_pb2.NodeExecution.RUNNING,
            ),
        ),
        (
            "create_task_event",
            "CreateTaskEvent",
            event_pb2.TaskExecutionEvent(
                task_id=b.identifier(b.RT.TASK, "t"),
                parent_node_execution_id=identifier_pb2.NodeExecutionIdentifier(
                    node_id="n0", execution_id=execution_id("evented")
                ),
                phase=core_execution_pb2.TaskExecution.RUNNING,
            ),
        ),
    ],
)
async def test_event_rpcs_reach_admin_and_unimplemented_is_typed(
    sandbox: FlyteSandbox, kind: str, method: str, rpc: str, event: object
) -> None:
    calls = count_calls(sandbox, rpc)
    async with connect(kind, sandbox.config) as driver:
        with pytest.raises(FlyteNotImplementedException) as raised:
            await driver.call(method, event, request_id="r-1")
    error = raised.value
    assert isinstance(error, FlyteSystemException)
    assert (error.code, error.rpc) == ("UNIMPLEMENTED", f"flyteidl.service.AdminService/{rpc}")
    assert error.server_message == f"Method /flyteidl.service.AdminService/{rpc} not implemented"
    assert calls.hits == 1  # not retried


async def test_an_event_refused_by_admin_keeps_its_code(sandbox: FlyteSandbox, kind: str) -> None:
    # What a real Admin answers for an event that contradicts the recorded phases, injected here.
    sandbox.faults.fail("CreateWorkflowEvent", grpc.StatusCode.FAILED_PRECONDITION, message="invalid phase change")
    event = event_pb2.WorkflowExecutionEvent(
        execution_id=execution_id("evented"), phase=core_execution_pb2.WorkflowExecution.QUEUED
    )
    async with connect(kind, sandbox.config) as driver:
        with pytest.raises(FlyteSystemException) as raised:
            await driver.call("create_workflow_event", event)
    assert (raised.value.code, raised.value.server_message) == ("FAILED_PRECONDITION", "invalid phase change")
