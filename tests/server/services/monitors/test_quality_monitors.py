"""``w.quality_monitors`` against mlemu: create (inference log, time series, snapshot), refresh,
get, list/get refreshes, update, delete; the metric tables each refresh writes; the errors."""
from __future__ import annotations

import pytest
from databricks.sdk.errors import InvalidParameterValue, NotFound, ResourceAlreadyExists
from databricks.sdk.service.catalog import (MonitorInferenceLog, MonitorInferenceLogProblemType,
                                            MonitorInfoStatus, MonitorRefreshInfoState, MonitorSnapshot,
                                            MonitorTimeSeries)

from tests.server.services.monitors.conftest import OUTPUT, TABLE

pd = pytest.importorskip("pandas")

INFERENCE = MonitorInferenceLog(problem_type=MonitorInferenceLogProblemType.PROBLEM_TYPE_CLASSIFICATION,
                                timestamp_col="ts", granularities=["1 day"], prediction_col="prediction",
                                model_id_col="model_version", label_col="label")


def _create(w, **kw):
    kw.setdefault("inference_log", INFERENCE)
    return w.quality_monitors.create(TABLE, output_schema_name=OUTPUT,
                                     assets_dir="/Workspace/Users/me/monitoring", **kw)


def test_create_answers_monitor_info_and_runs_first_refresh(w, mlemu, log_table):
    info = _create(w)
    assert info.table_name == TABLE
    assert info.status == MonitorInfoStatus.MONITOR_STATUS_ACTIVE
    assert info.profile_metrics_table_name == f"{OUTPUT}.fraud_predictions_profile_metrics"
    assert info.drift_metrics_table_name == f"{OUTPUT}.fraud_predictions_drift_metrics"
    assert info.inference_log.granularities == ["1 day"] and info.dashboard_id
    assert w.quality_monitors.get(TABLE).inference_log.prediction_col == "prediction"

    refreshes = w.quality_monitors.list_refreshes(TABLE).refreshes
    assert [r.state for r in refreshes] == [MonitorRefreshInfoState.SUCCESS]
    assert w.tables.exists(info.profile_metrics_table_name).table_exists
    assert w.tables.exists(info.drift_metrics_table_name).table_exists


def test_run_refresh_queues_then_succeeds(w, mlemu, log_table):
    _create(w)
    queued = w.quality_monitors.run_refresh(TABLE)
    assert queued.state == MonitorRefreshInfoState.PENDING and queued.refresh_id == 2
    done = w.quality_monitors.get_refresh(TABLE, queued.refresh_id)
    assert done.state == MonitorRefreshInfoState.SUCCESS
    assert done.end_time_ms >= done.start_time_ms
    assert [r.refresh_id for r in w.quality_monitors.list_refreshes(TABLE).refreshes] == [2, 1]


def test_asynchronous_refresh_moves_through_states(w, mlemu, log_table):
    mlemu.monitors.synchronous = False
    _create(w)
    states = [w.quality_monitors.get_refresh(TABLE, 1).state for _ in range(3)]
    assert states == [MonitorRefreshInfoState.RUNNING, MonitorRefreshInfoState.SUCCESS,
                      MonitorRefreshInfoState.SUCCESS]


