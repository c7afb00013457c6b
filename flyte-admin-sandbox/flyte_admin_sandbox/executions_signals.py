"""Signals: GetOrCreateSignal (what gate nodes wait on), ListSignals, SetSignal."""

from __future__ import annotations

import sqlite3

from flyteidl.admin import signal_pb2
from flyteidl.core import identifier_pb2

from flyte_admin_sandbox.common import list_page, require, sort_of, where_query
from flyte_admin_sandbox.errors import duplicate_key, invalid, missing_argument, prototext
from flyte_admin_sandbox.executions_base import ExecutionsBase
from flyte_admin_sandbox.filters import SIGNAL, check_limit
from flyte_admin_sandbox.typing_rules import literal_fits


class Signals(ExecutionsBase):
    """Flyte Admin's signal manager."""

    @staticmethod
    def _check_signal_id(identifier: identifier_pb2.SignalIdentifier | None) -> None:
        if identifier is None:
            raise missing_argument("id")
        if not identifier.HasField("execution_id"):
            raise missing_argument("execution_id")
        require(identifier.signal_id, "signal_id")
        for field in ("project", "domain", "name"):
            require(getattr(identifier.execution_id, field), field)

    @staticmethod
    def _signal_proto(row: sqlite3.Row) -> signal_pb2.Signal:
        signal = signal_pb2.Signal(
            id=identifier_pb2.SignalIdentifier(
                signal_id=row["signal_id"],
                execution_id=identifier_pb2.WorkflowExecutionIdentifier(
                    project=row["execution_project"], domain=row["execution_domain"], name=row["execution_name"]
                ),
            )
        )
        signal.type.ParseFromString(row["type"] or b"")
        if row["value"] is not None:
            signal.value.ParseFromString(row["value"])
        return signal

    def signal_row(self, identifier: identifier_pb2.SignalIdentifier) -> sqlite3.Row | None:
        """A signal's row, or ``None``."""
        ex = identifier.execution_id
        return self.store.one(
            "SELECT * FROM signals WHERE execution_project = ? AND execution_domain = ? AND execution_name = ? "
            "AND signal_id = ?",
            (ex.project, ex.domain, ex.name, identifier.signal_id),
        )

    def GetOrCreateSignal(self, request: signal_pb2.SignalGetOrCreateRequest) -> signal_pb2.Signal:
        """The signal with this id and type, created (without a value) if new."""
        self._check_signal_id(request.id if request.HasField("id") else None)
        if not request.HasField("type"):
            raise missing_argument("type")
        type_bytes = request.type.SerializeToString(deterministic=True)
        with self.store.transaction():
            row = self.signal_row(request.id)
            if row is None:
                ex = request.id.execution_id
                self.store.insert(
                    "signals",
                    {
                        "execution_project": ex.project,
                        "execution_domain": ex.domain,
                        "execution_name": ex.name,
                        "signal_id": request.id.signal_id,
                        "type": type_bytes,
                    },
                )
                row = self.signal_row(request.id)
            elif row["type"] != type_bytes:
                raise duplicate_key("signals_pkey")
        assert row is not None
        return self._signal_proto(row)

    def ListSignals(self, request: signal_pb2.SignalListRequest) -> signal_pb2.SignalList:
        """Signals of an execution."""
        if not request.HasField("workflow_execution_id"):
            raise missing_argument("execution_id")
        self._check_execution_id(request.workflow_execution_id, "execution_id")
        check_limit(request.limit)
        ex = request.workflow_execution_id
        query = where_query(SIGNAL, execution_project=ex.project, execution_domain=ex.domain, execution_name=ex.name)
        signals, token = list_page(
            self.store,
            query,
            limit=request.limit,
            token=request.token,
            rpc="ListSignals",
            sort_by=sort_of(request),
            filters=request.filters,
            convert=self._signal_proto,
        )
        return signal_pb2.SignalList(signals=signals, token=token)

    def SetSignal(self, request: signal_pb2.SignalSetRequest) -> signal_pb2.SignalSetResponse:
        """Give a signal its value (overwriting any earlier one) after the type check."""
        self._check_signal_id(request.id if request.HasField("id") else None)
        if not request.HasField("value"):
            raise missing_argument("value")
        with self.store.transaction():
            row = self.signal_row(request.id)
            if row is None:
                ex = request.id.execution_id
                raise invalid(
                    f"failed to validate that signal [{{{{{ex.project} {ex.domain} {ex.name}}} "
                    f"{request.id.signal_id}}}] "
                    "exists, err: [signal does not exist]"
                )
            signal_type = self._signal_proto(row).type
            if not literal_fits(request.value, signal_type):
                type_bytes = " ".join(str(byte) for byte in bytes(row["type"] or b""))
                raise invalid(
                    f"requested signal value [{prototext(request.value)}] is not castable to existing signal type "
                    f"[[{type_bytes}]]"
                )
            self.store.update("signals", row["id"], {"value": request.value.SerializeToString()})
        return signal_pb2.SignalSetResponse()
