"""Task nodes: the node's attempts, or the dynamic workflow one of them produced.

The node's own ``metadata.timeout`` bounds all attempts together (and a dynamic node's children); a task's
``metadata.timeout`` bounds each attempt (:mod:`flyte_admin_sandbox.engine_attempts`). A flytekit container task
that succeeded reports the deck its last attempt wrote (``enable_deck=True``), as propeller does, so the node's
closure carries its ``deck_uri``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from flyteidl.core import tasks_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from flyte_admin_sandbox.containers import runs_flytekit_command
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
        state = self._run_attempts(
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
        return self._with_deck(run, uid, template, state)

    def _with_deck(self, run: Run, uid: str, template: tasks_pb2.TaskTemplate, state: State) -> State:
        """A succeeded container task's state with the deck its last attempt wrote, if it wrote one."""
        attempts = run.attempts.get(uid)
        if not state.done or not attempts or not (self.run_containers and runs_flytekit_command(template)):
            return state
        deck_uri = self.containers.deck_uri(run.key.params, uid, int(attempts[-1]["retry_attempt"]))
        return dataclasses.replace(state, deck_uri=deck_uri) if deck_uri else state
