"""flytekit container tasks as local processes: the container's own ``pyflyte-execute`` command, without the container.

A flytekit Python task registers as a container task whose arguments are ``pyflyte-execute --inputs {{.input}}
--output-prefix {{.outputPrefix}} ... -- task-module <module> task-name <name>`` (``pyflyte-fast-execute
--additional-distribution <archive> --dest-dir . -- pyflyte-execute ...`` after fast registration). The runner fills
those templates with folders under the sandbox's blob folder, writes the inputs as ``inputs.pb``, runs the command
with this interpreter (so the task's module must be importable here, as it would be in the task's image, or come
from the fast-registration archive), and reads back ``outputs.pb``, flytekit's ``error.pb``, or the ``futures.pb``
(a ``DynamicJobSpec``) a ``@dynamic`` task writes instead of outputs.

It needs flytekit installed next to the sandbox; the provider itself never imports flytekit.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from flyteidl.core import dynamic_job_pb2, errors_pb2, execution_pb2, literals_pb2, tasks_pb2

from flyte_admin_sandbox.behaviours import TaskFailure, TaskResult
from flyte_admin_sandbox.blobs import BlobStore

FLYTEKIT_COMMANDS = {
    "pyflyte-execute": "execute_task_cmd",
    "pyflyte-fast-execute": "fast_execute_task_cmd",
}
_STDERR_TAIL = 2000
_POLL_SECONDS = 0.05


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

    def folder(self, project: str, domain: str, execution: str, node: str, attempt: int) -> Path:
        """The work folder of one attempt."""
        return self.blobs.root / "containers" / project / domain / execution / node / str(attempt)

    def command(self, template: tasks_pb2.TaskTemplate, folder: Path) -> list[str]:
        """The container's arguments with Flyte's templates filled in for a local run.

        Raises:
            TaskFailure: when the task is not started by a flytekit entrypoint.
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
        for index, arg in enumerate(filled[:-1]):
            if arg == "--additional-distribution":
                # The archive was uploaded through the data proxy into the blob store: read it from its file.
                key = self.blobs.key_of(filled[index + 1])
                if key is not None:
                    filled[index + 1] = str(self.blobs.root.joinpath(*key.split("/")))
            elif arg == "--dest-dir":
                filled[index + 1] = str(folder / "code")
        entrypoint = FLYTEKIT_COMMANDS[filled[0]]
        return [sys.executable, "-c", f"from flytekit.bin.entrypoint import {entrypoint}; {entrypoint}()", *filled[1:]]

    def environment(
        self, template: tasks_pb2.TaskTemplate, execution: tuple[str, str, str], node: str, attempt: int
    ) -> dict[str, str]:
        """The child's environment: ours, the container's ``env``, the ids flytekit reads and a usable PATH."""
        project, domain, name = execution
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
                "PYTHONPATH": os.pathsep.join(self.python_path),
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
            TaskFailure: flytekit's error document, a non-zero exit, or a cancellation.
        """
        folder = self.folder(*execution, node, attempt)
        (folder / "outputs").mkdir(parents=True, exist_ok=True)
        (folder / "inputs.pb").write_bytes(inputs.SerializeToString(deterministic=True))
        stderr_path = folder / "stderr.txt"
        with stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                self.command(template, folder),
                cwd=folder,
                env=self.environment(template, execution, node, attempt),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
            while process.poll() is None:
                if cancel.wait(_POLL_SECONDS):
                    process.kill()
                    process.wait()
                    raise TaskFailure(
                        "the task's process was stopped", "SYSTEM:Aborted", execution_pb2.ExecutionError.SYSTEM
                    )
        return self._result(folder, process.returncode, stderr_path)

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


__all__ = ["FLYTEKIT_COMMANDS", "ContainerRunner", "flytekit_available", "runs_flytekit_command"]
