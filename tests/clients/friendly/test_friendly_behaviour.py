"""Pagination, the entity cache, error mapping and local argument checks, through both clients."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from flyteidl.admin import common_pb2, execution_pb2, launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl.core import identifier_pb2
from friendly_recording_server import Failure, RecordingServer

from airflow_provider_flyte import identifiers
from airflow_provider_flyte.clients.filters import Equal
from airflow_provider_flyte.exceptions import (
    FlyteAuthenticationException,
    FlyteEntityAlreadyExistsException,
    FlyteEntityNotExistException,
    FlyteFailedPreconditionException,
    FlyteInvalidInputException,
    FlyteSystemException,
)
from tests.support.clients import Driver

EXEC_ID = identifier_pb2.WorkflowExecutionIdentifier(project="p", domain="d", name="e1")


def executions_in_pages(names: list[str], page_size: int) -> Any:
    """A ListExecutions reply serving ``names`` in pages, with Admin's offset tokens."""

    def reply(request: common_pb2.ResourceListRequest) -> execution_pb2.ExecutionList:
        offset = int(request.token or "0")
        chunk = names[offset : offset + request.limit]
        token = str(offset + len(chunk)) if len(chunk) == request.limit else ""
        executions = [
            execution_pb2.Execution(id=identifier_pb2.WorkflowExecutionIdentifier(project="p", domain="d", name=name))
            for name in chunk
        ]
        return execution_pb2.ExecutionList(executions=executions, token=token)

    return reply


# ---------------------------------------------------------------------------------------------------- pagination


async def test_iter_executions_follows_every_token(driver: Driver, server: RecordingServer) -> None:
    names = [f"e{i}" for i in range(7)]
    server.reply("ListExecutions", executions_in_pages(names, page_size=3))

    items = await driver.collect("iter_executions", "p", "d", page_size=3, filters=Equal("phase", "FAILED"))

    assert [item.id.name for item in items] == names
    requests = server.calls("ListExecutions")
    assert [request.token for request in requests] == ["", "3", "6"]
    assert {request.limit for request in requests} == {3}
    assert {request.filters for request in requests} == {"eq(phase,FAILED)"}
    # A stable order is what makes offset pagination safe; iterators default to oldest first.
    assert all(
        request.sort_by == common_pb2.Sort(key="created_at", direction=common_pb2.Sort.ASCENDING)
        for request in requests
    )


async def test_full_last_page_costs_one_empty_page(driver: Driver, server: RecordingServer) -> None:
    server.reply("ListExecutions", executions_in_pages(["a", "b", "c", "d"], page_size=2))

    items = await driver.collect("iter_executions", "p", "d", page_size=2)

    assert [item.id.name for item in items] == ["a", "b", "c", "d"]
    assert [request.token for request in server.calls("ListExecutions")] == ["", "2", "4"]


async def test_paginate_is_generic_and_starts_at_the_given_token(driver: Driver, server: RecordingServer) -> None:
    server.reply("ListExecutions", executions_in_pages([f"e{i}" for i in range(5)], page_size=2))

    items = await driver.collect("paginate", driver.client.list_executions_paginated, "p", "d", limit=2, token="2")

    assert [item.id.name for item in items] == ["e2", "e3", "e4"]
    assert [request.token for request in server.calls("ListExecutions")] == ["2", "4"]


async def test_iterators_of_nodes_tasks_and_signals(driver: Driver, server: RecordingServer) -> None:
    from flyteidl.admin import node_execution_pb2, signal_pb2, task_execution_pb2

    node_id = identifier_pb2.NodeExecutionIdentifier(node_id="n0", execution_id=EXEC_ID)
    server.reply(
        "ListNodeExecutions",
        lambda request: node_execution_pb2.NodeExecutionList(
            node_executions=[node_execution_pb2.NodeExecution(id=node_id)], token="1" if not request.token else ""
        ),
    )
    server.reply(
        "ListTaskExecutions",
        task_execution_pb2.TaskExecutionList(task_executions=[task_execution_pb2.TaskExecution()], token=""),
    )
    server.reply("ListSignals", signal_pb2.SignalList(signals=[signal_pb2.Signal()], token=""))

    nodes = await driver.collect("iter_node_executions", EXEC_ID, unique_parent_id="dyn")
    attempts = await driver.collect("iter_task_executions", node_id)
    signals = await driver.collect("iter_signals", "ex:p:d:e1")

    assert len(nodes) == 2
    assert [request.unique_parent_id for request in server.calls("ListNodeExecutions")] == ["dyn", "dyn"]
    assert len(attempts) == 1
    assert len(signals) == 1
    assert server.calls("ListSignals")[0].workflow_execution_id == EXEC_ID


