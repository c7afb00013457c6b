"""Node executions: GetNodeExecution, ListNodeExecutions(ForTask) and GetDynamicNodeWorkflow.

Top-level nodes are listed by default; the children of a sub-workflow, branch or dynamic node with
``unique_parent_id``, and the nodes a dynamic task's attempt launched with ListNodeExecutionsForTask.
"""

from __future__ import annotations

import sqlite3

from flyteidl.admin import node_execution_pb2
from flyteidl.core import compiler_pb2, identifier_pb2

from flyte_admin_sandbox.common import list_page, sort_of, where_query
from flyte_admin_sandbox.errors import entity_not_found, missing_argument, not_found
from flyte_admin_sandbox.executions_base import ExecutionsBase, trim_message
from flyte_admin_sandbox.filters import NODE_EXECUTION, check_limit
from flyte_admin_sandbox.records import ExecutionKey


class NodeExecutions(ExecutionsBase):
    """Flyte Admin's node execution manager."""

    def GetNodeExecution(self, request: node_execution_pb2.NodeExecutionGetRequest) -> node_execution_pb2.NodeExecution:
        """One node execution."""
        return self.records.node_proto(self._node_row(request.id))

    def ListNodeExecutions(
        self, request: node_execution_pb2.NodeExecutionListRequest
    ) -> node_execution_pb2.NodeExecutionList:
        """Top-level node executions of a run, or the children of ``unique_parent_id``."""
        if not request.HasField("workflow_execution_id"):
            raise missing_argument("execution_id")
        self._check_execution_id(request.workflow_execution_id, "execution_id")
        check_limit(request.limit)
        key = ExecutionKey.of(request.workflow_execution_id)
        query = where_query(
            NODE_EXECUTION, execution_project=key.project, execution_domain=key.domain, execution_name=key.name
        )
        if request.unique_parent_id:
            parent = self.records.node_row(key, request.unique_parent_id)
            if parent is None:
                raise entity_not_found(
                    "node execution",
                    identifier_pb2.NodeExecutionIdentifier(
                        node_id=request.unique_parent_id, execution_id=key.to_proto()
                    ),
                )
            query.condition("node_executions.parent_id = ?", parent["id"])
        else:
            query.condition("node_executions.parent_id IS NULL AND node_executions.parent_task_execution_id IS NULL")
        nodes, token = list_page(
            self.store,
            query,
            limit=request.limit,
            token=request.token,
            rpc="ListNodeExecutions",
            sort_by=sort_of(request),
            filters=request.filters,
            convert=self._listed_node,
        )
        return node_execution_pb2.NodeExecutionList(node_executions=nodes, token=token)

    def _listed_node(self, row: sqlite3.Row) -> node_execution_pb2.NodeExecution:
        node = self.records.node_proto(row)
        if node.closure.HasField("error"):
            node.closure.error.message = trim_message(node.closure.error.message)
        return node

    def ListNodeExecutionsForTask(
        self, request: node_execution_pb2.NodeExecutionForTaskListRequest
    ) -> node_execution_pb2.NodeExecutionList:
        """Node executions launched by one task execution (dynamic children)."""
        task_row = self._task_row(request.task_execution_id)
        check_limit(request.limit)
        query = where_query(NODE_EXECUTION).condition("node_executions.parent_task_execution_id = ?", task_row["id"])
        nodes, token = list_page(
            self.store,
            query,
            limit=request.limit,
            token=request.token,
            rpc="ListNodeExecutions",
            sort_by=sort_of(request),
            filters=request.filters,
            convert=self._listed_node,
        )
        return node_execution_pb2.NodeExecutionList(node_executions=nodes, token=token)

    def GetDynamicNodeWorkflow(
        self, request: node_execution_pb2.GetDynamicNodeWorkflowRequest
    ) -> node_execution_pb2.DynamicNodeWorkflowResponse:
        """The workflow a dynamic node compiled when its task produced a dynamic job spec."""
        row = self._node_row(request.id)
        if not row["internal_data"]:
            raise not_found("node does not contain dynamic workflow")
        return node_execution_pb2.DynamicNodeWorkflowResponse(
            compiled_workflow=compiler_pb2.CompiledWorkflowClosure.FromString(row["internal_data"])
        )
