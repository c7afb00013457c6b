"""Execution pages: one execution (nodes, data, signals, timeline), one node, one task attempt, and the list."""

from __future__ import annotations

import time
import urllib.parse

from flyteidl.admin import execution_pb2 as admin_pb2
from flyteidl.admin import node_execution_pb2, task_execution_pb2
from flyteidl.core import execution_pb2, identifier_pb2
from google.protobuf import duration_pb2, timestamp_pb2

from flyte_admin_sandbox.console.data import BadRequest, ConsoleData, NotFound, type_text
from flyte_admin_sandbox.console.html import (
    Html,
    crumbs,
    duration_text,
    facts,
    join,
    link,
    page,
    path,
    phase_badge,
    seconds_text,
    section,
    table,
    tag,
    when,
)
from flyte_admin_sandbox.console.widgets import (
    KIND_TEXT,
    WORKFLOW_PHASES,
    attempt_path,
    entity_link,
    execution_link,
    execution_path,
    interface_types,
    literal_html,
    node_anchor,
    node_link,
    node_page_path,
    node_phase,
    task_phase,
    timeline,
    values_table,
    workflow_phase,
)
from flyte_admin_sandbox.records import NODE_TERMINAL, TASK_TERMINAL, WORKFLOW_TERMINAL

REFRESH_SECONDS = 3
"""How often a page of something still running reloads itself."""

HIDDEN_NODES = frozenset({"start-node", "end-node"})
"""Nodes every workflow has, left out of the nodes table as flyteconsole does."""

MAX_NESTING = 4
"""How deep the nodes table goes into sub-workflow and branch children."""

Mode = admin_pb2.ExecutionMetadata.ExecutionMode


def _elapsed(
    started: timestamp_pb2.Timestamp, duration: duration_pb2.Duration, terminal: bool, created: timestamp_pb2.Timestamp
) -> str:
    """The duration once over, the time since the start (or creation) while running."""
    if terminal:
        return duration_text(duration)
    begin = started if started.seconds or started.nanos else created
    if not (begin.seconds or begin.nanos):
        return ""
    return f"{seconds_text(max(time.time() - begin.ToNanoseconds() / 1e9, 0.0))} so far"


def _error_box(code: str, message: str, kind: str = "") -> Html:
    title = join([tag("strong", code or "Error"), tag("span", f" ({kind})", class_="muted") if kind else ""])
    return tag("div", title, tag("pre", message), class_="error")


# One execution ---------------------------------------------------------------------------------------------------


def execution_page(data: ConsoleData, execution_id: identifier_pb2.WorkflowExecutionIdentifier) -> Html:
    """The page of one execution: what ran, its phase and times, data, error, nodes, signals and timeline.

    Raises:
        NotFound: when there is no such execution.
    """
    execution = data.execution(execution_id)
    closure = execution.closure
    running = closure.phase not in WORKFLOW_TERMINAL
    body = join(
        [
            _summary(execution),
            _problem(closure),
            _data_sections(data, execution),
            _nodes_section(data, execution_id),
            _signals_section(data, execution_id),
            _timeline_section(data, execution),
        ]
    )
    heading = join([tag("span", execution_id.name, class_="name"), " ", phase_badge(workflow_phase(closure.phase))])
    executions = (path("projects", execution_id.project, "domains", execution_id.domain, "executions"), "Executions")
    return page(
        f"Execution {execution_id.name}",
        body,
        heading=heading,
        refresh=REFRESH_SECONDS if running else None,
        nav=crumbs(execution_id.project, execution_id.domain, executions),
    )


def _summary(execution: admin_pb2.Execution) -> Html:
    closure, metadata = execution.closure, execution.spec.metadata
    terminal = closure.phase in WORKFLOW_TERMINAL
    parent = metadata.parent_node_execution if metadata.HasField("parent_node_execution") else None
    reference = metadata.reference_execution if metadata.HasField("reference_execution") else None
    launched = execution.spec.launch_plan
    items: list[tuple[str, object]] = [
        ("Execution", f"{execution.id.project} / {execution.id.domain} / {execution.id.name}"),
        ("Phase", phase_badge(workflow_phase(closure.phase))),
        ("Launched", join([_kind(launched.resource_type), " ", entity_link(launched)]) if launched.name else None),
        ("Workflow", entity_link(closure.workflow_id) if closure.workflow_id.name else None),
        ("Mode", Mode.Name(metadata.mode).replace("_", " ").lower()),
        ("Parent", node_link(parent) if parent is not None and parent.execution_id.name else None),
        ("Source", execution_link(reference) if reference is not None and reference.name else None),
        ("Launched by", metadata.principal),
        ("Created at", when(closure.created_at)),
        ("Started at", when(closure.started_at)),
        ("Duration", _elapsed(closure.started_at, closure.duration, terminal, closure.created_at)),
        ("Updated at", when(closure.updated_at)),
        ("Labels", ", ".join(f"{k}={v}" for k, v in sorted(execution.spec.labels.values.items()))),
        ("Tags", ", ".join(execution.spec.tags)),
    ]
    return tag("section", facts(items))


