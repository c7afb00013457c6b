"""flytekit container tasks as local processes: the container's own ``pyflyte-execute`` command, without the container.

A flytekit Python task registers as a container task whose arguments are ``pyflyte-execute --inputs {{.input}}
--output-prefix {{.outputPrefix}} ... -- task-module <module> task-name <name>`` (``pyflyte-fast-execute
--additional-distribution <archive> --dest-dir . -- pyflyte-execute ...`` after fast registration). The runner fills
those templates with folders under the sandbox's blob folder, writes the inputs as ``inputs.pb``, runs the command
with this interpreter (so the task's module must be importable here, as it would be in the task's image, or come
from the fast-registration archive), and reads back ``outputs.pb``, flytekit's ``error.pb``, or the ``futures.pb``
(a ``DynamicJobSpec``) a ``@dynamic`` task writes instead of outputs.

Each attempt has a work folder (:meth:`ContainerRunner.folder`) holding ``inputs.pb``, ``outputs/`` (the output
prefix: outputs, error document, futures, and the ``deck.html`` of a task with ``enable_deck=True``) and
``stderr.txt``, plus two scratch folders made fresh for the attempt: ``tmp/`` (the process's ``TMPDIR``, where
flytekit keeps its local sandbox) and, for fast-registered code, ``code/`` (the ``--dest-dir`` the archive is
unpacked into, first on the ``PYTHONPATH`` as the unpacked code replaces the image's in a real pod). The archive
itself is read from the blob store, where the data proxy put it. :meth:`ContainerRunner.close` (called when the
sandbox closes) stops the processes still running and removes the scratch folders; the rest of the work folder
stays, since outputs and decks are served from it.

It needs flytekit installed next to the sandbox; the provider itself never imports flytekit.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from flyteidl.core import dynamic_job_pb2, errors_pb2, execution_pb2, literals_pb2, tasks_pb2

from flyte_admin_sandbox.behaviours import TaskFailure, TaskResult
from flyte_admin_sandbox.blobs import BlobStore

FAST_EXECUTE = "pyflyte-fast-execute"
FLYTEKIT_COMMANDS = {
    "pyflyte-execute": "execute_task_cmd",
    FAST_EXECUTE: "fast_execute_task_cmd",
}
DECK_FILE = "deck.html"
"""What flytekit writes under the output prefix of a task with ``enable_deck=True``."""
CODE_FOLDER = "code"
"""The attempt's scratch folder fast-registered code is unpacked into (``--dest-dir``)."""
TMP_FOLDER = "tmp"
"""The attempt's scratch folder used as the process's ``TMPDIR``."""
_DISTRIBUTION = "--additional-distribution"
_DEST_DIR = "--dest-dir"
_STDERR_TAIL = 2000
_POLL_SECONDS = 0.05
_GRACE_SECONDS = 1.0
"""How long a stopped task's processes have between ``SIGTERM`` and ``SIGKILL``."""


def flytekit_available() -> bool:
    """Whether flytekit's task entrypoint can be imported by a child process of this interpreter."""
    try:
        return importlib.util.find_spec("flytekit.bin.entrypoint") is not None
    except ModuleNotFoundError:
        return False


def runs_flytekit_command(template: tasks_pb2.TaskTemplate) -> bool:
    """Whether a task is a container task started by flytekit's entrypoint."""
    return (
        template.HasField("container")
        and bool(template.container.args)
        and (template.container.args[0] in FLYTEKIT_COMMANDS)
    )


