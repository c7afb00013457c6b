"""Backfill through FlyteRemote, flytekit-entity registration, Options, fast packages, import hygiene."""

from __future__ import annotations

import datetime as dt
import pathlib
import subprocess
import sys
import tarfile
import textwrap
from collections.abc import Iterator

import pytest
from flyteidl.admin import execution_pb2, launch_plan_pb2, schedule_pb2
from remote_fake_admin import FakeFlyte, sample_task
from remote_stub_client import install_codec, make_client

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.identifiers import Identifier, ResourceType
from airflow_provider_flyte.remote import BackfillPlan, FlyteRemote, FlyteWorkflow, Options
from airflow_provider_flyte.remote.registration import RegistrableEntity, dependency_order, fast_package

P, D = "flytesnacks", "development"


@pytest.fixture
def remote() -> Iterator[tuple[FakeFlyte, FlyteRemote]]:
    with FakeFlyte() as fake:
        client = make_client(fake.config)
        yield fake, FlyteRemote(fake.config, default_project=P, default_domain=D, client=client)
        client.close()


def _scheduled_launch_plan(remote: FlyteRemote) -> None:
    """Register a workflow taking a ``kickoff`` datetime and a daily cron launch plan for it."""
    from flyteidl.admin import workflow_pb2 as admin_workflow_pb2
    from flyteidl.core import types_pb2, workflow_pb2

    task = sample_task(name="core.report", inputs={"kickoff": 1})
    task.template.interface.inputs.variables["kickoff"].type.simple = types_pb2.DATETIME
    remote.register_task(task)
    template = workflow_pb2.WorkflowTemplate(
        id=Identifier(ResourceType.WORKFLOW, P, D, "core.daily_wf", "v1").to_flyte_idl(),
        nodes=[workflow_pb2.Node(id="n0", task_node=workflow_pb2.TaskNode(reference_id=task.template.id))],
    )
    template.interface.inputs.variables["kickoff"].type.simple = types_pb2.DATETIME
    remote.register_workflow(admin_workflow_pb2.WorkflowSpec(template=template), default_launch_plan=False)
    plan = launch_plan_pb2.LaunchPlan(id=Identifier(ResourceType.LAUNCH_PLAN, P, D, "daily", "v1").to_flyte_idl())
    plan.spec.workflow_id.CopyFrom(template.id)
    plan.spec.entity_metadata.schedule.CopyFrom(
        schedule_pb2.Schedule(
            cron_schedule=schedule_pb2.CronSchedule(schedule="0 10 * * *"), kickoff_time_input_arg="kickoff"
        )
    )
    remote.register_launch_plan(plan, options=Options(labels={"team": "data"}))


def test_launch_backfill_dry_run_and_register(remote: tuple[FakeFlyte, FlyteRemote]) -> None:
    fake, flyte = remote
    _scheduled_launch_plan(flyte)
    assert fake.admin.launch_plans[(P, D, "daily", "v1")].spec.labels.values["team"] == "data"
    start = dt.datetime(2023, 1, 1)
    plan = flyte.launch_backfill(P, D, start, start + dt.timedelta(days=3), "daily", dry_run=True)
    assert isinstance(plan, BackfillPlan)
    assert len(plan.scheduled_times) == 3
    assert fake.admin.calls("CreateWorkflow")[-1].id.name == "core.daily_wf"  # nothing registered by the dry run
    workflow = flyte.launch_backfill(P, D, start, start + dt.timedelta(days=3), "daily", execute=False, version="bf1")
    assert isinstance(workflow, FlyteWorkflow)
    assert workflow.id == Identifier(ResourceType.WORKFLOW, P, D, "backfill-daily", "bf1")
    assert [node.metadata.name for node in workflow.nodes] == [f"b-2023-01-0{day} 10:00:00" for day in (1, 2, 3)]
    assert workflow.referenced_launch_plans() == [Identifier(ResourceType.LAUNCH_PLAN, P, D, "daily", "v1")]
    assert flyte.fetch_launch_plan(name="backfill-daily", version="bf1").workflow_id == workflow.id
    # registering the same backfill again is fine (identical content)
    flyte.launch_backfill(P, D, start, start + dt.timedelta(days=3), "daily", execute=False, version="bf1")
    with pytest.raises(FlyteInvalidInputException, match="no run of"):
        flyte.launch_backfill(P, D, start, start + dt.timedelta(hours=1), "daily", dry_run=True)


def test_launch_backfill_executes(remote: tuple[FakeFlyte, FlyteRemote], monkeypatch: pytest.MonkeyPatch) -> None:
    install_codec(monkeypatch)
    fake, flyte = remote
    _scheduled_launch_plan(flyte)
    start = dt.datetime(2023, 1, 1)
    execution = flyte.launch_backfill(P, D, start, start + dt.timedelta(days=2), "daily", execution_name="bf-run")
    assert execution.id.name == "bf-run"
    assert fake.admin.calls("CreateExecution")[0].spec.launch_plan.name == "backfill-daily"


def test_register_flytekit_entities(remote: tuple[FakeFlyte, FlyteRemote]) -> None:
    pytest.importorskip("flytekit")
    import remote_flytekit_entities

    fake, flyte = remote
    workflow = flyte.register_workflow(remote_flytekit_entities.scheduled_wf, version="fk1")
    assert workflow.id.version == "fk1"
    assert workflow.name == "remote_flytekit_entities.scheduled_wf"
    created = [name for name, _ in fake.admin.requests if name.startswith("Create")]
    assert created.index("CreateTask") < created.index("CreateWorkflow") < created.index("CreateLaunchPlan")
    task = flyte.register_task(remote_flytekit_entities.scheduled_task, version="fk1")
    assert task.interface.inputs.variables["kickoff"].type.simple == 5  # DATETIME


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
