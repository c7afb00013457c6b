"""What a task does when the sandbox engine runs it.

Three sources decide, first match wins:

1. a script set through :meth:`Behaviours.script` (or :meth:`FlyteSandbox.script
   <flyte_admin_sandbox.server.FlyteSandbox.script>`): a duration, a failure, failures for the first N
   attempts, outputs from fixed values or a function of the inputs, or hanging until the run is aborted;
2. a built-in Python task, whose template's ``custom`` names ``python_callable: "module:function"``: the function is
   called with the inputs as Python values and its return value becomes the outputs, unless it returns a
   ``DynamicJobSpec`` (see :func:`~flyte_admin_sandbox.builders.dynamic_job`): then the engine runs that
   dynamic workflow and the node takes its outputs;
3. anything else (flytekit container tasks included) succeeds after the engine's default delay with deterministic
   outputs derived from the task's interface (:func:`placeholder_literal`).

Everything here is pure: the engine decides *when* to ask and records what it gets.
"""

from __future__ import annotations

import datetime
import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flyteidl.core import (
    dynamic_job_pb2,
    execution_pb2,
    identifier_pb2,
    interface_pb2,
    literals_pb2,
    tasks_pb2,
    types_pb2,
)

PYTHON_CALLABLE_KEY = "python_callable"
_EPOCH = datetime.datetime(1970, 1, 1)

OutputsSource = Callable[..., Any] | Mapping[str, Any]
"""Fixed output values by name, or a function called with the task's inputs as keyword arguments."""

TaskResult = literals_pb2.LiteralMap | dynamic_job_pb2.DynamicJobSpec
"""What a task attempt produces: its outputs, or (a dynamic task) the workflow to run in its place."""


