"""``dbutils.fs`` over the emulated workspace's storage, never the host's disk.

Paths route by prefix, as on Databricks: ``dbfs:/...`` and bare ``/...`` are DBFS (``/Volumes/...``
there are Unity Catalog volume files: the very files the Files API serves);
``/Workspace/...`` and ``file:/Workspace/...`` are the workspace tree (workspace files and
notebooks). The driver's local disk (other ``file:`` paths) and cloud URIs (``s3://``...) are
refused as not emulated. Everything goes through the services' domain state under the
workspace lock, with their rules (DBFS refuses ``/databricks/mlflow-tracking``; the workspace
tree is writable in the user's home and ``/Shared`` only).
"""
from __future__ import annotations

import posixpath
from collections import namedtuple
from typing import Any, Callable

from mlemu.server.core.errors import ApiError
from mlemu.standins.notebooks.errors import FsError, NotEmulated

FileInfo = namedtuple("FileInfo", ["path", "name", "size", "modificationTime"])


class _Entry:
    """A file or directory of one backend."""

    __slots__ = ("path", "is_dir", "size", "mtime")

    def __init__(self, path: str, is_dir: bool, size: int, mtime: int) -> None:
        self.path, self.is_dir, self.size, self.mtime = path, is_dir, size, mtime


class _Dbfs:
    """DBFS and UC volumes (``ws.dbfs``)."""

    scheme = "dbfs:"

    def __init__(self, ws: Any) -> None:
        self._ws = ws

    def stat(self, path: str) -> _Entry | None:
        try:
            st = self._ws.dbfs.get_status(path)
        except ApiError as e:
            if e.code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"):
                return None
            raise
        return _Entry(st.path, st.is_dir, st.size, st.mtime_ms)

    def list(self, path: str) -> list[_Entry]:
        return [_Entry(st.path, st.is_dir, st.size, st.mtime_ms) for st in self._ws.dbfs.list(path)]

    def read(self, path: str) -> bytes:
        return bytes(self._ws.dbfs.download(path))

    def write(self, path: str, data: bytes, overwrite: bool) -> None:
        self._ws.dbfs.put(path, data, overwrite=overwrite, inline=False)

    def mkdirs(self, path: str) -> None:
        self._ws.dbfs.mkdirs(path)

    def delete(self, path: str, recursive: bool) -> None:
        self._ws.dbfs.delete(path, recursive=recursive)


class _WorkspaceTree:
    """The workspace tree (``ws.workspace_files``): folders, files and notebooks."""

    scheme = "file:/Workspace"

    def __init__(self, ws: Any) -> None:
        self._ws = ws

    @property
    def _tree(self) -> Any:
        return self._ws.workspace_files

    def _entry(self, obj: Any) -> _Entry:
        is_dir = obj.object_type == "DIRECTORY"
        size = obj.size if obj.size is not None else (0 if is_dir else len(self._tree.export_object(obj.path)[0]))
        return _Entry(obj.path, is_dir, size, obj.modified_at)

    def stat(self, path: str) -> _Entry | None:
        if not self._tree.exists(path):
            return None
        return self._entry(self._tree.get(path))

    def list(self, path: str) -> list[_Entry]:
        return [self._entry(o) for o in self._tree.list(path) if o.object_type in ("DIRECTORY", "FILE", "NOTEBOOK")]

    def read(self, path: str) -> bytes:
        return self._tree.export_object(path, "SOURCE")[0]

    def write(self, path: str, data: bytes, overwrite: bool) -> None:
        self._tree.import_object(path, data, format="RAW", overwrite=overwrite)

    def mkdirs(self, path: str) -> None:
        self._tree.mkdirs(path)

    def delete(self, path: str, recursive: bool) -> None:
        self._tree.delete(path, recursive=recursive)


