"""OpenLineage through Airflow's OpenLineage provider: facets on completion and parent job injection.

The operators run against the sandbox, called directly; lineage goes through the provider's own pieces (its
``OperatorLineage``, macros, listener adapter and an OpenLineage client writing to a file), without a lineage server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from airflow_hold_tasks import LAUNCH_PLAN as HOLD
from airflow_hold_tasks import release
from airflow_lineage_tasks import INPUTS, LAUNCH_PLAN, OUTPUT_URI, register_lineage_workflow
from test_airflow_dags import airflow_db  # noqa: F401 (the migrated metadata database, a fixture)

from airflow_provider_flyte.operators import _lineage
from airflow_provider_flyte.operators.backfill import FlyteBackfillOperator
from airflow_provider_flyte.operators.flyte import FlyteExecutionFailedError, FlyteOperator, execution_name_for
from airflow_provider_flyte.remote import FlyteRemote
from tests.support.airflow_env import AIRFLOW_HOME, AIRFLOW_ISOLATED
from tests.support.airflow_fakes import FakeTaskInstance

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(90), pytest.mark.usefixtures("sandbox_connection")]

PROJECT, DOMAIN = "flytesnacks", "development"
NAMESPACE = "airflow-lineage-tests"
DAG_ID = "lineage_dag"
LOGICAL_DATE = datetime(2026, 3, 1, tzinfo=timezone.utc)


class LineageTaskInstance(FakeTaskInstance):
    """A task instance the OpenLineage provider's macros can read (its DAG run, through the template context)."""

    def __init__(self, task_id: str, try_number: int = 1) -> None:
        super().__init__(task_id, dag_id=DAG_ID, run_id="manual__2026-03-01", try_number=try_number)
        self.dag_run = SimpleNamespace(
            dag_id=DAG_ID,
            run_id=self.run_id,
            logical_date=LOGICAL_DATE,
            run_after=LOGICAL_DATE,
            clear_number=0,
            conf={},
        )

    def get_template_context(self) -> dict[str, Any]:
        return {"ti": self, "task_instance": self, "dag_run": self.dag_run}


@pytest.fixture(scope="module", autouse=True)
def lineage_plan(sandbox: Any) -> str:
    register_lineage_workflow(sandbox)
    return LAUNCH_PLAN


@pytest.fixture
def remote(sandbox: Any) -> Iterator[FlyteRemote]:
    with FlyteRemote(sandbox.config, PROJECT, DOMAIN) as flyte:
        yield flyte


def _clear_openlineage_config_caches() -> None:
    from airflow.providers.openlineage import conf as ol_conf

    for value in vars(ol_conf).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()


