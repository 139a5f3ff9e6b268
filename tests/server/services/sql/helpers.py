"""Helpers of the SQL tests: run a statement with the real SDK and read every chunk; compare
JSON_ARRAY strings with values computed by hand (pandas)."""
from __future__ import annotations

import json
import math
from typing import Any

import pytest


def require_engine() -> None:
    """Skip the calling test module when the optional SQL engine (mlemu[sql]) is absent."""
    pytest.importorskip("duckdb", reason="the SQL engine needs the optional extra mlemu[sql] (duckdb)")
    pytest.importorskip("sqlglot", reason="the SQL engine needs the optional extra mlemu[sql] (sqlglot)")


def run(w, warehouse_id: str, statement: str, **kw: Any):
    """The SDK's StatementResponse (state checked by the caller)."""
    kw.setdefault("wait_timeout", "30s")
    return w.statement_execution.execute_statement(statement, warehouse_id, **kw)


def rows(w, warehouse_id: str, statement: str, **kw: Any) -> list[list[str | None]]:
    """All rows of a statement that must succeed, following ``next_chunk_index``."""
    r = run(w, warehouse_id, statement, **kw)
    assert r.status.state.value == "SUCCEEDED", r.status
    out = list(r.result.data_array or [])
    index = r.result.next_chunk_index
    while index is not None:
        chunk = w.statement_execution.get_statement_result_chunk_n(r.statement_id, index)
        out.extend(chunk.data_array or [])
        index = chunk.next_chunk_index
    return out


def same(actual: list[list[str | None]], expected: list[list[Any]]) -> None:
    """JSON_ARRAY cells equal hand-computed Python values (floats to 1e-9 relative)."""
    assert len(actual) == len(expected), (actual, expected)
    for got_row, want_row in zip(actual, expected):
        assert len(got_row) == len(want_row), (got_row, want_row)
        for got, want in zip(got_row, want_row):
            if want is None:
                assert got is None, (got_row, want_row)
            elif isinstance(want, bool):
                assert got == ("true" if want else "false")
            elif isinstance(want, int):
                assert got == str(want), (got_row, want_row)
            elif isinstance(want, float):
                assert got is not None and math.isclose(float(got), want, rel_tol=1e-9, abs_tol=1e-12), \
                    (got_row, want_row)
            elif isinstance(want, (list, dict)):
                assert json.loads(got) == pytest.approx(want) if isinstance(want, dict) else json.loads(got) == want
            else:
                assert got == str(want), (got_row, want_row)
