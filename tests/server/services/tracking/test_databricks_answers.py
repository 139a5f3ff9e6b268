"""Answers that must read like Databricks' own (issue 9 §3): validation wording and field paths,
required metric timestamps, optional param values, non-numeric experiment ids, token refusals,
duplicate credentials, malformed JSON, and the run and logged-model response shapes.

Each case is driven through the real clients where they can send the request, and raw HTTP
where they cannot (no client sends malformed JSON)."""
from __future__ import annotations

import http.client
import json
import os
from urllib.parse import urlsplit

import pytest
import requests

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import BadRequest, InvalidParameterValue, PermissionDenied
from databricks.sdk.service.ml import Metric as SdkMetric
from databricks.sdk.service.ml import Param as SdkParam


@pytest.fixture
def w(mlemu) -> WorkspaceClient:
    return WorkspaceClient()


@pytest.fixture
def run_id(w) -> str:
    exp = w.experiments.create_experiment(name="/Shared/answers").experiment_id
    return w.experiments.create_run(experiment_id=exp).run.info.run_id


def _post(mlemu, path: str, body, token: str | None = None) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(f"{mlemu.host}{path}", data=data,
                         headers={"Authorization": f"Bearer {token or mlemu.token}",
                                  "Content-Type": "application/json"})


# -- validation wording -------------------------------------------------------------------------
def test_missing_metric_key_names_the_request_field(mlemu, run_id):
    r = _post(mlemu, "/api/2.0/mlflow/runs/log-batch",
              {"run_id": run_id, "metrics": [{"value": 1, "timestamp": 1, "step": 0}]})
    assert r.status_code == 400
    assert r.json() == {"error_code": "INVALID_PARAMETER_VALUE",
                        "message": "Missing value for required parameter 'metrics[0].key'."}


@pytest.mark.parametrize("path, body, field, shown", [
    ("/api/2.0/mlflow/runs/log-batch", {"run_id": 5}, "run_id", "5"),
    ("/api/2.0/mlflow/experiments/create", {"name": ["x"]}, "name", '["x"]'),
    ("/api/2.0/mlflow/runs/log-batch", {"run_id": "r", "metrics": [{"key": "k", "value": "x", "timestamp": 1}]},
     "metrics[0].value", '"x"'),
    ("/api/2.0/mlflow/runs/log-batch", {"run_id": "r", "tags": "nope"}, "tags", '"nope"'),
])
def test_wrong_types_are_worded_like_the_server(mlemu, path, body, field, shown):
    r = _post(mlemu, path, body)
    assert r.status_code == 400
    err = r.json()
    assert err["error_code"] == "INVALID_PARAMETER_VALUE"
    assert err["message"].startswith(f"Invalid value {shown} for parameter '{field}' supplied: ")
    assert err["message"].endswith("See the API docs for more information about request parameters.")
    assert "Input should" not in err["message"]  # pydantic's wording never leaks


def test_sdk_surfaces_the_message(w, run_id):
    with pytest.raises(InvalidParameterValue, match=r"Missing value for required parameter 'metrics\[0\]\.timestamp'"):
        w.experiments.log_batch(run_id=run_id, metrics=[SdkMetric(key="loss", value=1.0, step=0)])


# -- log-batch: timestamps required, param values optional -----------------------------------------
def test_log_batch_refuses_a_metric_without_timestamp_and_writes_nothing(w, run_id):
    with pytest.raises(InvalidParameterValue):
        w.experiments.log_batch(run_id=run_id,
                                metrics=[SdkMetric(key="ok", value=1.0, timestamp=5, step=0),
                                         SdkMetric(key="loss", value=1.0, step=0)])
    assert not w.experiments.get_run(run_id).run.data.metrics  # nothing half-written


