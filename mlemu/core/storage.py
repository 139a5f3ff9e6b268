"""Byte storage of one workspace on an fsspec filesystem.

Two namespaces share it: ``files`` (the Files API: ``/Volumes``, ``/Models``,
``/WorkspaceInternal``...) and ``dbfs`` (``dbfs:/...``). In memory by default (each
workspace its own store: fsspec's MemoryFileSystem shares one class-level dict unless told
otherwise), or a directory when serving. Paths are normalised here, once: anything with
``..`` or escaping the root is refused with 400.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from mlemu.core.errors import ApiError

if TYPE_CHECKING:
    from mlemu.core.clock import Clock

Namespace = Literal["files", "dbfs"]


@dataclass(frozen=True)
class FileInfo:
    path: str  # absolute path in its namespace
    is_dir: bool
    size: int
    mtime_ms: int

    @property
    def name(self) -> str:
        return posixpath.basename(self.path.rstrip("/"))


def normalize(path: str) -> str:
    """An absolute, clean POSIX path; refuse traversal and empty paths with 400."""
    if path is None or not str(path).strip():
        raise ApiError("INVALID_PARAMETER_VALUE", "Path must be provided.")
    p = str(path)
    if p.startswith("dbfs:"):
        p = p[5:]
    if not p.startswith("/"):
        raise ApiError("INVALID_PARAMETER_VALUE", f"Path must be absolute: {path}")
    if "\x00" in p or any(seg == ".." for seg in p.split("/")):
        raise ApiError("INVALID_PARAMETER_VALUE", f"Invalid path: {path}")
    clean = posixpath.normpath(p)
    if clean.startswith("//"):
        clean = "/" + clean.lstrip("/")
    return clean


class Storage:
    """Files and directories of one workspace."""

    def __init__(self, clock: "Clock", root: str | None = None) -> None:
        self._clock = clock
        self._mtime: dict[str, int] = {}
        if root is None:
            from fsspec.implementations.memory import MemoryFileSystem
            fs = MemoryFileSystem(skip_instance_cache=True)
            fs.store = {}  # per-instance, not the class-wide default
            fs.pseudo_dirs = [""]
        else:
            import os
            from fsspec.implementations.dirfs import DirFileSystem
            from fsspec.implementations.local import LocalFileSystem
            os.makedirs(root, exist_ok=True)
            fs = DirFileSystem(path=os.path.abspath(root), fs=LocalFileSystem())
        self.fs = fs
        self._local = root is not None

    # -- path mapping ----------------------------------------------------------------------
    @staticmethod
    def _full(ns: Namespace, path: str) -> str:
        clean = normalize(path)
        return f"/{ns}" + ("" if clean == "/" else clean)

    @staticmethod
    def _ns_path(ns: Namespace, full: str) -> str:
        rest = full[len(ns) + 1:] if full.startswith(f"/{ns}") else full
        return rest or "/"

    # -- operations ------------------------------------------------------------------------
    def write(self, ns: Namespace, path: str, data: bytes, overwrite: bool = True) -> None:
        full = self._full(ns, path)
        if self.fs.isdir(full):
            raise ApiError("INVALID_PARAMETER_VALUE", f"The path is a directory: {path}")
        if not overwrite and self.fs.isfile(full):
            raise ApiError("ALREADY_EXISTS", f"The file being created already exists: {path}")
        self._ensure_parents(ns, full)
        self.fs.pipe_file(full, bytes(data))
        self._mtime[full] = self._clock.now_ms()

    def read(self, ns: Namespace, path: str) -> bytes:
        full = self._full(ns, path)
        if not self.fs.isfile(full):
            raise ApiError("NOT_FOUND", f"The file being accessed is not found. path={path}", 404)
        return self.fs.cat_file(full)

    def stat(self, ns: Namespace, path: str) -> FileInfo | None:
        full = self._full(ns, path)
        if full == f"/{ns}":
            return FileInfo("/", True, 0, 0)
        try:
            info = self.fs.info(full)
        except (FileNotFoundError, OSError):
            return None
        return self._to_info(ns, full, info)

    def is_dir(self, ns: Namespace, path: str) -> bool:
        st = self.stat(ns, path)
        return st is not None and st.is_dir

    def list(self, ns: Namespace, path: str) -> list[FileInfo] | None:
        """Direct children sorted by path, or None when ``path`` is not a directory."""
        full = self._full(ns, path)
        if full != f"/{ns}" and not self.fs.isdir(full):
            return None
        if not self.fs.exists(full):
            return []
        entries = self.fs.ls(full, detail=True)
        out = [self._to_info(ns, e["name"], e) for e in entries]
        return sorted((e for e in out if e.path != self._ns_path(ns, full)), key=lambda e: e.path)

    def walk_files(self, ns: Namespace, path: str) -> list[FileInfo]:
        """Every file under ``path`` (recursively), sorted."""
        result: list[FileInfo] = []
        stack = [path]
        while stack:
            entries = self.list(ns, stack.pop()) or []
            for e in entries:
                (stack.append(e.path) if e.is_dir else result.append(e))
        return sorted(result, key=lambda e: e.path)

    def mkdirs(self, ns: Namespace, path: str) -> None:
        full = self._full(ns, path)
        if self.fs.isfile(full):
            raise ApiError("RESOURCE_ALREADY_EXISTS", f"A file exists at path {path}")
        self._ensure_parents(ns, full + "/x")

    def delete(self, ns: Namespace, path: str, recursive: bool = False) -> bool:
        """Delete a file or directory; return False when nothing was there."""
        full = self._full(ns, path)
        if self.fs.isfile(full):
            self.fs.rm_file(full)
            self._mtime.pop(full, None)
            return True
        if self.fs.isdir(full):
            if not recursive and self.fs.ls(full):
                raise ApiError("DIRECTORY_NOT_EMPTY", f"Directory is not empty: {path}")
            self.fs.rm(full, recursive=True)
            for k in [k for k in self._mtime if k.startswith(full + "/")]:
                del self._mtime[k]
            return True
        return False

    # -- helpers ---------------------------------------------------------------------------
    def _ensure_parents(self, ns: Namespace, full: str) -> None:
        parent = posixpath.dirname(full)
        if self._local:
            self.fs.makedirs(parent, exist_ok=True)
            return
        # MemoryFileSystem: record every ancestor as a pseudo dir (makedirs is one level).
        missing = []
        while parent not in ("", "/") and not self.fs.isdir(parent):
            if self.fs.isfile(parent):
                raise ApiError("INVALID_PARAMETER_VALUE",
                               f"A file exists where a directory is needed: {self._ns_path(ns, parent)}")
            missing.append(parent)
            parent = posixpath.dirname(parent)
        for d in reversed(missing):
            self.fs.pseudo_dirs.append(d.lstrip("/"))
            self._mtime.setdefault(d, self._clock.now_ms())

    def _to_info(self, ns: Namespace, full: str, info: dict) -> FileInfo:
        name = info.get("name", full)
        full_name = name if name.startswith("/") else "/" + name
        is_dir = info.get("type") == "directory"
        mtime = self._mtime.get(full_name)
        if mtime is None:
            m = info.get("mtime")
            mtime = int(float(m) * 1000) if isinstance(m, (int, float)) else 0
        return FileInfo(self._ns_path(ns, full_name), is_dir, 0 if is_dir else int(info.get("size") or 0), mtime)
