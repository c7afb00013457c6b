"""Registered tasks, workflows and launch plans as fetched from Flyte Admin.

Each class wraps the ``admin`` message Admin returned and exposes the parts callers use: the versioned
:class:`~airflow_provider_flyte.identifiers.Identifier`, the typed interface (what :meth:`FlyteRemote.execute
<airflow_provider_flyte.remote.FlyteRemote.execute>` checks inputs against) and a few entity-specific fields. They are
valid targets of ``execute``. None of them issues RPCs on its own.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.identifiers import Identifier

if TYPE_CHECKING:
    from flyteidl.admin import launch_plan_pb2, schedule_pb2, task_pb2, workflow_pb2
    from flyteidl.core import interface_pb2, tasks_pb2
    from flyteidl.core import workflow_pb2 as core_workflow_pb2


# The compiler adds these to every workflow; they are not the author's nodes (flytekit hides them too).
_COMPILER_NODES = frozenset({"start-node", "end-node"})


class FlyteEntity(abc.ABC):
    """Common surface of registered entities: identity and interface."""

    def __init__(self, pb: Any) -> None:
        self._pb = pb
        self.id = Identifier.from_flyte_idl(pb.id)

    @property
    def name(self) -> str:
        """The entity's name."""
        return self.id.name

    @property
    def version(self) -> str:
        """The entity's version."""
        return self.id.version

    @property
    def project(self) -> str:
        """The project the entity is registered in."""
        return self.id.project

    @property
    def domain(self) -> str:
        """The domain the entity is registered in."""
        return self.id.domain

    @property
    def resource_type(self) -> int:
        """``ResourceType`` of the entity (TASK, WORKFLOW or LAUNCH_PLAN)."""
        return int(self.id.resource_type)

    @property
    @abc.abstractmethod
    def interface(self) -> interface_pb2.TypedInterface:
        """Inputs and outputs as ``core.TypedInterface``."""

    @property
    def input_variables(self) -> interface_pb2.VariableMap | interface_pb2.ParameterMap:
        """What :meth:`FlyteRemote.execute` validates inputs against (defaults included for launch plans)."""
        return self.interface.inputs

    def to_flyte_idl(self) -> Any:
        """The wrapped ``admin`` message."""
        return self._pb

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Inside a flytekit ``@workflow`` definition, add a node running this entity (as flytekit's own do).

        Raises:
            FlyteAssertion: anywhere else (a registered entity cannot run locally; use ``FlyteRemote.execute``).
        """
        from airflow_provider_flyte.remote._flytekit_nodes import call_entity

        return call_entity(self, args, kwargs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FlyteEntity) and type(other) is type(self) and other._pb == self._pb

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.id))


class FlyteTask(FlyteEntity):
    """A registered task (``admin.Task``); executing it starts a single-task execution."""

    _pb: task_pb2.Task

    @property
    def template(self) -> tasks_pb2.TaskTemplate:
        """The compiled ``core.TaskTemplate``."""
        return self._pb.closure.compiled_task.template

    @property
    def task_type(self) -> str:
        """The task plugin type, e.g. ``python-task``."""
        return self.template.type

    @property
    def interface(self) -> interface_pb2.TypedInterface:
        """The task's inputs and outputs."""
        return self.template.interface


class FlyteWorkflow(FlyteEntity):
    """A registered workflow (``admin.Workflow``); executing it runs its default launch plan."""

    _pb: workflow_pb2.Workflow

    @property
    def template(self) -> core_workflow_pb2.WorkflowTemplate:
        """The compiled primary ``core.WorkflowTemplate``."""
        return self._pb.closure.compiled_workflow.primary.template

    @property
    def interface(self) -> interface_pb2.TypedInterface:
        """The workflow's inputs and outputs."""
        return self.template.interface

    @property
    def nodes(self) -> list[core_workflow_pb2.Node]:
        """Nodes of the primary workflow, without the ``start-node`` and ``end-node`` Admin's compiler adds."""
        return [node for node in self.template.nodes if node.id not in _COMPILER_NODES]

    def referenced_launch_plans(self) -> list[Identifier]:
        """Launch plans that nodes of the workflow launch, in all (sub-)workflows and branches, without duplicates.

        flytekit fetches each of them when a workflow is fetched; here they are only listed, and fetched when
        needed.
        """
        from airflow_provider_flyte.remote.workflow_nodes import compiled_templates, iter_workflow_nodes

        found: dict[Identifier, None] = {}
        for node in iter_workflow_nodes(compiled_templates(self._pb.closure.compiled_workflow)):
            if node.WhichOneof("target") != "workflow_node":
                continue
            if node.workflow_node.WhichOneof("reference") == "launchplan_ref":
                found[Identifier.from_flyte_idl(node.workflow_node.launchplan_ref)] = None
        return list(found)


class FlyteLaunchPlan(FlyteEntity):
    """A registered launch plan (``admin.LaunchPlan``).

    Its interface comes from the launch plan's own closure (``expected_inputs`` and ``expected_outputs``), so no
    workflow fetch is needed, unlike flytekit's.
    """

    _pb: launch_plan_pb2.LaunchPlan

    @property
    def spec(self) -> launch_plan_pb2.LaunchPlanSpec:
        """The ``admin.LaunchPlanSpec``."""
        return self._pb.spec

    @property
    def closure(self) -> launch_plan_pb2.LaunchPlanClosure:
        """The ``admin.LaunchPlanClosure`` (state, expected inputs and outputs)."""
        return self._pb.closure

    @property
    def workflow_id(self) -> Identifier:
        """The workflow this launch plan runs."""
        return Identifier.from_flyte_idl(self._pb.spec.workflow_id)

    @property
    def is_active(self) -> bool:
        """Whether this version is the active one (the one schedules fire)."""
        from flyteidl.admin import launch_plan_pb2

        return self._pb.closure.state == launch_plan_pb2.ACTIVE

    @property
    def schedule(self) -> schedule_pb2.Schedule | None:
        """The ``admin.Schedule``, or ``None`` when the launch plan is not scheduled."""
        metadata = self._pb.spec.entity_metadata
        return metadata.schedule if metadata.HasField("schedule") else None

    @property
    def entity_metadata(self) -> launch_plan_pb2.LaunchPlanMetadata:
        """Schedule, notifications and launch conditions."""
        return self._pb.spec.entity_metadata

    @property
    def fixed_inputs(self) -> dict[str, Any]:
        """Names of the inputs the launch plan fixes, with their literals (callers cannot override them)."""
        return dict(self._pb.spec.fixed_inputs.literals)

    @property
    def input_variables(self) -> interface_pb2.ParameterMap:
        """Inputs a caller may pass, with their defaults and ``required`` flags."""
        return self._pb.closure.expected_inputs

    @property
    def interface(self) -> interface_pb2.TypedInterface:
        """Inputs (variables of ``expected_inputs``) and outputs (``expected_outputs``)."""
        from flyteidl.core import interface_pb2

        inputs = interface_pb2.VariableMap(
            variables={name: param.var for name, param in self._pb.closure.expected_inputs.parameters.items()}
        )
        return interface_pb2.TypedInterface(inputs=inputs, outputs=self._pb.closure.expected_outputs)
