"""Where a notebook's source comes from: a local file (a repo checkout, as in a Git folder or a
bundle's synced files) or the emulated workspace's tree (``w.workspace.import_``), and how
paths relative to a notebook (``%run ../lib``, ``dbutils.notebook.run("./child")``,
``%cd /Workspace/...``) resolve from there.

A local notebook also has a workspace path, the one Databricks would show
(``notebookPath()``): the Jobs service passes it (a bundle's ``/Users/.../.bundle/...``);
otherwise it is the file's absolute path without its extension. :meth:`Location.local_dir_for`
maps a workspace folder back to the local directory it stands for, by the common tail of the
two paths.
"""
from __future__ import annotations

import json
import os
import posixpath
from dataclasses import dataclass
from typing import Any

from mlemu.standins.notebooks.errors import NotebookNotFound, NotebookSourceError

#: Extensions a notebook file may have; ``%run ./x`` names it without one.
EXTENSIONS = (".py", ".sql", ".ipynb")
LOCAL, WORKSPACE = "local", "workspace"


@dataclass(frozen=True)
class Location:
    """A notebook: ``kind`` is ``local`` (``path`` is an absolute file path) or ``workspace``
    (``path`` is a workspace path, without ``/Workspace``); ``workspace_path`` is what the
    notebook context reports as its path."""

    kind: str
    path: str
    workspace_path: str

    @property
    def local_dir(self) -> str | None:
        return os.path.dirname(self.path) if self.kind == LOCAL else None

    def resolve(self, target: str, ws: Any) -> "Location":
        """The notebook ``target`` names from this one (relative paths start at its folder)."""
        if self.kind == LOCAL:
            if not target.startswith("/"):
                found = _local_file(os.path.normpath(os.path.join(os.path.dirname(self.path), target)))
                if found:
                    return Location(LOCAL, found, _join_workspace(self.workspace_path, target))
                raise NotebookNotFound(f"Notebook not found: {target} (relative to {self.path})")
            mapped = self.local_dir_for(target)
            found = _local_file(mapped) if mapped else None
            if found:
                return Location(LOCAL, found, _strip_workspace(target))
            return locate(target, ws, source="WORKSPACE")
        base = posixpath.dirname(self.path)
        path = _strip_workspace(target) if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
        return locate(path, ws, source="WORKSPACE")

    def local_dir_for(self, workspace_dir: str) -> str | None:
        """The local path standing for a workspace path (``/Workspace/...`` or not), when this
        notebook is a local file whose workspace path shares a tail with its file path; else
        the path itself when it exists locally."""
        if self.kind != LOCAL:
            return None
        target = _strip_workspace(workspace_dir)
        ws_parts = [p for p in posixpath.splitext(self.workspace_path)[0].split("/") if p]
        local_parts = [p for p in os.path.splitext(self.path)[0].split(os.sep) if p]
        common = 0
        while (common < min(len(ws_parts), len(local_parts))
               and ws_parts[-1 - common] == local_parts[-1 - common]):
            common += 1
        if common:
            ws_root = "/" + "/".join(ws_parts[:len(ws_parts) - common])
            local_root = os.sep + os.sep.join(local_parts[:len(local_parts) - common])
            rel = posixpath.relpath(posixpath.normpath(target), ws_root)
            if not rel.startswith(".."):
                return os.path.normpath(os.path.join(local_root, rel))
        return target if os.path.exists(target) else None


def locate(path: str | os.PathLike, ws: Any, source: str | None = None) -> Location:
    """The notebook at ``path``: a local file (a ``PathLike``, or a string naming an existing file,
    with or without its extension), else a notebook of the workspace ``ws``. ``source``
    (``WORKSPACE`` or ``GIT``/``LOCAL``, as a job's ``notebook_task.source``) forces one."""
    kind = (source or "").upper()
    if isinstance(path, os.PathLike) or kind in ("GIT", "LOCAL"):
        local = os.path.abspath(os.fspath(path))
        found = _local_file(local)
        if not found:
            raise NotebookNotFound(f"Notebook not found: no file {local} (nor with {', '.join(EXTENSIONS)})")
        return Location(LOCAL, found, _default_workspace_path(found))
    text = str(path)
    if kind != "WORKSPACE" and not text.startswith("/Workspace/"):
        found = _local_file(os.path.abspath(text))
        if found:
            return Location(LOCAL, found, _default_workspace_path(found))
    if ws is None:
        raise NotebookNotFound(f"Notebook not found: {text} is no local file, and no emulated workspace is "
                               "active to look it up in (use the mlemu fixture or mlemu.emulate()).")
    wpath = _strip_workspace(text)
    with ws.lock:
        tree = ws.workspace_files
        for candidate in (wpath, *(wpath + ext for ext in EXTENSIONS)):
            if tree.exists(candidate):
                obj = tree.get(candidate)
                if obj.object_type in ("NOTEBOOK", "FILE"):
                    return Location(WORKSPACE, obj.path, posixpath.splitext(obj.path)[0]
                                    if obj.object_type == "FILE" else obj.path)
    raise NotebookNotFound(f"Notebook not found: {text} (neither a local file nor a notebook of the "
                           "emulated workspace)")


def read(location: Location, ws: Any) -> str:
    """The notebook's source text (a Jupyter notebook is turned into notebook source)."""
    if location.kind == LOCAL:
        with open(location.path, encoding="utf-8") as f:
            text = f.read()
        return from_jupyter(text, location.path) if location.path.endswith(".ipynb") else text
    with ws.lock:
        tree = ws.workspace_files
        obj = tree.get(location.path)
        if obj.object_type == "NOTEBOOK" and obj.source_format == "JUPYTER":
            content, _ = tree.export_object(location.path, "JUPYTER")
            return from_jupyter(content.decode("utf-8"), location.path)
        content, _ = tree.export_object(location.path, "SOURCE")
    return content.decode("utf-8")


def from_jupyter(text: str, path: str) -> str:
    """A Jupyter notebook as Python notebook source: code cells as they are, markdown cells as
    ``%md`` cells (Databricks imports ``.ipynb`` files the same way)."""
    try:
        doc = json.loads(text)
        cells = doc["cells"]
    except (ValueError, KeyError, TypeError):
        raise NotebookSourceError(f"{path} is not a Jupyter notebook (JSON with a 'cells' list).") from None
    bodies: list[str] = []
    for cell in cells:
        body = cell.get("source", "")
        body = "".join(body) if isinstance(body, list) else str(body)
        if cell.get("cell_type") == "markdown":
            body = "\n".join("# MAGIC " + line if line else "# MAGIC" for line in ("%md\n" + body).split("\n"))
        elif cell.get("cell_type") != "code":
            continue
        bodies.append(body.rstrip("\n"))
    return "# Databricks notebook source\n" + "\n\n# COMMAND ----------\n\n".join(bodies)


def _local_file(path: str) -> str | None:
    if os.path.isfile(path):
        return path
    for ext in EXTENSIONS:
        if os.path.isfile(path + ext):
            return path + ext
    return None


def _strip_workspace(path: str) -> str:
    if path == "/Workspace" or path.startswith("/Workspace/"):
        path = path[len("/Workspace"):] or "/"
    return "/" + posixpath.normpath(path).lstrip("/")


def _default_workspace_path(local: str) -> str:
    return os.path.splitext(local)[0].replace(os.sep, "/")


def _join_workspace(base: str, target: str) -> str:
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), posixpath.splitext(target)[0]))
