# ruff: noqa: F811  (the shared DAG-test fixtures are imported from test_airflow_dags and used as parameters)
"""Backfills from Airflow through ``dag.test()`` against the sandbox's cron launch plan ``demo.nightly``."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any

import pytest
from test_airflow_dags import airflow_db, dags, remote, state, task_instances, xcom  # noqa: F401 (fixtures)

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.operators.backfill import _as_datetime
from airflow_provider_flyte.operators.flyte import execution_name_for
from airflow_provider_flyte.remote import FlyteRemote
from airflow_provider_flyte.remote.backfill import progress_line
from tests.support.airflow_env import AIRFLOW_ISOLATED

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not AIRFLOW_ISOLATED, reason="Airflow was imported before its test home could be set up"),
]


def kickoff_times(remote: FlyteRemote, children: list[dict[str, Any]]) -> list[datetime]:
    """The ``kickoff_time`` input each child execution received."""
    return [
        remote.fetch_execution(name=child["execution_id"].rsplit(":", 1)[1]).inputs["kickoff_time"]
        for child in children
    ]


def test_three_days_give_exactly_three_runs_in_parallel_and_in_order(
    dags: dict[str, Any], remote: FlyteRemote, capfd: pytest.CaptureFixture[str]
) -> None:
    run = dags["flyte_test_backfill"].test()
    assert {key[0]: state(ti) for key, ti in task_instances(run).items()} == {
        "parallel_days": "success",
        "serial_days": "success",
    }
    for task_id, month in (("parallel_days", 1), ("serial_days", 2)):
        result = xcom(run, task_id)
        children = result["children"]
        assert [child["node_id"] for child in children] == ["n0", "n1", "n2"]
        assert {child["phase"] for child in children} == {"SUCCEEDED"}
        assert len({child["execution_id"] for child in children}) == 3
        expected = [datetime(2026, month, day, 2, tzinfo=timezone.utc) for day in (1, 2, 3)]
        assert [t.astimezone(timezone.utc) for t in kickoff_times(remote, children)] == expected
        backfill = remote.fetch_execution(name=result["execution_id"].rsplit(":", 1)[1])
        assert backfill.phase_name == "SUCCEEDED"
    serial = [
        remote.fetch_execution(name=c["execution_id"].rsplit(":", 1)[1]) for c in xcom(run, "serial_days")["children"]
    ]
    for earlier, later in itertools.pairwise(serial):
        # Serial: each run is created only after the one before it has finished.
        assert later.closure.created_at.ToDatetime() >= earlier.closure.updated_at.ToDatetime()
    output = "".join(capfd.readouterr())
    assert "3 of 3 backfill runs finished" in output


@pytest.fixture
def bad_second_of_month(sandbox: Any) -> Any:
    """``demo.describe_run`` fails for kickoff times on the 2nd of a month while the test runs."""

    def describe(kickoff_time: datetime, region: str) -> dict[str, str]:
        if kickoff_time.day == 2:
            raise ValueError(f"no data for {kickoff_time:%Y-%m-%d} in {region}")
        return {"o0": f"{region}@{kickoff_time.isoformat()}"}

    sandbox.script("demo.describe_run", outputs=describe)
    yield
    sandbox.unscript("demo.describe_run")


def test_a_failed_day_stops_a_serial_backfill_and_is_named(
    dags: dict[str, Any], remote: FlyteRemote, bad_second_of_month: None, capfd: pytest.CaptureFixture[str]
) -> None:
    run = dags["flyte_test_backfill_failing_day"].test()
    assert {key[0]: state(ti) for key, ti in task_instances(run).items()} == {"serial_with_a_bad_day": "failed"}
    backfill = remote.fetch_execution(name=execution_name_for(run.dag_id, run.run_id, "serial_with_a_bad_day"))
    assert backfill.phase_name == "FAILED"
    nodes = remote.sync_execution(backfill, sync_nodes=True).node_executions
    assert sorted(node_id for node_id in nodes if node_id.startswith("n")) == ["n0", "n1"]  # the 3rd never started
    assert nodes["n0"].workflow_executions[0].phase_name == "SUCCEEDED"
    bad = nodes["n1"].workflow_executions[0]
    assert bad.phase_name == "FAILED"
    assert "no data for 2026-05-02 in eu" in bad.error.message
    output = "".join(capfd.readouterr())
    assert f"failed runs: 2026-05-02T02:00:00+00:00 ({bad.id}) FAILED" in output
    assert "2 of 3 backfill runs finished; failed: 2026-05-02T02:00:00+00:00" in output


def test_a_parallel_backfill_that_keeps_going_runs_every_other_day(
    dags: dict[str, Any], remote: FlyteRemote, bad_second_of_month: None, capfd: pytest.CaptureFixture[str]
) -> None:
    run = dags["flyte_test_backfill_keep_going"].test()
    assert {key[0]: state(ti) for key, ti in task_instances(run).items()} == {"parallel_past_a_bad_day": "failed"}
    backfill = remote.fetch_execution(name=execution_name_for(run.dag_id, run.run_id, "parallel_past_a_bad_day"))
    assert backfill.phase_name == "FAILED"
    nodes = remote.sync_execution(backfill, sync_nodes=True).node_executions
    phases = {node_id: nodes[node_id].workflow_executions[0].phase_name for node_id in ("n0", "n1", "n2")}
    # fail_after_executable_nodes_complete: the failed day does not stop the two others.
    assert phases == {"n0": "SUCCEEDED", "n1": "FAILED", "n2": "SUCCEEDED"}
    bad = nodes["n1"].workflow_executions[0]
    output = "".join(capfd.readouterr())
    assert f"3 of 3 backfill runs finished; failed: 2026-06-02T02:00:00+00:00 ({bad.id}) FAILED" in output


def test_dry_run_plans_and_launches_nothing(dags: dict[str, Any], remote: FlyteRemote) -> None:
    before = len(list(remote.list_executions()))
    run = dags["flyte_test_backfill_dry_run"].test()
    assert {state(ti) for ti in task_instances(run).values()} == {"success"}
    result = xcom(run, "plan_only")
    assert (result["dry_run"], result["execution_id"], result["children"]) == (True, None, [])
    assert result["console_url"].endswith(
        "/projects/flytesnacks/domains/development/launch_plan/demo.nightly/version/v1"
    )
    assert xcom(run, "plan_only", key="_link_FlyteConsoleLink") == result["console_url"]
    assert result["plan"]["scheduled_times"] == [f"2026-03-0{day}T02:00:00+00:00" for day in (1, 2, 3)]
    assert len(list(remote.list_executions())) == before


def test_default_range_is_the_data_interval() -> None:
    start = datetime(2026, 4, 9, tzinfo=timezone.utc)
    assert _as_datetime(None, "from_date", "t", start) == start
    assert _as_datetime("2026-04-09", "from_date", "t", None) == start
    with pytest.raises(FlyteInvalidInputException, match="to_date='April' is not an ISO date"):
        _as_datetime("April", "to_date", "t", None)


def test_a_manual_run_without_a_range_fails_clearly(dags: dict[str, Any], capfd: pytest.CaptureFixture[str]) -> None:
    run = dags["flyte_test_backfill_interval"].test()
    assert {state(ti) for ti in task_instances(run).values()} == {"failed"}
    assert "a manual run's data interval has no length); pass from_date= and to_date=" in "".join(capfd.readouterr())


def test_progress_line_names_failed_runs() -> None:
    children = [
        {"node_id": "n0", "scheduled_time": "2026-01-01T02:00:00+00:00", "execution_id": "ex:p:d:a", "phase": "FAILED"},
        {"node_id": "n1", "scheduled_time": "2026-01-02T02:00:00+00:00", "execution_id": None, "phase": "UNDEFINED"},
    ]
    assert progress_line(children) == (
        "1 of 2 backfill runs finished; failed: 2026-01-01T02:00:00+00:00 (ex:p:d:a) FAILED"
    )


def test_example_backfill_plans_a_week_and_replays_three_days(dags: dict[str, Any]) -> None:
    run = dags["example_flyte_backfill"].test()
    assert {state(ti) for ti in task_instances(run).values()} == {"success"}
    assert len(xcom(run, "plan_last_week")["plan"]["scheduled_times"]) == 7
    children = xcom(run, "replay_three_days")["children"]
    assert [child["phase"] for child in children] == ["SUCCEEDED"] * 3
