"""Data through the sandbox's data proxy (uploads, the flyte:// filesystem, get, download), projects and domains."""

from __future__ import annotations

import hashlib
import json
import pathlib
from typing import Any

import pytest
from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox import builders as b
from flyteidl.admin import project_pb2, task_pb2
from flyteidl.core import types_pb2
from remote_helpers import RpcLog, finish, workflow_spec

from airflow_provider_flyte.exceptions import (
    FlyteEntityAlreadyExistsException,
    FlyteEntityNotExistException,
    FlyteInvalidInputException,
    FlyteSystemException,
)
from airflow_provider_flyte.literals import FlyteDirectory, FlyteFile, to_python
from airflow_provider_flyte.remote import FlyteRemote, FlyteWorkflowExecution, LiteralsView

SINGLE, MULTIPART = types_pb2.BlobType.SINGLE, types_pb2.BlobType.MULTIPART
FILE = types_pb2.LiteralType(blob=types_pb2.BlobType(format="", dimensionality=SINGLE))
DIRECTORY = types_pb2.LiteralType(blob=types_pb2.BlobType(format="", dimensionality=MULTIPART))
STORE = "s3://my-s3-bucket/flytesnacks/development/"


def _stored(flyte_sandbox: FlyteSandbox, native_url: str) -> bytes | None:
    key = flyte_sandbox.blobs.key_of(native_url)
    assert key is not None, native_url
    return flyte_sandbox.blobs.get(key)


def _run_passthrough(remote: FlyteRemote, blob_type: types_pb2.LiteralType, value: object) -> FlyteWorkflowExecution:
    """Register a one-node workflow ``copy`` handing its blob input back as output ``f``, run it on ``value``."""
    suffix = "dir" if blob_type.blob.dimensionality == MULTIPART else "file"
    task = b.python_task(
        f"remote.same_{suffix}", "remote_tasks:same_file", inputs={"f": blob_type}, outputs={"o0": blob_type}
    )
    remote.register_task(task_pb2.TaskSpec(template=task))
    template = b.workflow(
        f"remote.copy_{suffix}",
        inputs={"f": blob_type},
        outputs={"f": blob_type},
        nodes=[b.task_node("copy", task.id, {"f": b.workflow_input("f")})],
        output_bindings={"f": b.promise("copy", "o0")},
    )
    workflow = remote.register_workflow(workflow_spec(template))
    return finish(remote.execute(workflow, inputs={"f": value}, execution_name=f"copy-{suffix}"))


# ---------------------------------------------------------------- uploads and the flyte:// filesystem


def test_upload_file_sends_content_md5_and_lands_in_the_store(
    remote: FlyteRemote, flyte_sandbox: FlyteSandbox, rpcs: RpcLog, tmp_path: pathlib.Path
) -> None:
    source = tmp_path / "data.csv"
    source.write_bytes(b"a,b\n1,2\n")
    md5, native = remote.upload_file(source)
    assert md5 == hashlib.md5(b"a,b\n1,2\n").digest()
    assert native.startswith(STORE)
    assert native.endswith("/data.csv")
    assert _stored(flyte_sandbox, native) == b"a,b\n1,2\n"  # the sandbox checked Content-MD5 before storing
    request = rpcs.calls("CreateUploadLocation")[-1]
    assert (request.content_md5, request.filename, request.project) == (md5, "data.csv", "flytesnacks")
    _md5, rooted = remote.upload_file(source, domain="staging", filename_root="batch-7")
    assert rooted == "s3://my-s3-bucket/flytesnacks/staging/batch-7/data.csv"
    with pytest.raises(FlyteInvalidInputException, match="is not a file"):
        remote.upload_file(tmp_path / "missing.csv")
    source.write_bytes(b"changed")
    with pytest.raises(FlyteEntityAlreadyExistsException, match="file already exists"):
        remote.upload_file(source, domain="staging", filename_root="batch-7")


def test_fast_package_uploads_the_source_tree(
    remote: FlyteRemote, flyte_sandbox: FlyteSandbox, tmp_path: pathlib.Path
) -> None:
    root = tmp_path / "src"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("x = 1\n")
    md5, native = remote.fast_package(root, output=tmp_path / "out")
    (archive,) = (tmp_path / "out").iterdir()
    assert native.endswith(f"/{archive.name}")
    assert _stored(flyte_sandbox, native) == archive.read_bytes()
    assert md5 == hashlib.md5(archive.read_bytes()).digest()


