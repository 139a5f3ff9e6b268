"""Fault injection, exercised through the real clients' own retry logic: mlflow's urllib3
``Retry`` (429/5xx, ``Retry-After``, backoff) and databricks-sdk's ``retried`` loop."""
from __future__ import annotations

import pytest


@pytest.fixture
def fast_mlflow_retries(monkeypatch):
    """mlflow's backoff (2 s, 4 s, ...) made zero; a few retries."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")


def test_429_on_log_batch_is_retried_by_mlflow_and_every_metric_lands(mlemu, fast_mlflow_retries):
    import mlflow

    fault = mlemu.inject_fault("tracking.runs.log-batch", status=429, retry_after=0, times=2)
    mlflow.set_experiment("/Shared/faults")
    with mlflow.start_run() as run:
        mlflow.log_metrics({f"m{i}": float(i) for i in range(20)})
    assert fault.hits == 2
    statuses = [c.status for c in mlemu.calls.filter(operation="tracking.runs.log-batch")]
    assert statuses == [429, 429, 200]
    assert mlemu.calls.filter(operation="tracking.runs.log-batch")[0].error_code == "REQUEST_LIMIT_EXCEEDED"
    metrics = mlflow.get_run(run.info.run_id).data.metrics
    assert metrics == {f"m{i}": float(i) for i in range(20)}


def test_retry_after_is_honoured_with_virtual_time(mlemu, fast_mlflow_retries):
    import mlflow
    from mlemu.toolkit.virtual_clock import virtual_time

    mlemu.inject_fault("tracking.runs.log-batch", status=429, retry_after=30, times=1)
    mlflow.set_experiment("/Shared/faults")
    with virtual_time(mlemu):
        before = mlemu.clock.now_ms()
        with mlflow.start_run() as run:
            mlflow.log_metrics({"a": 1.0})
        assert mlemu.clock.now_ms() - before >= 30_000  # urllib3 slept Retry-After, virtually
    assert mlflow.get_run(run.info.run_id).data.metrics == {"a": 1.0}


def test_500_storm_ends_in_mlflows_own_error(mlemu, fast_mlflow_retries):
    import mlflow
    from mlflow.exceptions import MlflowException

    mlflow.set_experiment("/Shared/faults")
    run = mlflow.start_run()
    mlemu.inject_fault("tracking.runs.log-batch", status=500)
    with pytest.raises(MlflowException, match="(?i)INTERNAL_ERROR|max retries"):
        mlflow.log_metrics({"a": 1.0})
    # mlflow 3 retries 5xx with urllib3 (1 + 3 retries); mlflow 2.22 sends Databricks requests
    # through the SDK's client, which retries 429/503 but raises a 500 at once
    expected = 4 if mlflow.__version__.startswith("3.") else 1
    assert len(mlemu.calls.filter(operation="tracking.runs.log-batch")) == expected
    mlemu.faults.clear()
    mlflow.end_run()
    assert mlflow.get_run(run.info.run_id).data.metrics == {}


@pytest.mark.mlemu(virtual_time=True)
def test_503_on_unity_catalog_is_retried_by_the_sdk(mlemu):
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    fault = mlemu.inject_fault("unity_catalog.catalogs.create", status=503, retry_after=1, times=2)
    catalog = w.catalogs.create(name="retried")
    assert catalog.name == "retried" and fault.hits == 2
    assert [c.status for c in mlemu.calls.filter(operation="unity_catalog.catalogs.create")] == [503, 503, 200]
    assert [c.name for c in w.catalogs.list()].count("retried") == 1


@pytest.mark.mlemu(virtual_time=True)
def test_503_on_serving_is_retried_by_the_sdk(mlemu):
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    mlemu.inject_fault("serving.endpoints.list", status=503, times=3)
    assert list(w.serving_endpoints.list()) == []
    assert [c.status for c in mlemu.calls.filter(operation="serving.endpoints.list")] == [503] * 3 + [200]


def test_500_storm_on_the_sdk_is_not_retried(mlemu):
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors import InternalError

    w = WorkspaceClient()
    mlemu.inject_fault("unity_catalog.catalogs.*", status=500, message="backend exploded")
    with pytest.raises(InternalError, match="backend exploded"):
        w.catalogs.get("main")
    mlemu.calls.assert_called("unity_catalog.catalogs.get", times=1)


@pytest.mark.mlemu(virtual_time=True)
def test_dropped_connection_is_retried_by_the_sdk(mlemu):
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    mlemu.inject_fault("unity_catalog.catalogs.list", drop=True, times=1)
    assert [c.name for c in w.catalogs.list()] == [c.name for c in w.catalogs.list()]
    assert [c.status for c in mlemu.calls.filter(operation="unity_catalog.catalogs.list")][:2] == [0, 200]


def test_dropped_connection_reaches_a_plain_requests_caller(mlemu):
    import requests

    mlemu.inject_fault(path="/api/2.0/unity-catalog/catalogs", drop=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{mlemu.host}/api/2.0/unity-catalog/catalogs",
                     headers={"Authorization": f"Bearer {mlemu.token}"})


def test_delay_sleeps_then_answers(mlemu):
    from databricks.sdk import WorkspaceClient
    from mlemu.toolkit.virtual_clock import virtual_time

    w = WorkspaceClient()
    mlemu.inject_fault("unity_catalog.catalogs.list", delay=5)
    with virtual_time(mlemu):
        before = mlemu.clock.now_ms()
        list(w.catalogs.list())
        assert mlemu.clock.now_ms() - before >= 5000


def test_fraction_is_seeded_and_counts(mlemu):
    import requests

    def statuses():
        ws = type(mlemu)(seed=3, workspace_id="42")
        ws.inject_fault("unity_catalog.catalogs.list", status=503, fraction=0.5)
        return [ws.handle("GET", "/api/2.1/unity-catalog/catalogs",
                          headers={"Authorization": f"Bearer {ws.token}"})[0] for _ in range(40)]

    first, second = statuses(), statuses()
    assert first == second
    assert 5 < first.count(503) < 35 and set(first) == {200, 503}
    del requests


def test_fault_matching_and_validation(mlemu):
    with pytest.raises(ValueError, match="did you mean 'tracking.runs.log-batch'"):
        mlemu.inject_fault("tracking.runs.log_batch", status=429)
    with pytest.raises(ValueError, match="status"):
        mlemu.inject_fault("tracking.runs.create", status=200)
    with pytest.raises(ValueError):
        mlemu.inject_fault("tracking.runs.create")  # does nothing
    fault = mlemu.inject_fault("tracking.runs.*", method="POST", error_code="PERMISSION_DENIED")
    assert fault.status == 403
    fault.remove()
    assert len(mlemu.faults) == 0


@pytest.mark.mlemu(faults=[{"operation": "unity_catalog.catalogs.get", "status": 404, "times": 1}])
def test_marker_form(mlemu):
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors import NotFound

    w = WorkspaceClient()
    w.catalogs.create(name="main2")
    with pytest.raises(NotFound):
        w.catalogs.get("main2")
    assert w.catalogs.get("main2").name == "main2"


@pytest.mark.mlemu(virtual_time=True)
def test_delay_over_the_loopback_server_is_virtual_too(mlemu_server):
    """The server answers in its own thread; a fault's delay is the workspace's sleep, so it
    follows the workspace's virtual time whichever thread runs it."""
    import requests

    server, ws = mlemu_server, mlemu_server.workspace
    ws.clock.freeze(1_700_000_000_000)
    ws.inject_fault("unity_catalog.catalogs.list", delay=7200, times=1)
    r = requests.get(f"{server.url}/api/2.1/unity-catalog/catalogs",
                     headers={"Authorization": f"Bearer {ws.token}"}, timeout=60)
    assert r.status_code == 200
    assert ws.clock.now_ms() == 1_700_000_000_000 + 7_200_000