@pytest.fixture
def openlineage_events(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """OpenLineage enabled (a file transport); the listener's adapter writes its events to the returned file."""
    from airflow.providers.openlineage.plugins.adapter import OpenLineageAdapter
    from airflow.providers.openlineage.plugins.listener import get_openlineage_listener
    from openlineage.client import OpenLineageClient
    from openlineage.client.transport.file import FileConfig, FileTransport

    events = tmp_path / "events.jsonl"
    monkeypatch.setenv(
        "AIRFLOW__OPENLINEAGE__TRANSPORT", json.dumps({"type": "file", "log_file_path": str(events), "append": True})
    )
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__NAMESPACE", NAMESPACE)
    _clear_openlineage_config_caches()
    client = OpenLineageClient(transport=FileTransport(FileConfig(log_file_path=str(events), append=True)))
    monkeypatch.setattr(get_openlineage_listener(), "adapter", OpenLineageAdapter(client=client))
    yield events
    _clear_openlineage_config_caches()  # recomputed from the restored environment on next use


def emitted(events: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in events.read_text().splitlines() if line.strip()] if events.exists() else []


def expected_parent(ti: LineageTaskInstance) -> dict[str, str]:
    from airflow.providers.openlineage.plugins.macros import lineage_root_run_id, lineage_run_id

    return {
        "openlineage.io/parent-job-namespace": NAMESPACE,
        "openlineage.io/parent-job-name": f"{DAG_ID}.{ti.task_id}",
        "openlineage.io/parent-run-id": lineage_run_id(ti),
        "openlineage.io/root-parent-job-namespace": NAMESPACE,
        "openlineage.io/root-parent-job-name": DAG_ID,
        "openlineage.io/root-parent-run-id": lineage_root_run_id(ti),
    }


def annotations_of(remote: FlyteRemote, name: str) -> dict[str, str]:
    return dict(remote.fetch_execution(PROJECT, DOMAIN, name).spec.annotations.values)


def launch(task_id: str, **kwargs: Any) -> tuple[FlyteOperator, LineageTaskInstance, dict[str, Any]]:
    ti = LineageTaskInstance(task_id)
    operator = FlyteOperator(task_id=task_id, launchplan_name=LAUNCH_PLAN, inputs=INPUTS, poll_interval=0.1, **kwargs)
    return operator, ti, operator.execute({"ti": ti})  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- facets


def test_completion_reports_the_execution_its_entity_and_its_datasets(sandbox: Any, openlineage_events: Path) -> None:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.serde import Serde

    operator, ti, result = launch("facets")
    lineage = operator.get_openlineage_facets_on_complete(ti)
    assert isinstance(lineage, OperatorLineage)
    assert [(d.namespace, d.name) for d in lineage.inputs] == [
        ("gs://lineage-in", "extra/a.csv"),
        ("gs://lineage-in", "extra/b.csv"),
        ("s3://lineage-in", "raw/data.csv"),
    ]
    assert [(d.namespace, d.name) for d in lineage.outputs] == [("s3://lineage-out", "tables/summary")]
    facet = lineage.run_facets["flyte_execution"]
    assert (facet.executionId, facet.phase, facet.consoleUrl) == (
        result["execution_id"],
        "SUCCEEDED",
        result["console_url"],
    )
    assert facet.launchedEntity.startswith(f"lp:{PROJECT}:{DOMAIN}:{LAUNCH_PLAN}:")
    external = lineage.run_facets["externalQuery"]
    assert (external.externalQueryId, external.source) == (result["execution_id"], f"flyte://{sandbox.endpoint}")
    assert INPUTS["note"] not in Serde.to_json(lineage.run_facets)

    # The Flyte execution's own run: its launch plan is the job, the Airflow task's run its parent.
    start, end = emitted(openlineage_events)
    assert (start["eventType"], end["eventType"]) == ("START", "COMPLETE")
    assert start["run"]["runId"] == end["run"]["runId"]
    assert end["job"]["namespace"] == f"flyte://{sandbox.endpoint}"
    assert end["job"]["name"] == f"{PROJECT}.{DOMAIN}.{LAUNCH_PLAN}"
    assert end["job"]["facets"]["jobType"]["integration"] == "FLYTE"
    parent = end["run"]["facets"]["parent"]
    expected = expected_parent(ti)
    assert parent["run"]["runId"] == expected["openlineage.io/parent-run-id"]
    assert (parent["job"]["namespace"], parent["job"]["name"]) == (NAMESPACE, f"{DAG_ID}.facets")
    assert (parent["root"]["job"]["namespace"], parent["root"]["job"]["name"]) == (NAMESPACE, DAG_ID)
    assert parent["root"]["run"]["runId"] == expected["openlineage.io/root-parent-run-id"]
    assert end["run"]["facets"]["flyte_execution"]["executionId"] == result["execution_id"]
    assert [d["name"] for d in end["inputs"]] == ["extra/a.csv", "extra/b.csv", "raw/data.csv"]
    assert [(d["namespace"], d["name"]) for d in end["outputs"]] == [("s3://lineage-out", "tables/summary")]
    assert INPUTS["note"] not in openlineage_events.read_text()
    assert OUTPUT_URI.endswith(end["outputs"][0]["name"])


def test_a_failed_execution_reports_its_phase_and_fails_its_flyte_run(openlineage_events: Path) -> None:
    ti = LineageTaskInstance("fails")
    operator = FlyteOperator(task_id="fails", launchplan_name="demo.always_fails", poll_interval=0.1)
    with pytest.raises(FlyteExecutionFailedError):
        operator.execute({"ti": ti})  # type: ignore[arg-type]
    # The listener's failure path falls back to the completion facets (no get_openlineage_facets_on_failure).
    lineage = operator.get_openlineage_facets_on_complete(ti)
    assert lineage is not None
    assert lineage.run_facets["flyte_execution"].phase == "FAILED"
    assert lineage.outputs == []
    assert [event["eventType"] for event in emitted(openlineage_events)] == ["START", "FAIL"]


def test_a_launch_that_is_not_awaited_reports_a_started_run(openlineage_events: Path) -> None:
    ti = LineageTaskInstance("no_wait")
    operator = FlyteOperator(
        task_id="no_wait", launchplan_name=HOLD, inputs={"key": "lineage"}, wait_for_completion=False
    )
    try:
        result = operator.execute({"ti": ti})  # type: ignore[arg-type]
    finally:
        release("lineage")
    lineage = operator.get_openlineage_facets_on_complete(ti)
    assert lineage is not None
    assert lineage.run_facets["flyte_execution"].phase == result["phase"] != "SUCCEEDED"
    assert [event["eventType"] for event in emitted(openlineage_events)] == ["START"]


def test_nothing_is_captured_while_openlineage_is_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__DISABLED", "true")
    _clear_openlineage_config_caches()
    try:
        operator, ti, _ = launch("disabled")
        assert operator._lineage is None
        lineage = operator.get_openlineage_facets_on_complete(ti)
        assert lineage is not None
        assert (lineage.inputs, lineage.outputs, lineage.run_facets) == ([], [], {})
    finally:
        monkeypatch.undo()
        _clear_openlineage_config_caches()


def test_backfill_reports_its_execution_with_the_replayed_launch_plan_as_job(
    sandbox: Any, openlineage_events: Path
) -> None:
    operator = FlyteBackfillOperator(task_id="backfill", launchplan_name="demo.nightly")
    operator._result(f"ex:{PROJECT}:{DOMAIN}:bf-name", "SUCCEEDED", "http://console/bf", [], None)
    ti = LineageTaskInstance("backfill")
    lineage = operator.get_openlineage_facets_on_complete(ti)
    assert lineage is not None
    assert lineage.run_facets["flyte_execution"].executionId == f"ex:{PROJECT}:{DOMAIN}:bf-name"
    start, end = emitted(openlineage_events)
    assert (end["job"]["name"], end["eventType"]) == (f"{PROJECT}.{DOMAIN}.demo.nightly", "COMPLETE")
    assert end["job"]["facets"]["jobType"]["jobType"] == "BACKFILL"
    assert start["run"]["facets"]["parent"]["job"]["name"] == f"{DAG_ID}.backfill"


# ---------------------------------------------------------------------------------------------- parent injection


def test_injection_annotates_the_execution_with_the_airflow_parent_run(
    remote: FlyteRemote, openlineage_events: Path
) -> None:
    operator, ti, result = launch("inject_on", openlineage_inject_parent_job_info=True, annotations={"team": "data"})
    # The exactly-once name is the one the task instance always gets.
    assert result["name"] == execution_name_for(DAG_ID, ti.run_id, "inject_on")
    assert annotations_of(remote, result["name"]) == {"team": "data", **expected_parent(ti)}
    # The Flyte run's parent facet names the same Airflow run as the annotations.
    operator.get_openlineage_facets_on_complete(ti)
    parent_run_ids = {event["run"]["facets"]["parent"]["run"]["runId"] for event in emitted(openlineage_events)}
    assert parent_run_ids == {expected_parent(ti)["openlineage.io/parent-run-id"]}


def test_no_injection_when_disabled(remote: FlyteRemote, openlineage_events: Path) -> None:
    _, ti, result = launch("inject_off", openlineage_inject_parent_job_info=False, annotations={"team": "data"})
    assert result["name"] == execution_name_for(DAG_ID, ti.run_id, "inject_off")
    assert annotations_of(remote, result["name"]) == {"team": "data"}


def test_injection_defaults_to_the_openlineage_spark_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert FlyteOperator(task_id="d", launchplan_name="x").openlineage_inject_parent_job_info is False
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__SPARK_INJECT_PARENT_JOB_INFO", "true")
    assert FlyteOperator(task_id="d", launchplan_name="x").openlineage_inject_parent_job_info is True
    explicit = FlyteOperator(task_id="d", launchplan_name="x", openlineage_inject_parent_job_info=False)
    assert explicit.openlineage_inject_parent_job_info is False


def test_parent_annotations_the_dag_gives_are_kept(remote: FlyteRemote, openlineage_events: Path) -> None:
    given = {"openlineage.io/parent-run-id": "0190d2c0-0000-7000-8000-000000000000"}
    _, _, result = launch("inject_given", openlineage_inject_parent_job_info=True, annotations=given)
    assert annotations_of(remote, result["name"]) == given


# ---------------------------------------------------------------------------------------------- building blocks


@pytest.mark.parametrize(
    ("uri", "identity"),
    [
        ("s3://bucket/a/b.csv", ("s3://bucket", "a/b.csv")),
        ("gs://bucket/dir/", ("gs://bucket", "dir/")),
        ("s3://bucket", ("s3://bucket", "/")),
        ("abfss://container@account.dfs.core.windows.net/x", ("abfss://container@account.dfs.core.windows.net", "x")),
        ("s3://key:secret@bucket/x", ("s3://bucket", "x")),
        ("hdfs://namenode:8020/data/x", ("hdfs://namenode:8020", "/data/x")),
        ("file:///tmp/x.csv", ("file", "/tmp/x.csv")),
        ("/tmp/x.csv", ("file", "/tmp/x.csv")),
        ("s3:///no-bucket", None),
        ("s3://bucket:notaport/x", None),
        ("", None),
    ],
)
def test_dataset_identity(uri: str, identity: tuple[str, str] | None) -> None:
    assert _lineage.dataset_identity(uri) == identity


def test_literal_uris_look_inside_collections_maps_and_unions() -> None:
    from flyteidl.core import literals_pb2

    def blob(uri: str) -> literals_pb2.Literal:
        return literals_pb2.Literal(scalar=literals_pb2.Scalar(blob=literals_pb2.Blob(uri=uri)))

    union = literals_pb2.Literal(scalar=literals_pb2.Scalar(union=literals_pb2.Union(value=blob("s3://b/union.csv"))))
    dataset = literals_pb2.Literal(
        scalar=literals_pb2.Scalar(structured_dataset=literals_pb2.StructuredDataset(uri="s3://b/table"))
    )
    nested = literals_pb2.Literal(
        map=literals_pb2.LiteralMap(
            literals={
                "z": literals_pb2.Literal(
                    collection=literals_pb2.LiteralCollection(literals=[blob("s3://b/1"), union])
                ),
                "a": dataset,
            }
        )
    )
    plain = literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value="s3://b/no")))
    offloaded = literals_pb2.Literal(offloaded_metadata=literals_pb2.LiteralOffloadedMetadata(uri="s3://flyte/meta"))
    assert [uri for literal in (nested, plain, offloaded) for uri in _lineage.literal_uris(literal)] == [
        "s3://b/table",
        "s3://b/1",
        "s3://b/union.csv",
    ]


