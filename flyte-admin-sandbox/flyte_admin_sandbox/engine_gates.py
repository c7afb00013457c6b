"""Gate nodes: ``approve`` and ``signal`` wait for a signal, ``sleep`` waits its duration.

``approve`` waits for a BOOLEAN signal named after the gate (true passes the inputs through, false fails the
node); ``signal`` waits for a signal of the declared type, whose value becomes the node's output. Signals are
read through the execution service the engine is attached to; a node ``metadata.timeout`` leaves a gate TIMED_OUT.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
from flyteidl.admin import signal_pb2
from flyteidl.core import identifier_pb2, literals_pb2, types_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from flyte_admin_sandbox.engine_core import EngineCore
from flyte_admin_sandbox.engine_nodes import duration_seconds
from flyte_admin_sandbox.engine_state import RUNNING, Run, State, done, failed, system_error, user_error
from flyte_admin_sandbox.errors import AdminError
from flyte_admin_sandbox.records import literal_map, parse_stored
from flyte_admin_sandbox.store import now

if TYPE_CHECKING:
    import sqlite3


_BOOLEAN = types_pb2.LiteralType(simple=types_pb2.SimpleType.BOOLEAN)
_REJECTED = "received a reject signal to disapprove the node input values"


class GateNodes(EngineCore):
    """Advancing gate nodes."""

    def _signal(self, run: Run, signal_id: str, literal_type: types_pb2.LiteralType) -> signal_pb2.Signal:
        if self.executions is None:
            raise AdminError(grpc.StatusCode.FAILED_PRECONDITION, "the engine has no signal service attached")
        request = signal_pb2.SignalGetOrCreateRequest(
            id=identifier_pb2.SignalIdentifier(signal_id=signal_id, execution_id=run.key.to_proto()), type=literal_type
        )
        return self.executions.GetOrCreateSignal(request)

    def _advance_gate(self, run: Run, node: core_workflow_pb2.Node, uid: str, row: sqlite3.Row) -> State:
        gate = node.gate_node
        condition = gate.WhichOneof("condition")
        timed_out = self._node_timed_out(node, uid, row, run)
        if condition == "sleep":
            started = parse_stored(row["started_at"]) or now()
            remaining = duration_seconds(gate.sleep.duration) - (now() - started).total_seconds()
            if remaining <= 0:
                return done(literals_pb2.LiteralMap())
            if timed_out is not None:
                return timed_out
            run.wake_in(remaining)
            return RUNNING
        if condition not in ("approve", "signal"):
            return failed(system_error(f"gate node {node.id!r} has no condition", "BadNodeSpecification"), uid)
        signal_id = gate.approve.signal_id if condition == "approve" else gate.signal.signal_id
        literal_type = _BOOLEAN if condition == "approve" else gate.signal.type
        try:
            signal = self._signal(run, signal_id, literal_type)
        except AdminError as error:
            return failed(system_error(f"signal {signal_id!r}: {error.message}", "SignalError"), uid)
        if not signal.HasField("value"):
            if timed_out is not None:
                return timed_out
            run.wake_in(self.poll_interval)
            return RUNNING
        if condition == "signal":
            outputs = literals_pb2.LiteralMap()
            if gate.signal.output_variable_name:
                outputs.literals[gate.signal.output_variable_name].CopyFrom(signal.value)
            return done(outputs)
        value = signal.value
        if (
            value.WhichOneof("value") != "scalar"
            or value.scalar.WhichOneof("value") != "primitive"
            or (value.scalar.primitive.WhichOneof("value") != "boolean")
        ):
            return failed(
                system_error(f"approval signal {signal_id!r} holds a value that is not a boolean", "UnknownError"), uid
            )
        if value.scalar.primitive.boolean:
            return done(literal_map(row["inputs"]))
        return failed(user_error(_REJECTED, "ReceivedRejectSignal"), uid)
