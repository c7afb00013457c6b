"""Names of Flyte's workflow execution phases, and the check of phases a DAG author names.

A leaf module (it imports only the exceptions) because operators and sensors check their phase arguments while a DAG
file is parsed, where nothing heavier should load.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from airflow_provider_flyte._lazy import LazyModule

if TYPE_CHECKING:
    from airflow_provider_flyte import exceptions
else:
    exceptions = LazyModule("airflow_provider_flyte.exceptions")  # sensors check phases when a DAG is parsed

WORKFLOW_PHASES: tuple[str, ...] = (
    *("UNDEFINED", "QUEUED", "RUNNING", "SUCCEEDING", "SUCCEEDED"),
    *("FAILING", "FAILED", "ABORTED", "TIMED_OUT", "ABORTING"),
)
"""Names of ``flyteidl.core.WorkflowExecution.Phase`` values, indexed by number."""
WORKFLOW_PHASE_NAMES = frozenset(WORKFLOW_PHASES)
"""Names of every workflow execution phase."""
TERMINAL_PHASE_NAMES = frozenset({"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"})
"""Names of the phases in which an execution is finished."""


def normalize_phases(phases: Iterable[str] | str | None, argument: str) -> list[str]:
    """Upper-cased, validated workflow phase names (``["SUCCEEDED"]`` when ``phases`` is None).

    Raises:
        FlyteInvalidInputException: naming ``argument`` and the unknown phase.
    """
    if phases is None:
        return ["SUCCEEDED"]
    if isinstance(phases, str):
        phases = [phases]
    result: list[str] = []
    for phase in phases:
        name = str(phase).strip().upper()
        if name not in WORKFLOW_PHASE_NAMES:
            known = ", ".join(sorted(WORKFLOW_PHASE_NAMES))
            raise exceptions.FlyteInvalidInputException(
                f"{argument} has unknown phase {phase!r}; known phases: {known}"
            )
        if name not in result:
            result.append(name)
    if not result:
        raise exceptions.FlyteInvalidInputException(f"{argument} is empty; give at least one phase")
    return result


__all__ = ["TERMINAL_PHASE_NAMES", "WORKFLOW_PHASES", "WORKFLOW_PHASE_NAMES", "normalize_phases"]
