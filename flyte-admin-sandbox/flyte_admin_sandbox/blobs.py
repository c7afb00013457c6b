"""The sandbox's object store: a local folder standing in for the ``s3://my-s3-bucket`` container.

Objects are files, except the ones whose bytes already live elsewhere: inputs and outputs of executions, nodes and
task attempts are kept in the store's rows, and their URIs (``output_uri``, ``outputs.uri``, ``input_uri``) resolve
through a *resolver* (:class:`~flyte_admin_sandbox.records.Records` sets one) instead of a file written for every
node. :meth:`BlobStore.get` reads a file, else asks the resolver; :meth:`BlobStore.materialize` writes the file from
the resolver the first time something needs a real file (a signed download URL).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

DEFAULT_CONTAINER = "s3://my-s3-bucket"

Resolver = Callable[[str], "bytes | None"]
"""Bytes of an object key that has no file, or ``None`` when it does not exist."""


def _no_object(_key: str) -> bytes | None:
    return None


class BlobStore:
    """Objects under a local folder, addressed by ``<container>/<key>`` URIs.

    Args:
        root: The folder holding the objects (created if missing).
        container: The URI prefix clients see, Flyte's sandbox bucket by default.

    Attributes:
        resolver: Where the bytes of a key without a file come from (nothing by default).
    """

    def __init__(self, root: str | Path, container: str = DEFAULT_CONTAINER) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.container = container.rstrip("/")
        self.resolver: Resolver = _no_object
        self._lock = threading.Lock()

    def uri(self, key: str) -> str:
        """The URI of an object key."""
        return f"{self.container}/{key.lstrip('/')}"

    def key_of(self, uri: str) -> str | None:
        """The key of a URI in this container, or ``None`` when the URI points elsewhere."""
        prefix = self.container + "/"
        if not uri.startswith(prefix):
            return None
        key = uri[len(prefix) :]
        parts = [part for part in key.split("/") if part]
        if not parts or any(part in (".", "..") for part in parts):
            return None
        return "/".join(parts)

    def path(self, key: str) -> Path:
        """Where the file of an object key is (or would be)."""
        return self.root.joinpath(*[part for part in key.split("/") if part not in ("", ".", "..")])

    def put(self, key: str, data: bytes) -> str:
        """Write an object (replacing any) and return its URI."""
        path = self.path(key)
        with self._lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(path.name + ".partial")
            temporary.write_bytes(data)
            temporary.replace(path)
        return self.uri(key)

    def get(self, key: str) -> bytes | None:
        """An object's bytes (its file, else what the resolver holds), or ``None`` when absent."""
        path = self.path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return self.resolver(key)

    def materialize(self, key: str) -> Path | None:
        """The file of an object, written from the resolver if it has none yet; ``None`` when the object is absent."""
        path = self.path(key)
        if path.is_file():
            return path
        data = self.resolver(key)
        if data is None:
            return None
        self.put(key, data)
        return path

    def md5(self, key: str) -> bytes | None:
        """The raw MD5 digest of an object, or ``None`` when absent."""
        data = self.get(key)
        return hashlib.md5(data).digest() if data is not None else None
