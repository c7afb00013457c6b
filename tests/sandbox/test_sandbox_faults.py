"""Reliability-test tools of the sandbox: outages, a stable HTTP side across restarts, late commits."""

from __future__ import annotations

import base64
import hashlib
import signal
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator

import grpc
import pytest
from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox import builders as b
from flyteidl.admin import common_pb2, execution_pb2, project_pb2, version_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2
from flyteidl.service import admin_pb2_grpc, auth_pb2, auth_pb2_grpc, dataproxy_pb2
from sandbox_helpers import rpc_error, wait_for

P, D = "flytesnacks", "development"
SUCCEEDED = core_execution_pb2.WorkflowExecution.SUCCEEDED


def create_request(name: str) -> execution_pb2.ExecutionCreateRequest:
    spec = execution_pb2.ExecutionSpec(launch_plan=b.identifier(b.RT.LAUNCH_PLAN, "demo.pipeline"))
    inputs = b.literal_map({"numbers": [2, 2]}, {"numbers": b.list_of(b.INTEGER)})
    return execution_pb2.ExecutionCreateRequest(project=P, domain=D, name=name, spec=spec, inputs=inputs)


def execution_id(name: str) -> identifier_pb2.WorkflowExecutionIdentifier:
    return identifier_pb2.WorkflowExecutionIdentifier(project=P, domain=D, name=name)


def phase_in_process(sandbox: FlyteSandbox, name: str) -> int:
    """The phase as the store has it, without the gRPC API (which may be down)."""
    request = execution_pb2.WorkflowExecutionGetRequest(id=execution_id(name))
    return sandbox.executions.GetExecution(request).closure.phase  # type: ignore[no-any-return]


def count_named(admin: admin_pb2_grpc.AdminServiceStub, name: str) -> int:
    request = common_pb2.ResourceListRequest(
        id=common_pb2.NamedEntityIdentifier(project=P, domain=D), limit=100, filters=f"eq(execution_name,{name})"
    )
    return len(admin.ListExecutions(request).executions)


# A channel that failed to connect during an outage waits out gRPC's reconnect backoff (1 s, x1.6 per failed attempt)
# before it tries again; keep it short here so the tests stay fast.
FAST_RECONNECT = [("grpc.initial_reconnect_backoff_ms", 50), ("grpc.max_reconnect_backoff_ms", 200)]


@pytest.fixture
def channel(sandbox: FlyteSandbox) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(sandbox.endpoint, options=FAST_RECONNECT) as opened:
        yield opened


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Outages -------------------------------------------------------------------------------------------------------------


def test_outage_refuses_connections_then_serves_on_the_same_port_with_the_same_state(sandbox, admin):
    admin.RegisterProject(project_pb2.ProjectRegisterRequest(project=project_pb2.Project(id="kept", name="Kept")))
    port = sandbox.port
    outage = sandbox.outage(0.5)
    assert not sandbox.serving
    assert not outage.done
    assert rpc_error(admin.GetVersion, version_pb2.GetVersionRequest()).code() == grpc.StatusCode.UNAVAILABLE
    with grpc.insecure_channel(sandbox.endpoint) as fresh:
        refused = rpc_error(admin_pb2_grpc.AdminServiceStub(fresh).GetVersion, version_pb2.GetVersionRequest())
    assert refused.code() == grpc.StatusCode.UNAVAILABLE
    with pytest.raises(RuntimeError):
        sandbox.outage(1.0)  # already down

    back_at = outage.wait(timeout=10)
    assert outage.done
    assert outage.back_at == back_at
    assert back_at - outage.started_at >= 0.5
    assert sandbox.serving
    assert sandbox.port == port
    # The old channel reconnects by itself.
    project = admin.GetProject(project_pb2.ProjectGetRequest(id="kept"), wait_for_ready=True, timeout=10)
    assert project.name == "Kept"


def test_a_call_in_flight_when_the_api_goes_down_gets_unavailable_but_still_commits(sandbox, admin):
    rule = sandbox.faults.delay("CreateExecution", 0.4, times=1)
    outcome: dict[str, grpc.RpcError] = {}

    def create() -> None:
        outcome["error"] = rpc_error(admin.CreateExecution, create_request("inflight"))

    caller = threading.Thread(target=create)
    caller.start()
    while not rule.hits:
        time.sleep(0.01)
    outage = sandbox.outage(0.6, engine=True)
    caller.join(timeout=10)
    assert outcome["error"].code() == grpc.StatusCode.UNAVAILABLE
    assert rule.wait(timeout=10) == [grpc.StatusCode.OK]  # the handler went on while the API was down
    assert not outage.done
    outage.wait(timeout=10)
    assert wait_for(admin, execution_id("inflight")).closure.phase == SUCCEEDED


