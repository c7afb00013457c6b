"""Backfills of the sandbox's cron launch plan, flytekit-entity registration, Options, fast packages, import hygiene."""

from __future__ import annotations

import datetime as dt
import pathlib
import subprocess
import sys
import tarfile
import textwrap

import pytest
from flyteidl.admin import execution_pb2, launch_plan_pb2
from remote_helpers import D, P, RpcLog, finish

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.identifiers import Identifier, ResourceType
from airflow_provider_flyte.remote import BackfillPlan, FlyteRemote, FlyteWorkflow, FlyteWorkflowExecution, Options
from airflow_provider_flyte.remote.registration import RegistrableEntity, dependency_order, fast_package

NIGHTLY = Identifier(ResourceType.LAUNCH_PLAN, P, D, "demo.nightly", "v1")
UTC = dt.timezone.utc


def test_launch_backfill_dry_run_registers_nothing(remote: FlyteRemote, rpcs: RpcLog) -> None:
    start = dt.datetime(2024, 1, 1)
    plan = remote.launch_backfill(P, D, start, start + dt.timedelta(days=3), "demo.nightly", dry_run=True)
    assert isinstance(plan, BackfillPlan)
    assert plan.launch_plan_id == NIGHTLY  # the seeded cron launch plan "0 2 * * *", latest version
    assert [t.isoformat() for t in plan.scheduled_times] == [
        "2024-01-01T02:00:00",
        "2024-01-02T02:00:00",
        "2024-01-03T02:00:00",
    ]
    assert not [name for name in rpcs.names() if name.startswith("Create")]
    with pytest.raises(FlyteInvalidInputException, match="no run of"):
        remote.launch_backfill(P, D, start, start + dt.timedelta(hours=1), "demo.nightly", dry_run=True)
    with pytest.raises(FlyteInvalidInputException, match="has no schedule"):
        remote.launch_backfill(P, D, start, start + dt.timedelta(days=2), "demo.pipeline", dry_run=True)


def test_launch_backfill_registers_the_workflow_idempotently(remote: FlyteRemote) -> None:
    start = dt.datetime(2024, 1, 1)
    end = start + dt.timedelta(days=3)
    workflow = remote.launch_backfill(P, D, start, end, "demo.nightly", execute=False, version="bf1", parallel=True)
    assert isinstance(workflow, FlyteWorkflow)
    assert workflow.id == Identifier(ResourceType.WORKFLOW, P, D, "backfill-demo.nightly", "bf1")
    assert [node.metadata.name for node in workflow.nodes] == [f"b-2024-01-0{day} 02:00:00" for day in (1, 2, 3)]
    assert [list(node.upstream_node_ids) for node in workflow.nodes] == [[], [], []]  # parallel
    assert workflow.referenced_launch_plans() == [NIGHTLY]
    assert remote.fetch_launch_plan(name="backfill-demo.nightly", version="bf1").workflow_id == workflow.id
    again = remote.launch_backfill(P, D, start, end, "demo.nightly", execute=False, version="bf1", parallel=True)
    assert again == workflow  # identical content registers again without complaint


def test_launch_backfill_runs_one_launch_plan_per_scheduled_time(remote: FlyteRemote) -> None:
    start = dt.datetime(2024, 1, 1, tzinfo=UTC)
    execution = remote.launch_backfill(
        P, D, start, start + dt.timedelta(days=2), "demo.nightly", execution_name="bf-run", overwrite_cache=True
    )
    assert isinstance(execution, FlyteWorkflowExecution)
    assert execution.id.name == "bf-run"
    assert execution.launched_entity_id.name == "backfill-demo.nightly"
    assert execution.spec.overwrite_cache
    finish(execution)
    assert execution.is_successful
    runs = [execution.node_executions[node_id].workflow_executions for node_id in ("n0", "n1")]
    launched = [child for children in runs for child in children]
    assert [child.launched_entity_id.name for child in launched] == ["demo.nightly"] * 2
    assert [child.inputs["kickoff_time"] for child in launched] == [
        dt.datetime(2024, 1, 1, 2, tzinfo=UTC),
        dt.datetime(2024, 1, 2, 2, tzinfo=UTC),
    ]
    assert [child.outputs["o0"] for child in launched] == [
        "processing eu data for 2024-01-01T02:00:00+00:00",
        "processing eu data for 2024-01-02T02:00:00+00:00",
    ]


