"""SQL warehouses, sessions and statements as data (exports and ``--state-dir`` checkpoints,
docs/persistence.md). The engine (DuckDB) is rebuilt on first use; EXTERNAL_LINKS chunks are
stored files (namespace ``sql``).

Schema (``sql``)::

    {"warehouses": [Warehouse...], "sessions": [Session...], "chunk_rows": int,
     "statements": [{<Statement fields but result and error>,
                     "result": null | {"columns": [[name, SparkType]...], "rows": [[value...]...]},
                     "error": null | {"error_class", "sqlstate", "message", "position"}}]}

Result values go through the tagged value form of :mod:`mlemu.server.core.persist`
(decimals, dates, timestamps, bytes... come back as the same Python values).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlemu.server.core.persist import (
    decode_value, dump_as, dump_fields, encode_value, field, load_as, load_fields, require,
)
from mlemu.server.services.sql.errors import SqlError
from mlemu.server.services.sql.results import QueryResult
from mlemu.server.services.sql.state import Session, SqlService, Statement, Warehouse
from mlemu.server.services.sql.types import SparkType

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

WHERE = "sql"


def dump(state: SqlService) -> dict[str, Any]:
    return {
        "warehouses": dump_as(list[Warehouse], list(state._warehouses.values())),
        "sessions": dump_as(list[Session], list(state._sessions.values())),
        "chunk_rows": state.chunk_rows,
        "statements": [_dump_statement(st) for st in state.statements.values()],
    }


def load(ws: "WorkspaceState", data: Any) -> SqlService:
    state = SqlService(ws)
    state._warehouses = {w.id: w for w in load_as(list[Warehouse], field(data, "warehouses", list, WHERE),
                                                  f"{WHERE}.warehouses")}
    state._sessions = {s.id: s for s in load_as(list[Session], field(data, "sessions", list, WHERE),
                                                f"{WHERE}.sessions")}
    state.chunk_rows = load_as(int, field(data, "chunk_rows", int, WHERE), f"{WHERE}.chunk_rows")
    state.statements = {}
    for i, raw in enumerate(field(data, "statements", list, WHERE)):
        st = _load_statement(raw, f"{WHERE}.statements[{i}]")
        state.statements[st.id] = st
    return state


def _dump_statement(st: Statement) -> dict[str, Any]:
    d = dump_fields(st, exclude=("result", "error"))
    r, e = st.result, st.error
    d["result"] = None if r is None else {
        "columns": [[name, dump_as(SparkType, t)] for name, t in r.columns],
        "rows": [[encode_value(v, f"{WHERE}.statements[{st.id}]") for v in row] for row in r.rows]}
    d["error"] = None if e is None else {"error_class": e.error_class, "sqlstate": e.sqlstate,
                                         "message": e.text, "position": e.position}
    return d


def _load_statement(raw: Any, where: str) -> Statement:
    require(raw, dict, where)
    rest = {k: v for k, v in raw.items() if k not in ("result", "error")}
    st = load_fields(Statement, rest, where, exclude=("result", "error"))
    r, e = raw.get("result"), raw.get("error")
    if r is not None:
        columns = load_as(list[tuple[str, SparkType]], field(r, "columns", list, where), f"{where}.result.columns")
        rows = [tuple(require(decode_value(row, f"{where}.result.rows"), list, f"{where}.result.rows"))
                for row in field(r, "rows", list, where)]
        st.result = QueryResult(columns, rows)
    if e is not None:
        st.error = SqlError(field(e, "error_class", str, where), field(e, "sqlstate", str, where),
                            field(e, "message", str, where), load_as(str, e.get("position", ""), where))
    return st
