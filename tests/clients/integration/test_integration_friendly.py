"""The friendly clients end to end on the seeded sandbox: registration, lists, executions, signals, data proxy."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from typing import Any

import httpx
import pytest
from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox import builders as b
from flyteidl.admin import (
    common_pb2,
    execution_pb2,
    launch_plan_pb2,
    matchable_resource_pb2,
    project_pb2,
    signal_pb2,
    task_pb2,
    workflow_pb2,
)
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2, tasks_pb2, types_pb2
from integration_support import (
    ALWAYS_FAILS,
    DOMAIN,
    GATED,
    PROJECT,
    WAIT_LIMIT,
    Driver,
    Phase,
    connect,
    count_calls,
    execution_id,
    launch_spec,
    pipeline_inputs,
)

from airflow_provider_flyte.clients.filters import Equal, Sort, ValueIn
from airflow_provider_flyte.exceptions import (
    FlyteEntityAlreadyExistsException,
    FlyteEntityNotExistException,
    FlyteFailedPreconditionException,
    FlyteInvalidInputException,
)
from airflow_provider_flyte.literals import literal_map_to_python, to_python

NodePhase = core_execution_pb2.NodeExecution
TaskPhase = core_execution_pb2.TaskExecution
SUMMARIZE = "flyte_admin_sandbox.demo_tasks:summarize"
TASK_NAME = WORKFLOW_NAME = "integration.totals"
VERSIONS = ("v1", "v2", "v3")
DOMAINS = ["development", "staging", "production"]


def named(name: str) -> common_pb2.NamedEntityIdentifier:
    return common_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN, name=name)


def versions(entities: list[Any]) -> list[str]:
    return [entity.id.version for entity in entities]


def names(executions: list[Any]) -> list[str]:
    return [execution.id.name for execution in executions]


def totals_task(version: str, outputs: dict[str, types_pb2.LiteralType] | None = None) -> tasks_pb2.TaskTemplate:
    """Version ``version`` of a task adding numbers up (``outputs`` replace its declared outputs)."""
    return b.python_task(
        TASK_NAME,
        SUMMARIZE,
        inputs={"numbers": b.list_of(b.INTEGER)},
        outputs=outputs or {"total": b.INTEGER, "count": b.INTEGER},
        version=version,
    )


async def register_totals(driver: Driver) -> identifier_pb2.Identifier:
    """Three versions of a task, a workflow running version v1, and its launch plan; returns the launch plan id."""
    for version in VERSIONS:
        task = totals_task(version)
        await driver.call("create_task", task.id, task_pb2.TaskSpec(template=task))
    template = b.workflow(
        WORKFLOW_NAME,
        inputs={"numbers": b.list_of(b.INTEGER)},
        outputs={"total": b.INTEGER},
        nodes=[b.task_node("sum", b.identifier(b.RT.TASK, TASK_NAME), {"numbers": b.workflow_input("numbers")})],
        output_bindings={"total": b.promise("sum", "total")},
    )
    await driver.call("create_workflow", template.id, workflow_pb2.WorkflowSpec(template=template))
    plan_id = b.identifier(b.RT.LAUNCH_PLAN, WORKFLOW_NAME)
    await driver.call("create_launch_plan", plan_id, b.launch_plan_spec(template.id))
    return plan_id


async def test_registration_cache_and_lists(sandbox: FlyteSandbox, kind: str) -> None:
    async with connect(kind, sandbox.config) as driver:
        plan_id = await register_totals(driver)
        task_v1 = b.identifier(b.RT.TASK, TASK_NAME, "v1")
        with pytest.raises(FlyteEntityAlreadyExistsException):
            await driver.call("create_task", task_v1, task_pb2.TaskSpec(template=totals_task("v1")))
        changed = task_pb2.TaskSpec(template=totals_task("v1", outputs={"total": b.INTEGER}))
        with pytest.raises(FlyteInvalidInputException, match="task with different structure already exists"):
            await driver.call("create_task", task_v1, changed)

        # Versioned entities are immutable: the second get is served from the client's cache.
        get_task_calls = count_calls(sandbox, "GetTask")
        first = await driver.call("get_task", task_v1)
        second = await driver.call("get_task", "tsk:flytesnacks:development:integration.totals:v1")
        assert first == second
        assert first.closure.compiled_task.template.id.name == TASK_NAME
        assert get_task_calls.hits == 1
        workflow = await driver.call("get_workflow", b.identifier(b.RT.WORKFLOW, WORKFLOW_NAME))
        assert "sum" in [node.id for node in workflow.closure.compiled_workflow.primary.template.nodes]

        # Pagination: pages of two, newest first, then the iterator over pages of one, oldest first.
        page, token = await driver.call("list_tasks_paginated", named(TASK_NAME), limit=2, sort_by="desc(created_at)")
        assert (versions(page), bool(token)) == (["v3", "v2"], True)
        page, token = await driver.call(
            "list_tasks_paginated", named(TASK_NAME), limit=2, token=token, sort_by=Sort.descending("created_at")
        )
        assert (versions(page), token) == (["v1"], "")
        assert versions(await driver.collect("iter_tasks", named(TASK_NAME), page_size=1)) == list(VERSIONS)
        filtered = await driver.collect("iter_tasks", named(TASK_NAME), filters=ValueIn("version", ["v1", "v3"]))
        assert versions(filtered) == ["v1", "v3"]
        page, _ = await driver.call("list_tasks_paginated", named(TASK_NAME), filters=Equal("version", "v2"))
        assert versions(page) == ["v2"]
        task_names, _ = await driver.call("list_task_ids_paginated", PROJECT, DOMAIN, limit=100)
        assert TASK_NAME in [entity.name for entity in task_names]
        assert versions(await driver.collect("iter_workflows", named(WORKFLOW_NAME))) == ["v1"]

        # Launch plans are stored inactive; activation makes this version the active one.
        plan = await driver.call("get_launch_plan", plan_id)
        assert plan.closure.state == launch_plan_pb2.INACTIVE
        with pytest.raises(FlyteEntityNotExistException):
            await driver.call("get_active_launch_plan", named(WORKFLOW_NAME))
        await driver.call("update_launch_plan", plan_id, "ACTIVE")
        assert (await driver.call("get_launch_plan", plan_id)).closure.state == launch_plan_pb2.ACTIVE
        active = await driver.call("get_active_launch_plan", named(WORKFLOW_NAME))
        assert active.id.version == "v1"
        actives, _ = await driver.call("list_active_launch_plans_paginated", PROJECT, DOMAIN)
        assert WORKFLOW_NAME in [launch_plan.id.name for launch_plan in actives]
        assert versions(await driver.collect("iter_launch_plans", named(WORKFLOW_NAME))) == ["v1"]

        # Named entities carry metadata shared by every version.
        metadata = common_pb2.NamedEntityMetadata(description="adds numbers up")
        await driver.call("update_named_entity", "TASK", named(TASK_NAME), metadata)
        entity = await driver.call("get_named_entity", "TASK", named(TASK_NAME))
        assert entity.metadata.description == "adds numbers up"
        entities, _ = await driver.call("list_named_entities_paginated", "WORKFLOW", PROJECT, DOMAIN, limit=100)
        assert {"demo.pipeline", WORKFLOW_NAME} <= {item.id.name for item in entities}

        # The registered launch plan runs.
        started = await driver.call(
            "create_execution", PROJECT, DOMAIN, "totals", launch_spec(plan_id), pipeline_inputs([4, 5])
        )
        assert (await driver.wait_for(started)).closure.phase == Phase.SUCCEEDED
        data = await driver.call("get_execution_data", started)
        assert literal_map_to_python(data.full_outputs) == {"total": 9}


async def test_pipeline_execution_end_to_end(sandbox: FlyteSandbox, kind: str) -> None:
    async with connect(kind, sandbox.config) as driver:
        started = await driver.call(
            "create_execution", PROJECT, DOMAIN, "e2e", launch_spec(), pipeline_inputs([1, 2, 3])
        )
        assert started == execution_id("e2e")
        done = await driver.wait_for(started)
        assert done.closure.phase == Phase.SUCCEEDED
        assert done.closure.workflow_id.name == "demo.pipeline"

        data = await driver.call("get_execution_data", "ex:flytesnacks:development:e2e")
        assert literal_map_to_python(data.full_inputs) == {"numbers": [1, 2, 3], "scale": 2.0, "label": "demo"}
        assert literal_map_to_python(data.full_outputs) == {
            "total": 6,
            "mean": 4.0,
            "report": "demo: mean 4.000 over 3 value(s)",
        }

        # Node executions: one page, the paging iterator, one node and its data.
        nodes, token = await driver.call("list_node_executions", started, limit=10)
        expected_nodes = ["start-node", "summarize", "mean", "report", "end-node"]
        assert ([node.id.node_id for node in nodes], token) == (expected_nodes, "")
        paged = await driver.collect("iter_node_executions", started, page_size=2)
        assert [node.id.node_id for node in paged] == expected_nodes
        mean_id = identifier_pb2.NodeExecutionIdentifier(node_id="mean", execution_id=started)
        assert (await driver.call("get_node_execution", mean_id)).closure.phase == NodePhase.SUCCEEDED
        node_data = await driver.call("get_node_execution_data", mean_id)
        assert literal_map_to_python(node_data.full_outputs) == {"mean": 4.0}

        # Task executions (one attempt) of that node, addressed by message and by flytekit's string form.
        attempts, _ = await driver.call("list_task_executions_paginated", mean_id, limit=5)
        assert [(attempt.id.retry_attempt, attempt.closure.phase) for attempt in attempts] == [(0, TaskPhase.SUCCEEDED)]
        attempt_id = attempts[0].id
        assert (await driver.call("get_task_execution", attempt_id)).id == attempt_id
        as_text = f"te:{PROJECT}:{DOMAIN}:e2e:mean:{PROJECT}:{DOMAIN}:demo.scaled_mean:v1:0"
        assert (await driver.call("get_task_execution", as_text)).id == attempt_id
        task_data = await driver.call("get_task_execution_data", attempt_id)
        assert literal_map_to_python(task_data.full_inputs) == {"total": 6, "count": 3, "scale": 2.0}
        assert [item.id for item in await driver.collect("iter_task_executions", mean_id)] == [attempt_id]
        children, _ = await driver.call("list_node_executions_for_task_paginated", attempt_id)
        assert children == []  # not a dynamic task: it launched no nodes

        # flyte:// URLs resolve through the data proxy.
        total = await driver.call("get_data", f"flyte://v1/{PROJECT}/{DOMAIN}/e2e/summarize/o/total")
        assert to_python(total.literal, b.INTEGER) == 6

        metrics = await driver.call("get_execution_metrics", started)
        assert {span.node_id.node_id for span in metrics.spans if span.HasField("node_id")} == {
            "summarize",
            "mean",
            "report",
        }

        # A finished execution cannot be terminated: Admin's FAILED_PRECONDITION, typed.
        with pytest.raises(FlyteFailedPreconditionException) as finished:
            await driver.call("terminate_execution", started, "too late")
        assert finished.value.server_message == "Cannot abort an already terminated workflow execution"

        relaunched = await driver.call("relaunch_execution", started, name="e2e-relaunch")
        recovered = await driver.call("recover_execution", started, name="e2e-recover")
        again, restored = await driver.wait_for(relaunched), await driver.wait_for(recovered)
        assert (again.closure.phase, restored.closure.phase) == (Phase.SUCCEEDED, Phase.SUCCEEDED)
        assert again.spec.metadata.mode == execution_pb2.ExecutionMetadata.RELAUNCH
        assert restored.spec.metadata.mode == execution_pb2.ExecutionMetadata.RECOVERED
        recovered_nodes = await driver.collect("iter_node_executions", recovered)
        assert {node.id.node_id: node.closure.phase for node in recovered_nodes}["summarize"] == NodePhase.RECOVERED

        # Execution lists: filters, sort, paging iterator; archived executions drop out of the default listing.
        newest_first, _ = await driver.call(
            "list_executions_paginated",
            PROJECT,
            DOMAIN,
            filters=Equal("phase", "SUCCEEDED"),
            sort_by="desc(created_at)",
        )
        assert names(newest_first) == ["e2e-recover", "e2e-relaunch", "e2e"]
        assert names(await driver.collect("iter_executions", PROJECT, DOMAIN, page_size=1)) == [
            "e2e",
            "e2e-relaunch",
            "e2e-recover",
        ]
        await driver.call("update_execution", relaunched, "EXECUTION_ARCHIVED")
        assert names(await driver.collect("iter_executions", PROJECT, DOMAIN)) == ["e2e", "e2e-recover"]


async def test_failed_and_aborted_executions(sandbox: FlyteSandbox, kind: str) -> None:
    async with connect(kind, sandbox.config) as driver:
        failing = await driver.call("create_execution", PROJECT, DOMAIN, "boom", launch_spec(ALWAYS_FAILS), None)
        failed = await driver.wait_for(failing)
        assert failed.closure.phase == Phase.FAILED
        assert failed.closure.error.message == "[explode]: ValueError: demo failure: this run was meant to fail"

        # The gated workflow waits for a person, so it is still running when terminated.
        waiting = await driver.call(
            "create_execution", PROJECT, DOMAIN, "waiting", launch_spec(GATED), pipeline_inputs([1])
        )
        await driver.wait_for(waiting, frozenset({Phase.RUNNING}))
        await driver.call("terminate_execution", waiting, "no longer needed")
        aborted = await driver.wait_for(waiting)
        assert aborted.closure.phase == Phase.ABORTED
        assert aborted.closure.abort_metadata.cause == "no longer needed"


async def wait_for_signal(driver: Driver, started: identifier_pb2.WorkflowExecutionIdentifier, signal_id: str) -> None:
    """Poll until the engine reaches the gate waiting for ``signal_id`` (it creates the signal then)."""
    deadline = time.monotonic() + WAIT_LIMIT
    while signal_id not in [signal.id.signal_id for signal in await driver.collect("iter_signals", started)]:
        assert time.monotonic() < deadline, f"signal {signal_id!r} never appeared"
        await asyncio.sleep(0.02)


async def test_gated_workflow_is_driven_by_signals(sandbox: FlyteSandbox, kind: str) -> None:
    async with connect(kind, sandbox.config) as driver:
        started = await driver.call(
            "create_execution", PROJECT, DOMAIN, "gated", launch_spec(GATED), pipeline_inputs([2, 4])
        )
        await wait_for_signal(driver, started, "approve-report")
        approval = identifier_pb2.SignalIdentifier(signal_id="approve-report", execution_id=started)
        with pytest.raises(FlyteInvalidInputException, match="is not castable"):
            await driver.call("set_signal", signal_pb2.SignalSetRequest(id=approval, value=b.literal("yes", b.STRING)))
        await driver.call("set_signal", signal_pb2.SignalSetRequest(id=approval, value=b.literal(True, b.BOOLEAN)))
        approved = await driver.call(
            "get_or_create_signal", signal_pb2.SignalGetOrCreateRequest(id=approval, type=b.BOOLEAN)
        )
        assert approved.value.scalar.primitive.boolean is True

        await wait_for_signal(driver, started, "title")
        title = identifier_pb2.SignalIdentifier(signal_id="title", execution_id=started)
        await driver.call("set_signal", signal_pb2.SignalSetRequest(id=title, value=b.literal("Weekly", b.STRING)))
        done = await driver.wait_for(started)
        assert done.closure.phase == Phase.SUCCEEDED
        data = await driver.call("get_execution_data", started)
        assert literal_map_to_python(data.full_outputs) == {"o0": "Weekly: gated: mean 3.000 over 2 value(s)"}
        listed = await driver.call(
            "list_signals", signal_pb2.SignalListRequest(workflow_execution_id=started, limit=10)
        )
        assert sorted(signal.id.signal_id for signal in listed.signals) == ["approve-report", "title"]


async def test_signals_created_directly(sandbox: FlyteSandbox, kind: str) -> None:
    async with connect(kind, sandbox.config) as driver:
        started = await driver.call("create_execution", PROJECT, DOMAIN, "direct", launch_spec(), pipeline_inputs([1]))
        signal_id = identifier_pb2.SignalIdentifier(signal_id="go", execution_id=started)
        created = await driver.call(
            "get_or_create_signal", signal_pb2.SignalGetOrCreateRequest(id=signal_id, type=b.BOOLEAN)
        )
        assert created.type == b.BOOLEAN
        assert not created.HasField("value")
        await driver.call("set_signal", signal_pb2.SignalSetRequest(id=signal_id, value=b.literal(False, b.BOOLEAN)))
        signals, token = await driver.call("list_signals_paginated", started, limit=5)
        assert ([signal.value.scalar.primitive.boolean for signal in signals], token) == ([False], "")
        missing = identifier_pb2.SignalIdentifier(signal_id="nope", execution_id=started)
        # Admin answers INVALID_ARGUMENT (not NOT_FOUND) for a signal nobody created.
        with pytest.raises(FlyteInvalidInputException, match=r"signal does not exist"):
            await driver.call("set_signal", signal_pb2.SignalSetRequest(id=missing, value=b.literal(True, b.BOOLEAN)))


async def test_projects_domains_and_version(sandbox: FlyteSandbox, kind: str) -> None:
    async with connect(kind, sandbox.config) as driver:
        await driver.call("register_project", project_pb2.Project(id="integration", name="Integration"))
        with pytest.raises(FlyteEntityAlreadyExistsException):
            await driver.call("register_project", project_pb2.Project(id="integration", name="Integration"))
        await driver.call(
            "update_project", project_pb2.Project(id="integration", name="Integration", description="client tests")
        )
        project = await driver.call("get_project", "integration")
        assert (project.name, project.description) == ("Integration", "client tests")
        assert [domain.id for domain in project.domains] == DOMAINS
        assert [item.id for item in await driver.collect("iter_projects", page_size=1)] == [
            "flytesnacks",
            "integration",
        ]
        page, _ = await driver.call("list_projects_paginated", filters=Equal("name", "Integration"))
        assert [item.id for item in page] == ["integration"]
        assert [domain.id for domain in await driver.call("get_domains")] == DOMAINS
        assert await driver.call("get_control_plane_version") == "v1.16.8"
        build = (await driver.call("get_version")).control_plane_version.Build
        assert build.startswith("airflow-provider-flyte-sandbox ")


async def test_data_proxy_upload_and_download(sandbox: FlyteSandbox, kind: str) -> None:
    payload = b"numbers,1,2,3\n"
    md5 = hashlib.md5(payload).digest()
    async with connect(kind, sandbox.config) as driver:
        location = await driver.call("get_upload_signed_url", PROJECT, DOMAIN, content_md5=md5, filename="data.csv")
        assert location.native_url.startswith("s3://")
        assert location.native_url.endswith("/data.csv")
        headers = {"Content-MD5": base64.b64encode(md5).decode()}
        async with httpx.AsyncClient() as http:
            assert (await http.put(location.signed_url, content=payload, headers=headers)).status_code == 200
            # The signed URL only takes the content whose md5 it was made for.
            assert (await http.put(location.signed_url, content=b"tampered", headers=headers)).is_error
            download = await driver.call("get_download_signed_url", location.native_url)
            fetched = await http.get(download.signed_url)
        assert (fetched.status_code, fetched.content) == (200, payload)

        started = await driver.call("create_execution", PROJECT, DOMAIN, "decks", launch_spec(), pipeline_inputs([1]))
        await driver.wait_for(started)
        # The sandbox's Python tasks render no deck, so the link is NOT_FOUND, typed.
        with pytest.raises(FlyteEntityNotExistException):
            await driver.call("get_download_artifact_signed_url", "summarize", PROJECT, DOMAIN, "decks")


async def test_matchable_attributes_at_every_level(sandbox: FlyteSandbox, kind: str) -> None:
    def cluster(label: str) -> matchable_resource_pb2.MatchingAttributes:
        return matchable_resource_pb2.MatchingAttributes(
            execution_cluster_label=matchable_resource_pb2.ExecutionClusterLabel(value=label)
        )

    label_resource = "EXECUTION_CLUSTER_LABEL"  # by name here, by enum number for the workflow level below
    async with connect(kind, sandbox.config) as driver:
        with pytest.raises(FlyteEntityNotExistException):
            await driver.call("get_project_attributes", PROJECT, label_resource)
        await driver.call("update_project_attributes", PROJECT, cluster("project-wide"))
        await driver.call("update_project_domain_attributes", PROJECT, DOMAIN, cluster("dev-cluster"))
        await driver.call("update_workflow_attributes", PROJECT, DOMAIN, "demo.pipeline", cluster("pipeline-cluster"))

        project_level = await driver.call("get_project_attributes", PROJECT, label_resource)
        domain_level = await driver.call("get_project_domain_attributes", PROJECT, DOMAIN, label_resource)
        workflow_level = await driver.call(
            "get_workflow_attributes", PROJECT, DOMAIN, "demo.pipeline", matchable_resource_pb2.EXECUTION_CLUSTER_LABEL
        )
        assert [
            level.attributes.matching_attributes.execution_cluster_label.value
            for level in (project_level, domain_level, workflow_level)
        ] == ["project-wide", "dev-cluster", "pipeline-cluster"]
        listed = await driver.call("list_matchable_attributes", label_resource)
        assert [
            (configuration.domain, configuration.workflow, configuration.attributes.execution_cluster_label.value)
            for configuration in listed.configurations
        ] == [
            (DOMAIN, "demo.pipeline", "pipeline-cluster"),
            (DOMAIN, "", "dev-cluster"),
            ("", "", "project-wide"),
        ]
