"""SQL warehouses, SEA sessions and statements of a workspace (``ws.sql``).

A workspace starts with one running serverless starter warehouse, as new Databricks
workspaces do. Warehouses start and stop at once [emu: no STARTING/STOPPING delay, so the
SDK's ``.result()`` waiters return on their first poll].

A statement runs on the workspace's :class:`~mlemu.server.services.sql.engine.SqlEngine` in a
thread of its own (:mod:`.runner`), never holding the workspace lock while DuckDB works, so a
long statement delays no other request. The statement API's modes, as Databricks documents them:

* ``wait_timeout`` 5-50 s (default 10 s): the call waits that long (real time) for the end;
  if the statement is still running, ``on_wait_timeout=CONTINUE`` (default) answers it
  RUNNING and it goes on, ``CANCEL`` interrupts it and answers CANCELED;
* ``wait_timeout="0s"``: the call answers PENDING; the first poll starts it (RUNNING) [emu:
  Databricks starts at once; mlemu waits for the first poll so the states a test sees are the
  same every run], and a poll of a RUNNING statement waits up to :data:`POLL_WAIT_SECONDS` for
  its end, so a quick statement reads PENDING -> RUNNING -> SUCCEEDED;
* ``/cancel`` and closing interrupt a running statement; its writes are then not applied.

Results are kept as rows and serialised a chunk at a time.
"""
from __future__ import annotations

import re
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlemu.server.core.errors import ApiError, invalid
from mlemu.server.core import extras
from mlemu.server.services.sql.engine import Context, QueryResult, SqlEngine, missing_engine
from mlemu.server.services.sql.errors import SqlError
from mlemu.server.services.sql.runner import Canceled, Run, Runner

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

STARTER_WAREHOUSE = "Serverless Starter Warehouse"
#: Rows per result chunk [emu: Databricks sizes INLINE chunks by bytes, undocumented].
DEFAULT_CHUNK_ROWS = 10_000
#: INLINE results are capped at 25 MiB (documented); larger ones need EXTERNAL_LINKS.
INLINE_BYTE_LIMIT = 25 * 1024 * 1024
#: Statements kept with their results; older ones are forgotten (404), as Databricks forgets a
#: statement 12 hours after it ended [emu: by count, so a long ``mlemu serve`` stays bounded].
MAX_STATEMENTS = 1000
DISPOSITIONS = ("INLINE", "EXTERNAL_LINKS", "INLINE_OR_EXTERNAL_LINKS")
FORMATS = ("JSON_ARRAY", "ARROW_STREAM", "CSV")
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELED", "CLOSED")
#: ``wait_timeout`` when the request gives none (documented default).
DEFAULT_WAIT_SECONDS = 10
#: [emu] How long a poll of a RUNNING statement waits for its end (without the workspace lock).
POLL_WAIT_SECONDS = 5.0
_WAIT = re.compile(r"^(\d+)s$")


@dataclass
class Warehouse:
    id: str
    name: str
    creator_name: str
    cluster_size: str = "Small"
    min_num_clusters: int = 1
    max_num_clusters: int = 1
    auto_stop_mins: int = 10
    enable_photon: bool = True
    enable_serverless_compute: bool = False
    warehouse_type: str = "PRO"
    spot_instance_policy: str = "COST_OPTIMIZED"
    channel: dict[str, Any] | None = None
    tags: dict[str, Any] | None = None
    statement_timeout: int | None = None
    state: str = "RUNNING"


@dataclass
class Session:
    id: str
    warehouse_id: str
    context: Context


@dataclass
class Statement:
    id: str
    warehouse_id: str
    text: str
    disposition: str
    format: str
    context: Context
    parameters: list[tuple[str, str | None, str | None]]
    row_limit: int | None = None
    byte_limit: int | None = None
    state: str = "PENDING"
    result: QueryResult | None = None
    error: SqlError | None = None
    truncated: bool = False
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    session_id: str | None = None
    links: dict[int, tuple[str, int]] = field(default_factory=dict)  # chunk -> (url, bytes)

    @property
    def row_count(self) -> int:
        return len(self.result.rows) if self.result else 0

    def chunk_bounds(self) -> list[tuple[int, int]]:
        """(row_offset, row_count) of every chunk; an empty result has one empty chunk."""
        n = self.row_count
        if n == 0:
            return [(0, 0)]
        return [(start, min(self.chunk_rows, n - start)) for start in range(0, n, self.chunk_rows)]


