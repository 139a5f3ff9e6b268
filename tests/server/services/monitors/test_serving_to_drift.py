"""Offline, end to end: a serving endpoint answers invocations, its inference table logs them,
the payloads are unpacked into a monitored table, a monitor refresh writes drift rows, and
the seed's drift query (its shape, over the documented metric tables, in pandas) returns the
feature that drifted."""
from __future__ import annotations

import json

import pytest
import requests
from databricks.sdk.service.catalog import MonitorInferenceLog, MonitorInferenceLogProblemType
from databricks.sdk.service.serving import AutoCaptureConfigInput

from tests.server.services.serving.conftest import X, champion, config, entity, fraud_model, saved_models  # noqa: F401

pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")
pytest.importorskip("scipy")

DAY_MS = 86_400_000
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
SCHEMA = "catalog.ml_inference"
FEATURES = ["feature1", "feature2", "feature3"]


def _unpack(payload: "pd.DataFrame") -> "pd.DataFrame":
    """The usual processing step: one row per scored record, features and prediction as columns."""
    rows = []
    for _, r in payload[payload.status_code == 200].iterrows():
        records = json.loads(r["request"])["dataframe_records"]
        predictions = json.loads(r["response"])["predictions"]
        for record, prediction in zip(records, predictions):
            rows.append({"timestamp": pd.Timestamp(r["timestamp_ms"], unit="ms"), **record,
                         "prediction": int(prediction), "model_version": r["request_metadata"]["model_version"]})
    return pd.DataFrame(rows)


