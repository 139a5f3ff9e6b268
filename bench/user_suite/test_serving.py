"""Serving: endpoints over registered versions, invocations, traffic."""
import pytest
from databricks.sdk import WorkspaceClient


@pytest.fixture
def endpoint(mlemu, model, data):
    X, _ = data
    mlemu.registry.seed_model_version("main.default.fraud", model, input_example=X.head(2))
    mlemu.serving.seed_endpoint("fraud", "main.default.fraud")
    return "fraud"


@pytest.mark.parametrize("rows", [1, 5, 20])
def test_query_endpoint(endpoint, data, model, rows):
    X, _ = data
    r = WorkspaceClient().serving_endpoints.query(endpoint, dataframe_records=X.head(rows).to_dict("records"))
    assert r.predictions == model.predict(X.head(rows)).tolist()


def test_endpoint_is_ready(endpoint):
    assert WorkspaceClient().serving_endpoints.get(endpoint).state.ready.value == "READY"


def test_make_serving_endpoint(mlemu, make_serving_endpoint):
    ep = make_serving_endpoint()
    assert WorkspaceClient().serving_endpoints.get(ep.name).state.ready.value == "READY"
