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


@pytest.mark.parametrize("value", [41, 4.5, True, {"a": 1}, ["x"]])
@pytest.mark.parametrize("path,extra", [("/api/2.0/mlflow/runs/set-tag", {}),
                                        ("/api/2.0/mlflow/runs/log-parameter", {}),
                                        ("/api/2.0/mlflow/experiments/set-experiment-tag", {"exp": 1})])
def test_string_fields_refuse_other_json_types(api, mlemu, run_id, path, extra, value):
    """proto3 JSON: a string field takes only a JSON string (issue 20, item 1); nothing is stored."""
    target = ({"experiment_id": mlemu.tracking.get_run(run_id).info.experiment_id} if extra
              else {"run_id": run_id})
    msg = _refused(api, path, {**target, "key": "k", "value": value})
    import json
    assert f"Invalid value {json.dumps(value, separators=(',', ':'))} for parameter 'value' supplied" in msg
    assert f"Value was of type '{type(value).__name__}'" in msg
    run = mlemu.tracking.get_run(run_id)
    assert "k" not in run.data.tags and "k" not in run.data.params
    assert "k" not in mlemu.tracking.get_experiment(run.info.experiment_id).tags


@pytest.mark.parametrize("body,field", [
    ({"experiment_id": 5}, "experiment_id"),
    ({"tags": [{"key": "k", "value": 7}]}, "tags[0].value"),
    ({"run_name": ["a"]}, "run_name"),
])
def test_nested_and_id_string_fields_refuse_numbers(api, mlemu, body, field):
    exp = api.do("POST", "/api/2.0/mlflow/experiments/create", body={"name": "/Shared/strict-ids"})
    msg = _refused(api, "/api/2.0/mlflow/runs/create", {"experiment_id": exp["experiment_id"], **body})
    assert f"for parameter '{field}' supplied" in msg
    assert mlemu.tracking.search_runs([exp["experiment_id"]], None, "ALL", 10, [], None)[0] == []


def test_bool_and_number_fields_take_only_their_json_types(api, mlemu, run_id):
    from databricks.sdk.errors import InvalidParameterValue

    exp_id = mlemu.tracking.get_run(run_id).info.experiment_id
    msg = _refused(api, "/api/2.0/mlflow/runs/search", {"experiment_ids": [exp_id], "max_results": True})
    assert "parameter 'max_results'" in msg
    with pytest.raises(InvalidParameterValue, match="parameter 'run_view_type'"):
        api.do("POST", "/api/2.0/mlflow/runs/search", body={"experiment_ids": [exp_id], "run_view_type": False})
    # A decimal string is a valid proto int64 and an enum may be its number.
    found = api.do("POST", "/api/2.0/mlflow/runs/search",
                   body={"experiment_ids": [exp_id], "max_results": "5", "run_view_type": 3})
    assert [r["info"]["run_id"] for r in found["runs"]] == [run_id]
