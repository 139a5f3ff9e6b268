"""The seed's "Model Monitoring" queries and the 17 query shapes of the SQL research report
(hourly latency, JSON paths, percentiles, windows, explode, QUALIFY, CTE + join, parameters...),
run with the real databricks-sdk over an inference table written by a real serving endpoint,
each compared with the same computation done by hand in pandas."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from databricks.sdk.service.sql import StatementParameterListItem

from tests.server.services.sql.conftest import PAYLOAD
from tests.server.services.sql.helpers import require_engine, rows, run, same

require_engine()

LOGS = "catalog.schema.endpoint_inference_logs"

SEED_PERFORMANCE = f"""
SELECT
    timestamp,
    COUNT(*) as request_count,
    AVG(latency_ms) as avg_latency,
    PERCENTILE(latency_ms, 0.95) as p95_latency,
    SUM(CASE WHEN status_code != 200 THEN 1 ELSE 0 END) as errors
FROM {LOGS}
WHERE timestamp >= current_date() - INTERVAL 1 DAY
GROUP BY DATE_TRUNC('hour', timestamp)
ORDER BY timestamp;
"""

SEED_DRIFT = """
    SELECT 
        feature_name,
        AVG(current_mean - baseline_mean) as mean_drift,
        AVG(current_std - baseline_std) as std_drift
    FROM catalog.ml_inference.fraud_model_drift
    WHERE window_end >= current_date() - INTERVAL 7 DAYS
    GROUP BY feature_name
    HAVING ABS(mean_drift) > 0.1
"""


@pytest.fixture
def logs(mlemu, w, warehouse_id, inference_table):
    """The seed's ``endpoint_inference_logs`` (timestamp, latency_ms, status_code), made with CTAS."""
    mlemu.unity_catalog.ensure_schema("catalog.schema")
    out = rows(w, warehouse_id, f"CREATE TABLE {LOGS} AS SELECT request_time AS timestamp, "
                                f"execution_duration_ms AS latency_ms, status_code, served_entity_id FROM {PAYLOAD}")
    assert out == [[str(len(inference_table))] * 2]
    return inference_table.rename(columns={"request_time": "timestamp", "execution_duration_ms": "latency_ms"})


def _today() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC").normalize().tz_localize(None)


def _predictions(table: pd.DataFrame) -> pd.DataFrame:
    ok = table[table.status_code == 200].copy()
    ok["pred"] = [json.loads(r)["predictions"][0] for r in ok.response]
    return ok


# -- the seed's queries --------------------------------------------------------------------

def test_seed_performance_query_fails_like_databricks(w, warehouse_id, logs):
    """``timestamp`` is neither grouped nor aggregated: Databricks refuses the query."""
    r = run(w, warehouse_id, SEED_PERFORMANCE)
    assert r.status.state.value == "FAILED"
    assert r.status.sql_state == "42803"
    assert r.status.error.message.startswith("[MISSING_AGGREGATION]")


def test_a_seed_performance_query_with_the_hour_selected(w, warehouse_id, logs):
    fixed = SEED_PERFORMANCE.replace("    timestamp,", "    DATE_TRUNC('hour', timestamp) AS hour,") \
        .replace("ORDER BY timestamp", "ORDER BY hour")
    recent = logs[logs.timestamp >= _today() - pd.Timedelta(days=1)]
    g = recent.groupby(recent.timestamp.dt.floor("h"))
    expected = [[h.strftime("%Y-%m-%dT%H:%M:%S.000Z"), len(x), float(x.latency_ms.mean()),
                 float(x.latency_ms.quantile(0.95)), int((x.status_code != 200).sum())] for h, x in g]
    assert len(expected) == 12
    same(rows(w, warehouse_id, fixed), expected)


