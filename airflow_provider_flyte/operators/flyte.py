"""FlyteOperator: launch a Flyte launch plan, task or workflow from Airflow and wait for it; FlyteConsoleLink.

Exactly-once launches: the execution name is derived from the DAG id, run id, task id and map index, so a retried
task, or one whose worker crashed, finds the execution its earlier try started instead of starting another. What a
retry does depends on that execution's phase:

* still running: reattach and keep waiting;
* succeeded: return its result without launching anything;
* failed, aborted or timed out: ``on_retry`` decides: ``"recover"`` (default; rerun from the failed nodes, reusing
  what succeeded), ``"relaunch"`` (rerun everything with the same inputs) or ``"new"`` (launch again with the
  operator's current inputs).

Each try that launches names its execution ``<base>`` (first try) or ``<base>-r<try>``, so a crash between the launch
and the next step is recovered from too. On Airflow 3.3+ the current name is also kept in ``task_state_store``.

Importing this module loads no grpc, protobuf or flyteidl code: DAG files import it. Flyte work happens when the task
runs.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, conf
from airflow.sdk import BaseOperator, BaseOperatorLink

from airflow_provider_flyte.exceptions import (
    FlyteEntityNotExistException,
    FlyteFailedPreconditionException,
    FlyteInvalidInputException,
    FlyteTimeout,
)
from airflow_provider_flyte.hooks.flyte import DEFAULT_CONN_ID, FlyteHook
from airflow_provider_flyte.identifiers import Identifier, ResourceType, WorkflowExecutionIdentifier
from airflow_provider_flyte.triggers.flyte import EVENT_STATUSES, FlyteExecutionTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.sdk.types import TaskInstanceKey

    from airflow_provider_flyte.remote import FlyteRemote, FlyteWorkflowExecution, Options

ON_RETRY_CHOICES = ("recover", "relaunch", "new")
STATE_STORE_KEY = "flyte_execution_name"
"""``task_state_store`` key holding the name of the execution the task is following (Airflow 3.3+)."""

_NAME_MAX = 63
_NAME_RULE = re.compile(r"^[a-z][a-z0-9-]*$")
# A deferral's Airflow-side timeout fires this much after the trigger's own deadline, so the trigger's richer
# timeout event (phase, console URL) normally wins and Airflow's timeout only covers a triggerer that is down.
DEFER_TIMEOUT_GRACE = timedelta(minutes=2)


class FlyteConsoleLink(BaseOperatorLink):
    """The "Flyte Console" button of a task: the page of the execution it launched or watches.

    The URL is pushed to XCom as soon as the execution is known, so the button works while the run is in progress.
    """

    name = "Flyte Console"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """The URL pushed by the task, or an empty string before the execution is known."""
        from airflow.sdk.execution_time.xcom import XCom

        url = XCom.get_value(key=self.xcom_key, ti_key=ti_key)
        return str(url) if url else ""


def push_console_link(context: Context, url: str) -> None:
    """Publish ``url`` as the task's "Flyte Console" link right away."""
    context["ti"].xcom_push(key=FlyteConsoleLink().xcom_key, value=url)


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


def execution_name_for(dag_id: str, run_id: str, task_id: str, map_index: int = -1, try_number: int = 1) -> str:
    """The deterministic execution name of one task instance's try.

    The first try gets ``af-<task slug>-<hash>``; later tries that must launch again append ``-r<try>``. The hash
    covers ``(dag_id, run_id, task_id, map_index)``, so mapped instances and runs never collide. The result follows
    Flyte Admin's rule (``^[a-z][a-z0-9-]*$``, at most 63 characters).
    """
    key = "\x1f".join((dag_id, run_id, task_id, str(map_index))).encode()
    digest = hashlib.sha256(key).hexdigest()[:20]
    slug = re.sub(r"[^a-z0-9]+", "-", task_id.lower()).strip("-")[:28].rstrip("-")
    base = f"af-{slug}-{digest}" if slug else f"af-{digest}"
    return retry_name(base, try_number)


