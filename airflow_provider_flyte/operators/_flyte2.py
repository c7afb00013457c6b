"""FlyteOperator on Flyte 2: launch a deployed task (or a trigger) as a run, wait for it, return its outputs.

The same exactly-once rules as on Flyte 1 (:mod:`airflow_provider_flyte.operators._naming`): the run name derives
from the task instance (within Flyte 2's 30 characters), a retry finds the run its earlier try started and reattaches,
reuses a success, or (after a failure) launches ``<base>-r2``... as ``on_retry`` says: ``"new"`` with the operator's
inputs, ``"relaunch"`` with the failed run's inputs, ``"recover"`` with them and ``RunSpec.recover`` (the backend
reuses what succeeded where it can). A duplicate name (ALREADY_EXISTS) adopts the existing run.

Called from :class:`~airflow_provider_flyte.operators.flyte.FlyteOperator`; imports ``flyteidl2`` only inside the
functions, when a Flyte 2 task runs.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_flyte._airflow_common import DEFER_TIMEOUT_GRACE, string_map
from airflow_provider_flyte._task_arguments import FLYTE2, check_backend_arguments
from airflow_provider_flyte.exceptions import (
    FlyteEntityAlreadyExistsException,
    FlyteFailedPreconditionException,
)
from airflow_provider_flyte.links.flyte import push_console_link
from airflow_provider_flyte.operators._naming import (
    RUN_NAME_MAX,
    base_run_name,
    latest_generation,
    retry_name,
    store_name,
    stored_name,
)

if TYPE_CHECKING:
    from airflow.sdk import Context
    from flyteidl2.task import run_pb2
    from flyteidl2.workflow import run_definition_pb2

    from airflow_provider_flyte.clients.v2 import Flyte2Client
    from airflow_provider_flyte.operators.flyte import FlyteOperator

BACKEND = FLYTE2


def execute(operator: FlyteOperator, context: Context) -> dict[str, Any]:
    """Launch (or find) the task instance's run, then wait for it as the operator is configured to."""
    check_backend_arguments(operator, BACKEND)
    client = operator.hook.get_flyte2_client()
    project, domain = operator._project_domain()
    details = _start(operator, client, context, project, domain)
    url = _announce(operator, client, context, details)
    from airflow_provider_flyte.clients.v2.phases import RunPhase

    if RunPhase.of(details.action.status.phase).is_terminal or not operator.wait_for_completion:
        return finish(operator, details, url)
    if operator.deferrable:
        _defer(operator, context, url)
    return finish(operator, _poll(operator, client, url), url)


def _run_id(details: run_definition_pb2.RunDetails) -> str:
    run = details.action.id.run
    return f"{run.project}:{run.domain}:{run.name}"


def _start(
    operator: FlyteOperator, client: Flyte2Client, context: Context, project: str, domain: str
) -> run_definition_pb2.RunDetails:
    """Reattach to the task instance's newest run, reuse its success, or launch (again)."""
    from airflow_provider_flyte.clients.v2.phases import SUCCESS_PHASES, RunPhase

    base = base_run_name(context, operator.execution_name)

    def fetch(name: str) -> run_definition_pb2.RunDetails:
        return client.get_run_details(f"{project}:{domain}:{name}")

    found = latest_generation(fetch, base, known=stored_name(context), limit=RUN_NAME_MAX)
    if found is None:
        return _launch(operator, client, project, domain, base)
    latest, generation = found
    phase = RunPhase.of(latest.action.status.phase)
    if not phase.is_terminal:
        operator.log.info("Reattaching to Flyte 2 run %s (%s)", _run_id(latest), phase.name)
        return latest
    if phase in SUCCESS_PHASES:
        operator.log.info("Flyte 2 run %s already succeeded; using its result", _run_id(latest))
        return latest
    successor = retry_name(base, generation + 1, RUN_NAME_MAX)
    operator.log.info(
        "Flyte 2 run %s ended %s; on_retry=%r launches %s", _run_id(latest), phase.name, operator.on_retry, successor
    )
    if operator.on_retry == "new":
        return _launch(operator, client, project, domain, successor)
    return _launch(operator, client, project, domain, successor, again=latest)


