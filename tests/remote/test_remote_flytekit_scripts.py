"""Script mode, fast packages and interactive mode of FlyteRemote, side by side with flytekit's on the same sandbox.

``register_script``, ``fast_register_workflow``, ``fast_package(options=...)`` and ``interactive_mode_enabled`` take
flytekit's arguments, upload the archive flytekit uploads and register what flytekit registers: flytekit runs first,
and ours must derive the same version and register byte-identical content under it (Admin accepts identical content
again; different content is refused). Without flytekit each path raises the error every flytekit path raises.
"""

from __future__ import annotations

import importlib
import inspect
import io
import pathlib
import subprocess
import sys
import tarfile
import textwrap
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("flytekit")

import remote_flytekit_paths_entities as entities
from flyte_admin_sandbox import FlyteSandbox
from flytekit.configuration import Config, ImageConfig, SerializationSettings
from flytekit.constants import CopyFileDetection
from flytekit.remote import FlyteRemote as FlytekitRemote
from flytekit.tools.fast_registration import FastPackageOptions
from remote_helpers import D, P, finish

from airflow_provider_flyte.identifiers import Identifier
from airflow_provider_flyte.remote import FlyteRemote, FlyteTask, FlyteWorkflow

CUSTOM = "registry.example/team/custom:abc"
FLOWS = """
from flytekit import task, workflow


@task
def square(x: int) -> int:
    return x * x


@workflow
def square_wf(x: int = 3) -> int:
    return square(x=x)
"""


def _flytekit(sandbox: FlyteSandbox, interactive: bool = False) -> FlytekitRemote:
    config = Config.for_endpoint(sandbox.endpoint, insecure=True)
    return FlytekitRemote(config, default_project=P, default_domain=D, interactive_mode_enabled=interactive)


def _stored(sandbox: FlyteSandbox, native_url: str) -> bytes:
    key = sandbox.blobs.key_of(native_url)
    assert key is not None, native_url
    data = sandbox.blobs.get(key)
    assert data is not None, native_url
    return data


def _archive_names(data: bytes) -> set[str]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        return {member.name for member in tar.getmembers() if member.isfile()}


def _code_location(task: FlyteTask) -> str:
    args = list(task.template.container.args)
    assert args[0] == "pyflyte-fast-execute", args
    return args[args.index("--additional-distribution") + 1]


@pytest.fixture
def code(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[pathlib.Path, ModuleType]]:
    """A source tree ``<root>/<unique package>/flows.py`` (a task and a workflow), imported from the root."""
    package = f"scriptpkg_{uuid.uuid4().hex[:10]}"
    root = tmp_path / "code"
    (root / package).mkdir(parents=True)
    (root / package / "__init__.py").write_text("")
    (root / package / "flows.py").write_text(FLOWS)
    (root / package / "notes.txt").write_text("not a module")
    monkeypatch.syspath_prepend(str(root))
    module = importlib.import_module(f"{package}.flows")
    yield root, module
    for name in [name for name in sys.modules if name.startswith(package)]:
        del sys.modules[name]


def test_signatures_match_flytekit() -> None:
    """flytekit's parameters, in flytekit's order and with its defaults (ours may add more after them)."""
    for method in (
        "__init__",
        "register_script",
        "fast_register_workflow",
        "fast_package",
        "register_task",
        "register_workflow",
        "register_launch_plan",
        "execute",
    ):
        theirs = inspect.signature(getattr(FlytekitRemote, method)).parameters
        ours = inspect.signature(getattr(FlyteRemote, method)).parameters
        names = [name for name in theirs if name not in ("self", "kwargs")]
        assert [name for name in ours if name in names] == names, method
        for name in names:
            if theirs[name].default is not inspect.Parameter.empty:
                assert ours[name].default == theirs[name].default, (method, name)
    assert inspect.signature(FlyteRemote.fast_package).parameters["deref_symlinks"].default is True


