"""Faults: the code under test survives throttling and outages."""
import mlflow
import pytest
from databricks.sdk import WorkspaceClient


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")


@pytest.mark.mlemu(virtual_time=True)
@pytest.mark.parametrize("status", [429, 503])
def test_metric_logging_survives(mlemu, fast_retries, status):
    mlemu.inject_fault("tracking.runs.log-*", status=status, retry_after=0, times=1)
    mlflow.set_experiment("/Shared/faults")
    with mlflow.start_run():
        mlflow.log_metric("m", 1.0)
    assert [f.hits for f in mlemu.faults] == [1]


@pytest.mark.mlemu(virtual_time=True)
def test_sdk_retries_a_throttled_call(mlemu):
    mlemu.inject_fault("iam.current-user.me", status=429, retry_after=1, times=2)
    assert WorkspaceClient().current_user.me().user_name == mlemu.user.user_name


def test_a_permanent_error_surfaces(mlemu):
    mlemu.inject_fault("tracking.experiments.get-by-name", status=403, error_code="PERMISSION_DENIED")
    with pytest.raises(Exception, match="PERMISSION_DENIED"):
        mlflow.set_experiment("/Shared/denied")