def test_log_metric_refuses_a_missing_timestamp_too(mlemu, run_id):
    r = _post(mlemu, "/api/2.0/mlflow/runs/log-metric", {"run_id": run_id, "key": "a", "value": 1.0})
    assert (r.status_code, r.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "'timestamp'" in r.json()["message"]


def test_log_batch_accepts_a_param_without_value_as_empty_string(w, run_id):
    w.experiments.log_batch(run_id=run_id, params=[SdkParam(key="note")])
    params = {p.key: p.value for p in w.experiments.get_run(run_id).run.data.params}
    assert params == {"note": ""}


# -- experiment ids ----------------------------------------------------------------------------
def test_non_numeric_experiment_id_is_a_bad_parameter_not_a_missing_experiment(mlemu):
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    mlflow.set_tracking_uri("databricks")
    with pytest.raises(MlflowException) as e:
        MlflowClient().get_experiment("abc")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Invalid value \"abc\" for parameter 'experiment_id' supplied" in e.value.message
    with pytest.raises(InvalidParameterValue):
        WorkspaceClient().experiments.get_experiment("abc")
    # A numeric id that does not exist is still RESOURCE_DOES_NOT_EXIST.
    with pytest.raises(MlflowException) as e:
        MlflowClient().get_experiment("123456")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


# -- tokens ------------------------------------------------------------------------------------
def test_wrong_token_is_403_with_the_numeric_error_code_and_reason_header(mlemu):
    r = requests.get(f"{mlemu.host}/api/2.0/mlflow/experiments/get", params={"experiment_id": "1"},
                     headers={"Authorization": "Bearer dapi-wrong"})
    assert r.status_code == 403
    assert r.json() == {"error_code": 403, "message": "Invalid access token."}
    assert r.headers["X-Databricks-Reason-Phrase"] == "Invalid access token."


def test_wrong_token_through_both_clients(mlemu, monkeypatch):
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import RestException

    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-wrong")
    with pytest.raises(PermissionDenied, match="Invalid access token"):
        WorkspaceClient().experiments.get_experiment("1")
    mlflow.set_tracking_uri("databricks")
    with pytest.raises(RestException) as e:
        MlflowClient().get_experiment("1")
    assert e.value.error_code == "PERMISSION_DENIED"
    # Refused once each: neither client retries a bad token.
    assert [c.status for c in mlemu.calls] == [403, 403]


def test_missing_token_is_401(mlemu):
    """The clients refuse to start without credentials, so only raw HTTP can send this."""
    r = requests.get(f"{mlemu.host}/api/2.0/mlflow/experiments/get", params={"experiment_id": "1"})
    assert r.status_code == 401
    assert r.json()["error_code"] == "UNAUTHENTICATED"


def test_duplicate_authorization_headers_are_refused(mlemu, mlemu_server):
    url = urlsplit(mlemu_server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.putrequest("GET", "/api/2.0/mlflow/experiments/search?max_results=1")
    conn.putheader("Authorization", "Bearer dapi-wrong")
    conn.putheader("Authorization", f"Bearer {mlemu.token}")  # a valid one last: never "take the last"
    conn.endheaders()
    resp = conn.getresponse()
    body = json.loads(resp.read())
    conn.close()
    assert resp.status == 400
    assert body["error_code"] == "BAD_REQUEST"
    assert "Authorization" in body["message"]


# -- malformed JSON ----------------------------------------------------------------------------
@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"3"])
def test_malformed_or_non_object_json_is_malformed_request(mlemu, body):
    r = _post(mlemu, "/api/2.0/mlflow/runs/create", body)
    assert r.status_code == 400
    assert r.json()["error_code"] == "MALFORMED_REQUEST"
    assert r.json()["message"].startswith("Invalid JSON given in the body of the request - ")


def test_malformed_request_is_not_retried_by_the_sdk(mlemu, w):
    with pytest.raises(BadRequest, match="Invalid JSON"):
        w.api_client.do("POST", "/api/2.0/mlflow/runs/create", data=b"{not json",
                        headers={"Content-Type": "application/json"})
    assert len(mlemu.calls.filter("tracking.runs.create")) == 1


# -- response shapes ---------------------------------------------------------------------------
def test_new_run_has_no_outputs_until_a_model_is_logged(mlemu):
    r = _post(mlemu, "/api/2.0/mlflow/experiments/create", {"name": "/Shared/shapes"})
    exp = r.json()["experiment_id"]
    run = _post(mlemu, "/api/2.0/mlflow/runs/create", {"experiment_id": exp}).json()["run"]
    assert set(run) == {"info", "data", "inputs"}


def test_logged_model_shape_and_set_tags_answer(mlemu):
    import mlflow
    from mlflow import MlflowClient

    if not hasattr(MlflowClient, "set_logged_model_tags"):
        pytest.skip("logged models are mlflow 3 only")
    mlflow.set_tracking_uri("databricks")
    exp = MlflowClient().create_experiment("/Shared/logged")
    model = mlflow.initialize_logged_model(name="m", experiment_id=exp, model_type="agent")
    raw = requests.get(f"{mlemu.host}/api/2.0/mlflow/logged-models/{model.model_id}",
                       headers={"Authorization": f"Bearer {mlemu.token}"}).json()["model"]["info"]
    assert raw["model_type"] == "agent"
    assert "creator_id" not in raw
    r = requests.patch(f"{mlemu.host}/api/2.0/mlflow/logged-models/{model.model_id}/tags",
                       json={"tags": [{"key": "team", "value": "ml"}]},
                       headers={"Authorization": f"Bearer {mlemu.token}"})
    assert (r.status_code, r.json()) == (200, {})
    MlflowClient().set_logged_model_tags(model.model_id, {"stage": "dev"})
    tags = mlflow.get_logged_model(model.model_id).tags
    assert (tags["team"], tags["stage"]) == ("ml", "dev")