def test_register_script_registers_what_flytekit_registers(
    remote: FlyteRemote, flyte_sandbox: FlyteSandbox, code: tuple[pathlib.Path, ModuleType]
) -> None:
    root, module = code
    module_name = module.__name__
    theirs = _flytekit(flyte_sandbox).register_script(module.square_wf, source_path=str(root), module_name=module_name)
    mine = remote.register_script(module.square_wf, source_path=str(root), module_name=module_name)
    assert isinstance(mine, FlyteWorkflow)
    assert mine.id == Identifier.from_flyte_idl(theirs.id.to_flyte_idl())  # the same version, derived from the code
    task = remote.fetch_task(name=f"{module_name}.square", version=mine.id.version)
    archive = _stored(flyte_sandbox, _code_location(task))
    assert f"{module_name.split('.')[0]}/flows.py" in _archive_names(archive)
    assert "--dest-dir" in task.template.container.args
    plan = remote.fetch_launch_plan(name=mine.name, version=mine.id.version)  # the default launch plan, defaults kept
    assert plan.input_variables.parameters["x"].default.scalar.primitive.integer == 3
    assert finish(remote.execute(plan, inputs={"x": 4})).is_successful
    # A task alone, in a custom image and with environment variables.
    image = ImageConfig.from_images(CUSTOM)
    their_task = _flytekit(flyte_sandbox).register_script(
        module.square, image_config=image, source_path=str(root), module_name=module_name, envs={"A": "1"}
    )
    my_task = remote.register_script(
        module.square, image_config=image, source_path=str(root), module_name=module_name, envs={"A": "1"}
    )
    assert isinstance(my_task, FlyteTask)
    assert my_task.id == Identifier.from_flyte_idl(their_task.id.to_flyte_idl())
    assert my_task.template.container.image == CUSTOM
    assert {pair.key: pair.value for pair in my_task.template.container.env} == {"A": "1"}


def test_register_script_copying_all_files_and_fast_register_workflow(
    remote: FlyteRemote, flyte_sandbox: FlyteSandbox, code: tuple[pathlib.Path, ModuleType]
) -> None:
    root, module = code
    package = module.__name__.split(".")[0]
    copy_all = FastPackageOptions([], copy_style=CopyFileDetection.ALL)
    theirs = _flytekit(flyte_sandbox).register_script(
        module.square_wf, source_path=str(root), module_name=module.__name__, fast_package_options=copy_all
    )
    mine = remote.register_script(
        module.square_wf, source_path=str(root), module_name=module.__name__, fast_package_options=copy_all
    )
    assert mine.id == Identifier.from_flyte_idl(theirs.id.to_flyte_idl())
    task = remote.fetch_task(name=f"{module.__name__}.square", version=mine.id.version)
    assert f"{package}/notes.txt" in _archive_names(_stored(flyte_sandbox, _code_location(task)))
    # fast_register_workflow finds the source root and module from the workflow, and keeps the settings' image.
    settings = SerializationSettings(image_config=ImageConfig.from_images(CUSTOM), project=P, domain=D)
    their_fast = _flytekit(flyte_sandbox).fast_register_workflow(module.square_wf, settings)
    settings = SerializationSettings(image_config=ImageConfig.from_images(CUSTOM), project=P, domain=D)
    my_fast = remote.fast_register_workflow(module.square_wf, settings)
    assert my_fast.id == Identifier.from_flyte_idl(their_fast.id.to_flyte_idl())
    task = remote.fetch_task(name=f"{module.__name__}.square", version=my_fast.id.version)
    assert task.template.container.image == CUSTOM
    with pytest.raises(Exception, match="not a @workflow function"):
        remote.fast_register_workflow(module.square)


def test_fast_package_with_options_and_symlinks_as_flytekit(
    remote: FlyteRemote, flyte_sandbox: FlyteSandbox, tmp_path: pathlib.Path
) -> None:
    root = tmp_path / "src"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("x = 1\n")
    outside = tmp_path / "shared.py"
    outside.write_text("y = 2\n")
    (root / "pkg" / "shared.py").symlink_to(outside)
    options = FastPackageOptions([], copy_style=CopyFileDetection.ALL)
    (tmp_path / "theirs").mkdir()  # flytekit writes into an existing folder only
    their_md5, their_url = _flytekit(flyte_sandbox).fast_package(root, output=str(tmp_path / "theirs"), options=options)
    my_md5, my_url = remote.fast_package(root, output=tmp_path / "mine", options=options)
    assert (my_md5, my_url) == (their_md5, their_url)
    # Without options the archive is built here; symbolic links are followed by default, as in flytekit.
    _, url = remote.fast_package(root, output=tmp_path / "plain")
    with tarfile.open(fileobj=io.BytesIO(_stored(flyte_sandbox, url)), mode="r:*") as tar:
        shared = tar.getmember("pkg/shared.py")
        assert shared.isfile()
        handle = tar.extractfile(shared)
        assert handle is not None
        assert handle.read() == b"y = 2\n"
    _, url = remote.fast_package(root, False, tmp_path / "links")
    with tarfile.open(fileobj=io.BytesIO(_stored(flyte_sandbox, url)), mode="r:*") as tar:
        assert tar.getmember("pkg/shared.py").issym()


def _settle(entity: Any) -> None:
    """Pickle and serialize ``entity`` once: flytekit changes a task's state doing both (the notebook resolver, cached
    attributes), so only afterwards do two pickles of it have the same bytes."""
    from flytekit.remote.remote import _get_pickled_target_dict
    from flytekit.tools.translator import get_serializable

    _get_pickled_target_dict(entity)
    settings = SerializationSettings(image_config=ImageConfig.auto_default_image(), project=P, domain=D, version="x")
    get_serializable(OrderedDict(), settings, entity)


