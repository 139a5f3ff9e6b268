"""The real databricks-sql-connector with ``use_sea=True`` over mlemu's loopback server: SEA
sessions, INLINE JSON_ARRAY and cloud fetch (EXTERNAL_LINKS + ARROW_STREAM through pre-signed
URLs), named parameters, and a failed statement's error class. (The default Thrift protocol is
not emulated.)"""
from __future__ import annotations

import pytest

from tests.server.services.sql.conftest import PAYLOAD
from tests.server.services.sql.helpers import require_engine

require_engine()
sql = pytest.importorskip("databricks.sql", reason="databricks-sql-connector is not installed")


@pytest.fixture
def connect(mlemu, mlemu_server, warehouse_id):
    host, port = mlemu_server.url.rsplit(":", 1)

    def _connect(**kw):
        return sql.connect(server_hostname=host, port=int(port), http_path=f"/sql/1.0/warehouses/{warehouse_id}",
                           access_token=mlemu.token, use_sea=True, enable_telemetry=False, **kw)
    return _connect


@pytest.mark.parametrize("cloud_fetch", [False, True], ids=["inline", "cloud-fetch"])
def test_seed_queries_through_the_connector(mlemu, connect, inference_table, cloud_fetch):
    t = inference_table
    with connect(use_cloud_fetch=cloud_fetch) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT served_entity_id, count(*) AS n, max(request_time) AS last, "
                    f"percentile(execution_duration_ms, 0.95) AS p95 FROM {PAYLOAD} GROUP BY 1 ORDER BY 1")
        assert [d[:2] for d in cur.description] == [("served_entity_id", "string"), ("n", "bigint"),
                                                    ("last", "timestamp"), ("p95", "double")]
        got = cur.fetchall()
        expected = [(e, len(x), x.request_time.max(), float(x.execution_duration_ms.quantile(0.95)))
                    for e, x in sorted(t.groupby("served_entity_id"))]
        assert [(r[0], r[1], r[2].replace(tzinfo=None)) for r in got] == [e[:3] for e in expected]
        assert [r[3] for r in got] == pytest.approx([e[3] for e in expected])

        cur.execute(f"SELECT count(*) AS n FROM {PAYLOAD} WHERE status_code = :code", {"code": 400})
        assert cur.fetchall()[0][0] == int((t.status_code == 400).sum())

        with pytest.raises(sql.exc.ServerOperationError, match=r"\[TABLE_OR_VIEW_NOT_FOUND\]"):
            cur.execute("SELECT * FROM catalog.ml_inference.nope")
    ops = [c.operation for c in mlemu.calls]
    assert "sql.sessions.create" in ops and "sql.sessions.delete" in ops
    assert ("files.presigned.get" in ops) == cloud_fetch


def test_cloud_fetch_with_the_workspace_clock_in_the_past(mlemu, connect, inference_table):
    mlemu.clock.freeze(1_767_225_600_000)  # 2026-01-01
    with connect(use_cloud_fetch=True) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) AS n, current_date() AS today FROM {PAYLOAD}")
        assert [tuple(r) for r in cur.fetchall()] == [(len(inference_table), __import__("datetime").date(2026, 1, 1))]


def test_session_catalog_schema_and_use(mlemu, connect, inference_table):
    mlemu.unity_catalog.ensure_schema("catalog.other")
    with connect(use_cloud_fetch=False, catalog="catalog", schema="ml_inference") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM `fraud-detection-endpoint_payload`")
        assert cur.fetchone()[0] == len(inference_table)
        cur.execute("USE SCHEMA other")
        cur.execute("SHOW TABLES")
        assert cur.fetchall() == []
        with pytest.raises(sql.exc.ServerOperationError, match=r"\[TABLE_OR_VIEW_NOT_FOUND\]"):
            cur.execute("SELECT count(*) FROM `fraud-detection-endpoint_payload`")
