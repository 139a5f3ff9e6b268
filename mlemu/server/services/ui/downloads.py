"""Artifact downloads as the MLflow UI's tracking server sends them: raw bytes, always as an
attachment, with ``X-Content-Type-Options: nosniff`` and a content type from the file name
where text-like files (including html, js and svg, which a browser would run) are text/plain."""
from __future__ import annotations

import mimetypes
import posixpath
from typing import TYPE_CHECKING

from mlemu.server.core.errors import invalid, not_found
from mlemu.server.core.storage import Namespace
from mlemu.server.services.mlflow_artifacts.state import relative_path
from mlemu.server.wire.request import Reply

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

#: Served as text/plain (mlflow's ``get_text_extensions`` plus what a browser would execute).
TEXT_EXTENSIONS = frozenset({
    "txt", "log", "err", "cfg", "conf", "cnf", "cf", "ini", "properties", "prop", "hocon", "toml",
    "yaml", "yml", "xml", "json", "js", "py", "py3", "csv", "tsv", "md", "rst", "mlmodel",
    "mlproject", "html", "htm", "svg", "sh", "requirements"})


def content_type(name: str) -> str:
    base = posixpath.basename(name)
    ext = posixpath.splitext(base)[1].lstrip(".").lower() or base.lower()
    if ext in TEXT_EXTENSIONS:
        return "text/plain"
    return mimetypes.guess_type(base)[0] or "application/octet-stream"


def file_reply(ws: "WorkspaceState", namespace: Namespace, root: str, path: str | None,
               param: str = "path") -> Reply:
    """The file ``path`` under ``root`` as an attachment (404 when it is missing or a folder)."""
    if not path:
        raise invalid(f"Missing value for required parameter '{param}'.")
    rel = relative_path(path, param)
    target = f"{root}/{rel}" if rel else root
    st = ws.storage.stat(namespace, target)
    if st is None:
        raise not_found(f"The artifact '{path}' does not exist.")
    if st.is_dir:
        raise invalid(f"Artifact path refers to a directory, not a file: '{path}'")
    name = posixpath.basename(rel)
    return Reply(200, ws.storage.read(namespace, target), {
        "content-type": content_type(name),
        "content-disposition": f'attachment; filename="{name}"',
        "x-content-type-options": "nosniff",
    }, journal_body={"file": rel, "bytes": st.size})
