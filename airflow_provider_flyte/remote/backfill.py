"""Backfill planning: the scheduled times of a cron launch plan in a range, and the workflow that runs them.

A backfill is a generated workflow ``backfill-<launch plan name>`` with one launch-plan node per scheduled time,
each passing that time as the schedule's kickoff input. Nodes are chained one after the other, or left independent
when ``parallel`` is set. Everything here is pure: nothing talks to Flyte Admin.

Time range semantics (the same as flytekit's ``create_backfill_workflow`` code, whose docstring claims otherwise):
a scheduled time ``t`` is included when ``from_date < t < to_date`` -- both ends are **exclusive**. A cron firing
exactly at ``to_date`` is not run; to include it pass a ``to_date`` slightly later. The times come from ``croniter``
exactly as flytekit computes them, so both plan the same runs for the same cron and range. Naive datetimes are read
as UTC (the clock Flyte's scheduler uses); flytekit reads them in the machine's local zone when it builds the
kickoff literal, which only differs on machines not set to UTC.

Only cron schedules (``cron_schedule`` or the older ``cron_expression``) can be backfilled; fixed-rate schedules have
no calendar to replay.

Following a backfill: node ``n<i>`` of the backfill execution launches the run for the ``i``-th scheduled time, and
its child execution is that run. :func:`backfill_children` reads the runs from the node executions (listed with
:func:`list_backfill_nodes` or :func:`alist_backfill_nodes`) as plain JSON, and :func:`progress_line` sums them up
for a log.
"""

from __future__ import annotations

import base64
import enum
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.identifiers import Identifier, ResourceType, WorkflowExecutionIdentifier

if TYPE_CHECKING:
    from flyteidl.admin import launch_plan_pb2, node_execution_pb2, workflow_pb2
    from flyteidl.core import literals_pb2

    from airflow_provider_flyte.clients.aio import AsyncFlyteClient
    from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient


class WorkflowFailurePolicy(enum.IntEnum):
    """What a backfill workflow does when a run fails (values of ``core.WorkflowMetadata.OnFailurePolicy``)."""

    FAIL_IMMEDIATELY = 0
    FAIL_AFTER_EXECUTABLE_NODES_COMPLETE = 1


@dataclass(frozen=True)
class BackfillPlan:
    """What a backfill will run: one execution of ``launch_plan_id`` per scheduled time.

    Attributes:
        launch_plan_id: The launch plan being backfilled (versioned).
        cron: The cron expression the times come from.
        kickoff_time_input_arg: The launch plan input receiving each scheduled time, or ``None`` when the schedule
            names none (the runs then get no time input).
        scheduled_times: The times, ascending; never empty.
        parallel: Whether the runs are independent (``True``) or chained one after the other.
        failure_policy: The backfill workflow's reaction to a failed run.
        per_node_retries: Retries of each launch-plan node.
        per_node_timeout: Timeout of each launch-plan node, or ``None``.
    """

    launch_plan_id: Identifier
    cron: str
    kickoff_time_input_arg: str | None
    scheduled_times: tuple[datetime, ...]
    parallel: bool = False
    failure_policy: WorkflowFailurePolicy = WorkflowFailurePolicy.FAIL_IMMEDIATELY
    per_node_retries: int = 0
    per_node_timeout: timedelta | None = None

    @property
    def workflow_name(self) -> str:
        """Name of the generated workflow (and of its default launch plan)."""
        return f"backfill-{self.launch_plan_id.name}"

    @property
    def actual_start(self) -> datetime:
        """The first scheduled time."""
        return self.scheduled_times[0]

    @property
    def actual_end(self) -> datetime:
        """The last scheduled time."""
        return self.scheduled_times[-1]

    @staticmethod
    def node_id(index: int) -> str:
        """Node id of the ``index``-th run (``n0``, ``n1``...), as flytekit numbers them."""
        return f"n{index}"

    @staticmethod
    def node_name(scheduled_time: datetime) -> str:
        """Display name of the run for ``scheduled_time`` (``b-2023-01-01 10:00:00``), as flytekit names it."""
        return f"b-{scheduled_time}"

    def default_version(self, launch_plan_version: str | None) -> str:
        """The version flytekit derives for the backfill workflow: url-safe base64 of an md5 fingerprint.

        Args:
            launch_plan_version: The version the caller asked for (``None`` when "latest" was requested); it is part
                of the fingerprint exactly as flytekit writes it.
        """
        fingerprint = f"{self.actual_start}-{self.actual_end}-{self.launch_plan_id.name}-{launch_plan_version}"
        digest = hashlib.md5(fingerprint.encode("utf-8"), usedforsecurity=False).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii")

    def to_dict(self) -> dict[str, object]:
        """JSON-able summary (for dry runs, logs and XCom)."""
        return {
            "launch_plan": str(self.launch_plan_id),
            "workflow_name": self.workflow_name,
            "cron": self.cron,
            "kickoff_time_input_arg": self.kickoff_time_input_arg,
            "scheduled_times": [t.isoformat() for t in self.scheduled_times],
            "parallel": self.parallel,
            "failure_policy": self.failure_policy.name,
        }


