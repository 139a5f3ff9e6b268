"""Statement execution with the real databricks-sdk: INLINE JSON_ARRAY results (strings, Spark
types, chunks, row_limit), EXTERNAL_LINKS through pre-signed URLs, PENDING + polling, cancel,
named parameters, failed SQL (HTTP 200, FAILED, error class + SQLSTATE), bad requests (400),
catalog statements and writes to UC tables, the journal, the workspace clock."""
from __future__ import annotations

import json

import pandas as pd
import pytest
import requests
from databricks.sdk.errors import InvalidParameterValue, NotFound
from databricks.sdk.service.sql import Disposition, Format, StatementParameterListItem

from tests.sdk_features import SQL_STATE, SQL_STATE_REASON
from tests.server.services.sql.helpers import require_engine, rows, run, same

require_engine()

T = "ml.serving.scores"


@pytest.fixture
def scores(mlemu):
    mlemu.unity_catalog.ensure_schema("ml.serving")
    frame = pd.DataFrame({"id": [f"r{i:02d}" for i in range(25)], "score": [i / 4 for i in range(25)],
                          "n": list(range(25)), "ok": [i % 2 == 0 for i in range(25)],
                          "at": pd.date_range("2026-01-01", periods=25, freq="h")})
    mlemu.unity_catalog.put_table(T, frame)
    return frame


def test_inline_result_shape(w, warehouse_id, scores):
    r = run(w, warehouse_id, f"SELECT id, score, n, ok, at, sum(n) OVER () AS total, cast(score AS DECIMAL(10,2)) AS d "
                             f"FROM {T} ORDER BY id LIMIT 2")
    assert r.status.state.value == "SUCCEEDED"
    cols = r.manifest.schema.columns
    assert [(c.name, c.type_name.value, c.type_text) for c in cols] == [
        ("id", "STRING", "STRING"), ("score", "DOUBLE", "DOUBLE"), ("n", "LONG", "BIGINT"),
        ("ok", "BOOLEAN", "BOOLEAN"), ("at", "TIMESTAMP", "TIMESTAMP"), ("total", "LONG", "BIGINT"),
        ("d", "DECIMAL", "DECIMAL(10,2)")]
    assert (cols[6].type_precision, cols[6].type_scale) == (10, 2)
    assert r.result.data_array == [["r00", "0.0", "0", "true", "2026-01-01T00:00:00.000Z", "300", "0.00"],
                                   ["r01", "0.25", "1", "false", "2026-01-01T01:00:00.000Z", "300", "0.25"]]
    assert (r.manifest.total_row_count, r.manifest.total_chunk_count, r.manifest.truncated) == (2, 1, False)


def test_chunks_and_row_limit(mlemu, w, warehouse_id, scores):
    mlemu.sql.chunk_rows = 10
    r = run(w, warehouse_id, f"SELECT n FROM {T} ORDER BY n", row_limit=23)
    assert (r.manifest.total_row_count, r.manifest.total_chunk_count, r.manifest.truncated) == (23, 3, True)
    assert [(c.row_offset, c.row_count) for c in r.manifest.chunks] == [(0, 10), (10, 10), (20, 3)]
    assert r.result.next_chunk_internal_link == f"/api/2.0/sql/statements/{r.statement_id}/result/chunks/1"
    assert rows(w, warehouse_id, f"SELECT n FROM {T} ORDER BY n", row_limit=23) == [[str(i)] for i in range(23)]
    with pytest.raises(InvalidParameterValue):
        w.statement_execution.get_statement_result_chunk_n(r.statement_id, 3)
    # byte_limit: rows ["0"] .. ["9"] are 5 bytes of JSON_ARRAY text each
    r = run(w, warehouse_id, f"SELECT n FROM {T} ORDER BY n", byte_limit=30)
    assert (r.manifest.total_row_count, r.manifest.truncated) == (6, True)