def test_flyte_fs_roundtrip(remote: FlyteRemote, flyte_sandbox: FlyteSandbox, tmp_path: pathlib.Path) -> None:
    fs = remote.file_access
    assert remote.file_access is fs
    with fs.open("flyte://data/reports/out.txt", "wb") as handle:
        handle.write(b"hello")
    assert fs.cat_file("flyte://data/reports/out.txt") == b"hello"
    native = fs.native_url("flyte://data/reports/out.txt")
    assert native.startswith(STORE)
    assert _stored(flyte_sandbox, native) == b"hello"
    assert fs.cat_file(native) == b"hello"  # storage URLs are read through a signed link too
    assert fs.ls("flyte://data/reports", detail=False) == ["data/reports/out.txt"]
    assert fs.info("flyte://data/reports/out.txt")["size"] == 5
    assert fs.info("flyte://data")["type"] == "directory"
    assert fs.exists("flyte://data")
    assert not fs.exists("flyte://elsewhere")
    local = tmp_path / "in.bin"
    local.write_bytes(b"\x00\x01")
    fs.put(str(local), "flyte://data/in.bin")
    fs.get("flyte://data/in.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == b"\x00\x01"
    with fs.open("flyte://data/in.bin", "rb") as handle:
        assert handle.read() == b"\x00\x01"
    with pytest.raises(FileNotFoundError):
        fs.cat_file("flyte://data/never-written")
    with pytest.raises(FlyteInvalidInputException, match="mode='ab'"):
        fs.open("flyte://data/in.bin", "ab")


def test_missing_objects_fail_without_leaking_signed_urls(remote: FlyteRemote) -> None:
    with pytest.raises(FlyteSystemException, match=f"downloading {STORE}nothing/here failed with HTTP 404") as caught:
        remote.file_access.cat_file(f"{STORE}nothing/here")
    assert "signature" not in str(caught.value)
    with pytest.raises(FlyteInvalidInputException, match="not in s3://my-s3-bucket"):
        remote.file_access.cat_file("gs://other-bucket/x")


# ---------------------------------------------------------------- inputs, outputs, get and download


def test_local_file_input_is_uploaded_and_outputs_download(
    remote: FlyteRemote, flyte_sandbox: FlyteSandbox, tmp_path: pathlib.Path
) -> None:
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"weights")
    execution = _run_passthrough(remote, FILE, str(weights))
    assert execution.is_successful
    output = execution.outputs["f"]
    assert isinstance(output, FlyteFile)
    uri = execution.outputs.literals["f"].scalar.blob.uri
    assert uri.startswith(STORE)
    assert uri.endswith("/model.bin")
    assert _stored(flyte_sandbox, uri) == b"weights"

    written = remote.download(execution.outputs, tmp_path / "out")
    assert written["f"].read_bytes() == b"weights"
    node_outputs = f"flyte://v1/flytesnacks/development/{execution.id.name}/copy/o"
    view = remote.get(node_outputs)
    assert isinstance(view, LiteralsView)
    assert list(view) == ["o0"]
    assert view.literals["o0"].scalar.blob.uri == uri
    assert remote.download(view, tmp_path / "node")["o0"].read_bytes() == b"weights"
    single = remote.get(f"{node_outputs}/o0")
    assert single.scalar.blob.uri == uri  # the Literal, as flytekit returns it
    assert isinstance(to_python(single), FlyteFile)
    assert remote.download(execution.outputs.literals["f"], tmp_path / "one")["data"].read_bytes() == b"weights"


def test_local_directory_input_is_uploaded_under_one_prefix(
    remote: FlyteRemote, flyte_sandbox: FlyteSandbox, tmp_path: pathlib.Path
) -> None:
    folder = tmp_path / "shards"
    (folder / "nested").mkdir(parents=True)
    (folder / "a.txt").write_text("A")
    (folder / "nested" / "b.txt").write_text("B")
    execution = _run_passthrough(remote, DIRECTORY, str(folder))
    assert isinstance(execution.outputs["f"], FlyteDirectory)
    prefix = execution.outputs.literals["f"].scalar.blob.uri
    assert prefix.startswith(STORE)
    assert prefix.endswith("/")
    assert _stored(flyte_sandbox, prefix + "a.txt") == b"A"
    assert _stored(flyte_sandbox, prefix + "b.txt") == b"B"
    with pytest.raises(FlyteInvalidInputException, match="f is a directory"):
        remote.download(execution.outputs, tmp_path / "out")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FlyteInvalidInputException, match="is empty; nothing to upload"):
        remote.execute(remote.fetch_workflow(name="remote.copy_dir"), inputs={"f": str(empty)})


def _flytekit_remote(sandbox: FlyteSandbox) -> Any:
    pytest.importorskip("flytekit")
    from flytekit.configuration import Config, PlatformConfig
    from flytekit.remote import FlyteRemote as FlytekitRemote

    return FlytekitRemote(Config(platform=PlatformConfig(endpoint=sandbox.config.endpoint, insecure=True)))


