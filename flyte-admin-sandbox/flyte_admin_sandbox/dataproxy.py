"""DataProxyService: signed upload and download URLs over the sandbox's blob folder, and flyte:// data lookups."""

from __future__ import annotations

import base64
import datetime
import re
import secrets
import string

from flyteidl.admin import node_execution_pb2, task_execution_pb2
from flyteidl.core import identifier_pb2
from flyteidl.service import dataproxy_pb2
from google.protobuf import duration_pb2

from flyte_admin_sandbox.errors import already_exists, invalid, not_found
from flyte_admin_sandbox.executions import Executions
from flyte_admin_sandbox.httpd import SandboxHTTPServer
from flyte_admin_sandbox.records import timestamp
from flyte_admin_sandbox.store import now

MAX_EXPIRES_IN = datetime.timedelta(hours=1)
_FILENAME_ALPHABET = string.ascii_lowercase + string.digits
_SEGMENT = r"[a-zA-Z0-9_-]+"
_FLYTE_URL = re.compile(
    rf"flyte://v1/(?P<project>{_SEGMENT})/(?P<domain>{_SEGMENT})/(?P<execution>{_SEGMENT})/(?P<node>{_SEGMENT})"
    rf"(?:/(?P<attempt>[0-9]+))?/(?P<kind>[iod])(?:/(?P<name>{_SEGMENT}))?"
)


