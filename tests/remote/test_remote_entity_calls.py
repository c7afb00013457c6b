"""Calling fetched (and lazily fetched) entities, as flytekit allows: a node inside a flytekit ``@workflow``.

flytekit's own ``FlyteRemote`` on the same sandbox is the independent implementation: a workflow built on its fetched
task must compile to the same spec as one built on ours, and run to the same result.
"""

from __future__ import annotations

from typing import Any

import pytest
from flyte_admin_sandbox import FlyteSandbox
from remote_helpers import D, P, RpcLog, add_one_task, add_one_workflow

from airflow_provider_flyte.exceptions import FlyteAssertion
from airflow_provider_flyte.remote import FlyteRemote, LazyEntity

pytest.importorskip("flytekit")


def _flytekit_remote(sandbox: FlyteSandbox) -> Any:
    from flytekit.configuration import Config, PlatformConfig

    platform = PlatformConfig(endpoint=sandbox.config.endpoint, insecure=True)
    return __import__("flytekit.remote", fromlist=["FlyteRemote"]).FlyteRemote(
        Config(platform=platform), default_project=P, default_domain=D
    )


def _workflow_on(entity: Any, name: str) -> Any:
    """A flytekit workflow ``x: int -> int`` calling ``entity`` twice (``x + 2`` with the add-one task)."""
    from flytekit import workflow

    def body(x: int) -> int:
        return entity(x=entity(x=x))  # type: ignore[no-any-return]

    # flytekit names a workflow after its function's module, which must be importable: this one.
    body.__name__ = body.__qualname__ = name
    body.__module__ = __name__
    return workflow(body)


def _workflow_spec(workflow: Any) -> Any:
    from flytekit.configuration import ImageConfig, SerializationSettings
    from flytekit.tools.translator import get_serializable

    settings = SerializationSettings(image_config=ImageConfig.auto_default_image(), project=P, domain=D, version="v1")
    return get_serializable({}, settings, workflow).to_flyte_idl()


def test_a_lazy_task_is_fetched_when_called(remote: FlyteRemote, rpcs: RpcLog) -> None:
    remote.register_task(add_one_task("v1"))
    remote.client.clear_entity_cache()
    lazy = remote.fetch_task_lazy(name="remote.add_one", version="v1")
    assert isinstance(lazy, LazyEntity)
    mark = rpcs.mark()
    with pytest.raises(FlyteAssertion, match=r"cannot run locally.*remote\.execute"):
        lazy(x=1)
    assert lazy.entity_fetched
    assert rpcs.names(mark) == ["GetTask"]
    with pytest.raises(FlyteAssertion, match="positional"):
        lazy(1)


def test_a_fetched_task_becomes_the_node_flytekits_own_would(remote: FlyteRemote, flyte_sandbox: FlyteSandbox) -> None:
    remote.register_task(add_one_task("v1"))
    ours = _workflow_spec(_workflow_on(remote.fetch_task_lazy(name="remote.add_one", version="v1"), "ours"))
    theirs_task = _flytekit_remote(flyte_sandbox).fetch_task(name="remote.add_one", version="v1")
    theirs = _workflow_spec(_workflow_on(theirs_task, "ours"))
    assert ours == theirs
    assert [node.task_node.reference_id.name for node in ours.template.nodes] == ["remote.add_one"] * 2


def test_a_workflow_built_on_a_fetched_task_runs(remote: FlyteRemote) -> None:
    remote.register_task(add_one_task("v1"))
    workflow = _workflow_on(remote.fetch_task(name="remote.add_one", version="v1"), "add_two")
    registered = remote.register_workflow(workflow, version="v1")
    execution = remote.execute(registered, inputs={"x": 40}, wait=True)
    assert execution.outputs["o0"] == 42


def test_fetched_launch_plans_and_workflows_become_nodes_too(remote: FlyteRemote, flyte_sandbox: FlyteSandbox) -> None:
    remote.register_task(add_one_task("v1"))
    remote.register_workflow(add_one_workflow())
    theirs = _flytekit_remote(flyte_sandbox)
    for kind in ("launch_plan", "workflow"):
        ours_entity = getattr(remote, f"fetch_{kind}_lazy")(name="remote.wf", version="v1")
        theirs_entity = getattr(theirs, f"fetch_{kind}")(name="remote.wf", version="v1")
        ours = _workflow_spec(_workflow_on(ours_entity, f"on_{kind}"))
        assert ours == _workflow_spec(_workflow_on(theirs_entity, f"on_{kind}")), kind
