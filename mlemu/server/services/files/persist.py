"""The Files API's own state as data (exports and ``--state-dir`` checkpoints,
docs/persistence.md): the pre-signed URL grants (the files themselves are storage).

Schema (``files``)::

    {"grants": [[grant id, {"namespace", "path", "methods": [sorted], "expires_ms"}]...]}
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlemu.server.core.persist import StateDataError, dump_as, field, load_as
from mlemu.server.services.files.presigned import Grant
from mlemu.server.services.files.state import Files

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

WHERE = "files"


def dump(state: Files) -> dict[str, Any]:
    return {"grants": [[gid, dump_as(Grant, g)] for gid, g in state.presigned._grants.items()]}


def load(ws: "WorkspaceState", data: Any) -> Files:
    state = Files(ws)
    for i, pair in enumerate(field(data, "grants", list, WHERE)):
        where = f"{WHERE}.grants[{i}]"
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
            raise StateDataError(where, "expected [grant id, grant]")
        grant = load_as(Grant, pair[1], where)
        if grant.namespace not in ("files", "dbfs", "sql"):
            raise StateDataError(where, f"unknown namespace {grant.namespace!r}")
        state.presigned._grants[pair[0]] = grant
    return state
