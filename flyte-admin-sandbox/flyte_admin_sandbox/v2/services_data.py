"""``flyteidl2.dataproxy.DataProxyService``: signed upload URLs, offloaded inputs and the root action's data."""

from __future__ import annotations

import base64
import hashlib

from flyteidl2.common import run_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2

from flyte_admin_sandbox.v2 import views
from flyte_admin_sandbox.v2.backend import Backend, now_expiry
from flyte_admin_sandbox.v2.errors import invalid, missing, not_found

DEFAULT_EXPIRY = 3600.0


class DataProxyService:
    """Uploads land in the sandbox's blob folder through its HTTP side (``PUT`` and ``GET`` on signed URLs).

    Args:
        backend: The shared state.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def CreateUploadLocation(
        self, request: dataproxy_service_pb2.CreateUploadLocationRequest
    ) -> dataproxy_service_pb2.CreateUploadLocationResponse:
        """A signed ``PUT`` URL under ``<project>/<domain>/<filename_root or content MD5>/<filename>``.

        Raises:
            ServiceError: ``INVALID_ARGUMENT`` without a project, domain or filename, or with a path in the filename.
        """
        for field in ("project", "domain", "filename"):
            if not getattr(request, field):
                raise missing(field)
        if "/" in request.filename or request.filename in (".", ".."):
            raise invalid("filename", request.filename, "a file name, not a path")
        root = request.filename_root or base64.b32encode(request.content_md5).decode().rstrip("=").lower()
        if not root:
            raise missing("filename_root or content_md5")
        key = f"{request.project}/{request.domain}/{root}/{request.filename}"
        seconds = request.expires_in.ToTimedelta().total_seconds() if request.HasField("expires_in") else 0
        expires = now_expiry(seconds or DEFAULT_EXPIRY)
        response = dataproxy_service_pb2.CreateUploadLocationResponse(
            signed_url=self.backend.signed_url("PUT", key, expires), native_url=self.backend.blobs.uri(key)
        )
        response.expires_at.FromSeconds(expires)
        return response

    def UploadInputs(
        self, request: dataproxy_service_pb2.UploadInputsRequest
    ) -> dataproxy_service_pb2.UploadInputsResponse:
        """Store inputs for a later CreateRun; the answer references them by URI and content hash."""
        which = request.WhichOneof("id")
        if which == "run_id":
            project, domain = request.run_id.project, request.run_id.domain
        elif which == "project_id":
            project, domain = request.project_id.name, request.project_id.domain
        else:
            raise missing("run_id or project_id")
        self.backend.require_project(project, domain, f"{which}.project" if which == "run_id" else "project_id.name")
        data = request.inputs.SerializeToString(deterministic=True)
        digest = hashlib.sha256(data).hexdigest()
        uri = self.backend.blobs.put(f"{project}/{domain}/inputs/{digest}/inputs.pb", data)
        return dataproxy_service_pb2.UploadInputsResponse(
            offloaded_input_data=run_pb2.OffloadedInputData(uri=uri, inputs_hash=digest)
        )

    def GetActionData(
        self, request: dataproxy_service_pb2.GetActionDataRequest
    ) -> dataproxy_service_pb2.GetActionDataResponse:
        """The root action's inputs, and its outputs once succeeded.

        Raises:
            ServiceError: ``NOT_FOUND`` for an unknown run or an action other than ``a0``.
        """
        run_id = request.action_id.run
        if not run_id.name:
            raise missing("action_id.run.name")
        record = self.backend.store.get_run(run_id.project, run_id.domain, run_id.name)
        if record is None:
            raise not_found("run", f"{run_id.project}/{run_id.domain}/{run_id.name}")
        if request.action_id.name != views.ROOT_ACTION:
            raise not_found("action", f"{run_id.name}/{request.action_id.name}")
        return dataproxy_service_pb2.GetActionDataResponse(inputs=record.inputs, outputs=record.outputs)
