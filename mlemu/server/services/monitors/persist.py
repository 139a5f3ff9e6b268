"""Lakehouse monitors as data (exports and ``--state-dir`` checkpoints, docs/persistence.md).
Their metric tables are Unity Catalog tables (saved with ``unity_catalog``).

Schema (``monitors``)::

    {"monitors": [Monitor (with its refreshes)...], "synchronous": bool}
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlemu.server.core.persist import StateDataError, dump_fields, field, load_as, load_fields
from mlemu.server.services.monitors.state import Monitor, Monitors

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

WHERE = "monitors"


def dump(state: Monitors) -> dict[str, Any]:
    return {"monitors": [[k, dump_fields(m)] for k, m in state._monitors.items()],
            "synchronous": state.synchronous}


def load(ws: "WorkspaceState", data: Any) -> Monitors:
    state = Monitors(ws)
    state.synchronous = load_as(bool, field(data, "synchronous", bool, WHERE), f"{WHERE}.synchronous")
    for i, pair in enumerate(field(data, "monitors", list, WHERE)):
        where = f"{WHERE}.monitors[{i}]"
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
            raise StateDataError(where, "expected [table name, monitor]")
        state._monitors[pair[0]] = load_fields(Monitor, pair[1], where)
    return state
