"""Calling a fetched entity, as flytekit allows: inside a flytekit ``@workflow`` being compiled it becomes a node.

flytekit's fetched entities are callable: in a workflow definition the call adds a node that runs the registered
entity; anywhere else it raises, since a remote entity cannot run locally. Ours behave the same. The call is handed to
flytekit's own remote entity, built from the same Admin message, so the node flytekit compiles is exactly the one its
``FlyteRemote.fetch_*`` entity would give. flytekit is only imported here, when such a call happens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.exceptions import FlyteAssertion

if TYPE_CHECKING:
    from airflow_provider_flyte.remote.entities import FlyteEntity


def call_entity(entity: FlyteEntity, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What ``entity(*args, **kwargs)`` does: a node in a flytekit workflow being compiled, else a clear error.

    Raises:
        FlyteAssertion: outside a flytekit workflow definition (or without flytekit installed), with positional
            arguments, or for a workflow whose nodes launch other launch plans (fetch it with flytekit's remote).
    """
    if args:
        raise FlyteAssertion(
            f"{entity} was called with {len(args)} positional argument(s); a fetched entity takes its inputs by name, "
            "e.g. entity(x=1)"
        )
    if not _compiling_a_flytekit_workflow():
        raise FlyteAssertion(
            f"{entity} is registered on Flyte and cannot run locally. Run it with remote.execute(entity, "
            "inputs={...}), or call it inside a flytekit @workflow to add it as a node"
        )
    return _as_flytekit_entity(entity)(**kwargs)


def _compiling_a_flytekit_workflow() -> bool:
    try:
        from flytekit.core.context_manager import FlyteContextManager  # flytekit is optional
    except ImportError:
        return False
    state = FlyteContextManager.current_context().compilation_state
    return state is not None and state.mode == 1


def _as_flytekit_entity(entity: FlyteEntity) -> Any:
    """The flytekit remote entity for the same Admin message (``FlyteTask``, ``FlyteWorkflow``, ``FlyteLaunchPlan``)."""
    from flytekit.models import interface as fk_interface  # flytekit is optional
    from flytekit.models import launch_plan as fk_launch_plan  # flytekit is optional
    from flytekit.models import task as fk_task  # flytekit is optional
    from flytekit.models.admin import workflow as fk_admin_workflow  # flytekit is optional
    from flytekit.models.core import identifier as fk_identifier  # flytekit is optional
    from flytekit.remote import entities as fk_entities  # flytekit is optional

    from airflow_provider_flyte.remote.entities import FlyteLaunchPlan, FlyteTask, FlyteWorkflow

    if isinstance(entity, FlyteTask):
        return fk_entities.FlyteTask.promote_from_model(fk_task.TaskTemplate.from_flyte_idl(entity.template))
    if isinstance(entity, FlyteLaunchPlan):
        launch_plan = fk_entities.FlyteLaunchPlan.promote_from_model(
            fk_identifier.Identifier.from_flyte_idl(entity.id.to_flyte_idl()),
            fk_launch_plan.LaunchPlanSpec.from_flyte_idl(entity.spec),
        )
        launch_plan._interface = fk_interface.TypedInterface.from_flyte_idl(entity.interface)
        return launch_plan
    if isinstance(entity, FlyteWorkflow):
        if entity.referenced_launch_plans():
            raise FlyteAssertion(
                f"{entity} launches other launch plans ({', '.join(map(str, entity.referenced_launch_plans()))}); "
                "use it as a node through flytekit's FlyteRemote.fetch_workflow, which fetches them too"
            )
        closure = fk_admin_workflow.WorkflowClosure.from_flyte_idl(entity.to_flyte_idl().closure)
        return fk_entities.FlyteWorkflow.promote_from_closure(closure.compiled_workflow, {})
    raise FlyteAssertion(f"{entity} cannot be called")
