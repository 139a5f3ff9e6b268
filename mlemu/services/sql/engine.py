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

import fnmatch
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlemu.core.errors import ApiError
from mlemu.services.sql import errors
from mlemu.services.sql.errors import SqlError
from mlemu.services.sql.types import SparkType, spark_type

if TYPE_CHECKING:
    import pandas as pd
    from sqlglot import exp

    from mlemu.core.workspace import WorkspaceState
    from mlemu.services.unity_catalog.state import Table, UnityCatalog

DEFAULT_CATALOG = "main"
DEFAULT_SCHEMA = "default"
_STRING = SparkType("STRING", "STRING")
_LONG = SparkType("LONG", "BIGINT")
_BOOLEAN = SparkType("BOOLEAN", "BOOLEAN")
_SCALAR_DECLARED = frozenset({"BOOLEAN", "BYTE", "SHORT", "INT", "LONG", "FLOAT", "DOUBLE", "STRING", "DATE",
                              "TIMESTAMP", "DECIMAL"})


def missing_engine() -> str | None:
    """Why the engine cannot run here (its optional packages), or None."""
    for module in ("duckdb", "sqlglot"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed: install the extra mlemu[sql]"
    return None


@dataclass
class Context:
    """The current catalog and schema of a session (``USE CATALOG`` / ``USE SCHEMA`` change them)."""

    catalog: str = DEFAULT_CATALOG
    schema: str = DEFAULT_SCHEMA


@dataclass
class QueryResult:
    """Columns (name, Spark type) and rows (tuples of Python values)."""

    columns: list[tuple[str, SparkType]] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)


