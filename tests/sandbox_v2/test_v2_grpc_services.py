"""Triggers, data proxy, projects, auth, faults, UNIMPLEMENTED, restarts and closing of the Flyte 2 sandbox."""

from __future__ import annotations

import hashlib
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from flyte_admin_sandbox.v2 import Flyte2Sandbox
from flyteidl2.auth import auth_service_pb2, auth_service_pb2_grpc, identity_pb2, identity_pb2_grpc
from flyteidl2.common import identifier_pb2, phase_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2, dataproxy_service_pb2_grpc
from flyteidl2.project import project_service_pb2, project_service_pb2_grpc
from flyteidl2.secret import payload_pb2 as secret_payload_pb2
from flyteidl2.secret import secret_pb2_grpc
from flyteidl2.task import task_definition_pb2, task_service_pb2
from flyteidl2.trigger import trigger_definition_pb2, trigger_service_pb2
from flyteidl2.workflow import run_service_connect, run_service_pb2

from tests.sandbox_v2.v2_helpers import DOMAIN, PROJECT, Stubs, inputs, run_identifier, spec, task_id


@pytest.fixture
def channel(flyte2_sandbox: Flyte2Sandbox) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(flyte2_sandbox.grpc_endpoint) as opened:
        yield opened


@pytest.fixture
def stubs(channel: grpc.Channel) -> Stubs:
    return Stubs(channel)


def trigger_name(name: str = "nightly") -> identifier_pb2.TriggerName:
    return identifier_pb2.TriggerName(project=PROJECT, domain=DOMAIN, task_name="env.double", name=name)


def test_triggers_deploy_get_list_and_fire(flyte2_sandbox: Flyte2Sandbox, stubs: Stubs) -> None:
    flyte2_sandbox.behave("env.double", function=lambda x: x * 2)
    stubs.deploy()
    deployed = stubs.triggers.DeployTrigger(
        trigger_service_pb2.DeployTriggerRequest(
            name=trigger_name(), spec=trigger_definition_pb2.TriggerSpec(active=True, inputs=inputs(x=4))
        )
    ).trigger
    assert deployed.id.revision == 1
    assert deployed.spec.task_version == "v1"
    got = stubs.triggers.GetTriggerDetails(trigger_service_pb2.GetTriggerDetailsRequest(name=trigger_name())).trigger
    assert got.spec.inputs.literals[0].value.scalar.primitive.integer == 4
    listed = stubs.triggers.ListTriggers(
        trigger_service_pb2.ListTriggersRequest(
            project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN)
        )
    )
    assert [t.id.name.name for t in listed.triggers] == ["nightly"]

    created = stubs.runs.CreateRun(
        run_service_pb2.CreateRunRequest(run_id=run_identifier("fired"), trigger_name=trigger_name())
    ).run
    assert created.action.metadata.trigger_name == "nightly"
    fired = flyte2_sandbox.wait(run_identifier("fired"))
    assert fired.outputs is not None
    assert fired.outputs.literals[0].value.scalar.primitive.integer == 8
    overridden = run_service_pb2.CreateRunRequest(
        run_id=run_identifier("fired-again"), trigger_name=trigger_name(), inputs=inputs(x=10)
    )
    stubs.runs.CreateRun(overridden)
    again = flyte2_sandbox.wait(run_identifier("fired-again"))
    assert again.outputs is not None
    assert again.outputs.literals[0].value.scalar.primitive.integer == 20

    stubs.triggers.UpdateTriggers(trigger_service_pb2.UpdateTriggersRequest(names=[trigger_name()], active=False))
    got = stubs.triggers.GetTriggerDetails(trigger_service_pb2.GetTriggerDetailsRequest(name=trigger_name())).trigger
    assert (got.id.revision, got.spec.active) == (2, False)
    by_trigger = stubs.runs.ListRuns(run_service_pb2.ListRunsRequest(trigger_name=trigger_name()))
    assert {run.action.id.run.name for run in by_trigger.runs} == {"fired", "fired-again"}
    with pytest.raises(grpc.RpcError) as raised:
        stubs.triggers.GetTriggerDetails(trigger_service_pb2.GetTriggerDetailsRequest(name=trigger_name("nope")))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert "env.double/nope" in raised.value.details()