def test_profile_metrics_table(w, mlemu, log_table):
    _create(w)
    cols = [c.name for c in w.tables.get(f"{OUTPUT}.fraud_predictions_profile_metrics").columns]
    for name in ("window", "log_type", "logging_table_commit_version", "monitor_version", "granularity",
                 "model_version", "slice_key", "slice_value", "column_name", "data_type", "count",
                 "num_nulls", "avg", "min", "max", "stddev", "median", "quantiles", "num_zeros", "num_nan",
                 "distinct_count", "frequent_items", "percent_null", "percent_distinct", "accuracy_score",
                 "precision", "recall", "f1_score", "confusion_matrix"):
        assert name in cols
    prof = mlemu.unity_catalog.read_table(f"{OUTPUT}.fraud_predictions_profile_metrics")
    whole = prof[prof.slice_key.isna()]
    assert sorted({r["start"] for r in whole.window}) == list(pd.date_range("2024-03-01", periods=3))
    assert set(whole.granularity) == {"1 day"} and set(whole.log_type) == {"INPUT"}

    day1 = log_table[log_table.ts < "2024-03-02"]
    row = whole[(whole.column_name == "amount") & whole.window.map(lambda w: w["start"] == pd.Timestamp("2024-03-01"))]
    row = row.iloc[0]
    present = day1.amount.dropna()
    assert row["count"] == len(day1) and row["num_nulls"] == day1.amount.isna().sum()
    assert row["avg"] == pytest.approx(present.mean())
    assert row["stddev"] == pytest.approx(present.std())
    assert row["median"] == pytest.approx(present.median())
    assert row["quantiles"][50] == pytest.approx(present.quantile(0.5))
    assert row["data_type"] == "double" and row["window"]["end"] == pd.Timestamp("2024-03-02")

    country = whole[(whole.column_name == "country")].iloc[0]
    counts = day1.country.value_counts()
    assert country["frequent_items"][0] == {"item": counts.index[0], "count": counts.iloc[0]}
    assert country["distinct_count"] == 3

    table_row = whole[(whole.column_name == ":table")].iloc[0]
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score
    y, p = day1.label.astype(str), day1.prediction.astype(str)
    assert table_row["accuracy_score"] == pytest.approx(accuracy_score(y, p))
    assert table_row["precision"]["macro"] == pytest.approx(precision_score(y, p, average="macro"))
    assert table_row["recall"]["weighted"] == pytest.approx(recall_score(y, p, average="weighted"))
    assert table_row["f1_score"]["one_vs_all"]["1"] == pytest.approx(f1_score(y, p, pos_label="1"))
    assert sum(c["count"] for c in table_row["confusion_matrix"]) == len(day1)


def test_drift_statistics_match_scipy(w, mlemu, log_table):
    from scipy import stats
    from scipy.spatial import distance

    _create(w)
    drift = mlemu.unity_catalog.read_table(f"{OUTPUT}.fraud_predictions_drift_metrics")
    consecutive = drift[(drift.drift_type == "CONSECUTIVE") & drift.slice_key.isna()]
    assert sorted(r["start"] for r in consecutive[consecutive.column_name == "amount"].window) == \
        [pd.Timestamp("2024-03-02"), pd.Timestamp("2024-03-03")]
    row = consecutive[(consecutive.column_name == "amount")
                      & consecutive.window.map(lambda w: w["start"] == pd.Timestamp("2024-03-03"))].iloc[0]
    d2 = log_table[(log_table.ts >= "2024-03-02") & (log_table.ts < "2024-03-03")]
    d3 = log_table[log_table.ts >= "2024-03-03"]
    a, b = d3.amount.dropna().to_numpy(), d2.amount.dropna().to_numpy()
    ks = stats.ks_2samp(a, b)
    assert row["ks_test"]["statistic"] == pytest.approx(ks.statistic)
    assert row["ks_test"]["pvalue"] == pytest.approx(ks.pvalue)
    assert row["ks_test"]["pvalue"] < 0.01          # the shift is detected
    assert row["wasserstein_distance"] == pytest.approx(stats.wasserstein_distance(a, b))
    assert row["avg_delta"] == pytest.approx(a.mean() - b.mean())
    assert row["population_stability_index"] > 0.25
    assert row["window_cmp"] == {"start": pd.Timestamp("2024-03-02"), "end": pd.Timestamp("2024-03-03")}

    cat = consecutive[(consecutive.column_name == "country")
                      & consecutive.window.map(lambda w: w["start"] == pd.Timestamp("2024-03-03"))].iloc[0]
    keys = sorted(set(d2.country) | set(d3.country))
    ca = [int((d3.country == k).sum()) for k in keys]
    cb = [int((d2.country == k).sum()) for k in keys]
    chi = stats.chi2_contingency([ca, cb])
    assert cat["chi_squared_test"]["statistic"] == pytest.approx(chi.statistic)
    assert cat["chi_squared_test"]["pvalue"] == pytest.approx(chi.pvalue)
    p, q = [x / sum(ca) for x in ca], [x / sum(cb) for x in cb]
    assert cat["js_distance"] == pytest.approx(distance.jensenshannon(p, q, base=2))
    assert cat["tv_distance"] == pytest.approx(0.5 * sum(abs(x - y) for x, y in zip(p, q)))
    assert cat["l_infinity_distance"] == pytest.approx(max(abs(x - y) for x, y in zip(p, q)))


