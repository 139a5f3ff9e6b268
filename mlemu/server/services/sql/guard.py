"""What SQL text may reach DuckDB: mlemu's allow-lists in front of the engine.

DuckDB is a full database with its own statements (``SET``, ``INSTALL``, ``ATTACH``, ``COPY``,
``PRAGMA``...) and functions (``query_table``, ``duckdb_views``, ``read_csv``,
``current_setting``...). A Databricks statement is checked here before it is planned:

* size and nesting: at most :data:`MAX_STATEMENT_BYTES` (the API's documented 16 MiB) and
  :data:`MAX_NESTING` levels of parentheses, brackets, ``CASE`` and prefix operators, so the
  recursive parser never runs out of stack (deeper text answers ``PARSE_SYNTAX_ERROR``);
* statement kinds (:func:`check_statement`): queries (``SELECT``, set operations, ``VALUES``,
  ``WITH``), ``USE``, ``DESCRIBE``, ``CREATE TABLE|SCHEMA``, ``INSERT``, ``DROP`` (``SHOW`` is
  answered before parsing). Any other Databricks statement is ``UNSUPPORTED_FEATURE``; ``SET``
  is ``CONFIG_NOT_AVAILABLE``; text that is not Databricks SQL (``INSTALL``, ``ATTACH``,
  ``PRAGMA``...) is ``PARSE_SYNTAX_ERROR``;
* function calls (:func:`check_calls`): only Databricks built-ins
  (:data:`~mlemu.server.services.sql.builtins.SPARK_FUNCTIONS`), and in ``FROM`` only ``range``
  and the generators (``explode``...); anything else is ``UNRESOLVED_ROUTINE`` /
  ``UNRESOLVABLE_TABLE_VALUED_FUNCTION`` as Databricks answers an unknown name.

Table names are never passed through: the engine resolves every one to a Unity Catalog table.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from mlemu.server.services.sql import errors
from mlemu.server.services.sql.builtins import SPARK_FUNCTIONS
from mlemu.server.services.sql.errors import SqlError

if TYPE_CHECKING:
    from sqlglot import exp

#: The statement API's documented limit on the statement text.
MAX_STATEMENT_BYTES = 16 * 1024 * 1024
#: [emu] Nesting levels (parentheses, brackets, CASE, chained prefix operators) a statement may use.
MAX_NESTING = 32
#: Table-valued functions a FROM clause may call (Databricks' generators and ``range``).
TABLE_FUNCTIONS = frozenset({"range", "explode", "explode_outer", "posexplode", "posexplode_outer", "inline",
                             "inline_outer", "stack"})
#: First words of Databricks SQL statements mlemu does not run (refused as unsupported, not as syntax).
DATABRICKS_STATEMENTS = frozenset({
    "ALTER", "ANALYZE", "BEGIN", "CACHE", "CALL", "CLEAR", "COMMENT", "COMMIT", "COPY", "CREATE", "DECLARE",
    "DELETE", "DESC", "DESCRIBE", "DROP", "EXECUTE", "EXPLAIN", "FSCK", "GET", "GRANT", "INSERT", "LIST", "MERGE",
    "MSCK", "OPTIMIZE", "PUT", "REFRESH", "REMOVE", "REORG", "REPAIR", "RESTORE", "REVOKE", "ROLLBACK", "SHOW",
    "SYNC", "TRUNCATE", "UNCACHE", "UNDROP", "UNSET", "UPDATE", "USE", "VACUUM"})
#: Configuration parameters a Databricks SQL warehouse lets ``SET`` change (not emulated).
WAREHOUSE_PARAMETERS = frozenset({"ANSI_MODE", "LEGACY_TIME_PARSER_POLICY", "MAX_FILE_PARTITION_BYTES",
                                  "READ_ONLY_EXTERNAL_METASTORE", "STATEMENT_TIMEOUT", "TIMEZONE",
                                  "TIME ZONE", "USE_CACHED_RESULT"})


def nesting_error(depth: int) -> SqlError:
    return errors.parse_error(f"the statement nests {depth} levels deep, more than mlemu's limit of {MAX_NESTING} "
                              "(parentheses, brackets, CASE and chained prefix operators)")


def check_text(text: str) -> None:
    """Size and nesting, before the (recursive) parser sees the text."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_STATEMENT_BYTES:
        raise SqlError("INVALID_PARAMETER_VALUE", "22023",
                       f"The statement is larger than the maximum of {MAX_STATEMENT_BYTES} bytes (16 MiB).")
    import sqlglot
    from sqlglot.errors import TokenError
    from sqlglot.tokens import TokenType

    opening = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE, TokenType.CASE}
    closing = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE, TokenType.END}
    prefix = {TokenType.NOT, TokenType.DASH, TokenType.PLUS, TokenType.TILDE, TokenType.EXCLAMATION}
    try:
        tokens = sqlglot.tokenize(text, read="databricks")
    except TokenError as e:
        raise errors.parse_error(str(e).split("\n")[0]) from None
    depth = run = 0
    for token in tokens:
        kind = token.token_type
        if kind in opening:
            depth += 1
        elif kind in closing:
            depth = max(depth - 1, 0)
        run = run + 1 if kind in prefix else 0
        if depth + run > MAX_NESTING:
            raise nesting_error(depth + run)