class ContainerRunner:
    """Runs flytekit container tasks as child processes of the sandbox.

    Args:
        blobs: The sandbox's blob store: work folders live under it, and fast-registration archives are read from
            it.
        python_path: Folders put on the child's ``PYTHONPATH`` (by default this process's ``sys.path``, so task
            modules importable here are importable there).
    """

    def __init__(self, blobs: BlobStore, python_path: Sequence[str] | None = None) -> None:
        self.blobs = blobs
        self.python_path = (
            list(python_path) if python_path is not None else [entry or os.getcwd() for entry in sys.path]
        )
        self._lock = threading.Lock()
        self._scratch: set[Path] = set()
        self._processes: set[subprocess.Popen[bytes]] = set()

    def folder(self, project: str, domain: str, execution: str, node: str, attempt: int) -> Path:
        """The work folder of one attempt."""
        return self.blobs.root / "containers" / project / domain / execution / node / str(attempt)

    def command(self, template: tasks_pb2.TaskTemplate, folder: Path) -> list[str]:
        """The container's arguments with Flyte's templates filled in for a local run.

        Raises:
            TaskFailure: when the task is not started by a flytekit entrypoint, or names a code archive the
                sandbox does not hold.
        """
        args = list(template.container.args)
        if not args or args[0] not in FLYTEKIT_COMMANDS:
            raise TaskFailure(
                f"task {template.id.name!r} is not run by pyflyte-execute; the sandbox runs only flytekit containers",
                "SYSTEM:Unsupported",
                execution_pb2.ExecutionError.SYSTEM,
            )
        replacements = {
            "{{.input}}": str(folder / "inputs.pb"),
            "{{.inputPrefix}}": str(folder),
            "{{.outputPrefix}}": str(folder / "outputs"),
            "{{.rawOutputDataPrefix}}": str(folder / "raw"),
            "{{.checkpointOutputPrefix}}": str(folder / "checkpoint"),
            "{{.prevCheckpointPrefix}}": "",
        }
        filled = []
        for arg in args:
            for placeholder, value in replacements.items():
                arg = arg.replace(placeholder, value)
            filled.append(arg)
        if filled[0] == FAST_EXECUTE:
            filled = self._fast_arguments(filled, folder)
        entrypoint = FLYTEKIT_COMMANDS[filled[0]]
        return [sys.executable, "-c", f"from flytekit.bin.entrypoint import {entrypoint}; {entrypoint}()", *filled[1:]]

    def _fast_arguments(self, args: list[str], folder: Path) -> list[str]:
        """``pyflyte-fast-execute``'s own options pointed at local paths.

        ``--additional-distribution`` becomes the archive's file in the blob store and ``--dest-dir`` the attempt's
        ``code/`` folder (added when missing); the task command after ``--`` is left as it is.
        """
        split = args.index("--") if "--" in args else len(args)
        own, task_command = args[:split], args[split:]
        dest = str(folder / CODE_FOLDER)
        if _DEST_DIR not in own[:-1]:
            own = [*own, _DEST_DIR, dest]
        for index, arg in enumerate(own[:-1]):
            if arg == _DISTRIBUTION:
                own[index + 1] = str(self.distribution_path(own[index + 1]))
            elif arg == _DEST_DIR:
                own[index + 1] = dest
        return own + task_command

    def distribution_path(self, location: str) -> Path:
        """The local file of a fast-registration archive.

        Args:
            location: The ``--additional-distribution`` of a task: a URI of the sandbox's container (where the data
                proxy put the upload), or the local file a ``@dynamic`` parent passed on to its children.

        Raises:
            TaskFailure: when the archive is not an object of the sandbox's blob store.
        """
        key = self.blobs.key_of(location)
        if key is not None:
            path = self.blobs.materialize(key)
            if path is not None:
                return path
            raise TaskFailure(
                f"{_DISTRIBUTION}={location!r}: no such object in the sandbox's blob store; upload the code archive "
                "first (fast registration does)",
                "USER:DistributionNotFound",
            )
        local = Path(location)
        root = self.blobs.root.resolve()
        if local.is_absolute() and local.resolve().is_relative_to(root) and local.is_file():
            return local
        raise TaskFailure(
            f"{_DISTRIBUTION}={location!r} is not an object of the sandbox's blob store ({self.blobs.container}/...)",
            "USER:DistributionNotFound",
        )

    def environment(
        self, template: tasks_pb2.TaskTemplate, execution: tuple[str, str, str], node: str, attempt: int
    ) -> dict[str, str]:
        """The child's environment: ours, the container's ``env``, the ids flytekit reads and a usable PATH.

        ``TMPDIR`` is the attempt's ``tmp/`` folder; fast-registered code (its ``code/`` folder) comes first on the
        ``PYTHONPATH``, ahead of what this interpreter can import, as it replaces the image's code in a real pod.
        """
        project, domain, name = execution
        folder = self.folder(project, domain, name, node, attempt)
        python_path = list(self.python_path)
        if _is_fast(template):
            python_path.insert(0, str(folder / CODE_FOLDER))
        environment = dict(os.environ)
        environment.update({pair.key: pair.value for pair in template.container.env})
        environment.update(
            {
                "FLYTE_INTERNAL_EXECUTION_PROJECT": project,
                "FLYTE_INTERNAL_EXECUTION_DOMAIN": domain,
                "FLYTE_INTERNAL_EXECUTION_ID": name,
                "FLYTE_INTERNAL_TASK_PROJECT": template.id.project,
                "FLYTE_INTERNAL_TASK_DOMAIN": template.id.domain,
                "FLYTE_INTERNAL_TASK_NAME": template.id.name,
                "FLYTE_INTERNAL_TASK_VERSION": template.id.version,
                "FLYTE_ATTEMPT_NUMBER": str(attempt),
                "FLYTE_INTERNAL_NODE_ID": node,
                "PYTHONPATH": os.pathsep.join(python_path),
                "TMPDIR": str(folder / TMP_FOLDER),
                # pyflyte-fast-execute starts pyflyte-execute by name: find it next to this interpreter.
                "PATH": os.pathsep.join([str(Path(sys.executable).parent), environment.get("PATH", "")]),
            }
        )
        return environment

    def run(
        self,
        template: tasks_pb2.TaskTemplate,
        inputs: literals_pb2.LiteralMap,
        execution: tuple[str, str, str],
        node: str,
        attempt: int,
        cancel: threading.Event,
    ) -> TaskResult:
        """Run one attempt and return its outputs (or the dynamic workflow a ``@dynamic`` task produced).

        Args:
            template: The task.
            inputs: Its inputs.
            execution: ``(project, domain, name)`` of the execution.
            node: The node's unique id.
            attempt: The retry attempt.
            cancel: Set to stop the process (abort, timeout).

        Raises:
            TaskFailure: flytekit's error document, a non-zero exit, a missing code archive or a cancellation.
        """
        folder = self.folder(*execution, node, attempt)
        command = self.command(template, folder)
        self._prepare(folder, fast=_is_fast(template))
        (folder / "inputs.pb").write_bytes(inputs.SerializeToString(deterministic=True))
        stderr_path = folder / "stderr.txt"
        with stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                command,
                cwd=folder,
                env=self.environment(template, execution, node, attempt),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,  # a group of its own: stopping it stops what it started too
            )
            with self._lock:
                self._processes.add(process)
            try:
                _wait_for(process, cancel)
            finally:
                with self._lock:
                    self._processes.discard(process)
        return self._result(folder, process.returncode, stderr_path)

    def _prepare(self, folder: Path, *, fast: bool) -> None:
        """Empty ``outputs/`` and scratch folders for an attempt (a rerun after a restart starts clean).

        The scratch folders (``tmp/``, and ``code/`` for fast-registered code) are noted for :meth:`close`.
        """
        names = (TMP_FOLDER, CODE_FOLDER) if fast else (TMP_FOLDER,)
        for name in ("outputs", *names):
            shutil.rmtree(folder / name, ignore_errors=True)
            (folder / name).mkdir(parents=True)
        with self._lock:
            self._scratch.update(folder / name for name in names)

    def deck_uri(self, execution: tuple[str, str, str], node: str, attempt: int) -> str:
        """The URI of the deck an attempt wrote under its output prefix, or ``""``.

        As propeller does, only an attempt that produced outputs has a deck: a ``@dynamic`` attempt (``futures.pb``)
        reports none.

        Args:
            execution: ``(project, domain, name)`` of the execution.
            node: The node's unique id.
            attempt: The retry attempt.
        """
        outputs = self.folder(*execution, node, attempt) / "outputs"
        deck = outputs / DECK_FILE
        if not deck.is_file() or (outputs / "futures.pb").is_file():
            return ""
        return self.blobs.uri(deck.relative_to(self.blobs.root).as_posix())

    def close(self) -> None:
        """Stop the task processes still running and remove the attempts' scratch folders (``code/``, ``tmp/``)."""
        with self._lock:
            processes = list(self._processes)
            scratch = sorted(self._scratch)
            self._scratch.clear()
        for process in processes:
            _kill(process)
        for folder in scratch:
            shutil.rmtree(folder, ignore_errors=True)

    @staticmethod
    def _result(folder: Path, returncode: int, stderr_path: Path) -> TaskResult:
        error_file = folder / "outputs" / "error.pb"
        if error_file.is_file():
            document = errors_pb2.ErrorDocument.FromString(error_file.read_bytes())
            error = document.error
            kind = (
                execution_pb2.ExecutionError.SYSTEM
                if error.origin == execution_pb2.ExecutionError.SYSTEM
                else execution_pb2.ExecutionError.USER
            )
            raise TaskFailure(error.message, error.code or "USER:Unknown", kind)
        futures_file = folder / "outputs" / "futures.pb"
        if returncode == 0 and futures_file.is_file():
            return dynamic_job_pb2.DynamicJobSpec.FromString(futures_file.read_bytes())
        outputs_file = folder / "outputs" / "outputs.pb"
        if returncode == 0 and outputs_file.is_file():
            return literals_pb2.LiteralMap.FromString(outputs_file.read_bytes())
        if returncode == 0:
            return literals_pb2.LiteralMap()
        tail = stderr_path.read_text(errors="replace")[-_STDERR_TAIL:].strip()
        raise TaskFailure(
            f"the task's process exited with code {returncode}: {tail}",
            "SYSTEM:ProcessFailed",
            execution_pb2.ExecutionError.SYSTEM,
        )


