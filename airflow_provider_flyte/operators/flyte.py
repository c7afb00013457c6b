"""FlyteOperator: launch a Flyte launch plan, task or workflow from Airflow and wait for it.

Exactly-once launches: the execution name is derived from the DAG id, run id, task id and map index
(:mod:`airflow_provider_flyte.operators._naming`), so a retried task, or one whose worker crashed, finds the
execution its earlier try started instead of starting another. What a try does depends on the newest execution of
the task instance:

* none: launch ``<base>`` (never ``<base>-r<try>``: a late create of an earlier try is then adopted, not doubled);
* still running: reattach and keep waiting;
* succeeded: return its result without launching anything;
* failed, aborted or timed out: ``on_retry`` decides: ``"recover"`` (default; rerun from the failed nodes, reusing
  what succeeded), ``"relaunch"`` (rerun everything with the same inputs) or ``"new"`` (launch again with the
  operator's current inputs), under the next name of the line, ``<base>-r2``, ``<base>-r3``...

On Airflow 3.3+ the synchronous path follows Airflow's durable-execution contract (``ResumableJobMixin``; the name
is the external id kept in ``task_state_store``); the deferrable path keeps the name there too.

Importing this module loads no grpc, protobuf or flyteidl code: DAG files import it. Flyte work happens when the task
runs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.providers.common.compat.sdk import AirflowException, AirflowTaskTimeout, conf
from airflow.sdk import BaseOperator

from airflow_provider_flyte._lazy import LazyModule, lazy_exports
from airflow_provider_flyte._task_arguments import (
    KNOWN_BACKENDS,
    backend_argument,
    check_backend_arguments,
    duration_argument,
)
from airflow_provider_flyte.hooks._connection_form import DEFAULT_CONN_ID
from airflow_provider_flyte.links.flyte import FlyteConsoleLink, push_console_link
from airflow_provider_flyte.operators._entities import EntityChoice
from airflow_provider_flyte.operators._resumable import ResumableJobMixin

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_provider_flyte import _airflow_common, _phases, exceptions
    from airflow_provider_flyte._airflow_common import DEFER_TIMEOUT_GRACE, validate_event
    from airflow_provider_flyte.hooks.flyte import FlyteHook
    from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
    from airflow_provider_flyte.operators import _flyte1, _flyte2, _lineage, _naming
    from airflow_provider_flyte.operators._naming import (
        STATE_STORE_KEY,
        execution_name_for,
        retry_name,
        validate_execution_name,
    )
    from airflow_provider_flyte.remote import FlyteWorkflowExecution, Options
else:
    # What only a running task needs loads when it runs: a DAG processor imports this module with every parse.
    _airflow_common = LazyModule("airflow_provider_flyte._airflow_common")
    _phases = LazyModule("airflow_provider_flyte._phases")
    exceptions = LazyModule("airflow_provider_flyte.exceptions")
    _flyte1 = LazyModule("airflow_provider_flyte.operators._flyte1")
    _flyte2 = LazyModule("airflow_provider_flyte.operators._flyte2")
    _lineage = LazyModule("airflow_provider_flyte.operators._lineage")
    _naming = LazyModule("airflow_provider_flyte.operators._naming")

ON_RETRY_CHOICES = ("recover", "relaunch", "new")

# FlyteConsoleLink and push_console_link live in airflow_provider_flyte.links.flyte, DEFER_TIMEOUT_GRACE and
# validate_event in airflow_provider_flyte._airflow_common; they stay importable from here.
__all__ = [
    "DEFER_TIMEOUT_GRACE",
    "ON_RETRY_CHOICES",
    "STATE_STORE_KEY",
    "FlyteConsoleLink",
    "FlyteExecutionFailedError",
    "FlyteOperator",
    "execution_name_for",
    "push_console_link",
    "retry_name",
    "validate_event",
    "validate_execution_name",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "DEFER_TIMEOUT_GRACE": "airflow_provider_flyte._airflow_common",
        "validate_event": "airflow_provider_flyte._airflow_common",
        "STATE_STORE_KEY": "airflow_provider_flyte.operators._naming",
        "execution_name_for": "airflow_provider_flyte.operators._naming",
        "retry_name": "airflow_provider_flyte.operators._naming",
        "validate_execution_name": "airflow_provider_flyte.operators._naming",
    },
)


class FlyteExecutionFailedError(AirflowException):
    """A Flyte execution ended without succeeding.

    Attributes:
        execution_id: ``ex:project:domain:name`` of the execution.
        phase: Its final phase (``FAILED``, ``ABORTED``, ``TIMED_OUT``).
        flyte_message: Flyte's error message (or abort cause).
        console_url: Its Flyte Console page.
    """

    def __init__(self, execution_id: str, phase: str | None, flyte_message: str, console_url: str | None) -> None:
        self.execution_id = execution_id
        self.phase = phase
        self.flyte_message = flyte_message
        self.console_url = console_url
        details = f": {flyte_message}" if flyte_message else ""
        where = f" (see {console_url})" if console_url else ""
        super().__init__(f"Flyte execution {execution_id} ended {phase}{details}{where}")


class FlyteOperator(ResumableJobMixin, BaseOperator):
    """Launch a Flyte launch plan, task or workflow and (by default) wait for it, returning its outputs.

    Give exactly one of ``launchplan_name``, ``task_name`` or ``workflow_name``: a name (resolved at ``version``,
    the latest version when omitted) or an identifier string such as ``lp:flytesnacks:development:my_lp:v1``.
    A workflow runs through its default launch plan.

    The task returns (XCom ``return_value``) a plain dict::

        {"execution_id": "ex:p:d:name", "project": "p", "domain": "d", "name": "name",
         "phase": "SUCCEEDED", "console_url": "https://...", "outputs": {"o0": 42, ...}}

    Outputs are converted to JSON-able values (files, directories and datasets by URI). With
    ``wait_for_completion=False`` the dict holds the phase at launch and no outputs.

    Args:
        flyte_conn_id: The ``flyte`` connection.
        project: Project to launch in (default: the connection's ``project`` extra).
        domain: Domain to launch in (default: the connection's ``domain`` extra).
        launchplan_name: Launch plan to run.
        task_name: Task to run.
        workflow_name: Workflow to run (through its default launch plan).
        version: Version of the entity; latest when omitted.
        inputs: Input values by name, checked against the entity's interface before launching.
        execution_name: Exact execution name instead of the derived one (a retry that must launch again uses
            ``<name>-r2``, ``<name>-r3``...).
        labels: Kubernetes labels of the execution's resources.
        annotations: Kubernetes annotations of the execution's resources.
        max_parallelism: Upper bound of task nodes running at once.
        raw_output_data_config: Where offloaded data goes (a prefix such as ``s3://bucket/prefix``).
        kubernetes_service_account: Service account the execution runs as.
        iam_role: IAM role the execution runs as (``pyflyte run --iam-role``).
        oauth2_client: ``{"client_id": ..., "client_secret": {"group": ..., "key": ...}}``: the OAuth2 client the
            execution runs as; the secret is a reference to a Flyte secret, not its value.
        secrets: Flyte secrets to expose: ``[{"group": ..., "key": ..., "group_version": ...}]``.
        notifications: ``[{"phases": ["FAILED"], "email": {"recipients_email": [...]}}]``; each entry has
            exactly one of ``email``, ``slack`` or ``pager_duty``.
        disable_notifications: Silence every notification of this execution.
        envs: Environment variables for every task of the execution.
        tags: Tags of the execution.
        overwrite_cache: Recompute cached tasks.
        interruptible: Run on (or keep off) interruptible nodes; ``None`` keeps the definition's setting.
        cluster_pool: Cluster pool to run in.
        wait_for_completion: Wait for the execution to finish (default); ``False`` returns right after launching.
        deferrable: Wait in the triggerer instead of a worker slot (default: ``[operators] default_deferrable``).
        poll_interval: Longest time between status checks, in seconds (checks start fast and slow down to this).
        timeout: Give up waiting after this long (seconds or timedelta) in both modes; the execution is aborted.
            ``execution_timeout`` is honoured in both modes too (Airflow itself does not apply it to deferred
            waits): at whichever comes first the execution is aborted and the task fails.
        outage_tolerance: How long (seconds or timedelta) the wait rides out Flyte Admin being unreachable before
            failing (default: the connection's ``outage_tolerance`` extra, else 600 s).
        on_retry: What a retry does when the earlier try's execution failed: ``"recover"``, ``"relaunch"``, ``"new"``.
        durable: Airflow 3.3+'s durable execution for the synchronous wait: keep the execution name in
            ``task_state_store`` and reconnect to it after a worker crash (default on; no effect below 3.3).
            Retries find their execution through its deterministic name either way.
        trigger_name: Flyte 2: run this trigger of ``task_name`` (the successor of a launch plan).
        backend: ``"flyte1"`` or ``"flyte2"`` to check the arguments against that backend when the DAG is parsed;
            default: the connection's ``backend`` extra, checked when the task starts, before anything is launched.
            On Flyte 2 the run name has at most 30 characters; see :mod:`~airflow_provider_flyte.operators._flyte2`.
        openlineage_inject_parent_job_info: Annotate the execution with the Airflow task's OpenLineage run
            (``openlineage.io/parent-run-id``...; default: ``[openlineage] spark_inject_parent_job_info``).
        **kwargs: Passed to ``BaseOperator``.
    """

    template_fields: Sequence[str] = (
        "flyte_conn_id",
        "project",
        "domain",
        "launchplan_name",
        "task_name",
        "workflow_name",
        "trigger_name",
        "version",
        "inputs",
        "execution_name",
        "labels",
        "annotations",
        "envs",
        "tags",
        "raw_output_data_config",
        "kubernetes_service_account",
        "iam_role",
        "cluster_pool",
    )
    template_fields_renderers = {"inputs": "json", "labels": "json", "annotations": "json", "envs": "json"}
    operator_extra_links = (FlyteConsoleLink(),)
    ui_color = "#a7c7f2"

    def __init__(
        self,
        *,
        flyte_conn_id: str = DEFAULT_CONN_ID,
        project: str | None = None,
        domain: str | None = None,
        launchplan_name: str | None = None,
        task_name: str | None = None,
        workflow_name: str | None = None,
        version: str | None = None,
        inputs: dict[str, Any] | None = None,
        execution_name: str | None = None,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        max_parallelism: int | None = None,
        raw_output_data_config: str | None = None,
        kubernetes_service_account: str | None = None,
        iam_role: str | None = None,
        oauth2_client: dict[str, Any] | None = None,
        secrets: list[dict[str, Any]] | None = None,
        notifications: list[dict[str, Any]] | None = None,
        disable_notifications: bool | None = None,
        envs: dict[str, str] | None = None,
        tags: list[str] | None = None,
        overwrite_cache: bool | None = None,
        interruptible: bool | None = None,
        cluster_pool: str | None = None,
        wait_for_completion: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 10.0,
        timeout: timedelta | float | None = None,
        outage_tolerance: timedelta | float | None = None,
        on_retry: str = "recover",
        durable: bool | None = None,
        openlineage_inject_parent_job_info: bool | None = None,
        trigger_name: str | None = None,
        backend: str | None = None,
        **kwargs: Any,
    ) -> None:
        if durable is not None:  # only an explicit choice reaches the mixin (it warns about it below Airflow 3.3)
            kwargs["durable"] = durable
        super().__init__(**kwargs)
        EntityChoice(self.task_id, launchplan_name, task_name, workflow_name).check_one()
        if on_retry not in ON_RETRY_CHOICES:
            raise exceptions.FlyteInvalidInputException(
                f"{self.task_id}: on_retry={on_retry!r} must be one of {', '.join(ON_RETRY_CHOICES)}"
            )
        self.flyte_conn_id = flyte_conn_id
        self.project = project
        self.domain = domain
        self.launchplan_name = launchplan_name
        self.task_name = task_name
        self.workflow_name = workflow_name
        self.version = version
        self.inputs: Any = inputs  # a template may render to anything; checked when the task runs
        self.execution_name = execution_name
        self.labels = labels
        self.annotations = annotations
        self.max_parallelism = max_parallelism
        self.raw_output_data_config = raw_output_data_config
        self.kubernetes_service_account = kubernetes_service_account
        self.iam_role = iam_role
        self.oauth2_client = oauth2_client
        self.secrets = secrets
        self.notifications = notifications
        self.disable_notifications = disable_notifications
        self.envs = envs
        self.tags = tags
        self.overwrite_cache = overwrite_cache
        self.interruptible = interruptible
        self.cluster_pool = cluster_pool
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = duration_argument(poll_interval, "poll_interval", self.task_id)
        self.timeout = duration_argument(timeout, "timeout", self.task_id)
        self.outage_tolerance = duration_argument(outage_tolerance, "outage_tolerance", self.task_id)
        self.on_retry = on_retry
        self._inject_parent_job_info = openlineage_inject_parent_job_info
        self._lineage: _lineage.FlyteRunRecord | None = None
        self._execution_id: WorkflowExecutionIdentifier | None = None
        self._followed: FlyteWorkflowExecution | None = None
        self._result: dict[str, Any] | None = None
        self.trigger_name = trigger_name
        self.backend = backend_argument(backend, self.task_id)
        self._flyte2_run: str | None = None  # project:domain:name of the Flyte 2 run followed
        if self.backend in KNOWN_BACKENDS:
            check_backend_arguments(self, self.backend)

    @property
    def openlineage_inject_parent_job_info(self) -> bool:
        """Whether launches carry the Airflow task's OpenLineage run as annotations.

        The argument when given, else ``[openlineage] spark_inject_parent_job_info``, read when asked (a launch
        asks) rather than in every DAG parse.
        """
        given = self._inject_parent_job_info
        if given is not None:
            return bool(given)
        return bool(conf.getboolean("openlineage", "spark_inject_parent_job_info", fallback=False))

    @cached_property
    def hook(self) -> FlyteHook:
        """The hook of ``flyte_conn_id`` (one client for the whole task)."""
        from airflow_provider_flyte.hooks.flyte import FlyteHook

        return FlyteHook(self.flyte_conn_id, project=self.project, domain=self.domain)

    # ------------------------------------------------------------------ execute

    def execute(self, context: Context) -> dict[str, Any]:
        """Launch (or find) the execution, then wait for it in the way the operator is configured to."""
        self._check_rendered_inputs()
        backend = self.backend if self.backend in KNOWN_BACKENDS else self.hook.backend.value
        if backend == "flyte2":
            return _flyte2.execute(self, context)
        check_backend_arguments(self, backend)
        if self.wait_for_completion and not self.deferrable:
            return self.execute_resumable(context)  # type: ignore[no-any-return]
        execution = _flyte1.start(self, context)
        url = _flyte1.announce(self, context, execution)
        if execution.is_done or not self.wait_for_completion:
            return _flyte1.finish(self, execution, url)
        deadline = self._deadline(context)
        if deadline is not None and deadline <= time.time():
            self._timed_out(f"Flyte execution {execution.id} is still {execution.phase_name} at its deadline", url)
        from airflow_provider_flyte.triggers.flyte import FlyteExecutionTrigger

        self.defer(
            trigger=FlyteExecutionTrigger(
                execution_id=str(execution.id),
                flyte_conn_id=self.flyte_conn_id,
                poll_interval=self.poll_interval,
                deadline=deadline,
                terminate_on_kill=True,
                outage_tolerance=self.outage_tolerance,
            ),
            method_name="execute_complete",
            timeout=None
            if deadline is None
            else timedelta(seconds=deadline - time.time()) + _airflow_common.DEFER_TIMEOUT_GRACE,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: check the event, then return the result or raise.

        Raises:
            AirflowTaskTimeout: the deadline set by ``execution_timeout`` passed (the execution is aborted).
            AirflowException: for a missing or malformed event, the ``timeout`` deadline or a watch error.
            FlyteExecutionFailedError: when the execution failed, was aborted or timed out in Flyte.
        """
        if isinstance(event, dict) and "run_id" in event:
            return _flyte2.execute_complete(self, context, event)
        event = _airflow_common.validate_event(event)
        from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier

        execution_id = WorkflowExecutionIdentifier.from_python_std(event["execution_id"])
        self._execution_id = execution_id
        status = event["status"]
        if status == "timeout":
            self._timed_out(event["message"], event.get("console_url"))
        if status == "error":
            raise AirflowException(f"Watching Flyte execution {execution_id} failed: {event['message']}")
        if status == "failed":
            self._lineage = _lineage.capture_by_id(self.hook, str(execution_id), event["console_url"])
            raise FlyteExecutionFailedError(str(execution_id), event["phase"], event["message"], event["console_url"])
        remote = self.hook.get_remote()
        execution = remote.fetch_execution(execution_id.project, execution_id.domain, execution_id.name)
        return _flyte1.finish(self, execution, event.get("console_url") or remote.generate_console_url(execution))

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context) -> Any:
        """Abort the execution when Airflow's own deferral timeout failed the task, then fail as Airflow does.

        Airflow's deferral timeout (a backstop set past the trigger's own deadline) fails the task without running
        :meth:`execute_complete` and without telling the trigger; the execution would run on unwatched.
        """
        if next_method == "__fail__" and (next_kwargs or {}).get("error") == "Trigger timeout":
            try:
                project, domain = self._project_domain()
                found = _flyte1.latest(self, self.hook.get_remote(), context, project, domain)
                if found is not None and not found[0].is_done:
                    self._execution_id = found[0].id
                    self._terminate(f"Airflow task {self.task_id} timed out while deferred")
            except Exception:
                self.log.exception(
                    "Could not abort the Flyte execution of %s after its deferral timed out", self.task_id
                )
        return super().resume_execution(next_method, next_kwargs, context)

    # ------------------------------------------------------------------ Airflow's durable execution (sync path)

    def submit_job(self, context: Context) -> str:
        """Launch the execution of this task instance, or find the one an earlier try launched; its name."""
        execution = _flyte1.start(self, context)
        _flyte1.announce(self, context, execution)
        return execution.id.name

    def get_job_status(self, external_id: Any, context: Context) -> str:
        """The phase name of the execution ``external_id`` names (``"NOT_FOUND"`` when there is none)."""
        project, domain = self._project_domain()
        try:
            return self.hook.get_remote().fetch_execution(project, domain, str(external_id)).phase_name
        except exceptions.FlyteEntityNotExistException:
            return "NOT_FOUND"

    def is_job_active(self, status: str) -> bool:
        """Whether an execution in phase ``status`` may still change."""
        return status != "NOT_FOUND" and status not in _phases.TERMINAL_PHASE_NAMES

    def is_job_succeeded(self, status: str) -> bool:
        """Whether ``status`` is the phase of a successful execution."""
        return status == "SUCCEEDED"

    # Declared to return None, but execute_resumable returns its value when it reconnects: it is the task's result.
    def poll_until_complete(self, external_id: Any, context: Context) -> dict[str, Any]:  # type: ignore[override]
        """Wait on the worker for the execution ``external_id`` names; return the task's result (or raise)."""
        remote = self.hook.get_remote()
        execution = self._followed
        if execution is None or execution.id.name != str(external_id):
            # Airflow reconnected this try to the execution an earlier one followed (the name in task_state_store).
            project, domain = self._project_domain()
            execution = remote.fetch_execution(project, domain, str(external_id))
            self.log.info("Reattaching to Flyte execution %s (%s)", execution.id, execution.phase_name)
        url = _flyte1.announce(self, context, execution)
        try:
            remote.wait(
                execution,
                timeout=self.timeout,
                poll_interval=self.poll_interval,
                outage_tolerance=self.outage_tolerance,
            )
        except exceptions.FlyteTimeout as error:
            if self.timeout is None or error.code is not None:
                raise  # an RPC deadline (DEADLINE_EXCEEDED), not the wait's own timeout
            # On a worker only ``timeout`` is ours to enforce: Airflow applies execution_timeout itself (on_kill).
            self._timed_out(
                f"Flyte execution {execution.id} is still {execution.phase_name} at its deadline", url, deferred=False
            )
        self._result = _flyte1.finish(self, execution, url)
        return self._result

    def get_job_result(self, external_id: Any, context: Context) -> dict[str, Any]:
        """The task's result for the finished execution ``external_id`` names."""
        if self._result is not None and self._result["name"] == str(external_id):
            return self._result
        remote = self.hook.get_remote()
        project, domain = self._project_domain()
        execution = remote.fetch_execution(project, domain, str(external_id))
        self.log.info("Flyte execution %s already succeeded; using its result", execution.id)
        return _flyte1.finish(self, execution, _flyte1.announce(self, context, execution))

    def on_kill(self) -> None:
        """Abort the execution when Airflow kills the task while it waits on a worker."""
        self._terminate(f"Killed by Airflow: task {self.task_id} was stopped")

    # ------------------------------------------------------------------ helpers

    def _check_rendered_inputs(self) -> None:
        """Fail before anything is looked up or launched when ``inputs`` did not render to a mapping.

        Raises:
            FlyteInvalidInputException: naming the task, ``inputs`` and the value.
        """
        if self.inputs is None or isinstance(self.inputs, Mapping):
            return
        hint = (
            "; a template renders to text unless the DAG sets render_template_as_native_obj=True"
            if isinstance(self.inputs, str)
            else ""
        )
        raise exceptions.FlyteInvalidInputException(
            f"{self.task_id}: inputs={self.inputs!r} must be a mapping of input names to values, "
            f"not {type(self.inputs).__name__}{hint}"
        )

    def _project_domain(self) -> tuple[str, str]:
        entity = self._entity().identifier()
        project = self.project or self.hook.project or (entity.project if entity else None)
        domain = self.domain or self.hook.domain or (entity.domain if entity else None)
        if not project or not domain:
            missing = "project" if not project else "domain"
            raise exceptions.FlyteInvalidInputException(
                f"{self.task_id}: no {missing}: pass {missing}= or set the {missing!r} extra of "
                f"connection {self.flyte_conn_id!r}"
            )
        return project, domain

    def _entity(self) -> EntityChoice:
        """The entity to run, from the (rendered) entity arguments."""
        return EntityChoice(self.task_id, self.launchplan_name, self.task_name, self.workflow_name, self.version)

    def _base_name(self, context: Context) -> str:
        return _naming.base_execution_name(context, self.execution_name)

    def _deadline(self, context: Context) -> float | None:
        """When a deferred wait must end (seconds since the epoch), or ``None`` for never.

        That is ``timeout`` from now or ``execution_timeout`` from the task's start, whichever comes first. Airflow
        applies ``execution_timeout`` only to the stretches a task runs on a worker, never to a deferral; the trigger
        enforces it instead.
        """
        deadlines: list[float] = []
        if self.timeout is not None:
            deadlines.append(time.time() + self.timeout)
        if self.execution_timeout is not None:
            started = getattr(context["ti"], "start_date", None)
            start = started.timestamp() if isinstance(started, datetime) else time.time()
            deadlines.append(start + self.execution_timeout.total_seconds())
        return min(deadlines, default=None)

    def _timed_out(self, what: str, url: str | None, deferred: bool = True) -> NoReturn:
        """Abort the execution and fail the task because its ``timeout`` or (deferred) ``execution_timeout`` passed.

        Raises:
            AirflowTaskTimeout: when ``execution_timeout`` is the limit that applied (as Airflow raises it).
            AirflowException: when ``timeout`` is.
        """
        # execution_timeout counts from the task's start and timeout from the launch, so when execution_timeout is
        # the shorter one it is the one that passed.
        timeout = self.timeout
        limit = self.execution_timeout.total_seconds() if self.execution_timeout is not None else None
        if deferred and limit is not None and (timeout is None or limit <= timeout):
            self._terminate(f"Airflow task {self.task_id} reached its execution_timeout")
            raise AirflowTaskTimeout(f"{what} (the task's execution_timeout of {limit:g}s); it was aborted. See {url}")
        self._terminate(f"Airflow task {self.task_id} reached its timeout")
        raise AirflowException(f"{what} (the task's timeout of {timeout or 0:g}s); it was aborted. See {url}")

    def _options(self, context: Context) -> Options:
        from airflow_provider_flyte.operators._options import build_options

        inject = self.openlineage_inject_parent_job_info
        return build_options(
            task_id=self.task_id,
            labels=self.labels,
            annotations=_lineage.with_parent_job_info(self.annotations, context, inject, self.task_id),
            max_parallelism=self.max_parallelism,
            raw_output_data_config=self.raw_output_data_config,
            kubernetes_service_account=self.kubernetes_service_account,
            iam_role=self.iam_role,
            oauth2_client=self.oauth2_client,
            secrets=self.secrets,
            notifications=self.notifications,
            disable_notifications=self.disable_notifications,
        )

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage[Any, Any] | None:
        """OpenLineage facets of the execution this task followed (see :mod:`~.operators._lineage`)."""
        return _lineage.operator_lineage(self._lineage, task_instance)

    def _terminate(self, cause: str) -> None:
        if self._flyte2_run is not None:
            return _flyte2.abort(self, cause)
        if self._execution_id is None:
            return
        try:
            self.hook.get_client().terminate_execution(self._execution_id, cause)
            self.log.info("Terminated Flyte execution %s", self._execution_id)
        except exceptions.FlyteFailedPreconditionException:
            self.log.info("Flyte execution %s had already finished", self._execution_id)
        except Exception:
            self.log.exception("Could not terminate Flyte execution %s", self._execution_id)
