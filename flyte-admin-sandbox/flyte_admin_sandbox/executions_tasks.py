"""Task executions (the attempts of a node's task): GetTaskExecution, ListTaskExecutions."""

from __future__ import annotations

import sqlite3

from flyteidl.admin import task_execution_pb2

from flyte_admin_sandbox.common import list_page, require, sort_of, where_query
from flyte_admin_sandbox.errors import missing_argument
from flyte_admin_sandbox.executions_base import ExecutionsBase
from flyte_admin_sandbox.filters import TASK_EXECUTION, check_limit


class TaskExecutions(ExecutionsBase):
    """Flyte Admin's task execution manager."""

    def _task_proto(self, row: sqlite3.Row) -> task_execution_pb2.TaskExecution:
        # Admin reports an attempt as a parent when node executions name it as their parent task (dynamic tasks).
        launched = self.store.one(
            "SELECT 1 FROM node_executions WHERE parent_task_execution_id = ? LIMIT 1", (row["id"],)
        )
        return self.records.task_proto(row, is_parent=launched is not None)

    def GetTaskExecution(self, request: task_execution_pb2.TaskExecutionGetRequest) -> task_execution_pb2.TaskExecution:
        """One task attempt."""
        return self._task_proto(self._task_row(request.id))

    def ListTaskExecutions(
        self, request: task_execution_pb2.TaskExecutionListRequest
    ) -> task_execution_pb2.TaskExecutionList:
        """The attempts of a node's task."""
        if not request.HasField("node_execution_id"):
            raise missing_argument("node_execution_id")
        node = request.node_execution_id
        self._check_execution_id(node.execution_id, "execution_id")
        require(node.node_id, "node_id")
        check_limit(request.limit)
        query = where_query(
            TASK_EXECUTION,
            execution_project=node.execution_id.project,
            execution_domain=node.execution_id.domain,
            execution_name=node.execution_id.name,
            node_id=node.node_id,
        )
        tasks, token = list_page(
            self.store,
            query,
            limit=request.limit,
            token=request.token,
            rpc="ListTaskExecutions",
            sort_by=sort_of(request),
            filters=request.filters,
            convert=self._task_proto,
        )
        return task_execution_pb2.TaskExecutionList(task_executions=tasks, token=token)