class SqlService:
    """Warehouses, sessions and statements; the engine is created on first statement."""

    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws
        self._warehouses: dict[str, Warehouse] = {}
        self._sessions: dict[str, Session] = {}
        self.statements: dict[str, Statement] = {}
        self.chunk_rows = DEFAULT_CHUNK_ROWS
        self._engine: SqlEngine | None = None
        self._runner = Runner()
        self._runs: dict[str, Run] = {}
        self.create_warehouse(name=STARTER_WAREHOUSE, cluster_size="Small", enable_serverless_compute=True,
                              auto_stop_mins=10, max_num_clusters=1)

    def __getstate__(self) -> dict[str, Any]:
        """Snapshots hold the warehouses, sessions and statements, not the engine or running threads."""
        state = dict(self.__dict__)
        state.update(_engine=None, _runner=None, _runs={})
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._runner = Runner()

    @property
    def engine(self) -> SqlEngine:
        if self._engine is None:
            self._engine = SqlEngine(self._ws)
        return self._engine

    def query(self, statement: str, *, catalog: str | None = None, schema: str | None = None) -> Any:
        """Test helper: a statement's result as a pandas frame (``ws.sql.query("SELECT ...")``);
        a failure raises :class:`~mlemu.server.services.sql.errors.SqlError`."""
        import pandas as pd

        ctx = Context((catalog or Context.catalog).lower(), (schema or Context.schema).lower())
        extras.require("sql", "Databricks SQL in mlemu (ws.sql.query)")
        result = self.run_statement(statement, ctx)
        return pd.DataFrame.from_records(result.rows, columns=[name for name, _ in result.columns])

    def run_statement(self, text: str, context: Context,
                      parameters: list[tuple[str, str | None, str | None]] | None = None) -> QueryResult:
        """Run a statement to its end for a Python caller (the DB-API adapter, :meth:`query`):
        on a statement thread, so the caller's own stack depth never matters and the workspace
        lock is free while DuckDB works; inline when the caller holds the lock."""
        if self._holds_lock():
            return self.engine.execute(text, context, parameters)
        outcome: dict[str, Any] = {}

        def job(run: Run) -> None:
            try:
                outcome["result"] = self.engine.execute(text, context, parameters, run)
            except BaseException as e:  # handed to the caller's thread
                outcome["error"] = e
        self._runner.submit(job).wait()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]  # type: ignore[no-any-return]

    def _holds_lock(self) -> bool:
        owned = getattr(self._ws.lock, "_is_owned", None)
        return bool(owned and owned())

    # -- warehouses -------------------------------------------------------------------------
    def create_warehouse(self, **fields: Any) -> Warehouse:
        fields = {k: v for k, v in fields.items() if v is not None}
        name = fields.pop("name", None)
        if not name:
            raise invalid("Warehouse name is required.")
        if any(w.name == name for w in self._warehouses.values()):
            raise ApiError("RESOURCE_ALREADY_EXISTS", f"SQL warehouse with name `{name}` already exists.")
        _check_warehouse_fields(fields)
        creator = fields.pop("creator_name", None) or self._ws.user.user_name
        wh = Warehouse(self._ws.ids.hex(16), name, creator, **fields)
        self._warehouses[wh.id] = wh
        return wh

    def get_warehouse(self, warehouse_id: str) -> Warehouse:
        wh = self._warehouses.get(warehouse_id)
        if wh is None:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"Warehouse {warehouse_id} does not exist.", 404)
        return wh

    def list_warehouses(self) -> list[Warehouse]:
        return list(self._warehouses.values())

    def edit_warehouse(self, warehouse_id: str, **fields: Any) -> Warehouse:
        wh = self.get_warehouse(warehouse_id)
        fields = {k: v for k, v in fields.items() if v is not None}
        _check_warehouse_fields(fields)
        name = fields.get("name")
        if name and any(w.name == name and w.id != wh.id for w in self._warehouses.values()):
            raise ApiError("RESOURCE_ALREADY_EXISTS", f"SQL warehouse with name `{name}` already exists.")
        for key, value in fields.items():
            setattr(wh, key, value)
        return wh

    def set_warehouse_state(self, warehouse_id: str, state: str) -> Warehouse:
        wh = self.get_warehouse(warehouse_id)
        wh.state = state
        return wh

    def delete_warehouse(self, warehouse_id: str) -> None:
        self.get_warehouse(warehouse_id)
        del self._warehouses[warehouse_id]

    # -- sessions ---------------------------------------------------------------------------
    def create_session(self, warehouse_id: str, catalog: str | None, schema: str | None) -> Session:
        self._running(warehouse_id)
        ctx = Context()
        if catalog:
            ctx.catalog = catalog.lower()
        if schema:
            ctx.schema = schema.lower()
        session = Session(self._ws.ids.uuid(), warehouse_id, ctx)
        self._sessions[session.id] = session
        return session

    def get_session(self, session_id: str) -> Session:
        session = self._sessions.get(session_id)
        if session is None:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"Session {session_id} does not exist.", 404)
        return session

    def delete_session(self, session_id: str) -> None:
        self.get_session(session_id)
        del self._sessions[session_id]

    # -- statements -------------------------------------------------------------------------
    def execute(self, text: str, warehouse_id: str, *, wait_timeout: str | None = None,
                disposition: str | None = None, format: str | None = None, row_limit: int | None = None,
                byte_limit: int | None = None,
                catalog: str | None = None, schema: str | None = None,
                parameters: list[tuple[str, str | None, str | None]] | None = None,
                session_id: str | None = None, on_wait_timeout: str | None = None) -> Statement:
        """Submit a statement and wait for it as ``wait_timeout`` says (see the module
        docstring); with ``"0s"`` it is left PENDING for polling. Waits without the lock."""
        with self._ws.lock:
            st = self._submit(text, warehouse_id, wait_timeout=wait_timeout, disposition=disposition,
                              format=format, row_limit=row_limit, byte_limit=byte_limit, catalog=catalog,
                              schema=schema, parameters=parameters, session_id=session_id,
                              on_wait_timeout=on_wait_timeout)
            run = self._runs.get(st.id)
        if run is None:
            return st
        seconds = int(wait_timeout[:-1]) if wait_timeout else DEFAULT_WAIT_SECONDS
        self._wait(run, seconds)
        with self._ws.lock:
            if st.state == "RUNNING" and (on_wait_timeout or "CONTINUE").upper() == "CANCEL":
                self._stop(st, "CANCELED")
        return st

    def _submit(self, text: str, warehouse_id: str, *, wait_timeout: str | None, disposition: str | None,
                format: str | None, row_limit: int | None, byte_limit: int | None, catalog: str | None,
                schema: str | None, parameters: list[tuple[str, str | None, str | None]] | None,
                session_id: str | None, on_wait_timeout: str | None) -> Statement:
        disposition, format = _check_request(text, wait_timeout, disposition, format, row_limit, on_wait_timeout)
        if byte_limit is not None and byte_limit < 0:
            raise invalid("byte_limit must be a non-negative integer.")
        reason = missing_engine()
        if reason is None and format == "ARROW_STREAM":
            error = extras.missing("sql-arrow", "Arrow results (format ARROW_STREAM)")
            reason = None if error is None else str(error)
        if reason is not None:
            raise ApiError("NOT_IMPLEMENTED", f"SQL statements need the SQL engine: {reason}.", 501)
        ctx = self.get_session(session_id).context if session_id else Context()
        if catalog or schema:  # per-statement defaults leave the session's own unchanged
            ctx = Context((catalog or ctx.catalog).lower(), (schema or ctx.schema).lower())
        self._running(warehouse_id)
        st = Statement(self._ws.ids.uuid(), warehouse_id, text, disposition, format, ctx, list(parameters or []),
                       row_limit, byte_limit, chunk_rows=self.chunk_rows, session_id=session_id)
        self.statements[st.id] = st
        while len(self.statements) > MAX_STATEMENTS:
            oldest = next(iter(self.statements))
            self.close(oldest)
            del self.statements[oldest]
        if wait_timeout != "0s":
            self._start(st)
        return st

    def get_statement(self, statement_id: str) -> Statement:
        st = self.statements.get(statement_id)
        if st is None:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"Statement {statement_id} does not exist.", 404)
        return st

    def poll(self, statement_id: str) -> Statement:
        """A poll: the first one starts a PENDING statement; a RUNNING one is waited for up to
        :data:`POLL_WAIT_SECONDS` (without the lock)."""
        with self._ws.lock:
            st = self.get_statement(statement_id)
            if st.state == "PENDING" or (st.state == "RUNNING" and st.id not in self._runs):
                self._start(st)  # (a RUNNING statement without a run was restored from a snapshot)
                return st
            run = self._runs.get(st.id) if st.state == "RUNNING" else None
        if run is not None:
            self._wait(run, POLL_WAIT_SECONDS)
        return st

    def cancel(self, statement_id: str) -> None:
        with self._ws.lock:
            st = self.get_statement(statement_id)
            if st.state in ("PENDING", "RUNNING"):
                self._stop(st, "CANCELED")

    def close(self, statement_id: str) -> None:
        with self._ws.lock:
            st = self.get_statement(statement_id)
            if st.state in ("PENDING", "RUNNING"):
                self._stop(st, "CLOSED")
            st.state = "CLOSED" if st.state == "SUCCEEDED" else st.state
            st.result = None
        for index in list(st.links):
            self._ws.storage.delete("sql", chunk_path(st.id, index))
        st.links.clear()

    def require_result(self, statement_id: str, chunk_index: int) -> Statement:
        st = self.get_statement(statement_id)
        if st.state != "SUCCEEDED":
            raise invalid(f"Statement {statement_id} is in state {st.state}: it has no result.")
        if not 0 <= chunk_index < len(st.chunk_bounds()):
            raise invalid(f"Invalid chunk index {chunk_index}: the result has {len(st.chunk_bounds())} chunks.")
        return st

    # -- running statements -----------------------------------------------------------------
    def _start(self, st: Statement) -> None:
        """RUNNING from now on: the statement's thread plans, runs and finishes it."""
        st.state = "RUNNING"
        self._runs[st.id] = self._runner.submit(lambda run: self._job(st, run))

    def _stop(self, st: Statement, state: str) -> None:
        """Cancel or close a PENDING/RUNNING statement (caller holds the lock): its run is
        interrupted and whatever it computed is dropped."""
        st.state = state
        run = self._runs.pop(st.id, None)
        if run is not None:
            run.cancel()

    def _wait(self, run: Run, seconds: float) -> None:
        if self._holds_lock():  # a Python caller inside ``with ws.lock``: the run needs the lock
            return
        run.wait(seconds)

    def _job(self, st: Statement, run: Run) -> None:
        """A statement's thread: the engine's three steps; the outcome lands under the lock
        unless the statement was canceled or closed meanwhile."""
        ws = self._ws
        error: SqlError | None = None
        try:
            prepared = self.engine.prepare(st.text, st.context, st.parameters)
            output = self.engine.run(prepared, run)
            with ws.lock:
                if st.state == "RUNNING" and not run.canceled:
                    self._succeeded(st, self.engine.finish(prepared, output))
        except Canceled:
            pass
        except SqlError as e:
            error = e
        except Exception as e:  # a bug in mlemu: recorded for the fixture, reported as Databricks would
            with ws.lock:
                ws.internal_errors.append(traceback.format_exc())
            error = SqlError("INTERNAL_ERROR", "XX000", f"mlemu internal error: {type(e).__name__}: {e}")
        with ws.lock:
            if error is not None and st.state == "RUNNING" and not run.canceled:
                st.state, st.error = "FAILED", error
            if self._runs.get(st.id) is run:
                del self._runs[st.id]

    def _succeeded(self, st: Statement, result: QueryResult) -> None:
        if st.row_limit is not None and len(result.rows) > st.row_limit:
            result.rows = result.rows[: st.row_limit]
            st.truncated = True
        if st.byte_limit is not None:
            kept = _rows_within(result.rows, st.byte_limit)
            if kept < len(result.rows):
                result.rows = result.rows[:kept]
                st.truncated = True
        st.result, st.state = result, "SUCCEEDED"

    def _running(self, warehouse_id: str) -> Warehouse:
        """The warehouse a statement runs on; a stopped one starts (Databricks starts it too)."""
        wh = self.get_warehouse(warehouse_id)
        wh.state = "RUNNING"
        return wh


