"""Backfill planning: the same scheduled times and workflow shape as flytekit's create_backfill_workflow."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Any

import pytest
from flyteidl.admin import launch_plan_pb2, schedule_pb2
from flyteidl.core import interface_pb2, types_pb2

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.identifiers import Identifier, ResourceType
from airflow_provider_flyte.remote.backfill import (
    WorkflowFailurePolicy,
    backfill_launch_plan_spec,
    backfill_workflow_spec,
    plan_backfill,
    scheduled_times,
)

UTC = dt.timezone.utc
CASES = [
    ("0 10 * * *", dt.datetime(2023, 1, 1), dt.datetime(2023, 1, 5)),
    ("0 10 * * *", dt.datetime(2023, 1, 1, 10), dt.datetime(2023, 1, 3, 10)),  # both ends fall on a firing
    ("*/15 * * * *", dt.datetime(2023, 3, 1, 0, 7), dt.datetime(2023, 3, 1, 2)),
    ("0 0 1 * *", dt.datetime(2022, 11, 15), dt.datetime(2023, 4, 1)),
    ("30 6 * * 1-5", dt.datetime(2024, 2, 23), dt.datetime(2024, 3, 6)),
]


def _launch_plan(cron: str, kickoff: str | None = "kickoff", *, required: tuple[str, ...] = ()) -> Any:
    lp = launch_plan_pb2.LaunchPlan(
        id=Identifier(ResourceType.LAUNCH_PLAN, "flytesnacks", "development", "daily", "v1").to_flyte_idl()
    )
    lp.spec.entity_metadata.schedule.CopyFrom(
        schedule_pb2.Schedule(cron_schedule=schedule_pb2.CronSchedule(schedule=cron), kickoff_time_input_arg=kickoff)
    )
    datetime_var = interface_pb2.Variable(type=types_pb2.LiteralType(simple=types_pb2.DATETIME))
    if kickoff:
        lp.closure.expected_inputs.parameters[kickoff].CopyFrom(
            interface_pb2.Parameter(var=datetime_var, required=True)
        )
    for name in required:
        lp.closure.expected_inputs.parameters[name].CopyFrom(interface_pb2.Parameter(var=datetime_var, required=True))
    return lp


def _flytekit_backfill(cron: str, start: dt.datetime, end: dt.datetime, parallel: bool) -> Any:
    """flytekit's backfill workflow for the same cron and range, serialized to flyteidl."""
    pytest.importorskip("flytekit")
    import remote_flytekit_entities
    from flytekit import CronSchedule, LaunchPlan
    from flytekit.configuration import ImageConfig, SerializationSettings
    from flytekit.remote.backfill import create_backfill_workflow
    from flytekit.tools.translator import get_serializable

    lp = LaunchPlan.get_or_create(
        remote_flytekit_entities.scheduled_wf,
        name=f"daily-{abs(hash(cron))}",
        schedule=CronSchedule(schedule=cron, kickoff_time_input_arg="kickoff"),
    )
    wf, first, last = create_backfill_workflow(start, end, lp, parallel=parallel)
    settings = SerializationSettings(
        image_config=ImageConfig.auto_default_image(), project="flytesnacks", domain="development", version="v1"
    )
    return get_serializable(OrderedDict(), settings, wf).template.to_flyte_idl(), first, last


@pytest.mark.parametrize(("cron", "start", "end"), CASES)
@pytest.mark.parametrize("parallel", [False, True])
def test_same_plan_as_flytekit(cron: str, start: dt.datetime, end: dt.datetime, parallel: bool) -> None:
    theirs, first, last = _flytekit_backfill(cron, start, end, parallel)
    plan = plan_backfill(_launch_plan(cron), start, end, parallel=parallel)
    ours = backfill_workflow_spec(plan, "flytesnacks", "development", "v1").template

    assert (plan.actual_start, plan.actual_end) == (first, last)
    assert [node.id for node in ours.nodes] == [node.id for node in theirs.nodes]
    assert [node.metadata.name for node in ours.nodes] == [node.metadata.name for node in theirs.nodes]
    assert [list(node.upstream_node_ids) for node in ours.nodes] == [list(n.upstream_node_ids) for n in theirs.nodes]
    for mine, their in zip(ours.nodes, theirs.nodes, strict=True):
        their_kickoff = next(binding for binding in their.inputs if binding.var == "kickoff")
        assert list(mine.inputs) == [their_kickoff]  # flytekit also binds the defaults; the launch plan has them
        assert mine.workflow_node.launchplan_ref.name == "daily"
    assert ours.metadata.on_failure == theirs.metadata.on_failure