async def test_a_server_repeating_its_token_stops_pagination(driver: Driver, server: RecordingServer) -> None:
    server.reply(
        "ListExecutions",
        lambda request: execution_pb2.ExecutionList(executions=[execution_pb2.Execution()], token="5"),
    )

    with pytest.raises(FlyteSystemException, match="same page token '5'"):
        await driver.collect("iter_executions", "p", "d")

    assert len(server.calls("ListExecutions")) == 2


# ---------------------------------------------------------------------------------------------------- entity cache


async def test_versioned_get_task_is_served_from_the_cache(driver: Driver, server: RecordingServer) -> None:
    task = task_pb2.Task(
        id=identifiers.Identifier.from_python_std("tsk:p:d:t:v1").to_flyte_idl(), short_description="x"
    )
    server.reply("GetTask", task)

    first = await driver.call("get_task", "tsk:p:d:t:v1")
    second = await driver.call("get_task", identifiers.Identifier.from_python_std("tsk:p:d:t:v1"))

    assert first == second == task
    assert len(server.calls("GetTask")) == 1
    # Callers get their own copy: editing one result leaves the cache intact.
    first.short_description = "edited"
    assert (await driver.call("get_task", "tsk:p:d:t:v1")).short_description == "x"
    assert len(server.calls("GetTask")) == 1


async def test_unversioned_ids_are_never_cached(driver: Driver, server: RecordingServer) -> None:
    unversioned = identifier_pb2.Identifier(resource_type=identifier_pb2.TASK, project="p", domain="d", name="t")

    await driver.call("get_task", unversioned)
    await driver.call("get_task", unversioned)

    assert len(server.calls("GetTask")) == 2


async def test_workflows_and_launch_plans_are_cached_per_kind(driver: Driver, server: RecordingServer) -> None:
    server.reply("GetWorkflow", workflow_pb2.Workflow(short_description="wf"))
    server.reply("GetLaunchPlan", launch_plan_pb2.LaunchPlan())

    for _ in range(2):
        await driver.call("get_workflow", "wf:p:d:n:v1")
        await driver.call("get_launch_plan", "lp:p:d:n:v1")
        await driver.call("get_task", "tsk:p:d:n:v1")

    assert [rpc for rpc, _ in server.calls()] == ["GetWorkflow", "GetLaunchPlan", "GetTask"]


async def test_failed_gets_are_not_cached(driver: Driver, server: RecordingServer) -> None:
    server.reply("GetTask", Failure(grpc.StatusCode.NOT_FOUND, "missing entity of type TASK"))
    with pytest.raises(FlyteEntityNotExistException):
        await driver.call("get_task", "tsk:p:d:t:v1")

    server.reply("GetTask", task_pb2.Task(short_description="now registered"))
    assert (await driver.call("get_task", "tsk:p:d:t:v1")).short_description == "now registered"
    assert len(server.calls("GetTask")) == 2


async def test_cache_is_bounded_and_per_client(server: RecordingServer, config: Any) -> None:
    from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient

    with SynchronousFlyteClient(config, entity_cache_size=1) as small, SynchronousFlyteClient(config) as other:
        small.get_task("tsk:p:d:a:v1")
        small.get_task("tsk:p:d:b:v1")  # evicts a
        small.get_task("tsk:p:d:a:v1")
        other.get_task("tsk:p:d:b:v1")  # another client has its own cache
        small.clear_entity_cache()
        small.get_task("tsk:p:d:a:v1")

    assert [request.id.name for request in server.calls("GetTask")] == ["a", "b", "a", "b", "a"]


# ---------------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("code", "exception"),
    [
        (grpc.StatusCode.NOT_FOUND, FlyteEntityNotExistException),
        (grpc.StatusCode.ALREADY_EXISTS, FlyteEntityAlreadyExistsException),
        (grpc.StatusCode.INVALID_ARGUMENT, FlyteInvalidInputException),
        (grpc.StatusCode.FAILED_PRECONDITION, FlyteFailedPreconditionException),
        (grpc.StatusCode.UNAUTHENTICATED, FlyteAuthenticationException),
        (grpc.StatusCode.INTERNAL, FlyteSystemException),
    ],
)
async def test_server_errors_reach_callers_as_typed_exceptions(
    driver: Driver, server: RecordingServer, code: grpc.StatusCode, exception: type[Exception]
) -> None:
    server.reply("TerminateExecution", Failure(code, "Cannot abort an already terminated workflow execution"))

    with pytest.raises(exception) as raised:
        await driver.call("terminate_execution", EXEC_ID, "cause")

    assert raised.value.code == code.name  # type: ignore[attr-defined]
    assert raised.value.server_message == "Cannot abort an already terminated workflow execution"  # type: ignore[attr-defined]
    assert "TerminateExecution" in str(raised.value)


