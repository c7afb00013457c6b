"""What the 0.0.5 compatibility classes share: the deprecation warning, the typed argument error, the argument check.

Importing this module loads no grpc, protobuf or flyteidl module, nor Airflow (the warning class is imported when a
warning is emitted, the Airflow base classes are passed in by the callers).
"""

from __future__ import annotations

import difflib
import functools
import inspect
import warnings
from collections.abc import Collection, Mapping
from typing import Any

from airflow_provider_flyte.exceptions import FlyteInvalidInputException

MIGRATION_GUIDE = "docs/migration.md of airflow-provider-flyte"
"""Where the upgrade from 0.0.5 is described; every warning and error of this package points there."""

SECRET_SHOWN = "***"
"""What messages show instead of a value that may be a secret."""


class LegacyParameterError(FlyteInvalidInputException, TypeError):
    """A 0.0.5-style argument that the compatibility classes cannot honour, with what to write instead.

    It is a :class:`~airflow_provider_flyte.exceptions.FlyteInvalidInputException`, like the argument errors of the
    new classes, and a ``TypeError``, like the error Python and Airflow raise for an unexpected keyword argument.

    Attributes:
        owner: The class (and task) that refused the argument, e.g. ``FlyteOperator(task_id='run')``.
        argument: The argument at fault, e.g. ``notifications[0].phases`` or ``wait_for_completion``.
        value: Its value as given (``'***'`` where it may be a secret).
        fix: What to do instead.
    """

    def __init__(self, owner: str, argument: str, value: Any, problem: str, fix: str) -> None:
        self.owner = owner
        self.argument = argument
        self.value = value
        self.fix = fix
        super().__init__(f"{owner}: {argument}={value!r} {problem}; {fix} (see {MIGRATION_GUIDE})")


def warn_deprecated(old: str, new_import: str, note: str = "", stacklevel: int = 2) -> None:
    """Emit Airflow's provider deprecation warning for a 0.0.5 name, naming the import that replaces it.

    Args:
        old: The 0.0.5 name, e.g. ``flyte_provider.operators.flyte.FlyteOperator``.
        new_import: The import statement of the replacement.
        note: What changes when switching, appended to the message (``", which ..."``).
        stacklevel: Frames above the caller of this function to attribute the warning to (``2`` = the caller's
            caller).
    """
    from airflow.exceptions import AirflowProviderDeprecationWarning

    message = f"{old} is deprecated (the 0.0.5 API, kept so that upgraded DAGs still import): use `{new_import}`"
    warnings.warn(
        f"{message}{note} (see {MIGRATION_GUIDE})", AirflowProviderDeprecationWarning, stacklevel=stacklevel + 1
    )


@functools.cache
def init_parameters(cls: type) -> frozenset[str]:
    """Names of the keyword arguments the ``__init__`` methods along ``cls``'s MRO declare (``**kwargs`` aside)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            parameters = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):  # a builtin __init__ (object's) declares nothing usable
            continue
        names.update(
            parameter.name
            for parameter in parameters
            if parameter.name != "self" and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        )
    return frozenset(names)


def check_passthrough_kwargs(
    owner: str,
    kwargs: Mapping[str, Any],
    *,
    airflow_base: type,
    legacy: Collection[str],
    new_class: type,
    new_import: str,
) -> None:
    """Check that ``kwargs`` (what a compatibility class passes on) holds only arguments of Airflow's base class.

    Args:
        owner: The refusing class and task, for the message.
        kwargs: The keyword arguments left after the compatibility class took its own (0.0.5) ones.
        airflow_base: ``BaseOperator`` or ``BaseSensorOperator``: what may pass through.
        legacy: The 0.0.5 argument names the compatibility class takes itself (for suggestions).
        new_class: The class the compatibility class stands in for; its own arguments are refused with a pointer
            to it.
        new_import: The import statement of ``new_class``.

    Raises:
        LegacyParameterError: naming the first argument that is neither Airflow's nor 0.0.5's.
    """
    allowed = init_parameters(airflow_base)
    new_only = init_parameters(new_class) - allowed - set(legacy)
    for name, value in kwargs.items():
        if name in allowed or name.startswith("_airflow"):  # Airflow's own markers (mapped-task validation)
            continue
        if name in new_only:
            raise LegacyParameterError(
                owner,
                name,
                value,
                f"is an argument of the new {new_class.__name__}, which the 0.0.5 class kept here does not take",
                f"switch to `{new_import}` to use it (it returns a dict, not the execution name)",
            )
        close = difflib.get_close_matches(name, sorted({*legacy, *allowed}), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "remove it"
        raise LegacyParameterError(owner, name, value, "is not an argument of the 0.0.5 class", hint)


__all__ = [
    "MIGRATION_GUIDE",
    "SECRET_SHOWN",
    "LegacyParameterError",
    "check_passthrough_kwargs",
    "init_parameters",
    "warn_deprecated",
]
