"""The SQL engine of a workspace: Databricks SQL over its Unity Catalog tables, answered by
DuckDB (sqlglot transpiles; :mod:`.dialect` rewrites what DuckDB would answer differently).

One DuckDB connection per workspace. A UC table is registered zero-copy (its pandas frame) as
the view ``uc__<catalog>__<schema>__<table>`` when a statement first names it, and again only
after the table's frame changed. Catalog statements (``SHOW``, ``DESCRIBE``,
``information_schema``) answer from UC state; ``CREATE TABLE [AS]``, ``INSERT`` and ``DROP``
write UC tables. No HTTP here: the statement API and the DB-API adapter both call
:meth:`SqlEngine.execute`. duckdb and sqlglot are the optional extra ``mlemu[sql]``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlemu.server.services.sql import errors
from mlemu.server.services.sql.catalog import CatalogStatements
from mlemu.server.services.sql.errors import SqlError
from mlemu.server.services.sql.results import DEFAULT_CATALOG, DEFAULT_SCHEMA, Context, QueryResult
from mlemu.server.services.sql.types import spark_type
from mlemu.server.services.sql.writes import TableWrites

if TYPE_CHECKING:
    import pandas as pd
    from sqlglot import exp

    from mlemu.server.core.workspace import WorkspaceState
    from mlemu.server.services.unity_catalog.state import Table, UnityCatalog

from mlemu.server.core import extras

__all__ = ["DEFAULT_CATALOG", "DEFAULT_SCHEMA", "Context", "QueryResult", "SqlEngine", "SqlError", "missing_engine"]

_SCALAR_DECLARED = frozenset({"BOOLEAN", "BYTE", "SHORT", "INT", "LONG", "FLOAT", "DOUBLE", "STRING", "DATE",
                              "TIMESTAMP", "DECIMAL"})


def missing_engine() -> str | None:
    """Why the engine cannot run here (its optional packages, naming the extra), or None."""
    error = extras.missing("sql", "Databricks SQL in mlemu")
    return None if error is None else str(error)


class SqlEngine(CatalogStatements, TableWrites):
    """Runs one statement at a time against the workspace's UC tables (callers hold ``ws.lock``)."""

    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws
        self._con: Any = None
        self._registered: dict[str, Any] = {}

    @property
    def _uc(self) -> "UnityCatalog":
        return self._ws.unity_catalog  # type: ignore[attr-defined, no-any-return]

    @property
    def connection(self) -> Any:
        if self._con is None:
            import duckdb

            # Timestamps are naive UTC throughout (the dialect rewrites TIMESTAMPTZ away), so
            # DuckDB's time zone setting (which needs the ICU extension) never matters.
            # No files, URLs or extension downloads: a statement sees the workspace's tables only.
            self._con = duckdb.connect(":memory:", config={
                "threads": 1, "enable_external_access": False, "autoinstall_known_extensions": False})
        return self._con

    # -- entry point ------------------------------------------------------------------------
    def execute(self, statement: str, context: Context | None = None,
                parameters: list[tuple[str, str | None, str | None]] | None = None) -> QueryResult:
        """Run one statement; a failure is a :class:`SqlError` carrying the Databricks error class."""
        ctx = context or Context()
        text = statement.strip().rstrip(";").strip()
        catalog_answer = self._catalog_command(text, ctx)
        if catalog_answer is not None:
            return catalog_answer
        import sqlglot
        from sqlglot import exp
        from sqlglot.errors import ParseError, TokenError

        try:
            trees = [t for t in sqlglot.parse(text, read="databricks") if t is not None]
        except (ParseError, TokenError) as e:
            raise errors.parse_error(str(e).split("\n")[0]) from None
        if len(trees) != 1:
            raise errors.parse_error("exactly one statement is expected" if trees else "empty statement")
        tree = trees[0]
        params = self._parameters(parameters or [])
        if isinstance(tree, exp.Command):
            raise SqlError("UNSUPPORTED_FEATURE", "0A000",
                           f"The statement `{text.split()[0].upper()}` is not supported by mlemu's SQL engine.")
        if isinstance(tree, exp.Use):
            return self._use(tree, ctx)
        if isinstance(tree, exp.Describe):
            return self._describe(self._table_of(tree.this, ctx))
        if isinstance(tree, exp.Create):
            return self._create(tree, ctx, params)
        if isinstance(tree, exp.Insert):
            return self._insert(tree, ctx, params)
        if isinstance(tree, exp.Drop):
            return self._drop(tree, ctx)
        return self._query(tree, ctx, params)

    def frame(self, statement: str, context: Context | None = None,
              parameters: list[tuple[str, str | None, str | None]] | None = None) -> "pd.DataFrame":
        """The result of a statement as a pandas frame (for tests and other services)."""
        import pandas as pd

        result = self.execute(statement, context, parameters)
        return pd.DataFrame.from_records(result.rows, columns=[name for name, _ in result.columns])

    # -- queries ----------------------------------------------------------------------------
    def _duckdb_sql(self, tree: "exp.Expression", ctx: Context, params: dict[str, "exp.Expression"]) -> str:
        from mlemu.server.services.sql.dialect import rewrite

        fixed = rewrite(tree, resolve=lambda t: self._view_of(t, ctx), now_ms=self._ws.clock.now_ms(),
                        parameters=params, on_unbound=errors.unbound_parameter,
                        user=self._ws.user.user_name)
        return fixed.sql("duckdb")

    def _run(self, sql: str) -> Any:
        import duckdb

        try:
            return self.connection.execute(sql)
        except duckdb.Error as e:
            raise errors.from_duckdb(e) from None

    def _query(self, tree: "exp.Expression", ctx: Context, params: dict[str, "exp.Expression"]) -> QueryResult:
        import duckdb

        cursor = self._run(self._duckdb_sql(tree, ctx, params))
        columns = [(d[0], spark_type(d[1])) for d in (cursor.description or [])]
        try:
            rows = cursor.fetchall()
        except duckdb.Error as e:
            raise errors.from_duckdb(e) from None
        return QueryResult(columns, rows)

    def _frame(self, tree: "exp.Expression", ctx: Context, params: dict[str, "exp.Expression"]) -> "pd.DataFrame":
        import duckdb

        cursor = self._run(self._duckdb_sql(tree, ctx, params))
        try:
            return cursor.df()
        except duckdb.Error as e:
            raise errors.from_duckdb(e) from None

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
        assert isinstance(table, exp.Table)
        parts = self._parts(table, ctx)
        if not self._uc.table_exists(".".join(parts)):
            raise errors.table_not_found(parts, errors.position_of(table.this.meta))
        return self._uc.get_table(".".join(parts))

    def _view_of(self, table: "exp.Table", ctx: Context) -> str:
        """The registered view standing for a UC table (registered again if its frame changed)."""
        parts = self._parts(table, ctx)
        view = "uc__" + "__".join(parts)
        if parts[1] == "information_schema":
            frame = self._information_schema(parts[0], parts[2])
            if frame is None:
                raise errors.table_not_found(parts, errors.position_of(table.this.meta))
            declared = None
        else:
            uc_table = self._table_of(table, ctx)
            frame, declared = uc_table.frame, uc_table.declared_columns
        if self._registered.get(view) is not frame:
            import duckdb

            try:
                self._register(view, frame, declared)
            except duckdb.Error:  # a frame the declared types cannot describe: read it as it is
                self.connection.register(view, frame)
            self._registered[view] = frame
        return view

    def _register(self, view: str, frame: "pd.DataFrame", declared: list[Any] | None) -> None:
        """Register ``frame`` zero-copy; a table with a declared UC schema is seen through a view
        casting its scalar columns to the declared types (a BIGINT column stays BIGINT even when
        pandas holds it as float64)."""
        con = self.connection
        if not declared:
            con.register(view, frame)
            return
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