@pytest.mark.parametrize("fmt", [Format.JSON_ARRAY, Format.ARROW_STREAM, Format.CSV])
def test_external_links_through_presigned_urls(mlemu, w, warehouse_id, scores, fmt):
    mlemu.sql.chunk_rows = 20
    r = run(w, warehouse_id, f"SELECT id, n FROM {T} ORDER BY n", disposition=Disposition.EXTERNAL_LINKS, format=fmt)
    links = [r.result.external_links[0],
             w.statement_execution.get_statement_result_chunk_n(r.statement_id, 1).external_links[0]]
    assert [(x.row_offset, x.row_count) for x in links] == [(0, 20), (20, 5)]
    got = []
    for link in links:
        body = requests.get(link.external_link, timeout=10)
        assert body.status_code == 200 and len(body.content) == link.byte_count
        if fmt == Format.JSON_ARRAY:
            got += json.loads(body.content)
        elif fmt == Format.CSV:
            got += [line.split(",") for line in body.text.splitlines()]
        else:
            import pyarrow as pa
            got += [[i, str(n)] for i, n in pa.ipc.open_stream(body.content).read_pandas().itertuples(index=False)]
    assert got == [[f"r{i:02d}", str(i)] for i in range(25)]


def test_inline_needs_json_array_and_wait_timeout_is_checked(w, warehouse_id, scores):
    with pytest.raises(InvalidParameterValue, match="INLINE disposition is only supported with JSON_ARRAY"):
        run(w, warehouse_id, "SELECT 1", disposition=Disposition.INLINE, format=Format.ARROW_STREAM)
    with pytest.raises(InvalidParameterValue, match="wait_timeout must be 0s or between 5s and 50s"):
        run(w, warehouse_id, "SELECT 1", wait_timeout="3s")
    with pytest.raises(NotFound):
        run(w, "0123456789abcdef", "SELECT 1")


def test_pending_polling_and_cancel(w, warehouse_id, scores):
    r = run(w, warehouse_id, f"SELECT count(*) FROM {T}", wait_timeout="0s")
    states = [r.status.state.value]
    while states[-1] in ("PENDING", "RUNNING"):
        r = w.statement_execution.get_statement(r.statement_id)
        states.append(r.status.state.value)
    assert states == ["PENDING", "RUNNING", "SUCCEEDED"]
    assert r.result.data_array == [["25"]] and r.manifest.schema.columns[0].name == "count(1)"

    c = run(w, warehouse_id, f"SELECT count(*) FROM {T}", wait_timeout="0s")
    w.statement_execution.cancel_execution(c.statement_id)
    assert w.statement_execution.get_statement(c.statement_id).status.state.value == "CANCELED"


@pytest.mark.skipif(not SQL_STATE, reason=SQL_STATE_REASON)
def test_named_parameters(w, warehouse_id, scores):
    got = rows(w, warehouse_id, f"SELECT count(*) FROM {T} WHERE n >= :lo AND at < :until AND id <> :skip",
               parameters=[StatementParameterListItem(name="lo", value="5", type="INT"),
                           StatementParameterListItem(name="until", value="2026-01-01 20:00:00", type="TIMESTAMP"),
                           StatementParameterListItem(name="skip", value="r07")])
    assert got == [[str(len(scores[(scores.n >= 5) & (scores["at"] < "2026-01-01 20:00") & (scores.id != "r07")]))]]
    r = run(w, warehouse_id, f"SELECT * FROM {T} WHERE n = :missing")
    assert (r.status.state.value, r.status.sql_state) == ("FAILED", "42P02")
    assert r.status.error.message.startswith("[UNBOUND_SQL_PARAMETER]")


@pytest.mark.skipif(not SQL_STATE, reason=SQL_STATE_REASON)
@pytest.mark.parametrize("sql, error_class, sqlstate", [
    ("SELECT * FROM ml.serving.nope", "TABLE_OR_VIEW_NOT_FOUND", "42P01"),
    (f"SELECT id, count(*) FROM {T} GROUP BY ok", "MISSING_AGGREGATION", "42803"),
    (f"SELECT scor FROM {T}", "UNRESOLVED_COLUMN.WITH_SUGGESTION", "42703"),
    (f"SELECT no_such_fn(n) FROM {T}", "UNRESOLVED_ROUTINE", "42883"),
    ("SELEC 1", "PARSE_SYNTAX_ERROR", "42601"),
])
def test_failed_sql_answers_200_with_the_error_class(mlemu, w, warehouse_id, scores, sql, error_class, sqlstate):
    r = run(w, warehouse_id, sql)
    assert r.status.state.value == "FAILED" and r.manifest is None and r.result is None
    assert r.status.sql_state == sqlstate
    assert r.status.error.error_code.value == "BAD_REQUEST"
    assert r.status.error.message.startswith(f"[{error_class}] ") and f"SQLSTATE: {sqlstate}" in r.status.error.message
    assert mlemu.calls[-1].status == 200


