"""Workflow, node and task executions as seen from the client.

:class:`FlyteWorkflowExecution`, :class:`FlyteNodeExecution` and :class:`FlyteTaskExecution` wrap the ``admin``
messages Admin returns and add what callers ask of an execution: its phase and whether it finished
(:attr:`~FlyteWorkflowExecution.is_done`, :attr:`~FlyteWorkflowExecution.is_successful`), its error, inputs and
outputs as Python values, and its children. Data and children are loaded on first access through the
:class:`~airflow_provider_flyte.remote.FlyteRemote` that produced the object; refreshing (``sync``) and waiting
(``wait``) are also delegated to it.

Terminal phases follow flyteadmin: a node that was ``RECOVERED`` from an earlier execution is done (flytekit's
``is_done`` misses it).

A dynamic node (:attr:`FlyteNodeExecution.is_dynamic`) lists the nodes its workflow ran in
:attr:`~FlyteNodeExecution.subworkflow_node_executions`, offers that workflow as
:attr:`~FlyteNodeExecution.dynamic_workflow`, and the task attempt that produced it lists the same children in
:attr:`FlyteTaskExecution.node_executions`.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte._phases import TERMINAL_PHASE_NAMES
from airflow_provider_flyte._phases import WORKFLOW_PHASES as WORKFLOW_PHASES  # re-exported: its old home
from airflow_provider_flyte.exceptions import FlyteAssertion
from airflow_provider_flyte.identifiers import (
    NodeExecutionIdentifier,
    TaskExecutionIdentifier,
    WorkflowExecutionIdentifier,
)

if TYPE_CHECKING:
    from datetime import timedelta

    from flyteidl.admin import execution_pb2, node_execution_pb2, task_execution_pb2
    from flyteidl.core import execution_pb2 as core_execution_pb2
    from flyteidl.core import interface_pb2, literals_pb2

    from airflow_provider_flyte.remote.entities import FlyteWorkflow
    from airflow_provider_flyte.remote.remote import FlyteRemote

# Phase numbers of flyteidl.core.{WorkflowExecution,NodeExecution,TaskExecution}.Phase.
NODE_PHASES: tuple[str, ...] = (
    *("UNDEFINED", "QUEUED", "RUNNING", "SUCCEEDED", "FAILING", "FAILED"),
    *("ABORTED", "SKIPPED", "TIMED_OUT", "DYNAMIC_RUNNING", "RECOVERED"),
)
TASK_PHASES: tuple[str, ...] = (
    *("UNDEFINED", "QUEUED", "RUNNING", "SUCCEEDED", "ABORTED"),
    *("FAILED", "RETRYABLE_FAILED", "INITIALIZING", "WAITING_FOR_RESOURCES"),
)

WORKFLOW_TERMINAL_PHASES = frozenset(WORKFLOW_PHASES.index(name) for name in TERMINAL_PHASE_NAMES)
WORKFLOW_SUCCESS_PHASES = frozenset({4})
NODE_TERMINAL_PHASES = frozenset({3, 5, 6, 7, 8, 10})  # SUCCEEDED, FAILED, ABORTED, SKIPPED, TIMED_OUT, RECOVERED
NODE_SUCCESS_PHASES = frozenset({3, 7, 10})  # SUCCEEDED, SKIPPED, RECOVERED
TASK_TERMINAL_PHASES = frozenset({3, 4, 5})  # SUCCEEDED, ABORTED, FAILED
TASK_SUCCESS_PHASES = frozenset({3})


def phase_name(phases: tuple[str, ...], phase: int) -> str:
    """Name of a phase number (``"RUNNING"``), or ``"PHASE_<n>"`` for a number newer than this client."""
    return phases[phase] if 0 <= phase < len(phases) else f"PHASE_{phase}"


class LiteralsView(Mapping[str, Any]):
    """Read-only mapping of input or output names to Python values, converted on access.

    Values are converted with the declared interface types when known, and with ``type_hints`` (name -> Python
    type) when given; the raw literals stay available as :attr:`literals`.
    """

    def __init__(
        self,
        literal_map: literals_pb2.LiteralMap,
        variables: interface_pb2.VariableMap | None = None,
        type_hints: Mapping[str, type] | None = None,
    ) -> None:
        self._literal_map = literal_map
        self._variables = variables
        self._type_hints = dict(type_hints or {})
        self._converted: dict[str, Any] = {}

    @property
    def literals(self) -> Mapping[str, literals_pb2.Literal]:
        """The ``core.Literal`` values by name."""
        return self._literal_map.literals

    @property
    def literal_map(self) -> literals_pb2.LiteralMap:
        """The ``core.LiteralMap`` message."""
        return self._literal_map

    def __getitem__(self, key: str) -> Any:
        if key not in self._converted:
            literal = self._literal_map.literals[key]
            self._converted[key] = self._convert(key, literal, self._type_hints.get(key))
        return self._converted[key]

    def get_as(self, key: str, python_type: type) -> Any:
        """The value of ``key`` converted to ``python_type`` (not cached).

        Raises:
            KeyError: when there is no such name.
        """
        return self._convert(key, self._literal_map.literals[key], python_type)

    def _convert(self, key: str, literal: literals_pb2.Literal, python_type: type | None) -> Any:
        from airflow_provider_flyte.literals import to_python

        literal_type = None
        if self._variables is not None and key in self._variables.variables:
            literal_type = self._variables.variables[key].type
        return to_python(literal, literal_type, python_type=python_type)

    def __iter__(self) -> Iterator[str]:
        return iter(self._literal_map.literals)

    def __len__(self) -> int:
        return len(self._literal_map.literals)

    def to_dict(self) -> dict[str, Any]:
        """All values converted, as a plain dict."""
        return {key: self[key] for key in self}

    def __repr__(self) -> str:
        return f"LiteralsView({sorted(self._literal_map.literals)})"


class _ExecutionBase(abc.ABC):
    """Data access shared by the three execution kinds."""

    _TERMINAL: frozenset[int] = frozenset()
    _SUCCESS: frozenset[int] = frozenset()
    _PHASES: tuple[str, ...] = ()

    def __init__(self, remote: FlyteRemote | None, interface: interface_pb2.TypedInterface | None) -> None:
        self._remote = remote
        self._interface = interface
        self._type_hints: dict[str, type] = {}
        self._data: tuple[literals_pb2.LiteralMap, literals_pb2.LiteralMap] | None = None

    @property
    @abc.abstractmethod
    def closure(self) -> Any:
        """The execution's closure message (phase, times, error, ...)."""

    @property
    def phase(self) -> int:
        """The phase number (see the ``*_PHASES`` tuples)."""
        return int(self.closure.phase)

    @property
    def phase_name(self) -> str:
        """The phase's name, e.g. ``"SUCCEEDED"``."""
        return phase_name(self._PHASES, self.phase)

    @property
    def is_done(self) -> bool:
        """Whether the execution reached a terminal phase."""
        return self.phase in self._TERMINAL

    @property
    def is_successful(self) -> bool:
        """Whether the execution finished successfully."""
        return self.phase in self._SUCCESS

    @property
    def error(self) -> core_execution_pb2.ExecutionError | None:
        """The ``core.ExecutionError`` of a failed execution, else ``None``."""
        return self.closure.error if self.closure.HasField("error") else None

    @property
    def inputs(self) -> LiteralsView:
        """The inputs the execution ran with (defaults and fixed inputs included)."""
        variables = self._interface.inputs if self._interface is not None else None
        return LiteralsView(self._load_data()[0], variables)

    @property
    def outputs(self) -> LiteralsView:
        """The outputs of a successful execution.

        Raises:
            FlyteAssertion: when the execution is not done yet, or failed (see :attr:`error`).
        """
        if not self.is_done:
            raise FlyteAssertion(f"{self} is {self.phase_name}; outputs exist once it is done (call wait())")
        if self.error is not None:
            raise FlyteAssertion(f"{self} failed and has no outputs; error: {self.error.message}")
        variables = self._interface.outputs if self._interface is not None else None
        return LiteralsView(self._load_data()[1], variables, self._type_hints)

    def _load_data(self) -> tuple[literals_pb2.LiteralMap, literals_pb2.LiteralMap]:
        if self._data is None or not self.is_done:
            self._data = self._bound_remote().fetch_io_literals(self._identifier())
        return self._data

    @abc.abstractmethod
    def _identifier(self) -> WorkflowExecutionIdentifier | NodeExecutionIdentifier | TaskExecutionIdentifier:
        """The id used to load this execution's data."""

    def _bound_remote(self) -> FlyteRemote:
        if self._remote is None:
            raise FlyteAssertion(f"{self} is not attached to a FlyteRemote; fetch it through one to load its data")
        return self._remote