def test_triggers_deployed_with_their_task(stubs: Stubs) -> None:
    trigger = task_definition_pb2.TaskTrigger(
        name="hourly", spec=task_definition_pb2.TaskTriggerSpec(active=True, inputs=inputs(x=3))
    )
    stubs.tasks.DeployTask(task_service_pb2.DeployTaskRequest(task_id=task_id(), spec=spec(), triggers=[trigger]))
    got = stubs.triggers.GetTriggerDetails(trigger_service_pb2.GetTriggerDetailsRequest(name=trigger_name("hourly")))
    assert got.trigger.spec.task_version == "v1"


def test_upload_location_and_uploaded_inputs(
    flyte2_sandbox: Flyte2Sandbox, channel: grpc.Channel, stubs: Stubs
) -> None:
    proxy = dataproxy_service_pb2_grpc.DataProxyServiceStub(channel)
    body = b"some bytes"
    location = proxy.CreateUploadLocation(
        dataproxy_service_pb2.CreateUploadLocationRequest(
            project=PROJECT, domain=DOMAIN, filename="code.tar.gz", content_md5=hashlib.md5(body).digest()
        )
    )
    assert location.signed_url.startswith(flyte2_sandbox.connect_endpoint + "/blobs/")
    request = urllib.request.Request(location.signed_url, data=body, method="PUT")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    key = flyte2_sandbox.backend.blobs.key_of(location.native_url)
    assert key is not None
    assert flyte2_sandbox.backend.blobs.get(key) == body
    forged = location.signed_url.replace("signature=", "signature=0")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(forged, data=body, method="PUT"), timeout=5)
    assert refused.value.code == 403

    stubs.deploy()
    uploaded = proxy.UploadInputs(
        dataproxy_service_pb2.UploadInputsRequest(
            project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN),
            task_id=task_id(),
            inputs=inputs(x=9),
        )
    ).offloaded_input_data
    stubs.runs.CreateRun(
        run_service_pb2.CreateRunRequest(
            run_id=run_identifier("offloaded"), task_id=task_id(), offloaded_input_data=uploaded
        )
    )
    record = flyte2_sandbox.wait(run_identifier("offloaded"))
    assert record.inputs.literals[0].value.scalar.primitive.integer == 9


def test_projects_auth_and_identity(channel: grpc.Channel) -> None:
    projects = project_service_pb2_grpc.ProjectServiceStub(channel)
    seeded = projects.GetProject(project_service_pb2.GetProjectRequest(id=PROJECT)).project
    assert "development" in [domain.id for domain in seeded.domains]
    projects.CreateProject(project_service_pb2.CreateProjectRequest(project=project_service_pb2.Project(id="other")))
    listed = projects.ListProjects(project_service_pb2.ListProjectsRequest()).projects.projects
    assert [project.id for project in listed] == [PROJECT, "other"]
    with pytest.raises(grpc.RpcError) as raised:
        projects.GetProject(project_service_pb2.GetProjectRequest(id="nope"))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND

    auth = auth_service_pb2_grpc.AuthMetadataServiceStub(channel)
    config = auth.GetPublicClientConfig(auth_service_pb2.GetPublicClientConfigRequest())
    assert config.authorization_metadata_key == "flyte-authorization"
    assert auth.GetOAuth2Metadata(auth_service_pb2.GetOAuth2MetadataRequest()).issuer.startswith("http://127.0.0.1:")
    user = identity_pb2_grpc.IdentityServiceStub(channel).UserInfo(identity_pb2.UserInfoRequest())
    assert user.subject == "sandbox"


def test_rpcs_without_implementation_answer_unimplemented(flyte2_sandbox: Flyte2Sandbox, stubs: Stubs) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stubs.runs.SignalEvent(run_service_pb2.SignalEventRequest())
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
    with grpc.insecure_channel(flyte2_sandbox.grpc_endpoint) as channel:
        secrets = secret_pb2_grpc.SecretServiceStub(channel)
        with pytest.raises(grpc.RpcError) as raised:
            secrets.ListSecrets(secret_payload_pb2.ListSecretsRequest())
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
    client = run_service_connect.RunServiceClientSync(flyte2_sandbox.connect_endpoint)
    with pytest.raises(ConnectError) as connect_raised:
        client.signal_event(run_service_pb2.SignalEventRequest())
    assert connect_raised.value.code == Code.UNIMPLEMENTED