def test_get_and_download_values(remote: FlyteRemote, flyte_sandbox: FlyteSandbox, tmp_path: pathlib.Path) -> None:
    execution = finish(remote.execute(remote.fetch_launch_plan(name="demo.pipeline"), inputs={"numbers": [1, 3]}))
    base = f"flyte://v1/flytesnacks/development/{execution.id.name}"
    assert remote.get(f"{base}/summarize/o").to_dict() == {"total": 4, "count": 2}
    # One named value is its Literal, as flytekit returns it (flytekit side by side on the same URL).
    numbers = remote.get(f"{base}/summarize/i/numbers")
    assert to_python(numbers) == [1, 3]
    assert numbers == _flytekit_remote(flyte_sandbox).get(f"{base}/summarize/i/numbers").to_flyte_idl()
    assert to_python(remote.get(f"{base}/summarize/0/o/total")) == 4  # one task attempt's outputs
    written = remote.download(execution.outputs, tmp_path / "out")
    assert json.loads(written["total"].read_text()) == 4
    assert json.loads(written["report"].read_text()) == "demo: mean 4.000 over 2 value(s)"
    listed = remote.download({"numbers": execution.inputs.literals["numbers"]}, tmp_path / "rec")
    assert sorted(path.name for path in listed["numbers"].iterdir()) == ["0.json", "1.json"]
    flat = remote.download(execution.inputs.literal_map, tmp_path / "flat", recursive=False)
    assert json.loads(flat["numbers"].read_text()) == [1, 3]
    with pytest.raises(FlyteInvalidInputException, match="must start with 'flyte://'"):
        remote.get("s3://bucket/x")
    with pytest.raises(FlyteEntityNotExistException):
        remote.get(f"{base}/n9/o")
    with pytest.raises(FlyteInvalidInputException, match=r"name \[nope\] not found"):
        remote.get(f"{base}/summarize/o/nope")
    with pytest.raises(FlyteEntityNotExistException, match="no deckUrl"):
        remote.get(f"{base}/summarize/d")
    with pytest.raises(FlyteInvalidInputException, match="cannot be downloaded"):
        remote.download(42, tmp_path)


# ---------------------------------------------------------------- projects and domains


def test_projects_and_domains(flyte_sandbox: FlyteSandbox) -> None:
    # A remote creating (and closing) its own client from the sandbox's config.
    with FlyteRemote(flyte_sandbox.config) as remote:
        for index in range(3):
            remote.register_project(project_pb2.Project(id=f"proj{index}", name=f"Project {index}"))
        assert [p.id for p in remote.list_projects(limit=2)] == ["flytesnacks", "proj0", "proj1", "proj2"]
        assert [p.id for p in remote.list_projects(filters="eq(identifier,proj1)")] == ["proj1"]
        remote.update_project(project_pb2.Project(id="proj1", name="Renamed"))
        assert remote.client.get_project("proj1").name == "Renamed"
        remote.update_project(project_pb2.Project(id="proj2", state=project_pb2.Project.ARCHIVED))
        assert [p.id for p in remote.list_projects()] == ["flytesnacks", "proj0", "proj1"]
        assert [p.id for p in remote.list_projects(filters=["eq(state,1)"])] == ["proj2"]
        with pytest.raises(FlyteEntityAlreadyExistsException):
            remote.register_project(project_pb2.Project(id="proj0", name="again"))
        with pytest.raises(FlyteEntityNotExistException, match=r"project \[nope\] not found"):
            remote.update_project(project_pb2.Project(id="nope", name="x"))
        assert [d.id for d in remote.get_domains()] == ["development", "staging", "production"]
        client = remote.client
    with pytest.raises(FlyteSystemException):  # the remote closed the client it created
        client.get_domains()


def test_offloaded_inputs_and_outputs_are_downloaded(remote: FlyteRemote, monkeypatch: pytest.MonkeyPatch) -> None:
    """Admin leaves large maps out of GetExecutionData (a ``UrlBlob`` instead); the remote then downloads them.

    The sandbox always answers inline, so its answer is rewritten here the way Admin answers for large data; the
    offloaded map itself is uploaded to, and downloaded from, the sandbox's store through its data proxy.
    """
    from airflow_provider_flyte.remote.fs import upload_bytes

    execution = finish(remote.execute(remote.fetch_launch_plan(name="demo.pipeline"), inputs={"numbers": [5]}))
    inline = remote.client.get_execution_data(execution.id)
    offloaded = type(inline)()
    for side in ("inputs", "outputs"):
        data = getattr(inline, f"full_{side}").SerializeToString()
        _md5, native = upload_bytes(remote.client, data, f"{side}.pb", "flytesnacks", "development")
        getattr(offloaded, side).url = native
        getattr(offloaded, side).bytes = len(data)
    monkeypatch.setattr(remote.client, "get_execution_data", lambda _id: offloaded)
    fresh = remote.fetch_execution(name=execution.id.name)
    assert fresh.outputs.to_dict() == {"total": 5, "mean": 10.0, "report": "demo: mean 10.000 over 1 value(s)"}
    assert fresh.inputs["numbers"] == [5]
