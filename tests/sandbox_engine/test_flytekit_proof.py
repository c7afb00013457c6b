"""flytekit's own client and FlyteRemote against the sandbox: registration by flytekit's serialization, fetch,
execute, wait, outputs, node executions, signals, and the exception classes flytekit raises for common mistakes.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

pytest.importorskip("flytekit")

import flytekit_workflows
from engine_helpers import eventually, unique
from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox import builders as b
from flytekit.configuration import Config
from flytekit.exceptions.user import (
    FlyteEntityAlreadyExistsException,
    FlyteEntityNotExistException,
    FlyteInvalidInputException,
)
from flytekit.models.core.execution import WorkflowExecutionPhase
from flytekit.models.literals import LiteralMap
from flytekit.remote import FlyteRemote

MODULE = "flytekit_workflows"
POLL = timedelta(milliseconds=20)
POLL_LIMIT = timedelta(seconds=60)


@pytest.fixture(scope="module")
def remote(sandbox: FlyteSandbox) -> FlyteRemote:
    return FlyteRemote(
        Config.for_endpoint(sandbox.endpoint, insecure=True),
        default_project="flytesnacks",
        default_domain="development",
    )


def test_flytekit_registers_executes_and_reads_outputs(remote, sandbox):
    sandbox.script(f"{MODULE}.double", outputs=lambda x: 2 * x)
    sandbox.script(f"{MODULE}.shout", outputs=lambda text: text.upper())
    version = unique("v")
    remote.register_launch_plan(flytekit_workflows.twice_plan, version=version)
    registered = remote.register_workflow(flytekit_workflows.pipeline, version=version)
    assert registered.id.version == version

    fetched = remote.fetch_workflow(name=f"{MODULE}.pipeline", version=version)
    assert set(fetched.interface.inputs) == {"x", "label"}
    execution = remote.execute(fetched, inputs={"x": 3, "label": "done"})
    execution = remote.wait(execution, timeout=POLL_LIMIT, poll_interval=POLL)
    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED
    # 3 -> 6 (not > 10: else doubles) -> 12 -> the launch plan doubles twice -> 48.
    assert execution.outputs["o0"] == 48
    assert execution.outputs["o1"] == "DONE"

    synced = remote.sync(execution, sync_nodes=True)
    assert set(synced.node_executions) == {"start-node", "n0", "n1", "n2", "n3", "end-node"}
    branch = synced.node_executions["n1"]
    assert branch.metadata.is_parent_node
    assert [child.id.node_id for child in branch.subworkflow_node_executions.values()] == ["n1-0-n1"]
    assert branch.outputs.get("o0", as_type=int) == 12  # flytekit keeps no interface for branch nodes
    launched = synced.node_executions["n2"]
    assert len(launched.workflow_executions) == 1
    assert launched.workflow_executions[0].outputs["o0"] == 48
    first = synced.node_executions["n0"]
    assert [attempt.closure.phase for attempt in first.task_executions] == [3]  # SUCCEEDED
    assert first.inputs["x"] == 3


def test_flytekit_lists_a_pending_signal_and_approves_it(remote, sandbox):
    sandbox.script(f"{MODULE}.double", outputs=lambda x: 2 * x)
    sandbox.script(f"{MODULE}.shout", outputs=lambda text: text.upper())
    version = unique("v")
    remote.register_workflow(flytekit_workflows.gated, version=version)
    execution = remote.execute(
        remote.fetch_workflow(name=f"{MODULE}.gated", version=version), inputs={"x": 2}, wait=False
    )
    pending = eventually(lambda: remote.list_signals(execution.id.name), what="the approval signal")
    assert [signal.id.signal_id for signal in pending] == ["go-ahead"]
    remote.approve("go-ahead", execution.id.name)
    eventually(
        lambda: any(signal.id.signal_id == "title" for signal in remote.list_signals(execution.id.name)),
        what="the input signal",
    )
    remote.set_input("title", execution.id.name, value="quarterly")
    done = remote.wait(execution, timeout=POLL_LIMIT, poll_interval=POLL)
    assert done.closure.phase == WorkflowExecutionPhase.SUCCEEDED
    assert done.outputs["o0"] == "QUARTERLY"


def test_flytekit_map_task_runs_as_an_array_node(remote, sandbox):
    version = unique("v")
    remote.register_workflow(flytekit_workflows.squares, version=version)
    fetched = remote.fetch_workflow(name=f"{MODULE}.squares", version=version)
    mapped = fetched.flyte_nodes[0].array_node.node.task_node.reference_id.name  # flytekit's generated map task
    sandbox.script(mapped, outputs=lambda x: x * x)
    execution = remote.wait(remote.execute(fetched, inputs={"xs": [1, 2, 3]}), timeout=POLL_LIMIT, poll_interval=POLL)
    assert execution.closure.phase == WorkflowExecutionPhase.SUCCEEDED
    assert execution.outputs["o0"] == [1, 4, 9]
    synced = remote.sync(execution, sync_nodes=True)
    assert synced.node_executions["n0"].metadata.is_array


def test_flytekit_fast_registration_uploads_through_the_data_proxy(remote, sandbox, tmp_path):
    # register_script packages the source folder, asks CreateUploadLocation for a signed URL and PUTs the archive.
    source = Path(flytekit_workflows.__file__).parent
    version = unique("fast")
    registered = remote.register_script(
        flytekit_workflows.twice, version=version, source_path=str(source), module_name=MODULE
    )
    assert registered.id.version == version
    task = remote.fetch_task(name=f"{MODULE}.double", version=version)
    args = list(task.template.container.args)
    assert "--dest-dir" in args
    assert args[args.index("--additional-distribution") + 1].startswith("s3://my-s3-bucket/flytesnacks/development/")
    sandbox.script(f"{MODULE}.double", outputs=lambda x: 2 * x)
    execution = remote.wait(remote.execute(registered, inputs={"x": 5}), timeout=POLL_LIMIT, poll_interval=POLL)
    assert execution.outputs["o0"] == 20


def test_flytekit_sees_admin_exception_classes(remote, sandbox):
    version = unique("v")
    remote.register_task(flytekit_workflows.shout, version=version)
    task = remote.fetch_task(name=f"{MODULE}.shout", version=version)

    # Identical re-registration and a different one under the same id, through flytekit's client.
    from flytekit.models.task import TaskSpec

    spec = TaskSpec(task.template)
    with pytest.raises(FlyteEntityAlreadyExistsException):
        remote.client.create_task(task.id, spec)
    changed = task.template.to_flyte_idl()
    changed.container.image = "somewhere/else:latest"
    from flytekit.models.task import TaskTemplate

    with pytest.raises(FlyteInvalidInputException, match="task with different structure already exists"):
        remote.client.create_task(task.id, TaskSpec(TaskTemplate.from_flyte_idl(changed)))

    # Unknown entities: a missing version, and a name with no versions at all.
    with pytest.raises(FlyteEntityNotExistException):
        remote.fetch_task(name=f"{MODULE}.shout", version="no-such-version")
    with pytest.raises(FlyteEntityNotExistException):
        remote.fetch_workflow(name="no.such.workflow")

    # Bad inputs reach Admin through the client (FlyteRemote would check them locally first).
    from flytekit.models.execution import ExecutionMetadata, ExecutionSpec

    spec = ExecutionSpec(task.id, ExecutionMetadata(ExecutionMetadata.ExecutionMode.MANUAL, "placeholder", 0))
    wrong_type = LiteralMap.from_flyte_idl(b.literal_map({"text": 3}, {"text": b.INTEGER}))
    with pytest.raises(FlyteInvalidInputException, match="invalid text input wrong type"):
        remote.client.create_execution("flytesnacks", "development", None, spec, wrong_type)
    unknown = LiteralMap.from_flyte_idl(
        b.literal_map({"text": "a", "extra": 1}, {"text": b.STRING, "extra": b.INTEGER})
    )
    with pytest.raises(FlyteInvalidInputException, match="invalid input extra"):
        remote.client.create_execution("flytesnacks", "development", None, spec, unknown)