class FsUtil:
    """``dbutils.fs`` of one notebook run. ``workspace`` returns the workspace to act on;
    ``echo`` prints what Databricks prints (``Wrote 5 bytes.``)."""

    def __init__(self, workspace: Callable[[], Any], echo: Callable[[str], None] = print) -> None:
        self._workspace = workspace
        self._echo = echo

    # -- routing ---------------------------------------------------------------------------
    def _route(self, path: str) -> tuple[Any, str]:
        if not isinstance(path, str) or not path:
            raise FsError(f"A path is required, not {path!r}")
        text = path
        if text.startswith("dbfs:"):
            return _Dbfs(self._workspace()), _clean(text[5:], path)
        if text.startswith("file:"):
            local = "/" + text[5:].lstrip("/")
            if local == "/Workspace" or local.startswith("/Workspace/"):
                return _WorkspaceTree(self._workspace()), _clean(local[len("/Workspace"):] or "/", path)
            if local.startswith("/Volumes/"):
                return _Dbfs(self._workspace()), _clean(local, path)
            raise NotEmulated(f"dbutils.fs on the driver's local disk ({path}) is not emulated by mlemu: "
                              "use dbfs:/, /Volumes/... or /Workspace/... paths")
        if "://" in text or (":" in text.split("/", 1)[0]):
            raise NotEmulated(f"dbutils.fs on {path} is not emulated by mlemu (cloud storage URIs); "
                              "use dbfs:/, /Volumes/... or /Workspace/... paths")
        if text == "/Workspace" or text.startswith("/Workspace/"):
            return _WorkspaceTree(self._workspace()), _clean(text[len("/Workspace"):] or "/", path)
        return _Dbfs(self._workspace()), _clean(text, path)

    def _call(self, fn: Callable[[], Any]) -> Any:
        ws = self._workspace()
        with ws.lock:
            try:
                return fn()
            except ApiError as e:
                raise FsError(f"{e.code}: {e.message}") from None

    # -- dbutils.fs ------------------------------------------------------------------------
    def ls(self, dir: str) -> list[FileInfo]:
        """The entries of a directory (or ``[the file]``), sorted by name."""
        backend, p = self._route(dir)

        def go() -> list[FileInfo]:
            st = backend.stat(p)
            if st is None:
                raise FsError(f"java.io.FileNotFoundException: File {p} does not exist.")
            entries = backend.list(p) if st.is_dir else [st]
            return [_info(backend, e) for e in sorted(entries, key=lambda e: e.path)]
        return self._call(go)

    def head(self, file: str, maxBytes: int = 65536) -> str:
        """The first ``maxBytes`` bytes of a file, decoded as UTF-8."""
        backend, p = self._route(file)

        def go() -> str:
            st = backend.stat(p)
            if st is None:
                raise FsError(f"java.io.FileNotFoundException: File {p} does not exist.")
            if st.is_dir:
                raise FsError(f"java.io.IOException: {p} is a directory.")
            data = backend.read(p)
            if len(data) > maxBytes:
                self._echo(f"[Truncated to first {maxBytes} bytes]")
            return data[:maxBytes].decode("utf-8", errors="replace")
        return self._call(go)

    def put(self, file: str, contents: str, overwrite: bool = False) -> bool:
        """Write ``contents`` (UTF-8) to a file; an existing file needs ``overwrite=True``."""
        backend, p = self._route(file)
        data = str(contents).encode("utf-8")

        def go() -> bool:
            st = backend.stat(p)
            if st is not None and not overwrite:
                raise FsError(f"java.io.IOException: File already exists: {p}")
            if st is not None and st.is_dir:
                raise FsError(f"java.io.IOException: {p} is a directory.")
            backend.write(p, data, overwrite=True)
            self._echo(f"Wrote {len(data)} bytes.")
            return True
        return self._call(go)

    def mkdirs(self, dir: str) -> bool:
        """Create a directory and its parents (an existing one is fine)."""
        backend, p = self._route(dir)
        self._call(lambda: backend.mkdirs(p))
        return True

    def rm(self, dir: str, recurse: bool = False) -> bool:
        """Delete a file or directory; False when there was nothing to delete."""
        backend, p = self._route(dir)

        def go() -> bool:
            st = backend.stat(p)
            if st is None:
                return False
            if st.is_dir and not recurse and backend.list(p):
                raise FsError(f"java.io.IOException: Directory {p} is not empty; use recurse=True.")
            backend.delete(p, recursive=True)
            return True
        return self._call(go)

    def cp(self, from_: str, to: str, recurse: bool = False) -> bool:
        """Copy a file, or a directory with ``recurse=True``, possibly across file systems."""
        self._copy(from_, to, recurse, move=False)
        return True

    def mv(self, from_: str, to: str, recurse: bool = False) -> bool:
        """Move a file, or a directory with ``recurse=True``, possibly across file systems."""
        self._copy(from_, to, recurse, move=True)
        return True

    def help(self, method: str = "") -> None:
        self._echo("dbutils.fs (emulated): cp, head, ls, mkdirs, mv, put, rm")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise NotEmulated(f"dbutils.fs.{name} is not emulated by mlemu (emulated: cp, head, ls, mkdirs, mv, put, rm)")

    # -- helpers ---------------------------------------------------------------------------
    def _copy(self, from_: str, to: str, recurse: bool, move: bool) -> None:
        src_backend, src = self._route(from_)
        dst_backend, dst = self._route(to)

        def go() -> None:
            st = src_backend.stat(src)
            if st is None:
                raise FsError(f"java.io.FileNotFoundException: File {src} does not exist.")
            if st.is_dir and not recurse:
                raise FsError(f"java.io.IOException: {src} is a directory; use recurse=True to "
                              f"{'move' if move else 'copy'} it.")
            target = dst
            existing = dst_backend.stat(dst)
            if existing is not None and existing.is_dir:
                target = posixpath.join(dst, posixpath.basename(src.rstrip("/")))
            _copy_tree(src_backend, st, dst_backend, target)
            if move:
                src_backend.delete(src, recursive=True)
        self._call(go)


def _copy_tree(src_backend: Any, entry: _Entry, dst_backend: Any, target: str) -> None:
    if not entry.is_dir:
        dst_backend.write(target, src_backend.read(entry.path), overwrite=True)
        return
    dst_backend.mkdirs(target)
    for child in src_backend.list(entry.path):
        _copy_tree(src_backend, child, dst_backend, posixpath.join(target, posixpath.basename(child.path.rstrip("/"))))


def _clean(path: str, original: str) -> str:
    p = "/" + path.lstrip("/")
    if any(seg == ".." for seg in p.split("/")):
        raise FsError(f"Invalid path: {original}")
    return posixpath.normpath(p)


def _info(backend: Any, entry: _Entry) -> FileInfo:
    name = posixpath.basename(entry.path.rstrip("/")) + ("/" if entry.is_dir else "")
    base = backend.scheme + ("" if entry.path.startswith("/") else "/") + entry.path
    if entry.is_dir and not base.endswith("/"):
        base += "/"
    return FileInfo(base, name, 0 if entry.is_dir else entry.size, entry.mtime)
