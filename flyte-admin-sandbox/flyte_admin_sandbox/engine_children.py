"""Nodes whose work runs as children: branch, sub-workflow and launch-plan nodes.

A branch runs the case it chooses as a child node execution and takes its outputs; a sub-workflow's nodes run as
children of the node (``is_parent_node``); a launch-plan node starts a child execution (mode CHILD_WORKFLOW,
``parent_node_execution`` set) with a deterministic name, whose outputs become the node's once it succeeds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import grpc
from flyteidl.admin import execution_pb2 as admin_execution_pb2
from flyteidl.admin import node_execution_pb2
from flyteidl.core import execution_pb2, identifier_pb2, literals_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from flyte_admin_sandbox.engine_core import EngineCore
from flyte_admin_sandbox.engine_nodes import BranchError, choose_branch
from flyte_admin_sandbox.engine_state import (
    RUNNING,
    Mode,
    Run,
    Scope,
    State,
    child_execution_name,
    done,
    failed,
    key_of,
    system_error,
    user_error,
)
from flyte_admin_sandbox.errors import AdminError
from flyte_admin_sandbox.records import WORKFLOW_TERMINAL, ExecutionKey, NodePhase, WorkflowPhase, literal_map

if TYPE_CHECKING:
    import sqlite3


class ChildNodes(EngineCore):
    """Advancing branch, sub-workflow and launch-plan nodes."""

    def _advance_branch(
        self,
        run: Run,
        node: core_workflow_pb2.Node,
        uid: str,
        row: sqlite3.Row,
        outputs_of: Callable[[str], literals_pb2.LiteralMap],
    ) -> State:
        inputs = literal_map(row["inputs"])
        try:
            chosen = choose_branch(node.branch_node.if_else, inputs, node.id)
        except BranchError as error:
            return failed(user_error(str(error), error.code), uid)
        # The chosen node reads its inputs from the nodes around the branch, not from the branch's inputs.
        child_uid = f"{uid}-0-{chosen.id}"
        return self._step(run, chosen, child_uid, Scope(f"{uid}-0", int(row["id"]), inputs), outputs_of)

    # Sub-workflow and launch-plan nodes --------------------------------------------------------------------------

    def _advance_sub_workflow(self, run: Run, node: core_workflow_pb2.Node, uid: str, row: sqlite3.Row) -> State:
        reference = node.workflow_node.sub_workflow_ref
        sub = run.compiled.sub_workflows.get(key_of(reference))
        if sub is None:
            return failed(
                system_error(
                    f"sub-workflow {reference.name}:{reference.version} is not in the closure", "WorkflowNotFound"
                ),
                uid,
            )
        return self._walk(run, sub, Scope(f"{uid}-0", int(row["id"]), literal_map(row["inputs"])))

    def _advance_launch_plan(self, run: Run, node: core_workflow_pb2.Node, uid: str, row: sqlite3.Row) -> State:
        closure = node_execution_pb2.NodeExecutionClosure.FromString(row["closure"])
        if not closure.workflow_node_metadata.HasField("executionId"):
            try:
                child = self._launch_child(run, node, uid, row)
            except AdminError as error:
                return failed(
                    user_error(
                        f"could not launch {node.workflow_node.launchplan_ref.name}: {error.message}", error.code.name
                    ),
                    uid,
                )
            self._record_node(run, uid, NodePhase.RUNNING, child_execution=child.to_proto())
            run.wake_in(self.poll_interval)
            return RUNNING
        child = ExecutionKey.of(closure.workflow_node_metadata.executionId)
        child_row = self.records.execution_row(child)
        phase = WorkflowPhase.Value(child_row["phase"])
        if phase == WorkflowPhase.SUCCEEDED:
            return done(literal_map(child_row["outputs"]))
        if phase in WORKFLOW_TERMINAL:
            child_closure = admin_execution_pb2.ExecutionClosure.FromString(child_row["closure"])
            if child_closure.HasField("error"):
                child_error = execution_pb2.ExecutionError()
                child_error.CopyFrom(child_closure.error)
            else:
                child_error = user_error(
                    f"child execution {child.name} ended {WorkflowPhase.Name(phase)}", WorkflowPhase.Name(phase).title()
                )
            return failed(child_error, uid)
        # The child wakes us when it finishes; looking now and then also covers a child another sandbox runs.
        run.wake_in(max(self.poll_interval, 1.0))
        return RUNNING

    def _launch_child(self, run: Run, node: core_workflow_pb2.Node, uid: str, row: sqlite3.Row) -> ExecutionKey:
        if self.executions is None:
            raise AdminError(grpc.StatusCode.FAILED_PRECONDITION, "the engine has no execution service attached")
        metadata = admin_execution_pb2.ExecutionMetadata(
            mode=Mode.CHILD_WORKFLOW,
            principal=run.spec.metadata.principal,
            nesting=run.spec.metadata.nesting + 1,
            parent_node_execution=identifier_pb2.NodeExecutionIdentifier(node_id=uid, execution_id=run.key.to_proto()),
        )
        spec = admin_execution_pb2.ExecutionSpec(launch_plan=node.workflow_node.launchplan_ref, metadata=metadata)
        name = child_execution_name(run.key, uid)
        child = ExecutionKey(run.key.project, run.key.domain, name)
        try:
            self.executions.create(child.project, child.domain, name, spec, literal_map(row["inputs"]))
        except AdminError as error:
            if error.code != grpc.StatusCode.ALREADY_EXISTS:
                raise
            # Created by a tick that stopped before it could record the link.
        self.records.store.execute(
            "UPDATE executions SET parent_node_execution_id = ? WHERE execution_project = ? AND execution_domain = ? "
            "AND execution_name = ?",
            (int(row["id"]), *child.params),
        )
        return child
