"""Admin RPCs for runs: workflow, node and task executions, their data and metrics, and signals.

:class:`Executions` serves them all; each manager is a part of it, in its own module: creating executions
(:mod:`~flyte_admin_sandbox.executions_create`), reading, archiving and terminating them
(:mod:`~flyte_admin_sandbox.executions_workflows`), node executions (:mod:`~flyte_admin_sandbox.executions_nodes`),
task executions (:mod:`~flyte_admin_sandbox.executions_tasks`), data and metrics
(:mod:`~flyte_admin_sandbox.executions_data`) and signals (:mod:`~flyte_admin_sandbox.executions_signals`), over
the lookups they share (:mod:`~flyte_admin_sandbox.executions_base`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flyte_admin_sandbox.executions_base import Engine, principal_var
from flyte_admin_sandbox.executions_create import ExecutionCreation, generate_execution_name
from flyte_admin_sandbox.executions_data import ExecutionData
from flyte_admin_sandbox.executions_nodes import NodeExecutions
from flyte_admin_sandbox.executions_signals import Signals
from flyte_admin_sandbox.executions_tasks import TaskExecutions
from flyte_admin_sandbox.executions_workflows import WorkflowExecutions
from flyte_admin_sandbox.records import Records

if TYPE_CHECKING:
    from flyte_admin_sandbox.registry import Registry


class Executions(ExecutionCreation, WorkflowExecutions, NodeExecutions, TaskExecutions, ExecutionData, Signals):
    """Executions, node/task executions and signals over the shared store.

    Args:
        registry: The entity side (launch plans, workflows, tasks, projects).
        records: Execution records (shared with the engine).
        engine: Runs what CreateExecution creates.
    """

    def __init__(self, registry: Registry, records: Records, engine: Engine) -> None:
        self.registry = registry
        self.records = records
        self.store = records.store
        self.engine = engine
        self._targets = {}


__all__ = ["Engine", "Executions", "generate_execution_name", "principal_var"]
