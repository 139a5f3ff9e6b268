"""The workspace tree's state as data (exports and ``--state-dir`` checkpoints,
docs/persistence.md).

Schema (``workspace_files``)::

    {"objects": [WorkspaceObject...], "contents": [[path, base64 bytes]...]}
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlemu.server.core.persist import (
    StateDataError, decode_bytes, dump_as, encode_bytes, field, load_as, require,
)
from mlemu.server.services.workspace_files.state import WorkspaceFiles, WorkspaceObject

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

WHERE = "workspace_files"


def dump(state: WorkspaceFiles) -> dict[str, Any]:
    return {"objects": dump_as(list[WorkspaceObject], list(state._objects.values())),
            "contents": [[p, encode_bytes(b)] for p, b in state._contents.items()]}


def load(ws: "WorkspaceState", data: Any) -> WorkspaceFiles:
    state = WorkspaceFiles(ws)
    objects = load_as(list[WorkspaceObject], field(data, "objects", list, WHERE), f"{WHERE}.objects")
    state._objects = {o.path: o for o in objects}
    state._contents = {}
    for i, pair in enumerate(field(data, "contents", list, WHERE)):
        where = f"{WHERE}.contents[{i}]"
        path, text = require(pair, list, where) if len(pair) == 2 else (None, None)
        if not isinstance(path, str) or path not in state._objects:
            raise StateDataError(where, "content of a path that is no object")
        state._contents[path] = decode_bytes(text, where)
    return state
