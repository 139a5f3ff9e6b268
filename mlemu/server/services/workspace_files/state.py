"""The workspace tree: folders, notebooks and files imported into it, and the objects other
services place in it (an MLflow experiment is an ``MLFLOW_EXPERIMENT`` object at its name's path)."""
from __future__ import annotations

import posixpath
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from mlemu.server.core.errors import ApiError, invalid, not_found

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

DIRECTORY = "DIRECTORY"
MLFLOW_EXPERIMENT = "MLFLOW_EXPERIMENT"
NOTEBOOK = "NOTEBOOK"
FILE = "FILE"

#: Databricks' limit on an imported or exported item.
MAX_IMPORT_BYTES = 10 * 1024 * 1024

#: Notebook languages: file extension and the first line of a notebook's source export.
LANGUAGES = {"PYTHON": (".py", "# Databricks notebook source"),
             "SQL": (".sql", "-- Databricks notebook source"),
             "SCALA": (".scala", "// Databricks notebook source"),
             "R": (".r", "# Databricks notebook source")}
IMPORT_FORMATS = ("SOURCE", "AUTO", "RAW", "JUPYTER")
UNSUPPORTED_FORMATS = ("HTML", "DBC", "R_MARKDOWN")


@dataclass(frozen=True)
class WorkspaceObject:
    path: str
    object_type: str
    object_id: int
    created_at: int
    modified_at: int
    language: str | None = None   # notebooks
    size: int | None = None       # files
    source_format: str | None = None  # notebooks: SOURCE or JUPYTER, how they were imported

    def to_wire(self) -> dict:
        out = {"object_type": self.object_type, "path": self.path, "object_id": self.object_id,
               "created_at": self.created_at, "modified_at": self.modified_at}
        if self.language:
            out["language"] = self.language
        if self.size is not None:
            out["size"] = self.size
        return out


def clean_path(path: str | None) -> str:
    """A normalised absolute workspace path; relative paths and ``..`` are refused."""
    if not path:
        raise invalid("Missing value for required parameter 'path'.")
    if not path.startswith("/"):
        raise invalid(f"Path ({path}) is not absolute. Please provide an absolute path.")
    if any(seg == ".." for seg in path.split("/")):
        raise invalid(f"Path ({path}) is invalid.")
    p = posixpath.normpath(path)
    return "/" + p.lstrip("/")


