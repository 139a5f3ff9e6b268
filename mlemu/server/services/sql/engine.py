"""The SQL engine of a workspace: Databricks SQL over its Unity Catalog tables, answered by
DuckDB (sqlglot transpiles; :mod:`.dialect` rewrites what DuckDB would answer differently).

A statement goes through three steps so that DuckDB never runs under the workspace lock:

1. :meth:`SqlEngine.prepare`: parse and check it (:mod:`.guard`: allow-listed statement kinds
   and functions, a nesting limit), then, under ``ws.lock``, plan it: catalog statements
   (``SHOW``, ``DESCRIBE`` of a table, ``USE``, ``CREATE SCHEMA``, ``DROP``) are answered from
   UC state at once; a query is rewritten for DuckDB over a *snapshot* of the tables it names
   (references to their pandas frames, which a write replaces and never changes);
2. :meth:`SqlEngine.run`, without the lock: a DuckDB connection of its own sees only that
   snapshot (each table registered zero-copy as ``uc__<catalog>__<schema>__<table>``) and
   answers the rows; :class:`~mlemu.server.services.sql.runner.Run` can interrupt it;
3. :meth:`SqlEngine.finish`, under the lock again: ``CREATE TABLE AS`` and ``INSERT`` write
   their rows to UC (re-checking the target), so a write is all or nothing.

One DuckDB database per workspace, created with fixed limits (:data:`MEMORY_LIMIT`,
:data:`THREADS`, no files, no extensions, configuration locked), so no statement can change
them. No HTTP here: the statement API and the DB-API adapter both use it. duckdb and sqlglot
are the optional extra ``mlemu[sql]``.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from mlemu.server.core.errors import ApiError
from mlemu.server.services.sql import errors, guard
from mlemu.server.services.sql.catalog import CatalogStatements
from mlemu.server.services.sql.errors import SqlError
from mlemu.server.services.sql.runner import Canceled, Run
from mlemu.server.services.sql.results import (DEFAULT_CATALOG, DEFAULT_SCHEMA, STRING, Context, Prepared,
                                               QueryResult, Snapshot)
from mlemu.server.services.sql.types import spark_type
from mlemu.server.services.sql.writes import TableWrites

if TYPE_CHECKING:
    import pandas as pd
    from sqlglot import exp

    from mlemu.server.core.workspace import WorkspaceState
    from mlemu.server.services.unity_catalog.state import Table, UnityCatalog

from mlemu.server.core import extras

__all__ = ["DEFAULT_CATALOG", "DEFAULT_SCHEMA", "Context", "Prepared", "QueryResult", "SqlEngine", "SqlError",
           "missing_engine"]

#: DuckDB's memory cap for all statements of a workspace together [emu]; a statement that needs
#: more fails (nothing spills to disk).
MEMORY_LIMIT = "2GB"
#: DuckDB threads per statement [emu] (with :data:`~.runner.MAX_RUNNING` statements at once).
THREADS = 1
#: Rows fetched from DuckDB between two checks for a cancel.
FETCH_ROWS = 10_000

_SCALAR_DECLARED = frozenset({"BOOLEAN", "BYTE", "SHORT", "INT", "LONG", "FLOAT", "DOUBLE", "STRING", "DATE",
                              "TIMESTAMP", "DECIMAL"})


def missing_engine() -> str | None:
    """Why the engine cannot run here (its optional packages, naming the extra), or None."""
    error = extras.missing("sql", "Databricks SQL in mlemu")
    return None if error is None else str(error)



def open_database() -> Any:
    """A DuckDB database with mlemu's fixed limits (no files, URLs, extensions or settings)."""
    import duckdb

    # Timestamps are naive UTC throughout (the dialect rewrites TIMESTAMPTZ away), so DuckDB's
    # time zone setting (which needs the ICU extension) never matters.
    db = duckdb.connect(":memory:", config={
        "temp_directory": "", "threads": THREADS, "memory_limit": MEMORY_LIMIT,
        "autoinstall_known_extensions": False, "autoload_known_extensions": False,
        "allow_community_extensions": False})
    # In this order: external access off only after the temp directory is set, then no more changes.
    db.execute("SET enable_external_access = false")
    db.execute("SET lock_configuration = true")
    return db


class SqlEngine(CatalogStatements, TableWrites):
    """Plans statements under ``ws.lock`` and runs them without it (see the module docstring)."""

    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws
        self._db: Any = None
        self._db_lock = threading.Lock()

    @property
    def _uc(self) -> "UnityCatalog":
        return self._ws.unity_catalog  # type: ignore[attr-defined, no-any-return]

    def cursor(self) -> Any:
        """A new DuckDB connection to the workspace's database: its registered views are its own."""
        with self._db_lock:
            if self._db is None:
                self._db = open_database()
            return self._db.cursor()

    # -- entry points -----------------------------------------------------------------------
    def execute(self, statement: str, context: Context | None = None,
                parameters: list[tuple[str, str | None, str | None]] | None = None,
                run: Run | None = None) -> QueryResult:
        """All three steps in the calling thread; a failure is a :class:`SqlError`."""
        prepared = self.prepare(statement, context, parameters)
        output = self.run(prepared, run)
        with self._ws.lock:
            return self.finish(prepared, output)

    def prepare(self, statement: str, context: Context | None = None,
                parameters: list[tuple[str, str | None, str | None]] | None = None) -> Prepared:
        """Check and plan one statement (takes ``ws.lock`` to read the catalog)."""
        ctx = context or Context()
        text = statement.strip().rstrip(";").strip()
        if self._SHOW.match(text):
            with self._ws.lock:
                return Prepared(answer=self._catalog_command(text, ctx))
        tree = guard.parse(text)
        guard.check_statement(tree, text)
        guard.check_calls(tree)
        params = self._parameters(parameters or [])
        try:
            with self._ws.lock:
                return self._plan(tree, ctx, params)
        except RecursionError:
            raise errors.parse_error("the statement is nested too deeply for mlemu's parser") from None

    def run(self, prepared: Prepared, run: Run | None = None) -> Any:
        """DuckDB's output for a planned statement, without the lock (raises :class:`Canceled`)."""
        import duckdb

        if prepared.sql is None:
            return prepared.answer
        con = self.cursor()
        try:
            if run is not None:
                run.attach(con)
            for view, (frame, declared) in prepared.views.items():
                self._register(con, view, frame, declared)
            cursor = con.execute(prepared.sql)
            if prepared.describe:
                return QueryResult([("col_name", STRING), ("data_type", STRING), ("comment", STRING)],
                                   [(d[0], spark_type(d[1]).type_text.lower(), None) for d in cursor.description])
            if prepared.as_frame:
                return cursor.df()
            columns = [(d[0], spark_type(d[1])) for d in (cursor.description or [])]
            rows: list[tuple[Any, ...]] = []
            while True:
                batch = cursor.fetchmany(FETCH_ROWS)
                rows.extend(batch)
                if len(batch) < FETCH_ROWS:
                    break
                if run is not None:
                    run.check()
            return QueryResult(columns, rows)
        except duckdb.InterruptException:
            raise Canceled() from None
        except duckdb.Error as e:
            if run is not None and run.canceled:
                raise Canceled() from None
            raise errors.from_duckdb(e) from None
        finally:
            if run is not None:
                run.detach()
            con.close()

    def finish(self, prepared: Prepared, output: Any) -> QueryResult:
        """The statement's answer; writes its rows to UC (the caller holds ``ws.lock``)."""
        if prepared.finish is not None:
            return prepared.finish(output)
        return output  # type: ignore[no-any-return]

    # -- planning (under the lock) ----------------------------------------------------------
    def _plan(self, tree: "exp.Expression", ctx: Context, params: dict[str, "exp.Expression"]) -> Prepared:
        from sqlglot import exp

        if isinstance(tree, exp.Use):
            return Prepared(answer=self._use(tree, ctx))
        if isinstance(tree, exp.Describe):
            if isinstance(tree.this, exp.Query):
                query = exp.select("*").from_(tree.this.subquery("q")).limit(0)
                return self._query_plan(query, ctx, params, describe=True)
            return Prepared(answer=self._describe(self._table_of(tree.this, ctx)))
        if isinstance(tree, exp.Create):
            return self._create(tree, ctx, params)
        if isinstance(tree, exp.Insert):
            return self._insert(tree, ctx, params)
        if isinstance(tree, exp.Drop):
            return Prepared(answer=self._drop(tree, ctx))
        return self._query_plan(tree, ctx, params)

    def _query_plan(self, tree: "exp.Expression", ctx: Context, params: dict[str, "exp.Expression"],
                    as_frame: bool = False, describe: bool = False) -> Prepared:
        from mlemu.server.services.sql.dialect import rewrite

        views: Snapshot = {}
        fixed = rewrite(tree, resolve=lambda t: self._snapshot_view(t, ctx, views), now_ms=self._ws.clock.now_ms(),
                        parameters=params, on_unbound=errors.unbound_parameter, user=self._ws.user.user_name,
                        catalog=ctx.catalog, schema=ctx.schema)
        return Prepared(sql=fixed.sql("duckdb"), views=views, as_frame=as_frame, describe=describe)

    def _scratch(self, sql: str) -> tuple[Any, "pd.DataFrame"]:
        """A table-free DuckDB query answered at once (typing ``CREATE TABLE`` columns): its
        description and rows."""
        import duckdb

        con = self.cursor()
        try:
            cursor = con.execute(sql)
            return cursor.description, cursor.df()
        except duckdb.Error as e:
            raise errors.from_duckdb(e) from None
        finally:
            con.close()

    @staticmethod
    def _parameters(parameters: list[tuple[str, str | None, str | None]]) -> dict[str, "exp.Expression"]:
        from mlemu.server.services.sql.dialect import parameter_literal

        return {name: parameter_literal(value, type_name) for name, value, type_name in parameters}

    # -- table names ------------------------------------------------------------------------
    def _parts(self, table: "exp.Table", ctx: Context) -> list[str]:
        catalog = table.catalog or ctx.catalog
        schema = table.db or ctx.schema
        return [catalog.lower(), schema.lower(), table.name.lower()]

    def _table_of(self, table: "exp.Expression", ctx: Context) -> "Table":
        from sqlglot import exp

        if isinstance(table, exp.Schema):
            table = table.this
        if not isinstance(table, exp.Table):
            raise errors.parse_error(f"a table name is expected, not `{table.sql('databricks')[:80]}`")
        parts = self._parts(table, ctx)
        try:
            if self._uc.table_exists(".".join(parts)):
                return self._uc.get_table(".".join(parts))
        except ApiError:  # not a UC name at all (a dot inside a quoted part, ...)
            pass
        raise errors.table_not_found(parts, errors.position_of(table.this.meta))

    def _snapshot_view(self, table: "exp.Table", ctx: Context, views: Snapshot) -> str:
        """The view name standing for a UC table in this statement, its frame kept in ``views``."""
        parts = self._parts(table, ctx)
        view = "uc__" + "__".join(parts)
        if view in views:
            return view
        if parts[1] == "information_schema":
            frame = self._information_schema(parts[0], parts[2])
            if frame is None:
                raise errors.table_not_found(parts, errors.position_of(table.this.meta))
            views[view] = (frame, None)
        else:
            uc_table = self._table_of(table, ctx)
            declared = list(uc_table.declared_columns) if uc_table.declared_columns else None
            views[view] = (uc_table.frame, declared)
        return view

    @staticmethod
    def _register(con: Any, view: str, frame: "pd.DataFrame", declared: list[Any] | None) -> None:
        """Register ``frame`` zero-copy on ``con``; a table with a declared UC schema is seen
        through a view casting its scalar columns to the declared types (a BIGINT column stays
        BIGINT even when pandas holds it as float64)."""
        import duckdb

        if not declared:
            con.register(view, frame)
            return
        try:
            _register_declared(con, view, frame, declared)
        except duckdb.Error:  # a frame the declared types cannot describe: read it as it is
            con.register(view, frame)


