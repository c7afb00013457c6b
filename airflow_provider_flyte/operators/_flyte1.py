"""FlyteOperator on Flyte 1: find, launch or relaunch the task instance's execution, follow it, report its result.

The lifecycle of one execution as :class:`~airflow_provider_flyte.operators.flyte.FlyteOperator` runs it on Flyte
Admin (:mod:`airflow_provider_flyte.operators._flyte2` is its Flyte 2 twin). The operator module keeps what building a
task needs; this module loads when a task runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_flyte._airflow_common import string_map
from airflow_provider_flyte.links.flyte import push_console_link
from airflow_provider_flyte.operators import _lineage, _naming
from airflow_provider_flyte.operators.flyte import FlyteExecutionFailedError

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_flyte.operators.flyte import FlyteOperator
    from airflow_provider_flyte.remote import FlyteRemote, FlyteWorkflowExecution


def start(operator: FlyteOperator, context: Context) -> FlyteWorkflowExecution:
    """Reattach to the task instance's newest execution, reuse its success, or launch (again)."""
    remote = operator.hook.get_remote()
    project, domain = operator._project_domain()
    found = latest(operator, remote, context, project, domain)
    base = operator._base_name(context)
    if found is None:
        return launch(operator, remote, project, domain, base, context)
    newest, generation = found
    if not newest.is_done:
        operator.log.info("Reattaching to Flyte execution %s (%s)", newest.id, newest.phase_name)
        return newest
    if newest.is_successful:
        operator.log.info("Flyte execution %s already succeeded; using its result", newest.id)
        return newest
    successor = _naming.retry_name(base, generation + 1)
    operator.log.info(
        "Flyte execution %s ended %s; on_retry=%r launches %s",
        newest.id,
        newest.phase_name,
        operator.on_retry,
        successor,
    )
    if operator.on_retry == "recover":
        return remote.recover_execution(newest.id, name=successor)
    if operator.on_retry == "relaunch":
        return remote.relaunch_execution(newest.id, name=successor)
    return launch(operator, remote, project, domain, successor, context)


def latest(
    operator: FlyteOperator, remote: FlyteRemote, context: Context, project: str, domain: str
) -> tuple[FlyteWorkflowExecution, int] | None:
    """The newest execution this task instance started (any try), and its generation."""

    def fetch(name: str) -> FlyteWorkflowExecution:
        return remote.fetch_execution(project, domain, name)

    return _naming.latest_generation(fetch, operator._base_name(context), known=_naming.stored_name(context))


def announce(operator: FlyteOperator, context: Context, execution: FlyteWorkflowExecution) -> str:
    """Make ``execution`` the one this task follows: Console link, ``task_state_store``, a log line; its URL."""
    url = operator.hook.get_remote().generate_console_url(execution)
    operator._followed = execution
    if operator._execution_id != execution.id:
        operator._execution_id = execution.id
        push_console_link(context, url)
        _naming.store_name(context, execution.id.name)
        operator.log.info("Flyte execution %s is %s: %s", execution.id, execution.phase_name, url)
    return url


def launch(
    operator: FlyteOperator, remote: FlyteRemote, project: str, domain: str, name: str, context: Context
) -> FlyteWorkflowExecution:
    """Launch the operator's entity with its inputs and options as execution ``name``."""
    entity = operator._entity().fetch(remote, project, domain)
    return remote.execute(
        entity,
        inputs=dict(operator.inputs or {}),
        project=project,
        domain=domain,
        execution_name=name,
        options=operator._options(context),
        overwrite_cache=operator.overwrite_cache,
        interruptible=operator.interruptible,
        envs=string_map(operator.envs, "envs", operator.task_id),
        tags=list(operator.tags or ()),
        cluster_pool=operator.cluster_pool or None,
    )


def finish(operator: FlyteOperator, execution: FlyteWorkflowExecution, url: str) -> dict[str, Any]:
    """The task's result for a finished (or not awaited) execution; raise for a failed one."""
    operator._lineage = _lineage.capture(operator.hook, execution, url)
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
