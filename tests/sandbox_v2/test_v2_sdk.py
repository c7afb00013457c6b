"""The flyte 2.12 SDK, unchanged, against the Flyte 2 sandbox's Connect endpoint: deploy, run, wait, outputs, abort."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flyte_admin_sandbox.v2 import Flyte2Sandbox

from tests.sandbox_v2.conftest import require_flyte

ROOT = Path(__file__).resolve().parents[2]
VERSION = "v1"


@pytest.fixture(scope="module")
def sdk_sandbox() -> Iterator[Flyte2Sandbox]:
    """One sandbox for the module, initialised for the SDK and with sdk_v2_tasks deployed (version v1)."""
    require_flyte()
    import flyte

    from tests.sandbox_v2 import sdk_v2_tasks

    with Flyte2Sandbox() as sandbox:
        flyte.init(
            endpoint=sandbox.connect_endpoint,
            insecure=True,
            project="flytesnacks",
            domain="development",
            root_dir=ROOT,
        )
        flyte.deploy(sdk_v2_tasks.env, version=VERSION, copy_style="none")
        yield sandbox
        sandbox.behaviours.clear()


@pytest.fixture
def sandbox(sdk_sandbox: Flyte2Sandbox) -> Iterator[Flyte2Sandbox]:
    yield sdk_sandbox
    sdk_sandbox.behaviours.clear()


def remote_task(name: str) -> Any:
    import flyte.remote

    return flyte.remote.Task.get(name, auto_version="latest")


def test_deployed_tasks_are_listed_with_their_version(sandbox: Flyte2Sandbox) -> None:
    import flyte.remote

    names = {task.name: task.version for task in flyte.remote.Task.listall()}
    assert names == {"sbx.add": VERSION, "sbx.greet": VERSION, "sbx.stuck": VERSION}
    details = flyte.remote.Task.get("sbx.add", version=VERSION).fetch()
    assert details.version == VERSION


def test_run_with_inputs_waits_and_reads_outputs(sandbox: Flyte2Sandbox) -> None:
    import flyte

    sandbox.behave("sbx.add", function=lambda x, y: x + y)
    run = flyte.run(remote_task("sbx.add"), x=3, y=4)
    run.wait(quiet=True)
    assert run.phase == "succeeded"
    assert run.outputs()[0] == 7
    assert run.inputs()["x"] == 3


def test_default_inputs_and_module_function_behaviour(sandbox: Flyte2Sandbox) -> None:
    import flyte

    sandbox.behave("sbx.add", function="tests.sandbox_v2.sdk_v2_tasks:add")  # the SDK task's own function
    run = flyte.run(remote_task("sbx.add"), x=40)
    run.wait(quiet=True)
    assert run.outputs()[0] == 42


def test_a_task_without_behaviour_gets_placeholder_outputs(sandbox: Flyte2Sandbox) -> None:
    import flyte

    run = flyte.run(remote_task("sbx.greet"), name="world")
    run.wait(quiet=True)
    assert run.phase == "succeeded"
    assert run.outputs()[0] == "o0"


def test_a_failing_task_fails_the_run(sandbox: Flyte2Sandbox) -> None:
    import flyte
    import flyte.remote

    sandbox.behave("sbx.greet", fail="boom")
    run = flyte.run(remote_task("sbx.greet"), name="world")
    run.wait(quiet=True)
    assert run.phase == "failed"
    details = flyte.remote.RunDetails.get(name=run.name)
    assert details.pb2.action.error_info.message == "boom"


def test_abort_a_hanging_run(sandbox: Flyte2Sandbox) -> None:
    import flyte
    import flyte.remote

    sandbox.behave("sbx.stuck", hang=True)
    run = flyte.run(remote_task("sbx.stuck"), seconds=60.0)
    run.abort(reason="test over")
    run.wait(quiet=True)
    assert run.phase == "aborted"
    details = flyte.remote.RunDetails.get(name=run.name)
    assert details.pb2.action.abort_info.reason == "test over"


def test_duplicate_run_name_is_already_exists(sandbox: Flyte2Sandbox) -> None:
    import flyte
    import flyte.errors

    task = remote_task("sbx.add")
    first = flyte.with_runcontext(name="dup-run").run(task, x=1)
    assert first.name == "dup-run"
    with pytest.raises(flyte.errors.RuntimeUserError, match="already exists") as raised:
        flyte.with_runcontext(name="dup-run").run(task, x=2)
    assert raised.value.code == "RunAlreadyExistsError"


def test_run_names_longer_than_30_characters_are_refused(sandbox: Flyte2Sandbox) -> None:
    import flyte
    import flyte.errors

    with pytest.raises(flyte.errors.RuntimeUserError, match="at most 30 characters"):
        flyte.with_runcontext(name="r" * 31).run(remote_task("sbx.add"), x=1)


def test_the_console_link_of_a_run_opens(sandbox: Flyte2Sandbox) -> None:
    import flyte

    run = flyte.run(remote_task("sbx.greet"), name="console")
    run.wait(quiet=True)
    assert run.url == sandbox.run_url("flytesnacks", "development", run.name)
    with urllib.request.urlopen(run.url, timeout=5) as response:
        page = response.read().decode()
    assert run.name in page
    assert "SUCCEEDED" in page
    assert "console" in page  # the input
