"""Light Python stand-ins for Flyte's offloaded data types: files, directories and structured datasets.

They hold a location and a format, nothing more: the codec never downloads or opens anything. Pass one as an input
(a remote URI is kept, a local path is uploaded through the ``uploader``), and get one back when reading outputs.
The names mirror flytekit's so code reads the same, but these classes are plain frozen dataclasses with no I/O.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any


def is_remote_uri(location: str) -> bool:
    """Whether ``location`` names remote storage (``s3://``, ``gs://``, ``https://``, ``flyte://``...).

    Like flytekit, anything with a ``scheme://`` other than ``file://`` is remote; plain paths and ``file://`` URIs are
    local and get uploaded.
    """
    scheme, sep, _ = location.partition("://")
    return bool(sep) and scheme.lower() != "file"


def local_path_of(location: str) -> str:
    """The filesystem path of a local location (``file://`` prefix removed)."""
    return location[len("file://") :] if location.lower().startswith("file://") else location


@dataclasses.dataclass(frozen=True)
class FlyteFile(os.PathLike[str]):
    """A single file (a ``SINGLE`` blob): a remote URI or a local path to upload.

    Attributes:
        path: The remote URI (``s3://bucket/key.csv``) or local path.
        format: The blob format, e.g. ``"csv"``; empty when unspecified.
    """

    path: str
    format: str = ""

    def __fspath__(self) -> str:
        return self.path

    @property
    def remote_source(self) -> str | None:
        """The remote URI, or ``None`` for a local path."""
        return self.path if is_remote_uri(self.path) else None


@dataclasses.dataclass(frozen=True)
class FlyteDirectory(os.PathLike[str]):
    """A directory (a ``MULTIPART`` blob): a remote prefix or a local directory to upload.

    Attributes:
        path: The remote URI prefix (``s3://bucket/dir/``) or local directory path.
        format: The blob format; empty when unspecified.
    """

    path: str
    format: str = ""

    def __fspath__(self) -> str:
        return self.path

    @property
    def remote_source(self) -> str | None:
        """The remote URI, or ``None`` for a local path."""
        return self.path if is_remote_uri(self.path) else None


@dataclasses.dataclass(frozen=True)
class StructuredDataset:
    """A structured dataset by reference: where it lives and in which file format.

    Attributes:
        uri: Remote URI (or local path to upload) of the dataset.
        file_format: Storage format such as ``"parquet"``; empty lets the declared type decide.
        columns: Column names and readable types as read from a literal (informational; ignored when writing, where
            the declared type's columns are used).
    """

    uri: str
    file_format: str = ""
    columns: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class FlyteErrorValue:
    """An ``Error`` scalar read from outputs (a failed node's error carried as a value).

    Attributes:
        message: The error message.
        failed_node_id: The node that failed, when known.
    """

    message: str
    failed_node_id: str = ""


def location_of(value: Any) -> str | None:
    """The path or URI a file-like input points at, or ``None`` if ``value`` is not file-like.

    Accepts ``str``, any ``os.PathLike`` (``pathlib.Path``, :class:`FlyteFile`...), and objects exposing a remote
    ``remote_source`` (such as flytekit's own ``FlyteFile``), preferring the remote source when there is one.
    """
    if isinstance(value, str):
        return value
    remote = getattr(value, "remote_source", None)
    if isinstance(remote, str) and remote:
        return remote
    if isinstance(value, os.PathLike):
        path = os.fspath(value)
        return path if isinstance(path, str) else None
    return None
