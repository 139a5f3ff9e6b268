"""Routes of Databricks SQL: ``/api/2.0/sql/warehouses`` (``w.warehouses``),
``/api/2.0/sql/statements`` (``w.statement_execution``) and ``/api/2.0/sql/sessions``
(databricks-sql-connector with ``use_sea=True``).

The statement routes run without the workspace lock (``locked=False``): executing and polling
may wait for a statement, which runs on its own thread; they take the lock only to read or
change state and to render the answer."""
from __future__ import annotations

import datetime as dt
import time

from mlemu.server.services.files.presigned import DEFAULT_TTL_MS
from mlemu.server.services.sql import wire
from mlemu.server.services.sql.state import SqlService, Statement, chunk_path
from mlemu.server.wire.request import Request
from mlemu.server.wire.routing import RouteTable
from mlemu.server.wire.service import Service

routes = RouteTable("sql")

WAREHOUSES = "/api/2.0/sql/warehouses"
STATEMENTS = wire.STATEMENTS
SESSIONS = "/api/2.0/sql/sessions"


def _sql(req: Request) -> SqlService:
    return req.ws.sql  # type: ignore[no-any-return]


# -- warehouses ----------------------------------------------------------------------------

@routes.post(WAREHOUSES, "warehouses.create", body=wire.WarehouseFields,
             client_calls=("WorkspaceClient.warehouses.create", "WorkspaceClient.warehouses.create_and_wait"))
def create_warehouse(req: Request) -> dict:
    return {"id": _sql(req).create_warehouse(**req.args.fields()).id}


@routes.get(WAREHOUSES, "warehouses.list", body=wire.ListWarehouses,
            client_calls=("WorkspaceClient.warehouses.list",))
def list_warehouses(req: Request) -> dict:
    return {"warehouses": [wire.warehouse_info(w, req.ws.host) for w in _sql(req).list_warehouses()]}


@routes.get(WAREHOUSES + "/<warehouse_id>", "warehouses.get",
            client_calls=("WorkspaceClient.warehouses.get", "WorkspaceClient.warehouses.wait_get_warehouse_running"))
def get_warehouse(req: Request, warehouse_id: str) -> dict:
    return wire.warehouse_info(_sql(req).get_warehouse(warehouse_id), req.ws.host)


@routes.post(WAREHOUSES + "/<warehouse_id>/edit", "warehouses.edit", body=wire.WarehouseFields,
             client_calls=("WorkspaceClient.warehouses.edit", "WorkspaceClient.warehouses.edit_and_wait"))
def edit_warehouse(req: Request, warehouse_id: str) -> dict:
    _sql(req).edit_warehouse(warehouse_id, **req.args.fields())
    return {}


@routes.post(WAREHOUSES + "/<warehouse_id>/start", "warehouses.start",
             client_calls=("WorkspaceClient.warehouses.start", "WorkspaceClient.warehouses.start_and_wait"))
def start_warehouse(req: Request, warehouse_id: str) -> dict:
    _sql(req).set_warehouse_state(warehouse_id, "RUNNING")
    return {}


@routes.post(WAREHOUSES + "/<warehouse_id>/stop", "warehouses.stop",
             client_calls=("WorkspaceClient.warehouses.stop", "WorkspaceClient.warehouses.stop_and_wait"))
def stop_warehouse(req: Request, warehouse_id: str) -> dict:
    _sql(req).set_warehouse_state(warehouse_id, "STOPPED")
    return {}


@routes.delete(WAREHOUSES + "/<warehouse_id>", "warehouses.delete",
               client_calls=("WorkspaceClient.warehouses.delete",))
def delete_warehouse(req: Request, warehouse_id: str) -> dict:
    _sql(req).delete_warehouse(warehouse_id)
    return {}


# -- statements ----------------------------------------------------------------------------