def _launch(
    operator: FlyteOperator,
    client: Flyte2Client,
    project: str,
    domain: str,
    name: str,
    again: run_definition_pb2.RunDetails | None = None,
) -> run_definition_pb2.RunDetails:
    """Create run ``name`` (inputs checked first); adopt the run when the name exists (ALREADY_EXISTS)."""
    from airflow_provider_flyte.clients.v2.literals import encode_inputs

    task_name = str(operator.task_name)
    trigger = (task_name, str(operator.trigger_name)) if operator.trigger_name else None
    values = dict(operator.inputs or {})
    if trigger is not None:
        trigger_details = client.get_trigger(project, domain, *trigger)
        version = trigger_details.spec.task_version or client.latest_task_version(project, domain, task_name)
    else:
        version = operator.version or client.latest_task_version(project, domain, task_name)
    task = client.get_task_details(project, domain, task_name, version)
    spec = _run_spec(operator)
    if again is not None:  # relaunch/recover: the failed run's own inputs
        inputs = client.get_action_data(_run_id(again)).inputs
        _relate(spec, again, recover=operator.on_retry == "recover")
    elif trigger is not None and not values:
        inputs = None  # the trigger's own inputs
    else:
        inputs = encode_inputs(values, task)  # raises naming the input before anything is created
    try:
        if trigger is not None and again is None:
            client.create_run(project, domain, name, trigger_name=trigger, inputs=inputs, run_spec=spec)
        else:
            client.create_run(project, domain, name, task_id=task, inputs=inputs, run_spec=spec)
        operator.log.info("Launched Flyte 2 run %s:%s:%s (task %s@%s)", project, domain, name, task_name, version)
    except FlyteEntityAlreadyExistsException:
        operator.log.info("Flyte 2 run %s:%s:%s already exists; reattaching to it", project, domain, name)
    return client.get_run_details(f"{project}:{domain}:{name}")


def _relate(spec: run_pb2.RunSpec, earlier: run_definition_pb2.RunDetails, *, recover: bool) -> None:
    """Link the new run to the failed one as the flyte SDK does: ``relation`` (RECOVER or RERUN).

    ``related_to`` is set too, for backends that predate ``relation``.
    """
    from flyteidl2.common import run_pb2 as common_run_pb2

    kind = common_run_pb2.RELATION_TYPE_RECOVER if recover else common_run_pb2.RELATION_TYPE_RERUN
    spec.relation.CopyFrom(common_run_pb2.Relation(related_to=earlier.action.id.run, relation_type=kind))
    spec.related_to.CopyFrom(earlier.action.id.run)


def _run_spec(operator: FlyteOperator) -> run_pb2.RunSpec:
    """Labels, annotations, environment and the other run settings of the operator."""
    from flyteidl2.task import run_pb2

    spec = run_pb2.RunSpec()
    spec.labels.values.update(string_map(operator.labels, "labels", operator.task_id) or {})
    spec.annotations.values.update(string_map(operator.annotations, "annotations", operator.task_id) or {})
    for key, value in (string_map(operator.envs, "envs", operator.task_id) or {}).items():
        spec.envs.values.add(key=key, value=value)
    if operator.interruptible is not None:
        spec.interruptible.value = bool(operator.interruptible)
    if operator.overwrite_cache:
        spec.overwrite_cache = True
    if operator.cluster_pool:
        spec.cluster_pool = operator.cluster_pool
    if operator.raw_output_data_config:
        spec.raw_data_storage.raw_data_prefix = operator.raw_output_data_config
    if operator.max_parallelism:
        spec.max_action_concurrency = int(operator.max_parallelism)
    return spec


def _announce(
    operator: FlyteOperator, client: Flyte2Client, context: Context, details: run_definition_pb2.RunDetails
) -> str:
    """Follow the run: console link, ``task_state_store``, a log line; its URL."""
    run = details.action.id.run
    url = client.run_url(run.project, run.domain, run.name)
    if operator._flyte2_run != _run_id(details):
        operator._flyte2_run = _run_id(details)
        push_console_link(context, url)
        store_name(context, run.name)
        operator.log.info("Flyte 2 run %s: %s", operator._flyte2_run, url)
    return url


def _poll(operator: FlyteOperator, client: Flyte2Client, url: str) -> run_definition_pb2.RunDetails:
    """Wait on the worker (the package's wait clock and outage tolerance); abort at ``timeout``.

    Logs each phase change of the run and, between changes, a progress line at least every
    :data:`~airflow_provider_flyte.progress.PROGRESS_EVERY` seconds.
    """
    from airflow_provider_flyte.clients.v2.phases import RunPhase
    from airflow_provider_flyte.progress import ProgressReport
    from airflow_provider_flyte.waiting import WaitClock, poll

    run_id = str(operator._flyte2_run)
    progress = ProgressReport(f"Flyte 2 run {run_id}", url)
    clock = WaitClock(
        f"Flyte 2 run {run_id}",
        interval=operator.poll_interval,
        timeout=operator.timeout,
        outage_tolerance=operator.outage_tolerance or client.config.outage_tolerance,
        logger=operator.log,
    )

    def check() -> run_definition_pb2.RunDetails | None:
        details = client.get_run_details(run_id)
        phase = RunPhase.of(details.action.status.phase)
        if progress.changed(phase):
            operator.log.info("Flyte 2 run %s is %s (%s)", run_id, phase.name, url)
        elif progress.due() and not phase.is_terminal:
            # No node counts: RunDetails has none, and counting the actions would cost a ListActions per line.
            operator.log.info("%s", progress.line(phase.name))
        return details if phase.is_terminal else None

    done = poll(check, clock)
    if done is None:
        operator._timed_out(f"Flyte 2 run {run_id} is still running at its deadline", url, deferred=False)
    return done


