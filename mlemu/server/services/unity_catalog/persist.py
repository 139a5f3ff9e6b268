"""The Unity Catalog namespace as data (exports and ``--state-dir`` checkpoints,
docs/persistence.md): catalogs, schemas, tables with their rows and Delta history, Python UDFs.

Schema (``unity_catalog``)::

    {"metastore_id", "storage_root", "catalogs": [Catalog...], "schemas": [Schema...],
     "frames": [frame...],          # each distinct pandas frame once (mlemu.server.core.persist)
     "tables": [{<Table fields but frame and versions>, "frame": index into frames,
                 "versions": [[commit ms, index into frames]...]}],
     "functions": null | [Function (its Python body is kept as data: never run once loaded)...]}

Providers of schema contents (the registry, functions) register again when they are loaded.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlemu.server.core.persist import (
    StateDataError, decode_frame, dump_as, dump_fields, encode_frame, field, load_as, load_fields, require,
)
from mlemu.server.services.unity_catalog.functions import Function
from mlemu.server.services.unity_catalog.state import Catalog, Schema, Table, UnityCatalog

if TYPE_CHECKING:
    import pandas as pd

    from mlemu.server.core.workspace import WorkspaceState

WHERE = "unity_catalog"
_TABLE_SPECIAL = ("frame", "versions")


def dump(state: UnityCatalog) -> dict[str, Any]:
    frames: list[dict[str, Any]] = []
    index: dict[int, int] = {}

    def ref(frame: "pd.DataFrame", where: str) -> int:
        if id(frame) not in index:
            index[id(frame)] = len(frames)
            frames.append(encode_frame(frame, where))
        return index[id(frame)]

    tables = []
    for t in state._tables.values():
        where = f"{WHERE}.tables[{t.full_name}]"
        d = dump_fields(t, exclude=_TABLE_SPECIAL)
        d["frame"] = ref(t.frame, where)
        d["versions"] = [[ms, ref(f, where)] for ms, f in t.versions]
        tables.append(d)
    functions = state._functions
    return {
        "metastore_id": state.metastore_id, "storage_root": state.storage_root,
        "catalogs": dump_as(list[Catalog], list(state._catalogs.values())),
        "schemas": dump_as(list[Schema], list(state._schemas.values())),
        "frames": frames, "tables": tables,
        "functions": None if functions is None else [
            dump_fields(f, exclude=("_compiled", "from_file")) for f in functions._functions.values()],
    }


def load(ws: "WorkspaceState", data: Any) -> UnityCatalog:
    state = UnityCatalog(ws)
    state.metastore_id = field(data, "metastore_id", str, WHERE)
    state.storage_root = field(data, "storage_root", str, WHERE)
    state._catalogs = {c.name: c for c in load_as(list[Catalog], field(data, "catalogs", list, WHERE),
                                                   f"{WHERE}.catalogs")}
    state._schemas = {(s.catalog, s.name): s for s in load_as(list[Schema], field(data, "schemas", list, WHERE),
                                                             f"{WHERE}.schemas")}
    frames = [decode_frame(f, f"{WHERE}.frames[{i}]") for i, f in enumerate(field(data, "frames", list, WHERE))]
    state._tables = {}
    for i, raw in enumerate(field(data, "tables", list, WHERE)):
        where = f"{WHERE}.tables[{i}]"
        require(raw, dict, where)
        table = load_fields(Table, {k: v for k, v in raw.items() if k not in _TABLE_SPECIAL}, where,
                            exclude=_TABLE_SPECIAL, frame=_frame(frames, raw.get("frame"), where))
        table.versions = [(load_as(int, ms, where), _frame(frames, n, where))
                          for ms, n in _pairs(field(raw, "versions", list, where), where)]
        state._tables[(table.catalog, table.schema, table.name)] = table
    state._contents = []
    state._functions = None
    raw_functions = data.get("functions")
    if raw_functions is not None:
        functions = state.functions  # registers itself as schema contents
        for i, raw in enumerate(require(raw_functions, list, f"{WHERE}.functions")):
            f = load_fields(Function, raw, f"{WHERE}.functions[{i}]", exclude=("_compiled", "from_file"),
                            from_file=True)
            functions._functions[(f.catalog, f.schema, f.name)] = f
    return state


def _frame(frames: list["pd.DataFrame"], n: Any, where: str) -> "pd.DataFrame":
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n < len(frames):
        raise StateDataError(where, f"frame reference {n!r} is not in frames")
    return frames[n]


def _pairs(items: list[Any], where: str) -> list[tuple[Any, Any]]:
    if not all(isinstance(p, list) and len(p) == 2 for p in items):
        raise StateDataError(where, "expected [commit ms, frame] pairs")
    return [(a, b) for a, b in items]