def test_register_flytekit_entities(remote: FlyteRemote, rpcs: RpcLog) -> None:
    pytest.importorskip("flytekit")
    import remote_flytekit_entities

    workflow = remote.register_workflow(remote_flytekit_entities.scheduled_wf, version="fk1")
    assert workflow.id.version == "fk1"
    assert workflow.name == "remote_flytekit_entities.scheduled_wf"
    created = [name for name in rpcs.names() if name.startswith("Create")]
    assert created.index("CreateTask") < created.index("CreateWorkflow") < created.index("CreateLaunchPlan")
    task = remote.register_task(remote_flytekit_entities.scheduled_task, version="fk1")
    assert task.interface.inputs.variables["kickoff"].type.simple == 5  # DATETIME
    # The default launch plan is flytekit's: the Python default x=3 is a default input.
    plan = remote.fetch_launch_plan(name=workflow.name, version="fk1")
    assert plan.input_variables.parameters["x"].default.scalar.primitive.integer == 3
    assert plan.input_variables.parameters["kickoff"].required
    # flytekit's container task runs in the sandbox as a plain task (placeholder outputs, no code executed).
    kickoff = dt.datetime(2024, 5, 1, tzinfo=UTC)
    execution = finish(remote.execute(workflow, inputs={"kickoff": kickoff}))
    assert execution.is_successful
    assert execution.inputs.to_dict() == {"kickoff": kickoff, "x": 3}
    # Executing the Python workflow registers it (here: again, identically) and runs its default launch plan.
    direct = finish(remote.execute(remote_flytekit_entities.scheduled_wf, inputs={"kickoff": kickoff}, version="fk2"))
    assert direct.launched_entity_id.resource_type == 3  # LAUNCH_PLAN
    assert (direct.launched_entity_id.name, direct.launched_entity_id.version) == (workflow.name, "fk2")
    assert direct.inputs["x"] == 3
    with pytest.raises(FlyteInvalidInputException, match="version is required"):
        remote.execute(remote_flytekit_entities.scheduled_wf, inputs={"kickoff": kickoff})


def test_options_validation_and_spec() -> None:
    options = Options(
        labels={"a": "b"},
        annotations={"c": "d"},
        raw_output_data_config="s3://bucket/raw",
        max_parallelism=4,
        notifications=[],
        overwrite_cache=True,
        interruptible=False,
    )
    spec = execution_pb2.ExecutionSpec()
    options.apply_to(spec)
    assert spec.labels.values["a"] == "b"
    assert spec.annotations.values["c"] == "d"
    assert spec.raw_output_data_config.output_location_prefix == "s3://bucket/raw"
    assert spec.max_parallelism == 4
    assert spec.overwrite_cache
    assert spec.HasField("interruptible")
    assert not spec.interruptible.value
    assert spec.WhichOneof("notification_overrides") == "notifications"
    silent = execution_pb2.ExecutionSpec()
    Options(disable_notifications=True).apply_to(silent)
    assert silent.disable_all
    default = Options.default_from(k8s_service_account="runner", raw_data_prefix="gs://x")
    assert default.security_context is not None
    assert default.security_context.run_as.k8s_service_account == "runner"
    assert Options().merged_with(overwrite_cache=True, interruptible=None).overwrite_cache is True
    for bad in (
        {"labels": {"a": 1}},
        {"max_parallelism": -1},
        {"overwrite_cache": "yes"},
        {"raw_output_data_config": " "},
    ):
        with pytest.raises(FlyteInvalidInputException, match=next(iter(bad))):
            Options(**bad)  # type: ignore[arg-type]


