"""Inference tables: the seed's legacy ``auto_capture_config`` and AI Gateway tables get one
row per request (4xx included), with the documented schemas, visible through the UC tables
API and as a pandas frame."""
from __future__ import annotations

import json

import pytest
import requests
from databricks.sdk.service.serving import AiGatewayInferenceTableConfig, AutoCaptureConfigInput

from tests.server.services.serving.conftest import config, entity


@pytest.fixture
def served(mlemu, w, fraud_model):
    mlemu.unity_catalog.ensure_schema("catalog.ml_inference")
    w.serving_endpoints.create_and_wait("fraud-detection-endpoint",
                                        config=config("fraud-detection-endpoint", entity("3")))
    return "fraud-detection-endpoint"


def _query(mlemu, payload):
    return requests.post(f"{mlemu.host}/serving-endpoints/fraud-detection-endpoint/invocations", json=payload,
                         headers={"Authorization": f"Bearer {mlemu.token}"})


def test_seed_auto_capture_config_logs_every_request(mlemu, w, served, X, champion):
    # The seed's "Enable inference tables for drift monitoring" call, with sdk 0.162's signature.
    w.serving_endpoints.update_config_and_wait(
        name="fraud-detection-endpoint",
        served_entities=[entity("3")],
        auto_capture_config=AutoCaptureConfigInput(catalog_name="catalog", schema_name="ml_inference",
                                                   table_name_prefix="fraud_model"),
    )
    ok = _query(mlemu, {"dataframe_records": X.head(2).to_dict("records"), "client_request_id": "abc-1"})
    bad = _query(mlemu, {"dataframe_records": [{"feature1": 1.0}]})
    assert (ok.status_code, bad.status_code) == (200, 400)

    table = w.tables.get("catalog.ml_inference.fraud_model_payload")
    assert [(c.name, c.type_text) for c in table.columns] == [
        ("databricks_request_id", "string"), ("client_request_id", "string"), ("date", "date"),
        ("timestamp_ms", "bigint"), ("status_code", "int"), ("sampling_fraction", "double"),
        ("execution_time_ms", "bigint"), ("request", "string"), ("response", "string"),
        ("request_metadata", "map<string,string>")]
    ep = w.serving_endpoints.get("fraud-detection-endpoint")
    assert ep.config.auto_capture_config.state.payload_table.name == "fraud_model_payload"

    rows = mlemu.serving.inference_table("fraud-detection-endpoint")
    assert list(rows["status_code"]) == [200, 400]
    assert rows["client_request_id"][0] == "abc-1"
    assert json.loads(rows["response"][0]) == {"predictions": champion.predict(X.head(2)).tolist()}
    assert json.loads(rows["request"][1]) == {"dataframe_records": [{"feature1": 1.0}]}
    assert "error_code" in json.loads(rows["response"][1])
    assert rows["request_metadata"][0] == {"endpoint_name": "fraud-detection-endpoint",
                                           "model_name": "catalog.schema.fraud_model", "model_version": "3"}
    assert rows["databricks_request_id"].is_unique


def test_ai_gateway_inference_table(mlemu, w, served, X):
    w.serving_endpoints.put_ai_gateway("fraud-detection-endpoint",
                                       inference_table_config=AiGatewayInferenceTableConfig(
                                           catalog_name="catalog", schema_name="ml_inference", enabled=True))
    mlemu.clock.freeze(1_767_225_600_000)  # 2026-01-01T00:00:00Z
    for _ in range(3):
        _query(mlemu, {"dataframe_split": X.head(1).to_dict("split")})
    _query(mlemu, {"not_a_format": []})
    assert w.tables.exists("catalog.ml_inference.fraud-detection-endpoint_payload").table_exists
    rows = mlemu.serving.inference_table("fraud-detection-endpoint")
    assert list(rows.columns) == [
        "databricks_request_id", "request_date", "client_request_id", "request_time", "status_code",
        "sampling_fraction", "execution_duration_ms", "request", "response", "logging_error_codes",
        "served_entity_id", "requester"]
    assert list(rows["status_code"]) == [200, 200, 200, 400]
    assert str(rows["request_date"][0]) == "2026-01-01"
    assert rows["requester"][0] == mlemu.user.user_name


def test_missing_schema_for_the_table_is_refused(w, served):
    from databricks.sdk.errors import ResourceDoesNotExist

    with pytest.raises(ResourceDoesNotExist):
        w.serving_endpoints.update_config("fraud-detection-endpoint", served_entities=[entity("3")],
                                          auto_capture_config=AutoCaptureConfigInput(
                                              catalog_name="catalog", schema_name="nope"))
    assert w.serving_endpoints.get("fraud-detection-endpoint").state.config_update.value == "NOT_UPDATING"


def test_llm_stub_plugin_answers_foundation_model_endpoints(mlemu, w):
    import pathlib
    import sys

    from databricks.sdk.errors import NotImplemented as NotEmulated
    from databricks.sdk.service.serving import ChatMessage, ChatMessageRole, ServedEntityInput

    from mlemu.server import plugins as mlemu_plugins
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[4] / "plugins"))
    import mlemu_llm_stub

    w.serving_endpoints.create_and_wait("chat", config=config("chat", ServedEntityInput(
        entity_name="system.ai.llama_v3_2_1b_instruct", provisioned_model_units=0)))
    with pytest.raises(NotEmulated, match="mlemu_serving_invoke"):
        w.serving_endpoints.query("chat", messages=[ChatMessage(role=ChatMessageRole.USER, content="hi")])

    mlemu_plugins.register(mlemu_llm_stub, name="llm-stub")
    try:
        answer = w.serving_endpoints.query("chat", messages=[ChatMessage(role=ChatMessageRole.USER, content="hi")])
        assert answer.choices[0].message.content == "hi"
        mlemu_llm_stub.canned(mlemu, "chat", "Paris.")
        assert w.serving_endpoints.query("chat", prompt="capital?").choices[0].text == "Paris."
        emb = w.serving_endpoints.query("chat", input=["a", "b"])
        assert len(emb.data) == 2 and len(emb.data[0].embedding) == 8
    finally:
        mlemu_plugins.unregister(mlemu_llm_stub)
