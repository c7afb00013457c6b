"""Signals: what gate nodes wait for (approvals and ``wait_for_input`` values), listed and set through Admin.

Improvements over flytekit: filters reach Admin as the string it expects, every page is followed,
:func:`set_signal_value` types the value by the signal's *declared* type, so ``set_input("n", 3)`` works for a
``float`` signal instead of failing on Admin's castability check, and :func:`set_approval` refuses to approve or reject
a signal that is not a boolean (a ``wait_for_input`` gate) before anything is sent.

Which signals a workflow declares: a gate node creates its signal in Flyte Admin only when the execution reaches it,
so "no such signal" means either "not reached yet" or "the workflow has no such gate". The compiled workflow tells the
two apart (:func:`declared_signals`): every gate node, including those inside branches, array nodes and
sub-workflows, declares its signal id and type up front. :func:`signal_summary` gives a signal's plain-JSON form (for
XCom and trigger events), never its value.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.exceptions import FlyteEntityNotExistException, FlyteInvalidInputException
from airflow_provider_flyte.identifiers import SignalIdentifier, WorkflowExecutionIdentifier
from airflow_provider_flyte.remote._queries import PAGE_SIZE, join_filters, paginate

if TYPE_CHECKING:
    from flyteidl.admin import signal_pb2, workflow_pb2
    from flyteidl.core import literals_pb2, types_pb2

    from airflow_provider_flyte.clients.aio import AsyncFlyteClient
    from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient


def list_signals(
    client: SynchronousFlyteClient,
    execution_id: WorkflowExecutionIdentifier,
    limit: int = PAGE_SIZE,
    filters: str | Iterable[Any] | None = None,
) -> list[signal_pb2.Signal]:
    """All signals of an execution matching ``filters``, following every page of ``limit`` signals."""
    from flyteidl.admin import signal_pb2

    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        raise FlyteInvalidInputException(f"limit={limit!r} must be a positive integer")
    joined = join_filters(filters)

    def page(token: str) -> tuple[list[signal_pb2.Signal], str]:
        request = signal_pb2.SignalListRequest(
            workflow_execution_id=execution_id.to_flyte_idl(), limit=limit, token=token, filters=joined or ""
        )
        response = client.list_signals(request)
        return list(response.signals), response.token

    return list(paginate(page))


def find_signal(
    client: SynchronousFlyteClient, execution_id: WorkflowExecutionIdentifier, signal_id: str
) -> signal_pb2.Signal:
    """The signal ``signal_id`` of an execution.

    Raises:
        FlyteEntityNotExistException: when the execution has no such signal (yet: gates create theirs when reached).
    """
    for signal in list_signals(client, execution_id, filters=_signal_id_filter(signal_id)):
        if signal.id.signal_id == signal_id:
            return signal
    raise FlyteEntityNotExistException(
        f"execution {execution_id} has no signal {signal_id!r} (the gate may not have been reached yet)"
    )


def _signal_id_filter(signal_id: str) -> str | None:
    """``eq(signal_id,<id>)``, or no filter when the id holds characters Admin's filter grammar cannot carry."""
    from airflow_provider_flyte.clients.filters import Equal

    try:
        return str(Equal("signal_id", signal_id))
    except FlyteInvalidInputException:
        return None


def set_approval(
    client: SynchronousFlyteClient, execution_id: WorkflowExecutionIdentifier, signal_id: str, approved: bool
) -> None:
    """Approve (``True``) or reject an approval gate, after checking that its signal is a boolean.

    A signal not created yet (its gate not reached) is left to Admin, which refuses to set it.

    Raises:
        FlyteInvalidInputException: the signal exists with another type than ``bool`` (nothing is sent), or Admin
            refused the value.
    """
    check_approval_signal(client, execution_id, signal_id)
    set_signal_value(client, execution_id, signal_id, boolean_literal(approved))


def check_approval_signal(
    client: SynchronousFlyteClient, execution_id: WorkflowExecutionIdentifier, signal_id: str
) -> None:
    """Check that the signal ``signal_id``, if it exists yet, is a boolean (what approve and reject send).

    Raises:
        FlyteInvalidInputException: naming the signal and its declared type when that is not ``bool``.
    """
    from flyteidl.core import types_pb2

    from airflow_provider_flyte.literals import literal_type_to_str

    try:
        signal = find_signal(client, execution_id, signal_id)
    except FlyteEntityNotExistException:
        return
    declared = signal.type
    if declared.WhichOneof("type") == "simple" and declared.simple == types_pb2.BOOLEAN:
        return
    raise FlyteInvalidInputException(
        f"signal {signal_id!r} of execution {execution_id} has type {literal_type_to_str(declared)}, not bool: "
        "it is not an approval gate; give it a value with set_input instead (nothing was sent)"
    )