def test_catalog_statements_from_uc_state(mlemu, w, warehouse_id, scores):
    assert rows(w, warehouse_id, "SHOW TABLES IN ml.serving") == [["serving", "scores", "false"]]
    assert rows(w, warehouse_id, f"DESCRIBE TABLE {T}")[:2] == [["id", "string", None], ["score", "double", None]]
    assert rows(w, warehouse_id, "SELECT table_name, table_type FROM ml.information_schema.tables") == [
        ["scores", "MANAGED"]]
    assert rows(w, warehouse_id, "SELECT column_name, data_type FROM ml.information_schema.columns "
                                 "WHERE table_name = 'scores' ORDER BY ordinal_position")[:2] == [
        ["id", "STRING"], ["score", "DOUBLE"]]
    assert ["ml"] in rows(w, warehouse_id, "SHOW CATALOGS")
    assert rows(w, warehouse_id, "SELECT count(*) FROM scores", catalog="ml", schema="serving") == [["25"]]


def test_writes_land_in_unity_catalog(mlemu, w, warehouse_id, scores):
    assert rows(w, warehouse_id, f"CREATE TABLE ml.serving.top AS SELECT id, score FROM {T} WHERE n < 3") == [["3", "3"]]
    assert rows(w, warehouse_id, "INSERT INTO ml.serving.top VALUES ('x', 9.5)") == [["1", "1"]]
    assert rows(w, warehouse_id, "INSERT INTO ml.serving.top (id, score) SELECT id, score FROM ml.serving.top "
                                 "WHERE id = 'x'") == [["1", "1"]]
    frame = mlemu.unity_catalog.read_table("ml.serving.top")
    assert frame.to_dict("list") == {"id": ["r00", "r01", "r02", "x", "x"], "score": [0.0, 0.25, 0.5, 9.5, 9.5]}
    assert [c.name for c in w.tables.get("ml.serving.top").columns] == ["id", "score"]
    r = run(w, warehouse_id, "CREATE TABLE ml.serving.top AS SELECT 1 AS x")
    assert r.status.error.message.startswith("[TABLE_OR_VIEW_ALREADY_EXISTS]")
    rows(w, warehouse_id, "CREATE TABLE ml.serving.empty (id STRING, d DATE, v BIGINT)")
    assert [(c.name, c.type_text) for c in w.tables.get("ml.serving.empty").columns] == [
        ("id", "string"), ("d", "date"), ("v", "bigint")]
    rows(w, warehouse_id, "DROP TABLE ml.serving.top")
    assert not mlemu.unity_catalog.table_exists("ml.serving.top")


def test_current_date_follows_the_workspace_clock(mlemu, w, warehouse_id):
    mlemu.clock.freeze(1_767_225_600_000)  # 2026-01-01T00:00:00Z
    assert rows(w, warehouse_id, "SELECT current_date(), current_timestamp() - INTERVAL 1 HOUR") == [
        ["2026-01-01", "2025-12-31T23:00:00.000Z"]]


def test_current_date_under_freezegun(w, warehouse_id):
    freezegun = pytest.importorskip("freezegun")
    with freezegun.freeze_time("2025-06-30 12:00:00"):
        assert rows(w, warehouse_id, "SELECT current_date()") == [["2025-06-30"]]


def test_every_statement_is_journaled(mlemu, w, warehouse_id, scores):
    run(w, warehouse_id, f"SELECT count(*) FROM {T}")
    call = mlemu.calls[-1]
    assert call.operation == "sql.statements.execute"
    assert call.request["statement"] == f"SELECT count(*) FROM {T}"
    assert call.response["status"]["state"] == "SUCCEEDED"


def test_dbapi_adapter_runs_the_same_engine(mlemu, scores):
    from mlemu.standins import sql

    with sql.connect(catalog="ml", schema="serving") as conn:
        cur = conn.cursor()
        cur.execute("SELECT id, n FROM scores WHERE n < :k ORDER BY n", {"k": 2})
        assert [d[:2] for d in cur.description] == [("id", "string"), ("n", "bigint")]
        assert cur.fetchall() == [("r00", 0), ("r01", 1)]
        with pytest.raises(sql.DatabaseError) as e:
            cur.execute("SELECT * FROM nope")
        assert (e.value.error_class, e.value.sqlstate) == ("TABLE_OR_VIEW_NOT_FOUND", "42P01")
    assert [c.operation for c in mlemu.calls][-2:] == ["sql.dbapi.execute"] * 2