def test_baseline_drift_and_slices(w, mlemu, log_table):
    baseline = log_table[log_table.ts < "2024-03-02"].copy()
    mlemu.unity_catalog.put_table(f"{OUTPUT}.fraud_baseline", baseline)
    _create(w, baseline_table_name=f"{OUTPUT}.fraud_baseline", slicing_exprs=["country", "amount > 12"])
    drift = mlemu.unity_catalog.read_table(f"{OUTPUT}.fraud_predictions_drift_metrics")
    base = drift[(drift.drift_type == "BASELINE") & drift.slice_key.isna() & (drift.column_name == "amount")]
    assert len(base) == 3 and base.window_cmp.isna().all()
    assert base.iloc[0]["ks_test"]["statistic"] == pytest.approx(0.0)  # day 1 is the baseline
    prof = mlemu.unity_catalog.read_table(f"{OUTPUT}.fraud_predictions_profile_metrics")
    assert set(prof.log_type) == {"INPUT", "BASELINE"}
    assert {(k, v) for k, v in zip(prof.slice_key, prof.slice_value) if isinstance(k, str)} == {
        ("country", "DE"), ("country", "FR"), ("country", "US"), ("amount > 12", "true"), ("amount > 12", "false")}
    fr = prof[(prof.slice_key == "country") & (prof.slice_value == "FR") & (prof.column_name == ":table")
              & (prof.log_type == "INPUT")]
    assert sum(fr["count"]) == int((log_table.country == "FR").sum())


def test_time_series_and_snapshot_profiles(w, mlemu, log_table):
    mlemu.unity_catalog.put_table(f"{OUTPUT}.events", log_table[["ts", "amount", "country"]])
    info = w.quality_monitors.create(f"{OUTPUT}.events", output_schema_name=OUTPUT, assets_dir="/a",
                                     time_series=MonitorTimeSeries(timestamp_col="ts", granularities=["1 hour", "1 day"]))
    assert info.time_series.granularities == ["1 hour", "1 day"]
    prof = mlemu.unity_catalog.read_table(f"{OUTPUT}.events_profile_metrics")
    assert set(prof.granularity) == {"1 hour", "1 day"}
    assert "accuracy_score" not in prof.columns

    mlemu.unity_catalog.put_table(f"{OUTPUT}.snap", log_table[["amount", "country"]])
    info = w.quality_monitors.create(f"{OUTPUT}.snap", output_schema_name=OUTPUT, assets_dir="/a",
                                     snapshot=MonitorSnapshot())
    assert info.snapshot is not None
    prof = mlemu.unity_catalog.read_table(f"{OUTPUT}.snap_profile_metrics")
    assert len({(r["start"], r["end"]) for r in prof.window}) == 1
    amount = prof[prof.column_name == "amount"].iloc[0]
    assert amount["count"] == len(log_table)


