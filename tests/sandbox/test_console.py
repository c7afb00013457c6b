"""The sandbox's read-only console: real executions on a sandbox, then the pages fetched over HTTP and read."""

from __future__ import annotations

import html
import re
import socket
from collections.abc import Callable, Iterator

import grpc
import httpx
import pytest
from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox import builders as b
from flyte_admin_sandbox.cli import build_parser
from flyte_admin_sandbox.console import Console
from flyteidl.admin import execution_pb2, launch_plan_pb2, schedule_pb2, signal_pb2, task_pb2, workflow_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2, literals_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2
from flyteidl.service import admin_pb2_grpc, signal_pb2_grpc
from sandbox_helpers import wait_for

from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
from airflow_provider_flyte.remote.console import console_http_domain, generate_console_url
from tests.support.polling import wait_until
from tests.support.sandboxes import new_sandbox

P, D = "flytesnacks", "development"
Phase = core_execution_pb2.WorkflowExecution
NUMBERS = {"numbers": b.list_of(b.INTEGER)}
PIPELINE = b.identifier(b.RT.LAUNCH_PLAN, "demo.pipeline")
SUMMARIZE = b.identifier(b.RT.TASK, "demo.summarize")
HOSTILE = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[FlyteSandbox]:
    with new_sandbox(task_delay=0.01, poll_interval=0.02) as running:
        yield running


@pytest.fixture(scope="module")
def channel(sandbox: FlyteSandbox) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(sandbox.endpoint) as opened:
        yield opened


@pytest.fixture(scope="module")
def admin(channel: grpc.Channel) -> admin_pb2_grpc.AdminServiceStub:
    return admin_pb2_grpc.AdminServiceStub(channel)


@pytest.fixture(scope="module")
def signals(channel: grpc.Channel) -> signal_pb2_grpc.SignalServiceStub:
    return signal_pb2_grpc.SignalServiceStub(channel)


@pytest.fixture(scope="module")
def web(sandbox: FlyteSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.console_endpoint, timeout=10.0) as client:
        yield client


@pytest.fixture(scope="module")
def pipeline_run(admin) -> identifier_pb2.WorkflowExecutionIdentifier:
    """One succeeded run of the seeded pipeline, with a hostile label."""
    inputs = b.literal_map({"numbers": [1, 2, 3], "label": HOSTILE}, {**NUMBERS, "label": b.STRING})
    execution_id = launch(admin, PIPELINE, inputs, name="console-pipeline")
    assert wait_for(admin, execution_id).closure.phase == Phase.SUCCEEDED
    return execution_id


def launch(admin, plan, inputs=None, name: str = "") -> identifier_pb2.WorkflowExecutionIdentifier:
    spec = execution_pb2.ExecutionSpec(launch_plan=plan)
    request = execution_pb2.ExecutionCreateRequest(project=P, domain=D, name=name, spec=spec, inputs=inputs)
    return admin.CreateExecution(request).id


def page_of(web: httpx.Client, url: str, status: int = 200) -> str:
    response = web.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text
    return response.text


def execution_url(execution_id) -> str:
    return f"/console/projects/{P}/domains/{D}/executions/{execution_id.name}"


