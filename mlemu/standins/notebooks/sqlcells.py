"""``%sql`` cells: run through Spark when the run has a session (the test's active one, or one
the notebook started), else through the workspace's SQL engine (:mod:`mlemu.standins.sql`,
DuckDB over the Unity Catalog tables, journalled as ``sql.dbapi.execute``).

A cell may hold several statements separated by ``;``; each runs in turn and the last one's
result is displayed and bound to ``_sqldf`` (a pandas frame from the engine, a Spark
DataFrame from Spark), as Databricks does. Widget values reach a statement as named
parameter markers (``:name``) and, the legacy way, as ``${name}`` text.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping

_MARKER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_LEGACY = re.compile(r"\$\{([A-Za-z_]\w*)\}")


def split_statements(text: str) -> list[str]:
    """The statements of a cell, split at ``;`` outside strings and comments (sqlglot's
    tokenizer when present; a cell without ``;`` is one statement either way)."""
    if ";" not in text:
        return [text.strip()] if text.strip() else []
    try:
        import sqlglot
        tokens = sqlglot.tokenize(text, read="databricks")
    except Exception:  # no sqlglot, or text it cannot tokenize: the engine will say what is wrong
        return [text.strip()]
    from sqlglot.tokens import TokenType

    out, start = [], 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            out.append(text[start:token.start].strip())
            start = token.end + 1
    out.append(text[start:].strip())
    return [s for s in out if s]


def substitute(statement: str, widgets: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The statement with ``${name}`` replaced, and the widget values its ``:name`` markers use."""
    text = _LEGACY.sub(lambda m: widgets.get(m.group(1), m.group(0)), statement)
    params = {name: widgets[name] for name in _MARKER.findall(_without_strings(text)) if name in widgets}
    return text, params


def _without_strings(text: str) -> str:
    return re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`", "''", text)


class SqlRunner:
    """Runs the ``%sql`` cells of one notebook run (one engine connection, so ``USE`` sticks)."""

    def __init__(self, workspace: Callable[[], Any], spark: Any) -> None:
        self._workspace = workspace
        self._spark = spark           # a SparkProvider
        self._connection: Any = None

    def run(self, body: str, widgets: Mapping[str, str]) -> Any:
        """Run every statement; the last one's result (None when it returns no columns)."""
        result = None
        for statement in split_statements(body):
            text, params = substitute(statement, widgets)
            result = self._spark_sql(text, params) if self._spark.started else self._engine_sql(text, params)
        return result

    def _spark_sql(self, text: str, params: dict[str, str]) -> Any:
        df = self._spark.get().sql(text, args=params) if params else self._spark.get().sql(text)
        return df if df.columns else None

    def _engine_sql(self, text: str, params: dict[str, str]) -> Any:
        if self._connection is None:
            from mlemu.standins import sql

            self._connection = sql.connect(self._workspace())
        cursor = self._connection.cursor()
        cursor.execute(text, params)
        return cursor.fetchall_pandas() if cursor.description else None
