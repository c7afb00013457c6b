"""Following executions: fetch, sync (with node and task trees on request), wait, dynamic workflows, timing spans.

``wait`` makes one ``GetExecution`` per poll, polls faster at first, and rides out Flyte Admin being unreachable
for ``outage_tolerance`` (:mod:`airflow_provider_flyte.waiting`). Node trees load only when asked for
(``sync_nodes``) or on first access to ``node_executions``, one listing per node level and page.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.exceptions import FlyteEntityNotExistException, FlyteTimeout
from airflow_provider_flyte.identifiers import (
    NodeExecutionIdentifier,
    TaskExecutionIdentifier,
    WorkflowExecutionIdentifier,
)
from airflow_provider_flyte.progress import ProgressReport, node_counts
from airflow_provider_flyte.remote._core import RemoteCore, logger, required_name
from airflow_provider_flyte.remote._queries import PAGE_SIZE, as_execution_id, paginate
from airflow_provider_flyte.remote.entities import FlyteWorkflow
from airflow_provider_flyte.remote.executions import FlyteNodeExecution, FlyteTaskExecution, FlyteWorkflowExecution
from airflow_provider_flyte.waiting import WaitClock, check_seconds, poll

if TYPE_CHECKING:
    from airflow_provider_flyte.remote.metrics import FlyteExecutionSpan

_DEFAULT_MAX_POLL = 30.0


class FollowingMixin(RemoteCore):
    """``fetch_execution``, ``sync`` / ``sync_execution``, ``wait``, node and task trees, ``get_execution_metrics``."""

    def fetch_execution(
        self, project: str | None = None, domain: str | None = None, name: str | None = None
    ) -> FlyteWorkflowExecution:
        """The execution ``name`` (one ``GetExecution``; node details load on first use)."""
        project, domain = self.resolve_project_domain(project, domain)
        execution_id = WorkflowExecutionIdentifier(project, domain, required_name(name))
        return FlyteWorkflowExecution(self.client.get_execution(execution_id), self._as_remote())

    def sync(
        self, execution: FlyteWorkflowExecution, entity_definition: Any = None, sync_nodes: bool = False
    ) -> FlyteWorkflowExecution:
        """Refresh an execution (flytekit's name; ``entity_definition`` is accepted and not needed)."""
        del entity_definition
        return self.sync_execution(execution, sync_nodes=sync_nodes)

    def sync_execution(self, execution: FlyteWorkflowExecution, sync_nodes: bool = False) -> FlyteWorkflowExecution:
        """Refresh an execution with one ``GetExecution``.

        With ``sync_nodes``, also load its node and task executions, and the children of sub-workflow, dynamic and
        launch-plan nodes (one listing per node level).
        """
        execution._update(self.client.get_execution(execution.id))
        if sync_nodes:
            nodes = self._node_executions(execution.id, parent_node_id=None)
            execution._set_node_executions({node.node_id: node for node in nodes})
        return execution

    def _node_executions(
        self, execution_id: WorkflowExecutionIdentifier, parent_node_id: str | None
    ) -> list[FlyteNodeExecution]:
        def page(token: str) -> tuple[list[Any], str]:
            items, next_token = self.client.list_node_executions(
                execution_id, limit=PAGE_SIZE, token=token, unique_parent_id=parent_node_id
            )
            return list(items), next_token

        nodes = [FlyteNodeExecution(pb, self._as_remote()) for pb in paginate(page)]
        for node in nodes:
            self._sync_node(node)
        return nodes

    def _sync_node(self, node: FlyteNodeExecution) -> None:
        if node.node_id in ("start-node", "end-node"):
            return
        if node.is_parent_node:
            children = self._node_executions(node.id.execution_id, parent_node_id=node.node_id)
            node.subworkflow_node_executions = {child.node_id: child for child in children}
        child_execution = node.child_execution_id
        if child_execution is not None:
            launched = FlyteWorkflowExecution(self.client.get_execution(child_execution), self._as_remote())
            node.workflow_executions = [self.sync_execution(launched, sync_nodes=True)]
        # A dynamic node is a parent that also ran its task: its attempts produced the children's workflow.
        ran_task = node.closure.HasField("task_node_metadata") or node.is_dynamic
        if ran_task or not (node.is_parent_node or child_execution):

            def page(token: str) -> tuple[list[Any], str]:
                items, next_token = self.client.list_task_executions_paginated(node.id, limit=PAGE_SIZE, token=token)
                return list(items), next_token

            attempts = [FlyteTaskExecution(pb, self._as_remote()) for pb in paginate(page)]
            node.task_executions = sorted(attempts, key=lambda attempt: attempt.retry_attempt)
            for attempt in node.task_executions:
                attempt._known_children = node.subworkflow_node_executions

    def fetch_task_node_executions(
        self,
        task_execution_id: TaskExecutionIdentifier,
        known: Mapping[str, FlyteNodeExecution] | None = None,
    ) -> dict[str, FlyteNodeExecution]:
        """The node executions a task attempt launched (a dynamic task's children), by node id.

        One ``ListNodeExecutionsForTask`` per page; nodes found in ``known`` are taken from there, the others are
        loaded with their attempts and children.
        """

        def page(token: str) -> tuple[list[Any], str]:
            items, next_token = self.client.list_node_executions_for_task_paginated(
                task_execution_id, limit=PAGE_SIZE, token=token
            )
            return list(items), next_token

        launched: dict[str, FlyteNodeExecution] = {}
        for pb in paginate(page):
            node = (known or {}).get(pb.id.node_id)
            if node is None:
                node = FlyteNodeExecution(pb, self._as_remote())
                self._sync_node(node)
            launched[node.node_id] = node
        return launched

    def fetch_dynamic_workflow(self, node_execution_id: NodeExecutionIdentifier) -> FlyteWorkflow | None:
        """The workflow a dynamic node compiled (one ``GetDynamicNodeWorkflow``), or ``None`` if it has none."""
        from flyteidl.admin import workflow_pb2

        try:
            response = self.client.get_dynamic_node_workflow(node_execution_id)
        except FlyteEntityNotExistException:
            return None
        compiled = response.compiled_workflow
        return FlyteWorkflow(
            workflow_pb2.Workflow(
                id=compiled.primary.template.id, closure=workflow_pb2.WorkflowClosure(compiled_workflow=compiled)
            )
        )

    def wait(
        self,
        execution: FlyteWorkflowExecution,
        timeout: timedelta | float | None = None,
        poll_interval: timedelta | float | None = None,
        sync_nodes: bool = False,
        outage_tolerance: timedelta | float | None = None,
    ) -> FlyteWorkflowExecution:
        """Block until ``execution`` is done, polling with one ``GetExecution`` per round.

        Polls start a quarter of a second apart and slow down toward ``poll_interval``, so a short run is reported
        within about a second and a long one costs one call per interval. Flyte Admin being unreachable (restarts,
        network blips, overload) does not end the wait until it lasted ``outage_tolerance``
        (see :mod:`airflow_provider_flyte.waiting`); the outcome reported is the execution's true final phase.

        Args:
            execution: The execution to wait for (updated in place and returned).
            timeout: Give up after this long (seconds or timedelta); ``None`` waits forever.
            poll_interval: Longest time between polls (default 30 s).
            sync_nodes: Also load node and task executions once the execution is done.
            outage_tolerance: How long Admin may stay unreachable (default: the config's ``outage_tolerance``).

        Raises:
            FlyteTimeout: when ``timeout`` passes first (the message names the execution and its last phase).
            FlyteAdminUnreachableException: when Admin stayed unreachable for longer than ``outage_tolerance``.
        """
        clock = self.wait_clock(f"execution {execution.id}", timeout, poll_interval, outage_tolerance)
        url = self.generate_console_url(execution)
        progress = ProgressReport(f"Execution {execution.id}", url)

        def finished() -> FlyteWorkflowExecution | None:
            self.sync_execution(execution, sync_nodes=False)
            if progress.changed(execution.phase):
                logger.info("Execution %s is %s (%s)", execution.id, execution.phase_name, url)
            elif progress.due() and not execution.is_done:
                nodes = node_counts(self.client, execution.id, logger)
                logger.info("%s", progress.line(execution.phase_name, nodes))
            return execution if execution.is_done else None

        if poll(finished, clock) is None:
            raise FlyteTimeout(
                f"execution {execution.id} is still {execution.phase_name} after waiting {clock.timeout:g}s; see {url}"
            )
        return self.sync_execution(execution, sync_nodes=True) if sync_nodes else execution

    def wait_clock(
        self,
        subject: str,
        timeout: timedelta | float | None,
        poll_interval: timedelta | float | None,
        outage_tolerance: timedelta | float | None = None,
    ) -> WaitClock:
        """The clock of a wait by this remote, its arguments checked (before anything is launched).

        Raises:
            FlyteInvalidInputException: naming ``timeout``, ``poll_interval`` or ``outage_tolerance``.
        """
        return WaitClock(
            subject,
            interval=check_seconds(poll_interval, "poll_interval", allow_none=True) or _DEFAULT_MAX_POLL,
            timeout=check_seconds(timeout, "timeout", allow_none=True, allow_zero=True),
            outage_tolerance=check_seconds(outage_tolerance, "outage_tolerance", allow_none=True)
            or self.config.outage_tolerance,
            logger=logger,
        )

    def get_execution_metrics(self, id: Any, depth: int = 10) -> FlyteExecutionSpan:
        """Timing spans of an execution, ``depth`` levels deep."""
        from airflow_provider_flyte.remote.metrics import FlyteExecutionSpan

        execution_id = as_execution_id(id, self.default_project, self.default_domain)
        return FlyteExecutionSpan(self.client.get_execution_metrics(execution_id, depth=depth))
