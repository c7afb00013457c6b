"""Dynamic task nodes: the workflow a task attempt produces runs as the node's children.

An attempt that produces a ``DynamicJobSpec`` ends SUCCEEDED; the spec is compiled like a registered workflow and
kept with the node (GetDynamicNodeWorkflow), the node goes DYNAMIC_RUNNING and the workflow's nodes run as its
children, ids ``<node id>-<attempt>-<child id>``; its output bindings give the node's outputs. A recovery reuses
the workflow the reference execution compiled, so that only its unfinished children run again.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from flyteidl.admin import launch_plan_pb2, node_execution_pb2, task_pb2
from flyteidl.core import compiler_pb2, dynamic_job_pb2, identifier_pb2, tasks_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from flyte_admin_sandbox.compiler import CompileError, compile_workflow, get_requirements, launch_plan_interface
from flyte_admin_sandbox.engine_attempts import TaskAttempts
from flyte_admin_sandbox.engine_state import (
    CACHE_LIMIT,
    Compiled,
    Run,
    Scope,
    State,
    failed,
    key_of,
    system_error,
    user_error,
)
from flyte_admin_sandbox.records import NodePhase, TaskPhase, literal_map

if TYPE_CHECKING:
    import sqlite3


class DynamicTasks(TaskAttempts):
    """Compiling, recording and walking the dynamic workflows of task nodes."""

    def _start_dynamic(
        self,
        run: Run,
        uid: str,
        template: tasks_pb2.TaskTemplate,
        attempt: int,
        spec: dynamic_job_pb2.DynamicJobSpec,
    ) -> State:
        """Record an attempt that produced a dynamic workflow, compile the workflow and start its nodes.

        The attempt's success and the node's compiled workflow (or its build failure) are recorded in one
        transaction: a restart never finds a succeeded attempt whose node does not say what came of it.
        """
        spec_data = spec.SerializeToString(deterministic=True)
        spec_uri = self.records.blobs.put(
            f"metadata/{run.key.project}/{run.key.domain}/{run.key.name}/{uid}/{attempt}/futures.pb", spec_data
        )
        try:
            closure = self._compile_dynamic(run, uid, template, spec, spec_data)
        except CompileError as error:
            failure = user_error(
                f"failed to build the dynamic workflow: {error}".rstrip(), "DynamicWorkflowBuildFailed"
            )
            with self.records.store.transaction():
                self.records.task_event(run.key, uid, template.id, attempt, TaskPhase.SUCCEEDED)
                self._reload_attempts(run, uid)
                self._record_node(run, uid, NodePhase.FAILED, error=failure)
            return failed(failure, uid)
        with self.records.store.transaction():
            self.records.task_event(run.key, uid, template.id, attempt, TaskPhase.SUCCEEDED)
            row = self._enter_dynamic(run, uid, closure, spec_uri)
        return self._advance_dynamic(run, uid, row)

    def _enter_dynamic(
        self, run: Run, uid: str, closure: compiler_pb2.CompiledWorkflowClosure, spec_uri: str
    ) -> sqlite3.Row:
        """Move a node to DYNAMIC_RUNNING with its compiled workflow, marked as a dynamic parent."""
        row = run.nodes[uid]
        metadata = node_execution_pb2.NodeExecutionMetaData.FromString(row["node_execution_metadata"] or b"")
        metadata.is_dynamic = True
        metadata.is_parent_node = True
        self._record_node(
            run,
            uid,
            NodePhase.DYNAMIC_RUNNING,
            metadata=metadata,
            dynamic_workflow=closure,
            dynamic_job_spec_uri=spec_uri,
        )
        self._reload_attempts(run, uid)
        return run.nodes[uid]

    def _reload_attempts(self, run: Run, uid: str) -> None:
        """Read a node's attempts again (after writes that went around ``run``)."""
        run.attempts[uid] = self.records.store.all(
            "SELECT * FROM task_executions WHERE execution_project = ? AND execution_domain = ? "
            "AND execution_name = ? AND node_id = ? ORDER BY retry_attempt",
            (*run.key.params, uid),
        )

    def _compile_dynamic(
        self,
        run: Run,
        uid: str,
        template: tasks_pb2.TaskTemplate,
        spec: dynamic_job_pb2.DynamicJobSpec,
        spec_data: bytes,
    ) -> compiler_pb2.CompiledWorkflowClosure:
        """Compile a dynamic job spec as propeller does: the task's interface, the spec's nodes and outputs.

        Tasks come from the spec, then from the closure being run, then from the registered tasks; launch plans
        from the registered ones.

        Raises:
            CompileError: a task or launch plan is unknown, or the workflow does not compile.
        """
        workflow_id = identifier_pb2.Identifier(
            resource_type=identifier_pb2.ResourceType.WORKFLOW,
            project=run.key.project,
            domain=run.key.domain,
            name=f"dynamic_{uid}",
            version=hashlib.sha256(spec_data).hexdigest()[:10],
        )
        workflow = core_workflow_pb2.WorkflowTemplate(
            id=workflow_id,
            metadata=core_workflow_pb2.WorkflowMetadata(),
            interface=template.interface,
            nodes=spec.nodes,
            outputs=spec.outputs,
        )
        sub_workflows = list(spec.subworkflows)
        needs = get_requirements(workflow, sub_workflows)
        shipped = {key_of(task.id): task for task in spec.tasks}
        tasks = []
        for task_id in needs.task_ids:
            found = shipped.get(key_of(task_id)) or run.compiled.tasks.get(key_of(task_id))
            if found is None:
                found = self._registered_task(task_id)
            if found is None:
                raise CompileError(
                    f"task {task_id.project}:{task_id.domain}:{task_id.name}:{task_id.version} is neither in the "
                    "dynamic job spec nor registered"
                )
            tasks.append(compiler_pb2.CompiledTask(template=found))
        interfaces = {}
        for plan_id in needs.launch_plan_ids:
            plan_row = self.records.store.one(
                "SELECT closure FROM launch_plans WHERE project = ? AND domain = ? AND name = ? AND version = ?",
                key_of(plan_id),
            )
            if plan_row is None:
                raise CompileError(
                    f"launch plan {plan_id.project}:{plan_id.domain}:{plan_id.name}:{plan_id.version} is not registered"
                )
            plan = launch_plan_pb2.LaunchPlanClosure.FromString(plan_row["closure"])
            interfaces[key_of(plan_id)] = launch_plan_interface(plan.expected_inputs, plan.expected_outputs)
        return compile_workflow(workflow, sub_workflows, tasks, interfaces)

    def _registered_task(self, task_id: identifier_pb2.Identifier) -> tasks_pb2.TaskTemplate | None:
        row = self.records.store.one(
            "SELECT closure FROM tasks WHERE project = ? AND domain = ? AND name = ? AND version = ?", key_of(task_id)
        )
        if row is None:
            return None
        return task_pb2.TaskClosure.FromString(row["closure"]).compiled_task.template

    def _dynamic_compiled(self, run: Run, uid: str, attempt: int, row: sqlite3.Row) -> Compiled:
        """The node's dynamic workflow, indexed, with the outer closure's tasks and sub-workflows behind its own."""
        cache_key = (run.key, uid, attempt)
        compiled = self._dynamic.get(cache_key)
        if compiled is None:
            own = Compiled.of(compiler_pb2.CompiledWorkflowClosure.FromString(row["internal_data"]))
            closure = node_execution_pb2.NodeExecutionClosure.FromString(row["closure"])
            min_successes = 0
            key = self.records.blobs.key_of(closure.dynamic_job_spec_uri) if closure.dynamic_job_spec_uri else None
            data = self.records.blobs.get(key) if key is not None else None
            if data is not None:
                spec = dynamic_job_pb2.DynamicJobSpec.FromString(data)
                if 0 < spec.min_successes < len(spec.nodes):
                    min_successes = spec.min_successes
            compiled = Compiled(
                closure=own.closure,
                tasks={**run.compiled.tasks, **own.tasks},
                sub_workflows={**run.compiled.sub_workflows, **own.sub_workflows},
                min_successes=min_successes,
            )
            if len(self._dynamic) >= CACHE_LIMIT:
                self._dynamic.clear()
            self._dynamic[cache_key] = compiled
        return compiled

    def _advance_dynamic(self, run: Run, uid: str, row: sqlite3.Row) -> State:
        """Walk the children of a dynamic node; their workflow's outputs become the node's."""
        generating = [
            attempt for attempt in run.attempts.get(uid, []) if TaskPhase.Value(attempt["phase"]) == TaskPhase.SUCCEEDED
        ]
        if not generating:
            return failed(
                system_error(f"node {uid} has a dynamic workflow but no attempt that produced it", "Unknown"), uid
            )
        attempt_row = generating[-1]
        attempt = int(attempt_row["retry_attempt"])
        compiled = self._dynamic_compiled(run, uid, attempt, row)
        prefix = f"{uid}-{attempt}"
        if run.reference is not None:
            self._alias_reference_children(run, uid, prefix)
        scope = Scope(
            prefix,
            int(row["id"]),
            literal_map(row["inputs"]),
            parent_task_row_id=int(attempt_row["id"]),
            retry_group=str(attempt),
        )
        with run.within(compiled):
            return self._walk(run, compiled.closure.primary, scope, compiled.min_successes)

    def _alias_reference_children(self, run: Run, uid: str, prefix: str) -> None:
        """Let the children of a recovered dynamic node find theirs in the reference, whatever its attempt."""
        assert run.reference is not None
        source = run.reference_uid(uid)
        attempt_row = self.records.store.one(
            "SELECT retry_attempt FROM task_executions WHERE execution_project = ? AND execution_domain = ? "
            "AND execution_name = ? AND node_id = ? AND phase = ? ORDER BY retry_attempt DESC LIMIT 1",
            (*run.reference.params, source, TaskPhase.Name(TaskPhase.SUCCEEDED)),
        )
        if attempt_row is not None:
            run.reference_aliases[f"{prefix}-"] = f"{source}-{attempt_row['retry_attempt']}-"

    def _reuse_dynamic(self, run: Run, uid: str, row: sqlite3.Row, template: tasks_pb2.TaskTemplate) -> State | None:
        """In a recovery, take over the dynamic workflow the reference's node compiled instead of running the task.

        The reference's node did not succeed (it would have been RECOVERED whole), but its task did produce the
        workflow: only the children that did not succeed there run again.
        """
        assert run.reference is not None
        source = self.records.node_row(run.reference, run.reference_uid(uid))
        if source is None or not source["internal_data"]:
            return None
        closure = compiler_pb2.CompiledWorkflowClosure.FromString(source["internal_data"])
        spec_uri = node_execution_pb2.NodeExecutionClosure.FromString(source["closure"]).dynamic_job_spec_uri
        inputs = literal_map(row["inputs"])
        with self.records.store.transaction():
            self._start_attempt(run, uid, template.id, 0, inputs, template.type)
            self.records.task_event(
                run.key,
                uid,
                template.id,
                0,
                TaskPhase.SUCCEEDED,
                reason=f"recovered the dynamic workflow of execution {run.reference.name}",
            )
            row = self._enter_dynamic(run, uid, closure, spec_uri)
        return self._advance_dynamic(run, uid, row)
