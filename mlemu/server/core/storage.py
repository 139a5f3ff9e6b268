"""Byte storage of one workspace on an fsspec filesystem.

Two namespaces share it: ``files`` (the Files API: ``/Volumes``, ``/Models``,
``/WorkspaceInternal``...) and ``dbfs`` (``dbfs:/...``). In memory by default (each
workspace its own store: fsspec's MemoryFileSystem shares one class-level dict unless told
otherwise), or a directory when serving (``Workspace(artifact_root=dir)``).

Paths are normalised here, once: anything with ``..`` or escaping the root is refused with
400. Other refusals raise :class:`ApiError` with generic codes; services check their own
preconditions first when Databricks answers them with a service-specific code or message.
Directories are real (created explicitly or as parents of a written file, kept when their
last file goes), the same in memory and on disk.

Every path is literal. fsspec's ``rm``, ``find``, ``glob``, ``copy`` and ``expand_path``
expand ``*``, ``?`` and ``[...]`` (a directory named ``[ab]*`` would take its siblings
with it), so this module uses only fsspec calls that take one literal path (``ls``,
``info``, ``isfile``/``isdir``, ``cat_file``, ``pipe_file``, ``rm_file``, ``makedirs``) and
deletes trees itself.
"""
from __future__ import annotations

import errno
import functools
import hashlib
import os
import posixpath
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from mlemu.server.core.errors import ApiError

if TYPE_CHECKING:
    from mlemu.server.core.clock import Clock

#: "sql": result chunks of SQL statements (EXTERNAL_LINKS), read through pre-signed URLs.
Namespace = Literal["files", "dbfs", "sql"]
NAMESPACES: tuple[str, ...] = ("files", "dbfs", "sql")

#: Longest name of one path segment, in UTF-8 bytes: the limit of the file systems that
#: back volumes (and of the directory store), so both stores refuse the same names.
MAX_NAME_BYTES = 255
#: Longest whole path, in UTF-8 bytes (Linux PATH_MAX).
MAX_PATH_BYTES = 4096


@dataclass(frozen=True)
class FileInfo:
    path: str  # absolute path in its namespace
    is_dir: bool
    size: int
    mtime_ms: int

    @property
    def name(self) -> str:
        return posixpath.basename(self.path.rstrip("/"))


def normalize(path: str | None) -> str:
    """An absolute, clean POSIX path; refuse traversal and empty paths with 400.

    ``dbfs:`` prefixes are dropped, repeated and trailing slashes collapse. Every storage call
    normalizes its path (a Files API request three times): the answers for valid paths are
    cached (bounded; a refused path raises every time)."""
    if type(path) is str:
        return _normalize_cached(path)
    return _normalize(path)


def _normalize(path: str | None) -> str:
    if path is None or not str(path).strip():
        raise ApiError("INVALID_PARAMETER_VALUE", "Path must be provided.")
    p = str(path)
    if p.startswith("dbfs:"):
        p = p[5:]
    if not p.startswith("/"):
        raise ApiError("INVALID_PARAMETER_VALUE", f"Path must be absolute: {path}")
    if "\x00" in p or any(seg == ".." for seg in p.split("/")):
        raise ApiError("INVALID_PARAMETER_VALUE", f"Invalid path: {path}")
    try:
        encoded = p.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a JSON "\ud800" escape
        raise ApiError("INVALID_PARAMETER_VALUE",
                       f"Invalid path: {p.encode('utf-8', 'backslashreplace').decode()}") from None
    if len(encoded) > MAX_PATH_BYTES:
        raise ApiError("INVALID_PARAMETER_VALUE", f"Path is longer than {MAX_PATH_BYTES} bytes.")
    if any(len(seg) > MAX_NAME_BYTES // 4 and len(seg.encode("utf-8")) > MAX_NAME_BYTES
           for seg in p.split("/")):
        raise ApiError("INVALID_PARAMETER_VALUE",
                       f"A file or directory name in the path is longer than {MAX_NAME_BYTES} bytes.")
    clean = posixpath.normpath(p)
    if clean.startswith("//"):
        clean = "/" + clean.lstrip("/")
    return clean