def test_b_seed_drift_query_with_alias_in_having(mlemu, w, warehouse_id):
    mlemu.unity_catalog.ensure_schema("catalog.ml_inference")
    today = _today()
    drift = pd.DataFrame({
        "feature_name": ["feature1", "feature1", "feature2", "feature2", "feature3", "feature3"],
        "window_end": [today - pd.Timedelta(days=d) for d in (1, 3, 1, 3, 1, 30)],
        "current_mean": [1.0, 1.2, 0.5, 0.55, 0.0, 9.0], "baseline_mean": [0.5, 0.5, 0.5, 0.5, 0.0, 0.0],
        "current_std": [1.0, 1.1, 1.0, 1.0, 1.0, 1.0], "baseline_std": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]})
    mlemu.unity_catalog.put_table("catalog.ml_inference.fraud_model_drift", drift)
    recent = drift[drift.window_end >= today - pd.Timedelta(days=7)]
    by = recent.assign(md=recent.current_mean - recent.baseline_mean,
                       sd=recent.current_std - recent.baseline_std).groupby("feature_name")[["md", "sd"]].mean()
    expected = [[f, float(r.md), float(r.sd)] for f, r in by.iterrows() if abs(r.md) > 0.1]
    assert [e[0] for e in expected] == ["feature1"]  # feature3 drifted 30 days ago only
    same(sorted(rows(w, warehouse_id, SEED_DRIFT)), expected)


# -- the report's query shapes -------------------------------------------------------------

def test_c1_colon_json_path_and_cast(w, warehouse_id, inference_table):
    ok = _predictions(inference_table).sort_values("databricks_request_id")
    got = rows(w, warehouse_id, f"SELECT databricks_request_id, response:predictions[0]::int AS pred FROM {PAYLOAD} "
                                "WHERE status_code = 200 ORDER BY databricks_request_id")
    same(got, [[i, int(p)] for i, p in zip(ok.databricks_request_id, ok.pred)])


def test_c2_get_json_object(w, warehouse_id, inference_table):
    ok = inference_table[inference_table.status_code == 200].sort_values("databricks_request_id")
    got = rows(w, warehouse_id, "SELECT get_json_object(request, '$.dataframe_records[0].feature1') AS f1, "
                                "get_json_object(request, '$.missing') AS nothing "
                                f"FROM {PAYLOAD} WHERE status_code = 200 ORDER BY databricks_request_id")
    same(got, [[float(json.loads(r)["dataframe_records"][0]["feature1"]), None] for r in ok.request])


def test_c3_from_json_with_a_ddl_schema_and_subscript(w, warehouse_id, inference_table):
    ok = _predictions(inference_table).sort_values("databricks_request_id")
    got = rows(w, warehouse_id, "SELECT from_json(response, 'struct<predictions:array<int>>').predictions[0] AS p "
                                f"FROM {PAYLOAD} WHERE status_code = 200 ORDER BY databricks_request_id")
    same(got, [[int(p)] for p in ok.pred])


def test_c4_percentiles_per_served_entity(w, warehouse_id, inference_table):
    got = rows(w, warehouse_id, "SELECT served_entity_id, percentile_approx(execution_duration_ms, 0.5) AS p50, "
                                "percentile(execution_duration_ms, 0.9) AS p90, count(*) AS n "
                                f"FROM {PAYLOAD} WHERE status_code = 200 GROUP BY served_entity_id ORDER BY 1")
    ok = inference_table[inference_table.status_code == 200]
    expected = []
    for e, x in sorted(ok.groupby("served_entity_id")):
        v = np.sort(x.execution_duration_ms.to_numpy())
        expected.append([e, int(v[math.ceil(0.5 * len(v)) - 1]), float(x.execution_duration_ms.quantile(0.9)), len(v)])
    assert len(expected) == 2
    same(got, expected)


def test_c5_hourly_error_rate_with_count_if_and_group_by_all(w, warehouse_id, inference_table):
    t = inference_table
    got = rows(w, warehouse_id, "SELECT date_trunc('HOUR', request_time) AS hour, count_if(status_code <> 200) AS "
                                "errors, count(*) AS n, count_if(status_code <> 200) / count(*) AS error_rate "
                                f"FROM {PAYLOAD} GROUP BY ALL ORDER BY hour")
    g = t.groupby(t.request_time.dt.floor("h"))
    same(got, [[h.strftime("%Y-%m-%dT%H:%M:%S.000Z"), int((x.status_code != 200).sum()), len(x),
                float((x.status_code != 200).mean())] for h, x in g])