def scheduled_times(cron: str, from_date: datetime, to_date: datetime) -> list[datetime]:
    """Return the times ``cron`` fires strictly between ``from_date`` and ``to_date``, ascending.

    Raises:
        FlyteInvalidInputException: when ``from_date >= to_date`` or ``cron`` is not a valid expression.
    """
    from croniter import croniter

    if from_date >= to_date:
        raise FlyteInvalidInputException(
            f"from_date={from_date.isoformat()} must be earlier than to_date={to_date.isoformat()}"
        )
    try:
        iterator = croniter(cron, start_time=from_date, ret_type=datetime)
    except (ValueError, KeyError) as error:
        raise FlyteInvalidInputException(f"cron schedule {cron!r} is not a valid cron expression: {error}") from None
    times: list[datetime] = []
    while True:
        fire_time = iterator.get_next()
        if fire_time >= to_date:
            return times
        times.append(fire_time)


def plan_backfill(
    launch_plan: launch_plan_pb2.LaunchPlan,
    from_date: datetime,
    to_date: datetime,
    *,
    parallel: bool = False,
    failure_policy: WorkflowFailurePolicy | None = None,
    per_node_retries: int = 0,
    per_node_timeout: timedelta | None = None,
) -> BackfillPlan:
    """Plan the backfill of a cron-scheduled launch plan.

    Args:
        launch_plan: The launch plan as Admin returns it (``admin.LaunchPlan``, versioned id and spec).
        from_date: Exclusive lower bound of the scheduled times.
        to_date: Exclusive upper bound of the scheduled times.
        parallel: Run the executions independently instead of one after the other.
        failure_policy: What the backfill workflow does when a run fails (default: fail immediately).
        per_node_retries: Retries of each launch-plan node.
        per_node_timeout: Timeout of each launch-plan node.

    Raises:
        FlyteInvalidInputException: the launch plan has no schedule or a fixed-rate one, it needs inputs the
            backfill cannot provide, the range is empty or inverted, or no scheduled time falls inside it.
    """
    lp_id = Identifier.from_flyte_idl(launch_plan.id)
    metadata = launch_plan.spec.entity_metadata
    if not metadata.HasField("schedule"):
        raise FlyteInvalidInputException(f"launch plan {lp_id} has no schedule; only scheduled launch plans backfill")
    schedule = metadata.schedule
    kind = schedule.WhichOneof("ScheduleExpression")
    if kind == "cron_schedule":
        cron = schedule.cron_schedule.schedule
    elif kind == "cron_expression":
        cron = schedule.cron_expression
    else:
        raise FlyteInvalidInputException(
            f"launch plan {lp_id} has a fixed-rate schedule; only cron schedules can be backfilled"
        )
    kickoff = schedule.kickoff_time_input_arg or None
    _check_inputs_provided(launch_plan, kickoff, lp_id)
    if per_node_retries < 0:
        raise FlyteInvalidInputException(f"per_node_retries={per_node_retries} must not be negative")
    times = scheduled_times(cron, from_date, to_date)
    if not times:
        raise FlyteInvalidInputException(
            f"no run of {cron!r} falls strictly between from_date={from_date.isoformat()} and "
            f"to_date={to_date.isoformat()}; widen the range"
        )
    return BackfillPlan(
        launch_plan_id=lp_id,
        cron=cron,
        kickoff_time_input_arg=kickoff,
        scheduled_times=tuple(times),
        parallel=parallel,
        failure_policy=failure_policy or WorkflowFailurePolicy.FAIL_IMMEDIATELY,
        per_node_retries=per_node_retries,
        per_node_timeout=per_node_timeout,
    )