def test_fast_package_is_reproducible_and_skips_caches(tmp_path: pathlib.Path) -> None:
    root = tmp_path / "src"
    (root / "pkg" / "__pycache__").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "pkg" / "mod.py").write_text("x = 1\n")
    (root / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"junk")
    (root / ".git" / "HEAD").write_text("ref")
    first = fast_package(root, tmp_path / "out1")
    second = fast_package(root, tmp_path / "out2")
    assert first.name == second.name
    assert first.name.startswith("fast")
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as tar:
        assert tar.getnames() == ["pkg/mod.py"]
    with pytest.raises(FlyteInvalidInputException, match="not a directory"):
        fast_package(root / "missing", tmp_path)


def test_dependency_cycles_are_reported() -> None:
    from flyteidl.admin import workflow_pb2 as admin_workflow_pb2
    from flyteidl.core import workflow_pb2

    def workflow(name: str, launches: str) -> RegistrableEntity:
        lp = Identifier(ResourceType.LAUNCH_PLAN, P, D, launches, "v1").to_flyte_idl()
        template = workflow_pb2.WorkflowTemplate(
            id=Identifier(ResourceType.WORKFLOW, P, D, name, "v1").to_flyte_idl(),
            nodes=[workflow_pb2.Node(id="n0", workflow_node=workflow_pb2.WorkflowNode(launchplan_ref=lp))],
        )
        return RegistrableEntity(ResourceType.WORKFLOW, admin_workflow_pb2.WorkflowSpec(template=template), name)

    def launch_plan(name: str) -> RegistrableEntity:
        plan = launch_plan_pb2.LaunchPlan(id=Identifier(ResourceType.LAUNCH_PLAN, P, D, name, "v1").to_flyte_idl())
        plan.spec.workflow_id.CopyFrom(Identifier(ResourceType.WORKFLOW, P, D, name, "v1").to_flyte_idl())
        return RegistrableEntity(ResourceType.LAUNCH_PLAN, plan, name)

    ordered = dependency_order([workflow("a", "b"), launch_plan("a"), workflow("b", "external"), launch_plan("b")])
    assert [(e.resource_type.name, e.id.name) for e in ordered] == [
        ("WORKFLOW", "b"),
        ("LAUNCH_PLAN", "b"),
        ("WORKFLOW", "a"),
        ("LAUNCH_PLAN", "a"),
    ]
    with pytest.raises(FlyteInvalidInputException, match="cycle"):
        dependency_order([workflow("a", "b"), launch_plan("a"), workflow("b", "a"), launch_plan("b")])


def test_remote_package_imports_and_runs_without_flytekit(tmp_path: pathlib.Path) -> None:
    """A meta-path blocker makes flytekit unimportable; the remote layer must not need it."""
    script = textwrap.dedent(
        """
        import sys

        class BlockFlytekit:
            def find_spec(self, name, path=None, target=None):
                if name == "flytekit" or name.startswith("flytekit."):
                    raise ImportError("flytekit is blocked")
                return None

        sys.meta_path.insert(0, BlockFlytekit())
        import airflow_provider_flyte.remote as remote_pkg
        assert "grpc" not in sys.modules and "flyteidl" not in sys.modules, "package import must stay cheap"
        from airflow_provider_flyte.remote import FlyteRemote, Options
        from airflow_provider_flyte.remote.backfill import plan_backfill, scheduled_times
        from airflow_provider_flyte.remote import fs, registration, signals, metrics, console, executions
        import datetime as dt
        remote = FlyteRemote.for_sandbox(default_project="p", default_domain="d")
        from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
        url = remote.generate_console_url(WorkflowExecutionIdentifier("p", "d", "n"))
        assert url == "http://localhost:30080/console/projects/p/domains/d/executions/n", url
        assert len(scheduled_times("0 * * * *", dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2))) == 23
        try:
            registration.serialize_flytekit_entity(object(), "p", "d", "v")
        except Exception as error:
            assert "needs flytekit installed" in str(error), error
        else:
            raise AssertionError("expected an error without flytekit")
        assert not any(name == "flytekit" or name.startswith("flytekit.") for name in sys.modules)
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
