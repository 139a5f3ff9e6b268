"""Traces kept in Unity Catalog as data (exports and ``--state-dir`` checkpoints,
docs/persistence.md). The spans tables themselves are UC tables (saved with ``unity_catalog``).

Schema (``tracing_uc``)::

    {"locations": [UcLocation...],
     "traces": [{"location": id, "trace_hex", "trace": Trace}],
     "spans": [{"location": id, "trace_hex", "spans": [proto-JSON value...]}],
     "operations": [{"name", "traces": [[location, trace_hex]...], "next_page_token"}]}
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlemu.server.core.persist import (
    StateDataError, decode_value, dump_as, encode_value, field, load_as, require,
)
from mlemu.server.services.tracing.persist import dump_trace, load_trace
from mlemu.server.services.tracing_uc.state import UcLocation, UcTraceStorage

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

WHERE = "tracing_uc"


def dump(state: UcTraceStorage) -> dict[str, Any]:
    keys = {id(t): list(k) for k, t in state._traces.items()}
    return {
        "locations": dump_as(list[UcLocation], list(state._locations.values())),
        "traces": [{"location": loc, "trace_hex": h, "trace": dump_trace(t)}
                   for (loc, h), t in state._traces.items()],
        "spans": [{"location": loc, "trace_hex": h, "spans": encode_value(s, WHERE)}
                  for (loc, h), s in state._spans.items()],
        "operations": [{"name": name, "next_page_token": op.get("next_page_token"),
                        "traces": [keys.get(id(t)) or _detached(t) for t in op["traces"]]}
                       for name, op in state._operations.items()],
    }


def _detached(trace: Any) -> dict[str, Any]:
    """A trace an operation found that has since been replaced (kept by the operation only)."""
    return {"location": trace.uc_location.id, "trace": dump_trace(trace)}


def load(ws: "WorkspaceState", data: Any) -> UcTraceStorage:
    state = UcTraceStorage(ws)
    for loc in load_as(list[UcLocation], field(data, "locations", list, WHERE), f"{WHERE}.locations"):
        state._locations[loc.id] = loc
    for i, raw in enumerate(field(data, "traces", list, WHERE)):
        where = f"{WHERE}.traces[{i}]"
        loc_id, hex_id = field(raw, "location", str, where), field(raw, "trace_hex", str, where)
        if loc_id not in state._locations:
            raise StateDataError(where, f"a trace in an unknown location {loc_id!r}")
        state._traces[(loc_id, hex_id)] = load_trace(field(raw, "trace", dict, where), where,
                                                     state._locations[loc_id])
    for i, raw in enumerate(field(data, "spans", list, WHERE)):
        where = f"{WHERE}.spans[{i}]"
        key = (field(raw, "location", str, where), field(raw, "trace_hex", str, where))
        state._spans[key] = require(decode_value(field(raw, "spans", list, where), where), list, where)
    for i, raw in enumerate(field(data, "operations", list, WHERE)):
        where = f"{WHERE}.operations[{i}]"
        name = field(raw, "name", str, where)
        found = [_op_trace(state, r, f"{where}.traces[{j}]")
                 for j, r in enumerate(field(raw, "traces", list, where))]
        state._operations[name] = {"name": name, "traces": found,
                                   "next_page_token": load_as(str | None, raw.get("next_page_token"),
                                                              f"{where}.next_page_token")}
    return state


def _op_trace(state: UcTraceStorage, ref: Any, where: str) -> Any:
    if isinstance(ref, dict):
        loc_id = field(ref, "location", str, where)
        if loc_id not in state._locations:
            raise StateDataError(where, f"a trace in an unknown location {loc_id!r}")
        return load_trace(field(ref, "trace", dict, where), where, state._locations[loc_id])
    key = tuple(load_as(tuple[str, str], ref, where))
    if key not in state._traces:
        raise StateDataError(where, f"an operation lists an unknown trace {key}")
    return state._traces[key]