# ---------------------------------------------------------------------------------------------- without the provider

_WITHOUT_OPENLINEAGE = """
import importlib.metadata, json, sys

class BlockOpenLineage:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "openlineage" or name.startswith("airflow.providers.openlineage"):
            raise ImportError(f"{name} is blocked")
        return None

sys.meta_path.insert(0, BlockOpenLineage())

# As if not installed: Airflow's provider discovery must not find the distributions either.
def without_openlineage(original):
    def distributions(*args, **kwargs):
        return (d for d in original(*args, **kwargs) if "openlineage" not in (d.metadata["Name"] or "").lower())
    return distributions

import importlib_metadata
for module in (importlib.metadata, importlib_metadata):
    module.distributions = without_openlineage(module.distributions)

from airflow_provider_flyte.operators import _lineage
from airflow_provider_flyte.operators.flyte import FlyteOperator
from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.remote import FlyteRemote

class TaskInstance:
    task_id, dag_id, run_id, map_index, try_number = "absent", "lineage_dag", "run", -1, 1
    stats_tags = {}
    def xcom_push(self, key, value):
        pass

ti = TaskInstance()
operator = FlyteOperator(
    task_id="absent", launchplan_name=sys.argv[1], inputs=json.loads(sys.argv[2]), poll_interval=0.1,
    openlineage_inject_parent_job_info=True, annotations={"team": "data"},
)
result = operator.execute({"ti": ti})
with FlyteRemote(PlatformConfig.for_sandbox(sys.argv[3]), "flytesnacks", "development") as remote:
    execution = remote.fetch_execution("flytesnacks", "development", result["name"])
    annotations = dict(execution.spec.annotations.values)
print(json.dumps({
    "phase": result["phase"],
    "annotations": annotations,
    "enabled": _lineage.lineage_enabled(),
    "facets": operator.get_openlineage_facets_on_complete(ti),
    "loaded": sorted(m for m in sys.modules if "openlineage" in m),
}))
"""