def test_faults_apply_to_both_servers(flyte2_sandbox: Flyte2Sandbox, stubs: Stubs) -> None:
    stubs.deploy()
    fault = flyte2_sandbox.faults.fail("CreateRun", grpc.StatusCode.UNAVAILABLE, times=2)
    with pytest.raises(grpc.RpcError) as raised:
        stubs.run("faulty", x=1)
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    client = run_service_connect.RunServiceClientSync(flyte2_sandbox.connect_endpoint)
    request = run_service_pb2.CreateRunRequest(run_id=run_identifier("faulty"), task_id=task_id(), inputs=inputs(x=1))
    with pytest.raises(ConnectError) as connect_raised:
        client.create_run(request)
    assert connect_raised.value.code == Code.UNAVAILABLE
    assert client.create_run(request).run.action.id.run.name == "faulty"  # the third call goes through
    assert fault.outcomes == [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAVAILABLE]

    flyte2_sandbox.faults.fail(None, grpc.StatusCode.UNAVAILABLE, seconds=0.3)  # the server "down" for 0.3 s
    with pytest.raises(grpc.RpcError) as raised:
        stubs.runs.GetRunDetails(run_service_pb2.GetRunDetailsRequest(run_id=run_identifier("faulty")))
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    time.sleep(0.35)
    stubs.runs.GetRunDetails(run_service_pb2.GetRunDetailsRequest(run_id=run_identifier("faulty")))

    flyte2_sandbox.faults.fail("WatchRunDetails", grpc.StatusCode.INTERNAL)
    with pytest.raises(grpc.RpcError) as raised:
        list(stubs.watch("faulty"))
    assert raised.value.code() == grpc.StatusCode.INTERNAL
    assert list(stubs.watch("faulty"))[-1].action.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED


def test_watch_over_connect_and_the_console(flyte2_sandbox: Flyte2Sandbox, stubs: Stubs) -> None:
    flyte2_sandbox.behave("env.double", duration=0.2)
    stubs.deploy()
    stubs.run("connected", x=1)
    client = run_service_connect.RunServiceClientSync(flyte2_sandbox.connect_endpoint)
    request = run_service_pb2.WatchRunDetailsRequest(run_id=run_identifier("connected"))
    phases = [response.details.action.status.phase for response in client.watch_run_details(request)]
    assert phases[-1] == phase_pb2.ACTION_PHASE_SUCCEEDED
    with urllib.request.urlopen(flyte2_sandbox.console_endpoint, timeout=5) as response:
        listing = response.read().decode()
    assert flyte2_sandbox.run_url(PROJECT, DOMAIN, "connected").removeprefix(flyte2_sandbox.connect_endpoint) in listing


def test_close_is_fast_with_open_streams_and_hanging_runs() -> None:
    sandbox = Flyte2Sandbox()
    with grpc.insecure_channel(sandbox.grpc_endpoint) as channel:
        stubs = Stubs(channel)
        sandbox.behave("env.double", hang=True)
        stubs.deploy()
        stubs.run("open", x=1)
        stream = stubs.watch("open")
        next(stream)
        connect_stream = run_service_connect.RunServiceClientSync(sandbox.connect_endpoint).watch_run_details(
            run_service_pb2.WatchRunDetailsRequest(run_id=run_identifier("open"))
        )
        next(iter(connect_stream))
        threading.Thread(target=lambda: list(stream), daemon=True).start()
        started = time.monotonic()
        sandbox.close()
        assert time.monotonic() - started < 1.0


def test_a_file_store_keeps_tasks_and_runs_across_restarts(tmp_path: Path) -> None:
    database = tmp_path / "flyte2.sqlite"
    with Flyte2Sandbox(db_path=database, blob_dir=tmp_path / "blobs") as first:
        with grpc.insecure_channel(first.grpc_endpoint) as channel:
            stubs = Stubs(channel)
            stubs.deploy()
            stubs.run("kept", x=1)
        first.wait(run_identifier("kept"))
    with Flyte2Sandbox(db_path=database, blob_dir=tmp_path / "blobs") as second:
        with grpc.insecure_channel(second.grpc_endpoint) as channel:
            details = Stubs(channel).runs.GetRunDetails(
                run_service_pb2.GetRunDetailsRequest(run_id=run_identifier("kept"))
            )
        assert details.details.action.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED
