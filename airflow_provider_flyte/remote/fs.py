"""Data transfer through Flyte's data proxy, and the ``flyte://`` fsspec filesystem.

Uploads ask Admin for a signed URL (``CreateUploadLocation``) and ``PUT`` the bytes there with ``Content-MD5``, so
Admin's storage checks the content. Downloads resolve a storage URL to a signed link (``CreateDownloadLocation``)
unless it already is an ``http(s)`` or local ``file://`` URL. Signed URLs carry credentials in their query string, so
they are never logged or put in exception texts; errors name the storage (native) URL instead.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import pathlib
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from fsspec.spec import AbstractFileSystem

from airflow_provider_flyte.exceptions import FlyteInvalidInputException, FlyteSystemException

if TYPE_CHECKING:
    from flyteidl.core import literals_pb2

    from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient

logger = logging.getLogger(__name__)

_HTTP_TIMEOUT = 300.0
_CHUNK = 1 << 20


def md5_of_file(path: pathlib.Path) -> bytes:
    """Raw md5 digest of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.digest()


def upload_bytes(
    client: SynchronousFlyteClient,
    data: bytes,
    filename: str,
    project: str,
    domain: str,
    filename_root: str | None = None,
) -> tuple[bytes, str]:
    """Upload ``data`` through a signed URL; return its md5 digest and the storage (native) URL."""
    import httpx

    md5 = hashlib.md5(data, usedforsecurity=False).digest()
    location = client.get_upload_signed_url(
        project=project, domain=domain, content_md5=md5, filename=filename, filename_root=filename_root
    )
    headers = {
        "Content-Length": str(len(data)),
        "Content-MD5": base64.b64encode(md5).decode("ascii"),
        **dict(location.headers),
    }
    if location.native_url.startswith("abfs://"):
        headers["x-ms-blob-type"] = "BlockBlob"
    try:
        response = httpx.put(location.signed_url, content=data, headers=headers, timeout=_HTTP_TIMEOUT)
    except httpx.HTTPError as error:
        raise FlyteSystemException(f"uploading {filename!r} to {location.native_url} failed: {error!s}") from None
    if response.status_code not in (200, 201):
        raise FlyteSystemException(
            f"uploading {filename!r} to {location.native_url} failed with HTTP {response.status_code}: "
            f"{response.text[:200]}"
        )
    logger.debug("Uploaded %s (%d bytes) to %s", filename, len(data), location.native_url)
    return md5, location.native_url


def upload_file(
    client: SynchronousFlyteClient,
    to_upload: pathlib.Path,
    project: str,
    domain: str,
    filename_root: str | None = None,
) -> tuple[bytes, str]:
    """Upload one local file; return ``(md5 digest, native URL)`` as flytekit's ``upload_file`` does.

    Raises:
        FlyteInvalidInputException: when ``to_upload`` is not a regular file.
        FlyteSystemException: when the storage rejects the upload.
    """
    path = pathlib.Path(to_upload)
    if not path.is_file():
        raise FlyteInvalidInputException(f"to_upload={str(path)!r} is not a file")
    return upload_bytes(client, path.read_bytes(), path.name, project, domain, filename_root)


def download_bytes(client: SynchronousFlyteClient, url: str) -> bytes:
    """Read the object at a storage URL (``s3://``, ``gs://``...), an ``http(s)`` link or a ``file://`` path.

    Raises:
        FlyteSystemException: when the download fails.
    """
    import httpx

    scheme = urlparse(url).scheme
    if scheme == "file":
        return pathlib.Path(unquote(urlparse(url).path)).read_bytes()
    if scheme == "" and os.path.isabs(url):
        return pathlib.Path(url).read_bytes()
    link = url if scheme in ("http", "https") else client.get_download_signed_url(native_url=url).signed_url
    try:
        response = httpx.get(link, timeout=_HTTP_TIMEOUT, follow_redirects=True)
    except httpx.HTTPError as error:
        raise FlyteSystemException(f"downloading {_describe(url)} failed: {error!s}") from None
    if response.status_code != 200:
        raise FlyteSystemException(f"downloading {_describe(url)} failed with HTTP {response.status_code}")
    return response.content


def _describe(url: str) -> str:
    """A URL safe to print: signed links lose their query string (where the signature lives)."""
    parsed = urlparse(url)
    return parsed._replace(query="", fragment="").geturl() if parsed.query else url


def download_literals(
    client: SynchronousFlyteClient,
    literals: Mapping[str, literals_pb2.Literal],
    download_to: pathlib.Path,
    recursive: bool = True,
) -> dict[str, pathlib.Path]:
    """Write literals under ``download_to``: blobs as files, other values as ``<name>.json``.

    Collections and maps become directories (``<name>/<index>`` and ``<name>/<key>``) when ``recursive``; unions
    are unwrapped. Returns the path written for each top-level name.

    Raises:
        FlyteInvalidInputException: for a multi-part blob (a directory), which signed links cannot list.
    """
    download_to.mkdir(parents=True, exist_ok=True)
    return {
        name: _download_literal(client, literal, download_to, name, recursive) for name, literal in literals.items()
    }


def _download_literal(
    client: SynchronousFlyteClient, literal: literals_pb2.Literal, directory: pathlib.Path, name: str, recursive: bool
) -> pathlib.Path:
    kind = literal.WhichOneof("value")
    if kind == "scalar" and literal.scalar.WhichOneof("value") == "union":
        return _download_literal(client, literal.scalar.union.value, directory, name, recursive)
    if kind == "scalar" and literal.scalar.WhichOneof("value") in ("blob", "structured_dataset"):
        scalar = literal.scalar
        uri = scalar.blob.uri if scalar.HasField("blob") else scalar.structured_dataset.uri
        if scalar.HasField("blob") and scalar.blob.metadata.type.dimensionality == 1:
            raise FlyteInvalidInputException(
                f"{name} is a directory ({uri}); signed links cannot list it, read it with the storage's own client"
            )
        target = directory / name
        target.write_bytes(download_bytes(client, uri))
        return target
    if kind in ("collection", "map") and recursive:
        target = directory / name
        target.mkdir(parents=True, exist_ok=True)
        if kind == "collection":
            children: dict[str, literals_pb2.Literal] = {
                str(index): item for index, item in enumerate(literal.collection.literals)
            }
        else:
            children = dict(literal.map.literals)
        for child_name, child in children.items():
            _download_literal(client, child, target, child_name, recursive)
        return target
    from airflow_provider_flyte.literals import to_json_able, to_python

    target = directory / f"{name}.json"
    target.write_text(json.dumps(to_json_able(to_python(literal)), indent=2, sort_keys=True))
    return target


class FlyteFS(AbstractFileSystem):  # type: ignore[misc]
    """fsspec filesystem for ``flyte://`` paths: writes go through the data proxy, reads through download links.

    Writing ``flyte://<anything>/<file>`` uploads to the remote's default project and domain and remembers which
    storage URL it landed at; reads of that path (and of storage or ``http(s)`` URLs) download it. Listing only
    shows what this filesystem wrote: the data proxy offers no way to list storage.

    Args:
        remote: The :class:`~airflow_provider_flyte.remote.FlyteRemote` whose client and defaults to use.
    """

    protocol = "flyte"
    sep = "/"

    def __init__(self, remote: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._remote = remote
        self._native: dict[str, str] = {}
        self._sizes: dict[str, int] = {}
        self._lock = threading.Lock()

    @classmethod
    def _strip_protocol(cls, path: Any) -> str:
        text = str(path)
        return text[len("flyte://") :].rstrip("/") if text.startswith("flyte://") else text.rstrip("/")

    def native_url(self, path: str) -> str:
        """The storage URL a ``flyte://`` path was uploaded to.

        Raises:
            FileNotFoundError: when this filesystem did not write ``path``.
        """
        key = self._strip_protocol(path)
        with self._lock:
            if key in self._native:
                return self._native[key]
        raise FileNotFoundError(f"flyte://{key} was not written through this filesystem")

    def put_file(self, lpath: str, rpath: str, callback: Any = None, mode: str = "overwrite", **kwargs: Any) -> None:
        """Upload a local file to ``rpath``."""
        local = pathlib.Path(lpath)
        if local.is_dir():
            return
        self._store(rpath, local.read_bytes(), local.name)

    def _store(self, rpath: str, data: bytes, fallback_name: str) -> str:
        key = self._strip_protocol(rpath)
        filename = key.rsplit("/", 1)[-1] or fallback_name
        project, domain = self._remote.resolve_project_domain(None, None)
        _md5, native = upload_bytes(self._remote.client, data, filename, project, domain)
        with self._lock:
            self._native[key] = native
            self._sizes[key] = len(data)
        return native

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        """Read a file written through this filesystem, or any storage / ``http(s)`` URL."""
        text = str(path)
        url = text if not text.startswith("flyte://") and "://" in text else self.native_url(text)
        return download_bytes(self._remote.client, url)[start:end]

    def get_file(self, rpath: str, lpath: str, callback: Any = None, **kwargs: Any) -> None:
        """Download ``rpath`` to the local path ``lpath``."""
        pathlib.Path(lpath).write_bytes(self.cat_file(rpath))

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        if mode == "rb":
            return io.BytesIO(self.cat_file(path))
        if mode == "wb":
            return _UploadOnClose(self, path)
        raise FlyteInvalidInputException(f"mode={mode!r} is not supported for flyte:// files; use 'rb' or 'wb'")

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """Name, size and type of a path this filesystem wrote (or a directory prefix of such paths)."""
        key = self._strip_protocol(path)
        with self._lock:
            if key in self._sizes:
                return {"name": key, "size": self._sizes[key], "type": "file", "native_url": self._native[key]}
            if any(name.startswith(key + "/") for name in self._native):
                return {"name": key, "size": 0, "type": "directory"}
        raise FileNotFoundError(f"flyte://{key}")

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        """Direct children of ``path`` among the paths this filesystem wrote."""
        key = self._strip_protocol(path)
        prefix = f"{key}/" if key else ""
        with self._lock:
            names = sorted(name for name in self._native if name.startswith(prefix))
        children = sorted({prefix + name[len(prefix) :].split("/", 1)[0] for name in names})
        if not children and not self.exists(path):
            raise FileNotFoundError(f"flyte://{key}")
        return [self.info(child) for child in children] if detail else children

    def exists(self, path: str, **kwargs: Any) -> bool:
        """Whether this filesystem wrote ``path`` (or something under it)."""
        try:
            self.info(path)
        except FileNotFoundError:
            return False
        return True


class _UploadOnClose(io.BytesIO):
    """A write buffer uploaded as one object when closed."""

    def __init__(self, fs: FlyteFS, path: str) -> None:
        super().__init__()
        self._fs = fs
        self._path = path

    def close(self) -> None:
        if not self.closed:
            data = self.getvalue()
            self._fs._store(self._path, data, pathlib.PurePosixPath(self._path).name or "data")
        super().close()