def set_signal_value(
    client: SynchronousFlyteClient,
    execution_id: WorkflowExecutionIdentifier,
    signal_id: str,
    value: Any,
    *,
    python_type: type | None = None,
    literal_type: types_pb2.LiteralType | None = None,
) -> None:
    """Set a signal, converting ``value`` to a literal of the signal's declared type.

    Args:
        client: The friendly client.
        execution_id: The execution whose gate waits for the signal.
        signal_id: The gate's signal id (its name in flytekit).
        value: A Python value, or a ready ``core.Literal``.
        python_type: Convert as this Python type, to the literal type flytekit gives it (scalars, lists,
            ``dict[str, ...]``, ``Optional``/``Union``, enums); a dataclass or pydantic model keeps the declared
            type and guides the conversion.
        literal_type: Convert to this literal type instead of the declared one (no lookup RPC).

    Raises:
        FlyteEntityNotExistException: the signal does not exist (when its type had to be looked up).
        FlyteInvalidInputException: the value does not fit the type.
    """
    from flyteidl.admin import signal_pb2

    literal = _to_signal_literal(client, execution_id, signal_id, value, python_type, literal_type)
    request = signal_pb2.SignalSetRequest(
        id=SignalIdentifier(signal_id, execution_id).to_flyte_idl(),
        value=literal,
    )
    client.set_signal(request)


def _to_signal_literal(
    client: SynchronousFlyteClient,
    execution_id: WorkflowExecutionIdentifier,
    signal_id: str,
    value: Any,
    python_type: type | None,
    literal_type: types_pb2.LiteralType | None,
) -> literals_pb2.Literal:
    from flyteidl.core import literals_pb2

    if isinstance(value, literals_pb2.Literal):
        return value
    from airflow_provider_flyte.literals.python_types import RecordTypeError, literal_type_of

    if literal_type is None and python_type is not None:
        with contextlib.suppress(RecordTypeError):  # a record's type is the declared one, python_type guides
            literal_type = literal_type_of(python_type)
    if literal_type is None:
        literal_type = find_signal(client, execution_id, signal_id).type
    from airflow_provider_flyte.literals import to_literal

    return to_literal(value, literal_type, python_type=python_type, name=f"signal {signal_id}")


def boolean_literal(value: bool) -> literals_pb2.Literal:
    """A ``core.Literal`` holding a boolean (what approve and reject send)."""
    from flyteidl.core import literals_pb2

    literal = literals_pb2.Literal()
    literal.scalar.primitive.boolean = value
    return literal


async def alist_signals(
    client: AsyncFlyteClient, execution_id: WorkflowExecutionIdentifier, limit: int = PAGE_SIZE
) -> list[signal_pb2.Signal]:
    """Every signal of an execution, following every page (the asyncio twin of :func:`list_signals`, unfiltered)."""
    signals: list[signal_pb2.Signal] = []
    token: str | None = None
    while True:
        page, token = await client.list_signals_paginated(execution_id, limit=limit, token=token)
        signals.extend(page)
        if not token:
            return signals


def pick_signal(
    signals: Iterable[signal_pb2.Signal], signal_id: str | None, pending_only: bool
) -> signal_pb2.Signal | None:
    """The signal a waiter is after: ``signal_id`` (or the first one), skipping answered ones when ``pending_only``.

    Args:
        signals: Signals of one execution.
        signal_id: The wanted signal id; ``None`` takes any.
        pending_only: Only consider signals that hold no value yet.
    """
    for signal in signals:
        if signal_id is not None and signal.id.signal_id != signal_id:
            continue
        if pending_only and signal.HasField("value"):
            continue
        return signal
    return None


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
    """Every signal the gates of ``workflow`` wait for, by id.

    Args:
        workflow: An ``admin.Workflow`` with its compiled closure; gates in branches, array nodes and sub-workflows
            count.
    """
    from flyteidl.core import types_pb2

    from airflow_provider_flyte.remote.workflow_nodes import compiled_templates, iter_workflow_nodes

    found: dict[str, DeclaredSignal] = {}
    for node in iter_workflow_nodes(compiled_templates(workflow.closure.compiled_workflow)):
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


def type_description(literal_type: types_pb2.LiteralType) -> dict[str, Any]:
    """Plain-JSON description of a literal type: a readable name and the type in protobuf's JSON mapping."""
    from google.protobuf.json_format import MessageToDict

    from airflow_provider_flyte.literals.types import literal_type_to_str

    return {"type": literal_type_to_str(literal_type), "literal_type": MessageToDict(literal_type)}


def signal_summary(
    signal: signal_pb2.Signal, declared: DeclaredSignal | None = None, console_url: str | None = None
) -> dict[str, Any]:
    """Plain-JSON summary of a signal (for XCom and trigger events); never includes its value.

    Args:
        signal: The signal as Admin lists it.
        declared: Its gate's declaration, which gives the ``kind`` (``None`` when unknown).
        console_url: The execution's Console page, if known.
    """
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
