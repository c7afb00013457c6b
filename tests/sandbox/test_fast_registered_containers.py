"""Fast-registered flytekit code run by the sandbox (``run_containers=True``), next to the same code packaged plainly.

The archives are flytekit's own (``pyflyte package [--fast]`` run as a subprocess); our FlyteRemote registers them
through the data proxy and Admin (``register_package``), and the sandbox runs the tasks as flytekit's
``pyflyte-fast-execute`` / ``pyflyte-execute`` processes. The code lives only in a temporary project folder, never on
the sandbox's ``sys.path``, so the fast run can only have found it in its archive. Aborting a fast task stops the
``pyflyte-execute`` process ``pyflyte-fast-execute`` started, and closing the sandbox removes the unpacked code and
the processes' temporary files. The last tests read the runner's handling of the arguments without running anything.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox.behaviours import TaskFailure
from flyte_admin_sandbox.blobs import BlobStore
from flyte_admin_sandbox.containers import CODE_FOLDER, FAST_EXECUTE, TMP_FOLDER, ContainerRunner
from flyteidl.admin import task_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import tasks_pb2

from airflow_provider_flyte.remote import FlyteRemote, FlyteWorkflowExecution
from tests.support.flytekit_peer import finish_package, pyflyte_package, require_flytekit
from tests.support.polling import wait_until
from tests.support.sandboxes import new_sandbox

P, D = "flytesnacks", "development"
PACKAGE = "sandbox_fast_code"
WORKFLOW = f"{PACKAGE}.wf.hello"
TASK = f"{PACKAGE}.wf.greet"
INPUTS = {"name": "ada", "times": 2}
EXPECTED = {"o0": "HELLO ADA! HELLO ADA!", "o1": 21}
HANG_GUARD = 120.0  # flytekit starts in a few seconds; the limit only guards against a hang
PHASE = core_execution_pb2.WorkflowExecution

SOURCES = {
    "__init__.py": "",
    "text.py": ('def shout(name: str, times: int) -> str:\n    return " ".join([f"HELLO {name.upper()}!"] * times)\n'),
    "wf.py": (
        "import os\n"
        "import pathlib\n"
        "import time\n"
        "import typing\n\n"
        "from flytekit import task, workflow\n\n"
        f"from {PACKAGE}.text import shout\n\n\n"
        "@task\n"
        "def greet(name: str, times: int) -> typing.Tuple[str, int]:\n"
        "    text = shout(name, times)\n"
        "    return text, len(text)\n\n\n"
        "@workflow\n"
        "def hello(name: str, times: int) -> typing.Tuple[str, int]:\n"
        "    return greet(name=name, times=times)\n\n\n"
        "@task\n"
        "def linger(seconds: int) -> int:\n"
        "    # The working folder is the attempt's: say which process runs the task code, then take our time.\n"
        "    pathlib.Path('task.pid').write_text(str(os.getpid()))\n"
        "    time.sleep(seconds)\n"
        "    return seconds\n"
    ),
}


@dataclass(frozen=True)
class Packages:
    """The project folder and flytekit's two archives of it."""

    project: Path
    plain: Path
    fast: Path


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Packages:
    """``pyflyte package`` and ``pyflyte package --fast`` of a two-module project (run side by side)."""
    require_flytekit()
    root = tmp_path_factory.mktemp("fast-registration")
    project = root / "project"
    (project / PACKAGE).mkdir(parents=True)
    for name, text in SOURCES.items():
        (project / PACKAGE / name).write_text(text)
    plain, fast = root / "plain.tgz", root / "fast.tgz"
    started = [(pyflyte_package(project, PACKAGE, plain, fast=False), plain)]
    started.append((pyflyte_package(project, PACKAGE, fast, fast=True), fast))
    for process, output in started:
        finish_package(process, output)
    return Packages(project=project, plain=plain, fast=fast)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[FlyteSandbox]:
    """A sandbox running containers, its blob folder kept after close (to see what close removed)."""
    require_flytekit()
    with new_sandbox(run_containers=True, blob_dir=tmp_path / "blobs") as running:
        yield running


