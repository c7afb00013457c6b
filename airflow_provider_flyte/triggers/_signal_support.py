"""Helpers shared by the signal operator, sensor and trigger: which signals a workflow declares, and their JSON form.

A gate node creates its signal in Flyte Admin only when the execution reaches it, so "no such signal" means either
"not reached yet" or "the workflow has no such gate". The compiled workflow tells the two apart: every gate node
(including those inside branches, array nodes and sub-workflows) declares its signal id and type up front.

This module needs flyteidl messages as arguments but imports nothing heavy itself, and never imports Airflow.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flyteidl.admin import signal_pb2, workflow_pb2
    from flyteidl.core import types_pb2
    from flyteidl.core import workflow_pb2 as core_workflow_pb2

APPROVAL = "approval"
"""Kind of a gate that waits for a yes/no answer (flytekit's ``approve``)."""
INPUT = "input"
"""Kind of a gate that waits for a typed value (flytekit's ``wait_for_input``)."""


@dataclass(frozen=True)
class DeclaredSignal:
    """A signal a workflow's gate node waits for.

    Attributes:
        signal_id: The gate's signal id.
        kind: :data:`APPROVAL` or :data:`INPUT`.
        literal_type: The value's declared type (``BOOLEAN`` for approvals).
        node_id: The gate node's id.
    """

    signal_id: str
    kind: str
    literal_type: types_pb2.LiteralType
    node_id: str


def declared_signals(workflow: workflow_pb2.Workflow) -> dict[str, DeclaredSignal]:
    """Every signal the gates of ``workflow`` (an ``admin.Workflow`` with its compiled closure) wait for, by id."""
    from flyteidl.core import types_pb2

    compiled = workflow.closure.compiled_workflow
    templates = [compiled.primary.template, *(sub.template for sub in compiled.sub_workflows)]
    found: dict[str, DeclaredSignal] = {}
    for template in templates:
        for node in _all_nodes(template.nodes):
            if not node.HasField("gate_node"):
                continue
            gate = node.gate_node
            condition = gate.WhichOneof("condition")
            if condition == "approve":
                boolean = types_pb2.LiteralType(simple=types_pb2.BOOLEAN)
                found[gate.approve.signal_id] = DeclaredSignal(gate.approve.signal_id, APPROVAL, boolean, node.id)
            elif condition == "signal":
                found[gate.signal.signal_id] = DeclaredSignal(gate.signal.signal_id, INPUT, gate.signal.type, node.id)
    return found


def _all_nodes(nodes: Iterable[core_workflow_pb2.Node]) -> Iterator[core_workflow_pb2.Node]:
    """``nodes`` and the nodes nested in their branches and array nodes."""
    for node in nodes:
        yield node
        if node.HasField("branch_node"):
            if_else = node.branch_node.if_else
            nested = [if_else.case.then_node, *(block.then_node for block in if_else.other)]
            if if_else.HasField("else_node"):
                nested.append(if_else.else_node)
            yield from _all_nodes(nested)
        elif node.HasField("array_node"):
            yield from _all_nodes([node.array_node.node])


def type_description(literal_type: types_pb2.LiteralType) -> dict[str, Any]:
    """Plain-JSON description of a literal type: a readable name and the type in protobuf's JSON mapping."""
    from google.protobuf.json_format import MessageToDict

    from airflow_provider_flyte.literals.types import literal_type_to_str

    return {"type": literal_type_to_str(literal_type), "literal_type": MessageToDict(literal_type)}


def signal_summary(
    signal: signal_pb2.Signal, declared: DeclaredSignal | None = None, console_url: str | None = None
) -> dict[str, Any]:
    """Plain-JSON summary of a signal (for XCom and trigger events); never includes its value."""
    execution = signal.id.execution_id
    return {
        "signal_id": signal.id.signal_id,
        "execution_id": f"ex:{execution.project}:{execution.domain}:{execution.name}",
        "kind": declared.kind if declared is not None else None,
        "is_set": signal.HasField("value"),
        **type_description(signal.type),
        "console_url": console_url,
    }


def unknown_signal_message(signal_id: str, workflow_name: str, declared: Iterable[str]) -> str:
    """The error text for a signal id the execution's workflow does not declare."""
    known = ", ".join(repr(name) for name in sorted(declared)) or "none"
    return f"workflow {workflow_name} has no signal {signal_id!r} (its gates wait for: {known})"