def _register_declared(con: Any, view: str, frame: "pd.DataFrame", declared: list[Any]) -> None:
    from sqlglot import exp

    from mlemu.server.services.sql.dialect import duckdb_type

    raw = view + "__frame"
    con.register(raw, frame)
    quoted_view = exp.to_identifier(view, quoted=True).sql("duckdb")
    quoted_raw = exp.to_identifier(raw, quoted=True).sql("duckdb")
    present = set(frame.columns)
    raw_types: dict[str, Any] | None = None
    selects = []
    for col in declared:
        name = exp.to_identifier(col.name, quoted=True).sql("duckdb")
        if col.name not in present:
            continue
        if col.type_name in _SCALAR_DECLARED:
            dtype = duckdb_type(col.type_text).sql("duckdb")
            selects.append(f"CAST({name} AS {dtype}) AS {name}")
        elif col.type_name == "MAP":
            if raw_types is None:
                cursor = con.execute(f"SELECT * FROM {quoted_raw} LIMIT 0")
                raw_types = {d[0]: d[1] for d in cursor.description}
            selects.append(f"{_as_map(name, raw_types.get(col.name))} AS {name}")
        else:
            selects.append(name)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {quoted_view} AS SELECT {', '.join(selects)} FROM {quoted_raw}")


def _as_map(name: str, duck: Any) -> str:
    """A MAP column that pandas holds as dicts, which DuckDB reads as a STRUCT of the keys seen:
    the map of the keys a row has (a Spark MAP has no entry for an absent key)."""
    kind = str(getattr(duck, "id", "")).lower()
    if kind != "struct":
        return name if kind == "map" else f"CAST({name} AS MAP(VARCHAR, VARCHAR))"
    keys = [key for key, _ in duck.children]
    if not keys:
        return "MAP()"
    entries = ", ".join("{'key': " + _sql_string(k) + ", 'value': " + f"{name}[{_sql_string(k)}]" + "}" for k in keys)
    return f"map_from_entries(list_filter([{entries}], lambda e: e.value IS NOT NULL))"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