def test_a_run_finishes_unseen_during_an_outage_when_the_engine_keeps_running(sandbox, admin):
    sandbox.script("demo.summarize", duration=0.2)
    created = admin.CreateExecution(create_request("unseen")).id
    outage = sandbox.outage(5.0, engine=True)
    while phase_in_process(sandbox, "unseen") != SUCCEEDED:
        assert not outage.done, "the run should finish while the API is down"
        time.sleep(0.02)
    sandbox.start()  # ends the outage early
    assert outage.wait(timeout=1) <= time.monotonic()
    execution = admin.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=created), wait_for_ready=True)
    assert execution.closure.phase == SUCCEEDED


def test_the_engine_pauses_with_the_api_when_asked_and_resumes_the_run(sandbox, admin):
    sandbox.script("demo.summarize", duration=0.1)
    created = admin.CreateExecution(create_request("paused")).id
    outage = sandbox.outage(0.6, engine=False)
    time.sleep(0.4)  # long enough for the run to finish had the engine been running
    assert phase_in_process(sandbox, "paused") != SUCCEEDED
    outage.wait(timeout=10)
    assert wait_for(admin, created).closure.phase == SUCCEEDED


def test_calls_racing_an_outage_do_not_break_the_sandbox(sandbox, admin):
    stop = threading.Event()
    codes: set[grpc.StatusCode] = set()

    def hammer(worker: int) -> None:
        sequence = 0
        while not stop.is_set():
            sequence += 1
            try:
                admin.CreateExecution(create_request(f"race-{worker}-{sequence}"), timeout=2)
                codes.add(grpc.StatusCode.OK)
            except grpc.RpcError as error:
                codes.add(error.code())

    workers = [threading.Thread(target=hammer, args=(worker,)) for worker in range(4)]
    for worker in workers:
        worker.start()
    try:
        for _ in range(3):
            time.sleep(0.1)
            sandbox.outage(0.1, engine=False).wait(timeout=10)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=10)
    # CANCELLED: a call the server had received but not yet handed to a handler (grpc/grpc#41785); it did not run.
    assert codes <= {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}, codes
    assert admin.GetVersion(version_pb2.GetVersionRequest(), wait_for_ready=True, timeout=10)


def test_stop_and_close_during_an_outage():
    with FlyteSandbox(port=0, seed=False) as sandbox:
        outage = sandbox.outage(0.2)
        sandbox.stop()
        time.sleep(0.3)
        assert not sandbox.serving
        assert not outage.done
        sandbox.start()
        assert outage.wait(timeout=1)
        assert sandbox.serving
        abandoned = sandbox.outage(10.0)
    with pytest.raises(RuntimeError):
        abandoned.wait(timeout=1)


def test_restart_with_downtime_refuses_calls_meanwhile(sandbox, admin):
    restarting = threading.Thread(target=sandbox.restart, kwargs={"downtime": 0.5})
    restarting.start()
    time.sleep(0.2)
    assert rpc_error(admin.GetVersion, version_pb2.GetVersionRequest()).code() == grpc.StatusCode.UNAVAILABLE
    restarting.join(timeout=10)
    assert admin.GetProject(project_pb2.ProjectGetRequest(id=P), wait_for_ready=True, timeout=10).id == P


# The HTTP side across restarts ----------------------------------------------------------------------------------------


def test_signed_urls_stay_valid_across_restarts(sandbox, dataproxy):
    payload = b"kept across restarts"
    md5 = hashlib.md5(payload).digest()
    upload = dataproxy.CreateUploadLocation(
        dataproxy_pb2.CreateUploadLocationRequest(project=P, domain=D, filename="kept.txt", content_md5=md5)
    )
    download = dataproxy.CreateDownloadLocation(
        dataproxy_pb2.CreateDownloadLocationRequest(native_url=upload.native_url)
    )
    http_url = sandbox.http_url
    sandbox.restart()
    assert sandbox.http_url == http_url
    checksum = {"Content-MD5": base64.b64encode(md5).decode()}
    put = urllib.request.Request(upload.signed_url, data=payload, method="PUT", headers=checksum)
    with urllib.request.urlopen(put) as response:
        assert response.status == 200
    sandbox.outage(0.1).wait(timeout=10)  # the HTTP side stays up during an outage
    sandbox.restart()
    with urllib.request.urlopen(download.signed_url) as response:
        assert response.read() == payload


