"""FlyteRemote against the sandbox: fetching, lazy entities, launch plan activation and registration."""

from __future__ import annotations

import io
import pathlib
import tarfile

import pytest
from flyte_admin_sandbox import FlyteSandbox
from flyteidl.admin import common_pb2, launch_plan_pb2
from flyteidl.core import types_pb2
from remote_helpers import D, P, RpcLog, add_one_task, add_one_workflow, container_task, register_basics

from airflow_provider_flyte.exceptions import (
    FlyteEntityAlreadyExistsException,
    FlyteEntityNotExistException,
    FlyteInvalidInputException,
)
from airflow_provider_flyte.identifiers import Identifier, ResourceType
from airflow_provider_flyte.remote import FlyteLaunchPlan, FlyteRemote, FlyteTask, LazyEntity, Options

# ---------------------------------------------------------------- fetching


def test_fetch_latest_is_one_list_sorted_newest_first(remote: FlyteRemote, rpcs: RpcLog) -> None:
    register_basics(remote)
    task = remote.fetch_task(name="remote.add_one")
    assert isinstance(task, FlyteTask)
    assert task.version == "v2"
    assert task.interface.inputs.variables["x"].type.simple == types_pb2.INTEGER
    assert task.task_type == "python-task"
    (listing,) = rpcs.calls("ListTasks")
    assert listing.limit == 1
    assert (listing.sort_by.key, listing.sort_by.direction) == ("created_at", common_pb2.Sort.DESCENDING)
    assert remote.fetch_task(P, D, "remote.add_one", "v1").version == "v1"
    assert remote.fetch_task(name="remote.add_one", version="latest").version == "v2"
    assert len(rpcs.calls("ListTasks")) == 2  # an explicit version needs no listing
    assert remote.fetch_workflow(name="demo.pipeline").version == "v1"  # seeded


def test_fetch_errors_name_what_is_missing(remote: FlyteRemote) -> None:
    with pytest.raises(FlyteEntityNotExistException, match="no task named 'nope' is registered in flytesnacks/dev"):
        remote.fetch_task(name="nope")
    with pytest.raises(FlyteEntityNotExistException, match="missing entity of type WORKFLOW"):
        remote.fetch_workflow(name="nope", version="v1")
    with pytest.raises(FlyteEntityNotExistException, match=r"^domain 'nowhere' does not exist in project"):
        remote.fetch_launch_plan(domain="nowhere", name="demo.pipeline")
    with pytest.raises(FlyteInvalidInputException, match="name=None"):
        remote.fetch_launch_plan()
    with pytest.raises(FlyteInvalidInputException, match="project is required"):
        FlyteRemote(remote.config, client=remote.client).fetch_task(name="x")
    with pytest.raises(FlyteInvalidInputException, match="domain is required"):
        FlyteRemote(remote.config, default_project=P, client=remote.client).fetch_task(name="x")


@pytest.mark.parametrize("version", [None, "v1"])
def test_an_unknown_project_or_domain_is_named_instead_of_a_missing_entity(
    remote: FlyteRemote, rpcs: RpcLog, version: str | None
) -> None:
    with pytest.raises(FlyteEntityNotExistException) as missing_project:
        remote.fetch_launch_plan("nope", D, "demo.pipeline", version)
    assert str(missing_project.value) == (
        "project 'nope' does not exist (looked for launch plan 'demo.pipeline' in nope/development)"
    )
    with pytest.raises(FlyteEntityNotExistException) as missing_domain:
        remote.fetch_task(P, "qa", "demo.summarize", version)
    assert str(missing_domain.value) == (
        "domain 'qa' does not exist in project 'flytesnacks'; its domains are development, staging, production "
        "(looked for task 'demo.summarize' in flytesnacks/qa)"
    )
    with pytest.raises(FlyteEntityNotExistException, match=r"^project 'nope' does not exist"):
        remote.execute(f"lp:nope:{D}:demo.pipeline:v1", inputs={"numbers": [1]})
    assert not rpcs.calls("CreateExecution")  # nothing was launched
    lazy = remote.fetch_workflow_lazy("nope", D, "demo.pipeline")
    with pytest.raises(FlyteEntityNotExistException, match=r"^project 'nope' does not exist"):
        _ = lazy.entity
    # In a project and domain that exist, the entity's own not-found error stands.
    standing = r"(no workflow named 'nope'|missing entity of type WORKFLOW)"
    with pytest.raises(FlyteEntityNotExistException, match=standing):
        remote.fetch_workflow(P, D, "nope", version)


def test_workflow_registration_creates_default_launch_plan_fetched_in_one_rpc(
    remote: FlyteRemote, rpcs: RpcLog
) -> None:
    _task, workflow = register_basics(remote)
    assert [node.id for node in workflow.nodes] == ["first", "second"]
    assert workflow.referenced_launch_plans() == []
    mark = rpcs.mark()
    lp = remote.fetch_launch_plan(name="remote.wf", version="v1")
    assert rpcs.names(mark) == ["GetLaunchPlan"]
    assert isinstance(lp, FlyteLaunchPlan)
    assert lp.workflow_id == workflow.id
    assert not lp.is_active
    assert lp.schedule is None
    assert lp.input_variables.parameters["x"].required
    assert set(lp.interface.inputs.variables) == {"x"}
    assert set(lp.interface.outputs.variables) == {"o0"}
    no_plan = remote.register_workflow(add_one_workflow("remote.bare"), default_launch_plan=False)
    with pytest.raises(FlyteEntityNotExistException):
        remote.fetch_launch_plan(name=no_plan.name, version="v1")


def test_seeded_cron_launch_plan_and_activation(remote: FlyteRemote) -> None:
    nightly = remote.fetch_active_launchplan(name="demo.nightly")
    assert nightly is not None
    assert nightly.is_active
    assert nightly.schedule is not None
    assert nightly.schedule.cron_schedule.schedule == "0 2 * * *"
    assert nightly.input_variables.parameters["region"].default.scalar.primitive.string_value == "eu"

    register_basics(remote)
    assert remote.fetch_active_launchplan(name="remote.wf") is None
    lp_id = Identifier(ResourceType.LAUNCH_PLAN, P, D, "remote.wf", "v1")
    remote.activate_launchplan(lp_id)
    active = remote.fetch_active_launchplan(name="remote.wf")
    assert active is not None
    assert active.id == lp_id
    assert active.is_active
    remote.deactivate_launchplan(lp_id)
    assert remote.fetch_active_launchplan(name="remote.wf") is None


def test_lazy_entities_fetch_once_on_first_use(remote: FlyteRemote, rpcs: RpcLog) -> None:
    register_basics(remote)
    remote.client.clear_entity_cache()
    mark = rpcs.mark()
    lazy = remote.fetch_task_lazy(name="remote.add_one", version="v1")
    assert isinstance(lazy, LazyEntity)
    assert lazy.name == "remote.add_one"
    assert not lazy.entity_fetched
    assert rpcs.names(mark) == []  # nothing fetched at construction
    assert lazy.version == "v1"
    assert lazy.interface.outputs.variables["o0"]
    assert lazy.entity_fetched
    assert rpcs.names(mark) == ["GetTask"]
    assert lazy.interface.inputs.variables
    assert rpcs.names(mark) == ["GetTask"]
    assert remote.fetch_launch_plan_lazy(name="demo.pipeline").workflow_id.name == "demo.pipeline"
    missing = remote.fetch_workflow_lazy(name="missing")
    with pytest.raises(FlyteEntityNotExistException):
        _ = missing.id


# ---------------------------------------------------------------- registration


def test_registration_is_idempotent_and_conflicts_are_clear(remote: FlyteRemote) -> None:
    first = remote.register_task(add_one_task())
    assert remote.register_task(add_one_task()) == first  # identical content: fine
    changed = add_one_task()
    changed.template.container.image = "other:image"
    with pytest.raises(FlyteEntityAlreadyExistsException, match="different content") as caught:
        remote.register_task(changed)
    assert "different structure already exists" in caught.value.server_message
    workflow = remote.register_workflow(add_one_workflow())
    assert remote.register_workflow(add_one_workflow()) == workflow


def test_registration_fills_placeholders_and_rejects_wrong_specs(remote: FlyteRemote) -> None:
    spec = add_one_task(version="")
    spec.template.id.project = "{{ registration.project }}"
    task = remote.register_task(spec, version="v7")
    assert (task.project, task.domain, task.version) == (P, D, "v7")
    unplaced_domain = add_one_task(version="")
    unplaced_domain.template.id.domain = ""
    staged = remote.register_task(unplaced_domain, version="v1", domain="staging")
    assert (staged.domain, staged.version) == ("staging", "v1")
    with pytest.raises(FlyteInvalidInputException, match="version"):
        remote.register_task(add_one_task(version=""))
    with pytest.raises(FlyteInvalidInputException, match="TaskSpec"):
        remote.register_task(add_one_workflow())
    unplaced = add_one_task(version="v8")
    unplaced.template.id.project = ""
    with pytest.raises(FlyteInvalidInputException, match=r"project \[unknown-project\] not found"):
        remote.register_task(unplaced, project="unknown-project")
    # The sandbox compiles workflows as Admin does: a node reading an output nobody produces is refused.
    remote.register_task(add_one_task("v1"))
    broken = add_one_workflow(version="v2")
    broken.template.nodes[1].inputs[0].binding.promise.var = "nope"
    with pytest.raises(FlyteInvalidInputException, match="nope"):
        remote.register_workflow(broken)