class WorkspaceFiles:
    """The folder tree of one workspace."""

    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws
        self._objects: dict[str, WorkspaceObject] = {}
        self._contents: dict[str, bytes] = {}  # notebook sources and file bytes, by path
        for p in ("/", "/Users", "/Shared", ws.user.home):
            self._put(p, DIRECTORY)

    # -- queries ---------------------------------------------------------------------------
    def get(self, path: str) -> WorkspaceObject:
        p = clean_path(path)
        obj = self._objects.get(p)
        if obj is None:
            raise not_found(f"Path ({p}) doesn't exist.")
        return obj

    def by_id(self, object_id: object) -> WorkspaceObject | None:
        """The object with this id (the permissions API names objects by id), or None."""
        text = str(object_id)
        return next((o for o in self._objects.values() if str(o.object_id) == text), None)

    def exists(self, path: str) -> bool:
        return clean_path(path) in self._objects

    def is_directory(self, path: str) -> bool:
        obj = self._objects.get(clean_path(path))
        return obj is not None and obj.object_type == DIRECTORY

    def list(self, path: str) -> list[WorkspaceObject]:
        parent = self.get(path)
        if parent.object_type != DIRECTORY:
            return [parent]
        prefix = parent.path.rstrip("/") + "/"
        return sorted((o for p, o in self._objects.items()
                       if p != parent.path and p.startswith(prefix) and "/" not in p[len(prefix):]),
                      key=lambda o: o.path)

    # -- changes ---------------------------------------------------------------------------
    def mkdirs(self, path: str) -> None:
        p = clean_path(path)
        missing = []
        cur = p
        while cur not in self._objects:
            missing.append(cur)
            cur = posixpath.dirname(cur)
        existing = self._objects[cur]
        if existing.object_type != DIRECTORY:
            raise ApiError("RESOURCE_ALREADY_EXISTS",
                           f"Path ({existing.path}) already exists and is not a directory.")
        for m in reversed(missing):
            self._check_writable(m)
        for m in reversed(missing):
            self._put(m, DIRECTORY)

    def delete(self, path: str, recursive: bool = False) -> None:
        obj = self.get(path)
        if obj.path in ("/", "/Users", "/Shared", self._ws.user.home) or (
                obj.path.startswith("/Users/") and obj.path.count("/") == 2):
            raise ApiError("DIRECTORY_PROTECTED", f"Folder ({obj.path}) is protected.", 403)
        children = [p for p in self._objects if p.startswith(obj.path + "/")]
        if children and not recursive:
            raise ApiError("DIRECTORY_NOT_EMPTY", f"Folder ({obj.path}) is not empty.", 400)
        for p in children + [obj.path]:
            del self._objects[p]
            self._contents.pop(p, None)

    def import_object(self, path: str, content: bytes, *, format: str | None = None,
                      language: str | None = None, overwrite: bool = False) -> WorkspaceObject:
        """Place a notebook or a file, as ``workspace/import`` does. ``AUTO`` tells a notebook
        (a known extension and the "Databricks notebook source" first line, or ``.ipynb``) from a
        file and drops a notebook's extension."""
        fmt = (format or "SOURCE").upper()
        if fmt in UNSUPPORTED_FORMATS:
            raise invalid(f"Import format {fmt} is not emulated by mlemu; use SOURCE, AUTO, RAW or JUPYTER.")
        if fmt not in IMPORT_FORMATS:
            raise invalid(f"Invalid value '{format}' for parameter 'format'.")
        if len(content) > MAX_IMPORT_BYTES:
            raise ApiError("MAX_NOTEBOOK_SIZE_EXCEEDED",
                           f"File size imported is ({len(content)} bytes), exceeded max size "
                           f"({MAX_IMPORT_BYTES} bytes)", 400)
        p = clean_path(path)
        kind, lang, source_format = FILE, None, None
        if fmt == "SOURCE":
            if not language:
                raise invalid("The language parameter is required when importing in SOURCE format.")
            lang = language.upper()
            if lang not in LANGUAGES:
                raise invalid(f"Invalid value '{language}' for parameter 'language'.")
            kind, source_format = NOTEBOOK, "SOURCE"
        elif fmt == "JUPYTER":
            kind, lang, source_format = NOTEBOOK, "PYTHON", "JUPYTER"
        elif fmt == "AUTO":
            detected = _detect_notebook(p, content)
            if detected is not None:
                p, lang, source_format = detected
                kind = NOTEBOOK
        return self._place(p, kind, content, lang, source_format, overwrite)

    def export_object(self, path: str, format: str | None = None) -> tuple[bytes, str]:
        """The bytes of a notebook or file and its ``file_type`` (``py``, ``ipynb``...)."""
        obj = self.get(path)
        fmt = (format or "SOURCE").upper()
        if obj.object_type == DIRECTORY:
            raise invalid(f"Exporting the folder {obj.path} is not emulated by mlemu (Databricks "
                          "sends a DBC or ZIP archive); export its notebooks and files one by one.")
        if obj.object_type not in (NOTEBOOK, FILE):
            raise invalid(f"{obj.path} is a {obj.object_type}, which cannot be exported.")
        content = self._contents.get(obj.path, b"")
        if obj.object_type == FILE:
            if fmt not in ("SOURCE", "AUTO", "RAW"):
                raise invalid(f"A workspace file can only be exported as SOURCE, AUTO or RAW, not {fmt}.")
            return content, ""
        if fmt in ("SOURCE", "AUTO") and obj.source_format == "SOURCE":
            ext, header = LANGUAGES[obj.language or "PYTHON"]
            if not content.lstrip().startswith(header.encode()):
                content = header.encode() + b"\n" + content
            return content, ext.lstrip(".")
        if fmt in ("JUPYTER", "AUTO") and obj.source_format == "JUPYTER":
            return content, "ipynb"
        raise invalid(f"Exporting a {obj.source_format} notebook as {fmt} is not emulated by mlemu.")

    def _place(self, p: str, kind: str, content: bytes, language: str | None,
               source_format: str | None, overwrite: bool) -> WorkspaceObject:
        parent = posixpath.dirname(p)
        if not self.is_directory(parent):
            raise not_found(f"The parent folder ({parent}) does not exist.")
        existing = self._objects.get(p)
        if existing is not None:
            if existing.object_type == DIRECTORY or not overwrite:
                raise ApiError("RESOURCE_ALREADY_EXISTS", f"{p} already exists.")
        self._check_writable(p)
        now = self._ws.clock.now_ms()
        oid = existing.object_id if existing is not None else int(self._ws.ids.numeric(15))
        created = existing.created_at if existing is not None else now
        obj = WorkspaceObject(p, kind, oid, created, now, language,
                              len(content) if kind == FILE else None, source_format)
        self._objects[p] = obj
        self._contents[p] = bytes(content)
        return obj

    def add_object(self, path: str, object_type: str, object_id: int | None = None) -> WorkspaceObject:
        """Place a non-folder object (e.g. an experiment, whose object id is its experiment id);
        the parent folder must exist."""
        p = clean_path(path)
        parent = posixpath.dirname(p)
        if not self.is_directory(parent):
            raise not_found(f"Parent directory {parent} does not exist.")
        if p in self._objects:
            raise ApiError("RESOURCE_ALREADY_EXISTS", f"Node named '{posixpath.basename(p)}' already exists")
        self._check_writable(p)
        return self._put(p, object_type, object_id)

    def remove_object(self, path: str) -> None:
        self._objects.pop(clean_path(path), None)
        self._contents.pop(clean_path(path), None)

    def move_object(self, old: str, new: str) -> None:
        obj = self._objects.get(clean_path(old))
        created = self.add_object(new, obj.object_type if obj else MLFLOW_EXPERIMENT)
        if obj is not None:
            del self._objects[obj.path]
            self._objects[created.path] = replace(created, object_id=obj.object_id, created_at=obj.created_at)

    # -- helpers ---------------------------------------------------------------------------
    def _check_writable(self, path: str) -> None:
        """Only the current user's home and /Shared take new objects."""
        home = self._ws.user.home
        if path == home or path.startswith(home + "/") or path.startswith("/Shared/"):
            return
        parent = posixpath.dirname(path)
        raise ApiError("DIRECTORY_PROTECTED", f"Folder {parent or '/'} is protected", 403)

    def _put(self, path: str, object_type: str, object_id: int | None = None) -> WorkspaceObject:
        now = self._ws.clock.now_ms()
        oid = int(object_id) if object_id is not None else int(self._ws.ids.numeric(15))
        obj = WorkspaceObject(path, object_type, oid, now, now)
        self._objects[path] = obj
        return obj


def _detect_notebook(path: str, content: bytes) -> tuple[str, str, str] | None:
    """``(path without extension, language, source format)`` when AUTO sees a notebook."""
    lower = path.lower()
    if lower.endswith(".ipynb"):
        return path[: -len(".ipynb")], "PYTHON", "JUPYTER"
    first = content.lstrip()[:64]
    for lang, (ext, header) in LANGUAGES.items():
        if lower.endswith(ext) and first.startswith(header.encode()):
            return path[: -len(ext)], lang, "SOURCE"
    return None
