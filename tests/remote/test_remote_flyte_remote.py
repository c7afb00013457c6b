"""FlyteRemote against an in-memory Admin over real gRPC on loopback."""

from __future__ import annotations

import base64
import hashlib
import io
import pathlib
import tarfile
from collections.abc import Iterator
from typing import Any

import pytest
from flyteidl.admin import execution_pb2, launch_plan_pb2, node_execution_pb2, project_pb2, task_execution_pb2
from flyteidl.admin import workflow_pb2 as admin_workflow_pb2
from flyteidl.core import identifier_pb2, literals_pb2, types_pb2, workflow_pb2
from flyteidl.service import dataproxy_pb2
from remote_fake_admin import FakeFlyte, sample_task
from remote_stub_client import install_codec, make_client

from airflow_provider_flyte.exceptions import (
    FlyteAssertion,
    FlyteEntityAlreadyExistsException,
    FlyteEntityNotExistException,
    FlyteFailedPreconditionException,
    FlyteInvalidInputException,
    FlyteTimeout,
)
from airflow_provider_flyte.identifiers import Identifier, ResourceType, WorkflowExecutionIdentifier
from airflow_provider_flyte.remote import FlyteRemote, FlyteWorkflowExecution, LazyEntity, Options

P, D = "flytesnacks", "development"


@pytest.fixture
def fake() -> Iterator[FakeFlyte]:
    with FakeFlyte() as server:
        yield server


@pytest.fixture
def remote(fake: FakeFlyte) -> Iterator[FlyteRemote]:
    client = make_client(fake.config)
    yield FlyteRemote(fake.config, default_project=P, default_domain=D, client=client)
    client.close()


def _workflow_spec(name: str = "core.wf", version: str = "v1", task_version: str = "v1") -> Any:
    task_id = Identifier(ResourceType.TASK, P, D, "core.add_one", task_version).to_flyte_idl()
    template = workflow_pb2.WorkflowTemplate(
        id=Identifier(ResourceType.WORKFLOW, P, D, name, version).to_flyte_idl(),
        nodes=[workflow_pb2.Node(id="n0", task_node=workflow_pb2.TaskNode(reference_id=task_id))],
    )
    template.interface.inputs.variables["x"].type.simple = types_pb2.INTEGER
    return admin_workflow_pb2.WorkflowSpec(template=template)


def _register_basics(remote: FlyteRemote) -> None:
    remote.register_task(sample_task(version="v1"))
    remote.register_task(sample_task(version="v2"))
    remote.register_workflow(_workflow_spec())


def _start(fake: FakeFlyte, remote: FlyteRemote, name: str) -> FlyteWorkflowExecution:
    """Create an execution directly through the client (no input conversion involved)."""
    _register_basics(remote)
    spec = execution_pb2.ExecutionSpec(
        launch_plan=Identifier(ResourceType.TASK, P, D, "core.add_one", "v1").to_flyte_idl()
    )
    remote.client.create_execution(P, D, name, spec, literals_pb2.LiteralMap())
    return remote.fetch_execution(name=name)


# ---------------------------------------------------------------- fetching


def test_fetch_latest_uses_one_list_sorted_newest_first(fake: FakeFlyte, remote: FlyteRemote) -> None:
    _register_basics(remote)
    task = remote.fetch_task(name="core.add_one")
    assert task.version == "v2"
    assert task.interface.inputs.variables["x"].type.simple == types_pb2.INTEGER
    (listing,) = fake.admin.calls("ListTasks")
    assert listing.limit == 1
    assert listing.sort_by.key == "created_at"
    assert listing.sort_by.direction == 0
    assert remote.fetch_task(P, D, "core.add_one", "v1").version == "v1"
    assert len(fake.admin.calls("ListTasks")) == 1  # a given version needs no listing


def test_fetch_errors_name_what_is_missing(remote: FlyteRemote) -> None:
    with pytest.raises(FlyteEntityNotExistException, match="no task named 'nope'"):
        remote.fetch_task(name="nope")
    with pytest.raises(FlyteEntityNotExistException):
        remote.fetch_workflow(name="nope", version="v1")
    with pytest.raises(FlyteInvalidInputException, match="name=None"):
        remote.fetch_launch_plan()
    with pytest.raises(FlyteInvalidInputException, match="project is required"):
        FlyteRemote(remote.config, client=remote.client).fetch_task(name="x")


