"""What a Flyte 2 task does when the sandbox runs a run's root action ``a0``.

First match wins, as in the Flyte 1 sandbox (:mod:`flyte_admin_sandbox.behaviours`):

1. a behaviour set with :meth:`Flyte2Sandbox.behave <flyte_admin_sandbox.v2.server.Flyte2Sandbox.behave>` for the
   task's name: a Python function (a callable or ``"module:function"``) called with the inputs as keyword arguments,
   fixed outputs (or a function of the inputs), a failure message, a duration, or hanging until the run is aborted;
2. a built-in Python task: its template's ``custom`` names ``python_callable: "module:function"``;
3. anything else succeeds after the sandbox's ``task_delay`` with placeholder outputs derived from its interface
   (:func:`~flyte_admin_sandbox.v2.literals.placeholder`).

A ``"module:function"`` naming a ``flyte`` SDK task (an object with a ``func`` attribute) calls its Python function.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flyteidl2.task import common_pb2, task_definition_pb2
from flyteidl2.workflow import run_definition_pb2

from flyte_admin_sandbox.v2 import literals

PYTHON_CALLABLE_KEY = "python_callable"

TaskFunction = Callable[..., Any] | str
"""A callable, or ``"module:function"`` imported when the task runs."""


class TaskFailure(Exception):
    """The root action failed; carries the ``ErrorInfo`` the run records.

    Args:
        message: The error message.
        code: The error code (the exception's type name for Python errors).
        kind: User or system error.
    """

    def __init__(
        self,
        message: str,
        code: str = "ScriptedFailure",
        kind: run_definition_pb2.ErrorInfo.Kind = run_definition_pb2.ErrorInfo.KIND_USER,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.kind = kind

    @classmethod
    def of(cls, error: BaseException) -> TaskFailure:
        """The failure a Python exception raised by task code stands for."""
        if isinstance(error, TaskFailure):
            return error
        return cls(f"{type(error).__name__}: {error}", type(error).__name__)

    def to_proto(self) -> run_definition_pb2.ErrorInfo:
        """The ``ErrorInfo`` to record."""
        return run_definition_pb2.ErrorInfo(message=self.message, code=self.code, kind=self.kind)


@dataclass(frozen=True)
class Behaviour:
    """A task's behaviour in the sandbox.

    Attributes:
        function: Called with the inputs as keyword arguments; its result becomes the outputs (one value, a tuple,
            or a dict by output name); an exception fails the run with ``Type: message``.
        outputs: Fixed output values by name, or a function of the inputs returning them (as ``function`` does).
        fail: Fail every run of the task with this message.
        duration: Seconds the action runs before it finishes; ``None`` keeps the sandbox's ``task_delay``.
        hang: Never finish: the action runs until the run is aborted (or its task's timeout passes).
    """

    function: TaskFunction | None = None
    outputs: Mapping[str, Any] | Callable[..., Any] | None = None
    fail: str | None = None
    duration: float | None = None
    hang: bool = False

    def __post_init__(self) -> None:
        if self.duration is not None and self.duration < 0:
            raise ValueError(f"duration must not be negative, got {self.duration!r}")
        if self.function is not None and self.outputs is not None:
            raise ValueError("give either function or outputs, not both")
        if self.function is not None and not (callable(self.function) or isinstance(self.function, str)):
            raise TypeError(f"function must be a callable or 'module:function', got {self.function!r}")


def resolve_function(function: TaskFunction) -> Callable[..., Any]:
    """The callable ``function`` stands for (``"module:function"`` imported; a flyte task gives its ``func``).

    Raises:
        TaskFailure: when the name cannot be imported (a system error, as a missing image would be).
    """
    if callable(function):
        return function
    module_name, _, attribute = function.partition(":")
    if not module_name or not attribute:
        raise TaskFailure(f"python callable [{function}] is not of the form module:function", "BadCallable")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as error:
        raise TaskFailure(
            f"cannot import python callable [{function}]: {error}",
            "ImportError",
            run_definition_pb2.ErrorInfo.KIND_SYSTEM,
        ) from error
    inner = getattr(target, "func", None)
    if callable(inner):
        return inner  # type: ignore[no-any-return]
    if not callable(target):
        raise TaskFailure(f"python callable [{function}] is not callable", "BadCallable")
    return target  # type: ignore[no-any-return]


def builtin_callable(spec: task_definition_pb2.TaskSpec) -> str | None:
    """The ``python_callable`` a task template's ``custom`` names, if any."""
    custom = spec.task_template.custom
    if PYTHON_CALLABLE_KEY in custom.fields:
        value = custom.fields[PYTHON_CALLABLE_KEY]
        if value.WhichOneof("kind") == "string_value":
            return value.string_value
    return None


def outputs_of(behaviour: Behaviour | None, spec: task_definition_pb2.TaskSpec, inputs: Any) -> common_pb2.Outputs:
    """Run a behaviour (or the built-in callable, or nothing) and return the outputs.

    Args:
        behaviour: The behaviour set for the task, if any.
        spec: The task's spec (its interface types the outputs).
        inputs: The run's ``Inputs``.

    Raises:
        TaskFailure: when the behaviour fails or its result does not fit the interface.
    """
    interface = spec.task_template.interface
    function: TaskFunction | None = behaviour.function if behaviour else None
    if behaviour is not None and behaviour.fail is not None:
        raise TaskFailure(behaviour.fail)
    if behaviour is not None and behaviour.outputs is not None:
        if isinstance(behaviour.outputs, Mapping):
            return literals.outputs_from_values(behaviour.outputs, interface)
        function = behaviour.outputs
    if function is None:
        function = builtin_callable(spec)
    if function is None:
        return literals.placeholder_outputs(interface)
    kwargs = literals.inputs_to_kwargs(inputs)
    try:
        result = resolve_function(function)(**kwargs)
        if inspect.iscoroutine(result):  # an async function (flyte SDK tasks usually are)
            result = asyncio.run(result)
        return literals.result_to_outputs(result, interface)
    except Exception as error:
        raise TaskFailure.of(error) from error


class Behaviours:
    """The behaviours in force by task name; thread safe."""

    def __init__(self) -> None:
        self._by_task: dict[str, Behaviour] = {}
        self._lock = threading.Lock()
        self.changed = threading.Event()

    def set(self, task_name: str, behaviour: Behaviour) -> None:
        """Give a task (by name, any version) a behaviour; running actions of it follow the new one."""
        if not task_name:
            raise ValueError("task_name must not be empty")
        with self._lock:
            self._by_task[task_name] = behaviour
        self.changed.set()

    def clear(self, task_name: str | None = None) -> None:
        """Forget one task's behaviour, or all of them."""
        with self._lock:
            if task_name is None:
                self._by_task.clear()
            else:
                self._by_task.pop(task_name, None)
        self.changed.set()

    def get(self, task_name: str) -> Behaviour | None:
        """The behaviour of a task, if one was set."""
        with self._lock:
            return self._by_task.get(task_name)
