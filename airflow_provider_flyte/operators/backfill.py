"""FlyteBackfillOperator: replay a cron-scheduled Flyte launch plan over a time range, as one observable Airflow task.

The backfill is one Flyte execution of a generated workflow with a launch-plan node per scheduled time (see
:mod:`airflow_provider_flyte.remote.backfill`). The operator launches it under a name derived from the task instance
(a retry finds the backfill its earlier try started instead of starting another), logs progress as runs finish, and
returns every run with its phase.

Importing this module loads no grpc, protobuf or flyteidl code.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, conf
from airflow.sdk import BaseOperator

from airflow_provider_flyte._lazy import LazyModule
from airflow_provider_flyte._task_arguments import duration_argument
from airflow_provider_flyte.hooks._connection_form import DEFAULT_CONN_ID
from airflow_provider_flyte.links.flyte import FlyteConsoleLink, push_console_link

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_provider_flyte import _airflow_common, exceptions, waiting
    from airflow_provider_flyte.hooks.flyte import FlyteHook
    from airflow_provider_flyte.operators import _lineage, _naming
    from airflow_provider_flyte.remote import FlyteRemote, FlyteWorkflowExecution
else:
    # What only a running task needs loads when it runs: a DAG processor imports this module with every parse.
    _airflow_common = LazyModule("airflow_provider_flyte._airflow_common")
    exceptions = LazyModule("airflow_provider_flyte.exceptions")
    waiting = LazyModule("airflow_provider_flyte.waiting")
    _lineage = LazyModule("airflow_provider_flyte.operators._lineage")
    _naming = LazyModule("airflow_provider_flyte.operators._naming")

FAILURE_POLICIES = ("fail_immediately", "fail_after_executable_nodes_complete")


class FlyteBackfillFailedError(AirflowException):
    """A backfill ended with failed runs (or failed as a whole).

    Attributes:
        execution_id: The backfill execution.
        failed: The failed runs: ``[{"node_id", "scheduled_time", "execution_id", "phase"}, ...]``.
    """

    def __init__(self, execution_id: str, phase: str | None, failed: list[Mapping[str, Any]], detail: str) -> None:
        from airflow_provider_flyte.remote.backfill import describe_child

        self.execution_id = execution_id
        self.failed = list(failed)
        runs = "; failed runs: " + ", ".join(describe_child(child) for child in failed) if failed else ""
        super().__init__(f"Flyte backfill {execution_id} ended {phase}{runs}" + (f" ({detail})" if detail else ""))


class FlyteBackfillOperator(BaseOperator):
    """Run a cron launch plan once per scheduled time strictly between ``from_date`` and ``to_date``.

    The range defaults to the DAG run's data interval, so a daily DAG backfilling a daily launch plan replays the
    day the run covers. Runs go one after the other (default) or all at once (``parallel=True``); ``dry_run=True``
    only plans them and launches nothing.

    Returns (XCom), plain JSON::

        {"execution_id": "ex:p:d:name" | None, "phase": "SUCCEEDED" | None, "console_url": ... | None,
         "dry_run": false, "plan": {"launch_plan", "cron", "scheduled_times": [...], "parallel", ...},
         "children": [{"node_id": "n0", "scheduled_time": "...", "execution_id": "ex:...", "phase": "SUCCEEDED"}]}

    Args:
        launchplan_name: The cron-scheduled launch plan (templated).
        from_date: Exclusive start, a datetime or ISO string (templated); default: the data interval's start.
        to_date: Exclusive end (templated); default: the data interval's end. Naive times are UTC.
        version: Launch plan version; latest when omitted.
        project: Project (default: the connection's).
        domain: Domain (default: the connection's).
        parallel: Launch every run at once instead of one after the other.
        dry_run: Plan and log the runs, launch nothing.
        failure_policy: ``"fail_immediately"`` (default) or ``"fail_after_executable_nodes_complete"``.
        execution_name: Name of the backfill execution (default: derived from the task instance).
        wait_for_completion: Wait for every run (default); ``False`` returns right after launching.
        deferrable: Wait in the triggerer (default: ``[operators] default_deferrable``).
        poll_interval: Seconds between progress checks.
        timeout: Stop waiting after this long (seconds or timedelta); the backfill is then aborted.
        outage_tolerance: How long (seconds or timedelta) following the backfill rides out Flyte Admin being
            unreachable (default: the connection's ``outage_tolerance`` extra, else 600 s).
        flyte_conn_id: The ``flyte`` connection.
        **kwargs: Passed to ``BaseOperator``.
    """

    template_fields: Sequence[str] = (
        "launchplan_name",
        "from_date",
        "to_date",
        "version",
        "project",
        "domain",
        "execution_name",
        "flyte_conn_id",
    )
    operator_extra_links = (FlyteConsoleLink(),)
    ui_color = "#c4e3cf"

    def __init__(
        self,
        *,
        launchplan_name: str,
        from_date: datetime | str | None = None,
        to_date: datetime | str | None = None,
        version: str | None = None,
        project: str | None = None,
        domain: str | None = None,
        parallel: bool = False,
        dry_run: bool = False,
        failure_policy: str = "fail_immediately",
        execution_name: str | None = None,
        wait_for_completion: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 10.0,
        timeout: timedelta | float | None = None,
        outage_tolerance: timedelta | float | None = None,
        flyte_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if failure_policy not in FAILURE_POLICIES:
            raise exceptions.FlyteInvalidInputException(
                f"{self.task_id}: failure_policy={failure_policy!r} must be one of {', '.join(FAILURE_POLICIES)}"
            )
        self.launchplan_name = launchplan_name
        self.from_date = from_date
        self.to_date = to_date
        self.version = version
        self.project = project
        self.domain = domain
        self.parallel = parallel
        # BaseOperator already has a dry_run() method; the flag gets its own name.
        self.plan_only = dry_run
        self.failure_policy = failure_policy
        self.execution_name = execution_name
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = duration_argument(poll_interval, "poll_interval", self.task_id)
        self.timeout = duration_argument(timeout, "timeout", self.task_id)
        self.outage_tolerance = duration_argument(outage_tolerance, "outage_tolerance", self.task_id)
        self.flyte_conn_id = flyte_conn_id
        self._lineage: _lineage.FlyteRunRecord | None = None

    @cached_property
    def hook(self) -> FlyteHook:
        """The hook of ``flyte_conn_id``."""
        from airflow_provider_flyte.hooks.flyte import FlyteHook

        return FlyteHook(self.flyte_conn_id, project=self.project, domain=self.domain)

    def execute(self, context: Context) -> dict[str, Any]:
        """Plan the backfill, launch it (or find the one an earlier try launched) and follow it to the end."""
        _airflow_common.require_flyte1(self, self.hook, "launch plan backfills")
        from airflow_provider_flyte.remote.backfill import WorkflowFailurePolicy

        remote = self.hook.get_remote()
        project, domain = remote.resolve_project_domain(self.project, self.domain)
        start = _as_datetime(self.from_date, "from_date", self.task_id, context.get("data_interval_start"))
        end = _as_datetime(self.to_date, "to_date", self.task_id, context.get("data_interval_end"))
        if start >= end and not (self.from_date and self.to_date):
            # Manual and asset-triggered runs have an empty data interval (start == end): nothing to replay.
            raise exceptions.FlyteInvalidInputException(
                f"{self.task_id}: the range {start.isoformat()} .. {end.isoformat()} is empty (a manual run's data "
                "interval has no length); pass from_date= and to_date="
            )
        policy = WorkflowFailurePolicy[self.failure_policy.upper()]
        common: dict[str, Any] = {
            "project": project,
            "domain": domain,
            "from_date": start,
            "to_date": end,
            "launchplan": self.launchplan_name,
            "launchplan_version": self.version or None,
            "parallel": self.parallel,
            "failure_policy": policy,
        }
        plan = remote.plan_backfill(**common)
        times = ", ".join(t.isoformat() for t in plan.scheduled_times)
        self.log.info("Backfill of %s: %d run(s) at %s", plan.launch_plan_id, len(plan.scheduled_times), times)
        if self.plan_only:
            # No execution to show: the "Flyte Console" button opens the launch plan that would be replayed.
            url = remote.generate_console_url(plan.launch_plan_id)
            push_console_link(context, url)
            self.log.info("Dry run: nothing launched (%s)", url)
            return {
                "execution_id": None,
                "phase": None,
                "console_url": url,
                "dry_run": True,
                "plan": plan.to_dict(),
                "children": [],
            }
        name = _naming.base_execution_name(context, self.execution_name)
        execution = self._existing(remote, project, domain, name)
        if execution is None:
            execution = remote.launch_backfill(**common, execution_name=name)  # type: ignore[assignment]
        else:
            self.log.info("Backfill execution %s already exists (an earlier try launched it); following it", name)
        assert execution is not None
        url = remote.generate_console_url(execution)
        push_console_link(context, url)
        scheduled = {plan.node_id(index): t.isoformat() for index, t in enumerate(plan.scheduled_times)}
        result_base = {"execution_id": str(execution.id), "console_url": url, "dry_run": False, "plan": plan.to_dict()}
        if not self.wait_for_completion:
            return {**result_base, "phase": execution.phase_name, "children": self._children(execution, scheduled)}
        deadline = None if self.timeout is None else time.time() + self.timeout
        if self.deferrable:
            from airflow_provider_flyte.triggers.backfill import FlyteBackfillTrigger

            self.defer(
                trigger=FlyteBackfillTrigger(
                    execution_id=str(execution.id),
                    scheduled_times=scheduled,
                    flyte_conn_id=self.flyte_conn_id,
                    poll_interval=self.poll_interval,
                    deadline=deadline,
                    outage_tolerance=self.outage_tolerance,
                ),
                method_name="execute_complete",
                timeout=None
                if self.timeout is None
                else timedelta(seconds=self.timeout) + _airflow_common.DEFER_TIMEOUT_GRACE,
            )
        return self._follow(remote, execution, scheduled, deadline, result_base)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: return the runs, or fail naming the failed ones.

        Raises:
            AirflowException: for a malformed event, a timeout (the backfill is aborted) or a watch error.
            FlyteBackfillFailedError: when runs failed.
        """
        event = _airflow_common.validate_backfill_event(event)
        execution_id = event["execution_id"]
        children = list(event.get("children") or [])
        if event["status"] == "timeout":
            self._abort(execution_id, f"Airflow task {self.task_id} timed out")
            raise AirflowException(f"{event.get('message')}; it was aborted. See {event.get('console_url')}")
        if event["status"] == "error":
            raise AirflowException(f"Following Flyte backfill {execution_id} failed: {event.get('message')}")
        return self._result(execution_id, event.get("phase"), event.get("console_url"), children, event.get("message"))

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _existing(remote: FlyteRemote, project: str, domain: str, name: str) -> FlyteWorkflowExecution | None:
        try:
            return remote.fetch_execution(project, domain, name)
        except exceptions.FlyteEntityNotExistException:
            return None

    def _children(self, execution: FlyteWorkflowExecution, scheduled: dict[str, str]) -> list[dict[str, Any]]:
        from airflow_provider_flyte.remote.backfill import backfill_children, list_backfill_nodes

        return backfill_children(list_backfill_nodes(self.hook.get_client(), execution.id), scheduled)

    def _follow(
        self,
        remote: FlyteRemote,
        execution: FlyteWorkflowExecution,
        scheduled: dict[str, str],
        deadline: float | None,
        result_base: dict[str, Any],
    ) -> dict[str, Any]:
        """Poll on the worker, logging progress whenever it changes."""
        from airflow_provider_flyte.progress import ProgressReport
        from airflow_provider_flyte.remote.backfill import progress_line

        children: list[dict[str, Any]] = []
        report = ProgressReport(f"Backfill {execution.id}", result_base["console_url"])

        def finished() -> FlyteWorkflowExecution | None:
            nonlocal children
            remote.sync_execution(execution)
            children = self._children(execution, scheduled)
            progress = progress_line(children)
            if report.changed(progress):
                self.log.info("Backfill %s: %s", execution.id, progress)
            elif report.due():
                self.log.info("%s", report.line(execution.phase_name, progress))
            return execution if execution.is_done else None

        clock = _airflow_common.task_wait_clock(
            self, f"backfill {execution.id}", interval=self.poll_interval, deadline=deadline
        )
        if waiting.poll(finished, clock) is None:
            self._abort(str(execution.id), f"Airflow task {self.task_id} timed out")
            raise AirflowException(
                f"Flyte backfill {execution.id} is still {execution.phase_name} after {self.timeout:g}s "
                f"({progress_line(children)}); it was aborted. See {result_base['console_url']}"
            )
        error = execution.error
        message = error.message if error is not None else execution.closure.abort_metadata.cause
        return self._result(str(execution.id), execution.phase_name, result_base["console_url"], children, message)

    def _result(
        self, execution_id: str, phase: str | None, url: str | None, children: list[dict[str, Any]], message: Any
    ) -> dict[str, Any]:
        from airflow_provider_flyte.remote.backfill import failed_children

        self._lineage = _lineage.backfill_record(self.hook, self.launchplan_name, execution_id, phase, url)
        failed = failed_children(children)
        if phase != "SUCCEEDED" or failed:
            raise FlyteBackfillFailedError(execution_id, phase, failed, str(message or ""))
        return {
            "execution_id": execution_id,
            "phase": phase,
            "console_url": url,
            "dry_run": False,
            "plan": None,
            "children": children,
        }

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage[Any, Any] | None:
        """OpenLineage facets of the backfill execution; the replayed launch plan is its job."""
        return _lineage.operator_lineage(self._lineage, task_instance)

    def _abort(self, execution_id: str, cause: str) -> None:
        from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier

        try:
            self.hook.get_client().terminate_execution(WorkflowExecutionIdentifier.from_python_std(execution_id), cause)
        except Exception:
            self.log.exception("Could not abort Flyte backfill %s", execution_id)


def _as_datetime(value: Any, argument: str, task_id: str, fallback: Any) -> datetime:
    """A timezone-aware datetime from a datetime, an ISO string, or the data-interval ``fallback``.

    Raises:
        FlyteInvalidInputException: naming the argument and the value.
    """
    if value is None or value == "":
        value = fallback
        if value is None:
            raise exceptions.FlyteInvalidInputException(
                f"{task_id}: {argument} is not set and the DAG run has no data interval; pass {argument}="
            )
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise exceptions.FlyteInvalidInputException(
                f"{task_id}: {argument}={value!r} is not an ISO date or datetime"
            ) from None
    if not isinstance(value, datetime):
        raise exceptions.FlyteInvalidInputException(
            f"{task_id}: {argument}={value!r} must be a datetime or an ISO string"
        )
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
