"""Statements that write Unity Catalog tables: ``CREATE TABLE [AS]``, ``CREATE SCHEMA``,
``INSERT [OVERWRITE]``, ``DROP TABLE`` (a mixin of :class:`~mlemu.server.services.sql.engine.SqlEngine`).
``CREATE TABLE AS`` and ``INSERT`` are planned like queries (their rows computed by DuckDB
without the workspace lock) with a ``finish`` step that stores the rows, under the lock, with
``UnityCatalog.put_table``, so every other client (``w.tables``, the feature-store clients,
Delta history) sees them; the target is checked again at that moment. The others are answered
while planning."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mlemu.server.core.errors import ApiError
from mlemu.server.services.sql import errors
from mlemu.server.services.sql.errors import SqlError
from mlemu.server.services.sql.results import LONG as _LONG
from mlemu.server.services.sql.results import Context, Prepared, QueryResult
from mlemu.server.services.sql.types import spark_type

if TYPE_CHECKING:
    import pandas as pd
    from sqlglot import exp

    from mlemu.server.services.unity_catalog.state import Table, UnityCatalog


class TableWrites:
    """DDL and DML over ``self._uc``; queries run through the engine's ``_frame``/``_run``."""

    _uc: "UnityCatalog"

    def _query_plan(self, tree: "exp.Expression", ctx: Context, params: dict[str, "exp.Expression"],
                    as_frame: bool = False, describe: bool = False) -> "Prepared":
        raise NotImplementedError

    def _scratch(self, sql: str) -> tuple[Any, "pd.DataFrame"]:
        raise NotImplementedError

    def _parts(self, table: "exp.Table", ctx: Context) -> list[str]:
        raise NotImplementedError

    def _table_of(self, table: "exp.Expression", ctx: Context) -> "Table":
        raise NotImplementedError

    def _require_catalog(self, catalog: str) -> None:
        raise NotImplementedError

    def _require_schema(self, catalog: str, schema: str) -> None:
        raise NotImplementedError

    # -- writes to UC tables ----------------------------------------------------------------
    def _create(self, tree: "exp.Expression", ctx: Context, params: dict[str, "exp.Expression"]) -> "Prepared":
        from sqlglot import exp

        kind = str(tree.args.get("kind") or "").upper()
        if kind == "SCHEMA":
            target = tree.this
            catalog, name = (target.db or ctx.catalog).lower(), target.name.lower()
            self._require_catalog(catalog)
            if name in {s.name for s in self._uc.list_schemas(catalog)}:
                if tree.args.get("exists"):
                    return Prepared(answer=QueryResult())
                raise SqlError("SCHEMA_ALREADY_EXISTS", "42P06",
                               f"Cannot create schema `{catalog}`.`{name}` because it already exists.")
            self._uc.create_schema(catalog, name)
            return Prepared(answer=QueryResult())
        if kind != "TABLE":
            raise SqlError("UNSUPPORTED_FEATURE", "0A000", f"CREATE {kind} is not supported by mlemu's SQL engine.")
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        parts = self._parts(target, ctx)
        full = ".".join(parts)
        self._require_schema(parts[0], parts[1])
        replace, if_not_exists = bool(tree.args.get("replace")), bool(tree.args.get("exists"))
        if self._uc.table_exists(full) and not replace:
            if if_not_exists:
                return Prepared(answer=QueryResult())
            raise errors.table_exists(parts)
        query = tree.args.get("expression")
        if query is None:
            frame, columns = self._empty_frame(tree.this)
            self._put(full, frame, columns)
            return Prepared(answer=QueryResult())
        plan = self._query_plan(query, ctx, params, as_frame=True)

        def store(frame: "pd.DataFrame") -> QueryResult:
            self._require_schema(parts[0], parts[1])
            if self._uc.table_exists(full) and not replace:  # created while the query ran
                if if_not_exists:
                    return QueryResult()
                raise errors.table_exists(parts)
            self._put(full, frame, None)
            return _affected(len(frame))
        plan.finish = store
        return plan

    def _empty_frame(self, schema: "exp.Expression") -> tuple["pd.DataFrame", list[Any]]:
        """An empty frame of ``CREATE TABLE t (col type, ...)`` and its declared UC columns."""
        from sqlglot import exp

        from mlemu.server.services.unity_catalog.state import Column

        defs = [d for d in schema.expressions if isinstance(d, exp.ColumnDef)]
        select = exp.select(*[exp.cast(exp.Null(), d.args["kind"]).as_(d.name) for d in defs]).limit(0)
        description, frame = self._scratch(select.sql("duckdb"))
        types = [spark_type(d[1]) for d in description]
        columns = []
        for i, (d, t) in enumerate(zip(defs, types)):
            text = d.args["kind"].sql("databricks").lower()
            type_json = json.dumps({"name": d.name, "type": text, "nullable": True, "metadata": {}})
            columns.append(Column(d.name, t.type_name, text, type_json, i))
        return frame, columns

    def _insert(self, tree: "exp.Expression", ctx: Context, params: dict[str, "exp.Expression"]) -> "Prepared":
        from sqlglot import exp

        target = tree.this
        names = [c.name for c in target.expressions] if isinstance(target, exp.Schema) else None
        self._table_of(target, ctx)
        plan = self._query_plan(tree.args["expression"], ctx, params, as_frame=True)
        overwrite = bool(tree.args.get("overwrite"))
        plan.finish = lambda frame: self._append(self._table_of(target, ctx), frame, names, overwrite)
        return plan

    def _append(self, table: "Table", frame: "pd.DataFrame", names: list[str] | None, overwrite: bool) -> QueryResult:
        """Store the inserted rows in the table as it is now (under the lock)."""
        import pandas as pd

        existing = table.frame
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
        combined = frame if overwrite or existing.empty else pd.concat(
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



def _affected(n: int) -> QueryResult:
    return QueryResult([("num_affected_rows", _LONG), ("num_inserted_rows", _LONG)], [(n, n)])


def _quoted(table: "Table") -> str:
    return f"`{table.catalog}`.`{table.schema}`.`{table.name}`"
