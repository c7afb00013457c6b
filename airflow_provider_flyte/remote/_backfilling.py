"""Backfills: run a cron launch plan for every scheduled time in a range, through one generated workflow.

Planning (times, the workflow spec, the default version) is pure and lives in :mod:`.backfill`; this mixin fetches
the launch plan, registers the workflow and its default launch plan, and executes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from airflow_provider_flyte.identifiers import Identifier, ResourceType
from airflow_provider_flyte.remote._core import logger
from airflow_provider_flyte.remote._executing import ExecutingMixin
from airflow_provider_flyte.remote.entities import FlyteWorkflow
from airflow_provider_flyte.remote.executions import FlyteWorkflowExecution

if TYPE_CHECKING:
    from airflow_provider_flyte.remote.backfill import BackfillPlan, WorkflowFailurePolicy


class BackfillingMixin(ExecutingMixin):
    """``launch_backfill``."""

    def launch_backfill(
        self,
        project: str,
        domain: str,
        from_date: datetime,
        to_date: datetime,
        launchplan: str,
        launchplan_version: str | None = None,
        execution_name: str | None = None,
        version: str | None = None,
        dry_run: bool = False,
        execute: bool = True,
        parallel: bool = False,
        failure_policy: WorkflowFailurePolicy | None = None,
        overwrite_cache: bool | None = None,
    ) -> FlyteWorkflowExecution | FlyteWorkflow | BackfillPlan:
        """Run a cron launch plan for every scheduled time strictly between ``from_date`` and ``to_date``.

        Builds the backfill workflow (one launch-plan node per time, passing it as the schedule's kickoff input),
        registers it with its default launch plan, and executes it.

        Returns:
            The :class:`BackfillPlan` with ``dry_run`` (nothing registered); the registered workflow with
            ``execute=False``; else the started execution.

        Raises:
            FlyteInvalidInputException: the launch plan is not cron-scheduled, needs inputs a backfill cannot give,
                or no time falls in the range.
        """
        from airflow_provider_flyte.remote import backfill, registration

        plan = self.plan_backfill(
            project, domain, from_date, to_date, launchplan, launchplan_version, parallel, failure_policy
        )
        if dry_run:
            logger.info(
                "Dry run: backfill of %s planned for %d times, nothing registered",
                launchplan,
                len(plan.scheduled_times),
            )
            return plan
        version = version or plan.default_version(launchplan_version)
        workflow_spec = backfill.backfill_workflow_spec(plan, project, domain, version)
        workflow_id = Identifier(ResourceType.WORKFLOW, project, domain, plan.workflow_name, version)
        registration.register(self.client, registration.RegistrableEntity(ResourceType.WORKFLOW, workflow_spec))
        self._register_default_launch_plan(workflow_id)
        if not execute:
            return self.fetch_workflow(project, domain, plan.workflow_name, version)
        lp = self.fetch_launch_plan(project, domain, plan.workflow_name, version)
        return self.execute(
            lp,
            inputs={},
            project=project,
            domain=domain,
            execution_name=execution_name,
            overwrite_cache=overwrite_cache,
        )

    def plan_backfill(
        self,
        project: str,
        domain: str,
        from_date: datetime,
        to_date: datetime,
        launchplan: str,
        launchplan_version: str | None = None,
        parallel: bool = False,
        failure_policy: WorkflowFailurePolicy | None = None,
    ) -> BackfillPlan:
        """The runs :meth:`launch_backfill` would start, without registering or launching anything (nor logging).

        Raises:
            FlyteInvalidInputException: when the launch plan has no cron schedule, the range is empty or inverted,
                or no time falls in the range.
        """
        from airflow_provider_flyte.remote import backfill

        launch_plan = self.fetch_launch_plan(project, domain, launchplan, launchplan_version)
        return backfill.plan_backfill(
            launch_plan.to_flyte_idl(), from_date, to_date, parallel=parallel, failure_policy=failure_policy
        )
