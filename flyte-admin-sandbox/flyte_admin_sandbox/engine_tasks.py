"""Task nodes: the node's attempts, or the dynamic workflow one of them produced.

The node's own ``metadata.timeout`` bounds all attempts together (and a dynamic node's children); a task's
``metadata.timeout`` bounds each attempt (:mod:`flyte_admin_sandbox.engine_attempts`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flyteidl.core import workflow_pb2 as core_workflow_pb2

from flyte_admin_sandbox.engine_dynamic import DynamicTasks
from flyte_admin_sandbox.engine_state import Run, State
from flyte_admin_sandbox.records import literal_map

if TYPE_CHECKING:
    import sqlite3


class TaskNodes(DynamicTasks):
    """Advancing task nodes."""

    def _advance_task(self, run: Run, node: core_workflow_pb2.Node, uid: str, row: sqlite3.Row) -> State:
        task_id = node.task_node.reference_id
        template = self._template(run, task_id)
        if template is None:
            return self._task_not_found(task_id, uid)
        timed_out = self._node_timed_out(node, uid, row, run)
        if timed_out is not None:
            # The node's own deadline (all attempts together) ends the attempt that is running.
            self._stop_attempts(run, uid, task_id, timed_out)
            return timed_out
        if row["internal_data"]:
            return self._advance_dynamic(run, uid, row)
        if run.reference is not None and not run.attempts.get(uid):
            reused = self._reuse_dynamic(run, uid, row, template)
            if reused is not None:
                return reused
        inputs = literal_map(row["inputs"])
        script = self.behaviours.lookup(template.id)
        behaviour, pooled = self._task_behaviour(run, uid, template, script)
        return self._run_attempts(
            run,
            uid,
            task_id,
            template,
            inputs,
            self._retries(node, template),
            lambda number: behaviour(inputs, number),
            pooled,
            script,
            on_dynamic=lambda number, spec: self._start_dynamic(run, uid, template, number, spec),
        )