@pytest.mark.skipif(not SQL_STATE, reason=SQL_STATE_REASON)
def test_ansi_semantics_spark_has_and_duckdb_lacks(mlemu, w, warehouse_id):
    """Division by zero raises (ANSI mode), malformed JSON is NULL, current_user() is the workspace user."""
    mlemu.unity_catalog.put_table("main.default.j", pd.DataFrame({"a": [1, 2], "b": [0, 1],
                                                                  "j": ['{"x": 1}', "{not json"]}))
    r = run(w, warehouse_id, "SELECT a / b FROM main.default.j")
    assert (r.status.state.value, r.status.sql_state) == ("FAILED", "22012")
    assert r.status.error.message.startswith("[DIVIDE_BY_ZERO] Division by zero.")
    assert rows(w, warehouse_id, "SELECT try_divide(a, b), a / 2 FROM j ORDER BY a") == [[None, "0.5"], ["2.0", "1.0"]]
    assert rows(w, warehouse_id, "SELECT j:x, get_json_object(j, '$.x'), from_json(j, 'x INT').x FROM j ORDER BY a") \
        == [["1", "1", "1"], [None, None, None]]
    assert rows(w, warehouse_id, "SELECT current_user()") == [[mlemu.user.user_name]]


def test_statements_cannot_reach_files_outside_the_workspace(w, warehouse_id):
    r = run(w, warehouse_id, "SELECT * FROM read_csv('/etc/passwd')")
    assert r.status.state.value == "FAILED" and r.status.error.message.startswith("[UNRESOLVABLE_TABLE_VALUED_FUNCTION]")


def test_query_helper_returns_pandas(mlemu, scores):
    frame = mlemu.sql.query("SELECT ok, count(*) AS n FROM scores GROUP BY ok ORDER BY ok", catalog="ml", schema="serving")
    assert frame.to_dict("list") == {"ok": [False, True], "n": [12, 13]}


def test_old_statements_are_forgotten(mlemu, w, warehouse_id, monkeypatch):
    from mlemu.server.services.sql import state

    monkeypatch.setattr(state, "MAX_STATEMENTS", 2)
    first = run(w, warehouse_id, "SELECT 1")
    run(w, warehouse_id, "SELECT 2")
    assert w.statement_execution.get_statement(first.statement_id).status.state.value == "SUCCEEDED"
    run(w, warehouse_id, "SELECT 3")
    with pytest.raises(NotFound):
        w.statement_execution.get_statement(first.statement_id)


def test_nested_columns_of_monitor_like_tables(mlemu, w, warehouse_id):
    """Struct and array columns (a drift-metrics table's ``window``, ``ks_test``): field access,
    Spark's type text, JSON text values."""
    import datetime as dt

    mlemu.unity_catalog.ensure_schema("ml.monitoring")
    mlemu.unity_catalog.put_table("ml.monitoring.t_drift_metrics", pd.DataFrame({
        "window": [{"start": dt.datetime(2026, 1, 1), "end": dt.datetime(2026, 1, 2)}],
        "column_name": ["amount"], "ks_test": [{"statistic": 0.4, "pvalue": 0.01}], "quantiles": [[0.1, 0.5]]}))
    r = run(w, warehouse_id, "SELECT column_name, window.start, ks_test.pvalue, quantiles[1], window, quantiles "
                             "FROM ml.monitoring.t_drift_metrics WHERE ks_test.pvalue < 0.05")
    assert [(c.name, c.type_text) for c in r.manifest.schema.columns] == [
        ("column_name", "STRING"), ("start", "TIMESTAMP"), ("pvalue", "DOUBLE"), ("quantiles[1]", "DOUBLE"),
        ("window", "STRUCT<start: TIMESTAMP, end: TIMESTAMP>"), ("quantiles", "ARRAY<DOUBLE>")]
    assert r.result.data_array == [["amount", "2026-01-01T00:00:00.000Z", "0.01", "0.5",
                                    '{"start":"2026-01-01T00:00:00.000Z","end":"2026-01-02T00:00:00.000Z"}',
                                    "[0.1,0.5]"]]