def test_both_ends_are_exclusive() -> None:
    times = scheduled_times("0 10 * * *", dt.datetime(2023, 1, 1, 10), dt.datetime(2023, 1, 4, 10))
    assert times == [dt.datetime(2023, 1, 2, 10), dt.datetime(2023, 1, 3, 10)]


def test_aware_dates_and_kickoff_literal_in_utc() -> None:
    start = dt.datetime(2023, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    plan = plan_backfill(_launch_plan("0 * * * *"), start, start + dt.timedelta(hours=2))
    assert [t.isoformat() for t in plan.scheduled_times] == ["2023-01-01T01:00:00+02:00"]
    node = backfill_workflow_spec(plan, "p", "d", "v").template.nodes[0]
    assert node.inputs[0].binding.scalar.primitive.datetime.ToDatetime() == dt.datetime(2022, 12, 31, 23)


def test_plan_details() -> None:
    start = dt.datetime(2023, 1, 1)
    plan = plan_backfill(
        _launch_plan("0 10 * * *", kickoff=None),
        start,
        start + dt.timedelta(days=2),
        failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE,
        per_node_retries=2,
        per_node_timeout=dt.timedelta(minutes=5),
    )
    spec = backfill_workflow_spec(plan, "p", "d", "v9")
    assert spec.template.id.name == "backfill-daily"
    assert spec.template.id.version == "v9"
    assert spec.template.metadata.on_failure == 1
    node = spec.template.nodes[1]
    assert not node.inputs  # no kickoff argument: the runs get no time input
    assert node.metadata.retries.retries == 2
    assert node.metadata.timeout.seconds == 300
    assert plan.to_dict()["scheduled_times"] == ["2023-01-01T10:00:00", "2023-01-02T10:00:00"]
    lp_spec = backfill_launch_plan_spec(Identifier.from_flyte_idl(spec.template.id))
    assert lp_spec.workflow_id == spec.template.id


def test_default_version_matches_flytekit_fingerprint() -> None:
    import base64
    import hashlib

    start = dt.datetime(2023, 1, 1)
    plan = plan_backfill(_launch_plan("0 10 * * *"), start, start + dt.timedelta(days=3))
    fingerprint = f"{plan.actual_start}-{plan.actual_end}-daily-None"
    expected = base64.urlsafe_b64encode(hashlib.md5(fingerprint.encode()).digest()).decode()
    assert plan.default_version(None) == expected
    assert plan.default_version("v1") != expected


@pytest.mark.parametrize(
    ("lp", "start", "end", "message"),
    [
        (_launch_plan("0 10 * * *"), dt.datetime(2023, 1, 2), dt.datetime(2023, 1, 1), "must be earlier"),
        (_launch_plan("0 10 * * *"), dt.datetime(2023, 1, 1, 11), dt.datetime(2023, 1, 2, 9), "no run of"),
        (_launch_plan("not a cron"), dt.datetime(2023, 1, 1), dt.datetime(2023, 1, 2), "not a valid cron"),
        (_launch_plan("0 10 * * *", required=("region",)), dt.datetime(2023, 1, 1), dt.datetime(2023, 1, 9), "region"),
    ],
)
def test_bad_plans_are_rejected(lp: Any, start: dt.datetime, end: dt.datetime, message: str) -> None:
    with pytest.raises(FlyteInvalidInputException, match=message):
        plan_backfill(lp, start, end)


def test_unscheduled_and_fixed_rate_launch_plans_are_rejected() -> None:
    unscheduled = launch_plan_pb2.LaunchPlan(id=_launch_plan("* * * * *").id)
    with pytest.raises(FlyteInvalidInputException, match="has no schedule"):
        plan_backfill(unscheduled, dt.datetime(2023, 1, 1), dt.datetime(2023, 1, 2))
    fixed_rate = _launch_plan("* * * * *")
    fixed_rate.spec.entity_metadata.schedule.rate.value = 5
    with pytest.raises(FlyteInvalidInputException, match="fixed-rate"):
        plan_backfill(fixed_rate, dt.datetime(2023, 1, 1), dt.datetime(2023, 1, 2))


def test_legacy_cron_expression_is_supported() -> None:
    lp = _launch_plan("* * * * *")
    lp.spec.entity_metadata.schedule.cron_expression = "0 12 * * *"
    plan = plan_backfill(lp, dt.datetime(2023, 1, 1), dt.datetime(2023, 1, 3))
    assert plan.cron == "0 12 * * *"
    assert len(plan.scheduled_times) == 2
