"""Invocations with the real SDK, mlflow's deployments client and plain ``requests``: the
served version's own predictions for every input format, on both transports, and the model
server's refusals."""
from __future__ import annotations

import os

import pytest
import requests
from databricks.sdk.errors import BadRequest, InvalidParameterValue, InvalidState, ResourceDoesNotExist

from mlemu.toolkit.client_versions import requires
from tests.server.services.serving.conftest import config, entity


@pytest.fixture
def endpoint(w, fraud_model):
    w.serving_endpoints.create_and_wait("fraud-detection-endpoint",
                                        config=config("fraud-detection-endpoint", entity("3")))
    return "fraud-detection-endpoint"


def _post(host, token, path, payload):
    return requests.post(f"{host}{path}", json=payload,
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})


def test_sdk_query_returns_the_models_own_predictions(w, endpoint, X, champion):
    rows = X.head(5)
    answer = w.serving_endpoints.query(endpoint, dataframe_records=rows.to_dict("records"))
    assert answer.predictions == champion.predict(rows).tolist()
    assert answer.served_model_name == "fraud_model-3"


@pytest.mark.parametrize("fmt", ["dataframe_records", "dataframe_split", "instances", pytest.param(
    "inputs", marks=requires("mlflow>=2.11", "mlflow 2.9's model server reads 'inputs' only in TF "
                             "serving's columnar form, not as a list of records"))])
def test_requests_post_every_input_format(mlemu, endpoint, X, champion, fmt):
    rows = X.head(4)
    payload = {"dataframe_records": rows.to_dict("records"),
               "dataframe_split": rows.to_dict("split"),
               "instances": rows.to_dict("records"),
               "inputs": rows.to_dict("records")}[fmt]
    # the seed cheatsheet's raw call
    response = _post(mlemu.host, mlemu.token, f"/serving-endpoints/{endpoint}/invocations", {fmt: payload})
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": champion.predict(rows).tolist()}
    assert response.headers["served-model-name"] == "fraud_model-3"


def test_same_answers_over_the_loopback_server(mlemu, mlemu_server, endpoint, X, champion):
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    assert w.config.host == mlemu_server.url
    rows = X.head(3)
    assert w.serving_endpoints.query(endpoint, dataframe_split=None, dataframe_records=rows.to_dict("records")
                                     ).predictions == champion.predict(rows).tolist()
    raw = _post(mlemu_server.url, mlemu.token, f"/serving-endpoints/{endpoint}/invocations",
                {"dataframe_split": rows.to_dict("split")})
    assert raw.json()["predictions"] == champion.predict(rows).tolist()