def test_c6_window_functions(w, warehouse_id, inference_table):
    r = run(w, warehouse_id,
            "SELECT databricks_request_id, avg(execution_duration_ms) OVER (ORDER BY request_time, "
            "databricks_request_id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS rolling, "
            "lag(status_code) OVER (ORDER BY request_time, databricks_request_id) AS prev_status, "
            "rank() OVER (ORDER BY request_time) AS hour_rank "
            f"FROM {PAYLOAD} ORDER BY request_time, databricks_request_id")
    assert [c.type_name.value for c in r.manifest.schema.columns] == ["STRING", "DOUBLE", "INT", "INT"]
    t = inference_table.sort_values(["request_time", "databricks_request_id"]).reset_index(drop=True)
    rolling = t.execution_duration_ms.rolling(3, min_periods=1).mean()
    prev = t.status_code.shift(1)
    rank = t.request_time.rank(method="min").astype(int)
    same(r.result.data_array, [[i, float(a), None if pd.isna(p) else int(p), int(k)]
                               for i, a, p, k in zip(t.databricks_request_id, rolling, prev, rank)])


def test_c7_explode_from_json_records(w, warehouse_id, inference_table):
    got = rows(w, warehouse_id,
               "SELECT rec.feature1, rec.feature2 FROM (SELECT databricks_request_id, explode(from_json(request, "
               "'struct<dataframe_records:array<struct<feature1:double,feature2:double>>>').dataframe_records) "
               f"AS rec FROM {PAYLOAD} WHERE status_code = 200) ORDER BY 1, 2")
    records = [r for req in inference_table[inference_table.status_code == 200].request
               for r in json.loads(req)["dataframe_records"]]
    same(got, sorted([[r["feature1"], r["feature2"]] for r in records]))


def test_c8_named_struct_and_collect_list(w, warehouse_id, inference_table):
    got = rows(w, warehouse_id,
               "SELECT served_entity_id, named_struct('n', count(*), 'p50', percentile(execution_duration_ms, 0.5)) "
               "AS stats, sort_array(collect_list(status_code)) AS codes "
               f"FROM {PAYLOAD} GROUP BY served_entity_id ORDER BY 1")
    expected = [[e, {"n": len(x), "p50": float(x.execution_duration_ms.quantile(0.5))},
                 sorted(x.status_code.tolist())] for e, x in sorted(inference_table.groupby("served_entity_id"))]
    same(got, expected)


def test_c9_qualify_latest_request_per_entity(w, warehouse_id, inference_table):
    got = rows(w, warehouse_id, "SELECT served_entity_id, databricks_request_id FROM " + PAYLOAD +
               " QUALIFY row_number() OVER (PARTITION BY served_entity_id ORDER BY request_time DESC, "
               "databricks_request_id DESC) = 1 ORDER BY 1")
    t = inference_table.sort_values(["request_time", "databricks_request_id"])
    same(got, [[e, x.databricks_request_id.iloc[-1]] for e, x in sorted(t.groupby("served_entity_id"))])


def test_c10_lateral_view_explode(w, warehouse_id, inference_table):
    got = rows(w, warehouse_id,
               f"SELECT count(*) AS n_records FROM {PAYLOAD} LATERAL VIEW explode(from_json(request, "
               "'struct<dataframe_records:array<struct<feature1:double>>>').dataframe_records) e AS rec")
    ok = inference_table[inference_table.status_code == 200]
    same(got, [[sum(len(json.loads(r)["dataframe_records"]) for r in ok.request)]])
    codes = rows(w, warehouse_id, f"SELECT code FROM {PAYLOAD} LATERAL VIEW explode(logging_error_codes) e AS code")
    assert codes == [c for cs in inference_table.logging_error_codes for c in cs] == []


def test_c11_date_functions(mlemu, w, warehouse_id, inference_table):
    mlemu.clock.freeze(int(pd.Timestamp("2026-12-01", tz="UTC").timestamp() * 1000))
    t = inference_table.sort_values(["request_time", "databricks_request_id"]).head(5)
    got = rows(w, warehouse_id, "SELECT date_format(request_time, 'yyyy-MM-dd HH') AS hour, "
                                "datediff(current_date(), request_date) AS age, date_sub(request_date, 1) AS prev "
                                f"FROM {PAYLOAD} ORDER BY request_time, databricks_request_id LIMIT 5")
    same(got, [[ts.strftime("%Y-%m-%d %H"), (pd.Timestamp("2026-12-01").date() - d).days,
                (d - pd.Timedelta(days=1)).isoformat()] for ts, d in zip(t.request_time, t.request_date)])


