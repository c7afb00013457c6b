"""The remote layer: :class:`FlyteRemote` and the objects it returns.

Names load lazily (PEP 562), so ``import airflow_provider_flyte.remote`` costs almost nothing; protobuf and
``flyteidl`` are imported when a remote, entity or execution is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_flyte._lazy import lazy_exports

if TYPE_CHECKING:
    from airflow_provider_flyte.remote.backfill import BackfillPlan, WorkflowFailurePolicy
    from airflow_provider_flyte.remote.entities import FlyteLaunchPlan, FlyteTask, FlyteWorkflow
    from airflow_provider_flyte.remote.executions import (
        FlyteNodeExecution,
        FlyteTaskExecution,
        FlyteWorkflowExecution,
        LiteralsView,
    )
    from airflow_provider_flyte.remote.fs import FlyteFS
    from airflow_provider_flyte.remote.lazy_entity import LazyEntity
    from airflow_provider_flyte.remote.metrics import FlyteExecutionSpan
    from airflow_provider_flyte.remote.options import Options
    from airflow_provider_flyte.remote.remote import FlyteRemote

_LAZY: dict[str, str] = {
    "BackfillPlan": "airflow_provider_flyte.remote.backfill",
    "WorkflowFailurePolicy": "airflow_provider_flyte.remote.backfill",
    "FlyteLaunchPlan": "airflow_provider_flyte.remote.entities",
    "FlyteTask": "airflow_provider_flyte.remote.entities",
    "FlyteWorkflow": "airflow_provider_flyte.remote.entities",
    "FlyteNodeExecution": "airflow_provider_flyte.remote.executions",
    "FlyteTaskExecution": "airflow_provider_flyte.remote.executions",
    "FlyteWorkflowExecution": "airflow_provider_flyte.remote.executions",
    "LiteralsView": "airflow_provider_flyte.remote.executions",
    "FlyteFS": "airflow_provider_flyte.remote.fs",
    "LazyEntity": "airflow_provider_flyte.remote.lazy_entity",
    "FlyteExecutionSpan": "airflow_provider_flyte.remote.metrics",
    "Options": "airflow_provider_flyte.remote.options",
    "FlyteRemote": "airflow_provider_flyte.remote.remote",
}

__all__ = [
    "BackfillPlan",
    "FlyteExecutionSpan",
    "FlyteFS",
    "FlyteLaunchPlan",
    "FlyteNodeExecution",
    "FlyteRemote",
    "FlyteTask",
    "FlyteTaskExecution",
    "FlyteWorkflow",
    "FlyteWorkflowExecution",
    "LazyEntity",
    "LiteralsView",
    "Options",
    "WorkflowFailurePolicy",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
