"""The protobuf views of a stored run: ``Run``, ``RunDetails``, ``Action`` and ``ActionDetails`` of ``a0``."""

from __future__ import annotations

from flyteidl2.common import identifier_pb2, phase_pb2
from flyteidl2.workflow import run_definition_pb2

from flyte_admin_sandbox.v2.relations import recovered_from
from flyte_admin_sandbox.v2.store import RunRecord

ROOT_ACTION = "a0"


def phase_name(phase: int) -> str:
    """``SUCCEEDED`` for ``ACTION_PHASE_SUCCEEDED``."""
    return phase_pb2.ActionPhase.Name(phase).removeprefix("ACTION_PHASE_")


def action_id(record: RunRecord) -> identifier_pb2.ActionIdentifier:
    """The identifier of a run's root action."""
    return identifier_pb2.ActionIdentifier(run=record.run_id, name=ROOT_ACTION)


def _metadata(record: RunRecord) -> run_definition_pb2.ActionMetadata:
    spec = record.task_spec
    metadata = run_definition_pb2.ActionMetadata(
        action_type=run_definition_pb2.ACTION_TYPE_TASK,
        task=run_definition_pb2.TaskActionMetadata(
            id=record.task_id,
            task_type=spec.task_template.type,
            short_name=spec.short_name or record.task_id.name.rsplit(".", 1)[-1],
        ),
        environment_name=spec.environment.name,
        trigger_name=record.trigger_name,
        source=record.source,  # type: ignore[arg-type]
    )
    if record.run_spec.HasField("relation"):
        metadata.relation.CopyFrom(record.run_spec.relation)
    recovered = recovered_from(record)
    if recovered is not None:
        metadata.recovered_from.CopyFrom(recovered)
    return metadata


def _status(record: RunRecord) -> run_definition_pb2.ActionStatus:
    status = run_definition_pb2.ActionStatus(phase=record.phase, attempts=1)  # type: ignore[arg-type]
    started = record.started_at or record.created_at
    status.start_time.FromNanoseconds(int(started * 1e9))
    if record.ended_at is not None:
        status.end_time.FromNanoseconds(int(record.ended_at * 1e9))
        status.duration_ms = max(0, int((record.ended_at - started) * 1000))
    return status


def action(record: RunRecord) -> run_definition_pb2.Action:
    """The root action's summary."""
    return run_definition_pb2.Action(id=action_id(record), metadata=_metadata(record), status=_status(record))


def run(record: RunRecord) -> run_definition_pb2.Run:
    """The run's summary (what CreateRun, ListRuns and WatchRuns answer)."""
    return run_definition_pb2.Run(action=action(record), labels=dict(record.run_spec.labels.values))


def action_details(record: RunRecord) -> run_definition_pb2.ActionDetails:
    """The root action's details: status, task spec, error or abort info, one attempt."""
    details = run_definition_pb2.ActionDetails(
        id=action_id(record),
        metadata=_metadata(record),
        status=_status(record),
        task=record.task_spec,
    )
    if record.error is not None and record.phase in (
        phase_pb2.ACTION_PHASE_FAILED,
        phase_pb2.ACTION_PHASE_TIMED_OUT,
    ):
        details.error_info.CopyFrom(record.error)
    if record.phase == phase_pb2.ACTION_PHASE_ABORTED:
        details.abort_info.reason = record.abort_reason or ""
    attempt = details.attempts.add(phase=record.phase, attempt=1)
    attempt.start_time.CopyFrom(details.status.start_time)
    if record.ended_at is not None:
        attempt.end_time.CopyFrom(details.status.end_time)
    if details.HasField("error_info"):
        attempt.error_info.CopyFrom(details.error_info)
    return details


def run_details(record: RunRecord) -> run_definition_pb2.RunDetails:
    """The run's details (GetRunDetails, WatchRunDetails)."""
    return run_definition_pb2.RunDetails(run_spec=record.run_spec, action=action_details(record))
