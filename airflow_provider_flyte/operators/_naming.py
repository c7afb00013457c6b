"""Deterministic execution names: one task instance, one line of executions, never two runs of one generation.

A task instance (``dag_id``, ``run_id``, ``task_id``, ``map_index``) owns a line of execution names::

    af-<task slug>-<hash>        generation 1: what the first launch of the task instance creates
    af-<task slug>-<hash>-r2     generation 2: created only after generation 1 ended without success
    af-<task slug>-<hash>-r3     ...

The generation, not the Airflow try number, picks the name. A try that finds no execution launches generation 1, so
a create of an earlier try that lands late (a slow Admin, a worker that died mid-call) is found and adopted instead of
becoming a second run. A new generation is launched only when the latest one ended and ``on_retry`` asks for a new
run; two tries racing to do so name the same successor, and Admin's ALREADY_EXISTS makes one of them adopt the other's.

Nothing here imports Airflow, grpc or flyteidl.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from airflow_provider_flyte.exceptions import FlyteEntityNotExistException
from airflow_provider_flyte.identifiers import EXECUTION_NAME_MAX, validate_execution_name

T = TypeVar("T")

STATE_STORE_KEY = "flyte_execution_name"
"""``task_state_store`` key holding the name of the execution the task is following (Airflow 3.3+); it is also the
external id of Airflow's durable-execution contract."""
RUN_NAME_MAX = 30
"""Longest Flyte 2 run name (``flyteidl2.common.RunIdentifier.name``)."""
NAME_MAX = EXECUTION_NAME_MAX
"""Longest execution name (Flyte Admin's rule, kept in :mod:`airflow_provider_flyte.identifiers`)."""
_GENERATION_SUFFIX = re.compile(r"-r([0-9]+)$")
MAX_GENERATIONS = 1000
"""Probing for the latest generation stops here, whatever the server answers."""


def execution_name_for(dag_id: str, run_id: str, task_id: str, map_index: int = -1, generation: int = 1) -> str:
    """The deterministic execution name of one task instance's ``generation``.

    Generation 1 is ``af-<task slug>-<hash>``; later generations append ``-r<generation>``. The hash covers
    ``(dag_id, run_id, task_id, map_index)``, so mapped instances and runs never collide. The result follows
    Flyte Admin's rule (``^[a-z][a-z0-9-]*$``, at most 63 characters).
    """
    key = "\x1f".join((dag_id, run_id, task_id, str(map_index))).encode()
    digest = hashlib.sha256(key).hexdigest()[:20]
    slug = re.sub(r"[^a-z0-9]+", "-", task_id.lower()).strip("-")[:28].rstrip("-")
    base = f"af-{slug}-{digest}" if slug else f"af-{digest}"
    return retry_name(base, generation)


def retry_name(base: str, generation: int, limit: int = NAME_MAX) -> str:
    """``base`` for generation 1, else ``base`` (shortened to fit ``limit`` if needed) with ``-r<generation>``."""
    if generation <= 1:
        return base
    suffix = f"-r{generation}"
    return base[: limit - len(suffix)].rstrip("-") + suffix


def generation_of(name: str, base: str, limit: int = NAME_MAX) -> int | None:
    """The generation ``name`` has in the line of ``base``, or ``None`` when it is not of that line."""
    if name == base:
        return 1
    match = _GENERATION_SUFFIX.search(name)
    if match is None:
        return None
    generation = int(match.group(1))
    return generation if generation >= 2 and retry_name(base, generation, limit) == name else None