def test_everything_works_without_the_openlineage_provider(sandbox: Any) -> None:
    script = textwrap.dedent(_WITHOUT_OPENLINEAGE)
    arguments = [LAUNCH_PLAN, json.dumps(INPUTS), sandbox.endpoint]
    environment = {**os.environ, "AIRFLOW__OPENLINEAGE__TRANSPORT": '{"type": "console"}'}
    result = subprocess.run(
        [sys.executable, "-c", script, *arguments], capture_output=True, text=True, timeout=120, env=environment
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {
        "phase": "SUCCEEDED",
        "annotations": {"team": "data"},
        "enabled": False,
        "facets": None,
        "loaded": [],
    }
    assert "apache-airflow-providers-openlineage is not installed" in result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------- through Airflow

_LINEAGE_DAG = """
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_flyte.operators.flyte import FlyteOperator

with DAG("flyte_lineage_e2e", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    FlyteOperator(task_id="summarize", launchplan_name={plan!r}, inputs={inputs!r}, poll_interval=0.2)
    FlyteOperator(task_id="summarize_deferred", launchplan_name={plan!r}, inputs={inputs!r}, poll_interval=0.2,
                  deferrable=True)
"""

_RUN_DAG = """
import json, os, sys
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 3.1
    from airflow.models.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])  # this file only
assert not bag.import_errors, bag.import_errors
run = bag.dags["flyte_lineage_e2e"].test()
states = {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in run.get_task_instances()}
print("STATES " + json.dumps(states))
"""


@pytest.mark.timeout(300)
@pytest.mark.skipif(not AIRFLOW_ISOLATED, reason="Airflow was imported before its test home could be set up")
@pytest.mark.usefixtures("airflow_db")
def test_a_dag_run_reports_the_facets_and_injects_the_parent_run(remote: FlyteRemote, tmp_path: Path) -> None:
    """Real task runs: Airflow's OpenLineage listener reports our facets.

    The listener emits from a thread here (``[openlineage] execute_in_thread``), not from a forked child as by default:
    ``dag.test()`` runs the deferred task's trigger, and its gRPC polling, in the same process as the task, and a child
    forked while gRPC is busy may hang (gRPC then skips its fork handlers; seen twice in full runs, the child hung
    until killed and the COMPLETE event was lost). A worker in production runs no trigger.
    """
    dags_folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    dag_file = dags_folder / "flyte_lineage_e2e_dag.py"
    dag_file.write_text(textwrap.dedent(_LINEAGE_DAG).format(plan=LAUNCH_PLAN, inputs=INPUTS))
    events = tmp_path / "events.jsonl"
    environment = {
        **os.environ,
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps({"type": "file", "log_file_path": str(events), "append": True}),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": NAMESPACE,
        "AIRFLOW__OPENLINEAGE__SPARK_INJECT_PARENT_JOB_INFO": "true",
        "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "true",
        # The listener gives up on an emission after this many seconds (10 by default, so that lineage never delays
        # a task); on a loaded two-core machine the first emission of a process can need more.
        "AIRFLOW__OPENLINEAGE__EXECUTION_TIMEOUT": "60",
    }
    try:
        result = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(_RUN_DAG), str(dag_file)],
            capture_output=True,
            text=True,
            timeout=240,
            env=environment,
            cwd=str(AIRFLOW_HOME),
        )
    finally:
        dag_file.unlink()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (states,) = [line[len("STATES ") :] for line in result.stdout.splitlines() if line.startswith("STATES ")]
    assert json.loads(states) == {
        "summarize": "success",
        "summarize_deferred": "success",
    }
    for task_id in ("summarize", "summarize_deferred"):
        _check_task_lineage(emitted(events), task_id, remote, result.stderr)