def test_workflow_registration_creates_default_launch_plan_fetched_in_one_rpc(
    fake: FakeFlyte, remote: FlyteRemote
) -> None:
    _register_basics(remote)
    workflow = remote.fetch_workflow(name="core.wf", version="v1")
    assert [node.id for node in workflow.nodes] == ["n0"]
    before = len(fake.admin.requests)
    lp = remote.fetch_launch_plan(name="core.wf", version="v1")
    assert [name for name, _ in fake.admin.requests[before:]] == ["GetLaunchPlan"]
    assert lp.workflow_id == workflow.id
    assert not lp.is_active
    assert lp.input_variables.parameters["x"].required
    assert set(lp.interface.inputs.variables) == {"x"}


def test_active_launch_plan_and_activation(fake: FakeFlyte, remote: FlyteRemote) -> None:
    _register_basics(remote)
    assert remote.fetch_active_launchplan(name="core.wf") is None
    lp_id = Identifier(ResourceType.LAUNCH_PLAN, P, D, "core.wf", "v1")
    remote.activate_launchplan(lp_id)
    active = remote.fetch_active_launchplan(name="core.wf")
    assert active is not None
    assert active.id == lp_id
    assert active.is_active
    remote.deactivate_launchplan(lp_id)
    assert remote.fetch_active_launchplan(name="core.wf") is None


def test_lazy_entities_fetch_once_on_first_use(fake: FakeFlyte, remote: FlyteRemote) -> None:
    _register_basics(remote)
    gets_before = len(fake.admin.calls("GetTask"))
    lazy = remote.fetch_task_lazy(name="core.add_one", version="v1")
    assert isinstance(lazy, LazyEntity)
    assert lazy.name == "core.add_one"
    assert not lazy.entity_fetched
    assert len(fake.admin.calls("GetTask")) == gets_before  # nothing fetched at construction
    assert lazy.version == "v1"
    assert lazy.interface.outputs.variables["o0"]
    assert lazy.entity_fetched
    # One GetTask at most: the friendly client may already hold this fully versioned task in its cache.
    gets_after_first_use = len(fake.admin.calls("GetTask"))
    assert gets_after_first_use <= gets_before + 1
    assert lazy.interface.inputs.variables
    assert len(fake.admin.calls("GetTask")) == gets_after_first_use
    missing = remote.fetch_workflow_lazy(name="missing")
    with pytest.raises(FlyteEntityNotExistException):
        _ = missing.id


# ---------------------------------------------------------------- registration


def test_registration_is_idempotent_and_conflicts_are_clear(remote: FlyteRemote) -> None:
    first = remote.register_task(sample_task())
    assert remote.register_task(sample_task()) == first  # identical content: fine
    changed = sample_task()
    changed.template.container.image = "other:image"
    with pytest.raises(FlyteEntityAlreadyExistsException, match="different content"):
        remote.register_task(changed)


def test_registration_fills_placeholders_and_rejects_wrong_specs(fake: FakeFlyte, remote: FlyteRemote) -> None:
    spec = sample_task(version="")
    spec.template.id.project = "{{ registration.project }}"
    task = remote.register_task(spec, version="v7")
    assert (task.project, task.domain, task.version) == (P, D, "v7")
    with pytest.raises(FlyteInvalidInputException, match="version"):
        remote.register_task(sample_task(version=""))
    with pytest.raises(FlyteInvalidInputException, match="TaskSpec"):
        remote.register_task(_workflow_spec())
    unplaced = sample_task(version="v8")
    unplaced.template.id.project = ""
    with pytest.raises(FlyteInvalidInputException, match=r"project \[unknown-project\] not found"):
        remote.register_task(unplaced, project="unknown-project")