def _result(req: Request, st: Statement, index: int) -> tuple[dict, dict[int, int] | None]:
    """Chunk ``index`` of a SUCCEEDED statement: inline rows, or a pre-signed link to its bytes."""
    if st.disposition == "INLINE":
        return wire.inline_chunk(st, index), None
    if index not in st.links:
        data = wire.chunk_bytes(st, index)
        req.ws.storage.write("sql", chunk_path(st.id, index), data)
        url = req.ws.files.presigned.issue(req.base_url, "sql", chunk_path(st.id, index), ("GET",))
        st.links[index] = (url, len(data))
    url, size = st.links[index]
    # The connector compares the expiration with time.time(): a workspace clock frozen in the
    # past must not advertise links that look expired already.
    issued_ms = max(req.ws.clock.now_ms(), int(time.time() * 1000))
    expires = dt.datetime.fromtimestamp((issued_ms + DEFAULT_TTL_MS) / 1000, dt.timezone.utc)
    link = wire.link_chunk(st, index, url, size, expires.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")
    return link, {i: n for i, (_, n) in st.links.items()}


def _answer(req: Request, st: Statement) -> dict:
    if st.state != "SUCCEEDED":
        return wire.statement_response(st, None)
    result, sizes = _result(req, st, 0)
    return wire.statement_response(st, result, sizes)


@routes.post(STATEMENTS, "statements.execute", body=wire.ExecuteStatement, locked=False,
             client_calls=("WorkspaceClient.statement_execution.execute_statement",
                           "databricks.sql.connect(use_sea=True).cursor().execute"))
def execute_statement(req: Request) -> dict:
    a = req.args
    params = [(p.name, p.value, p.type) for p in (a.parameters or [])]
    st = _sql(req).execute(a.statement, a.warehouse_id, wait_timeout=a.wait_timeout, disposition=a.disposition,
                           format=a.format, row_limit=a.row_limit, byte_limit=a.byte_limit,
                           catalog=a.catalog, schema=a.schema_,
                           parameters=params, session_id=a.session_id, on_wait_timeout=a.on_wait_timeout)
    with req.ws.lock:
        return _answer(req, st)


@routes.get(STATEMENTS + "/<statement_id>", "statements.get", locked=False,
            client_calls=("WorkspaceClient.statement_execution.get_statement",))
def get_statement(req: Request, statement_id: str) -> dict:
    st = _sql(req).poll(statement_id)
    with req.ws.lock:
        return _answer(req, st)


@routes.get(STATEMENTS + "/<statement_id>/result/chunks/<int:chunk_index>", "statements.get-chunk",
            client_calls=("WorkspaceClient.statement_execution.get_statement_result_chunk_n",))
def get_chunk(req: Request, statement_id: str, chunk_index: int) -> dict:
    st = _sql(req).require_result(statement_id, chunk_index)
    return _result(req, st, chunk_index)[0]


@routes.post(STATEMENTS + "/<statement_id>/cancel", "statements.cancel", locked=False,
             client_calls=("WorkspaceClient.statement_execution.cancel_execution",))
def cancel_statement(req: Request, statement_id: str) -> dict:
    _sql(req).cancel(statement_id)
    return {}


@routes.delete(STATEMENTS + "/<statement_id>", "statements.close", locked=False,
               client_calls=("databricks.sql cursor.close (use_sea=True)",))
def close_statement(req: Request, statement_id: str) -> dict:
    _sql(req).close(statement_id)
    return {}


# -- SEA sessions (databricks-sql-connector, use_sea=True) ---------------------------------

@routes.post(SESSIONS, "sessions.create", body=wire.CreateSession,
             client_calls=("databricks.sql.connect(use_sea=True)",))
def create_session(req: Request) -> dict:
    a = req.args
    return {"session_id": _sql(req).create_session(a.warehouse_id, a.catalog, a.schema_).id}


@routes.delete(SESSIONS + "/<session_id>", "sessions.delete",
               client_calls=("databricks.sql connection.close (use_sea=True)",))
def delete_session(req: Request, session_id: str) -> dict:
    _sql(req).delete_session(session_id)
    return {}


SERVICE = Service("sql", routes, state=SqlService,
                  description="Databricks SQL: warehouses, statement execution, SEA sessions")