def _check_task_lineage(events: list[dict[str, Any]], task_id: str, remote: FlyteRemote, stderr: str) -> None:
    """The task's COMPLETE event carries the facets; the Flyte run and the execution name the task's run."""
    job = f"flyte_lineage_e2e.{task_id}"
    completes = [e for e in events if e["job"]["name"] == job and e["eventType"] == "COMPLETE"]
    # Without its event, the listener's own log (in the DAG run's stderr) tells why: a timeout, an exception.
    assert len(completes) == 1, f"{len(completes)} COMPLETE events for {job}\n{stderr[-4000:]}"
    (complete,) = completes
    facet = complete["run"]["facets"]["flyte_execution"]
    assert facet["phase"] == "SUCCEEDED"
    assert complete["run"]["facets"]["externalQuery"]["externalQueryId"] == facet["executionId"]
    assert [d["name"] for d in complete["inputs"]] == ["extra/a.csv", "extra/b.csv", "raw/data.csv"]
    assert [d["name"] for d in complete["outputs"]] == ["tables/summary"]
    flyte_events = [
        e for e in events if e["run"]["facets"].get("flyte_execution", {}).get("executionId") == facet["executionId"]
    ]
    flyte_run = [e for e in flyte_events if e["job"]["namespace"].startswith("flyte://")]
    assert [e["eventType"] for e in flyte_run] == ["START", "COMPLETE"]
    assert {e["run"]["facets"]["parent"]["run"]["runId"] for e in flyte_run} == {complete["run"]["runId"]}
    annotations = annotations_of(remote, facet["executionId"].rsplit(":", 1)[1])
    assert annotations["openlineage.io/parent-run-id"] == complete["run"]["runId"]
    assert annotations["openlineage.io/parent-job-name"] == job
