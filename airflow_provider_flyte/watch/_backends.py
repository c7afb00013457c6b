"""What a watcher's tick fetches and how it reads the answers: the Flyte 1 and Flyte 2 backends of the watcher.

The watcher (:mod:`._watcher`) is the same for both Flytes: pages of names per project/domain, one listing call per
page per tick, a look of its own at what a listing did not return, wake-ups only on a phase change, outage tolerance.
A :class:`WatchBackend` is the small part that differs:

* **Flyte 1** lists with ``ListExecutions(value_in(execution_name,a;b;...))``; a listed ``admin.Execution`` carries
  everything a snapshot needs (phase, error, abort cause); ``GetExecution`` looks at an execution a listing hid.
* **Flyte 2** lists with ``ListRuns`` filtered by ``VALUE_IN`` on ``name`` (the ``flyteidl2.common.Filter``
  function the IDL offers, and the field the backend filters runs by). A listed ``Run`` is a summary without the
  error or abort reason, so a run seen reaching a terminal phase is looked at once more with ``GetRunDetails``
  (:attr:`WatchBackend.complete`); a lone new subscription is served by ``GetRunDetails`` too
  (:attr:`WatchBackend.first_look_gets`).

Importing this module loads no grpc, protobuf or flyteidl code; the Flyte 2 backend imports ``flyteidl2`` on first use.
"""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
from airflow_provider_flyte.watch._pages import ListRequest, check_name, list_request
from airflow_provider_flyte.watch._snapshots import ExecutionSnapshot

ListPage = Callable[[Any, str, str, ListRequest], Awaitable[Sequence[Any]]]
"""Awaits one listing call: ``(client, project, domain, request) -> items``."""
GetOne = Callable[[Any, WorkflowExecutionIdentifier], Awaitable[Any]]
"""Awaits one look at a single execution or run: ``(client, id) -> item``."""


@dataclass(frozen=True)
class WatchBackend:
    """How a watcher talks to one kind of Flyte backend (see the module docstring).

    Attributes:
        describe: How messages and outage logs name what is watched (``execution ex:p:d:name``,
            ``Flyte 2 run p:d:name``).
        parse_id: The identifier of a string form (``ex:p:d:name`` or ``p:d:name``).
        check_name: Raises ``FlyteException`` for a name the listing filter cannot carry.
        list_request: Builds a page's request from its names.
        list_page: Awaits one listing call.
        get: Awaits one look at a single execution (a ``FlyteEntityNotExistException`` when it does not exist).
        item_name: The name of a listed item.
        item_phase: The phase number of a listed item, or of what :attr:`get` returned.
        snapshot: The snapshot of a listed item, or of what :attr:`get` returned.
        complete: Whether a listed item of that phase number carries all a snapshot needs; when not, the watcher
            publishes what :attr:`get` returns instead. ``None``: listed items are always complete.
        first_look_gets: A first look at this many new names of a project/domain or fewer calls :attr:`get` for
            each instead of listing them.
    """

    describe: Callable[[WorkflowExecutionIdentifier], str]
    parse_id: Callable[[str], WorkflowExecutionIdentifier]
    check_name: Callable[[str], None]
    list_request: Callable[[Iterable[str]], ListRequest]
    list_page: ListPage
    get: GetOne
    item_name: Callable[[Any], str]
    item_phase: Callable[[Any], int]
    snapshot: Callable[[Any, WorkflowExecutionIdentifier], ExecutionSnapshot]
    complete: Callable[[int], bool] | None = None
    first_look_gets: int = 0


# ------------------------------------------------------------------------------------------------ Flyte 1


def _describe_execution(execution_id: WorkflowExecutionIdentifier) -> str:
    return f"execution {execution_id}"


async def _list_executions(client: Any, project: str, domain: str, page: ListRequest) -> Sequence[Any]:
    items, _token = await client.list_executions_paginated(
        project, domain, limit=len(page.names), token="", filters=page.filters
    )
    return items  # type: ignore[no-any-return]


async def _get_execution(client: Any, execution_id: WorkflowExecutionIdentifier) -> Any:
    return await client.get_execution(execution_id)