def latest_generation(
    fetch: Callable[[str], T], base: str, known: str | None = None, limit: int = NAME_MAX
) -> tuple[T, int] | None:
    """The newest existing execution of the line of ``base`` and its generation, or ``None`` when there is none.

    Args:
        fetch: Fetches an execution by name; raises ``FlyteEntityNotExistException`` when there is none.
        base: The generation-1 name.
        known: A name of the line known to exist (kept in Airflow's ``task_state_store``): probing starts there.
        limit: The longest name of the line (Flyte 2 run names: :data:`RUN_NAME_MAX`).
    """
    start = generation_of(known, base, limit) if known else None
    found: tuple[T, int] | None = None
    generation = start or 1
    while generation <= MAX_GENERATIONS:
        try:
            found = (fetch(retry_name(base, generation, limit)), generation)
        except FlyteEntityNotExistException:
            if found is None and generation != 1:
                generation = 1  # the stored name is gone (deleted or another line): look from the start
                continue
            return found
        generation += 1
    return found


def run_name_for(dag_id: str, run_id: str, task_id: str, map_index: int = -1, generation: int = 1) -> str:
    """The deterministic Flyte 2 run name of one task instance's ``generation`` (at most :data:`RUN_NAME_MAX`).

    Derived as :func:`execution_name_for` (the same key, so mapped instances and DAG runs never collide), shortened
    to Flyte 2's limit: ``af-<task slug, 10>-<hash, 14>``, later generations ``...-r<generation>``.
    """
    key = "\x1f".join((dag_id, run_id, task_id, str(map_index))).encode()
    digest = hashlib.sha256(key).hexdigest()[:14]
    slug = re.sub(r"[^a-z0-9]+", "-", task_id.lower()).strip("-")[:10].rstrip("-")
    base = f"af-{slug}-{digest}" if slug else f"af-{digest}"
    return retry_name(base, generation, RUN_NAME_MAX)


def base_run_name(context: Mapping[str, Any], run_name: str | None = None) -> str:
    """The generation-1 Flyte 2 run name of the task instance running in ``context`` (or ``run_name``, checked).

    Raises:
        FlyteInvalidInputException: when ``run_name`` is not a valid Flyte 2 run name (at most 30 characters).
    """
    if run_name:
        from airflow_provider_flyte.clients.v2 import check_run_name

        return check_run_name(run_name)
    ti = context["ti"]
    map_index = getattr(ti, "map_index", -1)
    return run_name_for(ti.dag_id, ti.run_id, ti.task_id, -1 if map_index is None else int(map_index))


def base_execution_name(context: Mapping[str, Any], execution_name: str | None = None) -> str:
    """The generation-1 name of the task instance running in ``context``.

    Args:
        context: The task's Airflow context (its ``ti`` gives the DAG id, run id, task id and map index).
        execution_name: The name the DAG author chose, if any: validated and used as is.

    Raises:
        FlyteInvalidInputException: when ``execution_name`` is not a valid execution name.
    """
    if execution_name:
        return validate_execution_name(execution_name)
    ti = context["ti"]
    map_index = getattr(ti, "map_index", -1)
    return execution_name_for(ti.dag_id, ti.run_id, ti.task_id, -1 if map_index is None else int(map_index))


def stored_name(context: Mapping[str, Any]) -> str | None:
    """The execution name kept in the task's ``task_state_store`` (Airflow 3.3+), if any."""
    store = _state_store(context)
    value = None if store is None else store.get(STATE_STORE_KEY, None)
    return value if isinstance(value, str) and value else None


def store_name(context: Mapping[str, Any], name: str) -> None:
    """Keep ``name`` in the task's ``task_state_store`` (Airflow 3.3+; older Airflow relies on the names alone)."""
    store = _state_store(context)
    if store is not None:
        store.set(STATE_STORE_KEY, name)


def _state_store(context: Mapping[str, Any]) -> Any:
    try:
        return context.get("task_state_store")
    except Exception:  # the context of Airflow < 3.3 may refuse unknown keys
        return None


__all__ = [
    "MAX_GENERATIONS",
    "NAME_MAX",
    "RUN_NAME_MAX",
    "STATE_STORE_KEY",
    "base_execution_name",
    "base_run_name",
    "execution_name_for",
    "generation_of",
    "latest_generation",
    "retry_name",
    "run_name_for",
    "store_name",
    "stored_name",
    "validate_execution_name",
]
