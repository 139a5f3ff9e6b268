"""Catalog statements answered from Unity Catalog state, not by DuckDB: ``SHOW TABLES|SCHEMAS|
CATALOGS|COLUMNS``, ``DESCRIBE``, ``USE`` and the ``information_schema`` views (a mixin of
:class:`~mlemu.server.services.sql.engine.SqlEngine`)."""
from __future__ import annotations

import fnmatch
import re
from typing import TYPE_CHECKING

from mlemu.server.services.sql import errors
from mlemu.server.services.sql.errors import SqlError
from mlemu.server.services.sql.results import BOOLEAN as _BOOLEAN
from mlemu.server.services.sql.results import DEFAULT_SCHEMA, Context, QueryResult
from mlemu.server.services.sql.results import STRING as _STRING

if TYPE_CHECKING:
    import pandas as pd
    from sqlglot import exp

    from mlemu.server.services.unity_catalog.state import Table, UnityCatalog


class CatalogStatements:
    """``SHOW``/``DESCRIBE``/``USE``/``information_schema`` over ``self._uc``."""

    _uc: "UnityCatalog"

    def _table_of(self, table: "exp.Expression", ctx: Context) -> "Table":
        raise NotImplementedError

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


def _unquote(name: str | None) -> str | None:
    return name.replace("`", "") if name else name


def _like(name: str, pattern: str | None) -> bool:
    """``SHOW ... LIKE 'a*|b*'``: ``*`` any characters, ``|`` alternatives, case-insensitive."""
    if pattern is None:
        return True
    return any(fnmatch.fnmatchcase(name.lower(), p.strip().lower()) for p in pattern.split("|"))