_normalize_cached = functools.lru_cache(maxsize=2048)(_normalize)


def dbfs_location(path: str | None) -> tuple[Namespace, str]:
    """Where a DBFS path (``dbfs:/x`` or ``/x``) is stored: UC volumes (``/Volumes/...``) are
    the Files API's files, everything else is the ``dbfs`` namespace."""
    clean = normalize(path)
    if clean == "/Volumes" or clean.startswith("/Volumes/"):
        return "files", clean
    return "dbfs", clean


def etag_of(data: bytes) -> str:
    """The S3-style entity tag of a single-part object: the quoted MD5 of its bytes."""
    return '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'


def _indexed_memory_fs_class() -> type:
    """:class:`IndexedMemoryFileSystem`, made on first use (fsspec is imported only then); a
    module attribute by that name (``__getattr__`` below), so pickles of it load."""
    cls = globals().get("IndexedMemoryFileSystem")
    if cls is not None:
        return cls
    from fsspec.implementations.memory import MemoryFile, MemoryFileSystem

    class IndexedMemoryFileSystem(MemoryFileSystem):
        """fsspec's MemoryFileSystem with an index of each directory's children.

        Its ``ls``, ``info`` (and so ``isdir``/``exists``) scan every stored file and pseudo
        directory on each call; here they look the path up in the index, with the same
        answers. The stored files (``store``) and explicit directories (``pseudo_dirs``) stay
        the truth: the index follows ``pipe_file``/``rm_file``/``makedirs`` and is rebuilt by
        :meth:`reindex` after any other change (``Storage.load``, ``Storage._remove_tree``)."""

        def reindex(self) -> None:
            #: directory -> its direct children (files and directories), insertion-ordered
            self._children: dict[str, dict[str, None]] = {}
            self._pseudo = set(self.pseudo_dirs)
            for d in self.pseudo_dirs:
                if d:
                    self._link(d)
            for f in tuple(self.store):
                self._link(f)

        def _link(self, path: str) -> None:
            """``path`` and its ancestors into the index (each ancestor a directory)."""
            children = self._children
            while path:
                cut = path.rfind("/")
                parent = path[:cut] if cut > 0 else ""
                known = parent in children
                children.setdefault(parent, {})[path] = None
                if known:  # its ancestors are linked already
                    return
                path = parent

        def _unlink(self, path: str) -> None:
            """``path`` out of the index, and the implied directories it leaves empty."""
            children = self._children
            while path:
                cut = path.rfind("/")
                parent = path[:cut] if cut > 0 else ""
                siblings = children.get(parent)
                if siblings is None:
                    return
                siblings.pop(path, None)
                if siblings or parent in self._pseudo or not parent:
                    return
                del children[parent]  # an implied directory with nothing left under it
                path = parent

        # -- queries (MemoryFileSystem's answers, without the scans) ----------------------
        def ls(self, path, detail=True, **kwargs):  # type: ignore[no-untyped-def]
            path = self._strip_protocol(path)
            store = self.store
            if path in store:
                return super().ls(path, detail=detail, **kwargs)
            kids = self._children.get(path)
            if not kids:
                if path in self._pseudo:
                    return []
                raise FileNotFoundError(path)
            if not detail:
                return sorted(kids)
            out = []
            for name in tuple(kids):
                f = store.get(name)
                if f is not None and name not in self._children:
                    out.append({"name": name, "size": f.size, "type": "file",
                                "created": f.created.timestamp()})
                else:
                    out.append({"name": name, "size": 0, "type": "directory"})
            return out

        def info(self, path, **kwargs):  # type: ignore[no-untyped-def]
            path = self._strip_protocol(path)
            if path in self._pseudo or self._children.get(path):
                return {"name": path, "size": 0, "type": "directory"}
            f = self.store.get(path)
            if f is not None:
                return {"name": path, "size": f.size, "type": "file",
                        "created": getattr(f, "created", None)}
            raise FileNotFoundError(path)

        # -- changes: the index follows ---------------------------------------------------
        def pipe_file(self, path, value, **kwargs):  # type: ignore[no-untyped-def]
            if kwargs:
                super().pipe_file(path, value, **kwargs)
                self._link(self._strip_protocol(path))
                return
            # MemoryFileSystem.pipe_file -> open(path, "wb"): refuse a directory and a path
            # under a file (its parents are walked through _parent, a parse each), then store a
            # new MemoryFile. The same checks on the index and the store, then the same store.
            path = self._strip_protocol(path)
            if path in self._pseudo:
                raise IsADirectoryError(path)
            store = self.store
            cut = path.rfind("/")
            while cut > 0:
                if path[:cut] in store:
                    raise FileExistsError(path[:cut])
                cut = path.rfind("/", 0, cut)
            if getattr(self, "_intrans", False):  # a transaction commits it later: fsspec's way
                super().pipe_file(path, value)
                return
            MemoryFile(self, path, value).commit()
            self._link(path)

        def rm_file(self, path):  # type: ignore[no-untyped-def]
            super().rm_file(path)
            path = self._strip_protocol(path)
            if path not in self._children:  # a file that also had children stays a directory
                self._unlink(path)

        def makedirs(self, path, exist_ok=False):  # type: ignore[no-untyped-def]
            known = len(self.pseudo_dirs)
            super().makedirs(path, exist_ok=exist_ok)
            self._pseudo.update(self.pseudo_dirs[known:])  # fsspec appends what it made
            path = self._strip_protocol(path)
            if path:
                self._link(path)

        def __setstate__(self, state):  # type: ignore[no-untyped-def]
            self.__dict__.update(state)
            self.reindex()

    IndexedMemoryFileSystem.__module__ = __name__
    IndexedMemoryFileSystem.__qualname__ = "IndexedMemoryFileSystem"
    globals()["IndexedMemoryFileSystem"] = IndexedMemoryFileSystem
    return IndexedMemoryFileSystem