def test_interactive_mode_pickles_and_versions_as_flytekit(remote: FlyteRemote, flyte_sandbox: FlyteSandbox) -> None:
    assert remote.interactive_mode_enabled is False  # not in IPython
    interactive = FlyteRemote(flyte_sandbox.config, P, D, interactive_mode_enabled=True, client=remote.client)
    assert interactive.interactive_mode_enabled is True
    _settle(entities.interactive_wf)
    with FlyteSandbox(port=0) as other:  # flytekit registers the same ids on a sandbox of its own
        theirs = _flytekit(other, interactive=True)
        their_task = theirs.register_task(entities.interactive_triple)
        my_task = interactive.register_task(entities.interactive_triple)
        their_workflow = theirs.register_workflow(entities.interactive_wf)
        my_workflow = interactive.register_workflow(entities.interactive_wf)
        on_theirs = FlyteRemote(other.config, P, D)
        their_task_template = on_theirs.fetch_task(name=their_task.id.name, version=their_task.id.version).template
        their_workflow_template = on_theirs.fetch_workflow(
            name=their_workflow.id.name, version=their_workflow.id.version
        ).template
        their_pickle = _stored(
            other, _code_location(on_theirs.fetch_task(name=their_task.id.name, version=their_task.id.version))
        )
    # The version is flytekit's hash of the pickled code, the settings and the images; the content is the same.
    assert my_task.id == Identifier.from_flyte_idl(their_task.id.to_flyte_idl())
    assert my_workflow.id == Identifier.from_flyte_idl(their_workflow.id.to_flyte_idl())
    assert my_task.template == their_task_template
    assert my_workflow.template == their_workflow_template
    assert "default_notebook_task_resolver" in " ".join(my_task.template.container.args)
    assert _code_location(my_task).endswith("/pkl.gz")
    assert _stored(flyte_sandbox, _code_location(my_task)) == their_pickle
    # Executing needs no version: the derived one finds what is registered (registering again is not attempted,
    # as flytekit's execute looks the entity up first), and runs it.
    execution = finish(interactive.execute(entities.interactive_wf, inputs={"x": 2}))
    assert execution.is_successful
    assert execution.launched_entity_id.version == my_workflow.id.version
    assert interactive.register_task(entities.interactive_triple).id == my_task.id
    # With a version given, execute also runs what is registered under it the second time.
    for _ in range(2):
        run = finish(interactive.execute(entities.interactive_wf, inputs={"x": 1}, version="iv1"))
        assert run.is_successful


def test_without_flytekit_each_path_raises_the_flytekit_error() -> None:
    """A meta-path blocker makes flytekit unimportable in a child interpreter."""
    script = textwrap.dedent(
        """
        import sys

        class BlockFlytekit:
            def find_spec(self, name, path=None, target=None):
                if name == "flytekit" or name.startswith("flytekit."):
                    raise ImportError("flytekit is blocked")
                return None

        sys.meta_path.insert(0, BlockFlytekit())
        from airflow_provider_flyte.exceptions import FlyteInvalidInputException
        from airflow_provider_flyte.remote import FlyteRemote, registration

        remote = FlyteRemote.for_sandbox(default_project="p", default_domain="d")
        assert remote.interactive_mode_enabled is False
        calls = {
            "interactive": lambda: FlyteRemote(None, "p", "d", "flyte://b/", True),
            "for_sandbox": lambda: FlyteRemote.for_sandbox(interactive_mode_enabled=True),
            "register_script": lambda: remote.register_script(object(), source_path="."),
            "fast_register_workflow": lambda: remote.fast_register_workflow(object()),
            "fast_package": lambda: remote.fast_package(".", options=object()),
            "entity": lambda: registration.serialize_flytekit_entity(object(), "p", "d", "v"),
        }
        for label, call in calls.items():
            try:
                call()
            except FlyteInvalidInputException as error:
                print(label, "|", error)
            else:
                raise AssertionError(label + " did not fail")
        assert not any(name == "flytekit" or name.startswith("flytekit.") for name in sys.modules)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    messages = dict(line.split(" | ", 1) for line in result.stdout.strip().splitlines())
    expected_start = {
        "interactive": "interactive_mode_enabled=True needs flytekit installed",
        "for_sandbox": "interactive_mode_enabled=True needs flytekit installed",
        "register_script": "register_script needs flytekit installed",
        "fast_register_workflow": "fast_register_workflow needs flytekit installed",
        "fast_package": "fast_package(options=...) needs flytekit installed",
        "entity": "registering the flytekit entity object needs flytekit installed",
    }
    for label, start in expected_start.items():
        assert messages[label].startswith(start), messages[label]
        assert messages[label].endswith("with register_package instead"), messages[label]
