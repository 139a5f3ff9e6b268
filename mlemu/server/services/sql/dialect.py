"""Databricks SQL -> DuckDB: sqlglot's transpiler plus the syntax-tree rewrites that make
DuckDB answer what Databricks answers (measured against Spark in the SQL research report).

* three-level table names -> the zero-copy views the engine registers (``resolve``); DuckDB
  cannot attach a catalog called ``main``, so names are never attached as catalogs;
* ``col:path`` (variant extraction on a JSON string) -> ``->>`` (text, not quoted JSON);
* ``from_json(x, 'DDL')`` -> ``json_transform`` with the DDL as a JSON structure;
  malformed JSON is NULL as in Spark (``TRY``);
* ``percentile`` -> ``quantile_cont`` (sqlglot's ``QUANTILE`` is discrete) and
  ``percentile_approx`` -> ``quantile_disc`` (Spark's exact nearest rank on small data);
* ``current_date()`` / ``current_timestamp()`` -> literals from the workspace clock;
* ``rank``/``dense_rank``/``row_number``/``size``/``datediff``/``length`` -> INT as in Spark;
* ``:name`` parameter markers -> typed literals;
* ``TIMESTAMP`` (Spark's local-time-zone timestamp, session time zone UTC) -> DuckDB's naive
  ``TIMESTAMP``, as UC tables hold naive UTC times; ``current_user()`` -> the workspace user;
* ``current_catalog()`` / ``current_schema()`` (``current_database()``) -> the session's, and
  ``current_timezone()`` -> ``UTC`` (DuckDB would name its own catalog and settings).
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Callable

from sqlglot import exp

_INT_RESULT = (exp.ArraySize, exp.DateDiff, exp.Length)
_INT_WINDOWS = (exp.Rank, exp.DenseRank, exp.RowNumber, exp.Ntile)


def cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def rewrite(tree: exp.Expression, *, resolve: Callable[[exp.Table], str], now_ms: int,
            parameters: dict[str, exp.Expression], on_unbound: Callable[[str], Exception],
            user: str = "", catalog: str = "main", schema: str = "default") -> exp.Expression:
    """A copy of ``tree`` (parsed as Databricks SQL) that DuckDB answers as Databricks would."""
    ctes = cte_names(tree)
    now = dt.datetime.fromtimestamp(now_ms / 1000, tz=dt.timezone.utc).replace(tzinfo=None)

    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
            if not node.args.get("db") and node.name.lower() in ctes:
                return node
            alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name))
            return exp.Table(this=exp.to_identifier(resolve(node), quoted=True), alias=alias)
        if isinstance(node, exp.JSONExtract) and node.args.get("variant_extract"):
            return exp.JSONExtractScalar(this=node.this, expression=node.expression)
        if isinstance(node, exp.ApproxQuantile):  # a subclass of Quantile: test it first
            return exp.Anonymous(this="QUANTILE_DISC", expressions=[node.this, node.args["quantile"]])
        if isinstance(node, exp.Quantile):
            return exp.Anonymous(this="QUANTILE_CONT", expressions=[node.this, node.args["quantile"]])
        if isinstance(node, exp.CurrentDate):
            return exp.cast(exp.Literal.string(now.date().isoformat()), "DATE")
        if isinstance(node, exp.CurrentTimestamp):
            return exp.cast(exp.Literal.string(now.isoformat(sep=" ")), "TIMESTAMP")
        if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.TIMESTAMPTZ:
            return exp.DataType.build("TIMESTAMP")  # the session time zone is UTC: naive UTC values
        if isinstance(node, (exp.CurrentUser, exp.SessionUser)) or (
                isinstance(node, exp.Anonymous) and node.name.lower() == "user"):
            return exp.Literal.string(user)
        if isinstance(node, exp.CurrentCatalog):
            return exp.Literal.string(catalog)
        if isinstance(node, (exp.CurrentSchema, exp.CurrentDatabase)):
            return exp.Literal.string(schema)
        if isinstance(node, exp.CurrentTimezone):
            return exp.Literal.string("UTC")
        if isinstance(node, exp.ApproxDistinct):  # Spark's HLL++ is exact on small data; DuckDB's HLL is not
            return exp.Count(this=exp.Distinct(expressions=[node.this]))
        if isinstance(node, exp.Placeholder) and node.name:
            if node.name not in parameters:
                raise on_unbound(node.name)
            return parameters[node.name].copy()
        return node

    def retype(node: exp.Expression) -> exp.Expression:
        # A second pass: sqlglot's transform does not descend into a node a rewrite wrapped.
        if isinstance(node, _INT_RESULT) or (isinstance(node, exp.Window) and isinstance(node.this, _INT_WINDOWS)):
            if not isinstance(node.parent, exp.Cast):
                return exp.cast(node, "INT")
        if isinstance(node, exp.TsOrDsAdd) and not isinstance(node.parent, exp.Cast):
            return exp.cast(node, "DATE")  # date_add/date_sub answer a DATE in Spark
        if isinstance(node, (exp.JSONExtract, exp.JSONExtractScalar)):
            return exp.func("TRY", node)  # malformed JSON is NULL in Spark, an error in DuckDB
        if isinstance(node, exp.FromJson) or (isinstance(node, exp.Anonymous) and node.name.lower() == "from_json"):
            return _from_json(node)
        return node

    named = tree.copy()
    _name_columns(named)
    fixed = named.transform(fix, copy=False).transform(retype, copy=False)
    for div in list(fixed.find_all(exp.Div)):
        _ansi_divisor(div)
    return fixed


def _ansi_divisor(div: exp.Div) -> None:
    """``a / 0`` raises DIVIDE_BY_ZERO (ANSI mode, on by default in Databricks SQL); DuckDB
    would answer NULL or Infinity."""
    divisor = div.expression
    if isinstance(divisor, exp.Literal) and not divisor.is_string and divisor.this not in ("0", "0.0"):
        return
    raise_it = exp.func("ERROR", exp.Literal.string(DIVIDE_BY_ZERO))
    div.set("expression", exp.Case(ifs=[exp.If(this=exp.EQ(this=divisor.copy(), expression=exp.Literal.number(0)),
                                               true=raise_it)], default=divisor))


DIVIDE_BY_ZERO = ("[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and return "
                  "NULL instead. If necessary set \"ansi_mode\" to \"false\" to bypass this error. SQLSTATE: 22012")


def _name_columns(tree: exp.Expression) -> None:
    """Alias unnamed result columns with Spark's generated names (``count(1)``, ``avg(x)``)."""
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    named = []
    for e in select.expressions:
        if isinstance(e, (exp.Alias, exp.Column, exp.Star)) or e.find(exp.Explode, exp.Posexplode):
            named.append(e)
            continue
        named.append(exp.alias_(e, spark_column_name(e), quoted=True))
    select.set("expressions", named)