def test_register_launch_plan_with_options_and_fixed_inputs(remote: FlyteRemote) -> None:
    register_basics(remote)
    plan = launch_plan_pb2.LaunchPlan(
        id=Identifier(ResourceType.LAUNCH_PLAN, P, D, "remote.fixed", "v1").to_flyte_idl()
    )
    plan.spec.workflow_id.CopyFrom(Identifier(ResourceType.WORKFLOW, P, D, "remote.wf", "v1").to_flyte_idl())
    plan.spec.fixed_inputs.literals["x"].scalar.primitive.integer = 1
    registered = remote.register_launch_plan(plan, options=Options(labels={"team": "data"}, max_parallelism=2))
    assert registered.spec.labels.values["team"] == "data"
    assert registered.spec.max_parallelism == 2
    assert set(registered.fixed_inputs) == {"x"}
    assert "x" not in registered.input_variables.parameters
    assert not plan.spec.labels.values  # the caller's message is left alone


def _package(tmp_path: pathlib.Path, members: dict[str, bytes]) -> pathlib.Path:
    path = tmp_path / "flyte-package.tgz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_register_package_in_dependency_order_with_fast_tarball(
    remote: FlyteRemote, flyte_sandbox: FlyteSandbox, tmp_path: pathlib.Path
) -> None:
    task = container_task("remote.packaged", version="{{ registration.version }}")
    task.template.container.args[:] = ["pyflyte-fast-execute", "--dest-dir", "{{ .dest_dir }}"]
    task.template.container.args.extend(["--additional-distribution", "{{ .remote_package_path }}"])
    workflow = add_one_workflow("remote.packaged_wf", version="", task_version="", task_name="remote.packaged")
    plan = launch_plan_pb2.LaunchPlan(
        id=Identifier(ResourceType.LAUNCH_PLAN, P, D, "remote.packaged_wf", "").to_flyte_idl()
    )
    plan.spec.workflow_id.CopyFrom(workflow.template.id)
    # archive order deliberately wrong: launch plan, then workflow, then task
    path = _package(
        tmp_path,
        {
            "0_remote.packaged_wf_3.pb": plan.SerializeToString(),
            "1_remote.packaged_wf_2.pb": workflow.SerializeToString(),
            "2_remote.packaged_1.pb": task.SerializeToString(),
            "fastabc.tar.gz": b"code",
        },
    )
    registered = remote.register_package(path, version="v3")
    assert [ident.resource_type for ident in registered] == [
        ResourceType.TASK,
        ResourceType.WORKFLOW,
        ResourceType.LAUNCH_PLAN,
    ]
    assert {ident.version for ident in registered} == {"v3"}
    args = list(remote.fetch_task(name="remote.packaged", version="v3").template.container.args)
    assert args[:3] == ["pyflyte-fast-execute", "--dest-dir", "."]
    assert args[-1].startswith("s3://my-s3-bucket/flytesnacks/development/")
    assert args[-1].endswith("/fastabc.tar.gz")
    assert remote.file_access.cat_file(args[-1]) == b"code"  # the code tarball really landed in the sandbox's store
    assert remote.fetch_launch_plan(name="remote.packaged_wf", version="v3").workflow_id == registered[1]
    assert remote.register_package(path, version="v3") == registered  # idempotent


def test_register_package_errors(remote: FlyteRemote, tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "not-a-package.tgz"
    bad.write_bytes(b"nope")
    with pytest.raises(FlyteInvalidInputException, match="not a readable tar"):
        remote.register_package(bad, version="v1")
    with pytest.raises(FlyteInvalidInputException, match="not a valid task spec"):
        remote.register_package(_package(tmp_path, {"0_t_1.pb": b"\xff\xff"}), version="v1")
    with pytest.raises(FlyteInvalidInputException, match="holds no task"):
        remote.register_package(_package(tmp_path, {"README": b"x"}), version="v1")
    orphan = add_one_workflow("remote.orphan", version="", task_version="", task_name="remote.never_registered")
    with pytest.raises(FlyteInvalidInputException, match=r"missing entity of type TASK.*remote.never_registered"):
        remote.register_package(_package(tmp_path, {"0_remote.orphan_2.pb": orphan.SerializeToString()}), version="v1")