def _kind(resource_type: int) -> Html:
    return tag("span", KIND_TEXT.get(resource_type, "workflow"), class_="muted")


def _problem(closure: admin_pb2.ExecutionClosure) -> Html:
    """The error of a failed execution, the cause of an aborted one."""
    parts: list[Html] = []
    if closure.HasField("error"):
        kind = execution_pb2.ExecutionError.ErrorKind.Name(closure.error.kind).lower()
        parts.append(_error_box(closure.error.code, closure.error.message, kind))
    cause = closure.abort_metadata.cause or closure.abort_cause
    if cause or closure.phase in (execution_pb2.WorkflowExecution.ABORTED, execution_pb2.WorkflowExecution.ABORTING):
        by = f" by {closure.abort_metadata.principal}" if closure.abort_metadata.principal else ""
        parts.append(
            tag("div", tag("strong", f"Aborted{by}: "), tag("span", cause or "(no cause given)"), class_="aborted")
        )
    return join(parts)


def _data_sections(data: ConsoleData, execution: admin_pb2.Execution) -> Html:
    answer = data.execution_data(execution.id)
    inputs, outputs = interface_types(data.workflow_interface(execution.closure.workflow_id))
    terminal = execution.closure.phase in WORKFLOW_TERMINAL
    no_outputs = "None." if terminal else "Not yet: the execution is still running."
    return join(
        [
            section("Inputs", values_table(answer.full_inputs, inputs), anchor="inputs"),
            section("Outputs", values_table(answer.full_outputs, outputs, empty=no_outputs), anchor="outputs"),
        ]
    )


# Nodes -----------------------------------------------------------------------------------------------------------


def _nodes_section(data: ConsoleData, execution_id: identifier_pb2.WorkflowExecutionIdentifier) -> Html:
    rows = _node_rows(data, execution_id, data.nodes(execution_id), 0)
    if not rows:
        return section("Nodes", tag("p", "No nodes have run yet.", class_="empty"), anchor="nodes")
    headers = ("Node", "Phase", "Attempts", "Started at", "Duration", "Details")
    head = tag("thead", tag("tr", *(tag("th", header) for header in headers)))
    return section("Nodes", tag("table", head, tag("tbody", *rows)), anchor="nodes")


def _node_rows(
    data: ConsoleData,
    execution_id: identifier_pb2.WorkflowExecutionIdentifier,
    nodes: list[node_execution_pb2.NodeExecution],
    depth: int,
) -> list[Html]:
    rows: list[Html] = []
    for node in nodes:
        if node.id.node_id in HIDDEN_NODES:
            continue
        rows.append(_node_row(data, node, depth))
        if node.metadata.is_parent_node and depth < MAX_NESTING:
            children = data.nodes(execution_id, parent=node.id.node_id)
            rows.extend(_node_rows(data, execution_id, children, depth + 1))
    return rows


def _node_row(data: ConsoleData, node: node_execution_pb2.NodeExecution, depth: int) -> Html:
    closure = node.closure
    attempts = data.attempts(node.id)
    terminal = closure.phase in NODE_TERMINAL
    label = link(node_page_path(node.id), node.id.node_id)
    indent = f"padding-left: {0.6 + depth * 1.2:.1f}em" if depth else None
    cells = [
        tag("td", tag("span", "\u21b3 ", class_="muted") if depth else None, label, style=indent),
        tag("td", phase_badge(node_phase(closure.phase))),
        tag("td", _attempts_text(attempts)),
        tag("td", when(closure.started_at)),
        tag("td", _elapsed(closure.started_at, closure.duration, terminal, closure.created_at)),
        tag("td", _node_details(node, attempts)),
    ]
    return tag("tr", *cells, id=node_anchor(node.id.node_id))


def _attempts_text(attempts: list[task_execution_pb2.TaskExecution]) -> str:
    if not attempts:
        return ""
    retries = len(attempts) - 1
    return f"{len(attempts)} ({retries} {'retry' if retries == 1 else 'retries'})"


