"""Exactly-once execution creates: a named create either makes the execution or finds the one already made.

Creating an execution under a fixed name (``CreateExecution``, ``RecoverExecution``, ``RelaunchExecution``) can end
three ways besides plain success, and none of them may start a second run:

* ALREADY_EXISTS: an earlier attempt, an earlier Airflow try or a concurrent worker created it; it is ours.
* A transient error once the client's retries are spent (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED): the
  create may or may not have been applied. One lookup of the name settles it; if the execution is not there, the
  error is raised and the caller may try again later under the same name, which adopts a create that lands late.
* Anything else is raised as is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from airflow_provider_flyte.exceptions import (
    FlyteEntityAlreadyExistsException,
    FlyteEntityNotExistException,
    FlyteException,
)
from airflow_provider_flyte.waiting import is_transient

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient
    from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier

logger = logging.getLogger(__name__)


def create_named(
    client: SynchronousFlyteClient,
    create: Callable[[], WorkflowExecutionIdentifier],
    execution_id: WorkflowExecutionIdentifier | None,
) -> WorkflowExecutionIdentifier:
    """Run ``create``; with a fixed ``execution_id``, settle ALREADY_EXISTS and unknown outcomes by that name.

    Args:
        client: The client to look the name up with.
        create: The create call, returning the new execution's id.
        execution_id: The id the create names, or ``None`` when the server picks the name (nothing to settle).

    Raises:
        FlyteException: the create's own error when the execution does not exist after all.
    """
    try:
        return create()
    except FlyteEntityAlreadyExistsException:
        if execution_id is None:
            raise
        logger.info("Execution %s already exists (an earlier attempt created it); using it", execution_id)
        return execution_id
    except FlyteException as error:
        if execution_id is None or not is_transient(error):
            raise
        if not _exists(client, execution_id):
            raise
        logger.info("Creating execution %s failed with %s, but it was created: using it", execution_id, error.code)
        return execution_id


def _exists(client: SynchronousFlyteClient, execution_id: WorkflowExecutionIdentifier) -> bool:
    try:
        client.get_execution(execution_id)
    except FlyteEntityNotExistException:
        return False
    except FlyteException:
        return False  # still unknown: the caller reports the create's error, and a later try adopts a late create
    return True