class TaskFailure(Exception):
    """A task attempt failed; carries the Flyte error the engine records.

    Args:
        message: The error message shown on the task and node executions.
        code: The error code (``USER:<ExceptionName>`` for Python errors).
        kind: User or system error.
    """

    def __init__(
        self,
        message: str,
        code: str = "USER:Unknown",
        kind: execution_pb2.ExecutionError.ErrorKind = execution_pb2.ExecutionError.USER,
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
        return cls(f"{type(error).__name__}: {error}", f"USER:{type(error).__name__}")

    def to_proto(self) -> execution_pb2.ExecutionError:
        """The ``core.ExecutionError`` to record."""
        return execution_pb2.ExecutionError(code=self.code, message=self.message, kind=self.kind)


@dataclass(frozen=True)
class TaskScript:
    """A scripted behaviour for a task.

    Attributes:
        duration: Seconds each attempt runs before it finishes; ``None`` keeps the engine's default.
        fail: A message every attempt fails with (or only the first ``fail_attempts`` attempts, when set).
        fail_attempts: How many attempts fail before one succeeds (with ``fail`` or a default message).
        outputs: Fixed output values by name, or a function of the task's inputs (as keyword arguments) returning
            the outputs the way a Python task does (one value, a tuple, or a dict by output name), or a
            ``DynamicJobSpec`` to make the task dynamic.
        hang: Never finish: the attempt runs until the execution is aborted, the task's timeout expires or the task
            is scripted again (running attempts follow the new script).
    """

    duration: float | None = None
    fail: str | None = None
    fail_attempts: int | None = None
    outputs: OutputsSource | None = None
    hang: bool = False

    def __post_init__(self) -> None:
        if self.duration is not None and self.duration < 0:
            raise ValueError(f"duration must not be negative, got {self.duration!r}")
        if self.fail_attempts is not None and self.fail_attempts < 0:
            raise ValueError(f"fail_attempts must not be negative, got {self.fail_attempts!r}")
        if self.outputs is not None and not (callable(self.outputs) or isinstance(self.outputs, Mapping)):
            raise TypeError(f"outputs must be a mapping or a callable, got {type(self.outputs).__name__}")

    def failure_for(self, attempt: int) -> TaskFailure | None:
        """The scripted failure of an attempt (numbered from 0), or ``None`` when it is meant to succeed."""
        if self.fail_attempts is not None:
            if attempt >= self.fail_attempts:
                return None
            return TaskFailure(self.fail or f"scripted failure of attempt {attempt}", "USER:ScriptedFailure")
        if self.fail is not None:
            return TaskFailure(self.fail, "USER:ScriptedFailure")
        return None


@dataclass(frozen=True)
class _Selector:
    name: str
    version: str = ""
    project: str = ""
    domain: str = ""

    def matches(self, task_id: identifier_pb2.Identifier) -> bool:
        return (
            self.name == task_id.name
            and self.version in ("", task_id.version)
            and self.project in ("", task_id.project)
            and self.domain in ("", task_id.domain)
        )

    def specificity(self) -> int:
        return sum(1 for part in (self.version, self.project, self.domain) if part)


def _selector(task: str | identifier_pb2.Identifier) -> _Selector:
    if isinstance(task, identifier_pb2.Identifier):
        if not task.name:
            raise ValueError("a task identifier to script needs a name")
        return _Selector(task.name, task.version, task.project, task.domain)
    if not isinstance(task, str) or not task:
        raise ValueError(f"task to script must be a task name or an Identifier, got {task!r}")
    return _Selector(task)


class Behaviours:
    """Scripted task behaviours, looked up by task id; safe to change while executions run.

    Args:
        on_change: Called after every change, outside the lock, with the name of the task whose script changed
            (``None`` when every script went); the engine uses it to look again at attempts already running.
    """

    def __init__(self, on_change: Callable[[str | None], None] | None = None) -> None:
        self._scripts: dict[_Selector, TaskScript] = {}
        self._lock = threading.Lock()
        self._on_change = on_change

    def script(self, task: str | identifier_pb2.Identifier, script: TaskScript) -> None:
        """Script a task: by name (every version, project and domain) or by identifier (its non-empty fields).

        Raises:
            ValueError: for an empty name.
        """
        selector = _selector(task)
        with self._lock:
            self._scripts[selector] = script
        self._changed(selector.name)

    def unscript(self, task: str | identifier_pb2.Identifier) -> None:
        """Forget the script of a task (no error when there is none)."""
        selector = _selector(task)
        with self._lock:
            self._scripts.pop(selector, None)
        self._changed(selector.name)

    def clear(self) -> None:
        """Forget every script."""
        with self._lock:
            self._scripts.clear()
        self._changed(None)

    def _changed(self, task_name: str | None) -> None:
        if self._on_change is not None:
            self._on_change(task_name)

    def lookup(self, task_id: identifier_pb2.Identifier) -> TaskScript | None:
        """The most specific script matching a task id, or ``None``."""
        with self._lock:
            matching = [(selector, script) for selector, script in self._scripts.items() if selector.matches(task_id)]
        if not matching:
            return None
        return max(matching, key=lambda item: item[0].specificity())[1]


def python_callable_of(template: tasks_pb2.TaskTemplate) -> str | None:
    """The ``module:function`` a built-in Python task names in its ``custom`` config, if any."""
    if not template.HasField("custom"):
        return None
    field = template.custom.fields.get(PYTHON_CALLABLE_KEY)
    return field.string_value if field is not None and field.string_value else None


def placeholder_literal(literal_type: types_pb2.LiteralType, name: str, location: str) -> literals_pb2.Literal:
    """A deterministic value of a type, standing in for what a real task would produce.

    Integers are the length of ``name``, strings are ``name``, booleans true, floats ``1.0``, times the epoch,
    containers empty, blobs and datasets point under ``location``.
    """
    literal = literals_pb2.Literal()
    kind = literal_type.WhichOneof("type")
    if kind == "simple":
        primitive = literal.scalar.primitive
        simple = literal_type.simple
        if simple == types_pb2.SimpleType.INTEGER:
            primitive.integer = len(name)
        elif simple == types_pb2.SimpleType.FLOAT:
            primitive.float_value = 1.0
        elif simple == types_pb2.SimpleType.STRING:
            primitive.string_value = name
        elif simple == types_pb2.SimpleType.BOOLEAN:
            primitive.boolean = True
        elif simple == types_pb2.SimpleType.DATETIME:
            primitive.datetime.FromDatetime(_EPOCH)
        elif simple == types_pb2.SimpleType.DURATION:
            primitive.duration.FromSeconds(0)
        elif simple in (types_pb2.SimpleType.STRUCT, types_pb2.SimpleType.BINARY):
            literal.scalar.generic.SetInParent()
        else:
            literal.scalar.none_type.SetInParent()
    elif kind == "collection_type":
        literal.collection.SetInParent()
    elif kind == "map_value_type":
        literal.map.SetInParent()
    elif kind == "union_type" and literal_type.union_type.variants:
        variant = literal_type.union_type.variants[0]
        literal.scalar.union.value.CopyFrom(placeholder_literal(variant, name, location))
        literal.scalar.union.type.CopyFrom(variant)
    elif kind == "blob":
        literal.scalar.blob.metadata.type.CopyFrom(literal_type.blob)
        literal.scalar.blob.uri = f"{location}/{name}"
    elif kind == "structured_dataset_type":
        literal.scalar.structured_dataset.uri = f"{location}/{name}"
        literal.scalar.structured_dataset.metadata.structured_dataset_type.CopyFrom(
            literal_type.structured_dataset_type
        )
    elif kind == "enum_type" and literal_type.enum_type.values:
        literal.scalar.primitive.string_value = literal_type.enum_type.values[0]
    else:
        literal.scalar.none_type.SetInParent()
    return literal


def placeholder_outputs(interface: interface_pb2.TypedInterface, location: str) -> literals_pb2.LiteralMap:
    """Placeholder values for every output of an interface (see :func:`placeholder_literal`)."""
    outputs = literals_pb2.LiteralMap()
    for name, variable in interface.outputs.variables.items():
        outputs.literals[name].CopyFrom(placeholder_literal(variable.type, name, location))
    return outputs


def outputs_from_result(result: Any, interface: interface_pb2.TypedInterface) -> literals_pb2.LiteralMap:
    """Convert what a Python function returned into the task's output literals.

    One declared output takes the value itself. Several take a dict keyed by output name, or a tuple/list when they
    are named ``o0``, ``o1``... (interface maps keep no declaration order, so only those names say which is which).

    Raises:
        TaskFailure: when the shape or a value does not fit the declared outputs.
    """
    from airflow_provider_flyte.literals import to_literal

    declared = list(interface.outputs.variables.items())
    if not declared:
        return literals_pb2.LiteralMap()
    names = sorted(name for name, _ in declared)
    positional = [f"o{index}" for index in range(len(declared))]
    if isinstance(result, Mapping) and set(result) == set(names):
        produced = dict(result)
    elif len(declared) == 1:
        produced = {names[0]: result}
    elif set(names) == set(positional) and isinstance(result, (tuple, list)) and len(result) == len(declared):
        produced = dict(zip(positional, result, strict=True))
    else:
        shapes = f"a dict with keys {', '.join(names)}"
        if set(names) == set(positional):
            shapes += f" or a {len(declared)}-tuple"
        raise TaskFailure(f"TypeError: expected {shapes}, got {result!r}", "USER:TypeError")
    outputs = literals_pb2.LiteralMap()
    for name, variable in declared:
        try:
            outputs.literals[name].CopyFrom(to_literal(produced[name], variable.type, name=f"output {name!r}"))
        except Exception as error:
            raise TaskFailure.of(error) from error
    return outputs


def call_with_inputs(
    function: Callable[..., Any], template: tasks_pb2.TaskTemplate, inputs: literals_pb2.LiteralMap
) -> TaskResult:
    """Call ``function`` with the inputs as Python values and convert its result to the task's outputs.

    A ``DynamicJobSpec`` returned by the function comes back as it is: the task is dynamic.

    Raises:
        TaskFailure: whatever the function raised, or a conversion problem, as a Flyte user error.
    """
    from airflow_provider_flyte.literals import literal_map_to_python

    try:
        values = literal_map_to_python(inputs, template.interface.inputs)
        result = function(**values)
    except Exception as error:
        raise TaskFailure.of(error) from error
    if isinstance(result, dynamic_job_pb2.DynamicJobSpec):
        return result
    return outputs_from_result(result, template.interface)


def import_callable(target: str) -> Callable[..., Any]:
    """The function a ``module:function`` string names.

    Raises:
        TaskFailure: when the module or the function cannot be found.
    """
    module_name, _, function_name = target.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError, ValueError) as error:
        raise TaskFailure(
            f"cannot load the task function {target!r}: {type(error).__name__}: {error}", "SYSTEM:BadTaskSpecification"
        ) from error
    if not callable(function):
        raise TaskFailure(f"{target!r} is not callable", "SYSTEM:BadTaskSpecification")
    return function  # type: ignore[no-any-return]