def _node_details(node: node_execution_pb2.NodeExecution, attempts: list[task_execution_pb2.TaskExecution]) -> Html:
    parts: list[Html] = []
    child = node.closure.workflow_node_metadata.executionId
    if child.name:
        parts.append(tag("div", "child execution ", execution_link(child), class_="child"))
    if node.metadata.is_parent_node:
        parts.append(tag("div", "sub-workflow or branch: its nodes are listed below", class_="muted"))
    if attempts:
        links = [link(attempt_path(attempt.id), f"attempt {attempt.id.retry_attempt}") for attempt in attempts]
        parts.append(tag("div", join(links, ", ")))
    if node.closure.HasField("error"):
        parts.append(tag("div", f"{node.closure.error.code}: {node.closure.error.message}", class_="error"))
    return join(parts)


# Signals and timeline --------------------------------------------------------------------------------------------


def _signals_section(data: ConsoleData, execution_id: identifier_pb2.WorkflowExecutionIdentifier) -> Html:
    signals = data.signals(execution_id)
    if not signals:
        return Html("")
    pending = [signal for signal in signals if not signal.HasField("value")]
    rows = [
        (
            tag("code", signal.id.signal_id),
            tag("code", type_text(signal.type)),
            literal_html(signal.value, signal.type)
            if signal.HasField("value")
            else tag("span", "pending", class_="phase phase-WAITING_FOR_INPUT"),
        )
        for signal in signals
    ]
    note = (
        tag("p", f"{len(pending)} gate(s) waiting for a signal: ", join([s.id.signal_id for s in pending], ", "))
        if pending
        else tag("p", "No gate is waiting.", class_="muted")
    )
    title = "Pending signals" if pending else "Signals"
    return section(title, note, table(("Signal", "Type", "Value"), rows), anchor="signals")


def _timeline_section(data: ConsoleData, execution: admin_pb2.Execution) -> Html:
    span = data.metrics(execution.id)
    if span is None:
        return Html("")
    if execution.closure.phase in WORKFLOW_TERMINAL:
        return section("Timeline", timeline(span), anchor="timeline")
    running = frozenset(n.id.node_id for n in data.nodes(execution.id) if n.closure.phase not in NODE_TERMINAL)
    return section("Timeline", timeline(span, now=time.time_ns(), running=running), anchor="timeline")


# One node and one task attempt -----------------------------------------------------------------------------------


def node_page(data: ConsoleData, node_id: identifier_pb2.NodeExecutionIdentifier) -> Html:
    """A small page for one node execution: phase, times, data, attempts, child execution and child nodes.

    Raises:
        NotFound: when the execution or the node does not exist.
    """
    data.execution(node_id.execution_id)
    node = data.node(node_id)
    closure = node.closure
    terminal = closure.phase in NODE_TERMINAL
    attempts = data.attempts(node_id)
    child = closure.workflow_node_metadata.executionId
    items: list[tuple[str, object]] = [
        ("Execution", node_link(node_id, node_id.execution_id.name)),
        ("Phase", phase_badge(node_phase(closure.phase))),
        ("Child execution", execution_link(child) if child.name else None),
        ("Started at", when(closure.started_at)),
        ("Duration", _elapsed(closure.started_at, closure.duration, terminal, closure.created_at)),
        ("Updated at", when(closure.updated_at)),
    ]
    parts = [tag("section", facts(items))]
    if closure.HasField("error"):
        parts.append(_error_box(closure.error.code, closure.error.message))
    node_data = data.node_data(node_id)
    parts.append(section("Inputs", values_table(node_data.full_inputs)))
    parts.append(section("Outputs", values_table(node_data.full_outputs)))
    parts.append(section("Attempts", _attempts_table(attempts)))
    if node.metadata.is_parent_node:
        children = data.nodes(node_id.execution_id, parent=node_id.node_id)
        rows = [(link(node_page_path(c.id), c.id.node_id), phase_badge(node_phase(c.closure.phase))) for c in children]
        parts.append(section("Child nodes", table(("Node", "Phase"), rows)))
    heading = join([f"Node {node_id.node_id} ", phase_badge(node_phase(closure.phase))])
    return page(
        f"Node {node_id.node_id} of {node_id.execution_id.name}",
        join(parts),
        heading=heading,
        refresh=None if terminal else REFRESH_SECONDS,
        nav=_execution_crumbs(node_id.execution_id),
    )


def _execution_crumbs(execution_id: identifier_pb2.WorkflowExecutionIdentifier) -> Html:
    executions = path("projects", execution_id.project, "domains", execution_id.domain, "executions")
    return crumbs(
        execution_id.project,
        execution_id.domain,
        (executions, "Executions"),
        (execution_path(execution_id), execution_id.name),
    )


def _attempts_table(attempts: list[task_execution_pb2.TaskExecution]) -> Html:
    rows = [
        (
            link(attempt_path(attempt.id), f"attempt {attempt.id.retry_attempt}"),
            entity_link(attempt.id.task_id),
            phase_badge(task_phase(attempt.closure.phase)),
            when(attempt.closure.started_at),
            duration_text(attempt.closure.duration) if attempt.closure.phase in TASK_TERMINAL else "",
        )
        for attempt in attempts
    ]
    return table(("Attempt", "Task", "Phase", "Started at", "Duration"), rows, empty="No task attempts.")


