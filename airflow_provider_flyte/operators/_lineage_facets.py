"""OpenLineage facets and events of a Flyte execution; imported only when Airflow's OpenLineage provider is installed.

Built from a :class:`~airflow_provider_flyte.operators._lineage.FlyteRunRecord` alone (no RPC): the listener calls
the operators' ``get_openlineage_facets_on_complete`` in a forked process. The Airflow task's event gets the
execution's datasets, a ``flyte_execution`` run facet and the standard ``externalQuery`` run facet (as the BigQuery
and Databricks operators report their remote jobs). The Flyte execution also gets events of its own, as the dbt Cloud
and Databricks operators emit for the runs they start: its launch plan (or task) is the job, in the namespace
``flyte://<Admin endpoint>``, the execution is the run, and its ``parent`` facet points at the Airflow task's run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from airflow.providers.openlineage.extractors import OperatorLineage
from attrs import define
from openlineage.client.event_v2 import Dataset, InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import RunFacet, external_query_run, job_type_job, parent_run
from openlineage.client.uuid import generate_static_uuid

from airflow_provider_flyte.operators._lineage import (
    ANNOTATION_PREFIX,
    FlyteRunRecord,
    datasets,
    parent_job_info,
)

log = logging.getLogger(__name__)

FLYTE_EXECUTION_FACET = "flyte_execution"
"""Key of :class:`FlyteExecutionRunFacet` in a run's facets."""
_TERMINAL_STATES = {"SUCCEEDED": RunState.COMPLETE, "ABORTED": RunState.ABORT}
"""The OpenLineage end state of a finished execution's phase; any other finished phase is ``FAIL``."""


@define
class FlyteExecutionRunFacet(RunFacet):
    """The Flyte execution behind a run: where to find it and how it ended (no input values, no credentials).

    Attributes:
        executionId: ``ex:<project>:<domain>:<name>``.
        phase: The execution's phase (``SUCCEEDED``, ``FAILED``, ``ABORTED``, ``TIMED_OUT``, or a running one).
        consoleUrl: Its Flyte Console page.
        launchedEntity: The versioned launch plan or task it ran (``lp:<project>:<domain>:<name>:<version>``).
    """

    executionId: str
    phase: str
    consoleUrl: str | None = None
    launchedEntity: str | None = None


def empty_lineage() -> OperatorLineage[Dataset, RunFacet]:
    """Lineage of a task that captured nothing (lineage was off when it ran, or capturing failed)."""
    return OperatorLineage()


def execution_facet(record: FlyteRunRecord) -> FlyteExecutionRunFacet:
    """The ``flyte_execution`` run facet of ``record``."""
    return FlyteExecutionRunFacet(
        executionId=record.execution_id,
        phase=record.phase,
        consoleUrl=record.console_url,
        launchedEntity=record.launched_entity,
    )


def task_lineage(record: FlyteRunRecord) -> OperatorLineage[Dataset, RunFacet]:
    """The facets the Airflow task's own event carries: the execution's datasets and run facets."""
    return OperatorLineage(
        inputs=[*_inputs(record)],  # typed as the base Dataset the generic OperatorLineage holds
        outputs=[*_outputs(record)],
        run_facets={
            FLYTE_EXECUTION_FACET: execution_facet(record),
            "externalQuery": external_query_run.ExternalQueryRunFacet(
                externalQueryId=record.execution_id, source=record.namespace
            ),
        },
    )


def flyte_run_events(record: FlyteRunRecord, task_instance: Any) -> list[RunEvent]:
    """The Flyte execution's own events: ``START``, and its end state once it finished."""
    start = record.started or record.ended or datetime.now(timezone.utc)
    run = Run(
        runId=str(generate_static_uuid(start, record.execution_id.encode())),
        facets={"parent": parent_facet(task_instance), FLYTE_EXECUTION_FACET: execution_facet(record)},
    )
    job = Job(
        namespace=record.namespace,
        name=record.job_name,
        facets={
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH", integration="FLYTE", jobType=record.job_type
            )
        },
    )
    events = [RunEvent(eventType=RunState.START, eventTime=start.isoformat(), run=run, job=job, inputs=_inputs(record))]
    if record.is_done:
        end = record.ended or datetime.now(timezone.utc)
        events.append(
            RunEvent(
                eventType=_TERMINAL_STATES.get(record.phase, RunState.FAIL),
                eventTime=end.isoformat(),
                run=run,
                job=job,
                inputs=_inputs(record),
                outputs=_outputs(record),
            )
        )
    return events


def emit_flyte_run(record: FlyteRunRecord, task_instance: Any) -> None:
    """Emit :func:`flyte_run_events` through the OpenLineage listener's adapter (errors are logged, not raised)."""
    try:
        from airflow.providers.openlineage.plugins.listener import get_openlineage_listener

        adapter = get_openlineage_listener().adapter
        for event in flyte_run_events(record, task_instance):
            adapter.emit(event)
    except Exception:
        log.warning("Could not emit the OpenLineage events of Flyte execution %s", record.execution_id, exc_info=True)


def parent_facet(task_instance: Any) -> parent_run.ParentRunFacet:
    """The ``parent`` facet naming the Airflow task's run (the same identifiers the launch injects)."""
    info = {key.removeprefix(ANNOTATION_PREFIX): value for key, value in parent_job_info(task_instance).items()}
    return parent_run.ParentRunFacet(
        run=parent_run.Run(runId=info["parent-run-id"]),
        job=parent_run.Job(namespace=info["parent-job-namespace"], name=info["parent-job-name"]),
        root=parent_run.Root(
            run=parent_run.RootRun(runId=info["root-parent-run-id"]),
            job=parent_run.RootJob(namespace=info["root-parent-job-namespace"], name=info["root-parent-job-name"]),
        ),
    )


def _inputs(record: FlyteRunRecord) -> list[InputDataset]:
    return [InputDataset(namespace=namespace, name=name) for namespace, name in datasets(record.inputs)]


def _outputs(record: FlyteRunRecord) -> list[OutputDataset]:
    return [OutputDataset(namespace=namespace, name=name) for namespace, name in datasets(record.outputs)]
