"""Array nodes (``map_task``): a task runs once per element of the mapped inputs.

Every attempt of the node runs all elements; outputs are collected into lists and ``min_successes`` /
``min_success_ratio`` decide how many elements may fail
(:func:`~flyte_admin_sandbox.engine_nodes.collect_array_outputs`). Only tasks can be mapped, and an element cannot
produce a dynamic workflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flyteidl.core import dynamic_job_pb2, literals_pb2, tasks_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from flyte_admin_sandbox.behaviours import TaskFailure
from flyte_admin_sandbox.engine_attempts import TaskAttempts
from flyte_admin_sandbox.engine_nodes import (
    BindingError,
    array_element_inputs,
    collect_array_outputs,
    element_interface,
)
from flyte_admin_sandbox.engine_state import Run, State, failed, system_error, user_error
from flyte_admin_sandbox.records import literal_map

if TYPE_CHECKING:
    import sqlite3


class ArrayNodes(TaskAttempts):
    """Advancing array nodes."""

    def _advance_array(self, run: Run, node: core_workflow_pb2.Node, uid: str, row: sqlite3.Row) -> State:
        array = node.array_node
        inner = array.node
        if inner.WhichOneof("target") != "task_node":
            kind = inner.WhichOneof("target") or "empty"
            return failed(
                system_error(f"array node {node.id!r} maps a {kind}; the sandbox maps tasks only", "Unsupported"), uid
            )
        task_id = inner.task_node.reference_id
        template = self._template(run, task_id)
        if template is None:
            return self._task_not_found(task_id, uid)
        inputs = literal_map(row["inputs"])
        try:
            elements = array_element_inputs(inputs, array.bound_inputs)
        except BindingError as error:
            return failed(user_error(str(error), "BindingError"), uid)
        # Each element runs the task as if it were declared with the element's interface.
        element_template = tasks_pb2.TaskTemplate()
        element_template.CopyFrom(template)
        element_template.interface.CopyFrom(element_interface(array, template.interface))
        script = self.behaviours.lookup(template.id)
        behaviour, pooled = self._task_behaviour(run, uid, element_template, script)

        def compute(attempt: int) -> literals_pb2.LiteralMap:
            results: list[literals_pb2.LiteralMap | TaskFailure] = []
            for element in elements:
                failure = script.failure_for(attempt) if script is not None else None
                if failure is not None:
                    results.append(failure)
                    continue
                try:
                    result = behaviour(element, attempt)
                except TaskFailure as problem:
                    results.append(problem)
                    continue
                if isinstance(result, dynamic_job_pb2.DynamicJobSpec):
                    results.append(
                        TaskFailure("an array node element cannot run a dynamic workflow", "USER:Unsupported")
                    )
                else:
                    results.append(result)
            return collect_array_outputs(
                results, element_template.interface, array.min_successes, array.min_success_ratio
            )

        retries = self._retries(inner, template)
        return self._run_attempts(run, uid, task_id, template, inputs, retries, compute, pooled, script)