def retry_name(base: str, try_number: int) -> str:
    """``base`` for the first try, else ``base`` (shortened if needed) with ``-r<try_number>``."""
    if try_number <= 1:
        return base
    suffix = f"-r{try_number}"
    return base[: _NAME_MAX - len(suffix)].rstrip("-") + suffix


def validate_execution_name(name: str, argument: str = "execution_name") -> str:
    """Return ``name`` if Flyte Admin accepts it as an execution name.

    Raises:
        FlyteInvalidInputException: naming the argument, the value and the rule.
    """
    if not isinstance(name, str) or len(name) > _NAME_MAX or not _NAME_RULE.match(name):
        raise FlyteInvalidInputException(
            f"{argument}={name!r} is not a valid Flyte execution name: use lowercase letters, digits and '-', "
            f"starting with a letter, at most {_NAME_MAX} characters"
        )
    return name


class FlyteOperator(BaseOperator):
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
        execution_name: Exact execution name instead of the derived one (retries that launch again append
            ``-r<try>``).
        labels: Kubernetes labels of the execution's resources.
        annotations: Kubernetes annotations of the execution's resources.
        max_parallelism: Upper bound of task nodes running at once.
        raw_output_data_config: Where offloaded data goes (a prefix such as ``s3://bucket/prefix``).
        kubernetes_service_account: Service account the execution runs as.
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
        poll_interval: Seconds between status checks.
        timeout: Give up waiting after this long (seconds or timedelta) in both modes; the execution is aborted.
            Airflow does not apply ``execution_timeout`` to deferred waits, so set this for a bound.
        on_retry: What a retry does when the earlier try's execution failed: ``"recover"``, ``"relaunch"``, ``"new"``.
        **kwargs: Passed to ``BaseOperator``.
    """

    template_fields: Sequence[str] = (
        "flyte_conn_id",
        "project",
        "domain",
        "launchplan_name",
        "task_name",
        "workflow_name",
        "version",
        "inputs",
        "execution_name",
        "labels",
        "annotations",
        "envs",
        "tags",
        "raw_output_data_config",
        "kubernetes_service_account",
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
        on_retry: str = "recover",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        given = [
            name
            for name, value in (
                ("launchplan_name", launchplan_name),
                ("task_name", task_name),
                ("workflow_name", workflow_name),
            )
            if value
        ]
        if len(given) != 1:
            detail = f"got {', '.join(given)}" if given else "got none"
            raise FlyteInvalidInputException(
                f"{self.task_id}: give exactly one of launchplan_name, task_name or workflow_name ({detail})"
            )
        if on_retry not in ON_RETRY_CHOICES:
            raise FlyteInvalidInputException(
                f"{self.task_id}: on_retry={on_retry!r} must be one of {', '.join(ON_RETRY_CHOICES)}"
            )
        if isinstance(poll_interval, bool) or not isinstance(poll_interval, (int, float)) or poll_interval <= 0:
            raise FlyteInvalidInputException(f"{self.task_id}: poll_interval={poll_interval!r} must be positive")
        self.flyte_conn_id = flyte_conn_id
        self.project = project
        self.domain = domain
        self.launchplan_name = launchplan_name
        self.task_name = task_name
        self.workflow_name = workflow_name
        self.version = version
        self.inputs = inputs
        self.execution_name = execution_name
        self.labels = labels
        self.annotations = annotations
        self.max_parallelism = max_parallelism
        self.raw_output_data_config = raw_output_data_config
        self.kubernetes_service_account = kubernetes_service_account
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
        self.poll_interval = float(poll_interval)
        self.timeout = _timeout_seconds(timeout, self.task_id)
        self.on_retry = on_retry
        self._execution_id: WorkflowExecutionIdentifier | None = None

    @cached_property
    def hook(self) -> FlyteHook:
        """The hook of ``flyte_conn_id`` (one client for the whole task)."""
        return FlyteHook(self.flyte_conn_id, project=self.project, domain=self.domain)

    # ------------------------------------------------------------------ execute

    def execute(self, context: Context) -> dict[str, Any]:
        """Launch (or find) the execution, then wait for it in the way the operator is configured to."""
        remote = self.hook.get_remote()
        project, domain = self._project_domain()
        try_number = int(getattr(context["ti"], "try_number", 1) or 1)
        base = self._base_name(context)
        this_try = retry_name(base, try_number)
        execution = self._start(remote, context, project, domain, base, this_try, try_number)
        self._execution_id = execution.id
        url = remote.generate_console_url(execution)
        push_console_link(context, url)
        _state_store_set(context, execution.id.name)
        self.log.info("Flyte execution %s is %s: %s", execution.id, execution.phase_name, url)

        if execution.is_done or not self.wait_for_completion:
            return self._finish(execution, url)
        if self.deferrable:
            deadline = None if self.timeout is None else time.time() + self.timeout
            self.defer(
                trigger=FlyteExecutionTrigger(
                    execution_id=str(execution.id),
                    flyte_conn_id=self.flyte_conn_id,
                    poll_interval=self.poll_interval,
                    deadline=deadline,
                    terminate_on_kill=True,
                ),
                method_name="execute_complete",
                timeout=None if self.timeout is None else timedelta(seconds=self.timeout) + DEFER_TIMEOUT_GRACE,
            )
        try:
            remote.wait(execution, timeout=self.timeout, poll_interval=self.poll_interval)
        except FlyteTimeout as error:
            if self.timeout is None or error.code is not None:
                raise  # an RPC deadline (DEADLINE_EXCEEDED), not the wait's own timeout
            self._terminate(f"Airflow task {self.task_id} timed out after {self.timeout:g}s")
            raise AirflowException(
                f"Flyte execution {execution.id} is still {execution.phase_name} after {self.timeout:g}s "
                f"(timeout); it was aborted. See {url}"
            ) from None
        return self._finish(execution, url)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: check the event, then return the result or raise.

        Raises:
            AirflowException: for a missing or malformed event, a timeout or a watch error.
            FlyteExecutionFailedError: when the execution failed, was aborted or timed out in Flyte.
        """
        event = validate_event(event)
        execution_id = WorkflowExecutionIdentifier.from_python_std(event["execution_id"])
        self._execution_id = execution_id
        status = event["status"]
        if status == "timeout":
            self._terminate(f"Airflow task {self.task_id} timed out")
            raise AirflowException(f"{event['message']}; it was aborted. See {event.get('console_url')}")
        if status == "error":
            raise AirflowException(f"Watching Flyte execution {execution_id} failed: {event['message']}")
        if status == "failed":
            raise FlyteExecutionFailedError(str(execution_id), event["phase"], event["message"], event["console_url"])
        remote = self.hook.get_remote()
        execution = remote.fetch_execution(execution_id.project, execution_id.domain, execution_id.name)
        return self._finish(execution, event.get("console_url") or remote.generate_console_url(execution))

    def on_kill(self) -> None:
        """Abort the execution when Airflow kills the task while it waits on a worker."""
        self._terminate(f"Killed by Airflow: task {self.task_id} was stopped")

    # ------------------------------------------------------------------ helpers

    def _project_domain(self) -> tuple[str, str]:
        entity = self._entity_identifier()
        project = self.project or self.hook.project or (entity.project if entity else None)
        domain = self.domain or self.hook.domain or (entity.domain if entity else None)
        if not project or not domain:
            missing = "project" if not project else "domain"
            raise FlyteInvalidInputException(
                f"{self.task_id}: no {missing}: pass {missing}= or set the {missing!r} extra of "
                f"connection {self.flyte_conn_id!r}"
            )
        return project, domain

    def _entity_identifier(self) -> Identifier | None:
        """The entity as an identifier when it was given as ``lp:``/``tsk:``/``wf:`` string, else ``None``."""
        text = self.launchplan_name or self.task_name or self.workflow_name or ""
        if ":" not in text:
            return None
        identifier = Identifier.from_python_std(text)
        expected = (
            ResourceType.LAUNCH_PLAN
            if self.launchplan_name
            else ResourceType.TASK
            if self.task_name
            else ResourceType.WORKFLOW
        )
        if identifier.resource_type != expected:
            raise FlyteInvalidInputException(
                f"{self.task_id}: {text!r} is a {identifier.resource_type.name.lower()} identifier, but was given "
                f"as a {expected.name.lower()}"
            )
        return identifier

    def _base_name(self, context: Context) -> str:
        if self.execution_name:
            return validate_execution_name(self.execution_name)
        ti = context["ti"]
        map_index = getattr(ti, "map_index", -1)
        return execution_name_for(
            ti.dag_id, ti.run_id, ti.task_id, -1 if map_index is None else int(map_index), try_number=1
        )

    def _start(
        self,
        remote: FlyteRemote,
        context: Context,
        project: str,
        domain: str,
        base: str,
        this_try: str,
        try_number: int,
    ) -> FlyteWorkflowExecution:
        """Reattach to the task's current execution, reuse its success, or launch (again)."""
        previous = self._find_previous(remote, context, project, domain, base, try_number)
        if previous is None:
            return self._launch(remote, project, domain, this_try)
        if not previous.is_done:
            self.log.info("Reattaching to Flyte execution %s (%s)", previous.id, previous.phase_name)
            return previous
        if previous.is_successful:
            self.log.info("Flyte execution %s already succeeded; using its result", previous.id)
            return previous
        if previous.id.name == this_try:
            return previous  # this very try launched it: report its outcome rather than launching once more
        self.log.info(
            "Flyte execution %s ended %s; on_retry=%r launches %s",
            previous.id,
            previous.phase_name,
            self.on_retry,
            this_try,
        )
        if self.on_retry == "recover":
            return remote.recover_execution(previous.id, name=this_try)
        if self.on_retry == "relaunch":
            return remote.relaunch_execution(previous.id, name=this_try)
        return self._launch(remote, project, domain, this_try)

    def _find_previous(
        self, remote: FlyteRemote, context: Context, project: str, domain: str, base: str, try_number: int
    ) -> FlyteWorkflowExecution | None:
        """The most recent execution an earlier (or this) try of the task started, if any."""
        stored = _state_store_get(context)
        names = [stored] if stored else []
        names += [retry_name(base, number) for number in range(try_number, 0, -1) if retry_name(base, number) != stored]
        for name in names:
            try:
                return remote.fetch_execution(project, domain, name)
            except FlyteEntityNotExistException:
                continue
        return None

    def _launch(self, remote: FlyteRemote, project: str, domain: str, name: str) -> FlyteWorkflowExecution:
        entity = self._fetch_entity(remote, project, domain)
        self.log.info("Launching %s as execution %s/%s/%s", entity.id, project, domain, name)
        return remote.execute(
            entity,
            inputs=dict(self.inputs or {}),
            project=project,
            domain=domain,
            execution_name=name,
            options=self._options(),
            overwrite_cache=self.overwrite_cache,
            interruptible=self.interruptible,
            envs=_string_map(self.envs, "envs", self.task_id),
            tags=list(self.tags or ()),
            cluster_pool=self.cluster_pool or None,
        )

    def _fetch_entity(self, remote: FlyteRemote, project: str, domain: str) -> Any:
        identifier = self._entity_identifier()
        if identifier is not None:
            args: tuple[str, str, str, str | None] = (
                identifier.project,
                identifier.domain,
                identifier.name,
                identifier.version,
            )
        else:
            name = self.launchplan_name or self.task_name or self.workflow_name
            args = (project, domain, str(name), self.version or None)
        if self.launchplan_name:
            return remote.fetch_launch_plan(*args)
        if self.task_name:
            return remote.fetch_task(*args)
        return remote.fetch_workflow(*args)

    def _options(self) -> Options:
        from airflow_provider_flyte.operators._options import build_options

        return build_options(
            task_id=self.task_id,
            labels=self.labels,
            annotations=self.annotations,
            max_parallelism=self.max_parallelism,
            raw_output_data_config=self.raw_output_data_config,
            kubernetes_service_account=self.kubernetes_service_account,
            oauth2_client=self.oauth2_client,
            secrets=self.secrets,
            notifications=self.notifications,
            disable_notifications=self.disable_notifications,
        )

    def _finish(self, execution: FlyteWorkflowExecution, url: str) -> dict[str, Any]:
        """The task's result for a finished (or not awaited) execution; raise for a failed one."""
        if execution.is_done and not execution.is_successful:
            error = execution.error
            message = error.message if error is not None else execution.closure.abort_metadata.cause
            raise FlyteExecutionFailedError(str(execution.id), execution.phase_name, message, url)
        outputs = None
        if execution.is_successful:
            from airflow_provider_flyte.literals import to_json_able

            outputs = {name: to_json_able(value) for name, value in execution.outputs.items()}
        return {
            "execution_id": str(execution.id),
            "project": execution.id.project,
            "domain": execution.id.domain,
            "name": execution.id.name,
            "phase": execution.phase_name,
            "console_url": url,
            "outputs": outputs,
        }

    def _terminate(self, cause: str) -> None:
        if self._execution_id is None:
            return
        try:
            self.hook.get_client().terminate_execution(self._execution_id, cause)
            self.log.info("Terminated Flyte execution %s", self._execution_id)
        except FlyteFailedPreconditionException:
            self.log.info("Flyte execution %s had already finished", self._execution_id)
        except Exception:
            self.log.exception("Could not terminate Flyte execution %s", self._execution_id)


def validate_event(event: Any) -> dict[str, Any]:
    """Check a :class:`FlyteExecutionTrigger` event payload before acting on it.

    A missing or malformed event must fail the task, never fall through to the success path.

    Raises:
        AirflowException: naming what is wrong with the event.
    """
    if not isinstance(event, Mapping):
        raise AirflowException(f"FlyteExecutionTrigger sent no usable event (got {event!r}); cannot tell the outcome")
    status = event.get("status")
    if status not in EVENT_STATUSES:
        raise AirflowException(
            f"FlyteExecutionTrigger event has status={status!r}; expected one of {', '.join(sorted(EVENT_STATUSES))}"
        )
    execution_id = event.get("execution_id")
    if not isinstance(execution_id, str) or not execution_id.startswith("ex:"):
        raise AirflowException(f"FlyteExecutionTrigger event has execution_id={execution_id!r}; expected 'ex:p:d:name'")
    return {"phase": None, "message": "", "console_url": None, **dict(event)}


def _timeout_seconds(timeout: timedelta | float | None, task_id: str) -> float | None:
    if timeout is None:
        return None
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise FlyteInvalidInputException(f"{task_id}: timeout={timeout!r} must be a positive duration")
    return float(seconds)


def _string_map(value: Any, argument: str, task_id: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise FlyteInvalidInputException(f"{task_id}: {argument}={value!r} must be a mapping of strings to strings")
    return {str(key): str(item) for key, item in value.items()}


def _state_store(context: Context) -> Any:
    # task_state_store exists from Airflow 3.3; older versions rely on the deterministic names alone.
    try:
        return context.get("task_state_store")
    except Exception:
        return None


def _state_store_get(context: Context) -> str | None:
    store = _state_store(context)
    if store is None:
        return None
    value = store.get(STATE_STORE_KEY, None)
    return value if isinstance(value, str) and value else None


def _state_store_set(context: Context, name: str) -> None:
    store = _state_store(context)
    if store is not None:
        store.set(STATE_STORE_KEY, name)