def test_c12_distinct_sets_if_and_nvl(w, warehouse_id, inference_table):
    got = rows(w, warehouse_id, "SELECT approx_count_distinct(databricks_request_id) AS ids, "
                                "size(collect_set(served_entity_id)) AS entities, "
                                "sum(if(status_code = 200, 1, 0)) AS ok, count_if(nvl(client_request_id, 'none') = "
                                f"'none') AS anonymous FROM {PAYLOAD}")
    t = inference_table
    same(got, [[t.databricks_request_id.nunique(), t.served_entity_id.nunique(), int((t.status_code == 200).sum()),
                int(t.client_request_id.isna().sum())]])


def test_c13_cte_join_to_labels_and_limit(mlemu, w, warehouse_id, inference_table, champion, X):
    ok = _predictions(inference_table)
    labels = pd.DataFrame({"databricks_request_id": ok.databricks_request_id,
                           "label": [1 if i % 3 else 0 for i in range(len(ok))]})
    mlemu.unity_catalog.put_table("catalog.ml_inference.labels", labels)
    got = rows(w, warehouse_id,
               f"WITH scored AS (SELECT databricks_request_id, served_entity_id, response:predictions[0]::int AS pred "
               f"FROM {PAYLOAD} WHERE status_code = 200) "
               "SELECT s.served_entity_id, avg(if(s.pred = l.label, 1, 0)) AS accuracy, count(*) AS n "
               "FROM scored s JOIN catalog.ml_inference.labels l USING (databricks_request_id) "
               "GROUP BY s.served_entity_id ORDER BY n DESC, 1 LIMIT 1")
    joined = ok.merge(labels, on="databricks_request_id")
    by = sorted(((-len(x), e, float((x.pred == x.label).mean())) for e, x in joined.groupby("served_entity_id")))
    same(got, [[by[0][1], by[0][2], -by[0][0]]])


def test_c14_named_parameter_markers(w, warehouse_id, inference_table):
    entity_id = sorted(inference_table.served_entity_id.unique())[0]
    got = rows(w, warehouse_id, f"SELECT count(*) AS n FROM {PAYLOAD} WHERE status_code = :code AND "
                                "served_entity_id = :entity",
               parameters=[StatementParameterListItem(name="code", value="200", type="INT"),
                           StatementParameterListItem(name="entity", value=entity_id)])
    t = inference_table
    same(got, [[int(((t.status_code == 200) & (t.served_entity_id == entity_id)).sum())]])


def test_seed_legacy_auto_capture_table(mlemu, w, warehouse_id, fraud_model, X):
    """The seed's ``auto_capture_config`` table (``request_metadata`` MAP, ``timestamp_ms``) is
    queryable, empty (just enabled) and after traffic."""
    import requests
    from databricks.sdk.service.serving import AutoCaptureConfigInput

    from tests.server.services.sql.conftest import config, entity

    mlemu.unity_catalog.ensure_schema("catalog.ml_inference")
    w.serving_endpoints.create_and_wait("fraud-detection-endpoint",
                                        config=config("fraud-detection-endpoint", entity("3")))
    w.serving_endpoints.update_config_and_wait(
        name="fraud-detection-endpoint", served_entities=[entity("3")],
        auto_capture_config=AutoCaptureConfigInput(catalog_name="catalog", schema_name="ml_inference",
                                                   table_name_prefix="fraud_model"))
    query = ("SELECT request_metadata['model_version'] AS version, count(*) AS n, "
             "count_if(status_code = 200) AS ok FROM catalog.ml_inference.fraud_model_payload GROUP BY 1")
    assert rows(w, warehouse_id, query) == []
    for payload in ({"dataframe_records": X.head(2).to_dict("records")}, {"bad": 1}, {"inputs": X.head(1).values.tolist()}):
        requests.post(f"{mlemu.host}/serving-endpoints/fraud-detection-endpoint/invocations", json=payload,
                      headers={"Authorization": f"Bearer {mlemu.token}"}, timeout=30)
    table = mlemu.unity_catalog.read_table("catalog.ml_inference.fraud_model_payload")
    same(rows(w, warehouse_id, query), [["3", len(table), int((table.status_code == 200).sum())]])
    r = run(w, warehouse_id, "SELECT request_metadata FROM catalog.ml_inference.fraud_model_payload LIMIT 1")
    assert r.manifest.schema.columns[0].type_text == "MAP<STRING, STRING>"
    assert json.loads(r.result.data_array[0][0]) == table.request_metadata[0]
    same(rows(w, warehouse_id, "SELECT min(date), max(timestamp_ms) FROM catalog.ml_inference.fraud_model_payload"),
         [[min(table.date).isoformat(), int(table.timestamp_ms.max())]])
