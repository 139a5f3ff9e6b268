"""DBFS's own state as data (exports and ``--state-dir`` checkpoints, docs/persistence.md):
the open ``create`` handles and their buffered bytes (the files themselves are storage).

Schema (``dbfs``)::

    {"streams": [{"handle": int, "namespace", "path", "overwrite", "last_used_ms",
                  "data": base64}], "next_handle": int}
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlemu.server.core.persist import decode_bytes, dump_fields, encode_bytes, field, load_as, load_fields
from mlemu.server.services.dbfs.state import Dbfs, _Stream

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

WHERE = "dbfs"


def dump(state: Dbfs) -> dict[str, Any]:
    return {"streams": [{"handle": h, **dump_fields(s, exclude=("data",)), "data": encode_bytes(s.data)}
                        for h, s in state._streams.items()],
            "next_handle": state._next_handle}


def load(ws: "WorkspaceState", data: Any) -> Dbfs:
    state = Dbfs(ws)
    state._next_handle = load_as(int, field(data, "next_handle", int, WHERE), f"{WHERE}.next_handle")
    for i, raw in enumerate(field(data, "streams", list, WHERE)):
        where = f"{WHERE}.streams[{i}]"
        handle = field(raw, "handle", int, where)
        rest = {k: v for k, v in raw.items() if k not in ("handle", "data")}
        state._streams[handle] = load_fields(_Stream, rest, where, exclude=("data",),
                                             data=bytearray(decode_bytes(field(raw, "data", str, where), where)))
    return state