def _rows_within(rows: list[tuple[Any, ...]], byte_limit: int) -> int:
    """How many leading rows fit in ``byte_limit`` bytes, counted as JSON_ARRAY text [emu:
    Databricks counts its internal representation]."""
    import json

    from mlemu.server.services.sql.types import value_text

    total = 0
    for n, row in enumerate(rows):
        total += len(json.dumps([value_text(v) for v in row], separators=(",", ":")).encode())
        if total > byte_limit:
            return n
    return len(rows)


def chunk_path(statement_id: str, index: int) -> str:
    """Where an EXTERNAL_LINKS chunk's bytes live (storage namespace ``sql``)."""
    return f"/results/{statement_id}/{index}"


def _check_warehouse_fields(fields: dict[str, Any]) -> None:
    stop = fields.get("auto_stop_mins")
    if stop is not None and stop != 0 and stop < 10:
        raise invalid("auto_stop_mins must be 0 or at least 10 minutes.")
    lo, hi = fields.get("min_num_clusters"), fields.get("max_num_clusters")
    if lo is not None and lo < 1:
        raise invalid("min_num_clusters must be at least 1.")
    if hi is not None and not 1 <= hi <= 40:
        raise invalid("max_num_clusters must be between 1 and 40.")
    if lo is not None and hi is not None and lo > hi:
        raise invalid("min_num_clusters must be less than or equal to max_num_clusters.")