FLYTE1 = WatchBackend(
    describe=_describe_execution,
    parse_id=WorkflowExecutionIdentifier.from_python_std,
    check_name=check_name,
    list_request=list_request,
    list_page=_list_executions,
    get=_get_execution,
    item_name=operator.attrgetter("id.name"),
    item_phase=operator.attrgetter("closure.phase"),
    snapshot=ExecutionSnapshot.from_execution,
)
"""Flyte 1 (``flyteidl.admin``) through an :class:`~airflow_provider_flyte.clients.aio.AsyncFlyteClient`."""


# ------------------------------------------------------------------------------------------------ Flyte 2


@dataclass(frozen=True)
class RunSnapshot(ExecutionSnapshot):
    """A snapshot of a Flyte 2 run: ``phase`` is its Flyte 2 phase name (``"RECOVERED"``...).

    Attributes:
        terminal: Whether the run can no longer change (Flyte 2 counts ``RECOVERED`` as terminal).
    """

    terminal: bool = field(default=False, compare=False)

    @property
    def is_terminal(self) -> bool:
        """Whether the run is finished."""
        return self.terminal

    @classmethod
    def from_run(cls, item: Any, run_id: WorkflowExecutionIdentifier) -> RunSnapshot:
        """Build from a ``Run`` (a listing's summary: no message) or a ``RunDetails`` (with the error or abort reason).

        Args:
            item: The run or its details.
            run_id: The run's identifier.
        """
        from airflow_provider_flyte.clients.v2.phases import RunPhase

        action = item.action
        phase = RunPhase.of(action.status.phase)
        message = ""
        if hasattr(action, "error_info"):  # ActionDetails; a listed Run's Action has no error or abort info
            message = action.error_info.message or action.abort_info.reason
        return cls(run_id, phase.name, message, int(action.status.phase), phase.is_terminal)


def parse_run_id(run_id: str) -> WorkflowExecutionIdentifier:
    """The identifier of ``project:domain:name`` (a Flyte 2 run id).

    Raises:
        ValueError: when ``run_id`` does not have three non-empty parts.
    """
    parts = run_id.split(":")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"run_id={run_id!r} must be 'project:domain:name'")
    return WorkflowExecutionIdentifier(*parts)


def _describe_run(run_id: WorkflowExecutionIdentifier) -> str:
    return f"Flyte 2 run {run_id.project}:{run_id.domain}:{run_id.name}"


def _check_run_name(name: str) -> None:
    """Any name fits a ``VALUE_IN`` filter: its values travel as separate strings, not in a formatted string."""


def _runs_request(names: Iterable[str]) -> ListRequest:
    from airflow_provider_flyte.clients.v2._calls import to_filters

    asked = tuple(names)
    return ListRequest(to_filters({"name": list(asked)}), asked)


async def _list_runs(client: Any, project: str, domain: str, page: ListRequest) -> Sequence[Any]:
    runs, _token = await client.list_runs(project, domain, filters=page.filters, limit=len(page.names))
    return runs  # type: ignore[no-any-return]


async def _get_run_details(client: Any, run_id: WorkflowExecutionIdentifier) -> Any:
    return await client.get_run_details(f"{run_id.project}:{run_id.domain}:{run_id.name}")


def _summary_suffices(phase: int) -> bool:
    """A listed run's summary is enough for a run still going; a finished one needs its details (why it ended)."""
    from airflow_provider_flyte.clients.v2.phases import is_terminal

    return not is_terminal(phase)


FLYTE2 = WatchBackend(
    describe=_describe_run,
    parse_id=parse_run_id,
    check_name=_check_run_name,
    list_request=_runs_request,
    list_page=_list_runs,
    get=_get_run_details,
    item_name=operator.attrgetter("action.id.run.name"),
    item_phase=operator.attrgetter("action.status.phase"),  # the same path in a Run and in RunDetails
    snapshot=RunSnapshot.from_run,
    complete=_summary_suffices,
    first_look_gets=1,  # one new run: its details in one call, terminal or not; a burst: one ListRuns per page
)
"""Flyte 2 (``flyteidl2.workflow.RunService``) through an ``AsyncFlyte2Client``."""


__all__ = ["FLYTE1", "FLYTE2", "RunSnapshot", "WatchBackend", "parse_run_id"]