class FlyteWorkflowExecution(_ExecutionBase):
    """A workflow execution (also what launching a task or launch plan creates).

    Args:
        pb: The ``admin.Execution`` message.
        remote: The remote that fetched it, used to load data, children and updates.
        interface: The launched entity's interface, to convert inputs and outputs to their declared types.
        type_hints: Python types for outputs, by name.
    """

    _TERMINAL = WORKFLOW_TERMINAL_PHASES
    _SUCCESS = WORKFLOW_SUCCESS_PHASES
    _PHASES = WORKFLOW_PHASES

    def __init__(
        self,
        pb: execution_pb2.Execution,
        remote: FlyteRemote | None = None,
        interface: interface_pb2.TypedInterface | None = None,
        type_hints: Mapping[str, type] | None = None,
    ) -> None:
        super().__init__(remote, interface)
        self._pb = pb
        self._type_hints = dict(type_hints or {})
        self._node_executions: dict[str, FlyteNodeExecution] | None = None
        self.id = WorkflowExecutionIdentifier.from_flyte_idl(pb.id)

    @property
    def spec(self) -> execution_pb2.ExecutionSpec:
        """The ``admin.ExecutionSpec`` it was launched with."""
        return self._pb.spec

    @property
    def closure(self) -> execution_pb2.ExecutionClosure:
        """The ``admin.ExecutionClosure``: phase, times, error, outputs location."""
        return self._pb.closure

    @property
    def launched_entity_id(self) -> Any:
        """The launch plan or task id the execution was started from (``core.Identifier``)."""
        return self._pb.spec.launch_plan

    @property
    def node_executions(self) -> dict[str, FlyteNodeExecution]:
        """Top-level node executions by node id, loaded with their task executions and children on first use.

        They are loaded again after a refresh (``sync`` or ``wait``) found the execution changed.
        """
        if self._node_executions is None:
            self._bound_remote().sync_execution(self, sync_nodes=True)
        return self._node_executions or {}

    @property
    def execution_url(self) -> str:
        """The Flyte Console page of this execution."""
        return self._bound_remote().generate_console_url(self)

    def sync(self, sync_nodes: bool = False) -> FlyteWorkflowExecution:
        """Refresh from Admin (one ``GetExecution``; node executions too when ``sync_nodes``)."""
        return self._bound_remote().sync_execution(self, sync_nodes=sync_nodes)

    def wait(
        self,
        timeout: timedelta | float | None = None,
        poll_interval: timedelta | float | None = None,
        sync_nodes: bool = False,
        outage_tolerance: timedelta | float | None = None,
    ) -> FlyteWorkflowExecution:
        """Block until the execution is done; see :meth:`FlyteRemote.wait`."""
        return self._bound_remote().wait(
            self,
            timeout=timeout,
            poll_interval=poll_interval,
            sync_nodes=sync_nodes,
            outage_tolerance=outage_tolerance,
        )

    def _update(self, pb: execution_pb2.Execution) -> None:
        if pb.closure != self._pb.closure:
            # The execution moved on: node executions loaded earlier are stale, reload them on next access.
            self._node_executions = None
        self._pb = pb

    def _set_node_executions(self, nodes: dict[str, FlyteNodeExecution]) -> None:
        self._node_executions = nodes

    def _identifier(self) -> WorkflowExecutionIdentifier:
        return self.id

    def to_flyte_idl(self) -> execution_pb2.Execution:
        """The wrapped ``admin.Execution`` message."""
        return self._pb

    def __repr__(self) -> str:
        return f"FlyteWorkflowExecution({self.id}, {self.phase_name})"


