"""Where Databricks refuses, mlemu refuses too (issue 8, defect 9): 64-bit overflow in steps and
timestamps, booleans as metric values, megabyte run names, artifact locations mlemu cannot
serve. Driven through databricks-sdk's ApiClient (mlflow's client validates some of these
itself) and mlflow's client where it sends the value unchanged."""
from __future__ import annotations

import pytest

BIG = 2**64


@pytest.fixture
def api(mlemu):
    from databricks.sdk import WorkspaceClient
    return WorkspaceClient().api_client


@pytest.fixture
def run_id(api):
    exp = api.do("POST", "/api/2.0/mlflow/experiments/create", body={"name": "/Shared/strict"})
    run = api.do("POST", "/api/2.0/mlflow/runs/create", body={"experiment_id": exp["experiment_id"]})
    return run["run"]["info"]["run_id"]


def _refused(api, path, body):
    from databricks.sdk.errors import InvalidParameterValue

    with pytest.raises(InvalidParameterValue) as e:
        api.do("POST", path, body=body)
    return str(e.value)


@pytest.mark.parametrize("field,value", [("step", BIG), ("timestamp", BIG), ("step", -(2**63) - 1),
                                         ("value", True), ("value", False), ("timestamp", True)])
def test_log_metric_refuses_out_of_range_and_boolean_numbers(api, mlemu, run_id, field, value):
    body = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": 0, field: value}
    _refused(api, "/api/2.0/mlflow/runs/log-metric", body)
    _refused(api, "/api/2.0/mlflow/runs/log-batch", {"run_id": run_id, "metrics": [
        {k: v for k, v in body.items() if k != "run_id"}]})
    assert mlemu.tracking.get_run(run_id).data.metrics == {}


def test_int64_extremes_and_proto_strings_are_accepted(api, mlemu, run_id):
    api.do("POST", "/api/2.0/mlflow/runs/log-metric",
           body={"run_id": run_id, "key": "m", "value": "NaN", "timestamp": 2**63 - 1, "step": "-5"})
    hist = api.do("GET", "/api/2.0/mlflow/metrics/get-history", query={"run_id": run_id, "metric_key": "m"})
    assert hist["metrics"][0]["timestamp"] == 2**63 - 1 and hist["metrics"][0]["step"] == -5


def test_megabyte_run_name_is_refused(api, mlemu):
    import mlflow
    from mlflow.exceptions import MlflowException

    exp = api.do("POST", "/api/2.0/mlflow/experiments/create", body={"name": "/Shared/names"})
    msg = _refused(api, "/api/2.0/mlflow/runs/create",
                   {"experiment_id": exp["experiment_id"], "run_name": "n" * 1_000_000})
    assert "exceeds the maximum size of 65536 bytes" in msg and len(msg) < 1000
    client = mlflow.tracking.MlflowClient()
    run = client.create_run(exp["experiment_id"], run_name="fine")
    with pytest.raises(MlflowException, match="exceeds the maximum size"):
        client.update_run(run.info.run_id, name="n" * 70_000)
    assert client.get_run(run.info.run_id).info.run_name == "fine"


@pytest.mark.parametrize("location", ["dbfs:/../../x", "dbfs:/a/../../x", "file:///tmp/x", "/tmp/x",
                                      "s3://bucket/x", "dbfs:relative"])
def test_unservable_artifact_locations_are_refused(mlemu, location):
    import mlflow
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException) as e:
        mlflow.create_experiment("/Shared/loc", artifact_location=location)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    found, _ = mlemu.tracking.search_experiments("ALL", None, None, 100, None)
    assert all(x.name != "/Shared/loc" for x in found)


def test_dbfs_artifact_location_still_works(mlemu):
    import mlflow

    exp_id = mlflow.create_experiment("/Shared/loc-ok", artifact_location="dbfs:/custom/place/")
    assert mlflow.get_experiment(exp_id).artifact_location == "dbfs:/custom/place"
