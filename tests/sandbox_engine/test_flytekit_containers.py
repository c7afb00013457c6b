"""flytekit container tasks run as local processes (``run_containers=True``): real outputs and real errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

pytest.importorskip("flytekit")

import flytekit_workflows
from engine_helpers import fast_sandbox, unique
from flytekit.configuration import Config
from flytekit.models.core.execution import WorkflowExecutionPhase
from flytekit.remote import FlyteRemote

MODULE = "flytekit_workflows"
POLL = timedelta(milliseconds=50)
POLL_LIMIT = timedelta(seconds=120)


def test_pyflyte_execute_runs_the_task_code():
    with fast_sandbox(run_containers=True) as sandbox:
        remote = FlyteRemote(
            Config.for_endpoint(sandbox.endpoint, insecure=True),
            default_project="flytesnacks",
            default_domain="development",
        )
        version = unique("proc")
        task = remote.register_task(flytekit_workflows.triple_positive, version=version)
        good = remote.execute(task, inputs={"x": 14})
        bad = remote.execute(task, inputs={"x": -1})
        good = remote.wait(good, timeout=POLL_LIMIT, poll_interval=POLL)
        assert good.closure.phase == WorkflowExecutionPhase.SUCCEEDED
        assert good.outputs["o0"] == 42  # computed by the task's own code, not a placeholder
        bad = remote.wait(bad, timeout=POLL_LIMIT, poll_interval=POLL)
        assert bad.closure.phase == WorkflowExecutionPhase.FAILED
        assert "ValueError" in bad.closure.error.message
        assert "-1 is negative" in bad.closure.error.message
        node = remote.sync(good, sync_nodes=True).node_executions
        (task_node,) = [name for name in node if name not in ("start-node", "end-node")]
        # The work folder keeps what the process read and wrote.
        folder = sandbox.engine.containers.folder("flytesnacks", "development", good.id.name, task_node, 0)
        assert (folder / "inputs.pb").is_file()
        assert (folder / "outputs" / "outputs.pb").is_file()


def test_a_flytekit_dynamic_task_runs_its_children_and_flytekit_sees_them():
    with fast_sandbox(run_containers=True) as sandbox:
        remote = FlyteRemote(
            Config.for_endpoint(sandbox.endpoint, insecure=True),
            default_project="flytesnacks",
            default_domain="development",
        )
        version = unique("dyn")
        registered = remote.register_workflow(flytekit_workflows.dynamic_squares, version=version)
        execution = remote.execute(registered, inputs={"n": 2})
        execution = remote.wait(execution, timeout=POLL_LIMIT, poll_interval=POLL)
        assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED, execution.closure.error
        assert execution.outputs["o0"] == [1, 4]  # each square computed by a process of its own

        synced = remote.sync(execution, sync_nodes=True)
        dynamic = synced.node_executions["n0"]
        assert dynamic.metadata.is_dynamic
        assert dynamic.metadata.is_parent_node
        children = dynamic.subworkflow_node_executions
        assert len(children) == 2
        assert all(node_id.startswith("n0-0-") for node_id in children)
        assert {child.closure.phase for child in children.values()} == {3}  # SUCCEEDED
        assert dynamic.outputs["o0"] == [1, 4]
        assert [child.outputs["o0"] for _, child in sorted(children.items())] == [1, 4]
        # The futures file was read from the parent's work folder.
        folder = sandbox.engine.containers.folder("flytesnacks", "development", execution.id.name, "n0", 0)
        assert (folder / "outputs" / "futures.pb").is_file()