def _package(tmp_path: pathlib.Path, members: dict[str, bytes]) -> pathlib.Path:
    path = tmp_path / "flyte-package.tgz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_register_package_in_dependency_order_with_fast_tarball(
    fake: FakeFlyte, remote: FlyteRemote, tmp_path: pathlib.Path
) -> None:
    task = sample_task(version="{{ registration.version }}")
    task.template.container.args.extend(["--dest-dir", "{{ .dest_dir }}", "--pkg", "{{ .remote_package_path }}"])
    workflow = _workflow_spec(version="", task_version="")
    plan = launch_plan_pb2.LaunchPlan(id=Identifier(ResourceType.LAUNCH_PLAN, P, D, "core.wf", "").to_flyte_idl())
    plan.spec.workflow_id.CopyFrom(workflow.template.id)
    # archive order deliberately wrong: launch plan, then workflow, then task
    path = _package(
        tmp_path,
        {
            "0_core.wf_3.pb": plan.SerializeToString(),
            "1_core.wf_2.pb": workflow.SerializeToString(),
            "2_core.add_one_1.pb": task.SerializeToString(),
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
    stored = remote.fetch_task(name="core.add_one", version="v3").template.container.args
    assert list(stored)[-4:-1] == ["--dest-dir", ".", "--pkg"]
    assert stored[-1].startswith("s3://bucket/flytesnacks/development/")
    assert stored[-1].endswith("/fastabc.tar.gz")
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


# ---------------------------------------------------------------- executions


def test_wait_polls_get_execution_only_and_returns_when_done(fake: FakeFlyte, remote: FlyteRemote) -> None:
    execution = _start(fake, remote, "wait-me")
    fake.admin.script_phases("wait-me", [1, 2, 2, 4])
    before = len(fake.admin.requests)
    done = remote.wait(execution, poll_interval=0.001)
    assert done is execution
    assert execution.is_done
    assert execution.is_successful
    assert {name for name, _ in fake.admin.requests[before:]} == {"GetExecution"}
    assert len(fake.admin.requests[before:]) == 4


def test_wait_timeout_raises_flyte_timeout_naming_the_execution(fake: FakeFlyte, remote: FlyteRemote) -> None:
    execution = _start(fake, remote, "slow-one")
    fake.admin.script_phases("slow-one", [2])
    with pytest.raises(FlyteTimeout, match="slow-one is still RUNNING"):
        remote.wait(execution, timeout=0, poll_interval=0.001)
    with pytest.raises(FlyteInvalidInputException, match="poll_interval"):
        remote.wait(execution, poll_interval=-1)


def test_outputs_only_when_done_and_successful(fake: FakeFlyte, remote: FlyteRemote) -> None:
    execution = _start(fake, remote, "out")
    with pytest.raises(FlyteAssertion, match="QUEUED"):
        _ = execution.outputs
    fake.admin.executions[(P, D, "out", "")].closure.error.message = "boom"
    fake.admin.script_phases("out", [6])
    execution.sync()
    assert execution.phase_name == "FAILED"
    assert execution.error is not None
    with pytest.raises(FlyteAssertion, match="boom"):
        _ = execution.outputs


def test_terminate_relaunch_recover(fake: FakeFlyte, remote: FlyteRemote) -> None:
    execution = _start(fake, remote, "to-stop")
    remote.terminate(execution, "no longer needed")
    assert execution.sync().phase_name == "ABORTED"
    assert fake.admin.calls("TerminateExecution")[0].cause == "no longer needed"
    with pytest.raises(FlyteFailedPreconditionException):
        remote.terminate("ex:flytesnacks:development:to-stop", "again")
    relaunched = remote.relaunch_execution(execution.id, name="again")
    assert relaunched.id == WorkflowExecutionIdentifier(P, D, "again")
    assert relaunched.spec.metadata.mode == 3
    recovered = remote.recover_execution("to-stop")
    assert recovered.spec.metadata.mode == 5
    assert recovered.spec.metadata.reference_execution.name == "to-stop"
    with pytest.raises(FlyteEntityNotExistException):
        remote.recover_execution("never-ran")


def test_execution_metrics_as_data_and_table(fake: FakeFlyte, remote: FlyteRemote) -> None:
    execution = _start(fake, remote, "timed")
    span = remote.get_execution_metrics(execution, depth=3)
    assert fake.admin.calls("GetExecutionMetrics")[0].depth == 3
    data = span.to_dict()
    assert data["kind"] == "workflow"
    assert data["duration"] == 10.0
    assert data["children"][0]["name"] == "n0"
    assert span.breakdown() == {"NODE_SETUP": 1.0}
    out = io.StringIO()
    span.explain(file=out)
    assert "node/n0" in out.getvalue()
    assert "workflow/timed" in out.getvalue()


def test_sync_nodes_loads_tasks_children_and_retries(fake: FakeFlyte, remote: FlyteRemote) -> None:
    execution = _start(fake, remote, "tree")
    ex_id = execution.id.to_flyte_idl()

    def node(node_id: str, phase: int, parent: bool = False) -> Any:
        pb = node_execution_pb2.NodeExecution(
            id=identifier_pb2.NodeExecutionIdentifier(node_id=node_id, execution_id=ex_id)
        )
        pb.closure.phase = phase
        pb.metadata.is_parent_node = parent
        return pb

    fake.admin.node_executions[(P, D, "tree", "")] = [node("start-node", 3), node("n0", 3), node("n1", 10, parent=True)]
    fake.admin.node_executions[(P, D, "tree", "n1")] = [node("n1-0-n0", 3)]
    task_id = Identifier(ResourceType.TASK, P, D, "core.add_one", "v1").to_flyte_idl()
    for attempt, phase in ((0, 5), (1, 3)):
        te = task_execution_pb2.TaskExecution()
        te.id.task_id.CopyFrom(task_id)
        te.id.node_execution_id.CopyFrom(node("n0", 3).id)
        te.id.retry_attempt = attempt
        te.closure.phase = phase
        fake.admin.task_executions[(P, D, "tree", "n0")].append(te)
    nodes = execution.node_executions
    assert set(nodes) == {"start-node", "n0", "n1"}
    assert [t.retry_attempt for t in nodes["n0"].task_executions] == [0, 1]
    assert nodes["n0"].retries == 1
    assert nodes["n0"].task_executions[1].is_successful
    assert not nodes["n0"].task_executions[0].is_successful
    assert nodes["n1"].is_done
    assert nodes["n1"].phase_name == "RECOVERED"
    assert list(nodes["n1"].subworkflow_node_executions) == ["n1-0-n0"]


def test_recent_executions_follow_pages(fake: FakeFlyte, remote: FlyteRemote) -> None:
    _register_basics(remote)
    spec = execution_pb2.ExecutionSpec(
        launch_plan=Identifier(ResourceType.TASK, P, D, "core.add_one", "v1").to_flyte_idl()
    )
    for index in range(105):
        remote.client.create_execution(P, D, f"e{index}", spec, literals_pb2.LiteralMap())
    recent = remote.recent_executions(limit=103)
    assert len(recent) == 103
    assert recent[0].id.name == "e104"
    assert len(fake.admin.calls("ListExecutions")) == 2
    assert len(list(remote.list_executions())) == 105
    with pytest.raises(FlyteInvalidInputException, match="limit=0"):
        remote.recent_executions(limit=0)


# ---------------------------------------------------------------- signals


def test_signals_list_filter_pages_approve_reject(fake: FakeFlyte, remote: FlyteRemote) -> None:
    _start(fake, remote, "gated")
    for signal_id in ("a", "b", "c"):
        fake.admin.add_signal("gated", signal_id, types_pb2.BOOLEAN)
    assert [s.id.signal_id for s in remote.list_signals("gated", limit=2)] == ["a", "b", "c"]
    assert len(fake.admin.calls("ListSignals")) == 2
    assert [s.id.signal_id for s in remote.list_signals("gated", filters=["eq(signal_id,b)"])] == ["b"]
    remote.approve("a", "gated")
    remote.reject("b", "gated")
    values = {k[3]: s.value.scalar.primitive.boolean for k, s in fake.admin.signals.items() if s.HasField("value")}
    assert values == {"a": True, "b": False}
    with pytest.raises(FlyteInvalidInputException, match="signal does not exist"):
        remote.approve("zzz", "gated")


def test_set_input_accepts_literals_and_reports_unknown_signals(fake: FakeFlyte, remote: FlyteRemote) -> None:
    _start(fake, remote, "waiting")
    fake.admin.add_signal("waiting", "count", types_pb2.INTEGER)
    literal = literals_pb2.Literal()
    literal.scalar.primitive.integer = 7
    remote.set_input("count", "waiting", literal)
    assert fake.admin.signals[(P, D, "waiting", "count")].value.scalar.primitive.integer == 7
    with pytest.raises(FlyteEntityNotExistException, match="no signal 'other'"):
        remote.set_input("other", "waiting", 3)


def test_set_input_converts_by_declared_type(
    fake: FakeFlyte, remote: FlyteRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_codec(monkeypatch)
    _start(fake, remote, "typed")
    fake.admin.add_signal("typed", "ratio", types_pb2.FLOAT)
    remote.set_input("ratio", "typed", 3)  # an int for a float signal works: the declared type guides conversion
    assert fake.admin.signals[(P, D, "typed", "ratio")].value.scalar.primitive.float_value == 3.0


# ---------------------------------------------------------------- projects and domains


def test_projects_and_domains(fake: FakeFlyte, remote: FlyteRemote) -> None:
    for index in range(3):
        remote.register_project(project_pb2.Project(id=f"proj{index}", name=f"Project {index}"))
    assert [p.id for p in remote.list_projects(limit=2)] == ["flytesnacks", "proj0", "proj1", "proj2"]
    assert [p.id for p in remote.list_projects(filters="eq(id,proj1)")] == ["proj1"]
    remote.update_project(project_pb2.Project(id="proj1", name="Renamed"))
    assert fake.admin.projects["proj1"].name == "Renamed"
    with pytest.raises(FlyteEntityAlreadyExistsException):
        remote.register_project(project_pb2.Project(id="proj0", name="again"))
    assert [d.id for d in remote.get_domains()] == ["development", "staging", "production"]


# ---------------------------------------------------------------- data


def test_upload_file_sends_content_md5_and_hides_signed_url(
    fake: FakeFlyte, remote: FlyteRemote, tmp_path: pathlib.Path
) -> None:
    source = tmp_path / "data.csv"
    source.write_bytes(b"a,b\n1,2\n")
    md5, native = remote.upload_file(source)
    assert md5 == hashlib.md5(b"a,b\n1,2\n").digest()
    assert native.startswith("s3://bucket/flytesnacks/development/")
    assert native.endswith("/data.csv")
    assert fake.blobs.puts[-1]["Content-MD5"] == base64.b64encode(md5).decode()
    request = fake.admin.calls("CreateUploadLocation")[-1]
    assert request.content_md5 == md5
    assert request.filename == "data.csv"
    with pytest.raises(FlyteInvalidInputException, match="is not a file"):
        remote.upload_file(tmp_path / "missing.csv")


def test_flyte_fs_roundtrip(fake: FakeFlyte, remote: FlyteRemote, tmp_path: pathlib.Path) -> None:
    fs = remote.file_access
    with fs.open("flyte://data/reports/out.txt", "wb") as handle:
        handle.write(b"hello")
    assert fs.cat_file("flyte://data/reports/out.txt") == b"hello"
    assert fs.native_url("flyte://data/reports/out.txt").startswith("s3://bucket/")
    assert fs.ls("flyte://data/reports", detail=False) == ["data/reports/out.txt"]
    assert fs.info("flyte://data/reports/out.txt")["size"] == 5
    assert fs.exists("flyte://data")
    local = tmp_path / "in.bin"
    local.write_bytes(b"\x00\x01")
    fs.put_file(str(local), "flyte://data/in.bin")
    fs.get_file("flyte://data/in.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == b"\x00\x01"
    with pytest.raises(FileNotFoundError):
        fs.cat_file("flyte://data/never-written")


def test_get_resolves_flyte_urls_and_download_writes_blobs(
    fake: FakeFlyte, remote: FlyteRemote, tmp_path: pathlib.Path
) -> None:
    blob = tmp_path / "model.bin"
    blob.write_bytes(b"weights")
    _md5, native = remote.upload_file(blob)
    literal = literals_pb2.Literal()
    literal.scalar.blob.uri = native
    outputs = literals_pb2.LiteralMap(literals={"model": literal})
    fake.data_proxy.data["flyte://v1/flytesnacks/development/e1/n0/o"] = dataproxy_pb2.GetDataResponse(
        literal_map=outputs
    )
    view = remote.get("flyte://v1/flytesnacks/development/e1/n0/o")
    assert list(view) == ["model"]
    assert view.literals["model"].scalar.blob.uri == native
    written = remote.download(view, tmp_path / "out")
    assert written["model"].read_bytes() == b"weights"
    with pytest.raises(FlyteInvalidInputException, match="must start with 'flyte://'"):
        remote.get("s3://bucket/x")
    with pytest.raises(FlyteEntityNotExistException):
        remote.get("flyte://v1/flytesnacks/development/e1/n9/o")


# ---------------------------------------------------------------- execute (needs the literal codec)


def test_execute_task_checks_inputs_and_reuses_named_execution(
    fake: FakeFlyte, remote: FlyteRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_codec(monkeypatch)
    _register_basics(remote)
    task = remote.fetch_task(name="core.add_one", version="v1")
    options = Options(labels={"team": "ml"}, max_parallelism=3, disable_notifications=True)
    execution = remote.execute(
        task, inputs={"x": 4}, execution_name="run-1", options=options, envs={"A": "1"}, tags=["t"], cluster_pool="gpu"
    )
    (request,) = fake.admin.calls("CreateExecution")
    assert request.name == "run-1"
    assert request.inputs.literals["x"].scalar.primitive.integer == 4
    spec = request.spec
    assert spec.launch_plan.resource_type == identifier_pb2.TASK
    assert spec.labels.values["team"] == "ml"
    assert spec.max_parallelism == 3
    assert spec.disable_all
    assert list(spec.tags) == ["t"]
    assert spec.envs.values[0].key == "A"
    assert spec.cluster_assignment.cluster_pool_name == "gpu"
    again = remote.execute(task, inputs={"x": 4}, execution_name="run-1")
    assert again.id == execution.id
    with pytest.raises(FlyteInvalidInputException, match="x"):
        remote.execute(task, inputs={"x": "four"})
    with pytest.raises(FlyteInvalidInputException, match="execution_name"):
        remote.execute(task, inputs={"x": 1}, execution_name="Bad_Name")


def test_execute_workflow_runs_default_launch_plan(
    fake: FakeFlyte, remote: FlyteRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_codec(monkeypatch)
    _register_basics(remote)
    execution = remote.execute(remote.fetch_workflow(name="core.wf"), inputs={"x": 1}, execution_name_prefix="nightly")
    request = fake.admin.calls("CreateExecution")[0]
    assert request.spec.launch_plan.resource_type == identifier_pb2.LAUNCH_PLAN
    assert request.spec.launch_plan.name == "core.wf"
    assert execution.id.name.startswith("nightly-")
    assert remote.execute("lp:flytesnacks:development:core.wf:v1", inputs={"x": 2}).id.project == P


def test_execute_wait_then_read_typed_outputs(
    fake: FakeFlyte, remote: FlyteRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_codec(monkeypatch)
    _register_basics(remote)
    fake.admin.script_phases("with-outputs", [2, 4])
    task = remote.fetch_task(name="core.add_one", version="v1")
    execution = remote.execute(task, inputs={"x": 4}, execution_name="with-outputs")
    five = literals_pb2.Literal()
    five.scalar.primitive.integer = 5
    fake.admin.set_data(
        execution.id, fake.admin.calls("CreateExecution")[0].inputs, literals_pb2.LiteralMap(literals={"o0": five})
    )
    remote.wait(execution, poll_interval=0.001)
    assert execution.is_successful
    assert execution.outputs["o0"] == 5
    assert execution.outputs.to_dict() == {"o0": 5}
    assert dict(execution.inputs) == {"x": 4}


def test_fixed_launch_plan_inputs_cannot_be_overridden(
    fake: FakeFlyte, remote: FlyteRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_codec(monkeypatch)
    _register_basics(remote)
    fixed = launch_plan_pb2.LaunchPlan(id=Identifier(ResourceType.LAUNCH_PLAN, P, D, "fixed", "v1").to_flyte_idl())
    fixed.spec.workflow_id.CopyFrom(Identifier(ResourceType.WORKFLOW, P, D, "core.wf", "v1").to_flyte_idl())
    fixed.spec.fixed_inputs.literals["x"].scalar.primitive.integer = 1
    plan = remote.register_launch_plan(fixed)
    with pytest.raises(FlyteInvalidInputException, match="x are fixed by launch plan"):
        remote.execute(plan, inputs={"x": 2})
    assert remote.execute(plan, inputs={}).id.project == P
