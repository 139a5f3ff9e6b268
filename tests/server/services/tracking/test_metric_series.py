"""Metric history is stored as columns (issue 8, "also": compact metric history); what the
clients read back is unchanged: values, timestamps, steps, links to models and datasets,
duplicates dropped, int64 extremes kept exactly."""
from __future__ import annotations

import math

import pytest

from mlemu.server.services.tracking.entities import Metric, MetricSeries


def test_series_round_trips_points_and_sparse_links():
    s = MetricSeries("loss")
    s.append(Metric("loss", 0.5, 10, 1))
    s.append(Metric("loss", float("nan"), 2**63 - 1, -(2**63), model_id="m-1", dataset_name="d", dataset_digest="x"))
    s.append(Metric("loss", 1e308, 0, 3))
    assert len(s) == 3
    a, b, c = list(s)
    assert (a.key, a.value, a.timestamp, a.step, a.model_id) == ("loss", 0.5, 10, 1, None)
    assert math.isnan(b.value) and (b.timestamp, b.step) == (2**63 - 1, -(2**63))
    assert (b.model_id, b.dataset_name, b.dataset_digest) == ("m-1", "d", "x")
    assert s[-1] == c and s[1].model_id == "m-1"
    assert s.has_point(0.5, 10, 1) and not s.has_point(0.5, 10, 2)


def test_clients_read_the_history_back_exactly(mlemu):
    import mlflow
    from mlflow.entities import Metric as MlflowMetric

    client = mlflow.tracking.MlflowClient()
    exp = client.create_experiment("/Shared/series")
    run_id = client.create_run(exp).info.run_id
    client.log_batch(run_id, metrics=[MlflowMetric("m", i / 3, 1_700_000_000_000 + i, i) for i in range(500)])
    client.log_metric(run_id, "m", 1 / 3, timestamp=1_700_000_000_001, step=1)  # a duplicate: dropped
    history = client.get_metric_history(run_id, "m")
    assert [(h.value, h.timestamp, h.step) for h in history] == [
        (i / 3, 1_700_000_000_000 + i, i) for i in range(500)]
    assert client.get_run(run_id).data.metrics["m"] == pytest.approx(499 / 3)


def test_model_metrics_keep_their_model_link(mlemu):
    import mlflow

    if not hasattr(mlflow, "initialize_logged_model"):
        pytest.skip("logged models arrived in mlflow 3")
    client = mlflow.tracking.MlflowClient()
    exp = client.create_experiment("/Shared/series-model")
    run_id = client.create_run(exp).info.run_id
    model = mlflow.initialize_logged_model(name="m", experiment_id=exp)
    client.log_metric(run_id, "acc", 0.9, step=1, model_id=model.model_id)
    client.log_metric(run_id, "acc", 0.8, step=2)
    points = mlemu.tracking.get_run(run_id).data.history["acc"]
    assert [(p.step, p.model_id) for p in points] == [(1, model.model_id), (2, None)]
    assert [m.key for m in client.get_logged_model(model.model_id).metrics] == ["acc"]
