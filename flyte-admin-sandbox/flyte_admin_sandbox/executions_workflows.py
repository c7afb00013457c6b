"""Workflow executions once created: GetExecution, ListExecutions, UpdateExecution (archive), TerminateExecution."""

from __future__ import annotations

import re
import sqlite3

from flyteidl.admin import common_pb2, event_pb2
from flyteidl.admin import execution_pb2 as admin_pb2

from flyte_admin_sandbox.common import list_page, require, sort_of, where_query
from flyte_admin_sandbox.errors import failed_precondition, missing_argument
from flyte_admin_sandbox.executions_base import ExecutionsBase, principal_var, trim_message
from flyte_admin_sandbox.filters import EXECUTION, check_limit, format_timestamp
from flyte_admin_sandbox.records import WORKFLOW_TERMINAL, ExecutionKey, WorkflowPhase, timestamp
from flyte_admin_sandbox.store import now


class WorkflowExecutions(ExecutionsBase):
    """Flyte Admin's execution manager: reads, lists, archiving and terminating."""

    def GetExecution(self, request: admin_pb2.WorkflowExecutionGetRequest) -> admin_pb2.Execution:
        """One execution with its spec and closure."""
        self._check_execution_id(request.id if request.HasField("id") else None)
        return self.records.execution_proto(self.records.execution_row(ExecutionKey.of(request.id)))

    def ListExecutions(self, request: common_pb2.ResourceListRequest) -> admin_pb2.ExecutionList:
        """Executions of a project/domain; archived ones hidden unless a ``state`` filter is given."""
        if not request.HasField("id"):
            raise missing_argument("id")
        require(request.id.project, "project")
        require(request.id.domain, "domain")
        check_limit(request.limit)
        query = where_query(
            EXECUTION,
            execution_project=request.id.project,
            execution_domain=request.id.domain,
            execution_name=request.id.name,
        )
        if not re.search(r"\(\s*(execution\.)?state\s*,", request.filters):
            query.equals("state", admin_pb2.EXECUTION_ACTIVE)

        def convert(row: sqlite3.Row) -> admin_pb2.Execution:
            execution = self.records.execution_proto(row)
            execution.spec.ClearField("inputs")
            execution.closure.ClearField("computed_inputs")
            if execution.closure.HasField("error"):
                execution.closure.error.message = trim_message(execution.closure.error.message)
            return execution

        executions, token = list_page(
            self.store,
            query,
            limit=request.limit,
            token=request.token,
            rpc="ListExecutions",
            sort_by=sort_of(request),
            filters=request.filters,
            convert=convert,
        )
        return admin_pb2.ExecutionList(executions=executions, token=token)

    def UpdateExecution(self, request: admin_pb2.ExecutionUpdateRequest) -> admin_pb2.ExecutionUpdateResponse:
        """Archive or unarchive an execution."""
        self._check_execution_id(request.id if request.HasField("id") else None)
        with self.store.transaction():
            row = self.records.execution_row(ExecutionKey.of(request.id))
            closure = admin_pb2.ExecutionClosure.FromString(row["closure"])
            closure.state_change_details.CopyFrom(
                admin_pb2.ExecutionStateChangeDetails(
                    state=request.state, principal=principal_var.get(), occurred_at=timestamp(now())
                )
            )
            self.store.update("executions", row["id"], {"state": request.state, "closure": closure.SerializeToString()})
        return admin_pb2.ExecutionUpdateResponse()

    def TerminateExecution(self, request: admin_pb2.ExecutionTerminateRequest) -> admin_pb2.ExecutionTerminateResponse:
        """Move a running execution to ABORTING and ask the engine to stop it."""
        self._check_execution_id(request.id if request.HasField("id") else None)
        key = ExecutionKey.of(request.id)
        with self.store.transaction():
            row = self.records.execution_row(key)
            closure = admin_pb2.ExecutionClosure.FromString(row["closure"])
            if closure.phase in WORKFLOW_TERMINAL:
                detail = event_pb2.EventFailureReason(
                    already_in_terminal_state=event_pb2.EventErrorAlreadyInTerminalState(
                        current_phase=WorkflowPhase.Name(closure.phase)
                    )
                )
                raise failed_precondition("Cannot abort an already terminated workflow execution", detail)
            moment = now()
            closure.phase = WorkflowPhase.ABORTING
            closure.updated_at.CopyFrom(timestamp(moment))
            closure.abort_metadata.CopyFrom(admin_pb2.AbortMetadata(cause=request.cause, principal=principal_var.get()))
            self.store.update(
                "executions",
                row["id"],
                {
                    "phase": "ABORTING",
                    "abort_cause": request.cause,
                    "closure": closure.SerializeToString(),
                    "execution_updated_at": format_timestamp(moment),
                },
            )
        self.engine.abort(key, request.cause)
        return admin_pb2.ExecutionTerminateResponse()
