from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.request

import grpc
import pytest
from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox import builders as b
from flyteidl.admin import execution_pb2, project_pb2, version_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2
from flyteidl.service import admin_pb2_grpc, auth_pb2, auth_pb2_grpc, dataproxy_pb2
from sandbox_helpers import rpc_error, wait_for

from airflow_provider_flyte.configuration import AuthMode

P, D = "flytesnacks", "development"
NUMBERS = {"numbers": b.list_of(b.INTEGER)}


def start_pipeline(admin, name):
    spec = execution_pb2.ExecutionSpec(launch_plan=b.identifier(b.RT.LAUNCH_PLAN, "demo.pipeline"))
    request = execution_pb2.ExecutionCreateRequest(
        project=P, domain=D, name=name, spec=spec, inputs=b.literal_map({"numbers": [2, 2]}, NUMBERS)
    )
    return admin.CreateExecution(request).id


def test_config_and_unregistered_auth_services(sandbox, channel):
    config = sandbox.config
    assert config.endpoint == sandbox.endpoint
    assert config.insecure
    assert config.auth_mode == AuthMode.NONE
    error = rpc_error(
        auth_pb2_grpc.AuthMetadataServiceStub(channel).GetPublicClientConfig, auth_pb2.PublicClientAuthConfigRequest()
    )
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED


def test_state_survives_restart_on_the_same_file(tmp_path):
    db = tmp_path / "sandbox.db"
    with FlyteSandbox(port=0, db_path=db) as first, grpc.insecure_channel(first.endpoint) as channel:
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        admin.RegisterProject(project_pb2.ProjectRegisterRequest(project=project_pb2.Project(id="kept", name="Kept")))
        wait_for(admin, start_pipeline(admin, "persisted"))
    with FlyteSandbox(port=0, db_path=db) as second, grpc.insecure_channel(second.endpoint) as channel:
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        assert admin.GetProject(project_pb2.ProjectGetRequest(id="kept")).name == "Kept"
        execution_id = identifier_pb2.WorkflowExecutionIdentifier(project=P, domain=D, name="persisted")
        execution = admin.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=execution_id))
        assert execution.closure.phase == core_execution_pb2.WorkflowExecution.SUCCEEDED
        data = admin.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=execution.id))
        assert data.full_outputs.literals["total"].scalar.primitive.integer == 4


def test_running_execution_resumes_after_restart():
    with FlyteSandbox(port=0) as sandbox:
        sandbox.engine.stop()
        with grpc.insecure_channel(sandbox.endpoint) as channel:
            admin = admin_pb2_grpc.AdminServiceStub(channel)
            execution_id = start_pipeline(admin, "resumed")
        sandbox.restart()
        with grpc.insecure_channel(sandbox.endpoint) as channel:
            admin = admin_pb2_grpc.AdminServiceStub(channel)
            assert wait_for(admin, execution_id).closure.phase == core_execution_pb2.WorkflowExecution.SUCCEEDED


def test_faults(sandbox, admin):
    request = project_pb2.ProjectGetRequest(id=P)
    sandbox.faults.fail("GetProject", grpc.StatusCode.UNAVAILABLE, times=2)
    assert rpc_error(admin.GetProject, request).code() == grpc.StatusCode.UNAVAILABLE
    assert rpc_error(admin.GetProject, request).code() == grpc.StatusCode.UNAVAILABLE
    assert admin.GetProject(request).id == P

    sandbox.faults.fail(None, grpc.StatusCode.RESOURCE_EXHAUSTED, seconds=60)
    assert rpc_error(admin.GetDomains, project_pb2.GetDomainRequest()).code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    sandbox.faults.clear()
    assert admin.GetDomains(project_pb2.GetDomainRequest()).domains

    sandbox.faults.fail_after_commit("CreateExecution")
    error = rpc_error(lambda _: start_pipeline(admin, "half-done"), None)
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    duplicate = rpc_error(lambda _: start_pipeline(admin, "half-done"), None)
    assert duplicate.code() == grpc.StatusCode.ALREADY_EXISTS

    rule = sandbox.faults.delay("GetVersion", seconds=0.01, times=1)
    admin.GetVersion(version_pb2.GetVersionRequest())
    admin.GetVersion(version_pb2.GetVersionRequest())
    assert rule.hits == 1


