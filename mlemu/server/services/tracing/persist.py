"""MLflow traces as data (exports and ``--state-dir`` checkpoints, docs/persistence.md).

Schema (``tracing``)::

    {"traces": [Trace (its fields but uc_location)...]}

:func:`dump_trace` / :func:`load_trace` are shared with ``tracing_uc`` (traces kept in Unity
Catalog carry their location there).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlemu.server.core.persist import dump_fields, field, load_fields
from mlemu.server.services.tracing.state import Trace, Tracing

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

WHERE = "tracing"


def dump_trace(trace: Trace) -> dict[str, Any]:
    return dump_fields(trace, exclude=("uc_location",))


def load_trace(data: Any, where: str, uc_location: Any = None) -> Trace:
    return load_fields(Trace, data, where, exclude=("uc_location",), uc_location=uc_location)


def dump(state: Tracing) -> dict[str, Any]:
    return {"traces": [[k, dump_trace(t)] for k, t in state._traces.items()]}


def load(ws: "WorkspaceState", data: Any) -> Tracing:
    state = Tracing(ws)
    for i, pair in enumerate(field(data, "traces", list, WHERE)):
        where = f"{WHERE}.traces[{i}]"
        key = pair[0] if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) else None
        state._traces[field({"key": key}, "key", str, where)] = load_trace(pair[1], where)
    return state