def _is_fast(template: tasks_pb2.TaskTemplate) -> bool:
    """Whether a task runs fast-registered code (``pyflyte-fast-execute``)."""
    return bool(template.container.args) and template.container.args[0] == FAST_EXECUTE


def _wait_for(process: subprocess.Popen[bytes], cancel: threading.Event) -> None:
    """Wait for a task's process to end; kill it when ``cancel`` is set.

    Raises:
        TaskFailure: when the process was stopped.
    """
    while process.poll() is None:
        if cancel.wait(_POLL_SECONDS):
            _kill(process)
            raise TaskFailure("the task's process was stopped", "SYSTEM:Aborted", execution_pb2.ExecutionError.SYSTEM)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Stop a task's process and the processes it started as the kubelet stops a pod, and reap it.

    ``pyflyte-fast-execute`` runs the task in a ``pyflyte-execute`` child of its own: stopping only the parent would
    leave the task running. The process leads its own session (hence group): the group gets ``SIGTERM`` (which
    flytekit passes on to its child and waits for), then ``SIGKILL`` for whatever is left after a grace period.
    """
    if os.name != "posix":
        process.kill()
        process.wait()
        return
    _signal_group(process, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=_GRACE_SECONDS)
    _signal_group(process, signal.SIGKILL)
    process.kill()  # does nothing once the process is reaped
    process.wait()


def _signal_group(process: subprocess.Popen[bytes], number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, number)


__all__ = [
    "CODE_FOLDER",
    "DECK_FILE",
    "FAST_EXECUTE",
    "FLYTEKIT_COMMANDS",
    "TMP_FOLDER",
    "ContainerRunner",
    "flytekit_available",
    "runs_flytekit_command",
]