def test_auth_client_credentials(tmp_path):
    with FlyteSandbox(port=0, auth=True, seed=False, token_lifetime=600) as sandbox:
        config = sandbox.config
        assert config.auth_mode == AuthMode.CLIENT_CREDENTIALS
        assert sandbox.client_secret not in repr(config)
        assert sandbox.client_secret not in repr(sandbox.issuer)
        with grpc.insecure_channel(sandbox.endpoint) as channel:
            metadata = auth_pb2_grpc.AuthMetadataServiceStub(channel)
            client = metadata.GetPublicClientConfig(auth_pb2.PublicClientAuthConfigRequest())
            assert client.authorization_metadata_key == "flyte-authorization"
            oauth = metadata.GetOAuth2Metadata(auth_pb2.OAuth2MetadataRequest())
            admin = admin_pb2_grpc.AdminServiceStub(channel)
            error = rpc_error(admin.GetDomains, project_pb2.GetDomainRequest())
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED

            basic = base64.b64encode(f"{config.client_id}:{sandbox.client_secret}".encode()).decode()
            token_request = urllib.request.Request(
                oauth.token_endpoint,
                data=b"grant_type=client_credentials&scope=all",
                headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
            )
            with urllib.request.urlopen(token_request) as response:
                token = json.load(response)
            assert token["expires_in"] == 600
            call_metadata = (("flyte-authorization", f"Bearer {token['access_token']}"),)
            assert admin.GetDomains(project_pb2.GetDomainRequest(), metadata=call_metadata).domains
            sandbox.expire_tokens()
            expired = rpc_error(lambda r: admin.GetDomains(r, metadata=call_metadata), project_pb2.GetDomainRequest())
            assert expired.code() == grpc.StatusCode.UNAUTHENTICATED

            bad = urllib.request.Request(
                oauth.token_endpoint, data=b"grant_type=client_credentials&client_id=x&client_secret=y"
            )
            with pytest.raises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(bad)
            assert caught.value.code == 401


def test_tls():
    with FlyteSandbox(port=0, tls=True, seed=False) as sandbox:
        config = sandbox.config
        assert not config.insecure
        assert config.ca_cert_file_path == str(sandbox.ca_cert_path)
        with open(config.ca_cert_file_path, "rb") as handle:
            credentials = grpc.ssl_channel_credentials(root_certificates=handle.read())
        with grpc.secure_channel(sandbox.endpoint, credentials) as channel:
            assert admin_pb2_grpc.AdminServiceStub(channel).GetDomains(project_pb2.GetDomainRequest()).domains


def test_dataproxy_upload_download_and_get_data(sandbox, admin, dataproxy):
    payload = b"hello sandbox"
    md5 = hashlib.md5(payload).digest()
    location = dataproxy.CreateUploadLocation(
        dataproxy_pb2.CreateUploadLocationRequest(project=P, domain=D, filename="data.txt", content_md5=md5)
    )
    assert location.native_url == f"s3://my-s3-bucket/{P}/{D}/{base64.b32encode(md5).decode()}/data.txt"
    put = urllib.request.Request(
        location.signed_url, data=payload, method="PUT", headers={"Content-MD5": base64.b64encode(md5).decode()}
    )
    with urllib.request.urlopen(put) as response:
        assert response.status == 200
    tampered = urllib.request.Request(
        location.signed_url, data=b"other", method="PUT", headers={"Content-MD5": base64.b64encode(md5).decode()}
    )
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(tampered)
    download = dataproxy.CreateDownloadLocation(
        dataproxy_pb2.CreateDownloadLocationRequest(native_url=location.native_url)
    )
    with urllib.request.urlopen(download.signed_url) as response:
        assert response.read() == payload
    error = rpc_error(dataproxy.CreateUploadLocation, dataproxy_pb2.CreateUploadLocationRequest(project=P, domain=D))
    assert error.details() == "content_md5 or filename_root is a required parameter"

    execution_id = start_pipeline(admin, "data")
    wait_for(admin, execution_id)
    data = dataproxy.GetData(dataproxy_pb2.GetDataRequest(flyte_url=f"flyte://v1/{P}/{D}/data/summarize/o/total"))
    assert data.literal.scalar.primitive.integer == 4
    attempt = dataproxy.GetData(dataproxy_pb2.GetDataRequest(flyte_url=f"flyte://v1/{P}/{D}/data/summarize/0/i"))
    assert len(attempt.literal_map.literals["numbers"].collection.literals) == 2
    error = rpc_error(dataproxy.GetData, dataproxy_pb2.GetDataRequest(flyte_url="s3://x"))
    assert error.details().endswith("request does not start with the correct prefix")


def test_pytest_plugin_fixture(flyte_sandbox):
    with grpc.insecure_channel(flyte_sandbox.endpoint) as channel:
        assert admin_pb2_grpc.AdminServiceStub(channel).GetProject(project_pb2.ProjectGetRequest(id=P)).id == P


@pytest.mark.flyte_sandbox(seed=False)
def test_pytest_plugin_marker_options(flyte_sandbox):
    with grpc.insecure_channel(flyte_sandbox.endpoint) as channel:
        assert (
            not admin_pb2_grpc.AdminServiceStub(channel).ListProjects(project_pb2.ProjectListRequest(limit=5)).projects
        )