def _check_inputs_provided(launch_plan: launch_plan_pb2.LaunchPlan, kickoff: str | None, lp_id: Identifier) -> None:
    """Every required input without a default must be the kickoff input, or the runs could not start."""
    parameters = launch_plan.closure.expected_inputs.parameters or launch_plan.spec.default_inputs.parameters
    missing = sorted(
        name
        for name, parameter in parameters.items()
        if parameter.required and not parameter.HasField("default") and name != kickoff
    )
    if missing:
        raise FlyteInvalidInputException(
            f"launch plan {lp_id} requires input(s) {', '.join(missing)} with no default; a backfill can only "
            "provide the schedule's kickoff time"
        )


def backfill_workflow_spec(plan: BackfillPlan, project: str, domain: str, version: str) -> workflow_pb2.WorkflowSpec:
    """Build the ``admin.WorkflowSpec`` of the backfill workflow for registration.

    The workflow has no inputs or outputs; node ``n<i>`` launches the backfilled launch plan for the ``i``-th
    scheduled time, depending on ``n<i-1>`` unless the plan is parallel.
    """
    from flyteidl.admin import workflow_pb2
    from flyteidl.core import interface_pb2, literals_pb2
    from flyteidl.core import workflow_pb2 as core_workflow_pb2

    workflow_id = Identifier(ResourceType.WORKFLOW, project, domain, plan.workflow_name, version)
    nodes = []
    for index, scheduled in enumerate(plan.scheduled_times):
        metadata = core_workflow_pb2.NodeMetadata(
            name=plan.node_name(scheduled),
            retries=literals_pb2.RetryStrategy(retries=plan.per_node_retries),
        )
        if plan.per_node_timeout is not None:
            metadata.timeout.FromTimedelta(plan.per_node_timeout)
        bindings = []
        if plan.kickoff_time_input_arg:
            bindings.append(
                literals_pb2.Binding(
                    var=plan.kickoff_time_input_arg,
                    binding=literals_pb2.BindingData(scalar=_datetime_literal(scheduled).scalar),
                )
            )
        node = core_workflow_pb2.Node(
            id=plan.node_id(index),
            metadata=metadata,
            inputs=bindings,
            workflow_node=core_workflow_pb2.WorkflowNode(launchplan_ref=plan.launch_plan_id.to_flyte_idl()),
        )
        if index > 0 and not plan.parallel:
            node.upstream_node_ids.append(plan.node_id(index - 1))
        nodes.append(node)
    template = core_workflow_pb2.WorkflowTemplate(
        id=workflow_id.to_flyte_idl(),
        metadata=core_workflow_pb2.WorkflowMetadata(on_failure=int(plan.failure_policy)),  # type: ignore[arg-type]
        # Present though empty, as flytekit writes it: Admin compares structure, and "unset" differs from "{}".
        metadata_defaults=core_workflow_pb2.WorkflowMetadataDefaults(),
        interface=interface_pb2.TypedInterface(inputs=interface_pb2.VariableMap(), outputs=interface_pb2.VariableMap()),
        nodes=nodes,
    )
    return workflow_pb2.WorkflowSpec(template=template)


