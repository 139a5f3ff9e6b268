"""Hostile SQL through the real SDK (issue 17, defects 4 and 9): engine settings, DuckDB's own
statements and functions, internal names and deep nesting are refused with the error class
Databricks gives (never a 500), and only emulated catalog objects are visible."""
from __future__ import annotations

import pandas as pd
import pytest

from tests.server.services.sql.helpers import require_engine, rows, run

require_engine()


def _error(w, warehouse_id, statement: str) -> str:
    r = run(w, warehouse_id, statement)
    assert r.status.state.value == "FAILED", (statement, r.status)
    return r.status.error.message


@pytest.mark.parametrize("statement", [
    "SET threads = 64", "SET memory_limit = '100GB'", "SET lock_configuration = false",
    "SET autoinstall_known_extensions = true", "SET custom_extension_repository = 'http://example.invalid'",
    "RESET threads"])
def test_engine_settings_are_refused(w, warehouse_id, statement):
    assert _error(w, warehouse_id, statement).startswith("[CONFIG_NOT_AVAILABLE] Configuration ")


@pytest.mark.parametrize("statement, error_class", [
    ("INSTALL httpfs", "PARSE_SYNTAX_ERROR"), ("LOAD httpfs", "PARSE_SYNTAX_ERROR"),
    ("ATTACH ':memory:' AS x", "PARSE_SYNTAX_ERROR"), ("PRAGMA version", "PARSE_SYNTAX_ERROR"),
    ("CHECKPOINT", "PARSE_SYNTAX_ERROR"), ("COPY (SELECT 1) TO '/tmp/mlemu-x.csv'", "UNSUPPORTED_FEATURE"),
    ("CREATE MACRO m(a) AS a", "UNSUPPORTED_FEATURE"), ("CREATE VIEW v AS SELECT 1", "UNSUPPORTED_FEATURE"),
    ("CALL p()", "UNSUPPORTED_FEATURE"), ("EXPLAIN SELECT 1", "UNSUPPORTED_FEATURE"),
    ("SELECT * FROM read_csv('/etc/passwd')", "UNRESOLVABLE_TABLE_VALUED_FUNCTION"),
    ("SELECT * FROM duckdb_views()", "UNRESOLVABLE_TABLE_VALUED_FUNCTION"),
    ("SELECT * FROM duckdb_tables()", "UNRESOLVABLE_TABLE_VALUED_FUNCTION"),
    ("SELECT current_setting('memory_limit')", "UNRESOLVED_ROUTINE"),
    ("SELECT getvariable('x')", "UNRESOLVED_ROUTINE"),
    ("SELECT * FROM pg_catalog.pg_tables", "TABLE_OR_VIEW_NOT_FOUND")])
def test_duckdb_statements_and_functions_are_refused(w, warehouse_id, statement, error_class):
    assert _error(w, warehouse_id, statement).startswith(f"[{error_class}]")


def test_internal_views_of_other_and_dropped_tables_are_invisible(mlemu, w, warehouse_id):
    mlemu.unity_catalog.put_table("main.default.secret_t", pd.DataFrame({"s": ["hush-7f3a"]}))
    assert rows(w, warehouse_id, "SELECT s FROM main.default.secret_t") == [["hush-7f3a"]]
    mlemu.unity_catalog.put_table("main.default.other", pd.DataFrame({"o": [1]}))
    run(w, warehouse_id, "DROP TABLE main.default.secret_t")
    for statement in ("SELECT * FROM query_table('uc__main__default__secret_t')",
                      "SELECT * FROM uc__main__default__secret_t", "SELECT * FROM main.default.secret_t"):
        assert "hush-7f3a" not in _error(w, warehouse_id, statement)
    assert rows(w, warehouse_id, "SELECT table_name FROM information_schema.tables") == [["other"]]
    assert rows(w, warehouse_id, "SELECT current_catalog(), current_database()") == [["main", "default"]]


@pytest.mark.parametrize("statement", [
    "SELECT " + "(" * 1000 + "1" + ")" * 1000,
    "SELECT " + "NOT " * 2000 + "true",
    "SELECT " + "(SELECT " * 300 + "1" + ")" * 300,
    "SELECT " + "ARRAY(" * 600 + "1" + ")" * 600,
    "SELECT " + "CASE WHEN true THEN " * 100 + "1" + " END" * 100,
    "SELECT - " + "- " * 100 + "1",
    "SELECT a" + ".b" * 3000 + " FROM t"])
def test_deep_nesting_is_a_syntax_error(w, warehouse_id, statement):
    assert _error(w, warehouse_id, statement).startswith("[PARSE_SYNTAX_ERROR] Syntax error")


def test_nesting_up_to_the_limit_runs(w, warehouse_id):
    from mlemu.server.services.sql.guard import MAX_NESTING

    depth = MAX_NESTING - 1  # the SELECT's own parentheses around count(...) are not used here
    assert rows(w, warehouse_id, "SELECT " + "(" * depth + "1" + ")" * depth) == [["1"]]
    assert _error(w, warehouse_id, "SELECT " + "(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1)).startswith(
        f"[PARSE_SYNTAX_ERROR] Syntax error: the statement nests {MAX_NESTING + 1} levels deep")


def test_describe_of_a_query(mlemu, w, warehouse_id):
    """``DESCRIBE [QUERY] <query>`` answers the query's columns (was a 500: AssertionError)."""
    mlemu.unity_catalog.put_table("main.default.t", pd.DataFrame({"a": [1], "b": ["x"]}))
    assert rows(w, warehouse_id, "DESCRIBE SELECT 1 AS one") == [["one", "int", None]]
    assert rows(w, warehouse_id, "DESCRIBE SELECT a, b FROM main.default.t") == [["a", "bigint", None],
                                                                                 ["b", "string", None]]
