"""A DB-API 2.0 adapter (PEP 249) over a workspace's SQL engine, for code that takes a
connection rather than a warehouse URL::

    conn = mlemu.sql.connect()                 # the active workspace (mlemu fixture / emulate())
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM main.default.t WHERE x > :x", {"x": 1})
    cur.fetchall()

It runs the same engine as ``/api/2.0/sql/statements`` (no HTTP) and journals every statement
as a ``sql.dbapi.execute`` call. The real ``databricks-sql-connector`` talks to mlemu over
the loopback server with ``use_sea=True`` instead (see docs/monitoring.md).
"""
from __future__ import annotations

import datetime as dt
import decimal
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

from mlemu.server.core.journal import Call
from mlemu.server.services.sql.engine import Context, QueryResult, missing_engine
from mlemu.server.services.sql.errors import SqlError

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

apilevel = "2.0"
threadsafety = 1
paramstyle = "named"


class Error(Exception):
    """Base of the DB-API exceptions."""


class InterfaceError(Error):
    pass


class DatabaseError(Error):
    """A statement Databricks fails: ``error_class`` and ``sqlstate`` as the warehouse reports them."""

    def __init__(self, message: str, error_class: str = "", sqlstate: str = "") -> None:
        super().__init__(message)
        self.error_class = error_class
        self.sqlstate = sqlstate


class ProgrammingError(DatabaseError):
    pass


class NotSupportedError(DatabaseError):
    pass


def connect(workspace: Any = None, *, catalog: str | None = None, schema: str | None = None) -> "Connection":
    """A connection to ``workspace`` (default: the active one), with its own current catalog/schema."""
    reason = missing_engine()
    if reason is not None:
        raise InterfaceError(reason)
    if workspace is None:
        from mlemu.server.transport import inprocess

        workspace = inprocess.current()
        if workspace is None:
            raise InterfaceError("No active mlemu workspace: pass one, or use the mlemu fixture / emulate().")
    ctx = Context()
    if catalog:
        ctx.catalog = catalog.lower()
    if schema:
        ctx.schema = schema.lower()
    return Connection(workspace, ctx)


class Connection:
    def __init__(self, ws: "WorkspaceState", context: Context) -> None:
        self._ws = ws
        self.context = context
        self.closed = False

    def cursor(self) -> "Cursor":
        self._check()
        return Cursor(self)

    def close(self) -> None:
        self.closed = True

    def commit(self) -> None:
        """Statements are auto-committed, as on a Databricks warehouse."""

    def rollback(self) -> None:
        raise NotSupportedError("Databricks SQL has no transactions to roll back.")

    def _check(self) -> None:
        if self.closed:
            raise InterfaceError("The connection is closed.")

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Cursor:
    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._result: QueryResult | None = None
        self._pos = 0
        self.closed = False

    @property
    def description(self) -> list[tuple[Any, ...]] | None:
        if self._result is None or not self._result.columns:
            return None
        return [(name, t.type_text.split("<")[0].split("(")[0].lower(), None, None, t.precision, t.scale, None)
                for name, t in self._result.columns]

    @property
    def rowcount(self) -> int:
        return -1 if self._result is None else len(self._result.rows)

    def execute(self, operation: str, parameters: Mapping[str, Any] | None = None) -> "Cursor":
        self._check()
        conn = self.connection
        params = [_parameter(k, v) for k, v in (parameters or {}).items()]
        ws = conn._ws
        try:  # on a statement thread, without the workspace lock (docs/monitoring.md)
            self._result = ws.sql.run_statement(operation, conn.context, params)  # type: ignore[attr-defined]
        except SqlError as e:
            self._result = None
            with ws.lock:
                ws.calls.record(Call("SQL", "mlemu.sql", "sql.dbapi.execute", {"statement": operation}, 400,
                                     {"error_code": e.error_class, "message": e.message}))
            raise DatabaseError(e.message, e.error_class, e.sqlstate) from None
        with ws.lock:
            ws.calls.record(Call("SQL", "mlemu.sql", "sql.dbapi.execute", {"statement": operation}, 200,
                                 {"row_count": len(self._result.rows)}))
        self._pos = 0
        return self

    def executemany(self, operation: str, seq_of_parameters: Sequence[Mapping[str, Any]]) -> None:
        for parameters in seq_of_parameters:
            self.execute(operation, parameters)

    def fetchone(self) -> tuple[Any, ...] | None:
        rows = self.fetchmany(1)
        return rows[0] if rows else None

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        rows = self._rows()
        n = self.arraysize if size is None else size
        out = rows[self._pos: self._pos + n]
        self._pos += len(out)
        return out

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows = self._rows()
        out = rows[self._pos:]
        self._pos = len(rows)
        return out

    def fetchall_pandas(self) -> Any:
        """The remaining rows as a pandas frame (column names from ``description``)."""
        import pandas as pd

        names = [d[0] for d in (self.description or [])]
        return pd.DataFrame(self.fetchall(), columns=names)

    def close(self) -> None:
        self.closed = True

    def setinputsizes(self, sizes: Any) -> None:
        pass

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        pass

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())

    def __enter__(self) -> "Cursor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _rows(self) -> list[tuple[Any, ...]]:
        if self._result is None:
            raise ProgrammingError("No result: execute a statement first.")
        return self._result.rows

    def _check(self) -> None:
        if self.closed:
            raise InterfaceError("The cursor is closed.")
        self.connection._check()


def _parameter(name: str, value: Any) -> tuple[str, str | None, str | None]:
    """A Python value as a named statement parameter (value as text, Databricks type name)."""
    if value is None:
        return name, None, None
    if isinstance(value, bool):
        return name, "true" if value else "false", "BOOLEAN"
    if isinstance(value, int):
        return name, str(value), "BIGINT"
    if isinstance(value, float):
        return name, repr(value), "DOUBLE"
    if isinstance(value, decimal.Decimal):
        return name, str(value), "DECIMAL(38,18)"
    if isinstance(value, dt.datetime):
        return name, value.isoformat(sep=" "), "TIMESTAMP"
    if isinstance(value, dt.date):
        return name, value.isoformat(), "DATE"
    return name, str(value), "STRING"