def test_update_and_delete(w, mlemu, log_table):
    _create(w)
    updated = w.quality_monitors.update(TABLE, output_schema_name=OUTPUT, slicing_exprs=["country"])
    assert updated.slicing_exprs == ["country"] and updated.monitor_version == 1
    assert updated.inference_log.model_id_col == "model_version"
    w.quality_monitors.run_refresh(TABLE)
    prof = mlemu.unity_catalog.read_table(f"{OUTPUT}.fraud_predictions_profile_metrics")
    assert set(prof.monitor_version) == {1} and "country" in set(prof.slice_key.dropna())
    w.quality_monitors.delete(TABLE)
    with pytest.raises(NotFound):
        w.quality_monitors.get(TABLE)
    assert w.tables.exists(f"{OUTPUT}.fraud_predictions_profile_metrics").table_exists


def test_errors(w, mlemu, log_table):
    with pytest.raises(NotFound):
        w.quality_monitors.get(TABLE)
    with pytest.raises(NotFound):
        w.quality_monitors.create("ml.monitoring.nope", output_schema_name=OUTPUT, assets_dir="/a",
                                  snapshot=MonitorSnapshot())
    with pytest.raises(InvalidParameterValue, match="Exactly one of"):
        w.quality_monitors.create(TABLE, output_schema_name=OUTPUT, assets_dir="/a")
    with pytest.raises(InvalidParameterValue, match="granularity"):
        w.quality_monitors.create(TABLE, output_schema_name=OUTPUT, assets_dir="/a",
                                  time_series=MonitorTimeSeries(timestamp_col="ts", granularities=["2 days"]))
    with pytest.raises(InvalidParameterValue, match="does not exist in the monitored table"):
        w.quality_monitors.create(TABLE, output_schema_name=OUTPUT, assets_dir="/a",
                                  time_series=MonitorTimeSeries(timestamp_col="when", granularities=["1 day"]))
    _create(w)
    with pytest.raises(ResourceAlreadyExists):
        _create(w)
    with pytest.raises(NotFound):
        w.quality_monitors.get_refresh(TABLE, 99)


def test_failed_refresh_reports_message(w, mlemu, log_table):
    _create(w, slicing_exprs=["no_such_column > 1"])
    (r,) = w.quality_monitors.list_refreshes(TABLE).refreshes
    assert r.state == MonitorRefreshInfoState.FAILED and "no_such_column" in r.message
    assert w.quality_monitors.get(TABLE).status == MonitorInfoStatus.MONITOR_STATUS_ERROR


def test_render_report(w, mlemu, log_table, tmp_path):
    pytest.importorskip("matplotlib", reason="the report needs matplotlib (mlemu[monitors-report])")
    _create(w)
    paths = mlemu.monitors.render_report(TABLE, str(tmp_path))
    with open(paths["png"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    page = open(paths["html"], encoding="utf-8").read()
    assert "fraud_predictions_report.png" in page and "<td>amount</td>" in page


def test_over_the_loopback_server(mlemu_server, mlemu, log_table):
    """The same API over real HTTP (``mlemu serve``'s transport)."""
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    assert w.config.host == mlemu_server.url
    _create(w)
    refresh = w.quality_monitors.run_refresh(TABLE)
    assert w.quality_monitors.get_refresh(TABLE, refresh.refresh_id).state == MonitorRefreshInfoState.SUCCESS
    assert w.tables.get(f"{OUTPUT}.fraud_predictions_drift_metrics").columns[0].type_text == \
        "struct<start:timestamp,end:timestamp>"


def test_cancel_pending_refresh(w, mlemu, log_table):
    mlemu.monitors.synchronous = False
    _create(w)
    w.quality_monitors.cancel_refresh(TABLE, 1)
    (r,) = w.quality_monitors.list_refreshes(TABLE).refreshes
    assert r.state == MonitorRefreshInfoState.CANCELED
    assert not w.tables.exists(f"{OUTPUT}.fraud_predictions_profile_metrics").table_exists
    with pytest.raises(InvalidParameterValue, match="terminal state"):
        w.quality_monitors.cancel_refresh(TABLE, 1)
