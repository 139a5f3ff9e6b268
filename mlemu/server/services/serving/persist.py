"""Serving endpoints as data (exports and ``--state-dir`` checkpoints, docs/persistence.md).
Inference tables are Unity Catalog tables (saved with ``unity_catalog``); loaded models are a
process-wide cache, not state.

Schema (``serving``)::

    {"endpoints": [{<Endpoint fields but router>, "router": PRNG state}],
     "digests": {model version id: digest of its files}, "update_polls": int}

The traffic router's PRNG state is kept exactly, so the next invocation after a load is routed
as it would have been.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlemu.server.core.persist import (
    StateDataError, decode_rng, dump_fields, encode_rng, field, load_as, load_fields,
)
from mlemu.server.services.serving.state import Endpoint, Serving

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

WHERE = "serving"


def dump(state: Serving) -> dict[str, Any]:
    return {"endpoints": [{**dump_fields(e, exclude=("router",)), "router": encode_rng(e.router)}
                          for e in state._endpoints.values()],
            "digests": dict(state._digests), "update_polls": state.update_polls}


def load(ws: "WorkspaceState", data: Any) -> Serving:
    state = Serving(ws)
    state.update_polls = load_as(int, field(data, "update_polls", int, WHERE), f"{WHERE}.update_polls")
    state._digests = load_as(dict[str, str], field(data, "digests", dict, WHERE), f"{WHERE}.digests")
    for i, raw in enumerate(field(data, "endpoints", list, WHERE)):
        where = f"{WHERE}.endpoints[{i}]"
        rest = {k: v for k, v in raw.items() if k != "router"} if isinstance(raw, dict) else raw
        endpoint = load_fields(Endpoint, rest, where, exclude=("router",),
                               router=decode_rng(field(raw, "router", list, where), f"{where}.router"))
        if endpoint.name in state._endpoints:
            raise StateDataError(where, f"endpoint {endpoint.name!r} appears twice")
        state._endpoints[endpoint.name] = endpoint
    return state