def test_endpoint_invocations_to_monitor_drift(mlemu, w, fraud_model, X, champion):
    mlemu.unity_catalog.ensure_schema(SCHEMA)
    mlemu.clock.freeze(START_MS)
    w.serving_endpoints.create_and_wait("fraud-detection-endpoint", config=config(
        "fraud-detection-endpoint", entity("3"),
        auto_capture_config=AutoCaptureConfigInput(catalog_name="catalog", schema_name="ml_inference",
                                                   table_name_prefix="fraud_model")))
    url = f"{mlemu.host}/serving-endpoints/fraud-detection-endpoint/invocations"
    headers = {"Authorization": f"Bearer {mlemu.token}"}
    days = [X, X.assign(feature1=X.feature1 + 2.0)]          # day 2: feature1 drifts by +2
    for day, frame in enumerate(days):
        mlemu.clock.freeze(START_MS + day * DAY_MS + 3_600_000)
        for start in range(0, len(frame), 10):
            chunk = frame.iloc[start:start + 10]
            r = requests.post(url, json={"dataframe_records": chunk.to_dict("records")}, headers=headers)
            assert r.status_code == 200
            mlemu.clock.advance(60)

    payload = mlemu.unity_catalog.read_table(f"{SCHEMA}.fraud_model_payload")
    scored = _unpack(payload)
    assert len(scored) == 2 * len(X)
    assert list(scored.prediction[: len(X)]) == champion.predict(X).tolist()
    mlemu.unity_catalog.put_table(f"{SCHEMA}.fraud_model_scored", scored)
    baseline = X.assign(prediction=champion.predict(X), model_version="3")
    mlemu.unity_catalog.put_table(f"{SCHEMA}.fraud_model_baseline", baseline)

    w.quality_monitors.create(
        f"{SCHEMA}.fraud_model_scored", output_schema_name=SCHEMA, assets_dir="/Workspace/Shared/fraud",
        baseline_table_name=f"{SCHEMA}.fraud_model_baseline",
        inference_log=MonitorInferenceLog(
            problem_type=MonitorInferenceLogProblemType.PROBLEM_TYPE_CLASSIFICATION, timestamp_col="timestamp",
            granularities=["1 day"], prediction_col="prediction", model_id_col="model_version"))
    w.quality_monitors.run_refresh(f"{SCHEMA}.fraud_model_scored")
    assert w.quality_monitors.list_refreshes(f"{SCHEMA}.fraud_model_scored").refreshes[0].state.value == "SUCCESS"

    drift = mlemu.unity_catalog.read_table(f"{SCHEMA}.fraud_model_scored_drift_metrics")
    profile = mlemu.unity_catalog.read_table(f"{SCHEMA}.fraud_model_scored_profile_metrics")

    # Consecutive drift: day 2 against day 1, per feature; only feature1 moved.
    consecutive = drift[(drift.drift_type == "CONSECUTIVE") & drift.slice_key.isna()
                        & drift.column_name.isin(FEATURES)].set_index("column_name")
    assert consecutive.loc["feature1", "avg_delta"] == pytest.approx(2.0)
    assert consecutive.loc["feature1", "ks_test"]["pvalue"] < 0.001
    assert consecutive.loc["feature2", "ks_test"]["statistic"] == pytest.approx(0.0)

    # The seed's query, with its columns mapped onto the documented tables:
    #   SELECT feature_name, AVG(current_mean - baseline_mean) AS mean_drift,
    #          AVG(current_std - baseline_std) AS std_drift
    #   FROM <drift> WHERE window_end >= current_date() - INTERVAL 7 DAYS
    #   GROUP BY feature_name HAVING ABS(mean_drift) > 0.1
    current = profile[(profile.log_type == "INPUT") & profile.slice_key.isna()
                      & profile.column_name.isin(FEATURES)]
    base = profile[(profile.log_type == "BASELINE") & profile.slice_key.isna()
                   & profile.column_name.isin(FEATURES)][["column_name", "avg", "stddev"]]
    today = pd.Timestamp(mlemu.clock.now_ms(), unit="ms").normalize()
    joined = current.merge(base, on="column_name", suffixes=("", "_baseline"))
    joined = joined[joined.window.map(lambda w: w["end"]) >= today - pd.Timedelta(days=7)]
    result = (joined.assign(feature_name=joined.column_name,
                            mean_drift=joined["avg"] - joined["avg_baseline"],
                            std_drift=joined["stddev"] - joined["stddev_baseline"])
              .groupby("feature_name")[["mean_drift", "std_drift"]].mean())
    result = result[result.mean_drift.abs() > 0.1]
    assert list(result.index) == ["feature1"]
    assert result.loc["feature1", "mean_drift"] == pytest.approx(1.0)     # (0 + 2) / 2 days
    assert result.loc["feature1", "std_drift"] == pytest.approx(0.0, abs=1e-9)

    # The drift table's own BASELINE rows say the same.
    by_base = drift[(drift.drift_type == "BASELINE") & drift.slice_key.isna() & (drift.column_name == "feature1")]
    assert sorted(by_base.avg_delta.round(9)) == [pytest.approx(0.0), pytest.approx(2.0)]

    # And in Databricks SQL, through the SDK's statement execution (when mlemu[sql] is installed).
    pytest.importorskip("duckdb", reason="the SQL check needs mlemu[sql] (duckdb, sqlglot)")
    pytest.importorskip("sqlglot", reason="the SQL check needs mlemu[sql] (duckdb, sqlglot)")
    warehouse = next(iter(w.warehouses.list())).id
    answer = w.statement_execution.execute_statement(warehouse_id=warehouse, statement=f"""
        SELECT cur.column_name AS feature_name,
               AVG(cur.avg - base.avg)       AS mean_drift,
               AVG(cur.stddev - base.stddev) AS std_drift
        FROM {SCHEMA}.fraud_model_scored_profile_metrics cur
        JOIN {SCHEMA}.fraud_model_scored_profile_metrics base
          ON base.column_name = cur.column_name AND base.log_type = 'BASELINE' AND base.slice_key IS NULL
        WHERE cur.log_type = 'INPUT' AND cur.slice_key IS NULL
          AND cur.column_name IN ('feature1', 'feature2', 'feature3')
          AND cur.window.end >= current_date() - INTERVAL 7 DAYS
        GROUP BY cur.column_name
        HAVING ABS(mean_drift) > 0.1""")
    assert answer.status.state.value == "SUCCEEDED", answer.status.error
    rows = answer.result.data_array
    assert [r[0] for r in rows] == ["feature1"]
    assert float(rows[0][1]) == pytest.approx(1.0)
    assert float(rows[0][2]) == pytest.approx(0.0, abs=1e-9)
