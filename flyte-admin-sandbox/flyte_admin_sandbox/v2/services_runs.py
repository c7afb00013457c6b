"""``flyteidl2.workflow.RunService``: create, watch, list and abort runs and their root action ``a0``.

Watch streams send the current state first, then every change; WatchRunDetails, WatchActionDetails and WatchActions
end once the run is terminal, WatchRuns runs until the client leaves or the sandbox closes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flyteidl2.common import identifier_pb2
from flyteidl2.workflow import run_definition_pb2, run_service_pb2

from flyte_admin_sandbox.v2 import views
from flyte_admin_sandbox.v2.backend import Backend
from flyte_admin_sandbox.v2.errors import missing, not_found
from flyte_admin_sandbox.v2.listing import select
from flyte_admin_sandbox.v2.run_create import create_run
from flyte_admin_sandbox.v2.store import RunRecord

Alive = Callable[[], bool]
"""Whether the client of a stream is still there."""

POLL = 0.1
"""Seconds a stream waits for a change before it checks its client and the sandbox again."""


def _key(run_id: identifier_pb2.RunIdentifier, field: str) -> tuple[str, str, str]:
    if not run_id.name:
        raise missing(f"{field}.name")
    return run_id.project, run_id.domain, run_id.name


def _state(record: RunRecord) -> tuple[object, ...]:
    return record.phase, record.started_at, record.ended_at


class RunService:
    """Runs and their root action.

    Args:
        backend: The shared state.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def _run(self, run_id: identifier_pb2.RunIdentifier, field: str = "run_id") -> RunRecord:
        key = _key(run_id, field)
        record = self.backend.store.get_run(*key)
        if record is None:
            raise not_found("run", "/".join(key))
        return record

    def _action(self, action_id: identifier_pb2.ActionIdentifier) -> RunRecord:
        record = self._run(action_id.run, "action_id.run")
        if action_id.name != views.ROOT_ACTION:
            raise not_found("action", f"{record.run_id.name}/{action_id.name}")
        return record

    def _follow(self, run_id: identifier_pb2.RunIdentifier, field: str, alive: Alive) -> Iterator[RunRecord]:
        """The run now, then at every change, until terminal (or the client or the sandbox goes)."""
        key = _key(run_id, field)
        store = self.backend.store
        last: tuple[object, ...] | None = None
        while alive() and not store.closed:
            revision = store.revision
            record = store.get_run(*key)
            if record is None:
                raise not_found("run", "/".join(key))
            if _state(record) != last:
                last = _state(record)
                yield record
            if record.terminal:
                return
            store.wait_for_change(revision, POLL)

    def CreateRun(self, request: run_service_pb2.CreateRunRequest) -> run_service_pb2.CreateRunResponse:
        """Create and start a run (see :func:`~flyte_admin_sandbox.v2.run_create.create_run`)."""
        return run_service_pb2.CreateRunResponse(run=create_run(self.backend, request))

    def AbortRun(self, request: run_service_pb2.AbortRunRequest) -> run_service_pb2.AbortRunResponse:
        """Abort a run; aborting an aborted run again is a no-op.

        Raises:
            ServiceError: ``NOT_FOUND`` for an unknown run, ``FAILED_PRECONDITION`` when it already succeeded, failed
                or timed out.
        """
        self._abort(self._run(request.run_id), request.reason)
        return run_service_pb2.AbortRunResponse()

    def _abort(self, record: RunRecord, reason: str) -> None:
        from flyteidl2.common import phase_pb2

        from flyte_admin_sandbox.v2.errors import failed_precondition

        if record.phase == phase_pb2.ACTION_PHASE_ABORTED:
            return
        if record.terminal:
            raise failed_precondition(
                f"run [{record.run_id.name}] already ended in phase {views.phase_name(record.phase)}"
            )
        self.backend.engine.abort(record, reason or "aborted")

    def AbortAction(self, request: run_service_pb2.AbortActionRequest) -> run_service_pb2.AbortActionResponse:
        """Abort the root action (the run)."""
        self._abort(self._action(request.action_id), request.reason)
        return run_service_pb2.AbortActionResponse()

    def GetRunDetails(self, request: run_service_pb2.GetRunDetailsRequest) -> run_service_pb2.GetRunDetailsResponse:
        """A run's spec and root action details."""
        return run_service_pb2.GetRunDetailsResponse(details=views.run_details(self._run(request.run_id)))

    def WatchRunDetails(
        self, request: run_service_pb2.WatchRunDetailsRequest, alive: Alive
    ) -> Iterator[run_service_pb2.WatchRunDetailsResponse]:
        """The run's details now and at every change, until terminal."""
        for record in self._follow(request.run_id, "run_id", alive):
            yield run_service_pb2.WatchRunDetailsResponse(details=views.run_details(record))

    def GetActionDetails(
        self, request: run_service_pb2.GetActionDetailsRequest
    ) -> run_service_pb2.GetActionDetailsResponse:
        """The root action's details."""
        return run_service_pb2.GetActionDetailsResponse(details=views.action_details(self._action(request.action_id)))

    def WatchActionDetails(
        self, request: run_service_pb2.WatchActionDetailsRequest, alive: Alive
    ) -> Iterator[run_service_pb2.WatchActionDetailsResponse]:
        """The root action's details now and at every change, until terminal."""
        self._action(request.action_id)
        for record in self._follow(request.action_id.run, "action_id.run", alive):
            yield run_service_pb2.WatchActionDetailsResponse(details=views.action_details(record))

    def GetActionData(self, request: run_service_pb2.GetActionDataRequest) -> run_service_pb2.GetActionDataResponse:
        """The root action's inputs, and its outputs once succeeded."""
        record = self._action(request.action_id)
        return run_service_pb2.GetActionDataResponse(inputs=record.inputs, outputs=record.outputs)

    def ListRuns(self, request: run_service_pb2.ListRunsRequest) -> run_service_pb2.ListRunsResponse:
        """Runs of a project (and domain), of a task or of a trigger, newest first.

        Filterable on ``name``, ``phase`` (e.g. ``RUNNING``), ``task_name`` and ``trigger_name``.
        """
        which = request.WhichOneof("scope_by")
        project = domain = task_name = trigger = ""
        if which == "project_id":
            project, domain = request.project_id.name, request.project_id.domain
        elif which == "trigger_name":
            fired = request.trigger_name
            project, domain, task_name, trigger = fired.project, fired.domain, fired.task_name, fired.name
        elif which in ("task_name", "task_id"):
            task = request.task_name if which == "task_name" else request.task_id
            project, domain, task_name = task.project, task.domain, task.name
        if not project:
            raise missing("project_id.name")
        records = self.backend.store.list_runs(project, domain, task_name, trigger)
        page, token = select(records, _fields, request.request)
        return run_service_pb2.ListRunsResponse(runs=[views.run(record) for record in page], token=token)

    def WatchRuns(
        self, request: run_service_pb2.WatchRunsRequest, alive: Alive
    ) -> Iterator[run_service_pb2.WatchRunsResponse]:
        """The matching runs now (one message, maybe empty), then each run that changed, as it changes."""
        project, domain = request.project_id.name, request.project_id.domain
        task_name = request.task_id.name if request.HasField("task_id") else ""
        if request.HasField("task_id"):
            project, domain = request.task_id.project, request.task_id.domain
        store = self.backend.store
        known: dict[str, tuple[object, ...]] = {}
        first = True
        while alive() and not store.closed:
            revision = store.revision
            changed = [r for r in store.list_runs(project, domain, task_name) if known.get(_id(r)) != _state(r)]
            if changed or first:
                first = False
                known.update((_id(r), _state(r)) for r in changed)
                yield run_service_pb2.WatchRunsResponse(runs=[views.run(r) for r in reversed(changed)])
            store.wait_for_change(revision, POLL)

    def ListActions(self, request: run_service_pb2.ListActionsRequest) -> run_service_pb2.ListActionsResponse:
        """The run's actions: its root action."""
        return run_service_pb2.ListActionsResponse(actions=[views.action(self._run(request.run_id))])

    def WatchActions(
        self, request: run_service_pb2.WatchActionsRequest, alive: Alive
    ) -> Iterator[run_service_pb2.WatchActionsResponse]:
        """The root action now and at every change, until terminal."""
        for record in self._follow(request.run_id, "run_id", alive):
            enriched = run_definition_pb2.EnrichedAction(action=views.action(record), meets_filter=True)
            yield run_service_pb2.WatchActionsResponse(enriched_actions=[enriched])


def _id(record: RunRecord) -> str:
    return f"{record.run_id.project}/{record.run_id.domain}/{record.run_id.name}"


def _fields(record: RunRecord) -> dict[str, str]:
    return {
        "name": record.run_id.name,
        "phase": views.phase_name(record.phase),
        "task_name": record.task_id.name,
        "trigger_name": record.trigger_name,
    }
