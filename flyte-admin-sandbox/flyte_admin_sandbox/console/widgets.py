"""Pieces several console pages share: links to executions and entities, phases, values, interfaces, timelines."""

from __future__ import annotations

from collections.abc import Mapping

from flyteidl.core import execution_pb2, identifier_pb2, interface_pb2, literals_pb2, metrics_pb2, types_pb2

from flyte_admin_sandbox.console.data import declared, readable, type_text
from flyte_admin_sandbox.console.html import Html, join, link, path, table, tag, value_html

RT = identifier_pb2.ResourceType

ENTITY_ROUTES: dict[str, int] = {
    "launch_plans": RT.LAUNCH_PLAN,
    "launch_plan": RT.LAUNCH_PLAN,
    "launchPlans": RT.LAUNCH_PLAN,
    "tasks": RT.TASK,
    "task": RT.TASK,
    "workflows": RT.WORKFLOW,
    "workflow": RT.WORKFLOW,
}
"""Console route segments naming an entity kind: flyteconsole's plural list routes and the singular ones
``generate_console_url`` uses for a version."""

LIST_ROUTE: dict[int, str] = {RT.LAUNCH_PLAN: "launch_plans", RT.TASK: "tasks", RT.WORKFLOW: "workflows"}
"""The route segment the console's own links use for each entity kind."""

KIND_TEXT: dict[int, str] = {RT.LAUNCH_PLAN: "launch plan", RT.TASK: "task", RT.WORKFLOW: "workflow"}
"""Entity kinds for people."""


# Phases --------------------------------------------------------------------------------------------------------------


def workflow_phase(phase: int) -> str:
    """The name of a workflow execution phase."""
    return str(execution_pb2.WorkflowExecution.Phase.Name(phase))


def node_phase(phase: int) -> str:
    """The name of a node execution phase."""
    return str(execution_pb2.NodeExecution.Phase.Name(phase))


def task_phase(phase: int) -> str:
    """The name of a task execution phase."""
    return str(execution_pb2.TaskExecution.Phase.Name(phase))


_PHASE_NAMES: list[str] = list(execution_pb2.WorkflowExecution.Phase.keys())
WORKFLOW_PHASES: tuple[str, ...] = tuple(name for name in _PHASE_NAMES if name != "UNDEFINED")
"""The phases the execution list can be filtered by."""


# Links ---------------------------------------------------------------------------------------------------------------


def _execution_segments(execution_id: identifier_pb2.WorkflowExecutionIdentifier) -> list[str]:
    return ["projects", execution_id.project, "domains", execution_id.domain, "executions", execution_id.name]


def execution_path(execution_id: identifier_pb2.WorkflowExecutionIdentifier) -> str:
    """The console path of an execution's page."""
    return path(*_execution_segments(execution_id))


def execution_link(execution_id: identifier_pb2.WorkflowExecutionIdentifier, text: object = None) -> Html:
    """A link to an execution's page (showing its name, or ``text``)."""
    return link(execution_path(execution_id), execution_id.name if text is None else text)


def node_anchor(node_id: str) -> str:
    """The ``id`` of a node's row on its execution's page."""
    return f"node-{node_id}"


def node_link(node_id: identifier_pb2.NodeExecutionIdentifier, text: object = None) -> Html:
    """A link to a node's row on its execution's page."""
    href = f"{execution_path(node_id.execution_id)}#{node_anchor(node_id.node_id)}"
    return link(href, text if text is not None else f"{node_id.execution_id.name} / {node_id.node_id}")


def node_page_path(node_id: identifier_pb2.NodeExecutionIdentifier) -> str:
    """The console path of a node's own page."""
    return path(*_execution_segments(node_id.execution_id), "nodeId", node_id.node_id)


def attempt_path(attempt_id: identifier_pb2.TaskExecutionIdentifier) -> str:
    """The console path of a task attempt's page (as ``generate_console_url`` builds it)."""
    node = attempt_id.node_execution_id
    return path(
        *_execution_segments(node.execution_id),
        "nodeId",
        node.node_id,
        "taskId",
        attempt_id.task_id.name,
        "attempt",
        str(attempt_id.retry_attempt),
        "view",
        "logs",
    )


def entity_path(kind: int, project: str, domain: str, name: str = "", version: str = "") -> str:
    """The console path of an entity list (no ``name``), of a name, or of one version."""
    segments = ["projects", project, "domains", domain, LIST_ROUTE[kind]]
    if name:
        segments.append(name)
        if version:
            segments.extend(("version", version))
    return path(*segments)


def entity_link(identifier: identifier_pb2.Identifier, text: object = None) -> Html:
    """A link to an entity version's page, showing ``name`` and ``version`` (or ``text``)."""
    if identifier.resource_type not in LIST_ROUTE:
        return tag("span", text if text is not None else identifier.name)
    href = entity_path(
        identifier.resource_type, identifier.project, identifier.domain, identifier.name, identifier.version
    )
    shown = (
        text if text is not None else join([identifier.name, tag("span", f" @ {identifier.version}", class_="muted")])
    )
    return link(href, shown)


