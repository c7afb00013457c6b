"""Moving data: inputs and outputs of executions, nodes and attempts, ``flyte://`` URLs, downloads and uploads.

Transfers go through the data proxy (signed URLs, see :mod:`.fs`); offloaded literal maps are downloaded when
Admin answers with a link instead of the values.
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.exceptions import FlyteEntityNotExistException, FlyteInvalidInputException
from airflow_provider_flyte.identifiers import (
    NodeExecutionIdentifier,
    TaskExecutionIdentifier,
    WorkflowExecutionIdentifier,
)
from airflow_provider_flyte.remote._core import RemoteCore
from airflow_provider_flyte.remote.executions import LiteralsView

if TYPE_CHECKING:
    from flyteidl.admin import common_pb2, execution_pb2
    from flyteidl.core import literals_pb2

    from airflow_provider_flyte.remote.fs import FlyteFS


class DataAccessMixin(RemoteCore):
    """``file_access``, ``get``, ``download``, ``fetch_io_literals``, ``upload_file``."""

    @property
    def file_access(self) -> FlyteFS:
        """The ``flyte://`` fsspec filesystem bound to this remote."""
        if self._fs is None:
            from airflow_provider_flyte.remote.fs import FlyteFS

            self._fs = FlyteFS(self, skip_instance_cache=True)
        return self._fs

    def get(self, flyte_uri: str) -> Any:
        """Resolve a ``flyte://v1/...`` data URL.

        Returns:
            A :class:`LiteralsView` for inputs/outputs (``.../i``, ``.../o``), the ``core.Literal`` of one named
            input or output (``.../o/<name>``, as flytekit returns it; ``to_python`` reads its value), the bytes
            behind the first link for a deck (``.../d``).
        """
        from airflow_provider_flyte.remote import fs

        if not isinstance(flyte_uri, str) or not flyte_uri.startswith("flyte://"):
            raise FlyteInvalidInputException(f"flyte_uri={flyte_uri!r} must start with 'flyte://'")
        response = self.client.get_data(flyte_uri)
        kind = response.WhichOneof("data")
        if kind == "literal_map":
            return LiteralsView(response.literal_map)
        if kind == "literal":
            return response.literal  # the Literal, as flytekit returns it; to_python(literal) reads its value
        if kind == "pre_signed_urls" and response.pre_signed_urls.signed_url:
            return fs.download_bytes(self.client, response.pre_signed_urls.signed_url[0])
        raise FlyteEntityNotExistException(f"{flyte_uri} resolved to no data")

    def download(self, data: Any, download_to: str | pathlib.Path, recursive: bool = True) -> dict[str, pathlib.Path]:
        """Write outputs or inputs to a local directory: files for blobs, ``<name>.json`` for values.

        Args:
            data: A :class:`LiteralsView` (e.g. ``execution.outputs``), a ``core.LiteralMap``, a mapping of names to
                ``core.Literal`` or a single ``core.Literal`` (written as ``data``).
            download_to: The directory to write into (created if needed).
            recursive: Write collections and maps as directories of their items.
        """
        from flyteidl.core import literals_pb2

        from airflow_provider_flyte.remote import fs

        if isinstance(data, LiteralsView):
            literals: Mapping[str, Any] = data.literals
        elif isinstance(data, literals_pb2.LiteralMap):
            literals = data.literals
        elif isinstance(data, literals_pb2.Literal):
            literals = {"data": data}
        elif isinstance(data, Mapping):
            literals = data
        else:
            raise FlyteInvalidInputException(
                f"data={type(data).__name__} cannot be downloaded; pass outputs/inputs, a LiteralMap or a Literal"
            )
        return fs.download_literals(self.client, literals, pathlib.Path(download_to), recursive)

    def fetch_io_literals(
        self, identifier: WorkflowExecutionIdentifier | NodeExecutionIdentifier | TaskExecutionIdentifier
    ) -> tuple[literals_pb2.LiteralMap, literals_pb2.LiteralMap]:
        """Inputs and outputs of an execution, node or task attempt, downloading offloaded maps when needed."""
        data: execution_pb2.WorkflowExecutionGetDataResponse | Any
        if isinstance(identifier, WorkflowExecutionIdentifier):
            data = self.client.get_execution_data(identifier)
        elif isinstance(identifier, NodeExecutionIdentifier):
            data = self.client.get_node_execution_data(identifier)
        else:
            data = self.client.get_task_execution_data(identifier)
        return (
            self._literal_map(data.full_inputs, data.inputs),
            self._literal_map(data.full_outputs, data.outputs),
        )

    def _literal_map(self, inline: literals_pb2.LiteralMap, blob: common_pb2.UrlBlob) -> literals_pb2.LiteralMap:
        from flyteidl.core import literals_pb2

        if inline.literals or not blob.url or blob.bytes <= 0:
            return inline
        from airflow_provider_flyte.remote import fs

        downloaded = literals_pb2.LiteralMap()
        downloaded.ParseFromString(fs.download_bytes(self.client, blob.url))
        return downloaded

    def upload_file(
        self,
        to_upload: str | pathlib.Path,
        project: str | None = None,
        domain: str | None = None,
        filename_root: str | None = None,
    ) -> tuple[bytes, str]:
        """Upload a local file through the data proxy; returns ``(md5 digest, native URL)``."""
        from airflow_provider_flyte.remote import fs

        project, domain = self.resolve_project_domain(project, domain)
        return fs.upload_file(self.client, pathlib.Path(to_upload), project, domain, filename_root)
