"""Lakehouse monitors: a refresh writes profile and drift metric tables."""
import numpy as np
import pandas as pd
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.catalog import MonitorInferenceLog, MonitorInferenceLogProblemType, MonitorSnapshot

pytest.importorskip("scipy")


def _frame(shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"ts": pd.date_range("2025-01-01", periods=60, freq="h"),
                         "amount": rng.normal(shift, 1, 60), "prediction": rng.integers(0, 2, 60),
                         "label": rng.integers(0, 2, 60), "model_version": "1"})


@pytest.fixture
def tables(mlemu):
    mlemu.unity_catalog.ensure_schema("ml.monitoring")
    mlemu.unity_catalog.put_table("ml.monitoring.scored", _frame(2.0))
    mlemu.unity_catalog.put_table("ml.monitoring.baseline", _frame(0.0))
    return WorkspaceClient()


def _inference_monitor(w):
    w.quality_monitors.create(
        "ml.monitoring.scored", output_schema_name="ml.monitoring", assets_dir="/Workspace/Shared/m",
        baseline_table_name="ml.monitoring.baseline",
        inference_log=MonitorInferenceLog(problem_type=MonitorInferenceLogProblemType.PROBLEM_TYPE_CLASSIFICATION,
                                          timestamp_col="ts", granularities=["1 day"], prediction_col="prediction",
                                          model_id_col="model_version", label_col="label"))


def test_refresh_succeeds(tables):
    _inference_monitor(tables)
    refresh = tables.quality_monitors.run_refresh("ml.monitoring.scored")
    assert tables.quality_monitors.get_refresh("ml.monitoring.scored", refresh.refresh_id).state.value == "SUCCESS"


def test_drift_is_detected(mlemu, tables):
    _inference_monitor(tables)
    tables.quality_monitors.run_refresh("ml.monitoring.scored")
    drift = mlemu.unity_catalog.read_table("ml.monitoring.scored_drift_metrics")
    latest = drift[(drift.drift_type == "BASELINE") & drift.slice_key.isna() & (drift.column_name == "amount")]
    assert latest.iloc[0].ks_test["pvalue"] < 0.05


def test_profile_metrics_written(mlemu, tables):
    _inference_monitor(tables)
    tables.quality_monitors.run_refresh("ml.monitoring.scored")
    assert len(mlemu.unity_catalog.read_table("ml.monitoring.scored_profile_metrics")) > 0


def test_snapshot_monitor(tables):
    tables.quality_monitors.create("ml.monitoring.baseline", output_schema_name="ml.monitoring",
                                   assets_dir="/Workspace/Shared/s", snapshot=MonitorSnapshot())
    refresh = tables.quality_monitors.run_refresh("ml.monitoring.baseline")
    assert tables.quality_monitors.get_refresh("ml.monitoring.baseline", refresh.refresh_id).state.value == "SUCCESS"