def spark_column_name(e: exp.Expression) -> str:
    """Spark's name for an unaliased result column (its own defaults spelled out)."""
    if isinstance(e, exp.Count) and isinstance(e.this, exp.Star):
        return "count(1)"
    if isinstance(e, exp.CurrentDate):
        return "current_date()"
    if isinstance(e, exp.CurrentTimestamp):
        return "current_timestamp()"
    text = e.sql(dialect="databricks", normalize_functions="lower")
    if isinstance(e, exp.ApproxQuantile) and not e.args.get("accuracy"):
        return text[:-1] + ", 10000)"
    if isinstance(e, exp.Quantile) and not isinstance(e, exp.ApproxQuantile):
        return text[:-1] + ", 1)"
    return text


def _from_json(node: exp.Expression) -> exp.Expression:
    args = [node.this, node.args.get("expression")] if isinstance(node, exp.FromJson) else list(node.expressions)
    source, schema = args[0], args[1] if len(args) > 1 else None
    if not isinstance(schema, exp.Literal) or not schema.is_string:
        return node
    dtype = _parse_ddl(schema.this)
    structure = json.dumps(_json_structure(dtype))
    return exp.func("TRY", exp.Anonymous(this="JSON_TRANSFORM", expressions=[source, exp.Literal.string(structure)]))


def _parse_ddl(text: str) -> exp.DataType:
    try:
        dtype = exp.DataType.build(text, dialect="databricks")
        if dtype.this in (exp.DataType.Type.ARRAY, exp.DataType.Type.STRUCT, exp.DataType.Type.MAP):
            return dtype
    except Exception:  # noqa: BLE001 - a column list ("a INT, b STRING") is tried below
        pass
    return exp.DataType.build(f"struct<{text}>", dialect="databricks")


def _json_structure(dtype: exp.DataType) -> object:
    kind = dtype.this
    if kind == exp.DataType.Type.ARRAY:
        return [_json_structure(dtype.expressions[0])]
    if kind == exp.DataType.Type.STRUCT:
        out = {}
        for field in dtype.expressions:
            out[field.name] = _json_structure(field.args["kind"])
        return out
    return dtype.sql("duckdb")


def duckdb_type(type_text: str) -> exp.DataType:
    """A Databricks SQL type as DuckDB's (TIMESTAMP stays naive: see the module docstring)."""
    dtype = exp.DataType.build(type_text, dialect="databricks")
    if dtype.this == exp.DataType.Type.TIMESTAMPTZ:
        return exp.DataType.build("TIMESTAMP")
    return dtype


def parameter_literal(value: str | None, type_name: str | None) -> exp.Expression:
    """A statement parameter (``{name, value, type}``, value always a string) as a typed literal."""
    if value is None:
        return exp.Null()
    kind = (type_name or "STRING").upper()
    if kind in ("STRING", "VARCHAR", "CHAR"):
        return exp.Literal.string(value)
    return exp.cast(exp.Literal.string(value), duckdb_type(kind))
