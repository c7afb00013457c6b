"""Inputs and outputs live in the store: their URIs resolve through every reader without a file per node.

The engine writes no blob file for a node's outputs; the URIs in closures (``outputs.uri``, ``output_uri``,
``input_uri``) read the rows' bytes through the blob store's resolver, and a signed download URL writes the file the
first time one is asked for.
"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox import builders as b
from flyteidl.admin import execution_pb2, node_execution_pb2, task_execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import literals_pb2
from flyteidl.service import admin_pb2_grpc, dataproxy_pb2, dataproxy_pb2_grpc
from sandbox_helpers import wait_for

from airflow_provider_flyte.clients import SynchronousFlyteClient
from airflow_provider_flyte.remote import fs
from tests.support.sandboxes import new_sandbox

P, D = "flytesnacks", "development"
NUMBERS = {"numbers": b.list_of(b.INTEGER)}


def _run_pipeline(admin: admin_pb2_grpc.AdminServiceStub, name: str) -> execution_pb2.Execution:
    spec = execution_pb2.ExecutionSpec(launch_plan=b.identifier(b.RT.LAUNCH_PLAN, "demo.pipeline"))
    request = execution_pb2.ExecutionCreateRequest(
        project=P, domain=D, name=name, spec=spec, inputs=b.literal_map({"numbers": [2, 3]}, NUMBERS)
    )
    execution_id = admin.CreateExecution(request).id
    execution = wait_for(admin, execution_id)
    assert execution.closure.phase == core_execution_pb2.WorkflowExecution.SUCCEEDED
    return execution


def _uris(admin: admin_pb2_grpc.AdminServiceStub, execution: execution_pb2.Execution) -> dict[str, bytes]:
    """Every input and output URI of an execution, its nodes and their attempts, with the bytes Admin returns inline."""
    data = admin.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=execution.id))
    uris = {execution.closure.outputs.uri: data.full_outputs.SerializeToString(deterministic=True)}
    listed = admin.ListNodeExecutions(
        node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=execution.id, limit=100)
    )
    for node in listed.node_executions:
        node_data = admin.GetNodeExecutionData(node_execution_pb2.NodeExecutionGetDataRequest(id=node.id))
        uris[node.input_uri] = node_data.full_inputs.SerializeToString(deterministic=True)
        if node.closure.output_uri:
            uris[node.closure.output_uri] = node_data.full_outputs.SerializeToString(deterministic=True)
        attempts = admin.ListTaskExecutions(
            task_execution_pb2.TaskExecutionListRequest(node_execution_id=node.id, limit=100)
        )
        for attempt in attempts.task_executions:
            attempt_data = admin.GetTaskExecutionData(task_execution_pb2.TaskExecutionGetDataRequest(id=attempt.id))
            uris[attempt.input_uri] = attempt_data.full_inputs.SerializeToString(deterministic=True)
            uris[attempt.closure.output_uri] = attempt_data.full_outputs.SerializeToString(deterministic=True)
    return uris


def _download(dataproxy: dataproxy_pb2_grpc.DataProxyServiceStub, uri: str) -> bytes:
    signed = dataproxy.CreateDownloadLocation(dataproxy_pb2.CreateDownloadLocationRequest(native_url=uri)).signed_url
    with urllib.request.urlopen(signed) as response:
        data: bytes = response.read()
        return data


def test_outputs_are_no_files_yet_every_uri_reads_them(sandbox: FlyteSandbox, admin, dataproxy) -> None:
    execution = _run_pipeline(admin, "objects")
    uris = _uris(admin, execution)
    assert len(uris) > 6  # the execution, the start node, the pipeline's nodes and their attempts
    keys = {uri: sandbox.blobs.key_of(uri) for uri in uris}
    assert all(key is not None for key in keys.values())
    # Nothing was written to the bucket folder for them...
    assert not any(sandbox.blobs.path(key).exists() for key in keys.values() if key is not None)
    for uri, inline in uris.items():
        key = keys[uri]
        assert key is not None
        # ...yet the store's reader, the signed URL (the HTTP side) and Admin's inline data agree byte for byte.
        assert sandbox.blobs.get(key) == inline, uri
        assert _download(dataproxy, uri) == inline, uri
        # The signed URL wrote the object's file, as an object store would hold it.
        assert sandbox.blobs.path(key).read_bytes() == inline
    assert literals_pb2.LiteralMap.FromString(uris[execution.closure.outputs.uri]).literals  # real outputs


def test_the_client_library_downloads_outputs_through_signed_urls(sandbox: FlyteSandbox, admin) -> None:
    execution = _run_pipeline(admin, "objects-remote")
    inline = admin.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=execution.id)).full_outputs
    with SynchronousFlyteClient(sandbox.config) as client:
        downloaded = fs.download_bytes(client, execution.closure.outputs.uri)
    assert literals_pb2.LiteralMap.FromString(downloaded) == inline


def test_objects_that_do_not_exist_are_not_found(sandbox: FlyteSandbox, admin, dataproxy) -> None:
    execution = _run_pipeline(admin, "objects-missing")
    prefix = f"metadata/{P}/{D}/{execution.id.name}"
    for key in (
        f"metadata/{P}/{D}/no-such-run/offloaded_outputs",
        f"{prefix}/no-such-node/offloaded_outputs",
        f"{prefix}/start-node/not-a-number/outputs.pb",
        f"{prefix}/start-node/7/outputs.pb",
        f"{prefix}/something-else",
        "metadata/too/short",
    ):
        assert sandbox.blobs.get(key) is None, key
        assert sandbox.blobs.materialize(key) is None, key
    with pytest.raises(urllib.error.HTTPError) as missing:
        _download(dataproxy, sandbox.blobs.uri(f"{prefix}/no-such-node/offloaded_outputs"))
    assert missing.value.code == 404


def test_outputs_are_read_from_the_database_after_a_restart_and_a_reopen(tmp_path) -> None:
    import grpc

    database = tmp_path / "sandbox.db"
    sandbox = new_sandbox(db_path=database).start()
    try:
        with grpc.insecure_channel(sandbox.endpoint) as channel:
            admin = admin_pb2_grpc.AdminServiceStub(channel)
            uris = _uris(admin, _run_pipeline(admin, "persisted"))
        sandbox.restart()
        with grpc.insecure_channel(sandbox.endpoint) as channel:
            dataproxy = dataproxy_pb2_grpc.DataProxyServiceStub(channel)
            some = next(uri for uri in uris if uri.endswith("/offloaded_outputs"))
            assert _download(dataproxy, some) == uris[some]
    finally:
        sandbox.close()
    with new_sandbox(db_path=database) as reopened:
        for uri, inline in uris.items():
            key = reopened.blobs.key_of(uri)
            assert key is not None
            assert reopened.blobs.get(key) == inline, uri