class FlyteNodeExecution(_ExecutionBase):
    """One node of a workflow execution, with its task attempts or child executions.

    Args:
        pb: The ``admin.NodeExecution`` message.
        remote: The remote that fetched it.
    """

    _TERMINAL = NODE_TERMINAL_PHASES
    _SUCCESS = NODE_SUCCESS_PHASES
    _PHASES = NODE_PHASES

    def __init__(self, pb: node_execution_pb2.NodeExecution, remote: FlyteRemote | None = None) -> None:
        super().__init__(remote, None)
        self._pb = pb
        self.id = NodeExecutionIdentifier.from_flyte_idl(pb.id)
        self.task_executions: list[FlyteTaskExecution] = []
        self.subworkflow_node_executions: dict[str, FlyteNodeExecution] = {}
        self.workflow_executions: list[FlyteWorkflowExecution] = []
        self._dynamic_workflow: FlyteWorkflow | None = None

    @property
    def node_id(self) -> str:
        """The node's id inside its workflow execution."""
        return self.id.node_id

    @property
    def closure(self) -> node_execution_pb2.NodeExecutionClosure:
        """The ``admin.NodeExecutionClosure``."""
        return self._pb.closure

    @property
    def metadata(self) -> node_execution_pb2.NodeExecutionMetaData:
        """Whether the node is a parent (sub-workflow, branch, dynamic, array) and its spec node id."""
        return self._pb.metadata

    @property
    def is_parent_node(self) -> bool:
        """Whether the node has child node executions (sub-workflow, branch, dynamic or array node)."""
        return bool(self._pb.metadata.is_parent_node)

    @property
    def is_dynamic(self) -> bool:
        """Whether the node ran a dynamic workflow."""
        return bool(self._pb.metadata.is_dynamic)

    @property
    def dynamic_workflow(self) -> FlyteWorkflow | None:
        """The workflow a dynamic node compiled at run time (``None`` for other nodes, and before it compiled one).

        Loaded on first use with one ``GetDynamicNodeWorkflow``; its nodes are the templates of the children in
        :attr:`subworkflow_node_executions` (their ``metadata.spec_node_id``).
        """
        if self._dynamic_workflow is None and self.is_dynamic:
            self._dynamic_workflow = self._bound_remote().fetch_dynamic_workflow(self.id)
        return self._dynamic_workflow

    @property
    def child_execution_id(self) -> WorkflowExecutionIdentifier | None:
        """For a launch-plan node, the execution it launched."""
        closure = self._pb.closure
        if closure.HasField("workflow_node_metadata") and closure.workflow_node_metadata.executionId.name:
            return WorkflowExecutionIdentifier.from_flyte_idl(closure.workflow_node_metadata.executionId)
        return None

    @property
    def retries(self) -> int:
        """How many times the node's task was retried (attempts minus one; 0 when it ran no task)."""
        return max(len(self.task_executions) - 1, 0)

    @property
    def executions(self) -> list[Any]:
        """Whatever ran under this node: task attempts, child node executions or launched executions."""
        return [*self.task_executions, *self.subworkflow_node_executions.values(), *self.workflow_executions]

    def _identifier(self) -> NodeExecutionIdentifier:
        return self.id

    def to_flyte_idl(self) -> node_execution_pb2.NodeExecution:
        """The wrapped ``admin.NodeExecution`` message."""
        return self._pb

    def __repr__(self) -> str:
        return f"FlyteNodeExecution({self.id.node_id!r} of {self.id.execution_id}, {self.phase_name})"