def test_params_reach_a_model_that_takes_them(mlemu, w):
    import mlflow
    from mlflow.models import infer_signature

    class Scaled(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return [float(x) * (params or {}).get("factor", 1.0) for x in model_input["x"]]

    import pandas as pd
    example = pd.DataFrame({"x": [1.0, 2.0]})
    sig = infer_signature(example, pd.Series([1.0, 2.0]), params={"factor": 1.0})  # mlflow 2.9: no lists
    mlemu.registry.seed_model_version("main.default.scaled", Scaled(), signature=sig)
    mlemu.serving.seed_endpoint("scaled", "main.default.scaled")
    response = _post(mlemu.host, mlemu.token, "/serving-endpoints/scaled/invocations",
                     {"dataframe_records": [{"x": 1.0}, {"x": 3.0}], "params": {"factor": 10.0}})
    assert response.json() == {"predictions": [10.0, 30.0]}


def test_one_served_entity_addressed_directly(mlemu, w, fraud_model, X, champion, challenger):
    w.serving_endpoints.create_and_wait("ab", config=config("ab", entity("3"), entity("4"),
                                                              routes=[("fraud_model-3", 100), ("fraud_model-4", 0)]))
    rows = X.head(6)
    response = _post(mlemu.host, mlemu.token, "/serving-endpoints/ab/served-models/fraud_model-4/invocations",
                     {"dataframe_records": rows.to_dict("records")})
    assert response.json()["predictions"] == challenger.predict(rows).tolist()
    assert response.headers["served-model-name"] == "fraud_model-4"
    missing = _post(mlemu.host, mlemu.token, "/serving-endpoints/ab/served-models/nope/invocations",
                    {"dataframe_records": rows.to_dict("records")})
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_missing_column_is_the_model_servers_400(mlemu, w, endpoint):
    response = _post(mlemu.host, mlemu.token, f"/serving-endpoints/{endpoint}/invocations",
                     {"dataframe_records": [{"feature1": 1.0}]})
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "Model is missing inputs" in body["message"] and "feature2" in body["message"]
    with pytest.raises(InvalidParameterValue, match="missing inputs"):
        w.serving_endpoints.query(endpoint, dataframe_records=[{"feature1": 1.0}])


def test_wrong_type_and_unknown_format_are_400(mlemu, endpoint):
    wrong_type = _post(mlemu.host, mlemu.token, f"/serving-endpoints/{endpoint}/invocations",
                       {"dataframe_records": [{"feature1": "a", "feature2": 1.0, "feature3": 2.0}]})
    assert wrong_type.status_code == 400 and "feature1" in wrong_type.json()["message"]
    unknown = _post(mlemu.host, mlemu.token, f"/serving-endpoints/{endpoint}/invocations", {"rows": [[1, 2, 3]]})
    assert unknown.status_code == 400 and unknown.json()["error_code"]


def test_a_model_that_raises_answers_400_not_500(mlemu, w):
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature

    class Broken(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            raise ZeroDivisionError("division by zero in feature engineering")

    sig = infer_signature(pd.DataFrame({"x": [1.0]}), pd.Series([1.0]))  # mlflow 2.9 infers no list
    mlemu.registry.seed_model_version("main.default.broken", Broken(), signature=sig)
    mlemu.serving.seed_endpoint("broken", "main.default.broken")
    with pytest.raises(BadRequest, match="unexpected error while evaluating the model"):
        w.serving_endpoints.query("broken", dataframe_records=[{"x": 1.0}])
    assert not mlemu.internal_errors


def test_bad_token_and_no_token(mlemu, endpoint, X):
    payload = {"dataframe_records": X.head(1).to_dict("records")}
    assert _post(mlemu.host, "dapi-wrong", f"/serving-endpoints/{endpoint}/invocations", payload).status_code == 403
    anonymous = requests.post(f"{mlemu.host}/serving-endpoints/{endpoint}/invocations", json=payload)
    assert anonymous.status_code == 401 and anonymous.json()["error_code"] == "UNAUTHENTICATED"


def test_unknown_endpoint_and_not_ready_endpoint(mlemu, w, fraud_model, X):
    with pytest.raises(ResourceDoesNotExist, match="endpoint does not exist"):
        w.serving_endpoints.query("nope", dataframe_records=X.head(1).to_dict("records"))
    w.serving_endpoints.create("fresh", config=config("fresh", entity("1")))  # not waited for
    with pytest.raises(InvalidState, match="not ready"):
        w.serving_endpoints.query("fresh", dataframe_records=X.head(1).to_dict("records"))


def test_mlflow_deployments_client(mlemu, fraud_model, X, champion, challenger):
    from mlflow.deployments import get_deploy_client

    client = get_deploy_client("databricks")
    created = client.create_endpoint(name="chat-free", config={
        "served_entities": [{"entity_name": fraud_model, "entity_version": "3",
                             "workload_size": "Small", "scale_to_zero_enabled": True}]})
    assert created["name"] == "chat-free"
    assert client.get_endpoint("chat-free")["state"] == {"ready": "READY", "config_update": "NOT_UPDATING"}
    assert [e["name"] for e in client.list_endpoints()] == ["chat-free"]
    rows = X.head(3)
    assert client.predict(endpoint="chat-free", inputs={"dataframe_records": rows.to_dict("records")}) == {
        "predictions": champion.predict(rows).tolist()}
    client.update_endpoint(endpoint="chat-free", config={
        "served_entities": [{"entity_name": fraud_model, "entity_version": "4",
                             "workload_size": "Small", "scale_to_zero_enabled": True}]})
    client.get_endpoint("chat-free")  # settles the update
    assert client.predict(endpoint="chat-free", inputs={"dataframe_records": rows.to_dict("records")})[
        "predictions"] == challenger.predict(rows).tolist()
    client.delete_endpoint("chat-free")
    assert client.list_endpoints() == []


def test_a_served_model_leaves_no_temporary_directory_behind(mlemu, w, fraud_model, X):
    """The model server's copy of a version's files lives as long as the loaded model.
    (Only this model's directory is checked: other xdist workers serve models meanwhile.)"""
    import gc
    import weakref

    from mlemu.server.services.serving import predictor

    predictor._cache.clear()
    w.serving_endpoints.create_and_wait("tmp-check", config=config("tmp-check", entity("3")))
    w.serving_endpoints.query("tmp-check", dataframe_records=X.head(1).to_dict("records"))
    (model,) = predictor._cache.values()                  # the loaded model, with its files
    directory = model._mlemu_files.name
    assert os.path.isdir(directory) and os.listdir(directory)
    loaded = weakref.ref(model)
    del model
    predictor._cache.clear()                               # evicted, as the LRU does
    gc.collect()
    assert loaded() is None, f"still referenced by: {[type(o).__name__ for o in gc.get_referrers(loaded())]}"
    assert not os.path.exists(directory)