def call_python_task(template: tasks_pb2.TaskTemplate, inputs: literals_pb2.LiteralMap) -> TaskResult:
    """Run a built-in Python task: call its ``module:function`` with native inputs and convert the result.

    Raises:
        TaskFailure: the function's exception (or a loading/conversion problem) as a Flyte error.
    """
    target = python_callable_of(template)
    if target is None:
        raise TaskFailure(f"task {template.id.name!r} names no {PYTHON_CALLABLE_KEY}", "SYSTEM:BadTaskSpecification")
    return call_with_inputs(import_callable(target), template, inputs)


def scripted_outputs(
    script: TaskScript, template: tasks_pb2.TaskTemplate, inputs: literals_pb2.LiteralMap
) -> TaskResult:
    """The outputs a script with ``outputs`` set produces for some inputs.

    Raises:
        TaskFailure: the function's exception or a conversion problem.
    """
    source = script.outputs
    if callable(source):
        return call_with_inputs(source, template, inputs)
    assert source is not None
    return outputs_from_result(dict(source), template.interface)


__all__ = [
    "PYTHON_CALLABLE_KEY",
    "Behaviours",
    "OutputsSource",
    "TaskFailure",
    "TaskResult",
    "TaskScript",
    "call_python_task",
    "call_with_inputs",
    "import_callable",
    "outputs_from_result",
    "placeholder_literal",
    "placeholder_outputs",
    "python_callable_of",
    "scripted_outputs",
]
