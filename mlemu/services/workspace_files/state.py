"""The workspace tree: folders, and the objects other services place in it (an MLflow
experiment is an ``MLFLOW_EXPERIMENT`` object at its name's path)."""
from __future__ import annotations

import posixpath
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from mlemu.core.errors import ApiError, invalid, not_found

if TYPE_CHECKING:
    from mlemu.core.workspace import WorkspaceState

DIRECTORY = "DIRECTORY"
MLFLOW_EXPERIMENT = "MLFLOW_EXPERIMENT"


@dataclass(frozen=True)
class WorkspaceObject:
    path: str
    object_type: str
    object_id: int
    created_at: int
    modified_at: int

    def to_wire(self) -> dict:
        return {"object_type": self.object_type, "path": self.path, "object_id": self.object_id,
                "created_at": self.created_at, "modified_at": self.modified_at}


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