def _check_request(text: str, wait_timeout: str | None, disposition: str | None, format: str | None,
                   row_limit: int | None, on_wait_timeout: str | None) -> tuple[str, str]:
    """Validate a statement request (400 before anything runs); the effective disposition and format."""
    if not text or not text.strip():
        raise invalid("statement must be a non-empty SQL string.")
    if wait_timeout is not None:
        m = _WAIT.match(wait_timeout)
        seconds = int(m.group(1)) if m else -1
        if not (seconds == 0 or 5 <= seconds <= 50):
            raise invalid("wait_timeout must be 0s or between 5s and 50s")
    fmt = (format or "JSON_ARRAY").upper()
    if fmt not in FORMATS:
        raise invalid(f"format must be one of {', '.join(FORMATS)}, not {format}.")
    disp = (disposition or "INLINE").upper()
    if disp not in DISPOSITIONS and disp != "HYBRID":
        raise invalid(f"disposition must be one of {', '.join(DISPOSITIONS)}, not {disposition}.")
    if disp in ("INLINE_OR_EXTERNAL_LINKS", "HYBRID"):
        disp = "INLINE" if fmt == "JSON_ARRAY" else "EXTERNAL_LINKS"
    if disp == "INLINE" and fmt != "JSON_ARRAY":
        raise invalid("INLINE disposition is only supported with JSON_ARRAY format")
    if row_limit is not None and row_limit < 0:
        raise invalid("row_limit must be a non-negative integer.")
    if on_wait_timeout is not None and on_wait_timeout.upper() not in ("CONTINUE", "CANCEL"):
        raise invalid("on_wait_timeout must be CONTINUE or CANCEL.")
    return disp, fmt