def _defer(operator: FlyteOperator, context: Context, url: str) -> None:
    """Hand the wait to :class:`~airflow_provider_flyte.triggers.flyte2.Flyte2RunTrigger` (raises TaskDeferred)."""
    from airflow_provider_flyte.triggers.flyte2 import Flyte2RunTrigger

    deadline = operator._deadline(context)
    if deadline is not None and deadline <= time.time():
        operator._timed_out(f"Flyte 2 run {operator._flyte2_run} is still running at its deadline", url)
    operator.defer(
        trigger=Flyte2RunTrigger(
            run_id=str(operator._flyte2_run),
            flyte_conn_id=operator.flyte_conn_id,
            poll_interval=operator.poll_interval,
            deadline=deadline,
            terminate_on_kill=True,
            outage_tolerance=operator.outage_tolerance,
        ),
        method_name="execute_complete",
        timeout=None if deadline is None else timedelta(seconds=deadline - time.time()) + DEFER_TIMEOUT_GRACE,
    )


def execute_complete(operator: FlyteOperator, context: Context, event: dict[str, Any]) -> dict[str, Any]:
    """Resume after :class:`~airflow_provider_flyte.triggers.flyte2.Flyte2RunTrigger` fired."""
    from airflow_provider_flyte.operators.flyte import FlyteExecutionFailedError
    from airflow_provider_flyte.triggers.flyte2 import validate_run_event

    event = validate_run_event(event)
    operator._flyte2_run = run_id = str(event["run_id"])
    if event["status"] == "timeout":
        operator._timed_out(event["message"], event.get("console_url"))
    if event["status"] == "error":
        raise AirflowException(f"Watching Flyte 2 run {run_id} failed: {event['message']}")
    if event["status"] == "failed":
        raise FlyteExecutionFailedError(run_id, event.get("flyte_phase"), event["message"], event["console_url"])
    details = operator.hook.get_flyte2_client().get_run_details(run_id)
    return finish(operator, details, event["console_url"])


def finish(operator: FlyteOperator, details: run_definition_pb2.RunDetails, url: str) -> dict[str, Any]:
    """The task's result for a finished (or not awaited) run: outputs as plain JSON; raise for a failed run."""
    from airflow_provider_flyte.clients.v2.literals import decode_outputs
    from airflow_provider_flyte.clients.v2.phases import SUCCESS_PHASES, RunPhase
    from airflow_provider_flyte.literals import to_json_able
    from airflow_provider_flyte.operators.flyte import FlyteExecutionFailedError

    run_id, run = _run_id(details), details.action.id.run
    phase = RunPhase.of(details.action.status.phase)
    if phase.is_terminal and phase not in SUCCESS_PHASES:
        message = details.action.error_info.message or details.action.abort_info.reason
        raise FlyteExecutionFailedError(run_id, phase.name, message, url)
    outputs = None
    if phase in SUCCESS_PHASES:
        data = operator.hook.get_flyte2_client().get_action_data(run_id)
        outputs = {name: to_json_able(value) for name, value in decode_outputs(data.outputs).items()}
    return {
        "execution_id": run_id,
        "run_id": run_id,
        "backend": BACKEND,
        "project": run.project,
        "domain": run.domain,
        "name": run.name,
        "phase": phase.name,
        "console_url": url,
        "outputs": outputs,
    }


def abort(operator: FlyteOperator, reason: str) -> None:
    """Abort the run the operator follows, if any (kill and timeout)."""
    run_id = operator._flyte2_run
    if run_id is None:
        return
    try:
        operator.hook.get_flyte2_client().abort_run(run_id, reason)
        operator.log.info("Aborted Flyte 2 run %s", run_id)
    except FlyteFailedPreconditionException:
        operator.log.info("Flyte 2 run %s had already finished", run_id)
    except Exception:
        operator.log.exception("Could not abort Flyte 2 run %s", run_id)
