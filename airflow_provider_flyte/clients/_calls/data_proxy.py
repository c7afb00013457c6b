"""Builders for the DataProxyService: signed upload and download URLs, ``flyte://`` data, artifact links."""

from __future__ import annotations

import datetime

from flyteidl.core import identifier_pb2
from flyteidl.service import dataproxy_pb2

from airflow_provider_flyte.clients._calls.checks import _describe, _duration, _enum, _optional_text, _text
from airflow_provider_flyte.clients._calls.core import DATA_PROXY, Call, _same
from airflow_provider_flyte.exceptions import FlyteInvalidInputException


def get_upload_signed_url(
    project: str,
    domain: str,
    content_md5: bytes | None,
    filename: str | None,
    expires_in: datetime.timedelta | None,
    filename_root: str | None,
    add_content_md5_metadata: bool,
) -> Call[dataproxy_pb2.CreateUploadLocationResponse]:
    """``CreateUploadLocation``."""
    if content_md5 is not None and not isinstance(content_md5, bytes):
        raise FlyteInvalidInputException(f"content_md5 must be the raw md5 digest bytes, got {_describe(content_md5)}")
    if not content_md5 and not filename_root:
        # Admin's own rule, checked here to fail before the round trip with the argument names a caller knows.
        raise FlyteInvalidInputException("get_upload_signed_url needs content_md5 or filename_root")
    request = dataproxy_pb2.CreateUploadLocationRequest(
        project=_text(project, "project"),
        domain=_text(domain, "domain"),
        content_md5=content_md5 or b"",
        filename=_optional_text(filename, "filename"),
        expires_in=_duration(expires_in, "expires_in"),
        filename_root=_optional_text(filename_root, "filename_root"),
        add_content_md5_metadata=bool(add_content_md5_metadata),
    )
    return Call(DATA_PROXY, "CreateUploadLocation", request, _same)


def get_download_signed_url(
    native_url: str, expires_in: datetime.timedelta | None
) -> Call[dataproxy_pb2.CreateDownloadLocationResponse]:
    """``CreateDownloadLocation``."""
    request = dataproxy_pb2.CreateDownloadLocationRequest(
        native_url=_text(native_url, "native_url"), expires_in=_duration(expires_in, "expires_in")
    )
    return Call(DATA_PROXY, "CreateDownloadLocation", request, _same)


def get_data(flyte_uri: str) -> Call[dataproxy_pb2.GetDataResponse]:
    """``GetData`` for a ``flyte://v1/...`` URL."""
    if not isinstance(flyte_uri, str) or not flyte_uri.startswith("flyte://"):
        raise FlyteInvalidInputException(f"flyte_uri must start with 'flyte://', got {_describe(flyte_uri)}")
    return Call(DATA_PROXY, "GetData", dataproxy_pb2.GetDataRequest(flyte_url=flyte_uri), _same)


def get_download_artifact_signed_url(
    node_id: str,
    project: str,
    domain: str,
    name: str,
    artifact_type: int,
    expires_in: datetime.timedelta | None,
) -> Call[dataproxy_pb2.CreateDownloadLinkResponse]:
    """``CreateDownloadLink`` for an artifact (a deck) of a node execution."""
    node_execution_id = identifier_pb2.NodeExecutionIdentifier(
        node_id=_text(node_id, "node_id"),
        execution_id=identifier_pb2.WorkflowExecutionIdentifier(
            project=_text(project, "project"), domain=_text(domain, "domain"), name=_text(name, "name")
        ),
    )
    request = dataproxy_pb2.CreateDownloadLinkRequest(
        artifact_type=_enum(artifact_type, "artifact_type", dataproxy_pb2.ArtifactType),  # type: ignore[arg-type]
        node_execution_id=node_execution_id,
        expires_in=_duration(expires_in, "expires_in"),
    )
    return Call(DATA_PROXY, "CreateDownloadLink", request, _same)