def parse(text: str) -> "exp.Expression":
    """The one statement of ``text`` (checked with :func:`check_text` first)."""
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    check_text(text)
    try:
        trees = [t for t in sqlglot.parse(text, read="databricks") if t is not None]
    except (ParseError, TokenError) as e:
        raise errors.parse_error(str(e).split("\n")[0]) from None
    except RecursionError:  # nesting the token count above does not see (e.g. long a.b.c.d chains)
        raise errors.parse_error("the statement is nested too deeply for mlemu's parser") from None
    if len(trees) != 1:
        raise errors.parse_error("exactly one statement is expected" if trees else "empty statement")
    return trees[0]


def check_statement(tree: "exp.Expression", text: str) -> None:
    """Refuse every statement kind the engine does not answer (see the module docstring)."""
    from sqlglot import exp

    if isinstance(tree, (exp.Query, exp.Values, exp.Use)):
        return
    if isinstance(tree, exp.Insert) and isinstance(tree.this, (exp.Table, exp.Schema)) \
            and isinstance(tree.args.get("expression"), (exp.Query, exp.Values)):
        return
    if isinstance(tree, exp.Describe) and isinstance(tree.this, (exp.Table, exp.Schema, exp.Query)):
        kind = str(tree.args.get("kind") or "").upper()
        if kind in ("", "TABLE") and str(tree.args.get("style") or "").upper() in ("", "EXTENDED", "FORMATTED"):
            return  # (EXTENDED / FORMATTED answer the columns only [emu])
    if isinstance(tree, exp.Create) and str(tree.args.get("kind") or "").upper() in ("TABLE", "SCHEMA", "DATABASE"):
        if not _temporary(tree):
            return
    if isinstance(tree, exp.Drop) and str(tree.args.get("kind") or "").upper() in ("TABLE", "VIEW"):
        return
    first = (text.split() or [""])[0].upper().rstrip("(;")
    if isinstance(tree, exp.Set) or first in ("SET", "RESET"):
        raise config_not_available(text)
    if first in DATABRICKS_STATEMENTS or first in ("SELECT", "WITH", "VALUES", "FROM", "TABLE"):
        raise SqlError("UNSUPPORTED_FEATURE", "0A000", f"The statement `{_head(text)}` is not supported by "
                                                       "mlemu's SQL engine.")
    raise errors.syntax_error_near(first or text[:20])


def _temporary(tree: "exp.Expression") -> bool:
    from sqlglot import exp

    props = tree.args.get("properties")
    return bool(props and any(isinstance(p, exp.TemporaryProperty) for p in props.expressions))