def test_fixed_http_port_and_oauth_metadata_across_restarts():
    http_port = free_port()
    with FlyteSandbox(port=0, seed=False, auth=True, http_port=http_port) as sandbox:
        assert sandbox.http_url == f"http://127.0.0.1:{http_port}"
        with grpc.insecure_channel(sandbox.endpoint) as channel:
            metadata = auth_pb2_grpc.AuthMetadataServiceStub(channel)
            before = metadata.GetOAuth2Metadata(auth_pb2.OAuth2MetadataRequest())
            sandbox.restart()
            after = metadata.GetOAuth2Metadata(auth_pb2.OAuth2MetadataRequest(), wait_for_ready=True, timeout=10)
        assert after.token_endpoint == before.token_endpoint == f"{sandbox.http_url}/oauth2/token"
        token_request = urllib.request.Request(
            after.token_endpoint,
            data=(
                f"grant_type=client_credentials&client_id={sandbox.config.client_id}"
                f"&client_secret={sandbox.client_secret}"
            ).encode(),
        )
        with urllib.request.urlopen(token_request) as response:
            assert response.status == 200


def test_cli_passes_the_http_port(monkeypatch):
    import flyte_admin_sandbox as sandbox
    from flyte_admin_sandbox import cli

    seen: dict[str, object] = {}

    class Recorded(Exception):
        pass

    class Recorder:
        def __init__(self, **options: object) -> None:
            seen.update(options)
            raise Recorded  # stop before anything is served

    monkeypatch.setattr(sandbox, "FlyteSandbox", Recorder)
    monkeypatch.setattr(signal, "signal", lambda *_: None)  # keep the test process's handlers
    with pytest.raises(Recorded):
        cli.main(["sandbox", "--http-port", "8089"])
    assert seen["http_port"] == 8089


# Late commits ---------------------------------------------------------------------------------------------------------


def test_commit_late_stores_the_execution_after_the_client_deadline(sandbox, admin):
    rule = sandbox.faults.commit_late("CreateExecution", seconds=0.6)
    error = rpc_error(lambda request: admin.CreateExecution(request, timeout=0.2), create_request("late"))
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert rule.wait(timeout=10) == [grpc.StatusCode.OK]
    assert wait_for(admin, execution_id("late")).closure.phase == SUCCEEDED
    assert count_named(admin, "late") == 1


@pytest.mark.parametrize("retry_first", [True, False], ids=["retry-commits-first", "late-commits-first"])
def test_commit_late_with_a_retry_leaves_exactly_one_execution(sandbox, admin, retry_first):
    rule = sandbox.faults.commit_late("CreateExecution", seconds=0.6)
    error = rpc_error(lambda request: admin.CreateExecution(request, timeout=0.2), create_request("once"))
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    if retry_first:
        assert admin.CreateExecution(create_request("once")).id.name == "once"
        assert rule.wait(timeout=10) == [grpc.StatusCode.ALREADY_EXISTS]
    else:
        assert rule.wait(timeout=10) == [grpc.StatusCode.OK]
        retry = rpc_error(admin.CreateExecution, create_request("once"))
        assert retry.code() == grpc.StatusCode.ALREADY_EXISTS
    assert count_named(admin, "once") == 1


def test_a_delayed_create_whose_client_gave_up_still_commits(sandbox, admin):
    rule = sandbox.faults.delay("CreateExecution", seconds=0.5, times=1)
    error = rpc_error(lambda request: admin.CreateExecution(request, timeout=0.1), create_request("gave-up"))
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert rule.wait(timeout=10) == [grpc.StatusCode.OK]
    assert count_named(admin, "gave-up") == 1


def test_close_releases_held_calls_at_once():
    sandbox = FlyteSandbox(port=0).start()
    rule = sandbox.faults.commit_late("CreateExecution", seconds=30)
    with grpc.insecure_channel(sandbox.endpoint) as channel:
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        rpc_error(lambda request: admin.CreateExecution(request, timeout=0.2), create_request("held"))
    started = time.monotonic()
    sandbox.close()
    assert time.monotonic() - started < 5
    assert len(rule.outcomes) == 1


def test_an_outage_that_cannot_rebind_its_port_reports_why(sandbox):
    outage = sandbox.outage(0.2)
    with socket.socket() as squatter:
        squatter.bind((sandbox.host, sandbox.port))
        squatter.listen()
        with pytest.raises(RuntimeError) as caught:
            outage.wait(timeout=10)
    assert isinstance(caught.value.__cause__, OSError)
    assert not sandbox.serving
    sandbox.start()
    assert sandbox.serving
