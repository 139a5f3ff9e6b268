"""``w.data_quality`` (the newer API, table ids and ``*_column`` fields) on the same monitors."""
from __future__ import annotations

import pytest
from databricks.sdk.errors import InvalidParameterValue, NotFound
from databricks.sdk.service.dataquality import (AggregationGranularity, DataProfilingConfig,
                                                DataProfilingStatus, InferenceLogConfig, InferenceProblemType,
                                                Monitor, Refresh, RefreshState, TimeSeriesConfig)

from tests.server.services.monitors.conftest import OUTPUT, TABLE

pd = pytest.importorskip("pandas")


def _ids(w):
    return w.tables.get(TABLE).table_id, w.schemas.get(OUTPUT).schema_id


def _inference_config(schema_id):
    return DataProfilingConfig(
        output_schema_id=schema_id, assets_dir="/Workspace/Users/me/monitoring",
        inference_log=InferenceLogConfig(problem_type=InferenceProblemType.INFERENCE_PROBLEM_TYPE_CLASSIFICATION,
                                         timestamp_column="ts",
                                         granularities=[AggregationGranularity.AGGREGATION_GRANULARITY_1_DAY],
                                         prediction_column="prediction", model_id_column="model_version",
                                         label_column="label"))


def test_create_get_list_refresh_delete(w, mlemu, log_table):
    table_id, schema_id = _ids(w)
    created = w.data_quality.create_monitor(Monitor(object_type="table", object_id=table_id,
                                                    data_profiling_config=_inference_config(schema_id)))
    cfg = created.data_profiling_config
    assert (created.object_type, created.object_id) == ("table", table_id)
    assert cfg.status == DataProfilingStatus.DATA_PROFILING_STATUS_ACTIVE
    assert cfg.inference_log.granularities == [AggregationGranularity.AGGREGATION_GRANULARITY_1_DAY]
    assert cfg.inference_log.timestamp_column == "ts" and cfg.output_schema_id == schema_id
    assert cfg.profile_metrics_table_name == f"{OUTPUT}.fraud_predictions_profile_metrics"
    # The same monitor through the older API.
    assert w.quality_monitors.get(TABLE).inference_log.granularities == ["1 day"]

    assert [m.object_id for m in w.data_quality.list_monitor()] == [table_id]
    refresh = w.data_quality.create_refresh("table", table_id, Refresh(object_type="table", object_id=table_id))
    assert refresh.state == RefreshState.MONITOR_REFRESH_STATE_PENDING
    got = w.data_quality.get_refresh("table", table_id, refresh.refresh_id)
    assert got.state == RefreshState.MONITOR_REFRESH_STATE_SUCCESS
    assert [r.refresh_id for r in w.data_quality.list_refresh("table", table_id)] == [2, 1]
    drift = mlemu.unity_catalog.read_table(f"{OUTPUT}.fraud_predictions_drift_metrics")
    assert set(drift.drift_type) == {"CONSECUTIVE"}

    w.data_quality.delete_monitor("table", table_id)
    with pytest.raises(NotFound):
        w.data_quality.get_monitor("table", table_id)


def test_update_monitor_with_mask(w, mlemu, log_table):
    table_id, schema_id = _ids(w)
    w.data_quality.create_monitor(Monitor(object_type="table", object_id=table_id,
                                          data_profiling_config=_inference_config(schema_id)))
    change = DataProfilingConfig(output_schema_id=schema_id, slicing_exprs=["country"],
                                 assets_dir="/ignored/because/not/in/mask")
    updated = w.data_quality.update_monitor("table", table_id, Monitor(object_type="table", object_id=table_id,
                                                                       data_profiling_config=change),
                                            update_mask="data_profiling_config.slicing_exprs")
    cfg = updated.data_profiling_config
    assert cfg.slicing_exprs == ["country"] and cfg.monitor_version == 1
    assert cfg.assets_dir == "/Workspace/Users/me/monitoring"


def test_time_series_config_and_errors(w, mlemu, log_table):
    table_id, schema_id = _ids(w)
    ts = TimeSeriesConfig(timestamp_column="ts", granularities=[AggregationGranularity.AGGREGATION_GRANULARITY_1_HOUR])
    created = w.data_quality.create_monitor(Monitor(object_type="table", object_id=table_id,
                                                    data_profiling_config=DataProfilingConfig(
                                                        output_schema_id=schema_id, time_series=ts)))
    assert created.data_profiling_config.time_series.granularities == [
        AggregationGranularity.AGGREGATION_GRANULARITY_1_HOUR]
    prof = mlemu.unity_catalog.read_table(f"{OUTPUT}.fraud_predictions_profile_metrics")
    assert set(prof.granularity) == {"1 hour"}
    with pytest.raises(NotFound):
        w.data_quality.get_monitor("table", "00000000-0000-0000-0000-000000000000")
    with pytest.raises(InvalidParameterValue):
        w.data_quality.get_monitor("schema", schema_id)


def test_delete_refresh(w, mlemu, log_table):
    table_id, schema_id = _ids(w)
    w.data_quality.create_monitor(Monitor(object_type="table", object_id=table_id,
                                          data_profiling_config=_inference_config(schema_id)))
    w.data_quality.delete_refresh("table", table_id, 1)
    assert list(w.data_quality.list_refresh("table", table_id)) == []
    again = w.data_quality.create_refresh("table", table_id, Refresh(object_type="table", object_id=table_id))
    assert again.refresh_id == 2
    with pytest.raises(NotFound):
        w.data_quality.get_refresh("table", table_id, 1)