def _head(text: str) -> str:
    words = text.split()
    return " ".join(words[:2]).upper() if len(words) > 1 and words[0].upper() in ("CREATE", "DROP", "ALTER") \
        else (words[0].upper() if words else "")


def config_not_available(text: str) -> SqlError:
    words = text.split(None, 1)
    key = words[1].split("=")[0].strip().strip("`") if len(words) > 1 else ""
    if not key:
        return SqlError("UNSUPPORTED_FEATURE", "0A000", "Listing configuration parameters (`SET`) is not supported by "
                                                        "mlemu's SQL engine.")
    if key.upper() in WAREHOUSE_PARAMETERS:
        return SqlError("UNSUPPORTED_FEATURE", "0A000", f"Setting the configuration parameter {key.upper()} is not "
                                                        "supported by mlemu's SQL engine.")
    return SqlError("CONFIG_NOT_AVAILABLE", "42K0I", f"Configuration {key} is not available.")


@functools.lru_cache(maxsize=1)
def builtin_types() -> frozenset[type]:
    """The sqlglot node types a call to a Databricks built-in parses into (from the Databricks
    parser's own function table), plus the special forms with their own syntax."""
    from sqlglot import exp
    from sqlglot.dialects.databricks import Databricks

    types: set[type] = {exp.Cast, exp.TryCast, exp.Case, exp.If, exp.Extract, exp.Trim, exp.Substring,
                        exp.CurrentDate, exp.CurrentTimestamp, exp.CurrentUser, exp.JSONExtract,
                        exp.JSONExtractScalar, exp.Anonymous, exp.Count, exp.ApproxQuantile, exp.Quantile,
                        exp.StrPosition, exp.Overlay, exp.Decode, exp.GroupConcat, exp.ArgMax, exp.ArgMin,
                        exp.Initcap, exp.Chr, exp.Ceil, exp.Floor, exp.Explode, exp.Posexplode, exp.Inline,
                        exp.Unnest, exp.Array, exp.Struct, exp.Map, exp.VarMap, exp.Lambda}
    dialect = Databricks()
    dummy = [exp.column("a"), exp.column("b"), exp.column("c")]
    for name, builder in Databricks.Parser.FUNCTIONS.items():
        if name.lower() not in SPARK_FUNCTIONS:
            continue
        owner = getattr(builder, "__self__", None)
        if isinstance(owner, type) and issubclass(owner, exp.Expression):
            types.add(owner)
        for n in (3, 2, 1, 0):
            try:
                try:
                    node = builder(list(dummy[:n]), dialect=dialect)
                except TypeError:
                    node = builder(list(dummy[:n]))
            except Exception:  # noqa: BLE001 - this arity is not the builder's: try the next
                continue
            types.update(type(n) for n in node.walk())  # builders may wrap (date_format: TimeToStr(StrToTime))
            break
    return frozenset(t for t in types if isinstance(t, type))


def check_calls(tree: "exp.Expression") -> None:
    """Every function call is a Databricks built-in; FROM calls only ``range`` and generators."""
    from sqlglot import exp

    allowed = builtin_types()
    for node in tree.walk():
        if isinstance(node, exp.Table) and not isinstance(node.this, exp.Identifier):
            name = _call_name(node.this)
            if name not in TABLE_FUNCTIONS:
                raise SqlError("UNRESOLVABLE_TABLE_VALUED_FUNCTION", "42883",
                               f"Could not resolve `{name}` to a table-valued function. Please make sure that "
                               f"`{name}` is defined as a table-valued function and that all required parameters "
                               "are provided correctly.")
        elif isinstance(node, exp.Anonymous):
            if node.name.lower() not in SPARK_FUNCTIONS:
                raise errors.unresolved_routine(node.name)
        elif isinstance(node, exp.Func) and type(node) not in allowed:
            raise errors.unresolved_routine(_call_name(node))


def _call_name(node: "exp.Expression") -> str:
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return node.sql("databricks")[:40]
