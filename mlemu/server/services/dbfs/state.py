"""DBFS (``/api/2.0/dbfs/*`` and the legacy ``/dbfs/<path>`` proxy) over workspace storage.

DBFS paths live in the ``dbfs`` storage namespace, except ``/Volumes/...``: DBFS serves UC
volumes too, so those are the very files the Files API sees. The MLflow artifact root
``/databricks/mlflow-tracking`` is access-controlled on Databricks and not reachable through
DBFS (mlflow itself reads it through the artifacts API); mlemu refuses it the same way.
Documented limits are enforced exactly: 1 MB per ``add-block`` and inline ``put``, 1 MB per
``read`` (0.5 MB by default), stream handles closed after 10 minutes idle.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mlemu.server.core.errors import ApiError, invalid
from mlemu.server.core.storage import FileInfo, Namespace, dbfs_location

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

MAX_BLOCK_BYTES = 1024 * 1024        # add-block and inline put contents ("1 MB")
MAX_READ_BYTES = 1024 * 1024         # read length ("1 MB")
DEFAULT_READ_BYTES = 512 * 1024      # read length when not given ("0.5 MB")
HANDLE_IDLE_TIMEOUT_MS = 10 * 60 * 1000

PROTECTED = ("/databricks/mlflow-tracking",)


@dataclass
class _Stream:
    """An open ``create`` handle: bytes are written to storage only on ``close``."""

    namespace: Namespace
    path: str
    overwrite: bool
    last_used_ms: int
    data: bytearray = field(default_factory=bytearray)


def does_not_exist(path: str) -> ApiError:
    return ApiError("RESOURCE_DOES_NOT_EXIST", f"No file or directory exists on path {path}.")


def decode_b64(data: str | None, what: str) -> bytes:
    if not data:
        return b""
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(f"The {what} is not valid base64.") from None


class Dbfs:
    """DBFS of one workspace: path rules, open write streams."""

    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws
        self._streams: dict[int, _Stream] = {}
        self._next_handle = 1

    @property
    def _storage(self):  # type: ignore[no-untyped-def]
        return self._ws.storage

    def location(self, path: str | None) -> tuple[Namespace, str]:
        """The storage (namespace, path) of a DBFS path; refuses protected roots."""
        ns, p = dbfs_location(path)
        if ns == "dbfs" and any(p == r or p.startswith(r + "/") for r in PROTECTED):
            raise ApiError("PERMISSION_DENIED",
                           f"No access to dbfs:{p}: MLflow artifacts are only reachable through the "
                           "MLflow artifacts API.", 403)
        return ns, p

    # -- queries ---------------------------------------------------------------------------
    def get_status(self, path: str) -> FileInfo:
        ns, p = self.location(path)
        st = self._storage.stat(ns, p)
        if st is None:
            raise does_not_exist(p)
        return st

    def list(self, path: str) -> list[FileInfo]:
        """A directory's children, or ``[the file]`` for a file path."""
        st = self.get_status(path)
        if not st.is_dir:
            return [st]
        ns, p = self.location(path)
        return self._storage.list(ns, p) or []

    def read(self, path: str, offset: int | None, length: int | None) -> bytes:
        offset = offset or 0
        length = DEFAULT_READ_BYTES if not length else length
        if offset < 0:
            raise invalid(f"The offset must not be negative: {offset}.")
        if length < 0:
            raise invalid(f"The length must not be negative: {length}.")
        if length > MAX_READ_BYTES:
            raise ApiError("MAX_READ_SIZE_EXCEEDED",
                           f"Cannot read more than {MAX_READ_BYTES} bytes at once; requested {length}.")
        st = self.get_status(path)
        if st.is_dir:
            raise invalid(f"Cannot read from a directory: {st.path}.")
        if offset >= st.size:
            return b""
        ns, p = self.location(path)
        return self._storage.read(ns, p, offset, min(offset + length, st.size))

    def download(self, path: str) -> bytes:
        """The whole file (legacy ``GET /dbfs/<path>``)."""
        st = self.get_status(path)
        if st.is_dir:
            raise invalid(f"Cannot read from a directory: {st.path}.")
        ns, p = self.location(path)
        return self._storage.read(ns, p)

    # -- changes ---------------------------------------------------------------------------
    def mkdirs(self, path: str) -> None:
        ns, p = self.location(path)
        self._check_parents(ns, p, include_self=True)
        self._storage.mkdirs(ns, p)

    def delete(self, path: str, recursive: bool = False) -> None:
        """Delete a file or directory; a missing path is not an error."""
        ns, p = self.location(path)
        st = self._storage.stat(ns, p)
        if st is None:
            return
        if p == "/":
            raise invalid("Cannot delete the root directory.")
        if st.is_dir and not recursive and self._storage.list(ns, p):
            raise ApiError("IO_ERROR", f"Cannot delete non-empty directory {p} without recursive=true.", 400)
        self._storage.delete(ns, p, recursive=True)

    def put(self, path: str, data: bytes, overwrite: bool = False, inline: bool = True) -> None:
        """Write a whole file (``put``; inline ``contents`` are limited to 1 MB)."""
        if inline and len(data) > MAX_BLOCK_BYTES:
            raise ApiError("MAX_BLOCK_SIZE_EXCEEDED",
                           f"The contents exceed the {MAX_BLOCK_BYTES} bytes allowed inline; "
                           "use create, add-block and close.")
        ns, p = self._writable(path, overwrite)
        self._storage.write(ns, p, data)

    def upload(self, path: str, data: bytes) -> None:
        """Legacy ``POST /dbfs/<path>``: create or replace the file."""
        ns, p = self._writable(path, overwrite=True)
        self._storage.write(ns, p, data)

    def create(self, path: str, overwrite: bool = False) -> int:
        ns, p = self._writable(path, overwrite)
        self._expire_streams()
        handle = self._next_handle
        self._next_handle += 1
        self._streams[handle] = _Stream(ns, p, overwrite, self._ws.clock.now_ms())
        return handle

    def add_block(self, handle: int, data: bytes) -> None:
        if len(data) > MAX_BLOCK_BYTES:
            raise ApiError("MAX_BLOCK_SIZE_EXCEEDED",
                           f"The block of {len(data)} bytes exceeds the maximum block size of "
                           f"{MAX_BLOCK_BYTES} bytes.")
        stream = self._stream(handle)
        stream.data += data
        stream.last_used_ms = self._ws.clock.now_ms()

    def close(self, handle: int) -> None:
        stream = self._stream(handle)
        ns, p = self._writable(stream.path, stream.overwrite, namespace=stream.namespace)
        self._storage.write(ns, p, bytes(stream.data))
        del self._streams[handle]

    def move(self, source: str, destination: str) -> None:
        src_ns, src = self.location(source)
        dst_ns, dst = self.location(destination)
        if self._storage.stat(src_ns, src) is None:
            raise does_not_exist(src)
        if src_ns != dst_ns:
            raise invalid(f"Cannot move {src} to {dst}: moves between DBFS and UC volumes are not supported.")
        if self._storage.stat(dst_ns, dst) is not None:
            raise ApiError("RESOURCE_ALREADY_EXISTS", f"A file or directory already exists at the input path {dst}.")
        self._check_parents(dst_ns, dst)
        self._storage.move(src_ns, src, dst)

    # -- helpers ---------------------------------------------------------------------------
    def _writable(self, path: str, overwrite: bool, namespace: Namespace | None = None) -> tuple[Namespace, str]:
        ns, p = (namespace, path) if namespace else self.location(path)
        st = self._storage.stat(ns, p)
        if st is not None and (st.is_dir or not overwrite):
            raise ApiError("RESOURCE_ALREADY_EXISTS", f"A file or directory already exists at the input path {p}.")
        self._check_parents(ns, p)
        return ns, p

    def _check_parents(self, ns: Namespace, p: str, include_self: bool = False) -> None:
        if include_self and self._storage.is_file(ns, p):
            raise ApiError("RESOURCE_ALREADY_EXISTS", f"A file exists at the input path {p}.")
        blocking = self._storage.first_file_ancestor(ns, p)
        if blocking is not None:
            raise ApiError("RESOURCE_ALREADY_EXISTS", f"A file exists at {blocking}, a prefix of the input path {p}.")

    def _stream(self, handle: int) -> _Stream:
        self._expire_streams()
        stream = self._streams.get(handle)
        if stream is None:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"The handle {handle} does not exist.")
        return stream

    def _expire_streams(self) -> None:
        now = self._ws.clock.now_ms()
        for h in [h for h, s in self._streams.items() if now - s.last_used_ms > HANDLE_IDLE_TIMEOUT_MS]:
            del self._streams[h]