def backfill_launch_plan_spec(workflow_id: Identifier) -> launch_plan_pb2.LaunchPlanSpec:
    """The default launch plan of the backfill workflow: no inputs, no schedule."""
    from airflow_provider_flyte.remote.registration import default_launch_plan_spec

    return default_launch_plan_spec(workflow_id)


def _datetime_literal(value: datetime) -> literals_pb2.Literal:
    from flyteidl.core import literals_pb2

    aware = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    literal = literals_pb2.Literal()
    literal.scalar.primitive.datetime.FromDatetime(aware.astimezone(timezone.utc).replace(tzinfo=None))
    return literal


def list_backfill_nodes(
    client: SynchronousFlyteClient, execution_id: WorkflowExecutionIdentifier
) -> list[node_execution_pb2.NodeExecution]:
    """The top-level node executions of a backfill execution, following every page."""
    nodes: list[node_execution_pb2.NodeExecution] = []
    token: str | None = None
    while True:
        page, token = client.list_node_executions(execution_id, limit=_NODE_PAGE, token=token)
        nodes.extend(page)
        if not token:
            return nodes


async def alist_backfill_nodes(
    client: AsyncFlyteClient, execution_id: WorkflowExecutionIdentifier
) -> list[node_execution_pb2.NodeExecution]:
    """The asyncio twin of :func:`list_backfill_nodes`."""
    nodes: list[node_execution_pb2.NodeExecution] = []
    token: str | None = None
    while True:
        page, token = await client.list_node_executions(execution_id, limit=_NODE_PAGE, token=token)
        nodes.extend(page)
        if not token:
            return nodes


_NODE_PAGE = 100
_FINISHED = frozenset({"SUCCEEDED", "FAILED", "ABORTED", "SKIPPED", "TIMED_OUT", "RECOVERED"})
_FAILED = frozenset({"FAILED", "ABORTED", "TIMED_OUT"})


def backfill_children(
    nodes: Iterable[node_execution_pb2.NodeExecution], scheduled_times: Mapping[str, str]
) -> list[dict[str, Any]]:
    """One plain-JSON entry per backfill run, in schedule order.

    Args:
        nodes: The backfill execution's top-level node executions (start and end nodes are ignored).
        scheduled_times: ISO scheduled time by node id (``{"n0": "2026-01-01T02:00:00+00:00", ...}``).

    Returns:
        ``[{"node_id", "scheduled_time", "execution_id" (None until launched), "phase"}, ...]``; nodes not started
        yet are reported ``"UNDEFINED"``.
    """
    from airflow_provider_flyte.remote.executions import NODE_PHASES

    by_id = {node.id.node_id: node for node in nodes}
    children = []
    for node_id, scheduled in sorted(scheduled_times.items(), key=lambda item: int(item[0][1:])):
        node = by_id.get(node_id)
        child_id = None
        phase = "UNDEFINED"
        if node is not None:
            phase = NODE_PHASES[node.closure.phase]
            if node.closure.HasField("workflow_node_metadata"):
                child = node.closure.workflow_node_metadata.executionId
                if child.name:
                    child_id = f"ex:{child.project}:{child.domain}:{child.name}"
        children.append({"node_id": node_id, "scheduled_time": scheduled, "execution_id": child_id, "phase": phase})
    return children


def failed_children(children: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The runs that ended without succeeding."""
    return [child for child in children if child["phase"] in _FAILED]


def describe_child(child: Mapping[str, Any]) -> str:
    """``2026-01-02T02:00:00+00:00 (ex:p:d:name) FAILED`` -- how logs and errors name a run."""
    where = f" ({child['execution_id']})" if child.get("execution_id") else ""
    return f"{child['scheduled_time']}{where} {child['phase']}"


def progress_line(children: Sequence[Mapping[str, Any]]) -> str:
    """``2 of 3 backfill runs finished; failed: ...`` for the task log."""
    finished = sum(child["phase"] in _FINISHED for child in children)
    failed = failed_children(children)
    line = f"{finished} of {len(children)} backfill runs finished"
    if failed:
        line += "; failed: " + ", ".join(describe_child(child) for child in failed)
    return line
