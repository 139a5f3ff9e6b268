"""Databricks SQL error classes: what a failed statement reports (``[CLASS] message SQLSTATE: xxxxx``),
and the mapping from DuckDB's and sqlglot's errors to them."""
from __future__ import annotations

import re
from typing import Any


class SqlError(Exception):
    """A statement Databricks would fail, with its error class and SQLSTATE."""

    def __init__(self, error_class: str, sqlstate: str, message: str, position: str = "") -> None:
        self.error_class = error_class
        self.sqlstate = sqlstate
        self.text = message
        self.position = position
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"[{self.error_class}] {self.text} SQLSTATE: {self.sqlstate}{self.position}"


def position_of(meta: dict[str, Any]) -> str:
    """``; line 1 pos 14`` as Spark appends it (0-based position in the line)."""
    if "line" in meta and "col" in meta and "start" in meta and "end" in meta:
        width = meta["end"] - meta["start"] + 1
        return f"; line {meta['line']} pos {max(meta['col'] - width, 0)}"
    return ""


def table_not_found(parts: list[str], position: str = "") -> SqlError:
    quoted = ".".join(f"`{p}`" for p in parts)
    return SqlError(
        "TABLE_OR_VIEW_NOT_FOUND", "42P01",
        f"The table or view {quoted} cannot be found. Verify the spelling and correctness of the schema "
        "and catalog.\nIf you did not qualify the name with a schema, verify the current_schema() output, "
        "or qualify the name with the correct schema and catalog.\nTo tolerate the error on drop use "
        "DROP VIEW IF EXISTS or DROP TABLE IF EXISTS.", position)


def schema_not_found(parts: list[str]) -> SqlError:
    quoted = ".".join(f"`{p}`" for p in parts)
    return SqlError("SCHEMA_NOT_FOUND", "42704",
                    f"The schema {quoted} cannot be found. Verify the spelling and correctness of the schema "
                    "and catalog.")


def table_exists(parts: list[str]) -> SqlError:
    quoted = ".".join(f"`{p}`" for p in parts)
    return SqlError("TABLE_OR_VIEW_ALREADY_EXISTS", "42P07",
                    f"Cannot create table or view {quoted} because it already exists.\nChoose a different "
                    "name, drop the existing object first, add the IF NOT EXISTS clause to tolerate "
                    "pre-existing objects, add the OR REPLACE clause to replace the existing materialized "
                    "view, or add the OR REFRESH clause to refresh the existing streaming table.")


def unbound_parameter(name: str) -> SqlError:
    return SqlError("UNBOUND_SQL_PARAMETER", "42P02",
                    f"Found the unbound parameter: {name}. Please, fix `args` and provide a mapping of the "
                    "parameter to either a SQL literal or collection constructor functions such as `map()`, "
                    "`array()`, `struct()`.")


def parse_error(detail: str) -> SqlError:
    return SqlError("PARSE_SYNTAX_ERROR", "42601", f"Syntax error: {detail.rstrip('.')}.")


def syntax_error_near(word: str) -> SqlError:
    """Spark's words for text its parser rejects at its first token."""
    return SqlError("PARSE_SYNTAX_ERROR", "42601", f"Syntax error at or near '{word}'.")


def unresolved_routine(name: str) -> SqlError:
    return SqlError("UNRESOLVED_ROUTINE", "42883",
                    f"Cannot resolve routine `{name}` on search path [`system`.`builtin`, `system`.`session`].")


_RAISED = re.compile(r"\[([A-Z_.]+)\] (.*) SQLSTATE: (\w{5})", re.S)
_GROUP_BY = re.compile(r'column "([^"]+)" must appear in the GROUP BY clause')
_COLUMN = re.compile(r'Referenced column "([^"]+)" not found')
_CANDIDATES = re.compile(r"Candidate bindings: ([^\n]*)")
_FUNCTION = re.compile(r'(?:Scalar|Aggregate|Table) Function with name "?([\w.]+)"? does not exist')


def from_duckdb(exc: Exception) -> SqlError:
    """The Databricks error class of a DuckDB error (the DuckDB text kept for the details)."""
    text = str(exc).strip()
    kind = type(exc).__name__
    m = _RAISED.search(text)
    if m:  # an error class the dialect raised on purpose (ERROR('[CLASS] ... SQLSTATE: xxxxx'))
        return SqlError(m.group(1), m.group(3), m.group(2).strip())
    m = _GROUP_BY.search(text)
    if m:
        col = m.group(1)
        return SqlError("MISSING_AGGREGATION", "42803",
                        f'The non-aggregating expression "{col}" is based on columns which are not '
                        "participating in the GROUP BY clause.\nAdd the columns or the expression to the "
                        "GROUP BY, aggregate the expression, or use \"any_value("
                        f'{col})" if you do not care which of the values within a group is returned.')
    m = _COLUMN.search(text)
    if m:
        found = _CANDIDATES.search(text)
        candidates = found.group(1).strip() if found else ""
        suggestion = f" Did you mean one of the following? [{candidates}]." if candidates else ""
        cls = "UNRESOLVED_COLUMN.WITH_SUGGESTION" if candidates else "UNRESOLVED_COLUMN.WITHOUT_SUGGESTION"
        return SqlError(cls, "42703", f"A column, variable, or function parameter with name `{m.group(1)}` "
                                      f"cannot be resolved.{suggestion}")
    m = _FUNCTION.search(text)
    if m:
        return unresolved_routine(m.group(1))
    if kind == "PermissionException":
        return SqlError("UNSUPPORTED_FEATURE", "0A000", "mlemu's SQL engine reads only the workspace's Unity "
                                                        f"Catalog tables ({text.splitlines()[0]}).")
    if kind == "ParserException":
        return parse_error(text.split("\n")[0])
    if kind == "ConversionException":
        return SqlError("CAST_INVALID_INPUT", "22018", text.split("\n")[0])
    if kind == "OutOfRangeException":
        return SqlError("ARITHMETIC_OVERFLOW", "22003", text.split("\n")[0])
    if kind == "NotImplementedException":
        return SqlError("UNSUPPORTED_FEATURE", "0A000", text.split("\n")[0])
    if kind == "BinderException":
        return SqlError("INVALID_QUERY", "42000", text.split("\n")[0])
    return SqlError("INTERNAL_ERROR", "XX000", f"{text.splitlines()[0] if text else kind} "
                                               "[emu: DuckDB error without a mapped Databricks class]")