class SqlEngine:
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
        from mlemu.services.sql.dialect import rewrite

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
        from mlemu.services.sql.dialect import parameter_literal

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

        from mlemu.services.sql.dialect import duckdb_type

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

    # -- catalog commands (answered from UC state) -----------------------------------------
    _SHOW = re.compile(r"^SHOW\s+(TABLES|SCHEMAS|DATABASES|CATALOGS|COLUMNS)"
                       r"(?:\s+(?:IN|FROM)\s+([\w`.\-]+))?(?:\s+(?:IN|FROM)\s+([\w`.\-]+))?"
                       r"(?:\s+(?:LIKE\s+)?'([^']*)')?$", re.I | re.S)

    def _catalog_command(self, text: str, ctx: Context) -> QueryResult | None:
        m = self._SHOW.match(text)
        if not m:
            return None
        what, where, where2, pattern = m.group(1).upper(), _unquote(m.group(2)), _unquote(m.group(3)), m.group(4)
        uc = self._uc
        if what == "CATALOGS":
            rows = [(c.name,) for c in uc.list_catalogs() if _like(c.name, pattern)]
            return QueryResult([("catalog", _STRING)], rows)
        if what in ("SCHEMAS", "DATABASES"):
            catalog = (where or ctx.catalog).lower()
            self._require_catalog(catalog)
            rows = [(s.name,) for s in uc.list_schemas(catalog) if _like(s.name, pattern)]
            return QueryResult([("databaseName", _STRING)], rows)
        if what == "COLUMNS":
            from sqlglot import exp

            name = where if where2 is None else f"{where2}.{where}"
            table = self._table_of(exp.to_table(name or ""), ctx)
            return QueryResult([("col_name", _STRING)], [(c.name,) for c in table.columns])
        parts = (where or "").split(".") if where else []
        catalog, schema = (parts if len(parts) == 2 else [ctx.catalog, parts[0] if parts else ctx.schema])
        catalog, schema = catalog.lower(), schema.lower()
        self._require_schema(catalog, schema)
        rows = [(schema, t.name, False) for t in uc.list_tables(catalog, schema) if _like(t.name, pattern)]
        return QueryResult([("database", _STRING), ("tableName", _STRING), ("isTemporary", _BOOLEAN)], rows)

    def _require_catalog(self, catalog: str) -> None:
        if catalog not in {c.name for c in self._uc.list_catalogs()}:
            raise SqlError("CATALOG_NOT_FOUND", "42704", f"The catalog `{catalog}` cannot be found. Verify the "
                                                         "spelling and correctness of the catalog.")

    def _require_schema(self, catalog: str, schema: str) -> None:
        self._require_catalog(catalog)
        if schema not in {s.name for s in self._uc.list_schemas(catalog)}:
            raise errors.schema_not_found([catalog, schema])

    def _describe(self, table: "Table") -> QueryResult:
        rows = [(c.name, c.type_text, None) for c in table.columns]
        return QueryResult([("col_name", _STRING), ("data_type", _STRING), ("comment", _STRING)], rows)

    def _use(self, tree: "exp.Expression", ctx: Context) -> QueryResult:
        kind = str(tree.args.get("kind") or "SCHEMA").upper()
        target = tree.this
        if kind == "CATALOG":
            name = target.name.lower()
            self._require_catalog(name)
            ctx.catalog, ctx.schema = name, DEFAULT_SCHEMA
        else:
            catalog = (target.db or ctx.catalog).lower()
            name = target.name.lower()
            self._require_schema(catalog, name)
            ctx.catalog, ctx.schema = catalog, name
        return QueryResult()

    def _information_schema(self, catalog: str, view: str) -> "pd.DataFrame | None":
        import pandas as pd

        uc = self._uc
        catalogs = [c.name for c in uc.list_catalogs()] if catalog == "system" else [catalog]
        schemas = [s for c in catalogs if c in {x.name for x in uc.list_catalogs()} for s in uc.list_schemas(c)]
        if view == "schemata":
            return pd.DataFrame([{"catalog_name": s.catalog, "schema_name": s.name, "schema_owner": s.owner,
                                  "comment": s.comment} for s in schemas],
                                columns=["catalog_name", "schema_name", "schema_owner", "comment"])
        tables = [t for s in schemas for t in uc.list_tables(s.catalog, s.name)]
        if view == "tables":
            cols = ["table_catalog", "table_schema", "table_name", "table_type", "table_owner", "comment",
                    "data_source_format"]
            return pd.DataFrame([(t.catalog, t.schema, t.name, t.table_type, t.owner, t.comment,
                                  t.data_source_format) for t in tables], columns=cols)
        if view == "columns":
            cols = ["table_catalog", "table_schema", "table_name", "column_name", "ordinal_position",
                    "is_nullable", "full_data_type", "data_type", "comment"]
            return pd.DataFrame([(t.catalog, t.schema, t.name, c.name, c.position + 1,
                                  "YES" if c.nullable else "NO", c.type_text, c.type_name, None)
                                 for t in tables for c in t.columns], columns=cols)
        return None

    # -- writes to UC tables ----------------------------------------------------------------
    def _create(self, tree: "exp.Expression", ctx: Context, params: dict[str, "exp.Expression"]) -> QueryResult:
        from sqlglot import exp

        kind = str(tree.args.get("kind") or "").upper()
        if kind == "SCHEMA":
            target = tree.this
            catalog, name = (target.db or ctx.catalog).lower(), target.name.lower()
            self._require_catalog(catalog)
            if name in {s.name for s in self._uc.list_schemas(catalog)}:
                if tree.args.get("exists"):
                    return QueryResult()
                raise SqlError("SCHEMA_ALREADY_EXISTS", "42P06",
                               f"Cannot create schema `{catalog}`.`{name}` because it already exists.")
            self._uc.create_schema(catalog, name)
            return QueryResult()
        if kind != "TABLE":
            raise SqlError("UNSUPPORTED_FEATURE", "0A000", f"CREATE {kind} is not supported by mlemu's SQL engine.")
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        parts = self._parts(target, ctx)
        full = ".".join(parts)
        self._require_schema(parts[0], parts[1])
        exists = self._uc.table_exists(full)
        if exists and not tree.args.get("replace"):
            if tree.args.get("exists"):
                return QueryResult()
            raise errors.table_exists(parts)
        query = tree.args.get("expression")
        if query is not None:
            frame = self._frame(query, ctx, params)
            self._put(full, frame, None)
            return _affected(len(frame))
        frame, columns = self._empty_frame(tree.this)
        self._put(full, frame, columns)
        return QueryResult()

    def _empty_frame(self, schema: "exp.Expression") -> tuple["pd.DataFrame", list[Any]]:
        """An empty frame of ``CREATE TABLE t (col type, ...)`` and its declared UC columns."""
        from sqlglot import exp

        from mlemu.services.unity_catalog.state import Column

        defs = [d for d in schema.expressions if isinstance(d, exp.ColumnDef)]
        select = exp.select(*[exp.cast(exp.Null(), d.args["kind"]).as_(d.name) for d in defs]).limit(0)
        cursor = self._run(select.sql("duckdb"))
        types = [spark_type(d[1]) for d in cursor.description]
        frame = cursor.df()
        columns = []
        for i, (d, t) in enumerate(zip(defs, types)):
            text = d.args["kind"].sql("databricks").lower()
            type_json = json.dumps({"name": d.name, "type": text, "nullable": True, "metadata": {}})
            columns.append(Column(d.name, t.type_name, text, type_json, i))
        return frame, columns

    def _insert(self, tree: "exp.Expression", ctx: Context, params: dict[str, "exp.Expression"]) -> QueryResult:
        import pandas as pd
        from sqlglot import exp

        target = tree.this
        names = [c.name for c in target.expressions] if isinstance(target, exp.Schema) else None
        table = self._table_of(target, ctx)
        existing = table.frame
        frame = self._frame(tree.args["expression"], ctx, params)
        names = names or list(existing.columns)
        if len(frame.columns) != len(names):
            raise SqlError("INSERT_COLUMN_ARITY_MISMATCH.TOO_MANY_DATA_COLUMNS"
                           if len(frame.columns) > len(names) else
                           "INSERT_COLUMN_ARITY_MISMATCH.NOT_ENOUGH_DATA_COLUMNS", "21S01",
                           f"Cannot write to {_quoted(table)}, the reason is too "
                           f"{'many' if len(frame.columns) > len(names) else 'not enough'} data columns:\n"
                           f"Table columns: {', '.join(f'`{c}`' for c in names)}.\n"
                           f"Data columns: {', '.join(f'`{c}`' for c in frame.columns)}.")
        frame.columns = names
        frame = frame.reindex(columns=list(existing.columns))
        for col in existing.columns:
            if len(existing) and frame[col].dtype != existing[col].dtype:
                try:
                    frame[col] = frame[col].astype(existing[col].dtype)
                except (TypeError, ValueError):
                    pass
        combined = frame if tree.args.get("overwrite") or existing.empty else pd.concat(
            [existing, frame], ignore_index=True)
        self._put(table.full_name, combined, None)
        return _affected(len(frame))

    def _drop(self, tree: "exp.Expression", ctx: Context) -> QueryResult:
        kind = str(tree.args.get("kind") or "").upper()
        if kind not in ("TABLE", "VIEW"):
            raise SqlError("UNSUPPORTED_FEATURE", "0A000", f"DROP {kind} is not supported by mlemu's SQL engine.")
        target = tree.this or (tree.args.get("tables") or [None])[0]
        parts = self._parts(target, ctx)
        if not self._uc.table_exists(".".join(parts)):
            if tree.args.get("exists"):
                return QueryResult()
            raise errors.table_not_found(parts, errors.position_of(target.this.meta))
        self._uc.delete_table(".".join(parts))
        return QueryResult()

    def _put(self, full: str, frame: "pd.DataFrame", columns: list[Any] | None) -> None:
        try:
            self._uc.put_table(full, frame, mode="overwrite", columns=columns)
        except ApiError as e:
            raise SqlError("INVALID_PARAMETER_VALUE", "22023", e.message) from None


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


def _affected(n: int) -> QueryResult:
    return QueryResult([("num_affected_rows", _LONG), ("num_inserted_rows", _LONG)], [(n, n)])


def _quoted(table: "Table") -> str:
    return f"`{table.catalog}`.`{table.schema}`.`{table.name}`"


def _unquote(name: str | None) -> str | None:
    return name.replace("`", "") if name else name


def _like(name: str, pattern: str | None) -> bool:
    """``SHOW ... LIKE 'a*|b*'``: ``*`` any characters, ``|`` alternatives, case-insensitive."""
    if pattern is None:
        return True
    return any(fnmatch.fnmatchcase(name.lower(), p.strip().lower()) for p in pattern.split("|"))