# Values and interfaces -----------------------------------------------------------------------------------------------


def literal_html(literal: literals_pb2.Literal, literal_type: types_pb2.LiteralType | None = None) -> Html:
    """A literal as a readable value (or why it cannot be read)."""
    ok, value = readable(literal, literal_type)
    if not ok:
        return tag("span", f"(not readable here: {value})", class_="muted")
    return value_html(value)


def values_table(
    literal_map: literals_pb2.LiteralMap, types: Mapping[str, types_pb2.LiteralType] | None = None, empty: str = ""
) -> Html:
    """Name, type and value of each literal of a map, sorted by name."""
    types = types or {}
    rows = []
    for name in sorted(literal_map.literals):
        literal_type = types.get(name)
        shown_type = type_text(literal_type) if literal_type is not None else ""
        rows.append(
            (
                tag("code", name),
                tag("span", shown_type, class_="muted"),
                literal_html(literal_map.literals[name], literal_type),
            )
        )
    return table(("Name", "Type", "Value"), rows, empty=empty or "None.")


def variables_table(variables: interface_pb2.VariableMap, empty: str = "None.") -> Html:
    """Name, type and description of declared variables."""
    rows = [
        (tag("code", name), tag("code", type_text(variable.type)), variable.description)
        for name, variable in sorted(variables.variables.items())
    ]
    return table(("Name", "Type", "Description"), rows, empty=empty)


def interface_types(interface: interface_pb2.TypedInterface | None) -> tuple[dict[str, types_pb2.LiteralType], ...]:
    """The declared input and output types of an interface (empty maps when unknown)."""
    if interface is None:
        return {}, {}
    return declared(interface.inputs), declared(interface.outputs)


# Timeline ------------------------------------------------------------------------------------------------------------


def _nanos(stamp: object) -> int:
    return int(stamp.ToNanoseconds())  # type: ignore[attr-defined]


def _span_label(span: metrics_pb2.Span) -> tuple[str, bool]:
    """What a span is about, and whether it is an operation (setup, teardown) rather than a node or attempt."""
    if span.HasField("node_id"):
        return span.node_id.node_id, False
    if span.HasField("task_id"):
        return f"attempt {span.task_id.retry_attempt}", False
    return span.operation_id.replace("_", " ").lower(), True


def timeline(root: metrics_pb2.Span, *, now: int | None = None, running: frozenset[str] = frozenset()) -> Html:
    """Horizontal bars for the spans under ``root`` (one row each, attempts indented), scaled to its length.

    The widths are CSS percentages of the root span; no script draws anything.

    Args:
        root: The execution's span (GetExecutionMetrics).
        now: Nanoseconds since the epoch while the execution runs: the scale and the bars of running nodes reach
            it (Admin's spans end at the last update); ``None`` once it is over.
        running: Ids of the nodes still running.
    """
    start = _nanos(root.start_time)
    total = max(max(_nanos(root.end_time), now or 0) - start, 1)
    cells: list[Html] = []
    for span, depth, still_open in _flatten(root, running):
        span_start = _nanos(span.start_time)
        span_end = now if still_open and now is not None else _nanos(span.end_time)
        length = max(span_end - span_start, 0)
        label, operation = _span_label(span)
        left = 100.0 * (span_start - start) / total
        style = f"left: {max(left, 0.0):.2f}%; width: {min(100.0 * length / total, 100.0):.2f}%"
        bar = tag("div", class_="bar operation" if operation else "bar", style=style, title=label)
        cells.append(tag("div", label, class_="label child" if depth else "label", title=label))
        cells.append(tag("div", bar, class_="track"))
        cells.append(tag("div", f"{length / 1e9:.2f} s" + (" so far" if still_open else ""), class_="muted"))
    if not cells:
        return tag("p", "No spans yet.", class_="empty")
    return tag("div", *cells, class_="timeline")


def _flatten(root: metrics_pb2.Span, running: frozenset[str]) -> list[tuple[metrics_pb2.Span, int, bool]]:
    """The spans below ``root`` in order, each with its depth and whether it is still open.

    Each node or operation comes first, then its attempts and child nodes (task setup and runtime parts left out).
    A running node is open, and so is its last attempt.
    """
    rows: list[tuple[metrics_pb2.Span, int, bool]] = []
    for span in root.spans:
        still_open = span.HasField("node_id") and span.node_id.node_id in running
        rows.append((span, 0, still_open))
        children = [child for child in span.spans if child.HasField("task_id") or child.HasField("node_id")]
        rows.extend((child, 1, still_open and index == len(children) - 1) for index, child in enumerate(children))
    return rows
