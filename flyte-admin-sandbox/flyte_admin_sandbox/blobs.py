"""The sandbox's object store: a local folder standing in for the ``s3://my-s3-bucket`` container."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

DEFAULT_CONTAINER = "s3://my-s3-bucket"


class BlobStore:
    """Objects under a local folder, addressed by ``<container>/<key>`` URIs.

    Args:
        root: The folder holding the objects (created if missing).
        container: The URI prefix clients see, Flyte's sandbox bucket by default.
    """

    def __init__(self, root: str | Path, container: str = DEFAULT_CONTAINER) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.container = container.rstrip("/")
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

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*[part for part in key.split("/") if part not in ("", ".", "..")])

    def put(self, key: str, data: bytes) -> str:
        """Write an object (replacing any) and return its URI."""
        path = self._path(key)
        with self._lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(path.name + ".partial")
            temporary.write_bytes(data)
            temporary.replace(path)
        return self.uri(key)

    def get(self, key: str) -> bytes | None:
        """An object's bytes, or ``None`` when absent."""
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None

    def md5(self, key: str) -> bytes | None:
        """The raw MD5 digest of an object, or ``None`` when absent."""
        data = self.get(key)
        return hashlib.md5(data).digest() if data is not None else None