# ---------------------------------------------------------------------------------------------------- local checks


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "named"),
    [
        ("list_executions_paginated", ("p", "d"), {"limit": 0}, "limit"),
        ("list_executions_paginated", ("p", "d"), {"limit": True}, "limit"),
        ("list_executions_paginated", ("", "d"), {}, "project"),
        ("list_executions_paginated", ("p", "d"), {"token": 3}, "token"),
        ("list_executions_paginated", ("p", "d"), {"filters": 42}, "filters"),
        ("list_executions_paginated", ("p", "d"), {"sort_by": "newest"}, "sort"),
        ("list_task_ids_paginated", ("p", None), {}, "domain"),
        ("get_task", ("wf:p:d:n:v1",), {}, "WORKFLOW id"),
        ("get_task", (42,), {}, "id must be a flyteidl.core.Identifier"),
        ("get_task", (identifier_pb2.Identifier(project="p", domain="d"),), {}, "empty name"),
        ("get_execution", ("p:d:e1",), {}, "execution id"),
        ("get_execution", (identifier_pb2.Identifier(),), {}, "id must be a flyteidl.core.WorkflowExecutionIdentifier"),
        ("get_active_launch_plan", (common_pb2.NamedEntityIdentifier(project="p", domain="d"),), {}, "empty name"),
        ("create_task", ("tsk:p:d:n:v1", "spec"), {}, "task_spec"),
        ("create_execution", ("p", "d", None, execution_pb2.ExecutionSpec(), "inputs"), {}, "inputs"),
        ("update_launch_plan", ("lp:p:d:n:v1", "RUNNING"), {}, "state"),
        ("get_execution_metrics", (EXEC_ID,), {"depth": -1}, "depth"),
        ("get_data", ("s3://bucket/key",), {}, "flyte_uri"),
        ("get_upload_signed_url", ("p", "d"), {}, "content_md5 or filename_root"),
        ("get_upload_signed_url", ("p", "d"), {"content_md5": "abc"}, "content_md5"),
        ("get_download_signed_url", ("s3://b/k",), {"expires_in": 60}, "expires_in"),
        ("list_matchable_attributes", (99,), {}, "resource_type"),
        ("list_node_executions_for_task_paginated", ("te:p:d:e",), {}, "task execution id"),
        ("get_task_execution", ("te:p:d:e:n0:p:d:t:v:4294967296",), {}, r"at most 4294967295 \(a uint32\)"),
        ("get_task_execution_data", ("te:p:d:e:n0:p:d:t:v:-1",), {}, "must be a non-negative integer"),
        ("terminate_execution", (EXEC_ID, ""), {}, "cause"),
    ],
)
async def test_bad_arguments_fail_before_any_rpc(
    driver: Driver, server: RecordingServer, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], named: str
) -> None:
    with pytest.raises(FlyteInvalidInputException, match=named):
        await driver.call(method, *args, **kwargs)

    assert server.calls() == []


NAMED = common_pb2.NamedEntityIdentifier(project="p", domain="d", name="n")
NODE_ID = identifier_pb2.NodeExecutionIdentifier(node_id="n0", execution_id=EXEC_ID)
TASK_EXEC_ID = "te:p:d:e1:n0:p:d:t:v1:0"
# The leading arguments of every friendly method that takes ``filters`` (the rest keep their defaults).
FILTERED_METHODS: dict[str, tuple[Any, ...]] = {
    "list_tasks_paginated": (NAMED,),
    "list_workflows_paginated": (NAMED,),
    "list_launch_plans_paginated": (NAMED,),
    "list_named_entities_paginated": (identifier_pb2.TASK, "p", "d"),
    "list_description_entities_paginated": (identifier_pb2.WORKFLOW, NAMED),
    "list_executions_paginated": ("p", "d"),
    "list_node_executions": (EXEC_ID,),
    "list_node_executions_for_task_paginated": (TASK_EXEC_ID,),
    "list_task_executions_paginated": (NODE_ID,),
    "list_projects_paginated": (),
    "list_signals_paginated": (EXEC_ID,),
    "iter_tasks": (NAMED,),
    "iter_workflows": (NAMED,),
    "iter_launch_plans": (NAMED,),
    "iter_executions": ("p", "d"),
    "iter_node_executions": (EXEC_ID,),
    "iter_node_executions_for_task": (TASK_EXEC_ID,),
    "iter_task_executions": (NODE_ID,),
    "iter_projects": (),
    "iter_signals": (EXEC_ID,),
}