def heading(document: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", document, re.S)
    assert found is not None
    return found.group(1)


def phase_shown(document: str) -> str:
    """The phase in the page's ``<h1>`` (an element of class ``phase``)."""
    found = re.search(r'<span class="phase[^"]*">([A-Z_]+)</span>', heading(document))
    assert found is not None
    return found.group(1)


def text_of(document: str) -> str:
    """The page's text, tags stripped and entities decoded."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", document)))


def refreshes(document: str) -> bool:
    return '<meta http-equiv="refresh" content="3">' in document


# The endpoint ----------------------------------------------------------------------------------------------------


def test_console_endpoint_is_the_http_side_and_the_config_points_links_at_it(sandbox: FlyteSandbox) -> None:
    assert sandbox.console_endpoint == sandbox.http_url
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sandbox.console_endpoint)
    assert sandbox.config.console_endpoint == sandbox.console_endpoint
    assert console_http_domain(sandbox.config) == sandbox.console_endpoint
    url = generate_console_url(sandbox.config, WorkflowExecutionIdentifier(P, D, "abc"))
    assert url == f"{sandbox.console_endpoint}/console/projects/{P}/domains/{D}/executions/abc"


def test_console_endpoint_needs_a_start_and_the_cli_mentions_the_console(capsys) -> None:
    unstarted = FlyteSandbox(port=_free_port())
    try:
        with pytest.raises(RuntimeError, match="start"):
            _ = unstarted.console_endpoint
        assert unstarted.config.console_endpoint is None
    finally:
        unstarted.close()
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sandbox", "--help"])
    assert "console" in capsys.readouterr().out


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_pinned_console_port_survives_restart() -> None:
    port = _free_port()
    with new_sandbox(http_port=port, task_delay=0.01) as sandbox, grpc.insecure_channel(sandbox.endpoint) as channel:
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        assert sandbox.console_endpoint == f"http://127.0.0.1:{port}"
        execution_id = launch(admin, PIPELINE, b.literal_map({"numbers": [7]}, NUMBERS), name="before-restart")
        wait_for(admin, execution_id)
        url = generate_console_url(sandbox.config, execution_id)
        assert httpx.get(url).status_code == 200
        sandbox.restart()
        assert sandbox.console_endpoint == f"http://127.0.0.1:{port}"
        assert generate_console_url(sandbox.config, execution_id) == url
        document = httpx.get(url).text
        assert "before-restart" in heading(document)
        assert phase_shown(document) == "SUCCEEDED"


# Execution pages -------------------------------------------------------------------------------------------------


def test_succeeded_execution_shows_what_ran_its_data_nodes_and_timeline(web, pipeline_run) -> None:
    document = page_of(web, execution_url(pipeline_run))
    assert "console-pipeline" in heading(document)
    assert phase_shown(document) == "SUCCEEDED"
    assert not refreshes(document)
    text = text_of(document)
    assert "[1, 2, 3]" in text
    assert "scale float 2.0" in text
    assert "total int 6" in text
    assert "mean float 4.0" in text
    assert f"report str {HOSTILE}: mean 4.000 over 3 value(s)" in text
    assert 'href="/console/projects/flytesnacks/domains/development/launch_plans/demo.pipeline/version/v1"' in document
    for node in ("summarize", "mean", "report"):
        assert f'<tr id="node-{node}">' in document
    assert "start-node" not in document
    assert "1 (0 retries)" in text
    assert 'class="timeline"' in document
    assert re.search(r'class="bar" style="left: [\d.]+%; width: [\d.]+%"', document)


def test_values_are_escaped(web, pipeline_run) -> None:
    document = page_of(web, execution_url(pipeline_run))
    assert "<script>" not in document
    assert html.escape(HOSTILE) in document


def test_failed_execution_shows_its_error(admin, web) -> None:
    execution_id = launch(admin, b.identifier(b.RT.LAUNCH_PLAN, "demo.always_fails"), name="console-fails")
    wait_for(admin, execution_id)
    document = page_of(web, execution_url(execution_id))
    assert phase_shown(document) == "FAILED"
    assert not refreshes(document)
    text = text_of(document)
    assert "[explode]: ValueError: demo failure: this run was meant to fail" in text
    assert "USER:ValueError (user)" in text  # the error code and kind
    assert 'class="error"' in document
    assert '<tr id="node-explode">' in document


def test_running_execution_refreshes_and_an_aborted_one_shows_its_cause(sandbox, admin, web) -> None:
    task = b.container_task("console.hangs", outputs={"o0": b.INTEGER})
    admin.CreateTask(task_pb2.TaskCreateRequest(id=task.id, spec=task_pb2.TaskSpec(template=task)))
    sandbox.script("console.hangs", hang=True)
    try:
        execution_id = launch(admin, task.id, name="console-hangs")
        wait_for(admin, execution_id, phases={Phase.RUNNING})
        running = page_of(web, execution_url(execution_id))
        assert phase_shown(running) == "RUNNING"
        assert refreshes(running)
        assert "so far" in text_of(running)
        assert 'href="/console/projects/flytesnacks/domains/development/tasks/console.hangs/version/v1"' in running
        cause = "stopped <by> the console test"
        admin.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=execution_id, cause=cause))
        wait_for(admin, execution_id)
        aborted = page_of(web, execution_url(execution_id))
    finally:
        sandbox.unscript("console.hangs")
    assert phase_shown(aborted) == "ABORTED"
    assert not refreshes(aborted)
    assert f"Aborted: {cause}" in text_of(aborted)
    assert html.escape(cause) in aborted


def test_gate_waiting_shows_its_pending_signal(admin, signals, web) -> None:
    plan = b.identifier(b.RT.LAUNCH_PLAN, "demo.gated_publish")
    execution_id = launch(admin, plan, b.literal_map({"numbers": [2, 4]}, NUMBERS), name="console-gated")

    def page_saying(words: str) -> Callable[[], str | None]:
        def check() -> str | None:
            document = page_of(web, execution_url(execution_id))
            return document if words in text_of(document) else None

        return check

    document = wait_until(page_saying("approve-report bool pending"), what="the approval gate's pending signal")
    assert "Pending signals" in document
    assert phase_shown(document) == "RUNNING"
    assert refreshes(document)
    assert "approve-report bool pending" in text_of(document)
    signal_id = identifier_pb2.SignalIdentifier(signal_id="approve-report", execution_id=execution_id)
    signals.SetSignal(signal_pb2.SignalSetRequest(id=signal_id, value=b.literal(True, b.BOOLEAN)))
    document = wait_until(page_saying("title str pending"), what="the title gate's pending signal")
    assert "approve-report bool true" in text_of(document)
    admin.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=execution_id, cause="done looking"))


def _register_parent_with_children(admin) -> identifier_pb2.Identifier:
    """A workflow calling a launch plan (a child execution) and running a sub-workflow (child nodes)."""
    child = b.workflow(
        "console.child",
        inputs=NUMBERS,
        outputs={"total": b.INTEGER},
        nodes=[b.task_node("sum", SUMMARIZE, {"numbers": b.workflow_input("numbers")})],
        output_bindings={"total": b.promise("sum", "total")},
    )
    admin.CreateWorkflow(
        workflow_pb2.WorkflowCreateRequest(id=child.id, spec=workflow_pb2.WorkflowSpec(template=child))
    )
    child_plan = b.identifier(b.RT.LAUNCH_PLAN, "console.child")
    admin.CreateLaunchPlan(launch_plan_pb2.LaunchPlanCreateRequest(id=child_plan, spec=b.launch_plan_spec(child.id)))
    sub = b.workflow(
        "console.sub",
        inputs=NUMBERS,
        outputs={"total": b.INTEGER},
        nodes=[b.task_node("inner-sum", SUMMARIZE, {"numbers": b.workflow_input("numbers")})],
        output_bindings={"total": b.promise("inner-sum", "total")},
    )
    bindings = [literals_pb2.Binding(var="numbers", binding=b.workflow_input("numbers"))]
    nodes = [
        core_workflow_pb2.Node(
            id="call",
            metadata=core_workflow_pb2.NodeMetadata(name="call"),
            inputs=bindings,
            workflow_node=core_workflow_pb2.WorkflowNode(launchplan_ref=child_plan),
        ),
        core_workflow_pb2.Node(
            id="nested",
            metadata=core_workflow_pb2.NodeMetadata(name="nested"),
            inputs=bindings,
            workflow_node=core_workflow_pb2.WorkflowNode(sub_workflow_ref=sub.id),
        ),
    ]
    parent = b.workflow(
        "console.parent",
        inputs=NUMBERS,
        outputs={"total": b.INTEGER},
        nodes=nodes,
        output_bindings={"total": b.promise("call", "total")},
    )
    spec = workflow_pb2.WorkflowSpec(template=parent, sub_workflows=[sub])
    admin.CreateWorkflow(workflow_pb2.WorkflowCreateRequest(id=parent.id, spec=spec))
    plan = b.identifier(b.RT.LAUNCH_PLAN, "console.parent")
    admin.CreateLaunchPlan(launch_plan_pb2.LaunchPlanCreateRequest(id=plan, spec=b.launch_plan_spec(parent.id)))
    return plan


def test_launch_plan_and_sub_workflow_nodes_link_their_children(admin, web) -> None:
    plan = _register_parent_with_children(admin)
    execution_id = launch(admin, plan, b.literal_map({"numbers": [5, 6]}, NUMBERS), name="console-parent")
    assert wait_for(admin, execution_id).closure.phase == Phase.SUCCEEDED
    document = page_of(web, execution_url(execution_id))
    found = re.search(r'child execution <a href="([^"]+)">([^<]+)</a>', document)
    assert found is not None
    child_url, child_name = found.groups()
    assert '<tr id="node-nested">' in document
    assert '<tr id="node-nested-0-inner-sum">' in document  # the sub-workflow's node, listed under its parent node
    assert "total int 11" in text_of(document)

    child = page_of(web, child_url)
    assert child_name in heading(child)
    assert phase_shown(child) == "SUCCEEDED"
    assert f'href="{execution_url(execution_id)}#node-call"' in child
    assert "child workflow" in text_of(child)


# Node and task attempt pages, and every generated link ------------------------------------------------------------


def test_every_url_generate_console_url_builds_answers(sandbox, admin, web, pipeline_run) -> None:
    config = sandbox.config
    node_id = identifier_pb2.NodeExecutionIdentifier(node_id="mean", execution_id=pipeline_run)
    attempt_id = identifier_pb2.TaskExecutionIdentifier(
        task_id=b.identifier(b.RT.TASK, "demo.scaled_mean"), node_execution_id=node_id, retry_attempt=0
    )
    targets = [
        pipeline_run,
        node_id,
        attempt_id,
        b.identifier(b.RT.TASK, "demo.summarize"),
        b.identifier(b.RT.WORKFLOW, "demo.pipeline"),
        b.identifier(b.RT.LAUNCH_PLAN, "demo.pipeline"),
    ]
    for target in targets:
        url = generate_console_url(config, target)
        assert url.startswith(sandbox.console_endpoint + "/console/")
        response = httpx.get(url)
        assert response.status_code == 200, (url, response.text)

    attempt = text_of(page_of(web, generate_console_url(config, attempt_id)))
    assert "demo.scaled_mean attempt 0 SUCCEEDED" in attempt
    assert "mean 4.0" in attempt
    assert "total 6" in attempt
    node = text_of(page_of(web, f"{execution_url(pipeline_run)}/nodeId/mean"))
    assert "Node mean SUCCEEDED" in node
    assert "attempt 0 demo.scaled_mean @ v1 SUCCEEDED" in node


def test_entity_pages_show_interfaces_versions_and_executions(sandbox, admin, web, pipeline_run) -> None:
    task = b.python_task(
        "demo.summarize", "flyte_admin_sandbox.demo_tasks:summarize", inputs=NUMBERS, outputs={"total": b.INTEGER}
    )
    task.id.version = "v2/build+1"  # one path segment, percent-encoded
    admin.CreateTask(task_pb2.TaskCreateRequest(id=task.id, spec=task_pb2.TaskSpec(template=task)))
    url = generate_console_url(sandbox.config, task.id)
    assert url.endswith("/task/demo.summarize/version/v2%2Fbuild%2B1")
    versioned = text_of(page_of(web, url))
    assert "demo.summarize @ v2/build+1" in versioned
    assert "numbers list[int]" in versioned
    latest = text_of(page_of(web, f"/console/projects/{P}/domains/{D}/tasks/demo.summarize"))
    assert "v2/build+1 (shown)" in latest
    assert "v1" in latest

    workflow = text_of(page_of(web, f"/console/projects/{P}/domains/{D}/workflows/demo.gated_publish"))
    assert "numbers list[int]" in workflow
    assert "approve gate: approval approve-report" in workflow
    assert "title gate: signal title of type str" in workflow

    plan = text_of(page_of(web, f"/console/projects/{P}/domains/{D}/launch_plans/demo.pipeline"))
    assert "scale float optional 2.0" in plan
    assert "numbers list[int] required" in plan
    assert pipeline_run.name in plan  # its recent executions


# Lists -----------------------------------------------------------------------------------------------------------


def test_execution_list_filters_by_phase(admin, web, pipeline_run) -> None:
    failed = launch(admin, b.identifier(b.RT.LAUNCH_PLAN, "demo.always_fails"), name="console-list-fails")
    wait_for(admin, failed)
    base = f"/console/projects/{P}/domains/{D}/executions"
    everything = page_of(web, base)
    assert pipeline_run.name in everything
    assert failed.name in everything
    only_failed = page_of(web, f"{base}?phase=FAILED")
    assert failed.name in only_failed
    assert pipeline_run.name not in only_failed
    only_succeeded = page_of(web, f"{base}?phase=succeeded")
    assert pipeline_run.name in only_succeeded
    assert failed.name not in only_succeeded
    assert "unknown phase" in text_of(page_of(web, f"{base}?phase=<b>", status=400))


def test_launch_plan_list_shows_schedules_and_state(admin, web) -> None:
    defaults = {"numbers": (NUMBERS["numbers"], [1]), "scale": (b.FLOAT, 1.0), "label": (b.STRING, "rated")}
    rated = b.launch_plan_spec(b.identifier(b.RT.WORKFLOW, "demo.pipeline"), defaults=defaults)
    rated.entity_metadata.schedule.CopyFrom(
        schedule_pb2.Schedule(rate=schedule_pb2.FixedRate(value=5, unit=schedule_pb2.MINUTE))
    )
    plan_id = b.identifier(b.RT.LAUNCH_PLAN, "console.every_five")
    admin.CreateLaunchPlan(launch_plan_pb2.LaunchPlanCreateRequest(id=plan_id, spec=rated))
    document = page_of(web, f"/console/projects/{P}/domains/{D}/launch_plans")
    rows = {
        match.group(1): text_of(match.group(0))
        for match in re.finditer(r'<tr><td><a href="[^"]+">([^<]+)</a>.*?</tr>', document)
    }
    assert "cron 0 2 * * *" in rows["demo.nightly"]
    assert "ACTIVE" in rows["demo.nightly"]
    assert "every 5 minute(s)" in rows["console.every_five"]
    assert "INACTIVE" in rows["console.every_five"]
    assert "none" in rows["console.every_five"]  # no active version
    assert "demo.pipeline" in rows
    listed = text_of(page_of(web, f"/console/projects/{P}/domains/{D}/tasks"))
    assert "demo.summarize" in listed
    assert "python-task" in listed
    assert ".flytegen" not in page_of(web, f"/console/projects/{P}/domains/{D}/workflows")
    assert "flytesnacks" in page_of(web, "/console")


# Errors ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "said"),
    [
        (f"/console/projects/{P}/domains/{D}/executions/no-such-run", "Execution flytesnacks/development/no-such-run"),
        (f"/console/projects/{P}/domains/{D}/executions/no-such-run/nodeId/n0", "no-such-run"),
        (f"/console/projects/{P}/domains/{D}/launch_plans/no.such.plan", "Launch plan flytesnacks/development/no.such"),
        (f"/console/projects/{P}/domains/{D}/tasks/demo.summarize/version/v999", "version v999"),
        (f"/console/projects/{P}/domains/{D}/gadgets", "gadgets"),
        ("/console/projects/no-such-project/domains/development/executions", "no-such-project"),
        ("/console/nothing/here", "no console page"),
    ],
)
def test_unknown_things_are_404_pages(web, url: str, said: str) -> None:
    text = text_of(page_of(web, url, status=404))
    assert "not found" in text.lower() or "no console page" in text
    assert said in text


def test_a_page_that_fails_to_render_is_a_short_500(sandbox, monkeypatch) -> None:
    console = Console(sandbox.registry, sandbox.executions)

    def broken() -> None:
        raise RuntimeError("the store <melted>")

    monkeypatch.setattr(console.data, "projects", broken)
    status, content_type, body = console.handle("/console")
    assert (status, content_type) == (500, "text/html; charset=utf-8")
    text = body.decode()
    assert "Traceback" not in text
    assert "RuntimeError: the store &lt;melted&gt;" in text


def test_stylesheet_is_served(web) -> None:
    response = web.get("/console/static/console.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert ".phase-FAILED" in response.text


def test_every_console_link_on_the_pages_opens_a_page(web, pipeline_run) -> None:
    start = [execution_url(pipeline_run), f"/console/projects/{P}/domains/{D}", "/console"]
    seen: set[str] = set(start)
    queue = list(start)
    while queue and len(seen) < 400:
        url = queue.pop(0)
        document = page_of(web, url)
        for href in re.findall(r'href="(/console[^"#]*)', document):
            target = html.unescape(href)
            if target not in seen and not target.startswith("/console/static/"):
                seen.add(target)
                queue.append(target)
    assert len(seen) > 30
