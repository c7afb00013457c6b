"""What executions produced: inputs and outputs at every level (Get*Data) and the spans of GetExecutionMetrics.

Data is returned inline (``full_inputs`` / ``full_outputs``) with the ``flyte://`` URLs flytekit reads it through.
"""

from __future__ import annotations

import sqlite3

from flyteidl.admin import common_pb2, node_execution_pb2, task_execution_pb2
from flyteidl.admin import execution_pb2 as admin_pb2
from flyteidl.core import compiler_pb2, metrics_pb2
from google.protobuf import timestamp_pb2

from flyte_admin_sandbox.compiler import END_NODE, START_NODE
from flyte_admin_sandbox.executions_base import ExecutionsBase
from flyte_admin_sandbox.records import WORKFLOW_TERMINAL, ExecutionKey, literal_map


def _in_creation_order(rows: list[sqlite3.Row]) -> list[sqlite3.Row]:
    return sorted(rows, key=lambda row: (row["node_execution_created_at"] or "", row["id"]))


class ExecutionData(ExecutionsBase):
    """Flyte Admin's data and metrics RPCs for executions, node executions and task executions."""

    def GetExecutionData(
        self, request: admin_pb2.WorkflowExecutionGetDataRequest
    ) -> admin_pb2.WorkflowExecutionGetDataResponse:
        """The merged inputs and the outputs, inline."""
        row = self.records.execution_row(ExecutionKey.of(request.id))
        return admin_pb2.WorkflowExecutionGetDataResponse(
            inputs=common_pb2.UrlBlob(),
            outputs=common_pb2.UrlBlob(),
            full_inputs=literal_map(row["inputs"]),
            full_outputs=literal_map(row["outputs"]),
        )

    def GetNodeExecutionData(
        self, request: node_execution_pb2.NodeExecutionGetDataRequest
    ) -> node_execution_pb2.NodeExecutionGetDataResponse:
        """A node's inputs and outputs, inline, with its flyte:// URLs."""
        row = self._node_row(request.id)
        key = ExecutionKey.of(request.id.execution_id)
        base = f"flyte://v1/{key.project}/{key.domain}/{key.name}/{request.id.node_id}"
        closure = node_execution_pb2.NodeExecutionClosure.FromString(row["closure"])
        urls = common_pb2.FlyteURLs(
            inputs=f"{base}/i", outputs=f"{base}/o", deck=f"{base}/d" if closure.deck_uri else ""
        )
        response = node_execution_pb2.NodeExecutionGetDataResponse(
            inputs=common_pb2.UrlBlob(),
            outputs=common_pb2.UrlBlob(),
            full_inputs=literal_map(row["inputs"]),
            full_outputs=literal_map(row["outputs"]),
            flyte_urls=urls,
        )
        if row["internal_data"]:
            compiled = compiler_pb2.CompiledWorkflowClosure.FromString(row["internal_data"])
            response.dynamic_workflow.CopyFrom(
                node_execution_pb2.DynamicWorkflowNodeMetadata(
                    id=compiled.primary.template.id,
                    compiled_workflow=compiled,
                    dynamic_job_spec_uri=closure.dynamic_job_spec_uri,
                )
            )
        return response

    def GetTaskExecutionData(
        self, request: task_execution_pb2.TaskExecutionGetDataRequest
    ) -> task_execution_pb2.TaskExecutionGetDataResponse:
        """A task attempt's inputs and outputs, inline."""
        row = self._task_row(request.id)
        node = request.id.node_execution_id
        ex = node.execution_id
        base = f"flyte://v1/{ex.project}/{ex.domain}/{ex.name}/{node.node_id}/{request.id.retry_attempt}"
        return task_execution_pb2.TaskExecutionGetDataResponse(
            inputs=common_pb2.UrlBlob(),
            outputs=common_pb2.UrlBlob(),
            full_inputs=literal_map(row["inputs"]),
            full_outputs=literal_map(row["outputs"]),
            flyte_urls=common_pb2.FlyteURLs(inputs=f"{base}/i", outputs=f"{base}/o"),
        )

    # Metrics -----------------------------------------------------------------------------------------------------

    def GetExecutionMetrics(
        self, request: admin_pb2.WorkflowExecutionGetMetricsRequest
    ) -> admin_pb2.WorkflowExecutionGetMetricsResponse:
        """Spans of an execution: setup, one per node (with task attempts and child nodes), teardown.

        Child node executions (of sub-workflow, branch and dynamic nodes) appear inside their parent's span, one
        level of ``depth`` further down.
        """
        self._check_execution_id(request.id if request.HasField("id") else None)
        key = ExecutionKey.of(request.id)
        execution = self.records.execution_proto(self.records.execution_row(key))
        closure = execution.closure
        root = metrics_pb2.Span(start_time=closure.created_at, end_time=closure.updated_at, workflow_id=key.to_proto())
        if request.depth <= 0:
            return admin_pb2.WorkflowExecutionGetMetricsResponse(span=root)
        rows = self.records.node_rows(key)
        start = rows.get(START_NODE)
        setup_end = self.records.node_proto(start).closure.updated_at if start is not None else closure.updated_at
        root.spans.add(start_time=closure.created_at, end_time=setup_end, operation_id="WORKFLOW_SETUP")
        children: dict[int | None, list[sqlite3.Row]] = {}
        for node_id, row in rows.items():
            if node_id not in (START_NODE, END_NODE):
                children.setdefault(row["parent_id"], []).append(row)
        attempts: dict[str, list[sqlite3.Row]] = {}
        if request.depth > 1:
            for row in self.store.all(
                "SELECT * FROM task_executions WHERE execution_project = ? AND execution_domain = ? AND "
                "execution_name = ? ORDER BY retry_attempt",
                key.params,
            ):
                attempts.setdefault(row["node_id"], []).append(row)
        last_end = setup_end
        for top in _in_creation_order(children.get(None, [])):
            end = self._add_node_span(root, top, children, attempts, request.depth)
            if end.ToNanoseconds() > last_end.ToNanoseconds():
                last_end = end
        if closure.phase in WORKFLOW_TERMINAL:
            root.spans.add(start_time=last_end, end_time=closure.updated_at, operation_id="WORKFLOW_TEARDOWN")
        return admin_pb2.WorkflowExecutionGetMetricsResponse(span=root)

    def _add_node_span(
        self,
        parent: metrics_pb2.Span,
        row: sqlite3.Row,
        children: dict[int | None, list[sqlite3.Row]],
        attempts: dict[str, list[sqlite3.Row]],
        depth: int,
    ) -> timestamp_pb2.Timestamp:
        """Add a node's span (its attempts and child nodes below it while ``depth`` lasts); returns its end."""
        node = self.records.node_proto(row)
        span = parent.spans.add(start_time=node.closure.created_at, end_time=node.closure.updated_at, node_id=node.id)
        if depth > 1:
            for attempt_row in attempts.get(row["node_id"], []):
                attempt = self.records.task_proto(attempt_row)
                task_span = span.spans.add(
                    start_time=attempt.closure.created_at, end_time=attempt.closure.updated_at, task_id=attempt.id
                )
                started = (
                    attempt.closure.started_at if attempt.closure.HasField("started_at") else attempt.closure.created_at
                )
                task_span.spans.add(start_time=attempt.closure.created_at, end_time=started, operation_id="TASK_SETUP")
                task_span.spans.add(
                    start_time=started, end_time=attempt.closure.updated_at, operation_id="TASK_RUNTIME"
                )
            for child in _in_creation_order(children.get(row["id"], [])):
                self._add_node_span(span, child, children, attempts, depth - 1)
        return node.closure.updated_at