def test_every_method_taking_filters_is_checked_below() -> None:
    import inspect

    from airflow_provider_flyte.clients.aio import AsyncFlyteClient
    from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient

    for client_class in (SynchronousFlyteClient, AsyncFlyteClient):
        taking_filters = {
            name
            for name in dir(client_class)
            if not name.startswith("_")
            and callable(method := getattr(client_class, name))
            and "filters" in inspect.signature(method).parameters
        }
        assert taking_filters == set(FILTERED_METHODS)


@pytest.mark.parametrize("method", sorted(FILTERED_METHODS))
@pytest.mark.parametrize(
    ("filters", "shown"),
    [
        (123, "got int 123"),
        (4.5, "got float 4.5"),
        (b"eq(phase,RUNNING)", "got bytes b'eq(phase,RUNNING)'"),
        ({"eq(phase,RUNNING)": 1}, "got dict {'eq(phase,RUNNING)': 1}"),
        (["eq(phase,RUNNING)", 7], "got int 7 in filters=['eq(phase,RUNNING)', 7]"),
    ],
)
async def test_malformed_filters_fail_before_any_rpc_naming_filters_and_the_value(
    driver: Driver, server: RecordingServer, method: str, filters: Any, shown: str
) -> None:
    run = driver.collect if method.startswith("iter_") else driver.call
    with pytest.raises(FlyteInvalidInputException) as raised:
        await run(method, *FILTERED_METHODS[method], filters=filters)

    assert str(raised.value).startswith("filters ")
    assert shown in str(raised.value)
    assert server.calls() == []


async def test_create_fills_in_an_unset_resource_type(driver: Driver, server: RecordingServer) -> None:
    bare = identifier_pb2.Identifier(project="p", domain="d", name="wf", version="v1")

    await driver.call("create_workflow", bare, workflow_pb2.WorkflowSpec())

    assert server.calls("CreateWorkflow")[0].id.resource_type == identifier_pb2.WORKFLOW
    assert bare.resource_type == identifier_pb2.UNSPECIFIED  # the caller's message is left alone


async def test_flytekit_models_are_accepted(driver: Driver, server: RecordingServer) -> None:
    from flytekit.models.core import identifier as flytekit_identifier

    model = flytekit_identifier.WorkflowExecutionIdentifier(project="p", domain="d", name="e1")

    await driver.call("get_execution", model)

    assert server.calls("GetExecution")[0].id == EXEC_ID


async def test_activation_refreshes_cached_launch_plan_versions(driver: Driver, server: RecordingServer) -> None:
    states = {"v1": launch_plan_pb2.INACTIVE, "v2": launch_plan_pb2.ACTIVE}
    server.reply(
        "GetLaunchPlan",
        lambda request: launch_plan_pb2.LaunchPlan(
            id=request.id, closure=launch_plan_pb2.LaunchPlanClosure(state=states[request.id.version])
        ),
    )
    await driver.call("get_launch_plan", "lp:p:d:n:v1")
    await driver.call("get_launch_plan", "lp:p:d:n:v2")
    await driver.call("get_launch_plan", "lp:p:d:other:v1")

    await driver.call("update_launch_plan", "lp:p:d:n:v1", "ACTIVE")
    states.update(v1=launch_plan_pb2.ACTIVE, v2=launch_plan_pb2.INACTIVE)

    assert (await driver.call("get_launch_plan", "lp:p:d:n:v1")).closure.state == launch_plan_pb2.ACTIVE
    assert (await driver.call("get_launch_plan", "lp:p:d:n:v2")).closure.state == launch_plan_pb2.INACTIVE
    await driver.call("get_launch_plan", "lp:p:d:other:v1")  # another launch plan stays cached
    fetched = [f"{request.id.name}:{request.id.version}" for request in server.calls("GetLaunchPlan")]
    assert fetched == ["n:v1", "n:v2", "other:v1", "n:v1", "n:v2"]


async def test_a_failed_activation_keeps_the_cache(driver: Driver, server: RecordingServer) -> None:
    await driver.call("get_launch_plan", "lp:p:d:n:v1")
    server.reply("UpdateLaunchPlan", Failure(grpc.StatusCode.NOT_FOUND, "missing"))
    with pytest.raises(FlyteEntityNotExistException):
        await driver.call("update_launch_plan", "lp:p:d:n:v1", launch_plan_pb2.ACTIVE)

    await driver.call("get_launch_plan", "lp:p:d:n:v1")

    assert len(server.calls("GetLaunchPlan")) == 1
