"""SQL: statement execution over Unity Catalog tables (the monitoring queries)."""
import pandas as pd
import pytest
from databricks.sdk import WorkspaceClient

pytest.importorskip("duckdb")


@pytest.fixture
def logs(mlemu):
    mlemu.unity_catalog.ensure_schema("main.serving")
    mlemu.unity_catalog.put_table("main.serving.logs", pd.DataFrame({
        "ts": pd.to_datetime(["2025-12-31 10:05", "2025-12-31 10:40", "2025-12-31 11:15"]),
        "latency_ms": [100, 300, 50], "status_code": [200, 500, 200]}))
    w = WorkspaceClient()
    return w, next(iter(w.warehouses.list())).id


@pytest.mark.parametrize("sql, expected", [
    ("SELECT COUNT(*) FROM main.serving.logs", [["3"]]),
    ("SELECT MAX(latency_ms) FROM main.serving.logs", [["300"]]),
    ("SELECT SUM(CASE WHEN status_code != 200 THEN 1 ELSE 0 END) FROM main.serving.logs", [["1"]]),
    ("SELECT status_code, COUNT(*) FROM main.serving.logs GROUP BY status_code ORDER BY status_code",
     [["200", "2"], ["500", "1"]]),
])
def test_monitoring_query(logs, sql, expected):
    w, warehouse = logs
    r = w.statement_execution.execute_statement(sql, warehouse)
    assert r.result.data_array == expected


def test_dbapi_connection(logs):
    import mlemu
    with mlemu.sql.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT AVG(latency_ms) FROM main.serving.logs")
        assert cur.fetchone()[0] == 150