class FlyteTaskExecution(_ExecutionBase):
    """One attempt of a task inside a node execution.

    Args:
        pb: The ``admin.TaskExecution`` message.
        remote: The remote that fetched it.
    """

    _TERMINAL = TASK_TERMINAL_PHASES
    _SUCCESS = TASK_SUCCESS_PHASES
    _PHASES = TASK_PHASES

    def __init__(self, pb: task_execution_pb2.TaskExecution, remote: FlyteRemote | None = None) -> None:
        super().__init__(remote, None)
        self._pb = pb
        self.id = TaskExecutionIdentifier.from_flyte_idl(pb.id)
        self._node_executions: dict[str, FlyteNodeExecution] | None = None
        # Children its node already loaded, reused instead of loading their attempts a second time.
        self._known_children: Mapping[str, FlyteNodeExecution] = {}

    @property
    def is_parent(self) -> bool:
        """Whether the attempt launched node executions (a dynamic task's attempt that produced its workflow)."""
        return bool(self._pb.is_parent)

    @property
    def node_executions(self) -> dict[str, FlyteNodeExecution]:
        """The node executions this attempt launched, by node id (empty unless :attr:`is_parent`).

        Loaded on first use with ``ListNodeExecutionsForTask``; children that the node's sync already loaded are
        reused as they are.
        """
        if self._node_executions is None:
            if not self.is_parent:
                return {}
            self._node_executions = self._bound_remote().fetch_task_node_executions(self.id, self._known_children)
        return self._node_executions

    @property
    def retry_attempt(self) -> int:
        """Attempt number, from 0."""
        return self.id.retry_attempt

    @property
    def closure(self) -> task_execution_pb2.TaskExecutionClosure:
        """The ``admin.TaskExecutionClosure`` (phase, logs, times, error)."""
        return self._pb.closure

    @property
    def logs(self) -> list[Any]:
        """Log links (``core.TaskLog``) of the attempt."""
        return list(self._pb.closure.logs)

    def _identifier(self) -> TaskExecutionIdentifier:
        return self.id

    def to_flyte_idl(self) -> task_execution_pb2.TaskExecution:
        """The wrapped ``admin.TaskExecution`` message."""
        return self._pb

    def __repr__(self) -> str:
        return f"FlyteTaskExecution({self.id.task_id.name!r} attempt {self.retry_attempt}, {self.phase_name})"