def attempt_page(
    data: ConsoleData, node_id: identifier_pb2.NodeExecutionIdentifier, task_name: str, retry_attempt: str
) -> Html:
    """The page of one task attempt (``.../nodeId/{n}/taskId/{t}/attempt/{a}/view/logs``): logs, error, data.

    Raises:
        NotFound: when the execution, the node or the attempt does not exist.
    """
    data.execution(node_id.execution_id)
    data.node(node_id)
    attempt = next(
        (
            found
            for found in data.attempts(node_id)
            if str(found.id.retry_attempt) == retry_attempt and found.id.task_id.name == task_name
        ),
        None,
    )
    if attempt is None:
        raise NotFound(f"attempt {retry_attempt} of task {task_name} in node {node_id.node_id}")
    closure = attempt.closure
    terminal = closure.phase in TASK_TERMINAL
    items: list[tuple[str, object]] = [
        ("Node", link(node_page_path(node_id), f"{node_id.execution_id.name} / {node_id.node_id}")),
        ("Task", entity_link(attempt.id.task_id)),
        ("Phase", phase_badge(task_phase(closure.phase))),
        ("Reason", closure.reason),
        ("Started at", when(closure.started_at)),
        ("Duration", _elapsed(closure.started_at, closure.duration, terminal, closure.created_at)),
    ]
    parts = [tag("section", facts(items))]
    if closure.HasField("error"):
        parts.append(_error_box(closure.error.code, closure.error.message))
    parts.append(section("Logs", _logs(attempt), anchor="logs"))
    task_data = data.task_data(attempt.id)
    parts.append(section("Inputs", values_table(task_data.full_inputs)))
    parts.append(section("Outputs", values_table(task_data.full_outputs)))
    heading = join([f"{task_name} attempt {retry_attempt} ", phase_badge(task_phase(closure.phase))])
    return page(
        f"Task {task_name} attempt {retry_attempt}",
        join(parts),
        heading=heading,
        refresh=None if terminal else REFRESH_SECONDS,
        nav=_execution_crumbs(node_id.execution_id),
    )


def _logs(attempt: task_execution_pb2.TaskExecution) -> Html:
    rows = []
    for log_link in attempt.closure.logs:
        scheme = urllib.parse.urlsplit(log_link.uri).scheme
        shown = link(log_link.uri, log_link.uri) if scheme in ("http", "https") else tag("code", log_link.uri)
        rows.append((log_link.name, shown))
    return table(("Log", "Address"), rows, empty="This attempt has no log links (the sandbox runs tasks in-process).")


# The list ----------------------------------------------------------------------------------------------------------


def executions_page(data: ConsoleData, project: str, domain: str, query: dict[str, str]) -> Html:
    """The newest executions of a project/domain; ``?phase=RUNNING`` keeps those in that phase.

    Raises:
        BadRequest: for a phase that does not exist.
        NotFound: for an unknown project.
    """
    data.project(project)
    phase = query.get("phase", "").upper()
    if phase and phase not in WORKFLOW_PHASES:
        raise BadRequest(f"unknown phase {query.get('phase')!r}; one of {', '.join(WORKFLOW_PHASES)}")
    executions = data.executions_of(project, domain, filters=f"eq(phase,{phase})" if phase else "")
    rows = [
        (
            execution_link(execution.id),
            phase_badge(workflow_phase(execution.closure.phase)),
            entity_link(execution.spec.launch_plan),
            when(execution.closure.created_at),
            _elapsed(
                execution.closure.started_at,
                execution.closure.duration,
                execution.closure.phase in WORKFLOW_TERMINAL,
                execution.closure.created_at,
            ),
            execution.closure.error.message if execution.closure.HasField("error") else "",
        )
        for execution in executions
    ]
    here = path("projects", project, "domains", domain, "executions")
    choices = [link(here, "all", class_="current" if not phase else None)]
    choices.extend(
        link(f"{here}?phase={name}", name.lower(), class_="current" if name == phase else None)
        for name in WORKFLOW_PHASES
    )
    body = join(
        [
            tag("p", "Phase: ", join(choices, " "), class_="filters"),
            table(("Execution", "Phase", "Launched", "Created at", "Duration", "Error"), rows, empty=_none(phase)),
        ]
    )
    title = f"Executions in {project} / {domain}" + (f" ({phase})" if phase else "")
    return page(title, body, nav=crumbs(project, domain), refresh=None)


def _none(phase: str) -> str:
    return f"No {phase} executions." if phase else "No executions yet."