def _run(remote: FlyteRemote, version: str) -> FlyteWorkflowExecution:
    plan = remote.fetch_launch_plan(name=WORKFLOW, version=version)
    execution = remote.execute(plan, inputs=INPUTS)
    return execution.wait(timeout=HANG_GUARD, poll_interval=0.05)


def _task_attempt_folder(sandbox: FlyteSandbox, execution: FlyteWorkflowExecution) -> Path:
    return sandbox.engine.containers.folder(P, D, execution.id.name, "n0", 0)


def _read_first(paths: Iterable[Path]) -> str:
    """The text of the first of ``paths`` with some, else ``""``."""
    return next((text for path in paths if (text := path.read_text())), "")


def _alive(pid: int) -> bool:
    """Whether a process is still running (a zombie waiting to be reaped is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _error(execution: FlyteWorkflowExecution) -> str:
    error = execution.closure.error
    return f"{error.code}: {error.message}" if execution.closure.HasField("error") else ""


def test_fast_and_plain_packages_of_the_same_code_run_and_give_the_same_outputs(
    sandbox: FlyteSandbox, packages: Packages
) -> None:
    runner = sandbox.engine.containers
    with FlyteRemote(sandbox.config, default_project=P, default_domain=D) as remote:
        remote.register_package(packages.fast, version="fast")
        remote.register_package(packages.plain, version="plain")
        fast_task = remote.fetch_task(name=TASK, version="fast").template.container
        assert fast_task.args[0] == FAST_EXECUTE
        assert remote.fetch_task(name=TASK, version="plain").template.container.args[0] == "pyflyte-execute"

        fast = _run(remote, "fast")
        assert fast.closure.phase == PHASE.SUCCEEDED, _error(fast)
        assert fast.outputs.to_dict() == EXPECTED

        # Control: the plain package's code is not importable by the sandbox, so the fast run's came from its archive.
        missing = _run(remote, "plain")
        assert missing.closure.phase == PHASE.FAILED
        assert f"No module named '{PACKAGE}'" in _error(missing)

        runner.python_path.insert(0, str(packages.project))  # the plain package's "image" now holds the code
        plain = _run(remote, "plain")
        assert plain.closure.phase == PHASE.SUCCEEDED, _error(plain)
        assert plain.outputs.to_dict() == EXPECTED
        assert plain.outputs.literal_map == fast.outputs.literal_map

    fast_folder = _task_attempt_folder(sandbox, fast)
    unpacked = fast_folder / CODE_FOLDER
    assert (unpacked / PACKAGE / "text.py").read_text() == SOURCES["text.py"]
    assert any(path.name.startswith("flyte") for path in (fast_folder / TMP_FOLDER).iterdir())  # flytekit's TMPDIR
    plain_folder = _task_attempt_folder(sandbox, plain)
    assert not (plain_folder / CODE_FOLDER).exists()

    sandbox.close()
    for folder in (fast_folder, plain_folder):
        assert not (folder / TMP_FOLDER).exists()
        assert (folder / "outputs" / "outputs.pb").is_file()  # outputs stay: they are served from there
    assert not unpacked.exists()


def test_aborting_a_fast_task_stops_the_task_process_fast_execute_started(
    sandbox: FlyteSandbox, packages: Packages
) -> None:
    with FlyteRemote(sandbox.config, default_project=P, default_domain=D) as remote:
        remote.register_package(packages.fast, version="fast")
        task = remote.fetch_task(name=f"{PACKAGE}.wf.linger", version="fast")
        execution = remote.execute(task, inputs={"seconds": 600})
        run_folder = sandbox.engine.containers.folder(P, D, execution.id.name, "any", 0).parents[1]
        pid_text = wait_until(lambda: _read_first(run_folder.glob("*/0/task.pid")), HANG_GUARD, "the task to start")
        pid = int(pid_text)
        assert _alive(pid)
        remote.terminate(execution, cause="enough")
        wait_until(lambda: not _alive(pid), 30.0, f"the task process {pid} (a child of pyflyte-fast-execute) to end")
        execution = execution.wait(timeout=HANG_GUARD, poll_interval=0.05)
        assert execution.closure.phase == PHASE.ABORTED


def test_a_fast_task_whose_archive_was_never_uploaded_fails_naming_it(
    sandbox: FlyteSandbox, packages: Packages
) -> None:
    with tarfile.open(packages.fast) as archive:
        (member,) = [item for item in archive.getmembers() if item.name.endswith(f"{TASK}_1.pb")]
        handle = archive.extractfile(member)
        assert handle is not None
        spec = task_pb2.TaskSpec.FromString(handle.read())
    args = list(spec.template.container.args)
    absent = f"{sandbox.blobs.container}/{P}/{D}/nowhere/fast0000.tar.gz"
    args[args.index("--additional-distribution") + 1] = absent
    del spec.template.container.args[:]
    spec.template.container.args.extend(args)
    with FlyteRemote(sandbox.config, default_project=P, default_domain=D) as remote:
        remote.client.create_task(f"tsk:{P}:{D}:{TASK}:absent", spec)
        execution = remote.execute(remote.fetch_task(name=TASK, version="absent"), inputs=INPUTS)
        execution = execution.wait(timeout=HANG_GUARD, poll_interval=0.05)
    assert execution.closure.phase == PHASE.FAILED
    assert execution.closure.error.code == "USER:DistributionNotFound"
    assert f"--additional-distribution={absent!r}" in execution.closure.error.message


# The runner's reading of fast-registration arguments, without running anything ------------------------------------


def _fast_template(*own: str) -> tasks_pb2.TaskTemplate:
    template = tasks_pb2.TaskTemplate()
    template.container.args.extend([FAST_EXECUTE, *own, "--", "pyflyte-execute", "--inputs", "{{.input}}"])
    return template


def test_the_archive_and_dest_dir_become_files_of_the_attempt(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    uri = blobs.put(f"{P}/{D}/ABC/fast1.tar.gz", b"archive")
    runner = ContainerRunner(blobs, python_path=[])
    folder = runner.folder(P, D, "run", "n0", 0)
    command = runner.command(_fast_template("--additional-distribution", uri, "--dest-dir", "/root"), folder)
    own = command[3 : command.index("--")]  # after: <python> -c <flytekit's fast_execute_task_cmd>
    assert own == [
        "--additional-distribution",
        str(blobs.path(f"{P}/{D}/ABC/fast1.tar.gz")),
        "--dest-dir",
        str(folder / CODE_FOLDER),
    ]
    assert command[command.index("--") + 1 :] == ["pyflyte-execute", "--inputs", str(folder / "inputs.pb")]
    # Without --dest-dir flytekit would unpack into the working folder: the attempt's code folder is named instead.
    command = runner.command(_fast_template("--additional-distribution", uri), folder)
    assert command[command.index("--dest-dir") + 1] == str(folder / CODE_FOLDER)
    environment = runner.environment(_fast_template(), (P, D, "run"), "n0", 0)
    assert environment["PYTHONPATH"].split(os.pathsep)[0] == str(folder / CODE_FOLDER)
    assert environment["TMPDIR"] == str(folder / TMP_FOLDER)


def test_a_dynamic_child_may_name_the_archive_by_its_file_in_the_blob_folder(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    blobs.put(f"{P}/{D}/ABC/fast1.tar.gz", b"archive")
    runner = ContainerRunner(blobs, python_path=[])
    local = blobs.path(f"{P}/{D}/ABC/fast1.tar.gz")
    assert runner.distribution_path(str(local)) == local


@pytest.mark.parametrize(
    "location",
    [
        "s3://my-s3-bucket/flytesnacks/development/ABC/never-uploaded.tar.gz",
        "s3://another-bucket/fast1.tar.gz",
        "{{ .remote_package_path }}",
        "/etc/hostname",
    ],
)
def test_an_archive_outside_the_blob_store_is_a_task_failure_naming_it(tmp_path: Path, location: str) -> None:
    runner = ContainerRunner(BlobStore(tmp_path / "blobs"), python_path=[])
    with pytest.raises(TaskFailure) as raised:
        runner.distribution_path(location)
    assert raised.value.code == "USER:DistributionNotFound"
    assert f"--additional-distribution={location!r}" in raised.value.message