def _go_duration(delta: datetime.timedelta) -> str:
    total = int(delta.total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{seconds}s"
    if minutes:
        return f"{minutes}m{seconds}s"
    return f"{seconds}s"


def _expiry(expires_in: duration_pb2.Duration, has_value: bool) -> datetime.timedelta:
    if not has_value:
        return MAX_EXPIRES_IN
    delta = expires_in.ToTimedelta()
    if delta < datetime.timedelta(0):
        raise invalid(f"expiresIn [{_go_duration(delta)}] is invalid")
    if delta > MAX_EXPIRES_IN:
        raise invalid(
            f"expiresIn [{_go_duration(delta)}] cannot exceed max allowed expiration [{_go_duration(MAX_EXPIRES_IN)}]"
        )
    return delta or MAX_EXPIRES_IN


class DataProxy:
    """The DataProxyService RPCs.

    Args:
        http: The HTTP server that honours the signed URLs.
        executions: For node and task execution data (``GetData``, deck links).
    """

    def __init__(self, http: SandboxHTTPServer, executions: Executions) -> None:
        self.http = http
        self.blobs = http.blobs
        self.executions = executions

    def CreateUploadLocation(
        self, request: dataproxy_pb2.CreateUploadLocationRequest
    ) -> dataproxy_pb2.CreateUploadLocationResponse:
        """A signed PUT URL for a new object under ``<project>/<domain>/<md5 or root>/<filename>``."""
        if not request.project or not request.domain:
            raise invalid("project and domain are required parameters")
        if not request.filename_root and not request.content_md5:
            raise invalid("content_md5 or filename_root is a required parameter")
        delta = _expiry(request.expires_in, request.HasField("expires_in"))
        filename = request.filename or "".join(secrets.choice(_FILENAME_ALPHABET) for _ in range(20))
        prefix = request.filename_root or base64.b32encode(request.content_md5).decode()
        key = "/".join(part for part in (request.org, request.project, request.domain, prefix, filename) if part)
        if request.filename and request.filename_root:
            stored = self.blobs.md5(key)
            if stored is not None and (not request.content_md5 or stored != request.content_md5):
                raise already_exists(
                    f"file already exists at location [{self.blobs.uri(key)}], specify a matching hash if you wish "
                    "to rewrite"
                )
        expires_at = now() + delta
        md5_b64 = base64.b64encode(request.content_md5).decode() if request.content_md5 else ""
        headers = {}
        if request.add_content_md5_metadata and request.content_md5:
            headers["x-amz-meta-flytecontentmd5"] = request.content_md5.hex()
        return dataproxy_pb2.CreateUploadLocationResponse(
            signed_url=self.http.signed_url("PUT", key, int(expires_at.timestamp()), md5_b64),
            native_url=self.blobs.uri(key),
            expires_at=timestamp(expires_at),
            headers=headers,
        )

    def CreateDownloadLocation(
        self, request: dataproxy_pb2.CreateDownloadLocationRequest
    ) -> dataproxy_pb2.CreateDownloadLocationResponse:
        """A signed GET URL for an object of the sandbox's container.

        Inputs and outputs of executions, nodes and attempts live in the store: the first signed URL for one writes
        its file (:meth:`~flyte_admin_sandbox.blobs.BlobStore.materialize`), as an object store would hold it.
        """
        try:
            delta = _expiry(request.expires_in, request.HasField("expires_in"))
        except Exception as error:
            raise invalid(f"error while validating request: expiresIn is invalid. Error: {error}") from None
        key = self.blobs.key_of(request.native_url)
        if key is None:
            raise invalid(f"failed to create a signed url for [{request.native_url}]: not in {self.blobs.container}")
        self.blobs.materialize(key)
        expires_at = now() + delta
        return dataproxy_pb2.CreateDownloadLocationResponse(
            signed_url=self.http.signed_url("GET", key, int(expires_at.timestamp())), expires_at=timestamp(expires_at)
        )

    def CreateDownloadLink(
        self, request: dataproxy_pb2.CreateDownloadLinkRequest
    ) -> dataproxy_pb2.CreateDownloadLinkResponse:
        """A signed link to a node's deck."""
        if request.artifact_type != dataproxy_pb2.ARTIFACT_TYPE_DECK:
            raise invalid("invalid artifact type")
        if not request.HasField("node_execution_id"):
            raise invalid("source is required")
        delta = _expiry(request.expires_in, request.HasField("expires_in"))
        try:
            node = self.executions.GetNodeExecution(
                node_execution_pb2.NodeExecutionGetRequest(id=request.node_execution_id)
            )
        except Exception as error:
            raise invalid(f"failed to find node execution [{request.node_execution_id}]: {error}") from None
        if not node.closure.deck_uri:
            raise not_found(f"no deckUrl found for request [{request}]")
        key = self.blobs.key_of(node.closure.deck_uri)
        if key is None or self.blobs.get(key) is None:
            raise not_found("object not found")
        expires_at = now() + delta
        url = self.http.signed_url("GET", key, int(expires_at.timestamp()))
        urls = dataproxy_pb2.PreSignedURLs(signed_url=[url], expires_at=timestamp(expires_at))
        return dataproxy_pb2.CreateDownloadLinkResponse(
            signed_url=[url], expires_at=timestamp(expires_at), pre_signed_urls=urls
        )

    def GetData(self, request: dataproxy_pb2.GetDataRequest) -> dataproxy_pb2.GetDataResponse:
        """Inputs, outputs (or one of them) or the deck of a node or task attempt, from a flyte:// URL."""
        if not request.flyte_url.startswith("flyte://"):
            raise invalid(
                "failed to validate resolve artifact request. Error: request does not start with the correct prefix"
            )
        match = _FLYTE_URL.fullmatch(request.flyte_url)
        if match is None:
            raise invalid(f"failed to parse flyte url [{request.flyte_url}]")
        execution_id = identifier_pb2.WorkflowExecutionIdentifier(
            project=match["project"], domain=match["domain"], name=match["execution"]
        )
        node_id = identifier_pb2.NodeExecutionIdentifier(node_id=match["node"], execution_id=execution_id)
        kind, name, attempt = match["kind"], match["name"], match["attempt"]
        if kind == "d":
            if attempt is not None:
                raise invalid("deck type cannot be specified with a retry attempt, just use the node instead")
            link = self.CreateDownloadLink(
                dataproxy_pb2.CreateDownloadLinkRequest(
                    artifact_type=dataproxy_pb2.ARTIFACT_TYPE_DECK, node_execution_id=node_id
                )
            )
            return dataproxy_pb2.GetDataResponse(pre_signed_urls=link.pre_signed_urls)
        if attempt is None:
            data = self.executions.GetNodeExecutionData(node_execution_pb2.NodeExecutionGetDataRequest(id=node_id))
            literals = data.full_inputs if kind == "i" else data.full_outputs
            where = f"node execution [{prototext_id(node_id)}]"
        else:
            listed = self.executions.ListTaskExecutions(
                task_execution_pb2.TaskExecutionListRequest(
                    node_execution_id=node_id, limit=1, filters=f"eq(retry_attempt,{attempt})"
                )
            )
            if not listed.task_executions:
                raise not_found(f"no task executions found for node [{prototext_id(node_id)}] attempt {attempt}")
            task_data = self.executions.GetTaskExecutionData(
                task_execution_pb2.TaskExecutionGetDataRequest(id=listed.task_executions[0].id)
            )
            literals = task_data.full_inputs if kind == "i" else task_data.full_outputs
            where = f"task execution [{prototext_id(node_id)} attempt {attempt}]"
        if name is None:
            return dataproxy_pb2.GetDataResponse(literal_map=literals)
        if name not in literals.literals:
            raise invalid(f"name [{name}] not found in {where}")
        return dataproxy_pb2.GetDataResponse(literal=literals.literals[name])


def prototext_id(node_id: identifier_pb2.NodeExecutionIdentifier) -> str:
    """A node execution id as ``project/domain/execution/node`` for messages."""
    ex = node_id.execution_id
    return f"{ex.project}/{ex.domain}/{ex.name}/{node_id.node_id}"