def __getattr__(name: str) -> Any:
    if name == "IndexedMemoryFileSystem":
        return _indexed_memory_fs_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _memory_fs():  # type: ignore[no-untyped-def]
    cls = _indexed_memory_fs_class()
    try:
        fs = cls(global_store=False, skip_instance_cache=True)
    except TypeError:  # older fsspec without ``global_store``
        fs = cls(skip_instance_cache=True)
    # Per instance in any version: the class-level defaults are shared by every instance.
    fs.store = {}
    fs.pseudo_dirs = [""]
    fs.reindex()
    return fs


class Storage:
    """Files and directories of one workspace."""

    def __init__(self, clock: "Clock", root: str | None = None) -> None:
        self._clock = clock
        self._mtime: dict[str, int] = {}
        #: Bumped by every change (a durable server logs a read that changed files).
        self.changes = 0
        if root is None:
            fs = _memory_fs()
        else:
            import os
            from fsspec.implementations.dirfs import DirFileSystem
            from fsspec.implementations.local import LocalFileSystem
            os.makedirs(root, exist_ok=True)
            fs = DirFileSystem(path=os.path.abspath(root), fs=LocalFileSystem())
        self.fs = fs
        self._local = root is not None
        self._root = os.path.abspath(root) if root is not None else None

    # -- path mapping ----------------------------------------------------------------------
    @staticmethod
    def _full(ns: Namespace, path: str) -> str:
        if ns not in NAMESPACES:
            raise ValueError(f"unknown storage namespace {ns!r}")
        clean = normalize(path)
        return f"/{ns}" + ("" if clean == "/" else clean)

    @staticmethod
    def _ns_path(ns: Namespace, full: str) -> str:
        full = full if full.startswith("/") else "/" + full
        rest = full[len(ns) + 1:] if full.startswith(f"/{ns}") else full
        return rest or "/"

    # -- queries ---------------------------------------------------------------------------
    def read(self, ns: Namespace, path: str, start: int | None = None, end: int | None = None) -> bytes:
        """The bytes of a file (``start``..``end`` exclusive when given)."""
        full = self._full(ns, path)
        if not self.fs.isfile(full):
            raise ApiError("NOT_FOUND", f"The file being accessed is not found. path={normalize(path)}", 404)
        if start is None and end is None:
            return bytes(self.fs.cat_file(full))
        return bytes(self.fs.cat_file(full, start=start, end=end))

    def stat(self, ns: Namespace, path: str) -> FileInfo | None:
        """The file or directory at ``path``, or None."""
        full = self._full(ns, path)
        if full == f"/{ns}":
            return FileInfo("/", True, 0, self._mtime.get(full, 0))
        if not self._local:
            # MemoryFileSystem.info scans every stored key before looking the path up: a file
            # is one dict lookup, so answer it directly (stat is on every Files API call).
            f = self.fs.store.get(full)
            if f is not None:
                return FileInfo(self._ns_path(ns, full), False, int(f.size), self._mtime.get(full, 0))
        try:
            info = self.fs.info(full)
        except (FileNotFoundError, OSError):
            return None
        return self._to_info(ns, full, info)

    def exists(self, ns: Namespace, path: str) -> bool:
        return self.stat(ns, path) is not None

    def is_dir(self, ns: Namespace, path: str) -> bool:
        st = self.stat(ns, path)
        return st is not None and st.is_dir

    def is_file(self, ns: Namespace, path: str) -> bool:
        st = self.stat(ns, path)
        return st is not None and not st.is_dir

    def list(self, ns: Namespace, path: str) -> list[FileInfo] | None:
        """Direct children sorted by path, or None when ``path`` is not a directory."""
        full = self._full(ns, path)
        if full != f"/{ns}" and not self.fs.isdir(full):
            return None
        if not self.fs.exists(full):
            return []
        own = self._ns_path(ns, full)
        out = [self._to_info(ns, e["name"], e) for e in self.fs.ls(full, detail=True)]
        return sorted((e for e in out if e.path != own), key=lambda e: e.path)

    def walk_files(self, ns: Namespace, path: str) -> list[FileInfo]:
        """Every file under ``path`` (recursively), sorted; ``[file]`` for a file."""
        st = self.stat(ns, path)
        if st is None:
            return []
        if not st.is_dir:
            return [st]
        result: list[FileInfo] = []
        stack = [st.path]
        while stack:
            for e in self.list(ns, stack.pop()) or []:
                (stack.append(e.path) if e.is_dir else result.append(e))
        return sorted(result, key=lambda e: e.path)

    def first_file_ancestor(self, ns: Namespace, path: str) -> str | None:
        """The nearest proper ancestor of ``path`` that is a file (which blocks creating it)."""
        parent = posixpath.dirname(normalize(path))
        if not self._local:  # in memory a file is a key of the store: no stat per ancestor
            store, root = self.fs.store, f"/{ns}"
            while parent != "/":
                if root + parent in store:
                    return parent
                parent = posixpath.dirname(parent)
            return None
        while parent != "/":
            if self.is_file(ns, parent):
                return parent
            parent = posixpath.dirname(parent)
        return None

    # -- changes ---------------------------------------------------------------------------
    def write(self, ns: Namespace, path: str, data: bytes, overwrite: bool = True) -> FileInfo:
        """Create or replace a file, creating its parent directories."""
        self.changes += 1
        full = self._full(ns, path)
        if full == f"/{ns}" or self.fs.isdir(full):
            raise ApiError("INVALID_PARAMETER_VALUE", f"The path is a directory: {normalize(path)}")
        if not overwrite and self.fs.isfile(full):
            raise ApiError("ALREADY_EXISTS", f"The file being created already exists: {normalize(path)}")
        self._ensure_dir(ns, posixpath.dirname(full))
        self.fs.pipe_file(full, bytes(data))
        now = self._clock.now_ms()
        self._mtime[full] = now
        return FileInfo(self._ns_path(ns, full), False, len(data), now)

    def mkdirs(self, ns: Namespace, path: str) -> None:
        """Create a directory and its parents; an existing directory is fine."""
        self.changes += 1
        full = self._full(ns, path)
        if self.fs.isfile(full):
            raise ApiError("RESOURCE_ALREADY_EXISTS", f"A file exists at path {normalize(path)}")
        self._ensure_dir(ns, full)

    def delete(self, ns: Namespace, path: str, recursive: bool = False) -> bool:
        """Delete a file or directory; return False when nothing was there."""
        self.changes += 1
        full = self._full(ns, path)
        if full == f"/{ns}":
            raise ApiError("INVALID_PARAMETER_VALUE", "The root directory cannot be deleted.")
        if self.fs.isfile(full):
            self.fs.rm_file(full)
            self._mtime.pop(full, None)
            return True
        if self.fs.isdir(full):
            if not recursive and self.fs.ls(full, detail=False):
                raise ApiError("DIRECTORY_NOT_EMPTY", f"Directory is not empty: {normalize(path)}")
            self._remove_tree(full)
            for k in [k for k in self._mtime if k == full or k.startswith(full + "/")]:
                del self._mtime[k]
            return True
        return False

    def move(self, ns: Namespace, src: str, dst: str) -> None:
        """Move a file or a directory tree; the destination must not exist."""
        self.changes += 1
        src_full, dst_full = self._full(ns, src), self._full(ns, dst)
        st = self.stat(ns, src)
        if st is None:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"No file or directory exists on path {normalize(src)}.")
        if self.exists(ns, dst):
            raise ApiError("RESOURCE_ALREADY_EXISTS", f"A file or directory already exists at {normalize(dst)}.")
        if dst_full == src_full or dst_full.startswith(src_full + "/"):
            raise ApiError("INVALID_PARAMETER_VALUE", f"Cannot move {normalize(src)} into itself.")
        if not st.is_dir:
            data = self.read(ns, src)
            self.write(ns, dst, data)
            self._mtime[dst_full] = self._mtime.get(src_full, self._mtime[dst_full])
            self.delete(ns, src)
            return
        # Directories: recreate the tree (empty directories included), then drop the source.
        stack = [st.path]
        self.mkdirs(ns, dst)
        while stack:
            d = stack.pop()
            for e in self.list(ns, d) or []:
                target = normalize(dst) + e.path[len(st.path):]
                if e.is_dir:
                    self.mkdirs(ns, target)
                    stack.append(e.path)
                else:
                    self.write(ns, target, self.read(ns, e.path))
        self.delete(ns, src, recursive=True)

    # -- snapshots -------------------------------------------------------------------------
    def dump(self, portable: bool = False) -> dict[str, Any]:
        """The files, directories and mtimes, to :meth:`load` back (:mod:`mlemu.toolkit.persistence`).

        In memory the answer shares the stored file objects (never changed in place: a write
        stores a new one), so it costs a dict copy; ``portable=True`` (and any directory store)
        gives ``{"dirs": [...], "files": {path: bytes}, "mtime": {...}}``, sorted."""
        if not self._local and not portable:
            return {"store": dict(self.fs.store), "pseudo_dirs": list(self.fs.pseudo_dirs),
                    "mtime": dict(self._mtime)}
        dirs: list[str] = []
        files: dict[str, bytes] = {}
        if not self._local:
            dirs = [d if d.startswith("/") else "/" + d for d in self.fs.pseudo_dirs if d]
            files = {k: bytes(f.getbuffer()) for k, f in self.fs.store.items()}
        else:
            assert self._root is not None
            for ns in NAMESPACES:
                for here, subdirs, names in os.walk(os.path.join(self._root, ns)):
                    rel = "/" + os.path.relpath(here, self._root).replace(os.sep, "/")
                    dirs.append(rel)
                    for n in names:
                        with open(os.path.join(here, n), "rb") as fh:
                            files[f"{rel}/{n}"] = fh.read()
        return {"dirs": sorted(set(dirs)), "files": dict(sorted(files.items())),
                "mtime": dict(sorted(self._mtime.items()))}

    def contents(self) -> tuple[list[str], list[tuple[str, Any]], dict[str, int]]:
        """Directories, files and mtimes for an export, sorted by path. Files come as
        ``(path, buffer)``: in memory a view of the stored bytes (not a copy; release it
        after use), on disk the bytes read."""
        if self._local:
            dump = self.dump(portable=True)
            return dump["dirs"], list(dump["files"].items()), dump["mtime"]
        dirs = sorted({d if d.startswith("/") else "/" + d for d in self.fs.pseudo_dirs if d})
        files = [(k, self.fs.store[k].getbuffer()) for k in sorted(self.fs.store)]
        return dirs, files, dict(sorted(self._mtime.items()))

    @staticmethod
    def check_saved_path(path: Any) -> str:
        """A namespaced path from a saved workspace (``/files/Volumes/...``), or ValueError:
        it must be clean (:func:`normalize`) and under one of :data:`NAMESPACES`."""
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"not an absolute path: {path!r}")
        try:
            clean = normalize(path)
        except ApiError as e:
            raise ValueError(f"{path!r}: {e.message}") from None
        ns = clean.split("/")[1] if clean != "/" else ""
        if clean != path or ns not in NAMESPACES:
            raise ValueError(f"not a clean path under /{'|/'.join(NAMESPACES)}: {path!r}")
        return clean

    def load(self, dump: dict[str, Any]) -> None:
        """Replace every file and directory with those of a :meth:`dump` answer (paths of the
        portable form must pass :meth:`check_saved_path`)."""
        self.changes += 1
        if "store" not in dump:
            for path in [*dump["dirs"], *dump["files"], *dump["mtime"]]:
                self.check_saved_path(path)
        if "store" in dump:  # shared in-memory form
            self.fs.store.clear()
            self.fs.store.update(dump["store"])
            self.fs.pseudo_dirs[:] = dump["pseudo_dirs"]
        elif not self._local:
            from fsspec.implementations.memory import MemoryFile
            self.fs.store.clear()
            self.fs.store.update({p: MemoryFile(self.fs, p, data) for p, data in dump["files"].items()})
            self.fs.pseudo_dirs[:] = [""] + list(dump["dirs"])
        else:
            assert self._root is not None
            for ns in NAMESPACES:
                shutil.rmtree(os.path.join(self._root, ns), ignore_errors=True)
            for d in dump["dirs"]:
                os.makedirs(os.path.join(self._root, d.lstrip("/")), exist_ok=True)
            for path, data in dump["files"].items():
                target = os.path.join(self._root, path.lstrip("/"))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as fh:
                    fh.write(data)
        if not self._local:
            self.fs.reindex()
        self._mtime.clear()
        self._mtime.update(dump["mtime"])

    # -- helpers ---------------------------------------------------------------------------
    def _remove_tree(self, full: str) -> None:
        """Delete the directory ``full`` and everything under it, by literal path (never
        fsspec's ``rm``, which expands glob characters in the name)."""
        if self._root is not None:
            shutil.rmtree(os.path.join(self._root, full.lstrip("/")))
            return
        prefix = full + "/"
        store = self.fs.store
        for key in [k for k in store if k.startswith(prefix)]:
            del store[key]
        self.fs.pseudo_dirs[:] = [d for d in self.fs.pseudo_dirs
                                  if d != full and not d.startswith(prefix)]
        self.fs.reindex()

    def _ensure_dir(self, ns: Namespace, full: str) -> None:
        """Make ``full`` (a namespaced path) a directory, parents included."""
        if self._local:
            if self.fs.isdir(full):
                return
        elif full in self.fs._pseudo:  # the index's set of fsspec's pseudo_dirs list
            return
        missing = []
        cur = full
        while cur not in ("", "/"):
            if self.fs.isfile(cur):
                raise ApiError("RESOURCE_ALREADY_EXISTS",
                               f"A file exists where a directory is needed: {self._ns_path(ns, cur)}")
            if self.fs.isdir(cur) if self._local else cur in self.fs._pseudo:
                break
            missing.append(cur)
            cur = posixpath.dirname(cur)
        self.fs.makedirs(full, exist_ok=True)
        now = self._clock.now_ms()
        for d in missing:
            self._mtime.setdefault(d, now)

    def _to_info(self, ns: Namespace, full: str, info: dict) -> FileInfo:
        name = info.get("name", full)
        full_name = name if name.startswith("/") else "/" + name
        full_name = full_name.rstrip("/") or "/"
        is_dir = info.get("type") == "directory"
        mtime = self._mtime.get(full_name)
        if mtime is None:
            m = info.get("mtime")
            mtime = int(float(m) * 1000) if isinstance(m, (int, float)) else 0
        return FileInfo(self._ns_path(ns, full_name), is_dir, 0 if is_dir else int(info.get("size") or 0), mtime)
